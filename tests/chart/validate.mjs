// Validates Kubernetes objects (multi-document YAML) against the official schemas.
//
//   node validate.mjs FILE...            every object in FILE (or "-" for stdin)
//   node validate.mjs --crd-examples     the MemoryScaler CRD and its example objects
//   node validate.mjs --readme           every object in the chart README's YAML blocks (the
//                                        MemoryScaler ones only when the CRD exists)
//
// Each object is checked with the model class of its apiVersion/kind from the npm packages
// kubernetes-models (core API), @kubernetes-models/prometheus-operator (ServiceMonitor,
// PrometheusRule), @kubernetes-models/cert-manager (Certificate, Issuer) and
// @kubernetes-models/keda (ScaledObject, TriggerAuthentication). An apiVersion/kind
// that none of them defines fails, unless a CustomResourceDefinition for it is among the inputs
// or in charts/oomcast/files/crds/: such objects are checked against the CRD's own openAPIV3Schema with
// ajv.
//
// The models' validators ignore fields they do not know, which would let a misspelt field
// (readinesProbe) through. So the data is wrapped in proxies that record which properties the
// validator reads: a validator reads every property its schema declares, so a property of a
// typed object that it never read is unknown to the schema, and is reported as an error (as
// `kubectl apply --validate=strict` would). Objects whose schema declares no properties (free-form
// maps, preserved unknown fields) are read key by key or not at all, and are not judged.
//
// Exit status: 0 all valid, 1 invalid or unknown objects, 2 usage or I/O errors, 77 skipped
// (--crd-examples without the CRD file).
import { readFileSync, existsSync, readdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import YAML from "yaml";
import Ajv from "ajv";
import addFormats from "ajv-formats";

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(process.env.OOMCAST_SOURCE_DIR || join(here, "..", ".."));
const crdDir = join(root, "charts", "oomcast", "files", "crds");
const memoryScalerCrdFile = join(crdDir, "memoryscaler.yaml");

function parseDocs(text, source) {
  const docs = [];
  for (const doc of YAML.parseAllDocuments(text)) {
    if (doc.errors.length > 0) {
      throw new Error(`${source}: YAML error: ${doc.errors[0].message}`);
    }
    const value = doc.toJS();
    if (value === null || value === undefined) continue;
    docs.push({ value, source });
  }
  return docs;
}

function readDocs(file) {
  const text = file === "-" ? readFileSync(0, "utf8") : readFileSync(file, "utf8");
  return parseDocs(text, file === "-" ? "<stdin>" : file);
}

function describe(obj) {
  const ns = obj?.metadata?.namespace ? `${obj.metadata.namespace}/` : "";
  return `${obj?.apiVersion}/${obj?.kind} ${ns}${obj?.metadata?.name ?? "<no name>"}`;
}

// --- model classes -------------------------------------------------------------------------

function modulePathFor(apiVersion) {
  const group = apiVersion.includes("/") ? apiVersion.split("/")[0] : "";
  if (group === "monitoring.coreos.com") return `@kubernetes-models/prometheus-operator/${apiVersion}`;
  if (group === "cert-manager.io" || group.endsWith(".cert-manager.io")) {
    return `@kubernetes-models/cert-manager/${apiVersion}`;
  }
  if (group === "keda.sh" || group === "eventing.keda.sh") return `@kubernetes-models/keda/${apiVersion}`;
  if (group.includes(".") && !group.endsWith(".k8s.io")) return null;
  return `kubernetes-models/${apiVersion}`;
}

const moduleCache = new Map();
async function modelClassFor(apiVersion, kind) {
  const path = modulePathFor(apiVersion);
  if (!path) return null;
  if (!moduleCache.has(path)) {
    moduleCache.set(path, await import(path).catch(() => null));
  }
  const mod = moduleCache.get(path);
  const cls = mod?.[kind];
  return cls && cls.kind === kind && cls.apiVersion === apiVersion ? cls : null;
}

// Wraps value so that every property read is recorded; returns the wrapped value.
function track(value, path, registry) {
  if (Array.isArray(value)) return value.map((v, i) => track(v, `${path}[${i}]`, registry));
  if (value === null || typeof value !== "object") return value;
  const wrapped = {};
  for (const [k, v] of Object.entries(value)) wrapped[k] = track(v, `${path}.${k}`, registry);
  const entry = { path, keys: Object.keys(value), read: new Set(), value };
  registry.push(entry);
  return new Proxy(wrapped, {
    get(t, p, r) {
      if (typeof p === "string") entry.read.add(p);
      return Reflect.get(t, p, r);
    },
    has(t, p) {
      if (typeof p === "string") entry.read.add(p);
      return Reflect.has(t, p);
    },
    getOwnPropertyDescriptor(t, p) {
      if (typeof p === "string") entry.read.add(p);
      return Reflect.getOwnPropertyDescriptor(t, p);
    },
  });
}

function validateWithModel(cls, obj) {
  const errors = [];
  const registry = [];
  const data = track(obj, "", registry);
  try {
    cls.prototype.validate.call(data);
  } catch (e) {
    errors.push(e.message);
  }
  for (const entry of registry) {
    if (entry.read.size === 0) continue; // free-form: no declared properties were looked up
    for (const key of entry.keys) {
      if (entry.read.has(key)) continue;
      const field = `${entry.path.slice(1) ? entry.path.slice(1) + "." : ""}${key}`;
      // kubernetes-models strips every "description" from its schemas, also the fields of that
      // name (JSONSchemaProps, CRD printer columns, PriorityClass): accept them as strings.
      if (key === "description") {
        if (typeof entry.value[key] !== "string") errors.push(`${field}: must be string`);
        continue;
      }
      // JSONSchemaProps' vendor extensions, which the generated schema leaves out (an object read
      // as JSONSchemaProps is one whose "nullable" and "additionalProperties" were looked up).
      if (key in SCHEMA_EXTENSIONS && entry.read.has("nullable") && entry.read.has("additionalProperties")) {
        const problem = SCHEMA_EXTENSIONS[key](entry.value[key]);
        if (problem) errors.push(`${field}: ${problem}`);
        continue;
      }
      errors.push(`unknown field "${field}"`);
    }
  }
  return errors;
}

// The x-kubernetes-* fields of apiextensions.k8s.io/v1 JSONSchemaProps, with their types.
const isBool = (v) => (typeof v === "boolean" ? null : "must be boolean");
const isStrings = (v) => (Array.isArray(v) && v.every((x) => typeof x === "string") ? null : "must be a list of strings");
const SCHEMA_EXTENSIONS = {
  "x-kubernetes-embedded-resource": isBool,
  "x-kubernetes-int-or-string": isBool,
  "x-kubernetes-preserve-unknown-fields": isBool,
  "x-kubernetes-list-map-keys": isStrings,
  "x-kubernetes-list-type": (v) => (["atomic", "set", "map"].includes(v) ? null : "must be atomic, set or map"),
  "x-kubernetes-map-type": (v) => (["atomic", "granular"].includes(v) ? null : "must be atomic or granular"),
  "x-kubernetes-validations": (v) =>
    Array.isArray(v) && v.every((r) => r && typeof r.rule === "string" &&
      Object.keys(r).every((k) => ["rule", "message", "messageExpression", "reason", "fieldPath", "optionalOldSelf"].includes(k)))
      ? null
      : "must be a list of {rule, message, messageExpression, reason, fieldPath, optionalOldSelf}",
};

// --- CRDs ----------------------------------------------------------------------------------

// Go durations ("15m", "1h30m", "500ms"), as Kubernetes' "duration" format means.
const goDuration = /^-?([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$|^0$/;

function makeAjv() {
  const ajv = new Ajv({ strict: false, allErrors: true });
  addFormats(ajv);
  ajv.addFormat("duration", goDuration);
  ajv.addFormat("int32", { type: "number", validate: (n) => Number.isInteger(n) && n >= -(2 ** 31) && n < 2 ** 31 });
  ajv.addFormat("int64", { type: "number", validate: (n) => Number.isInteger(n) });
  ajv.addFormat("float", { type: "number", validate: () => true });
  ajv.addFormat("double", { type: "number", validate: () => true });
  ajv.addFormat("quantity", /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+|[kMGTPE]i?|[munk])?$/);
  return ajv;
}

// openAPIV3Schema -> JSON schema with the API server's semantics: int-or-string, nullable,
// OpenAPI 3.0 boolean exclusive bounds, and unknown fields rejected where the schema declares
// properties and does not preserve unknowns.
function structuralToJsonSchema(schema, isRoot) {
  if (Array.isArray(schema)) return schema.map((s) => structuralToJsonSchema(s, false));
  if (schema === null || typeof schema !== "object") return schema;
  const out = {};
  for (const [k, v] of Object.entries(schema)) {
    if (k === "properties" || k === "patternProperties") {
      out[k] = Object.fromEntries(Object.entries(v).map(([pk, pv]) => [pk, structuralToJsonSchema(pv, false)]));
    } else if (k === "default" || k === "example" || k === "enum") {
      out[k] = v;
    } else if (k.startsWith("x-kubernetes-")) {
      continue;
    } else {
      out[k] = structuralToJsonSchema(v, false);
    }
  }
  // OpenAPI 3.0's boolean exclusiveMinimum/exclusiveMaximum (with minimum/maximum) -> numbers.
  for (const [excl, bound] of [["exclusiveMinimum", "minimum"], ["exclusiveMaximum", "maximum"]]) {
    if (typeof schema[excl] === "boolean") {
      delete out[excl];
      if (schema[excl] && typeof schema[bound] === "number") {
        out[excl] = schema[bound];
        delete out[bound];
      }
    }
  }
  if (schema["x-kubernetes-int-or-string"]) {
    delete out.type;
    out.anyOf = [{ type: "integer" }, { type: "string" }];
  }
  if (schema.nullable && out.type) {
    out.type = [out.type, "null"];
    delete out.nullable;
  }
  if (isRoot) {
    out.properties = { apiVersion: { type: "string" }, kind: { type: "string" }, metadata: { type: "object" }, ...(out.properties ?? {}) };
  }
  if (out.properties && out.additionalProperties === undefined && !schema["x-kubernetes-preserve-unknown-fields"]) {
    out.additionalProperties = false;
  }
  return out;
}

class CrdRegistry {
  constructor() {
    this.ajv = makeAjv();
    this.byGvk = new Map();
  }
  add(crd, source) {
    const group = crd.spec?.group;
    const kind = crd.spec?.names?.kind;
    for (const version of crd.spec?.versions ?? []) {
      const schema = version.schema?.openAPIV3Schema;
      if (!schema) throw new Error(`${source}: CRD ${crd.metadata?.name} version ${version.name} has no openAPIV3Schema`);
      const validate = this.ajv.compile(structuralToJsonSchema(schema, true));
      this.byGvk.set(`${group}/${version.name}/${kind}`, { validate, crd: crd.metadata?.name, version: version.name });
    }
  }
  lookup(apiVersion, kind) {
    return this.byGvk.get(`${apiVersion}/${kind}`);
  }
}

function validateWithCrd(entry, obj) {
  if (entry.validate(obj)) return [];
  return entry.validate.errors.map((e) => `${e.instancePath || "/"} ${e.message}${e.params?.additionalProperty ? ` "${e.params.additionalProperty}"` : ""}`);
}

// --- driver --------------------------------------------------------------------------------

async function validateAll(docs, crds) {
  let failures = 0;
  const counts = new Map();
  for (const { value: obj, source } of docs) {
    const where = `${source}: ${describe(obj)}`;
    if (typeof obj !== "object" || Array.isArray(obj) || !obj.apiVersion || !obj.kind) {
      console.error(`FAIL ${source}: not a Kubernetes object (apiVersion and kind are required)`);
      failures++;
      continue;
    }
    if (!obj.metadata?.name) {
      console.error(`FAIL ${where}: metadata.name is required`);
      failures++;
      continue;
    }
    let errors;
    const crd = crds.lookup(obj.apiVersion, obj.kind);
    if (crd) {
      errors = validateWithCrd(crd, obj);
    } else {
      const cls = await modelClassFor(obj.apiVersion, obj.kind);
      if (!cls) {
        console.error(`FAIL ${where}: unknown apiVersion/kind (no schema in kubernetes-models, @kubernetes-models/prometheus-operator, @kubernetes-models/cert-manager or a CRD)`);
        failures++;
        continue;
      }
      errors = validateWithModel(cls, obj);
    }
    if (errors.length > 0) {
      failures++;
      console.error(`FAIL ${where}`);
      for (const e of errors) console.error(`     ${e}`);
    } else {
      const key = `${obj.apiVersion}/${obj.kind}`;
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
  }
  const valid = [...counts.values()].reduce((a, b) => a + b, 0);
  for (const [k, n] of [...counts.entries()].sort()) console.log(`  ok ${String(n).padStart(3)} ${k}`);
  console.log(`validate: ${valid} valid, ${failures} invalid`);
  return failures;
}

function loadChartCrds(crds) {
  if (!existsSync(crdDir)) return [];
  const docs = [];
  for (const f of readdirSync(crdDir).filter((f) => /\.ya?ml$/.test(f)).sort()) {
    for (const d of readDocs(join(crdDir, f))) {
      docs.push(d);
      if (d.value.kind === "CustomResourceDefinition") crds.add(d.value, d.source);
    }
  }
  return docs;
}

// Examples of MemoryScaler objects: the YAML blocks of the chart README that hold one,
// tests/chart/examples/*.yaml and controller/examples/*.yaml.
function memoryScalerExamples() {
  const docs = [];
  const readme = join(root, "charts", "oomcast", "README.md");
  if (existsSync(readme)) {
    const text = readFileSync(readme, "utf8");
    const blocks = [...text.matchAll(/```ya?ml\n([\s\S]*?)```/g)].map((m) => m[1]);
    for (const b of blocks) {
      if (/^kind:\s*MemoryScaler\s*$/m.test(b)) docs.push(...parseDocs(b, "charts/oomcast/README.md"));
    }
  }
  for (const exDir of [join(here, "examples"), join(root, "controller", "examples")]) {
    if (!existsSync(exDir)) continue;
    for (const f of readdirSync(exDir).filter((f) => /\.ya?ml$/.test(f)).sort()) {
      docs.push(...readDocs(join(exDir, f)).filter((d) => d.value?.kind === "MemoryScaler"));
    }
  }
  return docs;
}

function readmeObjects() {
  // The chart README and the operator walkthrough next to KEDA (its ScaledObject examples,
  // against @kubernetes-models/keda).
  return ["charts/oomcast/README.md", "docs/install-next-to-keda.md"].flatMap((rel) => {
    const file = join(root, rel);
    if (!existsSync(file)) return [];
    const text = readFileSync(file, "utf8");
    return [...text.matchAll(/```ya?ml\n([\s\S]*?)```/g)].flatMap((m) => parseDocs(m[1], rel));
  });
}

async function main(argv) {
  const crds = new CrdRegistry();
  if (argv[0] === "--readme") {
    loadChartCrds(crds);
    let docs = readmeObjects();
    if (!existsSync(memoryScalerCrdFile)) {
      const n = docs.filter((d) => d.value?.kind === "MemoryScaler").length;
      docs = docs.filter((d) => d.value?.kind !== "MemoryScaler");
      console.log(`note: ${n} MemoryScaler example(s) not checked: ${memoryScalerCrdFile} does not exist yet`);
    }
    if (docs.length === 0) {
      console.error("FAIL: no objects in the README's YAML blocks");
      return 1;
    }
    return (await validateAll(docs, crds)) > 0 ? 1 : 0;
  }
  if (argv[0] === "--crd-examples") {
    if (!existsSync(memoryScalerCrdFile)) {
      console.log(`SKIPPED: ${memoryScalerCrdFile} does not exist yet (written with the controller)`);
      return 77;
    }
    const crdDocs = loadChartCrds(crds);
    const examples = memoryScalerExamples();
    if (examples.length === 0) {
      console.error("FAIL: no MemoryScaler examples found (charts/oomcast/README.md, tests/chart/examples/, controller/examples/)");
      return 1;
    }
    if (!crds.lookup(examples[0].value.apiVersion, "MemoryScaler")) {
      console.error(`FAIL: ${memoryScalerCrdFile} defines no ${examples[0].value.apiVersion} MemoryScaler`);
      return 1;
    }
    // The CRD object itself against apiextensions.k8s.io/v1, then the examples against the CRD.
    const crdFailures = await validateAll(crdDocs, new CrdRegistry());
    const exampleFailures = await validateAll(examples, crds);
    return crdFailures + exampleFailures > 0 ? 1 : 0;
  }
  if (argv.length === 0) {
    console.error("usage: node validate.mjs FILE... | --crd-examples");
    return 2;
  }
  const docs = argv.flatMap(readDocs);
  loadChartCrds(crds);
  for (const d of docs) {
    if (d.value?.kind === "CustomResourceDefinition") crds.add(d.value, d.source);
  }
  if (docs.length === 0) {
    console.error("FAIL: no objects in the input");
    return 1;
  }
  return (await validateAll(docs, crds)) > 0 ? 1 : 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    console.error(`validate: ${err.stack || err}`);
    process.exit(2);
  },
);
