#!/usr/bin/env bash
# The issue-#13 GPU measurements of session 5 (docs/results/scale.md), run on the lent H200 from
# the lead's checkout with binaries built on the dev machine (sm_90) and carried xz-compressed in
# .device/s5-gpu/{bin,lib}, the texts in .device/s5-gpu/text. Two calls back to back (the machine
# stays warm 30 s between them, so /root keeps what the first left):
#   one: keeps partA of the default model in /root; GPU tests; synthetic Llama-2-7B (bf16);
#        streamed GPTQ W4 g128 with 128 x 2048 calibration tokens on the GPU, with the per-block
#        time by phase; stops the GPTQ at $GPTQ_LIMIT_S seconds (default 330)
#   two: the default model (partA from call one + the carried partB, sha256 checked): GPTQ W4
#        g128 CPU vs CUDA with sequential and with unquantized calibration inputs, codes compared;
#        perplexity of the 7B shape at ctx 2048 (TF32 and FP32) if call one's checkpoint is there
set -uo pipefail
D=$PWD/.device/s5-gpu
O=${OUT:-/tmp/halo-out}; mkdir -p "$O"
mode=${1:-one}
source "$PWD/scripts/device_env.sh"
device_log "$O/$mode.log"
[ "$mode" = one ] && [ -f "$D/partA/model.partA" ] && cp "$D/partA/model.partA" /root/model.partA
if [ ! -x /root/hb/halo ] || [ -d "$D/bin" ]; then
  mkdir -p /root/hb /root/hl /root/data/models /root/data/text && cp "$D"/text/*.txt /root/data/text/
  python3 - "$D" <<'PY'
import lzma, os, pathlib, sys
d = pathlib.Path(sys.argv[1])
for sub, dst in (("bin", "/root/hb"), ("lib", "/root/hl")):
    for f in (d / sub).glob("*.xz"):
        out = pathlib.Path(dst) / f.name[:-3]
        out.write_bytes(lzma.decompress(f.read_bytes()))
        os.chmod(out, 0o755)
PY
fi
LD_LIBRARY_PATH="/root/hl:${LD_LIBRARY_PATH:-}"
for lib in libcublas.so.13 libcublasLt.so.13 libcusolver.so.12 libcusparse.so.12 libnvJitLink.so.13; do
  p=$(find /usr/local /usr/lib /opt -name "$lib" 2>/dev/null | head -1)
  if [ -n "$p" ]; then LD_LIBRARY_PATH="$LD_LIBRARY_PATH:$(dirname "$p")"; else echo "missing $lib"; fi
done
export LD_LIBRARY_PATH HALO_DATA=/root/data HALO_CUDA_MODULE=/root/hb/libhalo_cuda.so
H=/root/hb/halo
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader; nproc; free -g | head -2
gpu_watch() {  # GPU memory in use every 2 s, into $O/$1 (the summary's peak is the process's own figure)
  nvidia-smi --query-gpu=memory.used --format=csv,noheader,nounits -lms 2000 > "$O/$1" 2>/dev/null &
  watch_pid=$!
}
gpu_unwatch() { kill "$watch_pid" 2>/dev/null; wait "$watch_pid" 2>/dev/null; sort -n "$O/$1" | tail -1 | sed "s/^/peak GPU memory used (nvidia-smi, MiB): /"; }
case "$mode" in
  one)
    step "GPU tests"; timed /root/hb/test_cuda > "$O/test_cuda.log" 2>&1
    grep -E "^\[  (PASSED|FAILED|SKIPPED) |OK \]|FAILED|codes equal|Failure" "$O/test_cuda.log" | head -40
    step "synth 7B"; timed "$H" synth --shape llama2-7b --out /root/l7 --dtype bf16 --shards 3
    step "gptq 7B cuda streamed tf32 (limit ${GPTQ_LIMIT_S:-330} s)"
    gpu_watch gpumem_gptq7b.txt
    timed timeout "${GPTQ_LIMIT_S:-330}" "$H" quantize --model /root/l7 --method gptq --bits 4 --group 128 --samples 128 \
        --seq-len 2048 --calib /root/data/text/calib.txt --stream --device cuda --cuda-math tf32 --out /root/l7_gptq 2>&1 | \
        tr '\r' '\n' | grep -v "^quantize blocks" | grep -v '^$'
    gpu_unwatch gpumem_gptq7b.txt
    cp /root/l7_gptq/manifest.json "$O/l7_gptq_manifest.json" 2>/dev/null
    ;;
  two)
    M=/root/data/models/smollm2-135m-instruct-q4_1.gguf
    if [ -f /root/model.partA ]; then
      cat /root/model.partA "$D"/partB/* > "$M"
      echo "$(cat "$D/sh/model.sha256")  $M" | sha256sum -c && have_model=1
    else echo "/root/model.partA missing: the machine was given back between the calls"; fi
    if [ -n "${have_model:-}" ]; then
      for dev in cpu cuda; do for ci in sequential unquantized; do
        step "gptq default model $dev $ci"
        timed "$H" quantize --method gptq --bits 4 --group 128 --device $dev --calib-inputs $ci --out /root/q_${dev}_$ci --quiet
      done; done
      for ci in sequential unquantized; do
        step "codes cpu vs cuda, $ci"; python3 "$D/sh/compare_hqt_codes.py" /root/q_cpu_$ci /root/q_cuda_$ci | head -40
      done
      step "codes cpu sequential vs cpu unquantized"; python3 "$D/sh/compare_hqt_codes.py" /root/q_cpu_sequential /root/q_cpu_unquantized | head -3
    fi
    if [ -d /root/l7 ]; then
      step "eval 7B cuda tf32 ctx 2048"; gpu_watch gpumem_eval7b.txt
      timed "$H" eval --model /root/l7 --text /root/data/text/eval.txt --ctx 2048 --max-chunks 16 --device cuda --cuda-math tf32 --quiet
      gpu_unwatch gpumem_eval7b.txt
      step "eval 7B cuda fp32 ctx 2048"
      timed "$H" eval --model /root/l7 --text /root/data/text/eval.txt --ctx 2048 --max-chunks 16 --device cuda --quiet
    else echo "/root/l7 missing: the machine was given back between the calls"; fi
    ;;
esac
step "end"
