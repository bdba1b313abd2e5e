#!/usr/bin/env node
// Validates Kubernetes objects against the official schemas (npm kubernetes-models) and
// MemoryScalers against the openAPIV3Schema of charts/oomcast/files/crds/memoryscaler.yaml (defaults
// applied first, as the API server does; unknown fields are errors).
//
//   node validate.mjs --crd CRD.yaml --writes writes.json   every object a client wrote to the
//                                                           API stand-in (GET /_standin/writes)
//   node validate.mjs --crd CRD.yaml FILE.yaml...           every document of the files
//
// Exit 0: all valid; 1: invalid objects (each printed); 2: usage; 77: SKIPPED (node_modules
// absent: run `npm ci` in this folder, or scripts/setup.sh).
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
if (!fs.existsSync(path.join(here, "node_modules", "kubernetes-models"))) {
  console.log("SKIPPED: kubernetes-models is not installed (run npm ci in " + here + ")");
  process.exit(77);
}
const yaml = (await import("js-yaml")).default;

const args = process.argv.slice(2);
let crdPath = null;
let writesPath = null;
const files = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === "--crd") crdPath = args[++i];
  else if (args[i] === "--writes") writesPath = args[++i];
  else files.push(args[i]);
}
if (!crdPath || (!writesPath && files.length === 0)) {
  console.error("usage: validate.mjs --crd CRD.yaml (--writes writes.json | FILE.yaml...)");
  process.exit(2);
}

const crd = yaml.load(fs.readFileSync(crdPath, "utf8"));
const crdVersions = Object.fromEntries(
  crd.spec.versions.map((v) => [`${crd.spec.group}/${v.name}`, v.schema.openAPIV3Schema]));
const crdKind = crd.spec.names.kind;

// ---- a structural-schema checker for CRDs ----
function applyDefaults(schema, value) {
  if (!schema || value === null || typeof value !== "object") return value;
  if (schema.type === "object" && schema.properties && !Array.isArray(value)) {
    for (const [k, s] of Object.entries(schema.properties)) {
      if (value[k] === undefined && s.default !== undefined) value[k] = structuredClone(s.default);
      if (value[k] !== undefined) value[k] = applyDefaults(s, value[k]);
    }
  }
  if (schema.type === "array" && schema.items && Array.isArray(value)) {
    return value.map((v) => applyDefaults(schema.items, v));
  }
  return value;
}

function typeOk(type, v) {
  switch (type) {
    case "object": return v !== null && typeof v === "object" && !Array.isArray(v);
    case "array": return Array.isArray(v);
    case "string": return typeof v === "string";
    case "integer": return Number.isInteger(v);
    case "number": return typeof v === "number" && Number.isFinite(v);
    case "boolean": return typeof v === "boolean";
    default: return true;
  }
}

function check(schema, v, where, errors, isRoot = false) {
  if (schema["x-kubernetes-int-or-string"]) {
    if (!(Number.isInteger(v) || typeof v === "string")) {
      errors.push(`${where}: must be an integer or a string`);
      return;
    }
  } else if (schema.type && !typeOk(schema.type, v)) {
    errors.push(`${where}: must be of type ${schema.type}, got ${JSON.stringify(v)}`);
    return;
  }
  if (schema.enum && !schema.enum.some((e) => e === v)) {
    errors.push(`${where}: must be one of ${JSON.stringify(schema.enum)}, got ${JSON.stringify(v)}`);
  }
  if (typeof v === "number") {
    if (schema.minimum !== undefined) {
      if (schema.exclusiveMinimum === true ? v <= schema.minimum : v < schema.minimum) {
        errors.push(`${where}: must be ${schema.exclusiveMinimum ? ">" : ">="} ${schema.minimum}`);
      }
    }
    if (schema.maximum !== undefined) {
      if (schema.exclusiveMaximum === true ? v >= schema.maximum : v > schema.maximum) {
        errors.push(`${where}: must be <= ${schema.maximum}`);
      }
    }
    if (schema.format === "int32" && (v < -(2 ** 31) || v >= 2 ** 31)) {
      errors.push(`${where}: out of int32 range`);
    }
  }
  if (typeof v === "string") {
    if (schema.minLength !== undefined && v.length < schema.minLength) {
      errors.push(`${where}: shorter than ${schema.minLength}`);
    }
    if (schema.pattern && !new RegExp(schema.pattern).test(v)) {
      errors.push(`${where}: ${JSON.stringify(v)} does not match ${schema.pattern}`);
    }
    if (schema.format === "date-time" &&
        !/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/.test(v)) {
      errors.push(`${where}: not an RFC 3339 date-time: ${v}`);
    }
  }
  if (schema.type === "object" && typeOk("object", v)) {
    for (const r of schema.required || []) {
      if (v[r] === undefined) errors.push(`${where}.${r}: Required value`);
    }
    const props = schema.properties || {};
    for (const [k, sub] of Object.entries(v)) {
      if (props[k]) check(props[k], sub, `${where}.${k}`, errors);
      else if (schema.additionalProperties && typeof schema.additionalProperties === "object") {
        check(schema.additionalProperties, sub, `${where}.${k}`, errors);
      } else if (!schema["x-kubernetes-preserve-unknown-fields"] && schema.properties &&
                 !(isRoot && k === "metadata")) {
        errors.push(`${where}.${k}: unknown field (would be pruned by the API server)`);
      }
    }
    for (const rule of schema["x-kubernetes-validations"] || []) {
      const m = /^self\.(\w+) <= self\.(\w+)$/.exec(rule.rule);
      if (m && v[m[1]] !== undefined && v[m[2]] !== undefined && !(v[m[1]] <= v[m[2]])) {
        errors.push(`${where}: ${rule.message}`);
      }
    }
  }
  if (schema.type === "array" && Array.isArray(v) && schema.items) {
    v.forEach((item, i) => check(schema.items, item, `${where}[${i}]`, errors));
    const keys = schema["x-kubernetes-list-map-keys"];
    if (schema["x-kubernetes-list-type"] === "map" && keys) {
      const seen = new Set();
      for (const item of v) {
        const id = JSON.stringify(keys.map((k) => item[k]));
        if (seen.has(id)) errors.push(`${where}: duplicate entry for key ${id}`);
        seen.add(id);
      }
    }
  }
}

async function validate(obj) {
  const apiVersion = obj.apiVersion || "";
  const kind = obj.kind || "";
  if (kind === crdKind && crdVersions[apiVersion]) {
    const schema = crdVersions[apiVersion];
    const defaulted = applyDefaults(schema, structuredClone(obj));
    const errors = [];
    check(schema, defaulted, kind, errors, true);
    return errors;
  }
  const [group, version] = apiVersion.includes("/") ? apiVersion.split("/") : ["", apiVersion];
  let mod;
  try {
    mod = await import(`kubernetes-models/${group ? group + "/" : ""}${version}`);
  } catch (e) {
    return [`no schema for ${apiVersion}`];
  }
  const Model = mod[kind];
  if (!Model) return [`no schema for ${apiVersion} ${kind}`];
  try {
    new Model(obj).validate();
    return [];
  } catch (e) {
    return [e.message];
  }
}

const objects = [];  // {label, obj}
if (writesPath) {
  const writes = JSON.parse(fs.readFileSync(writesPath, "utf8"));
  for (const w of writes) {
    if (w.body && typeof w.body === "object" && Object.keys(w.body).length > 0) {
      objects.push({ label: `${w.method} ${w.path} (${w.code})`, obj: w.body });
    }
  }
}
for (const f of files) {
  yaml.loadAll(fs.readFileSync(f, "utf8"), (doc) => {
    if (doc) objects.push({ label: `${f}: ${doc.kind} ${doc.metadata?.name}`, obj: doc });
  });
}
let bad = 0;
const kinds = {};
for (const { label, obj } of objects) {
  const errors = await validate(obj);
  kinds[obj.kind] = (kinds[obj.kind] || 0) + 1;
  if (errors.length) {
    bad++;
    console.log(`INVALID ${label}`);
    for (const e of errors) console.log(`  ${e}`);
  }
}
console.log(`validated ${objects.length} objects (${Object.entries(kinds).map(([k, n]) => `${k}: ${n}`).join(", ")}): ${bad} invalid`);
process.exit(bad ? 1 : objects.length ? 0 : 1);
