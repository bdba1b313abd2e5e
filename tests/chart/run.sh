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
  "$HELM" template oomcast "$CHART" --namespace oomcast --include-crds $(values_args "$values") "$@"
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
    command -v python3 >/dev/null 2>&1 || skip "python3 not found"
    command -v openssl >/dev/null 2>&1 || skip "openssl not found"
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
    server_render() {
      KUBECONFIG="$WORK/kubeconfig" "$HELM" template oomcast "$CHART" --namespace oomcast \
        --dry-run=server --disable-openapi-validation > "$WORK/$1.yaml"
      for key in tls.crt tls.key ca.crt caBundle; do
        sed -n "s/^  $key: //p" "$WORK/$1.yaml" > "$WORK/$1.$key"
        [ "$(wc -l < "$WORK/$1.$key")" = 1 ] || { echo "FAIL: $1: expected one $key"; exit 1; }
      done
    }
    secret_path="$WORK/objects/oomcast.oomcast-metrics-adapter-tls.json"
    seed_secret() { # RENDER [without-ca]: the Secret as an earlier release of the chart left it
      {
        printf '{"apiVersion":"v1","kind":"Secret","type":"kubernetes.io/tls","metadata":{"name":"oomcast-metrics-adapter-tls","namespace":"oomcast","labels":{"app.kubernetes.io/managed-by":"Helm"},"annotations":{"meta.helm.sh/release-name":"oomcast","meta.helm.sh/release-namespace":"oomcast"}},"data":{'
        printf '"tls.crt":"%s","tls.key":"%s"' "$(cat "$WORK/$1.tls.crt")" "$(cat "$WORK/$1.tls.key")"
        [ "${2:-}" = without-ca ] || printf ',"ca.crt":"%s"' "$(cat "$WORK/$1.ca.crt")"
        printf '}}'
      } > "$secret_path"
    }

    # 1. First install: no Secret yet, so a new CA and serving certificate.
    server_render first
    grep -qx /api/v1/namespaces/oomcast/secrets/oomcast-metrics-adapter-tls "$WORK/requests.log" \
      || { echo "FAIL: the chart did not look up the existing Secret"; exit 1; }
    cmp -s "$WORK/first.ca.crt" "$WORK/first.caBundle" || { echo "FAIL: caBundle is not the Secret's ca.crt"; exit 1; }
    base64 -d < "$WORK/first.ca.crt" > "$WORK/ca.pem"
    base64 -d < "$WORK/first.tls.crt" > "$WORK/tls.pem"
    base64 -d < "$WORK/first.tls.key" > "$WORK/key.pem"
    openssl verify -CAfile "$WORK/ca.pem" "$WORK/tls.pem"
    sans=$(openssl x509 -in "$WORK/tls.pem" -noout -ext subjectAltName)
    echo "$sans"
    for name in oomcast-metrics-adapter oomcast-metrics-adapter.oomcast.svc oomcast-metrics-adapter.oomcast.svc.cluster.local; do
      grep -q "DNS:$name\(,\|\$\)" <<< "$sans" || { echo "FAIL: serving certificate lacks DNS:$name"; exit 1; }
    done
    [ "$(openssl x509 -in "$WORK/tls.pem" -noout -pubkey | openssl sha256)" = "$(openssl pkey -in "$WORK/key.pem" -pubout | openssl sha256)" ] \
      || { echo "FAIL: tls.key does not match tls.crt"; exit 1; }
    openssl x509 -in "$WORK/tls.pem" -noout -checkend $((365 * 24 * 3600)) || { echo "FAIL: serving certificate expires within a year"; exit 1; }

    # 2. Upgrade: the Secret exists, so the same certificate, key and caBundle.
    seed_secret first
    server_render upgrade
    for key in tls.crt tls.key ca.crt caBundle; do
      cmp -s "$WORK/first.$key" "$WORK/upgrade.$key" || { echo "FAIL: upgrade changed $key instead of keeping the existing Secret"; exit 1; }
    done

    # 3. A Secret without ca.crt (not one the chart made) is replaced by a new pair.
    seed_secret first without-ca
    server_render incomplete
    cmp -s "$WORK/first.tls.crt" "$WORK/incomplete.tls.crt" && { echo "FAIL: an incomplete Secret was kept"; exit 1; }
    cmp -s "$WORK/incomplete.ca.crt" "$WORK/incomplete.caBundle" || { echo "FAIL: caBundle is not the new ca.crt"; exit 1; }
    echo "cert-lookup: generated certificate valid for the Service, trusted by the caBundle, kept on upgrade"
    ;;
  *)
    echo "usage: $0 lint|template VALUES | rules | dashboard | crd-examples | readme-examples | cert-lookup | drift | dockerfile | validator-selftest" >&2
    exit 2
    ;;
esac
