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
  label_selector) sources="$src/lib/src/label_selector.cc $src/lib/src/status.cc" ;;
  quantity) sources="$src/lib/src/units.cc $src/lib/src/status.cc" ;;
  *) echo "unknown fuzz target $target"; exit 2 ;;
esac
"$CXX" -std=c++20 -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
  -I"$src/lib/include" "$src/tests/fuzz/${target}_fuzz.cc" $sources -o "$out/fuzz_$target"
# Seeds.
if [ "$target" = label_selector ]; then
  for s in 'app=backend' 'a in (x,y),!b' 'k notin (v),n>3,m<4' 'example.com/x==y,z!=w' 'oomcast.io/aggregate in (max)'; do
    printf '%s' "$s" > "$out/corpus_$target/seed_$(printf '%s' "$s" | cksum | cut -d' ' -f1)"
  done
fi
exec "$out/fuzz_$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
  -print_final_stats=1 "$out/corpus_$target"
