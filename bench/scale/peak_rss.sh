#!/usr/bin/env bash
# Peak host memory (and time) of RTN, GPTQ and HALO on a synthetic checkpoint, streamed: issue #13's
# "peak RSS under 1.5 GB for RTN, GPTQ and HALO on the synthetic 1.1B" (docs/results/scale.md).
#   bench/scale/peak_rss.sh HALO_BIN WORK_DIR [SHAPE] [THREADS] [SAMPLES] [SEQ_LEN] [DEVICE]
# Writes WORK_DIR/<shape> with `halo synth` (F16, 3 shards) unless present. Each run goes under
# /usr/bin/time -v; one line per run: name, wall, user CPU, peak RSS MiB, and whether it is under
# the 1.5 GB (1,536 MiB) target. HALO reads the MAC profile $PROFILE (default: the repository's
# docs/results/profiles/int8-yosys.json). HALO is streamed when this halo's `quantize --method halo`
# takes --stream, else it runs in memory and the line says so (never presented as streamed).
set -uo pipefail
halo=$1; work=$2; shape=${3:-tinyllama-1.1b}; threads=${4:-0}; samples=${5:-16}; seq_len=${6:-256}; device=${7:-cpu}
limit_mib=1536
tile=${TILE:-128x128}  # HALO's tile (test-tiny needs 32x32)
profile=${PROFILE:-$(dirname "$0")/../../docs/results/profiles/int8-yosys.json}  # HALO's MAC profile
mkdir -p "$work"
model="$work/$shape"
[ -d "$model" ] || "$halo" synth --shape "$shape" --out "$model" --dtype f16 --shards 3 --quiet || exit 2
printf "%-14s %10s %10s %12s %s\n" run wall_s user_s peak_rss_mib "under 1.5 GB :: command"
run() {
  local name=$1; shift
  /usr/bin/time -f "%e %U %M" -o "$work/$name.time" "$@" > "$work/$name.out" 2>&1
  local rc=$?
  if [ $rc -ne 0 ]; then echo "$name FAILED (rc $rc): $(tail -2 "$work/$name.out" | tr '\n' ' ')"; return 1; fi
  read -r wall user rss_kb < "$work/$name.time"
  local rss=$((rss_kb / 1024))
  printf "%-14s %10s %10s %12s %s\n" "$name" "$wall" "$user" "$rss" "$([ "$rss" -lt $limit_mib ] && echo yes || echo NO) :: $*"
}
q=(quantize --model "$model" --threads "$threads" --quiet --force --stream)
dev=(); [ "$device" = cpu ] || dev=(--device "$device")
run rtn8 "$halo" "${q[@]}" --method rtn --bits 8 --out "$work/q-rtn8"
run gptq4g128 "$halo" "${q[@]}" "${dev[@]}" --method gptq --bits 4 --group 128 --samples "$samples" --seq-len "$seq_len" \
    --out "$work/q-gptq4"
halo_stream=(--stream)
probe=$("$halo" quantize --method halo --stream --out "$work/q-probe" --model "$model" --tile 0x0 2>&1 || true)  # fails fast either way
if grep -q E6142 <<<"$probe"; then
  halo_stream=()
  echo "(this halo does not stream --method halo: the HALO line below is the in-memory driver)"
fi
run halo-bal "$halo" quantize --model "$model" --threads "$threads" --quiet --force "${halo_stream[@]}" --method halo \
    --profile "$profile" --tile "$tile" --objective bal --samples "$samples" --seq-len "$seq_len" --out "$work/q-halo"
