#!/usr/bin/env bash
# The chart, manifests and Dockerfile checks that tests/chart/tests.cmake registers with CTest.
#
#   tests/chart/run.sh lint VALUES           helm lint --strict (VALUES: default or a file)
#   tests/chart/run.sh template VALUES       helm template, every object schema-validated,
#                                            secure-default policy checked
#   tests/chart/run.sh rules                 promtool check rules + promtool test rules
#   tests/chart/run.sh dashboard             dashboard JSON parses, its metric names are known,
#                                            its queries are valid PromQL
#   tests/chart/run.sh crd-examples          the MemoryScaler CRD and its examples
#   tests/chart/run.sh readme-examples       the objects in the chart README's examples
#   tests/chart/run.sh drift                 manifests/ matches the chart
#   tests/chart/run.sh dockerfile            Dockerfile and scripts/setup.sh agree
#   tests/chart/run.sh validator-selftest    validate.mjs rejects known-bad objects
#   tests/chart/run.sh cert-lookup           the generated serving certificate: valid for the
#                                            Service, trusted by the caBundle, and kept across
#                                            upgrades (lookup, against fake_apiserver.py)
#
# A check whose tool is missing (helm, node and tests/chart/node_modules, promtool) prints
# "SKIPPED: <why>" and exits 77; scripts/setup.sh installs them all.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
CHART="$ROOT/charts/oomcast"
export OOMCAST_SOURCE_DIR="$ROOT"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

skip() {
  echo "SKIPPED: $*"
  exit 77
}

need_helm() {
  if [ -x "$ROOT/.tools/bin/helm" ]; then HELM="$ROOT/.tools/bin/helm"
  elif command -v helm >/dev/null 2>&1; then HELM=$(command -v helm)
  else skip "helm not found (scripts/setup.sh installs it into .tools/bin)"; fi
}
need_node() {
  command -v node >/dev/null 2>&1 || skip "node not found (scripts/setup.sh installs nodejs)"
}
need_node_modules() {
  need_node
  [ -d "$HERE/node_modules/kubernetes-models" ] || skip "tests/chart/node_modules missing (scripts/setup.sh runs npm ci there)"
}
need_promtool() {
  command -v promtool >/dev/null 2>&1 || skip "promtool not found (apt-get install prometheus)"
}

values_args() {
  case "$1" in
    default) ;;
    *) echo "-f" "$HERE/$1" ;;
  esac
}

render() { # VALUES [extra helm args...]
  local values=$1
  shift
  # shellcheck disable=SC2046
  "$HELM" template oomcast "$CHART" --namespace oomcast  $(values_args "$values") "$@"
}

# Starts fake_apiserver.py (objects from $WORK/objects, requests logged to $WORK/requests.log)
# and writes $WORK/kubeconfig pointing at it; stopped on exit.
start_fake_apiserver() {
  command -v python3 >/dev/null 2>&1 || skip "python3 not found"
  mkdir -p "$WORK/objects"
  python3 "$HERE/fake_apiserver.py" --objects-dir "$WORK/objects" --log "$WORK/requests.log" > "$WORK/port" &
  fake_pid=$!
  trap 'kill "$fake_pid" 2>/dev/null; rm -rf "$WORK"' EXIT
  for _ in $(seq 50); do [ -s "$WORK/port" ] && break; sleep 0.1; done
  [ -s "$WORK/port" ] || { echo "FAIL: fake_apiserver.py did not start"; exit 1; }
  cat > "$WORK/kubeconfig" <<KUBECONFIG
apiVersion: v1
kind: Config
clusters: [{name: fake, cluster: {server: "http://127.0.0.1:$(head -n1 "$WORK/port")"}}]
users: [{name: fake, user: {token: fake}}]
contexts: [{name: fake, context: {cluster: fake, user: fake, namespace: oomcast}}]
current-context: fake
KUBECONFIG
}

check=${1:-}
case "$check" in
  lint)
    need_helm
    # shellcheck disable=SC2046
    "$HELM" lint --strict "$CHART" --namespace oomcast $(values_args "${2:?values}")
    ;;
  template)
    need_helm
    need_node_modules
    render "${2:?values}" > "$WORK/rendered.yaml"
    echo "helm template: $(grep -c '^kind:' "$WORK/rendered.yaml") objects"
    node "$HERE/validate.mjs" "$WORK/rendered.yaml"
    node "$HERE/check_policy.mjs" "$WORK/rendered.yaml"
    ;;
  rules)
    need_helm
    need_node_modules
    need_promtool
    # Every alert on: the standalone predictor adds OomcastPredictorDown.
    render default --set prometheusRule.enabled=true --set predictor.enabled=true > "$WORK/rendered.yaml"
    node "$HERE/extract_rules.mjs" "$WORK/rendered.yaml" > "$WORK/rules.yaml"
    cp "$HERE/rules_test.yaml" "$WORK/rules_test.yaml"
    promtool check rules "$WORK/rules.yaml"
    (cd "$WORK" && promtool test rules rules_test.yaml)
    # Every alert has its runbook section in the chart README (runbook_url points there), and a
    # unit test in rules_test.yaml.
    for alert in $(sed -n 's/^ *- alert: *//p' "$WORK/rules.yaml"); do
      grep -qx "### $alert" "$CHART/README.md" || { echo "FAIL: no runbook section '### $alert' in charts/oomcast/README.md"; exit 1; }
      grep -q "alertname: $alert\$" "$HERE/rules_test.yaml" || { echo "FAIL: no promtool test of $alert in rules_test.yaml"; exit 1; }
    done
    echo "every alert has a runbook section and a unit test"
    # The rules as configured in the all-features values must load too.
    render values-all-features.yaml > "$WORK/all.yaml"
    node "$HERE/extract_rules.mjs" "$WORK/all.yaml" > "$WORK/all-rules.yaml"
    promtool check rules "$WORK/all-rules.yaml"
    ;;
  dashboard)
    need_helm
    need_node_modules
    need_promtool
    render values-all-features.yaml > "$WORK/rendered.yaml"
    node "$HERE/check_metrics.mjs" "$WORK/rendered.yaml" --promql-rules "$WORK/dashboard-queries.yaml"
    promtool check rules "$WORK/dashboard-queries.yaml"
    ;;
  crd-examples)
    need_node_modules
    node "$HERE/validate.mjs" --crd-examples
    ;;
  readme-examples)
    need_node_modules
    node "$HERE/validate.mjs" --readme
    ;;
  drift)
    need_helm
    HELM="$HELM" "$ROOT/scripts/render-manifests.sh" --check
    ;;
  dockerfile)
    need_node
    node "$HERE/check_dockerfile.mjs"
    ;;
  validator-selftest)
    need_node_modules
    set +e
    node "$HERE/validate.mjs" "$HERE/testdata/invalid-objects.yaml" > "$WORK/out.txt" 2>&1
    rc=$?
    set -e
    cat "$WORK/out.txt"
    [ "$rc" = 1 ] || { echo "FAIL: validate.mjs exited $rc on invalid objects, want 1"; exit 1; }
    missing=0
    while IFS= read -r want; do
      [ -z "$want" ] && continue
      grep -qF -- "$want" "$WORK/out.txt" || { echo "FAIL: expected in the output: $want"; missing=1; }
    done < "$HERE/testdata/invalid-objects.expected"
    [ "$missing" = 0 ] || exit 1
    grep -q "validate: 1 valid, " "$WORK/out.txt" || { echo "FAIL: the one valid object was not accepted"; exit 1; }
    # The CRD path: objects of a CRD's kind against its openAPIV3Schema (a stand-in CRD).
    set +e
    node "$HERE/validate.mjs" "$HERE/testdata/fixture-crd.yaml" "$HERE/testdata/fixture-crd-objects.yaml" > "$WORK/crd.txt" 2>&1
    rc=$?
    set -e
    cat "$WORK/crd.txt"
    [ "$rc" = 1 ] || { echo "FAIL: validate.mjs exited $rc on the CRD fixture, want 1"; exit 1; }
    while IFS= read -r want; do
      [ -z "$want" ] && continue
      grep -qF -- "$want" "$WORK/crd.txt" || { echo "FAIL: expected in the output: $want"; missing=1; }
    done < "$HERE/testdata/fixture-crd.expected"
    [ "$missing" = 0 ] || exit 1
    echo "validator-selftest: every invalid object rejected for the expected reason"
    ;;
  cert-lookup)
    need_helm
    command -v openssl >/dev/null 2>&1 || skip "openssl not found"
    start_fake_apiserver
    server_render() { # NAME [helm args...]
      local name=$1
      shift
      KUBECONFIG="$WORK/kubeconfig" "$HELM" template oomcast "$CHART" --namespace oomcast \
        --dry-run=server --disable-openapi-validation --set metricsAdapter.tls.source=helm "$@" > "$WORK/$name.yaml"
      for key in tls.crt tls.key ca.crt caBundle; do
        sed -n "s/^  $key: //p" "$WORK/$name.yaml" > "$WORK/$name.$key"
        [ "$(wc -l < "$WORK/$name.$key")" = 1 ] || { echo "FAIL: $name: expected one $key"; exit 1; }
      done
      sed -n "s/^  ca.key: //p" "$WORK/$name.yaml" > "$WORK/$name.ca.key"
    }
    secret_path="$WORK/objects/oomcast.oomcast-metrics-adapter-tls.json"
    # RENDER [without-ca|legacy] [CA_NOT_AFTER CERT_NOT_AFTER]: the Secret as a release left it.
    # legacy: as chart versions before renewal left it (no ca.key, no expiry annotations).
    seed_secret() {
      local ca_after=${3:-$(sed -n 's/^    oomcast.io\/ca-not-after: "\(.*\)"$/\1/p' "$WORK/$1.yaml")}
      local cert_after=${4:-$(sed -n 's/^    oomcast.io\/serving-cert-not-after: "\(.*\)"$/\1/p' "$WORK/$1.yaml")}
      {
        printf '{"apiVersion":"v1","kind":"Secret","type":"kubernetes.io/tls","metadata":{"name":"oomcast-metrics-adapter-tls","namespace":"oomcast","labels":{"app.kubernetes.io/managed-by":"Helm"},"annotations":{"meta.helm.sh/release-name":"oomcast","meta.helm.sh/release-namespace":"oomcast"'
        [ "${2:-}" = legacy ] || printf ',"oomcast.io/ca-not-after":"%s","oomcast.io/serving-cert-not-after":"%s"' "$ca_after" "$cert_after"
        printf '}},"data":{"tls.crt":"%s","tls.key":"%s"' "$(cat "$WORK/$1.tls.crt")" "$(cat "$WORK/$1.tls.key")"
        [ "${2:-}" = without-ca ] || printf ',"ca.crt":"%s"' "$(cat "$WORK/$1.ca.crt")"
        case "${2:-}" in legacy|without-ca) ;; *) printf ',"ca.key":"%s"' "$(cat "$WORK/$1.ca.key")" ;; esac
        printf '}}'
      } > "$secret_path"
    }
    verify() { # RENDER: its serving certificate verifies against its caBundle and matches its key
      base64 -d < "$WORK/$1.caBundle" > "$WORK/$1.bundle.pem"
      base64 -d < "$WORK/$1.tls.crt" > "$WORK/$1.tls.pem"
      base64 -d < "$WORK/$1.tls.key" > "$WORK/$1.key.pem"
      openssl verify -CAfile "$WORK/$1.bundle.pem" "$WORK/$1.tls.pem" > /dev/null || { echo "FAIL: $1: serving certificate not trusted by the caBundle"; exit 1; }
      [ "$(openssl x509 -in "$WORK/$1.tls.pem" -noout -pubkey | openssl sha256)" = "$(openssl pkey -in "$WORK/$1.key.pem" -pubout | openssl sha256)" ] \
        || { echo "FAIL: $1: tls.key does not match tls.crt"; exit 1; }
    }
    now=$(date +%s)

    # 1. First install: no Secret yet, so a new CA and serving certificate.
    server_render first
    grep -qx /api/v1/namespaces/oomcast/secrets/oomcast-metrics-adapter-tls "$WORK/requests.log" \
      || { echo "FAIL: the chart did not look up the existing Secret"; exit 1; }
    cmp -s "$WORK/first.ca.crt" "$WORK/first.caBundle" || { echo "FAIL: caBundle is not the Secret's ca.crt"; exit 1; }
    [ -s "$WORK/first.ca.key" ] || { echo "FAIL: the Secret lacks the CA key that renewals sign with"; exit 1; }
    verify first
    sans=$(openssl x509 -in "$WORK/first.tls.pem" -noout -ext subjectAltName)
    echo "$sans"
    for name in oomcast-metrics-adapter oomcast-metrics-adapter.oomcast.svc oomcast-metrics-adapter.oomcast.svc.cluster.local; do
      grep -q "DNS:$name\(,\|\$\)" <<< "$sans" || { echo "FAIL: serving certificate lacks DNS:$name"; exit 1; }
    done
    openssl x509 -in "$WORK/first.tls.pem" -noout -checkend $((300 * 24 * 3600)) || { echo "FAIL: serving certificate expires within 300 days"; exit 1; }
    # The recorded expiry is the certificate's (within the render's few seconds).
    real=$(date -d "$(openssl x509 -in "$WORK/first.tls.pem" -noout -enddate | cut -d= -f2)" +%s)
    recorded=$(sed -n 's/^    oomcast.io\/serving-cert-not-after: "\(.*\)"$/\1/p' "$WORK/first.yaml")
    [ $((recorded - real)) -ge -60 ] && [ $((recorded - real)) -le 60 ] || { echo "FAIL: recorded expiry $recorded, certificate's $real"; exit 1; }
    # The adapter mounts only the serving pair, never the CA key.
    grep -q "key: ca.key" "$WORK/first.yaml" && { echo "FAIL: the CA key is mounted"; exit 1; }

    # 2. Upgrade: the Secret exists and is far from expiry, so the same certificate, key, caBundle.
    seed_secret first
    server_render upgrade
    for key in tls.crt tls.key ca.crt caBundle ca.key; do
      cmp -s "$WORK/first.$key" "$WORK/upgrade.$key" || { echo "FAIL: upgrade changed $key instead of keeping the existing Secret"; exit 1; }
    done

    # 3. The serving certificate expires within renewBeforeDays (10 days left): an upgrade
    # renews it, signed by the same CA, and the caBundle stays as it is (no TLS break).
    seed_secret first "" "$((now + 3000 * 86400))" "$((now + 10 * 86400))"
    server_render renew-cert
    cmp -s "$WORK/first.tls.crt" "$WORK/renew-cert.tls.crt" && { echo "FAIL: a certificate 10 days from expiry was kept"; exit 1; }
    cmp -s "$WORK/first.caBundle" "$WORK/renew-cert.caBundle" || { echo "FAIL: renewing the serving certificate changed the caBundle"; exit 1; }
    verify renew-cert
    openssl verify -CAfile "$WORK/first.bundle.pem" "$WORK/renew-cert.tls.pem" > /dev/null || { echo "FAIL: renewed certificate not trusted by the old caBundle"; exit 1; }

    # 4. The CA expires within renewBeforeDays: a new CA and certificate, and the caBundle holds
    # both CAs, so the old certificate (still served until the pods see the new Secret) verifies.
    seed_secret first "" "$((now + 5 * 86400))" "$((now + 5 * 86400))"
    server_render renew-ca
    cmp -s "$WORK/first.ca.key" "$WORK/renew-ca.ca.key" && { echo "FAIL: a CA 5 days from expiry was kept"; exit 1; }
    verify renew-ca
    [ "$(grep -c 'BEGIN CERTIFICATE' "$WORK/renew-ca.bundle.pem")" = 2 ] || { echo "FAIL: the caBundle should hold the new and the old CA"; exit 1; }
    openssl verify -CAfile "$WORK/renew-ca.bundle.pem" "$WORK/first.tls.pem" > /dev/null || { echo "FAIL: the old serving certificate is not trusted during the CA change"; exit 1; }
    # The next upgrade signs with the new CA (the first certificate of ca.crt).
    seed_secret renew-ca "" "$((now + 3000 * 86400))" "$((now + 10 * 86400))"
    server_render after-ca
    verify after-ca
    cmp -s "$WORK/renew-ca.caBundle" "$WORK/after-ca.caBundle" || { echo "FAIL: caBundle changed after the CA renewal"; exit 1; }

    # 5. A Secret of an earlier chart version (no ca.key) is kept as it is.
    seed_secret first legacy
    server_render legacy
    for key in tls.crt tls.key caBundle; do
      cmp -s "$WORK/first.$key" "$WORK/legacy.$key" || { echo "FAIL: an earlier version's Secret was replaced ($key)"; exit 1; }
    done

    # 6. A Secret without ca.crt (not one the chart made) is replaced by a new pair.
    seed_secret first without-ca
    server_render incomplete
    cmp -s "$WORK/first.tls.crt" "$WORK/incomplete.tls.crt" && { echo "FAIL: an incomplete Secret was kept"; exit 1; }
    cmp -s "$WORK/incomplete.ca.crt" "$WORK/incomplete.caBundle" || { echo "FAIL: caBundle is not the new ca.crt"; exit 1; }
    verify incomplete
    echo "cert-lookup: generated certificate valid for the Service, trusted by the caBundle, kept on upgrade, renewed near expiry without a caBundle break"
    ;;
  apiservice-guard)
    need_helm
    start_fake_apiserver
    apisvc="$WORK/objects/_cluster.apiservices.v1beta1.external.metrics.k8s.io.json"
    seed_apiservice() { # RELEASE_NAME RELEASE_NAMESPACE SERVICE_NS SERVICE_NAME (empty release: not Helm's)
      local ann=""
      [ -n "$1" ] && ann=$(printf '"labels":{"app.kubernetes.io/managed-by":"Helm"},"annotations":{"meta.helm.sh/release-name":"%s","meta.helm.sh/release-namespace":"%s"},' "$1" "$2")
      printf '{"apiVersion":"apiregistration.k8s.io/v1","kind":"APIService","metadata":{%s"name":"v1beta1.external.metrics.k8s.io"},"spec":{"group":"external.metrics.k8s.io","version":"v1beta1","groupPriorityMinimum":100,"versionPriority":100,"service":{"namespace":"%s","name":"%s","port":443}}}' \
        "$ann" "$3" "$4" > "$apisvc"
    }
    guarded_render() { # NAME [helm args...]: exit status of the render, output in $WORK/NAME.out
      local name=$1
      shift
      KUBECONFIG="$WORK/kubeconfig" "$HELM" template oomcast "$CHART" --namespace oomcast \
        --dry-run=server --disable-openapi-validation "$@" > "$WORK/$name.out" 2>&1
    }
    want_fail() { # NAME EXPECTED_TEXT [helm args...]
      local name=$1 want=$2
      shift 2
      if guarded_render "$name" "$@"; then echo "FAIL: $name: rendered, want a refusal"; exit 1; fi
      grep -qF -- "$want" "$WORK/$name.out" || { echo "FAIL: $name: want \"$want\" in:"; cat "$WORK/$name.out"; exit 1; }
      echo "$name: refused: $(grep -o 'execution error.*' "$WORK/$name.out" | cut -c1-160)..."
    }
    upstream=(--set metricsAdapter.upstream.url=https://keda-operator-metrics-apiserver.keda.svc:443)

    # No APIService yet: renders, and looked it up.
    guarded_render none || { cat "$WORK/none.out"; exit 1; }
    grep -qx /apis/apiregistration.k8s.io/v1/apiservices/v1beta1.external.metrics.k8s.io "$WORK/requests.log" \
      || { echo "FAIL: the chart did not look up the existing APIService"; exit 1; }
    # KEDA's (its Helm release owns it): refused, naming the owner.
    seed_apiservice keda keda keda keda-operator-metrics-apiserver
    want_fail keda "belongs to another provider (Helm release keda/keda, service keda/keda-operator-metrics-apiserver)"
    want_fail keda-upgrade-values "belongs to another provider" "${upstream[@]}"
    # One applied with kubectl (prometheus-adapter's manifests): refused too.
    seed_apiservice "" "" monitoring prometheus-adapter
    want_fail kubectl-made "belongs to another provider (service monitoring/prometheus-adapter)"
    # Another oomcast release of the same name in another namespace is not this one.
    seed_apiservice oomcast other other oomcast-metrics-adapter
    want_fail other-namespace "Helm release other/oomcast"
    # takeOver without pass-through would cut the other provider off: refused.
    seed_apiservice keda keda keda keda-operator-metrics-apiserver
    want_fail takeover-no-upstream "needs metricsAdapter.upstream.url" --set metricsAdapter.apiService.takeOver=true
    # takeOver with pass-through: rendered, kept on uninstall, Ready while forecasts are stale.
    # (helm --take-ownership, as the chart README says: without it Helm itself refuses.)
    guarded_render takeover --take-ownership --set metricsAdapter.apiService.takeOver=true "${upstream[@]}" || { cat "$WORK/takeover.out"; exit 1; }
    grep -A20 '^kind: APIService' "$WORK/takeover.out" | grep -q 'helm.sh/resource-policy: keep' \
      || { echo "FAIL: a taken-over APIService must be kept on uninstall"; exit 1; }
    grep -q -- '--upstream-external-metrics=https://keda-operator-metrics-apiserver.keda.svc:443' "$WORK/takeover.out" \
      || { echo "FAIL: no pass-through flag"; exit 1; }
    grep -A3 'readinessProbe:' "$WORK/takeover.out" | grep -q 'path: /livez' \
      || { echo "FAIL: with pass-through the adapter's readiness must not wait for forecasts"; exit 1; }
    # apiService.create=false (KEDA's prometheus trigger path): renders, no APIService.
    guarded_render no-apiservice --set metricsAdapter.apiService.create=false || { cat "$WORK/no-apiservice.out"; exit 1; }
    grep -q '^kind: APIService' "$WORK/no-apiservice.out" && { echo "FAIL: APIService rendered with create=false"; exit 1; }
    # Its own (an upgrade of this release): renders without takeOver.
    seed_apiservice oomcast oomcast oomcast oomcast-metrics-adapter
    guarded_render own || { cat "$WORK/own.out"; exit 1; }
    grep -A20 '^kind: APIService' "$WORK/own.out" | grep -q 'resource-policy' && { echo "FAIL: own APIService should be deleted on uninstall"; exit 1; }
    echo "apiservice-guard: a foreign APIService is refused unless taken over with pass-through; own upgrades render"
    ;;
  crd-upgrade)
    need_helm
    need_node_modules
    # Nothing in crds/ (which helm upgrade skips): the CRD is a template, applied on every upgrade.
    [ -z "$("$HELM" show crds "$CHART")" ] || { echo "FAIL: the chart has CRDs in crds/, which helm upgrade never updates"; exit 1; }
    render default > "$WORK/rendered.yaml"
    render default --set crds.install=false > "$WORK/no-crds.yaml"
    grep -q '^kind: CustomResourceDefinition' "$WORK/no-crds.yaml" && { echo "FAIL: crds.install=false still renders the CRD"; exit 1; }
    node --input-type=module - "$WORK/rendered.yaml" "$CHART/files/crds/memoryscaler.yaml" <<'NODE'
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
const require = createRequire(process.env.OOMCAST_SOURCE_DIR + "/tests/chart/package.json");
const YAML = require("yaml");
const [rendered, source] = process.argv.slice(2);
const crds = YAML.parseAllDocuments(readFileSync(rendered, "utf8")).map((d) => d.toJS()).filter((o) => o?.kind === "CustomResourceDefinition");
if (crds.length !== 1) { console.log(`FAIL: ${crds.length} CRDs rendered, want 1`); process.exit(1); }
const want = YAML.parse(readFileSync(source, "utf8"));
const got = crds[0];
if (got.metadata.annotations?.["helm.sh/resource-policy"] !== "keep") { console.log("FAIL: the CRD lacks helm.sh/resource-policy: keep (uninstall would delete every MemoryScaler)"); process.exit(1); }
if (got.metadata.labels?.["app.kubernetes.io/managed-by"] !== "Helm") { console.log("FAIL: the CRD lacks the release's labels"); process.exit(1); }
// Key order aside (helm's toYaml sorts keys), the same spec.
const canon = (v) => Array.isArray(v) ? v.map(canon) : v && typeof v === "object" ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, canon(v[k])])) : v;
if (JSON.stringify(canon(got.spec)) !== JSON.stringify(canon(want.spec))) { console.log("FAIL: the rendered CRD's spec differs from files/crds/memoryscaler.yaml"); process.exit(1); }
console.log(`crd-upgrade: ${got.metadata.name} rendered as a template (spec as in files/crds/, kept on uninstall)`);
NODE
    node "$HERE/validate.mjs" "$WORK/rendered.yaml" > /dev/null
    ;;
  keda)
    need_node_modules
    need_promtool
    # The walkthrough's ScaledObject against KEDA's schema, then its exact query in Prometheus'
    # engine over oomcast's exported series (two adapter replicas export each forecast).
    node "$HERE/validate.mjs" --readme | grep -q 'ok   1 keda.sh/v1alpha1/ScaledObject' \
      || { echo "FAIL: the ScaledObject of docs/install-next-to-keda.md is missing or invalid"; exit 1; }
    query=$(node --input-type=module - "$ROOT/docs/install-next-to-keda.md" <<'NODE'
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
const require = createRequire(process.env.OOMCAST_SOURCE_DIR + "/tests/chart/package.json");
const YAML = require("yaml");
const text = readFileSync(process.argv[2], "utf8");
for (const m of text.matchAll(/```ya?ml\n([\s\S]*?)```/g)) {
  for (const d of YAML.parseAllDocuments(m[1])) {
    const o = d.toJS();
    if (o?.kind !== "ScaledObject") continue;
    const t = o.spec.triggers.find((x) => x.type === "prometheus");
    if (t) { console.log(t.metadata.query); process.exit(0); }
  }
}
process.exit(1);
NODE
)
    echo "ScaledObject query: $query"
    series() { # POD INSTANCE VALUES [NAMESPACE]
      printf "      - series: 'memory_oom_risk{job=\"oomcast-metrics-adapter\",instance=\"%s\",namespace=\"%s\",pod=\"%s\",container=\"app\"}'\n        values: '%s'\n" "$2" "${4:-shop}" "$1" "$3"
    }
    {
      printf 'rule_files: []\nevaluation_interval: 30s\ntests:\n  - interval: 30s\n    input_series:\n'
      # Two adapter replicas export each forecast; web pods of Deployment web, and others.
      series web-7d4b9c-x2k9p a '0.1 0.3 0.8 0.8 _ _ _ _ _ _ _ _'
      series web-7d4b9c-x2k9p b '0.1 0.3 0.8 0.8 _ _ _ _ _ _ _ _'
      series web-7d4b9c-q8r2m a '0.2 0.2 0.2 0.2 _ _ _ _ _ _ _ _'
      series db-0 a '0.99 0.99 0.99 0.99 _ _ _ _ _ _ _ _'
      series webhook-5f6d7c-abcde a '0.95 0.95 0.95 0.95 _ _ _ _ _ _ _ _'
      series web-7d4b9c-zzzzz a '1 1 1 1 _ _ _ _ _ _ _ _' other
      printf '    promql_expr_test:\n'
      printf "      - expr: '%s'\n        eval_time: 1m\n        exp_samples:\n          - labels: '{}'\n            value: 0.8\n" "$query"
      # Forecasts gone (stale: the series disappear): no value, which KEDA with
      # ignoreNullValues "false" reports as an error (the HPA holds), never as zero.
      printf "      - expr: '%s'\n        eval_time: 7m\n        exp_samples: []\n" "$query"
    } > "$WORK/keda_test.yaml"
    (cd "$WORK" && promtool test rules keda_test.yaml)
    echo "keda: the ScaledObject validates and its query answers the riskiest web container's risk (0.8), nothing when stale"
    ;;
  *)
    echo "usage: $0 lint|template VALUES | rules | dashboard | crd-examples | readme-examples | cert-lookup | apiservice-guard | crd-upgrade | keda | drift | dockerfile | validator-selftest" >&2
    exit 2
    ;;
esac
