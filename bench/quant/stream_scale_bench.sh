#!/usr/bin/env bash
# Streamed RTN, GPTQ and HALO on a synthetic checkpoint: wall time and peak RSS of each
# (docs/results/scale.md, "CPU: streamed RTN, GPTQ and HALO on the 1.1B shape").
#   bench/quant/stream_scale_bench.sh HALO_BIN WORK_DIR [SHAPE] [THREADS] [SAMPLES] [SEQ_LEN]
# Writes WORK_DIR/<shape> with `halo synth` (F16, 3 shards) unless present, a MAC profile with
# `halo characterize` unless WORK_DIR/profile.json exists, then runs each command niced, one
# at a time, under /usr/bin/time -v. One line per run: name, wall, user CPU, peak RSS MiB, the
# 1-minute load average before and after (the machine may be shared), the command.
# RUNS="rtn gptq halo eval" selects the runs (default: all four).
set -euo pipefail
halo=$1; work=$2; shape=${3:-tinyllama-1.1b}; threads=${4:-2}; samples=${5:-16}; seq_len=${6:-256}
runs=${RUNS:-rtn gptq halo eval}
mkdir -p "$work"
model="$work/$shape"
[ -d "$model" ] || nice "$halo" synth --shape "$shape" --out "$model" --dtype f16 --shards 3 --threads "$threads" --quiet
load() { cut -d' ' -f1 /proc/loadavg; }
run() {
  local name=$1; shift
  local before; before=$(load)
  nice /usr/bin/time -v "$@" > "$work/$name.out" 2> "$work/$name.time" || { echo "$name FAILED"; tail -5 "$work/$name.time"; return 1; }
  local wall user rss
  wall=$(grep "Elapsed (wall" "$work/$name.time" | awk '{print $NF}')
  user=$(grep "User time" "$work/$name.time" | awk '{print $NF}')
  rss=$(grep "Maximum resident" "$work/$name.time" | awk '{print int($NF/1024)}')
  echo "$name wall=$wall user_s=$user peak_rss_mib=$rss load1=$before..$(load) :: $*"
}
profile="$work/profile.json"
if [[ " $runs " == *" halo "* && ! -f "$profile" ]]; then
  nice "$halo" characterize --mac int8 --liberty /usr/share/qflow/tech/osu018/osu018_stdcells.lib --analysis both \
    --transitions 200 --work-dir "$work/halo-work" --out "$profile" --threads "$threads" --quiet
fi
q=(quantize --model "$model" --threads "$threads" --force --stream)
calib=(--samples "$samples" --seq-len "$seq_len")
for r in $runs; do
  case $r in
    rtn) run rtn4g128-stream "$halo" "${q[@]}" --method rtn --bits 4 --group 128 --out "$work/q-rtn4" ;;
    gptq) run gptq4g128-stream "$halo" "${q[@]}" --method gptq --bits 4 --group 128 "${calib[@]}" --out "$work/q-gptq4" ;;
    halo) run halo-bal-stream "$halo" "${q[@]}" --method halo --objective bal --profile "$profile" "${calib[@]}" --out "$work/q-halo" ;;
    eval) run eval-gptq4-stream "$halo" eval --model "$model" --threads "$threads" --stream --quantized "$work/q-gptq4" --ctx 512 --max-chunks 1 ;;
    *) echo "unknown run $r"; exit 1 ;;
  esac
done
