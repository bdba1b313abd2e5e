// Checks the canary rollout-gate examples in docs/canary/:
//  - argo-analysistemplate.yaml against @kubernetes-models/argo-rollouts' schema (validate()),
//    plus unknown-field checks of the parts it uses (the package's schemas accept unknown keys;
//    the known ones are read from its type declarations);
//  - flagger-metrictemplate.yaml structurally (no model package of Flagger exists on npm):
//    apiVersion flagger.app/v1beta1, kind MetricTemplate, provider.type prometheus, a query,
//    and no keys Flagger's MetricTemplate does not define;
//  - both queries read memory_canary_verdict{verdict="fail"} (the predictor's metric).
// Exit status: 0 valid, 1 invalid, 77 skipped (node_modules missing).
import { readFileSync, existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const root = process.env.OOMCAST_SOURCE_DIR || join(here, "..", "..");
const models = join(here, "node_modules", "@kubernetes-models", "argo-rollouts");
if (!existsSync(models)) {
  console.log("SKIPPED: tests/canary/node_modules missing (run scripts/setup.sh --deps)");
  process.exit(77);
}
const { parse } = await import("yaml");
const { AnalysisTemplate } = await import(
  "@kubernetes-models/argo-rollouts/argoproj.io/v1alpha1/AnalysisTemplate"
);

const errors = [];
const fail = (m) => errors.push(m);

// Keys of interface I<type> in the package's declarations.
function knownKeys(type) {
  const text = readFileSync(join(models, "argoproj.io", "v1alpha1", `${type}.d.ts`), "utf8");
  const m = text.match(new RegExp(`export interface I${type} \\{([\\s\\S]*?)\\n\\}`));
  if (!m) throw new Error(`no interface I${type}`);
  return new Set([...m[1].matchAll(/^\s*"([^"]+)"\??:/gm)].map((x) => x[1]));
}
function strict(obj, type, where) {
  if (obj === undefined) return;
  const keys = knownKeys(type);
  for (const k of Object.keys(obj)) if (!keys.has(k)) fail(`${where}: unknown field "${k}" (${type})`);
}

const argoPath = join(root, "docs", "canary", "argo-analysistemplate.yaml");
const argo = parse(readFileSync(argoPath, "utf8"));
try {
  new AnalysisTemplate(argo).validate();
} catch (e) {
  fail(`${argoPath}: ${e.message}`);
}
if (argo.apiVersion !== "argoproj.io/v1alpha1" || argo.kind !== "AnalysisTemplate") {
  fail(`${argoPath}: not an argoproj.io/v1alpha1 AnalysisTemplate`);
}
strict(argo.spec, "AnalysisTemplateSpec", "spec");
(argo.spec?.args || []).forEach((a, i) => strict(a, "Argument", `spec.args[${i}]`));
(argo.spec?.metrics || []).forEach((m, i) => {
  strict(m, "Metric", `spec.metrics[${i}]`);
  strict(m.provider, "MetricProvider", `spec.metrics[${i}].provider`);
  strict(m.provider?.prometheus, "PrometheusMetric", `spec.metrics[${i}].provider.prometheus`);
  const q = m.provider?.prometheus?.query || "";
  if (!(q.includes("memory_canary_verdict{") && q.includes(`verdict="fail"`))) {
    fail(`spec.metrics[${i}]: query does not read memory_canary_verdict{verdict="fail"}`);
  }
  // Every {{args.X}} must be a declared argument.
  const declared = new Set((argo.spec.args || []).map((a) => a.name));
  for (const [, name] of JSON.stringify(m).matchAll(/\{\{args\.([^}]+)\}\}/g)) {
    if (!declared.has(name)) fail(`spec.metrics[${i}]: {{args.${name}}} is not declared`);
  }
});

const flaggerPath = join(root, "docs", "canary", "flagger-metrictemplate.yaml");
const fl = parse(readFileSync(flaggerPath, "utf8"));
if (fl.apiVersion !== "flagger.app/v1beta1") fail(`${flaggerPath}: apiVersion must be flagger.app/v1beta1`);
if (fl.kind !== "MetricTemplate") fail(`${flaggerPath}: kind must be MetricTemplate`);
if (!fl.metadata?.name) fail(`${flaggerPath}: metadata.name missing`);
for (const k of Object.keys(fl.spec || {})) {
  if (!["provider", "query"].includes(k)) fail(`${flaggerPath}: unknown spec field "${k}"`);
}
for (const k of Object.keys(fl.spec?.provider || {})) {
  if (!["type", "address", "secretRef", "insecureSkipVerify"].includes(k)) {
    fail(`${flaggerPath}: unknown spec.provider field "${k}"`);
  }
}
if (fl.spec?.provider?.type !== "prometheus") fail(`${flaggerPath}: provider.type must be prometheus`);
if (typeof fl.spec?.provider?.address !== "string") fail(`${flaggerPath}: provider.address missing`);
if (!((fl.spec?.query || "").includes("memory_canary_verdict{") && fl.spec.query.includes(`verdict="fail"`))) {
  fail(`${flaggerPath}: query does not read memory_canary_verdict{verdict="fail"}`);
}

// The validator itself must reject what it names: a template with an unknown metric field.
const broken = structuredClone(argo);
broken.spec.metrics[0].failureLimitt = 1;
const before = errors.length;
strict(broken.spec.metrics[0], "Metric", "self-check");
if (errors.length === before) fail("self-check: an unknown Metric field was not reported");
else errors.splice(before);

if (errors.length) {
  for (const e of errors) console.error("FAIL " + e);
  process.exit(1);
}
console.log("ok: AnalysisTemplate and MetricTemplate examples valid");
