#!/usr/bin/env bash
# Peak host memory and time of streamed quantize/eval on a synthetic checkpoint (docs/results/scale.md).
#   scripts/scale_bench.sh HALO_BIN WORK_DIR [SHAPE] [THREADS]
# Writes WORK_DIR/<shape> with `halo synth` (F16, 3 shards) unless present, then runs each
# command under /usr/bin/time -v and prints one line per run: name, wall s, peak RSS MiB.
set -euo pipefail
halo=$1; work=$2; shape=${3:-tinyllama-1.1b}; threads=${4:-2}
mkdir -p "$work"
model="$work/$shape"
[ -d "$model" ] || "$halo" synth --shape "$shape" --out "$model" --dtype f16 --shards 3 --threads "$threads" --quiet
run() {
  local name=$1; shift
  /usr/bin/time -v "$@" > "$work/$name.out" 2> "$work/$name.time" || { echo "$name FAILED"; tail -5 "$work/$name.time"; return 1; }
  local wall rss
  wall=$(grep "Elapsed (wall" "$work/$name.time" | awk '{print $NF}')
  rss=$(grep "Maximum resident" "$work/$name.time" | awk '{print int($NF/1024)}')
  echo "$name wall=$wall peak_rss_mib=$rss :: $*"
}
q=(quantize --model "$model" --threads "$threads" --quiet --force)
run rtn8-stream "$halo" "${q[@]}" --stream --method rtn --bits 8 --out "$work/q-rtn8"
run rtn4g128-stream "$halo" "${q[@]}" --stream --method rtn --bits 4 --group 128 --out "$work/q-rtn4"
run gptq4g128-stream "$halo" "${q[@]}" --stream --method gptq --bits 4 --group 128 --samples 16 --seq-len 256 --out "$work/q-gptq4"
run eval-stream "$halo" eval --model "$model" --threads "$threads" --quiet --stream --ctx 512 --max-chunks 4
if [ "${SCALE_BENCH_EAGER:-0}" = 1 ]; then  # the in-memory path, for comparison
  run rtn8-eager "$halo" "${q[@]}" --method rtn --bits 8 --out "$work/q-rtn8-eager"
  run eval-eager "$halo" eval --model "$model" --threads "$threads" --quiet --ctx 512 --max-chunks 4
fi
