#!/bin/bash
# Builds the libFuzzer targets with clang (in BUILD_FUZZ, default build-fuzz) and runs each for a
# few seconds on the seed corpus of fuzz/make_seed_corpus.py. Exit 0: no crash; 77: skipped
# (no clang++ or no libFuzzer runtime); anything else: a build failure or a crash (the crashing
# input is left as crash-* in the working directory).
#   scripts/fuzz_smoke.sh [SECONDS_PER_TARGET]     (default 5)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
SECONDS_EACH="${1:-5}"
BUILD_FUZZ="${BUILD_FUZZ:-$ROOT/build-fuzz}"
TARGETS="liberty yosys_json verilog_netlist gguf safetensors"

if ! command -v clang++ >/dev/null; then echo "fuzz_smoke: no clang++, skipped"; exit 77; fi
if ! echo 'extern "C" int LLVMFuzzerTestOneInput(const char*, unsigned long) { return 0; }' |
     clang++ -x c++ -fsanitize=fuzzer - -o /dev/null 2>/dev/null; then
  echo "fuzz_smoke: clang++ has no libFuzzer runtime (apt-get install libclang-rt-dev or clang), skipped"; exit 77
fi
cmake -S "$ROOT" -B "$BUILD_FUZZ" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_C_COMPILER=clang \
  -DHALO_BUILD_FUZZ=ON -DHALO_BUILD_TESTS=OFF -DHALO_BUILD_BENCH=OFF >/dev/null
cmake --build "$BUILD_FUZZ" --target $(for t in $TARGETS; do printf 'fuzz_%s ' "$t"; done) >/dev/null
SEEDS="$(mktemp -d)"
trap 'rm -rf "$SEEDS"' EXIT
python3 "$ROOT/fuzz/make_seed_corpus.py" "$SEEDS"
for t in $TARGETS; do
  case $t in verilog_netlist) c=verilog ;; *) c=$t ;; esac
  mkdir -p "$SEEDS/work_$t"
  "$BUILD_FUZZ/fuzz/fuzz_$t" -max_total_time="$SECONDS_EACH" -rss_limit_mb=2048 -print_final_stats=1 \
    "$SEEDS/work_$t" "$SEEDS/$c" 2>"$SEEDS/$t.log" || { tail -40 "$SEEDS/$t.log"; echo "fuzz_smoke: fuzz_$t FAILED"; exit 1; }
  echo "fuzz_smoke: fuzz_$t $(grep -o 'stat::number_of_executed_units: *[0-9]*' "$SEEDS/$t.log" | grep -o '[0-9]*$') runs, no crash"
done
