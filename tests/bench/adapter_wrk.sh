#!/usr/bin/env bash
# Benchmark of oomcast-metrics-adapter's metric endpoint (not a CTest test).
#
#   tests/bench/adapter_wrk.sh [ADAPTER_BIN] [DURATION_SECONDS]
#
# 10 000 tracked containers (namespace bench, label app=app-0..app-199, 50 containers each),
# a selector matching 50 of them (app=app-7), wrk over TLS with keep-alive (-t2 -c32) for 30 s,
# authenticated with a bearer token (TokenReview and SubjectAccessReview answered by
# tests/support/authn_standin.py, then cached by the adapter as in production).
# Reports requests/s, p50/p99 latency, errors and the adapter's resident memory; then the same
# selection as an instant query against a real Prometheus holding the same 10 000 series
# (loaded with promtool tsdb create-blocks-from openmetrics), with the same wrk settings and
# sequentially (one client), i.e. the round trip prometheus-adapter makes per request.
# The forecasts come from --fake-forecasts (TEST ONLY): this measures the serving path.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
ADAPTER=$(realpath "${1:-$ROOT/build-adapter/metrics-adapter/oomcast-metrics-adapter}")
DURATION=${2:-30}
THREADS=${WRK_THREADS:-2}
CONNS=${WRK_CONNECTIONS:-32}
for tool in wrk openssl python3 prometheus promtool curl; do
  command -v "$tool" >/dev/null || { echo "missing $tool" >&2; exit 1; }
done

WORK=$(mktemp -d /tmp/oomcast-bench.XXXXXX)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if [ -n "${KEEP:-}" ]; then echo "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# --- certificates -----------------------------------------------------------------------------
cd "$WORK"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key -out ca.crt \
  -days 1 -subj /CN=bench-ca -addext basicConstraints=critical,CA:TRUE 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout tls.key -out tls.csr \
  -subj /CN=127.0.0.1 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' > ext
openssl x509 -req -in tls.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out tls.crt -days 1 \
  -extfile ext 2>/dev/null

# --- data: 10 000 containers ------------------------------------------------------------------
NOW=$(date +%s)
python3 - "$NOW" <<'PY'
import json, sys
now = int(sys.argv[1])
fs, om = [], []
for i in range(10000):
    app = "app-%d" % (i % 200)
    fs.append({"namespace": "bench", "pod": "pod-%d" % i, "container": "c",
               "labels": {"app": app, "team": "t%d" % (i % 7)},
               "growthRate": 1024 * i, "acceleration": 0.5, "etaSeconds": 600 + i, "risk": (i % 100) / 100})
json.dump({"ageSeconds": 1, "staleAfterSeconds": 100000, "forecasts": fs}, open("forecasts.json", "w"))
with open("series.om", "w") as f:
    f.write("# TYPE memory_oom_risk gauge\n")
    for i in range(10000):
        labels = 'namespace="bench",pod="pod-%d",container="c",app="app-%d",team="t%d"' % (i, i % 200, i % 7)
        for t in range(now - 1800, now + 1, 60):
            f.write('memory_oom_risk{%s} %g %d\n' % (labels, (i % 100) / 100, t))
    f.write("# EOF\n")
json.dump({"callerToken": "adapter-token",
           "tokens": {"bench-token": {"username": "bench", "groups": ["bench"]}},
           "rules": [{"user": "bench", "verb": "list", "namespace": "*", "resource": "*",
                      "group_": "external.metrics.k8s.io"},
                     {"user": "bench", "verb": "get", "nonResourcePath": "/metrics"}]},
          open("standin.json", "w"))
PY

# --- the adapter --------------------------------------------------------------------------------
python3 "$ROOT/tests/support/authn_standin.py" --config standin.json --cert tls.crt --key tls.key \
  > standin.out 2>/dev/null &
PIDS+=($!)
for _ in $(seq 50); do grep -q PORT standin.out 2>/dev/null && break; sleep 0.1; done
STANDIN_PORT=$(awk '/PORT/{print $2}' standin.out)
CA_B64=$(base64 -w0 ca.crt)
cat > kubeconfig <<KC
apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://127.0.0.1:$STANDIN_PORT", certificate-authority-data: $CA_B64}}]
users: [{name: u, user: {token: adapter-token}}]
contexts: [{name: x, context: {cluster: c, user: u}}]
current-context: x
KC
PORT=$(free_port)
"$ADAPTER" --secure-port "$PORT" --bind-address 127.0.0.1 --tls-cert-file tls.crt \
  --tls-private-key-file tls.key --kubeconfig kubeconfig --authentication-skip-lookup \
  --fake-forecasts forecasts.json --io-threads 2 --log-level warn 2> adapter.log &
ADAPTER_PID=$!
PIDS+=($ADAPTER_PID)
URL="https://127.0.0.1:$PORT/apis/external.metrics.k8s.io/v1beta1/namespaces/bench/memory_oom_risk?labelSelector=app%3Dapp-7"
for _ in $(seq 100); do
  curl -sk -o /dev/null -H 'Authorization: Bearer bench-token' "$URL" && break
  sleep 0.1
done
ITEMS=$(curl -sk -H 'Authorization: Bearer bench-token' "$URL" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["items"]))')
echo "adapter: selector app=app-7 matches $ITEMS of 10000 containers"
[ "$ITEMS" = 50 ] || { echo "unexpected item count" >&2; exit 1; }
RSS_IDLE=$(ps -o rss= -p "$ADAPTER_PID" | tr -d ' ')

echo "== wrk -t$THREADS -c$CONNS -d${DURATION}s (TLS keep-alive) against the adapter"
wrk -t"$THREADS" -c"$CONNS" -d"${DURATION}s" --latency -H 'Authorization: Bearer bench-token' \
  "$URL" | tee wrk-adapter.txt
RSS_LOAD=$(ps -o rss= -p "$ADAPTER_PID" | tr -d ' ')
echo "adapter RSS: idle ${RSS_IDLE} KiB, after load ${RSS_LOAD} KiB"
curl -sk -H 'Authorization: Bearer bench-token' "https://127.0.0.1:$PORT/metrics" | grep -E '^oomcast_adapter_requests_total' || true

# --- Prometheus, same 10 000 series ---------------------------------------------------------------
promtool tsdb create-blocks-from openmetrics series.om prom-data >/dev/null
PPORT=$(free_port)
echo 'global: {scrape_interval: 1m}' > prometheus.yml
prometheus --config.file=prometheus.yml --storage.tsdb.path=prom-data --web.listen-address=127.0.0.1:$PPORT \
  --storage.tsdb.retention.time=10y --log.level=warn > prometheus.log 2>&1 &
PIDS+=($!)
for _ in $(seq 300); do curl -sf "http://127.0.0.1:$PPORT/-/ready" >/dev/null && break; sleep 0.1; done
PQ="http://127.0.0.1:$PPORT/api/v1/query?query=memory_oom_risk%7Bnamespace%3D%22bench%22%2Capp%3D%22app-7%22%7D&time=$NOW"
PITEMS=$(curl -s "$PQ" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["data"]["result"]))')
echo "prometheus: instant query matches $PITEMS series"
echo "== sequential instant queries against Prometheus (one client, 200 queries)"
python3 - "$PQ" <<'PY'
import sys, time, http.client, urllib.parse
u = urllib.parse.urlsplit(sys.argv[1])
c = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
lat = []
for _ in range(200):
    t = time.perf_counter()
    c.request("GET", u.path + "?" + u.query)
    c.getresponse().read()
    lat.append((time.perf_counter() - t) * 1000)
lat.sort()
print("prometheus sequential: p50 %.2f ms  p99 %.2f ms" % (lat[100], lat[197]))
PY
echo "== the same for the adapter (one client, TLS keep-alive, 200 requests)"
python3 - "$URL" "$WORK/ca.crt" <<'PY'
import sys, time, http.client, urllib.parse, ssl
u = urllib.parse.urlsplit(sys.argv[1])
ctx = ssl.create_default_context(cafile=sys.argv[2])
c = http.client.HTTPSConnection(u.hostname, u.port, timeout=10, context=ctx)
lat = []
for _ in range(200):
    t = time.perf_counter()
    c.request("GET", u.path + "?" + u.query, headers={"Authorization": "Bearer bench-token"})
    c.getresponse().read()
    lat.append((time.perf_counter() - t) * 1000)
lat.sort()
print("adapter sequential: p50 %.2f ms  p99 %.2f ms" % (lat[100], lat[197]))
PY
echo "== wrk -t$THREADS -c$CONNS -d${DURATION}s against Prometheus (plain HTTP)"
wrk -t"$THREADS" -c"$CONNS" -d"${DURATION}s" --latency "$PQ" | tee wrk-prometheus.txt
