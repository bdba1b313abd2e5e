// Checks the metric names that the chart's Grafana dashboard and alerting rules query.
//
//   node check_metrics.mjs RENDERED.yaml [--promql-rules OUT.yaml]
//
// In RENDERED.yaml (helm template output) it finds the dashboard ConfigMaps (label
// grafana_dashboard), parses each dashboard JSON, and collects every PromQL expression of its
// panels and template variables, and of every PrometheusRule. Each metric name used must be one
// oomcast exports (the contract in DESIGN.md) or a standard one: cAdvisor's container_memory_* and
// container_spec_memory_*, kube-state-metrics' kube_*, kube-apiserver's aggregator_* and
// apiserver_*, and Prometheus' up. The dashboard must also show the four forecast metrics and the
// controller's decisions. With --promql-rules, the dashboard's queries (Grafana variables
// replaced by sample values, label_values() by its selector) are also written to OUT.yaml as
// recording rules, so that `promtool check rules OUT.yaml` checks their PromQL syntax.
//
// Exit status: 0 all names known, 1 unknown names or unparsable dashboards, 2 usage errors.
import { readFileSync, writeFileSync } from "node:fs";
import YAML from "yaml";

const OOMCAST_METRICS = new Set([
  "memory_growth_rate_bytes_per_second",
  "memory_growth_acceleration_bytes_per_second2",
  "memory_oom_eta_seconds",
  "memory_oom_risk",
  "oomcast_cycle_duration_seconds",
  "oomcast_series_tracked",
  "oomcast_samples_ingested_total",
  "oomcast_query_errors_total",
  "oomcast_cycles_total",
  "oomcast_serving_certificate_expiry_timestamp_seconds",
  "oomcast_last_successful_cycle_timestamp_seconds",
  "oomcast_forecast_age_seconds",
  "oomcast_adapter_requests_total",
  "oomcast_adapter_request_duration_seconds",
  "oomcast_controller_decisions_total",
  "oomcast_controller_api_errors_total",
  "oomcast_controller_reconcile_duration_seconds",
]);
const HISTOGRAMS = new Set([
  "oomcast_cycle_duration_seconds",
  "oomcast_adapter_request_duration_seconds",
  "oomcast_controller_reconcile_duration_seconds",
]);
const STANDARD = [/^container_memory_/, /^container_spec_memory_/, /^kube_/, /^aggregator_/, /^apiserver_/, /^up$/];
const DASHBOARD_MUST_SHOW = [
  "memory_oom_risk",
  "memory_oom_eta_seconds",
  "memory_growth_rate_bytes_per_second",
  "memory_growth_acceleration_bytes_per_second2",
  "oomcast_controller_decisions_total",
];
const KEYWORDS = new Set([
  "by", "without", "on", "ignoring", "group_left", "group_right", "bool", "and", "or", "unless",
  "offset", "Inf", "NaN", "inf", "nan",
]);

// Metric names used by a PromQL expression (Grafana variables allowed).
export function metricNames(expr) {
  let e = expr;
  e = e.replace(/label_values\(\s*([^,()]*(\{[^}]*\})?)\s*,\s*[A-Za-z_][A-Za-z0-9_]*\s*\)/g, " $1 ");
  e = e.replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, " ");
  e = e.replace(/\{[^}]*\}/g, " ");
  e = e.replace(/\[[^\]]*\]/g, " ");
  e = e.replace(/\boffset\s+-?([0-9]+(ms|s|m|h|d|w|y))+/g, " ");
  e = e.replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, " ");
  e = e.replace(/\$\{?[A-Za-z_][A-Za-z0-9_]*\}?/g, " ");
  e = e.replace(/\b\d+(\.\d+)?([eE][+-]?\d+)?\b/g, " ");
  const names = new Set();
  for (const m of e.matchAll(/[A-Za-z_:][A-Za-z0-9_:]*/g)) {
    const rest = e.slice(m.index + m[0].length);
    if (/^\s*\(/.test(rest)) continue; // function or aggregation
    if (KEYWORDS.has(m[0])) continue;
    names.add(m[0]);
  }
  return [...names];
}

function known(name) {
  if (OOMCAST_METRICS.has(name)) return true;
  const base = name.replace(/_(bucket|sum|count)$/, "");
  if (base !== name && HISTOGRAMS.has(base)) return true;
  return STANDARD.some((re) => re.test(name));
}

function selfTest() {
  const cases = [
    ['sum by (outcome) (rate(oomcast_controller_decisions_total[$__rate_interval]))', ["oomcast_controller_decisions_total"]],
    ['max by (namespace, pod, container) (container_memory_rss{namespace=~"$namespace", container!="POD"}) + on (namespace, pod) memory_growth_rate_bytes_per_second * $horizon_seconds', ["container_memory_rss", "memory_growth_rate_bytes_per_second"]],
    ['label_values(memory_oom_risk{namespace=~"$namespace"}, pod)', ["memory_oom_risk"]],
    ['histogram_quantile(0.99, sum by (le) (rate(oomcast_cycle_duration_seconds_bucket[5m]))) > 1e3', ["oomcast_cycle_duration_seconds_bucket"]],
    ['absent(up{job="x"} == 1) or vector(0)', ["up"]],
  ];
  for (const [expr, want] of cases) {
    const got = metricNames(expr).sort();
    if (JSON.stringify(got) !== JSON.stringify([...want].sort())) {
      throw new Error(`self-test: metricNames(${expr}) = ${JSON.stringify(got)}, want ${JSON.stringify(want)}`);
    }
  }
  if (known("bogus_metric") || !known("oomcast_adapter_request_duration_seconds_count")) {
    throw new Error("self-test: known() is wrong");
  }
}

function dashboardExprs(dash) {
  const out = [];
  const walkPanels = (panels) => {
    for (const p of panels ?? []) {
      for (const t of p.targets ?? []) if (typeof t.expr === "string") out.push({ where: `panel "${p.title}"`, expr: t.expr });
      walkPanels(p.panels);
    }
  };
  walkPanels(dash.panels);
  for (const v of dash.templating?.list ?? []) {
    if (v.type !== "query") continue;
    const q = typeof v.query === "string" ? v.query : v.query?.query;
    if (q) out.push({ where: `variable "${v.name}"`, expr: q });
  }
  return out;
}

// A dashboard query as plain PromQL: Grafana variables replaced by sample values.
function toPromQL(expr) {
  return expr
    .replace(/^\s*label_values\(\s*([^,()]*(\{[^}]*\})?)\s*,\s*[A-Za-z_][A-Za-z0-9_]*\s*\)\s*$/, "$1")
    .replace(/\$\{?__rate_interval\}?|\$\{?__interval\}?|\$\{?__range\}?/g, "5m")
    .replace(/\$\{?horizon_seconds\}?/g, "900")
    .replace(/\$\{?[A-Za-z_][A-Za-z0-9_]*\}?/g, ".*");
}

function main(file, promqlRulesFile) {
  selfTest();
  let failures = 0;
  const exprs = [];
  let dashboards = 0;
  const shown = new Set();
  for (const doc of YAML.parseAllDocuments(readFileSync(file, "utf8"))) {
    const obj = doc.toJS();
    if (obj?.kind === "ConfigMap" && obj.metadata?.labels?.grafana_dashboard !== undefined) {
      for (const [key, text] of Object.entries(obj.data ?? {})) {
        let dash;
        try {
          dash = JSON.parse(text);
        } catch (e) {
          console.error(`FAIL ConfigMap ${obj.metadata.name} ${key}: not JSON: ${e.message}`);
          failures++;
          continue;
        }
        dashboards++;
        const found = dashboardExprs(dash);
        if (found.length === 0) {
          console.error(`FAIL dashboard ${key}: no queries`);
          failures++;
        }
        for (const f of found) {
          exprs.push({ ...f, where: `dashboard ${key} ${f.where}` });
          for (const n of metricNames(f.expr)) shown.add(n);
        }
      }
    }
    if (obj?.kind === "PrometheusRule") {
      for (const g of obj.spec?.groups ?? []) {
        for (const r of g.rules ?? []) exprs.push({ where: `rule ${r.alert ?? r.record}`, expr: String(r.expr) });
      }
    }
  }
  if (dashboards === 0) {
    console.error(`FAIL ${file}: no dashboard ConfigMap (label grafana_dashboard)`);
    failures++;
  }
  for (const m of DASHBOARD_MUST_SHOW) {
    if (dashboards > 0 && !shown.has(m)) {
      console.error(`FAIL dashboard does not show ${m}`);
      failures++;
    }
  }
  const used = new Set();
  for (const { where, expr } of exprs) {
    const names = metricNames(expr);
    if (names.length === 0) {
      console.error(`FAIL ${where}: no metric name found in ${JSON.stringify(expr)}`);
      failures++;
    }
    for (const n of names) {
      used.add(n);
      if (!known(n)) {
        console.error(`FAIL ${where}: unknown metric ${n} in ${JSON.stringify(expr)}`);
        failures++;
      }
    }
  }
  if (promqlRulesFile) {
    const rules = exprs
      .filter((e) => e.where.startsWith("dashboard"))
      .map((e, i) => ({ record: `oomcast_dashboard_query:${i}`, expr: toPromQL(e.expr) }));
    writeFileSync(promqlRulesFile, YAML.stringify({ groups: [{ name: "dashboard-queries", rules }] }, { lineWidth: 0 }));
  }
  console.log(`check_metrics: ${exprs.length} queries in ${dashboards} dashboard(s) and rules, metrics used: ${[...used].sort().join(", ")}`);
  console.log(failures === 0 ? "check_metrics: all metric names known" : `check_metrics: ${failures} problem(s)`);
  return failures === 0 ? 0 : 1;
}

const args = process.argv.slice(2);
const rulesAt = args.indexOf("--promql-rules");
const promqlRules = rulesAt >= 0 ? args.splice(rulesAt, 2)[1] : undefined;
if (args.length !== 1 || (rulesAt >= 0 && !promqlRules)) {
  console.error("usage: node check_metrics.mjs RENDERED.yaml [--promql-rules OUT.yaml]");
  process.exit(2);
}
process.exit(main(args[0], promqlRules));
