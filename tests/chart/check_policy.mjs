// Checks the chart's secure defaults and the wiring the components need, in a rendered chart
// (helm template output):
//  - every container: non-root, read-only root filesystem, no privilege escalation, all
//    capabilities dropped, seccomp RuntimeDefault, CPU and memory requests and a memory limit,
//    liveness and readiness probes on the component's real endpoints (the adapter's over HTTPS on
//    6443: /livez and /readyz; the others over HTTP on 8080: /healthz and /readyz);
//  - the v1beta1.external.metrics.k8s.io APIService points at the adapter's Service and verifies
//    it (caBundle, or cert-manager's CA injection), never insecureSkipTLSVerify;
//  - the adapter's RBAC: system:auth-delegator, extension-apiserver-authentication-reader in
//    kube-system, pods list/watch; the HPA controller may read external.metrics.k8s.io; the
//    controller's ClusterRole covers the resources it uses;
//  - ServiceMonitors keep the forecasts' labels (honorLabels), the dashboard has the sidecar label,
//    and a multi-replica adapter has a PodDisruptionBudget and spreads over nodes.
//
//   node check_policy.mjs RENDERED.yaml
//
// Exit status: 0 fine, 1 violations (each printed), 2 usage errors.
import { readFileSync } from "node:fs";
import YAML from "yaml";

const file = process.argv[2];
if (!file) {
  console.error("usage: node check_policy.mjs RENDERED.yaml");
  process.exit(2);
}
const objs = YAML.parseAllDocuments(readFileSync(file, "utf8")).map((d) => d.toJS()).filter(Boolean);
const problems = [];
const fail = (m) => problems.push(m);
const find = (kind, pred = () => true) => objs.filter((o) => o.kind === kind && pred(o));
const component = (o) => o.metadata?.labels?.["app.kubernetes.io/component"];

// --- workloads ---
const PROBES = {
  "metrics-adapter": { scheme: "HTTPS", port: 6443, live: "/livez", ready: "/readyz" },
  controller: { scheme: "HTTP", port: 8080, live: "/healthz", ready: "/readyz" },
  predictor: { scheme: "HTTP", port: 8080, live: "/healthz", ready: "/readyz" },
};
for (const d of find("Deployment")) {
  const name = `Deployment ${d.metadata.name}`;
  const pod = d.spec.template.spec;
  const psc = pod.securityContext ?? {};
  if (psc.runAsNonRoot !== true) fail(`${name}: pod securityContext.runAsNonRoot is not true`);
  if (psc.seccompProfile?.type !== "RuntimeDefault") fail(`${name}: pod seccompProfile is not RuntimeDefault`);
  const want = PROBES[component(d)];
  if (!want) fail(`${name}: unknown component ${component(d)}`);
  for (const c of [...(pod.initContainers ?? []), ...pod.containers]) {
    const where = `${name} container ${c.name}`;
    const sc = c.securityContext ?? {};
    if (sc.runAsNonRoot !== true && psc.runAsNonRoot !== true) fail(`${where}: may run as root`);
    if (sc.readOnlyRootFilesystem !== true) fail(`${where}: root filesystem is writable`);
    if (sc.allowPrivilegeEscalation !== false) fail(`${where}: allowPrivilegeEscalation is not false`);
    if (!(sc.capabilities?.drop ?? []).includes("ALL")) fail(`${where}: capabilities ALL not dropped`);
    if ((sc.capabilities?.add ?? []).length > 0) fail(`${where}: adds capabilities`);
    if (sc.privileged) fail(`${where}: privileged`);
    if (sc.seccompProfile && sc.seccompProfile.type !== "RuntimeDefault") fail(`${where}: seccompProfile is not RuntimeDefault`);
    if (!c.resources?.requests?.cpu || !c.resources?.requests?.memory) fail(`${where}: no CPU and memory requests`);
    if (!c.resources?.limits?.memory) fail(`${where}: no memory limit`);
    if (!/^\/usr\/local\/bin\/oomcast-(predictor|metrics-adapter|controller)$/.test(c.command?.[0] ?? "")) {
      fail(`${where}: command is not one of the image's binaries: ${c.command}`);
    }
    if (!(c.args ?? []).some((a) => a === "--config=/etc/oomcast/config.yaml") && component(d) !== "controller") {
      fail(`${where}: does not read /etc/oomcast/config.yaml`);
    }
    if (want) {
      const ports = Object.fromEntries((c.ports ?? []).map((p) => [p.name, p.containerPort]));
      // With a pass-through upstream the adapter is Ready once it serves (/livez): it forwards
      // the upstream's metrics while oomcast's own forecasts are stale.
      const passThrough = (c.args ?? []).some((a) => a.startsWith("--upstream-external-metrics="));
      const ready = component(d) === "metrics-adapter" && passThrough ? want.live : want.ready;
      // The adapter's port is its --secure-port (metricsAdapter.containerPort).
      const securePort = (c.args ?? []).find((a) => a.startsWith("--secure-port="));
      const wantPort = component(d) === "metrics-adapter" && securePort ? Number(securePort.split("=")[1]) : want.port;
      if (d.spec.template.spec.hostNetwork && d.spec.template.spec.dnsPolicy !== "ClusterFirstWithHostNet") {
        fail(`${where}: hostNetwork without dnsPolicy ClusterFirstWithHostNet (cluster DNS names would not resolve)`);
      }
      for (const [kind, path] of [["livenessProbe", want.live], ["readinessProbe", ready]]) {
        const p = c[kind]?.httpGet;
        if (!p) {
          fail(`${where}: no ${kind} (httpGet)`);
          continue;
        }
        const port = typeof p.port === "string" ? ports[p.port] : p.port;
        if (p.path !== path || port !== wantPort || (p.scheme ?? "HTTP") !== want.scheme) {
          fail(`${where}: ${kind} is ${p.scheme ?? "HTTP"} ${port}${p.path}, want ${want.scheme} ${wantPort}${path}`);
        }
      }
    }
    const mounts = new Set((c.volumeMounts ?? []).map((m) => m.mountPath));
    if (!mounts.has("/tmp")) fail(`${where}: no writable /tmp (the root filesystem is read-only)`);
  }
  if (component(d) === "metrics-adapter" && d.spec.replicas > 1) {
    const pdb = find("PodDisruptionBudget", (p) => component(p) === "metrics-adapter");
    if (pdb.length !== 1) fail(`${name}: ${d.spec.replicas} replicas without a PodDisruptionBudget`);
    const anti = pod.affinity?.podAntiAffinity;
    if (!anti && !(pod.topologySpreadConstraints ?? []).length) fail(`${name}: replicas are not spread (no pod anti-affinity)`);
  }
}

// --- the APIService ---
const adapterSvc = find("Service", (s) => component(s) === "metrics-adapter")[0];
for (const a of find("APIService")) {
  const name = `APIService ${a.metadata.name}`;
  if (a.metadata.name !== "v1beta1.external.metrics.k8s.io" || a.spec.group !== "external.metrics.k8s.io" || a.spec.version !== "v1beta1") {
    fail(`${name}: not v1beta1.external.metrics.k8s.io`);
  }
  if (a.spec.insecureSkipTLSVerify) fail(`${name}: insecureSkipTLSVerify`);
  const injected = a.metadata.annotations?.["cert-manager.io/inject-ca-from"];
  if (!a.spec.caBundle && !injected) fail(`${name}: neither a caBundle nor cert-manager CA injection`);
  if (injected) {
    const [ns, certName] = injected.split("/");
    if (!find("Certificate", (c) => c.metadata.name === certName && c.metadata.namespace === ns).length) {
      fail(`${name}: inject-ca-from ${injected} names no rendered Certificate`);
    }
  }
  if (!adapterSvc || a.spec.service?.name !== adapterSvc.metadata.name || a.spec.service?.namespace !== adapterSvc.metadata.namespace) {
    fail(`${name}: does not point at the adapter's Service`);
  } else if (!adapterSvc.spec.ports.some((p) => p.port === (a.spec.service.port ?? 443))) {
    fail(`${name}: port ${a.spec.service.port} is not a port of Service ${adapterSvc.metadata.name}`);
  }
}
if (adapterSvc && find("APIService").length !== 1) fail("the adapter is enabled but no APIService is rendered");

// --- RBAC ---
const rules = (kind, name) => (find(kind, (r) => r.metadata.name === name)[0]?.rules ?? []);
function allows(ruleList, group, resource, verb) {
  return ruleList.some((r) => (r.apiGroups ?? []).some((g) => g === group || g === "*") &&
    (r.resources ?? []).some((x) => x === resource || x === "*") && (r.verbs ?? []).some((v) => v === verb || v === "*"));
}
function boundTo(subject) {
  // Rules granted to a service account through (Cluster)RoleBindings rendered here.
  const out = [];
  for (const b of [...find("ClusterRoleBinding"), ...find("RoleBinding")]) {
    if (!(b.subjects ?? []).some((s) => s.kind === "ServiceAccount" && s.name === subject.name && s.namespace === subject.namespace)) continue;
    out.push({ binding: b, role: b.roleRef.name, rules: rules(b.roleRef.kind, b.roleRef.name) });
  }
  return out;
}
const saOf = (component_) => {
  const d = find("Deployment", (x) => component(x) === component_)[0];
  return d ? { name: d.spec.template.spec.serviceAccountName, namespace: d.metadata.namespace } : null;
};
const adapterSa = saOf("metrics-adapter");
if (adapterSa) {
  const b = boundTo(adapterSa);
  if (!b.some((x) => x.binding.kind === "ClusterRoleBinding" && x.role === "system:auth-delegator")) fail("adapter: no system:auth-delegator ClusterRoleBinding");
  if (!b.some((x) => x.binding.kind === "RoleBinding" && x.binding.metadata.namespace === "kube-system" && x.role === "extension-apiserver-authentication-reader")) {
    fail("adapter: no RoleBinding to extension-apiserver-authentication-reader in kube-system");
  }
  const all = b.flatMap((x) => x.rules);
  // Pods: list and watch (metadata-only) exactly when the adapter reads pod labels from the
  // Kubernetes API, and never get; no pod rights with kube-state-metrics as the source.
  const adapterArgs = find("Deployment", (x) => component(x) === "metrics-adapter")[0].spec.template.spec.containers[0].args ?? [];
  const fromKube = adapterArgs.includes("--pod-labels-source=kubernetes");
  for (const v of ["list", "watch"]) if (allows(all, "", "pods", v) !== fromKube) fail(`adapter: ${fromKube ? "cannot" : "needlessly may"} ${v} pods`);
  if (allows(all, "", "pods", "get")) fail("adapter: may get pods, which its code never does");
  const hpa = boundTo({ name: "horizontal-pod-autoscaler", namespace: "kube-system" }).flatMap((x) => x.rules);
  for (const v of ["get", "list"]) if (!allows(hpa, "external.metrics.k8s.io", "*", v)) fail(`HPA controller cannot ${v} external.metrics.k8s.io`);
}
const controllerSa = saOf("controller");
if (controllerSa) {
  const all = boundTo(controllerSa).flatMap((x) => x.rules);
  const need = [
    ["oomcast.io", "memoryscalers", ["get", "list", "watch"]],
    ["oomcast.io", "memoryscalers/status", ["update", "patch"]],
    ["apps", "deployments/scale", ["get", "update"]],
    ["apps", "statefulsets/scale", ["get", "update"]],
    ["apps", "replicasets/scale", ["get", "update"]],
    ["autoscaling", "horizontalpodautoscalers", ["get", "list", "watch", "update", "patch"]],
    ["", "pods", ["get", "list"]],
    ["", "pods/eviction", ["create"]],
    ["", "events", ["create", "patch"]],
    ["coordination.k8s.io", "leases", ["create", "get", "update"]],
    ["external.metrics.k8s.io", "*", ["get", "list"]],
  ];
  for (const [g, r, verbs] of need) for (const v of verbs) if (!allows(all, g, r, v)) fail(`controller cannot ${v} ${g || "core"}/${r}`);
  if (allows(all, "*", "*", "*") || allows(all, "", "secrets", "get")) fail("controller: RBAC broader than needed (wildcards or secrets)");
}

// --- monitoring ---
for (const sm of find("ServiceMonitor")) {
  for (const e of sm.spec.endpoints ?? []) {
    if (e.honorLabels !== true) fail(`ServiceMonitor ${sm.metadata.name}: endpoint ${e.port} without honorLabels: true`);
    if (e.scheme === "https" && (e.tlsConfig?.insecureSkipVerify || !e.tlsConfig)) fail(`ServiceMonitor ${sm.metadata.name}: HTTPS endpoint without verified TLS`);
  }
}
for (const cm of find("ConfigMap", (c) => /dashboard/.test(c.metadata.name))) {
  if (cm.metadata.labels?.grafana_dashboard !== "1") fail(`ConfigMap ${cm.metadata.name}: no grafana_dashboard: "1" label`);
}
for (const pr of find("PrometheusRule")) {
  for (const g of pr.spec.groups) {
    for (const r of g.rules) {
      if (!r.alert) continue;
      for (const a of ["summary", "description", "runbook_url"]) if (!r.annotations?.[a]) fail(`alert ${r.alert}: no ${a}`);
      if (!r.labels?.severity) fail(`alert ${r.alert}: no severity`);
      if (!/#oomcast[a-z]+$/.test(r.annotations?.runbook_url ?? "") || !r.annotations.runbook_url.endsWith(`#${r.alert.toLowerCase()}`)) {
        fail(`alert ${r.alert}: runbook_url does not point at its README section`);
      }
    }
  }
}

if (problems.length) {
  for (const p of problems) console.error(`FAIL ${p}`);
  console.log(`check_policy: ${problems.length} problem(s)`);
  process.exit(1);
}
console.log(`check_policy: secure defaults and wiring hold for ${objs.length} objects`);
