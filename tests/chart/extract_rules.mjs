// Prints the rule groups of every PrometheusRule in a rendered multi-document YAML file as a
// Prometheus rules file (for promtool check rules / promtool test rules).
//
//   node extract_rules.mjs RENDERED.yaml > rules.yaml
//
// Exit status: 0 printed, 1 no PrometheusRule found, 2 usage or I/O errors.
import { readFileSync } from "node:fs";
import YAML from "yaml";

const file = process.argv[2];
if (!file) {
  console.error("usage: node extract_rules.mjs RENDERED.yaml");
  process.exit(2);
}
const groups = [];
for (const doc of YAML.parseAllDocuments(readFileSync(file, "utf8"))) {
  const obj = doc.toJS();
  if (obj?.apiVersion === "monitoring.coreos.com/v1" && obj.kind === "PrometheusRule") {
    groups.push(...(obj.spec?.groups ?? []));
  }
}
if (groups.length === 0) {
  console.error(`${file}: no PrometheusRule`);
  process.exit(1);
}
process.stdout.write(YAML.stringify({ groups }, { lineWidth: 0 }));
