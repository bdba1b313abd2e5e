#!/bin/sh
# Builds one libFuzzer target with clang++ and runs it for a bounded time.
# Usage: run_fuzzer.sh TARGET SOURCE_DIR BUILD_DIR SECONDS
# Exit 77 (CTest SKIP) when clang++ or libFuzzer is not available.
set -eu
target=$1
src=$2
out=$3
seconds=${4:-30}
CXX=${OOMCAST_FUZZ_CXX:-clang++}
if ! command -v "$CXX" >/dev/null 2>&1; then
  echo "SKIP: $CXX not found"
  exit 77
fi
mkdir -p "$out/corpus_$target"
probe="$out/probe_$target.cc"
echo 'extern "C" int LLVMFuzzerTestOneInput(const unsigned char*, unsigned long) { return 0; }' > "$probe"
if ! "$CXX" -fsanitize=fuzzer "$probe" -o "$out/probe_$target" >/dev/null 2>&1; then
  echo "SKIP: $CXX cannot link libFuzzer (-fsanitize=fuzzer)"
  exit 77
fi
case "$target" in
  label_selector) sources="lib/src/label_selector.cc lib/src/status.cc" ;;
  quantity) sources="lib/src/units.cc lib/src/status.cc" ;;
  http_request) sources="lib/src/http_server.cc lib/src/url.cc lib/src/log.cc lib/src/escape.cc lib/src/status.cc"
    libs="-lpthread" ;;
  adapter_auth) sources="metrics-adapter/src/auth.cc lib/src/http_server.cc lib/src/url.cc lib/src/log.cc lib/src/escape.cc lib/src/status.cc"
    libs="-lssl -lcrypto -lpthread" ;;
  *) echo "unknown fuzz target $target"; exit 2 ;;
esac
flags="-std=c++20 -O1 -g -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined
  -I$src/lib/include -I$src/metrics-adapter/include"
# Each source is compiled once for every fuzz target that links it (http_server.cc, the
# heaviest, serves two): objects are named by the hash of the preprocessed source and flags, so
# an edited source or header gets a new object, and a lock per object lets a concurrent fuzz
# test wait for the compile instead of repeating it.
mkdir -p "$out/obj"
objects=""
for f in $sources "tests/fuzz/${target}_fuzz.cc"; do
  key=$( { echo "$flags"; $CXX $flags -E "$src/$f"; } | cksum | cut -d' ' -f1)
  o="$out/obj/$(basename "$f" .cc)-$key.o"
  (
    flock 9
    if [ ! -s "$o" ]; then
      $CXX $flags -c "$src/$f" -o "$o.tmp"
      mv -f "$o.tmp" "$o"
    fi
  ) 9>"$o.lock"
  objects="$objects $o"
done
"$CXX" -fsanitize=fuzzer,address,undefined $objects ${libs:-} -o "$out/fuzz_$target"
# Seeds.
seed() { printf "$2" > "$out/corpus_$target/seed_$1"; }
if [ "$target" = http_request ]; then
  seed get 'GET /apis/external.metrics.k8s.io/v1beta1/namespaces/default/memory_oom_risk?labelSelector=app%%3Dx HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer t\r\n\r\n'
  seed bad 'GET /%%ff%%c0%%af HTTP/1.1\r\nX-Remote-User: \xff\xfe\r\nContent-Length: 3\r\n\r\nabc'
fi
if [ "$target" = adapter_auth ]; then
  seed token '/apis/external.metrics.k8s.io/v1beta1/namespaces/ns/m\nauthorization: Bearer abc\n'
  seed proxy '/metrics\nx-remote-user: carol\nx-remote-group: a\nx-remote-extra-acme.com%%2Fp: v\n'
fi
if [ "$target" = label_selector ]; then
  for s in 'app=backend' 'a in (x,y),!b' 'k notin (v),n>3,m<4' 'example.com/x==y,z!=w' 'oomcast.io/aggregate in (max)'; do
    printf '%s' "$s" > "$out/corpus_$target/seed_$(printf '%s' "$s" | cksum | cut -d' ' -f1)"
  done
fi
exec "$out/fuzz_$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
  -print_final_stats=1 "$out/corpus_$target"
