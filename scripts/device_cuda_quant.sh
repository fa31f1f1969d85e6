#!/usr/bin/env bash
# The issue-#13 GPU measurements of session 4 (docs/results/scale.md), run on the lent H200 from
# the lead's checkout with prebuilt binaries carried in .device/s4-cuda/{bin,lib,text}.
#   default: the installed model (reassembled from /root/model.partA, left by the previous
#            call, and .device/s4-cuda/partB): GPU tests, eval / GPTQ / halo run, CUDA vs CPU
#   7b:      GPU tests; synthetic Llama-2-7B: streamed GPTQ W4 g128, 128 x 2048 calibration, on the GPU
#   save:    the first call of a pair: keeps partA in /root (the model is over one call's carry)
# Binaries and libraries travel xz-compressed (.device/s4-cuda/{bin,lib}/*.xz) to fit the carry.
set -uo pipefail
D=$PWD/.device/s4-cuda
O=${OUT:-/tmp/halo-out}; mkdir -p "$O"
log=$O/${1:-default}.log
exec > >(tee "$log") 2>&1
if [ "${1:-}" = save ]; then
  cp "$D/partA/model.partA" /root/model.partA && ls -la /root/model.partA
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
  find / -xdev \( -name 'libcusolver.so*' -o -name 'libcublas.so*' -o -name 'libnvJitLink.so*' \) 2>/dev/null | head; exit 0
fi
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
LD_LIBRARY_PATH="/root/hl:${LD_LIBRARY_PATH:-}"
for lib in libcublas.so.13 libcublasLt.so.13 libcusolver.so.12 libcusparse.so.12 libnvJitLink.so.13; do
  p=$(find /usr/local /usr/lib /opt -name "$lib" 2>/dev/null | head -1)
  if [ -n "$p" ]; then LD_LIBRARY_PATH="$LD_LIBRARY_PATH:$(dirname "$p")"; else echo "missing $lib"; fi
done
export LD_LIBRARY_PATH HALO_DATA=/root/data HALO_CUDA_MODULE=/root/hb/libhalo_cuda.so
H=/root/hb/halo
step() { echo; echo "== $(date -u +%H:%M:%S) $*"; }
timed() { local t0=$EPOCHREALTIME; "$@"; local rc=$?; awk -v a="$t0" -v b="$EPOCHREALTIME" -v rc=$rc 'BEGIN{printf "[rc %d, %.1f s wall]\n", rc, b-a}'; }
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader; nproc; free -g | head -2
step "ldd halo (no CUDA library expected)"; ldd "$H" | grep -Ei "cuda|cublas|cusolver" || echo "none"
case "${1:-default}" in
  default)
    M=/root/data/models/smollm2-135m-instruct-q4_1.gguf
    if [ -f /root/model.partA ]; then cat /root/model.partA "$D"/partB/* > "$M"; else echo "/root/model.partA missing: the machine was given back between the calls"; fi
    echo "$(cat "$D/model.sha256")  $M" | sha256sum -c || exit 3
    step "GPU tests"; timed /root/hb/test_cuda 2>&1 | tail -25
    step "eval cpu"; timed "$H" eval --ctx 512 --max-chunks 40 --json "$O/eval_cpu.json" --quiet
    step "eval cuda"; timed "$H" eval --ctx 512 --max-chunks 40 --device cuda --json "$O/eval_cuda.json" --quiet
    step "gptq cpu"; timed "$H" quantize --method gptq --bits 4 --group 128 --out /root/q_cpu --quiet
    step "gptq cuda"; timed "$H" quantize --method gptq --bits 4 --group 128 --device cuda --out /root/q_cuda --quiet
    step "gptq cuda streamed"; timed "$H" quantize --method gptq --bits 4 --group 128 --device cuda --stream --out /root/q_cuda_s --quiet
    step "codes cpu vs cuda"; python3 "$D/sh/compare_hqt_codes.py" /root/q_cpu /root/q_cuda
    step "codes cuda vs cuda streamed"; python3 "$D/sh/compare_hqt_codes.py" /root/q_cuda /root/q_cuda_s
    for q in q_cpu q_cuda; do step "eval $q (cpu)"; timed "$H" eval --quantized /root/$q --ctx 512 --max-chunks 40 --quiet | grep -E "perplexity"; done
    P=docs/results/profiles/int8-yosys.json
    step "run cpu"; timed "$H" run --profile $P --objectives bal --baselines gptq-w4 --out /root/run_cpu --quiet
    cp /root/run_cpu/results.json "$O/run_cpu.json"
    step "run cuda"; timed "$H" run --profile $P --objectives bal --baselines gptq-w4 --device cuda --out /root/run_cuda --quiet
    cp /root/run_cuda/results.json "$O/run_cuda.json"
    ;;
  7b)
    t_start=$EPOCHREALTIME
    left() { awk -v a="$t_start" -v b="$EPOCHREALTIME" 'BEGIN{print int(575 - (b - a))}'; }  # seconds of the 600 s call
    step "GPU tests"; timed /root/hb/test_cuda 2>&1 | grep -E "OK|FAILED|PASSED|SKIPPED|codes equal" | head -20
    step "synth"; timed "$H" synth --shape llama2-7b --out /root/l7 --dtype bf16 --shards 3
    step "gptq 7b cuda streamed"
    timed timeout 230 "$H" quantize --model /root/l7 --method gptq --bits 4 --group 128 --samples 128 --seq-len 2048 \
        --calib /root/data/text/calib.txt --stream --device cuda --cuda-math tf32 --out /root/l7_gptq 2>&1 | tr '\r' '\n' | \
        awk 'NR % 8 == 1 || /bits|time|device|calibration|error|rc /'
    nvidia-smi --query-gpu=memory.used --format=csv,noheader
    cp /root/l7_gptq/manifest.json "$O/l7_gptq_manifest.json" 2>/dev/null
    ;;
esac
