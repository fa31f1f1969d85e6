#!/usr/bin/env bash
# Session 9 (helper halo7b, issue #13): the 7B HALO run end to end and the default model's HALO
# CUDA-vs-CPU check on the lent H200, binaries built on the dev machine (sm_90) and carried
# xz-compressed in .device/halo7b/{bin,lib,text} with the MAC profile (profile.json); the default
# model travels in two parts (it does not fit one call's 64 MiB beside the binaries). Three calls
# back to back on one warm machine (it stays warm ~30 s after a call, and /root with it):
#   one:   unpacks the binaries, the texts and model part A into /root; the synthetic Llama-2-7B
#          (bf16, 3 shards) into /root/l7 while the GPU tests run
#   two:   Llama-2-7B shape, HALO bal streamed, 128 x 2048 calibration tokens, --device cuda
#          --cuda-math tf32, under /usr/bin/time with nvidia-smi sampling, stopped at $HALO_LIMIT_S
#          (default: what is left of 580 s); then joins part B (carried in this call) to part A, sha256 checked
#   three: the default model: HALO bal with --calib-inputs unquantized and --eval, --device cuda
#          and on the CPU (16 threads), codes compared (scripts/compare_hqt_codes.py); then
#          `halo run --device cuda` on it, limited to $RUN_LIMIT_S (default 240)
# A fresh machine (given back between calls) is reported and what it lacks is redone or skipped.
# Session 12: SYNTH_ONLY_FIRST=1 makes `start` skip the GPU tests (the synth is ~4x faster since
# 607026d, so the run can almost finish inside the start call; `wait` picks up the rest).
# Session 10: the 7B HALO run outlasts one call (600 s) once the exact refit (25ca25c) is in, so
# it runs detached (setsid) and calls poll it on the warm machine:
#   start: unpacks, synthesizes the 7B checkpoint while the GPU tests run, starts the HALO run
#          detached (same command as `two`, under /usr/bin/time, nvidia-smi sampling), then waits
#   wait:  waits for it (at most $WAIT_S, default 570 s), then prints its summary and time's line
set -uo pipefail
D=$PWD/.device/halo7b
O=${OUT:-/tmp/halo-out}; mkdir -p "$O"
mode=${1:-one}
source "$PWD/scripts/device_env.sh"
device_log "$O/$mode.log"
if [ -d "$D/bin" ] && [ ! -f /root/hb/halo ]; then  # once per machine
  mkdir -p /root/data/models
  device_unpack "$D" bin=/root/hb lib=/root/hl text=/root/data/text
  cp "$D/profile.json" /root/profile.json
fi
[ -f "$D/model/model.partA" ] && [ ! -f /root/model.partA ] && cp "$D/model/model.partA" /root/model.partA
[ -f /root/hb/halo ] || { echo "/root/hb/halo missing: a fresh machine without the binaries (carry .device/halo7b)"; exit 3; }
device_cuda_env /root/hl /root/hb/libhalo_cuda.so
export HALO_DATA=/root/data
H=/root/hb/halo
M=/root/data/models/smollm2-135m-instruct-q4_1.gguf
date -u; nvidia-smi --query-gpu=name,driver_version,memory.total,memory.used --format=csv,noheader; nproc; free -g | head -2
gpu_watch() {  # GPU memory in use every 2 s, into $O/$1 (the summary's peak is the process's own figure)
  nvidia-smi --query-gpu=memory.used --format=csv,noheader,nounits -lms 2000 > "$O/$1" 2>/dev/null &
  watch_pid=$!
}
gpu_unwatch() { kill "$watch_pid" 2>/dev/null; wait "$watch_pid" 2>/dev/null; sort -n "$O/$1" | tail -1 | sed "s/^/peak GPU memory used (nvidia-smi, MiB): /"; }
halo7b_cmd=("$H" quantize --model /root/l7 --method halo --objective bal --profile /root/profile.json
  --samples 128 --seq-len 2048 --calib /root/data/text/calib.txt --stream --device cuda --cuda-math tf32 --out /root/l7_halo)
wait_detached() {  # until /root/halo7b.rc exists or $1 s have passed; then what is known so far
  local until=$(( $(elapsed) + $1 ))
  while [ ! -f /root/halo7b.rc ] && [ "$(elapsed)" -lt "$until" ]; do sleep 5; done
  tr '\r' '\n' < /root/halo7b.log | grep -v '^$' | tail -${2:-6}
  if [ -f /root/halo7b.rc ]; then
    echo "finished, rc $(cat /root/halo7b.rc)"; kill "$(cat /root/gpuwatch.pid)" 2>/dev/null
    sort -n /root/gpumem_halo7b.txt | tail -1 | sed "s/^/peak GPU memory used (nvidia-smi, MiB): /"
    cp /root/halo7b.log "$O/halo7b.log"; cp /root/l7_halo/manifest.json "$O/l7_halo_manifest.json" 2>/dev/null
    ls /root/l7_halo | wc -l | sed 's/^/files in the output directory: /'; du -sb /root/l7_halo
  else echo "still running at +$(elapsed) s of this call"; fi
}
case "$mode" in
  start)
    if [ "${SYNTH_ONLY_FIRST:-0}" = 1 ]; then  # session 12: the run needs the whole call, so no GPU tests beside it
      step "synth 7B (14 threads)"
      timed "$H" synth --shape llama2-7b --out /root/l7 --dtype bf16 --shards 3 --threads 14 --quiet 2>&1
    else
      step "synth 7B (background) while the GPU tests run"
      ( timed "$H" synth --shape llama2-7b --out /root/l7 --dtype bf16 --shards 3 --threads 12 --quiet > "$O/synth7b.log" 2>&1 ) &
      synth_pid=$!
      timed timeout 200 /root/hb/test_cuda > "$O/test_cuda.log" 2>&1
      grep -E "^\[  (PASSED|FAILED|SKIPPED) |FAILED|Failure" "$O/test_cuda.log" | head -40
      wait "$synth_pid"; cat "$O/synth7b.log"
    fi
    step "HALO bal 7B cuda streamed tf32, detached"
    rm -f /root/halo7b.rc
    setsid nohup nvidia-smi --query-gpu=memory.used --format=csv,noheader,nounits -lms 2000 > /root/gpumem_halo7b.txt 2>/dev/null &
    echo $! > /root/gpuwatch.pid
    setsid nohup bash -c 'cd /root && /usr/bin/time -f "[%e s wall, %U s user, peak RSS %M kB, rc %x]" "$@" > /root/halo7b.log 2>&1; echo $? > /root/halo7b.rc' \
      halo7b "${halo7b_cmd[@]}" < /dev/null > /dev/null 2>&1 &
    wait_detached $(( ${WAIT_S:-570} - $(elapsed) ))
    ;;
  wait)
    [ -f /root/halo7b.log ] || { echo "no /root/halo7b.log: a fresh machine (the detached run is gone)"; exit 3; }
    wait_detached "${WAIT_S:-570}" 40
    ;;
  one)
    step "synth 7B (background)"
    ( timed "$H" synth --shape llama2-7b --out /root/l7 --dtype bf16 --shards 3 --threads 12 --quiet > "$O/synth7b.log" 2>&1 ) &
    synth_pid=$!
    step "GPU tests"
    timed timeout 150 /root/hb/test_cuda > "$O/test_cuda.log" 2>&1
    grep -E "^\[  (PASSED|FAILED|SKIPPED) |FAILED|Failure" "$O/test_cuda.log" | head -40
    wait "$synth_pid"; cat "$O/synth7b.log"
    ;;
  two)
    if [ ! -f /root/l7/config.json ]; then  # a fresh machine: call one's checkpoint is gone
      step "synth 7B (fresh machine)"; timed "$H" synth --shape llama2-7b --out /root/l7 --dtype bf16 --shards 3 --threads 16 --quiet
    fi
    limit=${HALO_LIMIT_S:-$((580 - $(elapsed)))}  # the call's 600 s, less what came before and the model's assembly
    step "HALO bal 7B cuda streamed tf32 (limit $limit s)"
    gpu_watch gpumem_halo7b.txt
    timed timeout "$limit" "$H" quantize --model /root/l7 --method halo --objective bal --profile /root/profile.json \
        --samples 128 --seq-len 2048 --calib /root/data/text/calib.txt --stream --device cuda --cuda-math tf32 \
        --out /root/l7_halo 2>&1 | tr '\r' '\n' | grep -v '^$'
    gpu_unwatch gpumem_halo7b.txt
    cp /root/l7_halo/manifest.json "$O/l7_halo_manifest.json" 2>/dev/null
    ls /root/l7_halo | wc -l | sed 's/^/files in the output directory: /'
    du -sb /root/l7_halo 2>/dev/null
    if [ -f /root/model.partA ] && [ -f "$D/model/model.partB" ]; then
      cat /root/model.partA "$D/model/model.partB" > "$M"
      echo "$(cat "$D/model/model.sha256")  $M" | sha256sum -c
    else echo "model part A or B missing: the default model is not assembled"; fi
    ;;
  three)
    [ -f "$M" ] || { echo "$M missing (the machine was given back between the calls)"; exit 3; }
    for dev in cuda cpu; do
      step "HALO bal default model, --calib-inputs unquantized, $dev"
      flags=(); [ "$dev" = cuda ] && flags=(--device cuda)
      timed "$H" quantize --method halo --objective bal --profile /root/profile.json --calib-inputs unquantized \
        --eval /root/data/text/eval.txt --threads 16 "${flags[@]}" --out /root/q_halo_$dev --quiet 2>&1 | tail -12
      cp /root/q_halo_$dev/manifest.json "$O/q_halo_${dev}_manifest.json" 2>/dev/null
    done
    step "codes, CUDA vs CPU"
    python3 "$PWD/scripts/compare_hqt_codes.py" /root/q_halo_cuda /root/q_halo_cpu | tail -8
    n_same=0; n_all=0
    for f in /root/q_halo_cuda/*.hqt; do n_all=$((n_all + 1)); cmp -s "$f" "/root/q_halo_cpu/$(basename "$f")" && n_same=$((n_same + 1)); done
    echo ".hqt files byte-identical: $n_same of $n_all"
    step "run --device cuda, default model (limit ${RUN_LIMIT_S:-240} s)"
    gpu_watch gpumem_run.txt
    timed timeout "${RUN_LIMIT_S:-240}" "$H" run --device cuda --profile /root/profile.json --objectives bal --baselines rtn-w8 \
      --out /root/run_cuda --quiet 2>&1 | tail -30
    gpu_unwatch gpumem_run.txt
    cp /root/run_cuda/report.md "$O/run_cuda_report.md" 2>/dev/null
    ;;
esac
step "done"
