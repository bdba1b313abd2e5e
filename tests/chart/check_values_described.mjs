// Every leaf of charts/oomcast/values.yaml is described: a "# --" comment (helm-docs style) on
// the lines just above it, or a "description" in values.schema.json at its path; or either on
// its immediate parent when that parent is a small block of like fields (probe timings, a
// ServiceAccount's fields) described as a whole. The chart README promises that every value is described.
//   node check_values_described.mjs   exit 0 when all are, 1 listing the undescribed ones
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import YAML from "yaml";

const chart = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "charts", "oomcast");
const text = readFileSync(join(chart, "values.yaml"), "utf8");
const schema = JSON.parse(readFileSync(join(chart, "values.schema.json"), "utf8"));
const doc = YAML.parseDocument(text);

// Paths whose key is preceded by a "# --" comment block.
const commented = new Set();
function walkComments(node, path) {
  if (!YAML.isMap(node)) return;
  for (const pair of node.items) {
    const key = String(pair.key.value);
    const p = [...path, key];
    const before = pair.key.commentBefore ?? "";
    if (/(^|\n)\s*--\s/.test(before)) commented.add(p.join("."));
    walkComments(pair.value, p);
  }
}
walkComments(doc.contents, []);

function schemaAt(path) {
  let s = schema;
  const out = [];
  for (const k of path) {
    s = s?.properties?.[k];
    out.push(s);
  }
  return out;
}

const missing = [];
let leaves = 0;
function walk(value, path) {
  const isMap = value && typeof value === "object" && !Array.isArray(value) && Object.keys(value).length > 0;
  if (isMap) {
    for (const [k, v] of Object.entries(value)) walk(v, [...path, k]);
    return;
  }
  leaves++;
  const own = [path, path.slice(0, -1)].filter((p) => p.length > 0);
  const byComment = own.some((p) => commented.has(p.join(".")));
  const chain = schemaAt(path);
  const described = (s) => s && typeof s.description === "string" && s.description.length > 0;
  // Inside a free-form Kubernetes object (a schema node without properties: resources,
  // securityContext), the object's description covers its fields.
  const freeForm = chain.findIndex((s) => s && !s.properties && s.type === "object");
  const bySchema = [chain[chain.length - 1], chain[chain.length - 2]].some(described) ||
    (freeForm >= 0 && freeForm < chain.length - 1 && described(chain[freeForm]));
  if (!byComment && !bySchema) missing.push(path.join("."));
}
walk(doc.toJS(), []);
if (missing.length) {
  for (const m of missing) console.log(`FAIL undescribed value: ${m}`);
  console.log(`check_values_described: ${missing.length} of ${leaves} values have no description`);
  process.exit(1);
}
console.log(`check_values_described: all ${leaves} values described`);
