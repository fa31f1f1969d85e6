#!/usr/bin/env bash
# Session 8 (helper halogpu, issue #13): HALO's tile fitting on the GPU, measured on the lent H200
# with binaries built on the dev machine (sm_90) and carried xz-compressed in .device/halogpu/
# {bin,lib}, with the texts (text/), the MAC profile (profile.json) and the default model in two
# parts (it does not fit one call's 64 MiB beside the binaries). Two calls back to back (the
# machine stays warm 30 s between them, so /root keeps what the first left):
# The CPU side of the default-model comparison also ran on the dev machine (same binary).
#   one: unpacks the binaries and part A of the model into /root; the GPU tests; the synthetic
#        Llama-2-7B (bf16, 3 shards) into /root/l7 beside the tests; `halo run --device cuda` on
#        the synthetic test-tiny shape (completes on the GPU: one HALO point, one baseline)
#   two: Llama-2-7B shape, HALO bal streamed, 128 x 2048 calibration tokens, --device cuda
#        --cuda-math tf32, under /usr/bin/time and nvidia-smi sampling, stopped at $HALO_LIMIT_S
#        (default 400); then the default model (part A + the carried part B, sha256 checked):
#        HALO bal in memory with --eval on the CPU (16 threads) and with --device cuda, and
#        `halo run --device cuda` on it with one HALO point, as time allows
set -uo pipefail
D=$PWD/.device/halogpu
O=${OUT:-/tmp/halo-out}; mkdir -p "$O"
mode=${1:-one}
source "$PWD/scripts/device_env.sh"
device_log "$O/$mode.log"
export OPENBLAS_CORETYPE=Haswell  # Debian's OpenBLAS 0.3.21 takes this CPU for Prescott (and LAPACK can crash there)
if [ -d "$D/bin" ]; then
  mkdir -p /root/hb /root/hl /root/data/models /root/data/text
  python3 - "$D" <<'PY'
import lzma, os, pathlib, shutil, sys
d = pathlib.Path(sys.argv[1])
for sub, dst in (("bin", "/root/hb"), ("lib", "/root/hl"), ("text", "/root/data/text")):
    for f in (d / sub).glob("*.xz"):
        out = pathlib.Path(dst) / f.name[:-3]
        out.write_bytes(lzma.decompress(f.read_bytes()))
        os.chmod(out, 0o755)
PY
  cp "$D/profile.json" /root/profile.json
fi
[ -f "$D/model/model.partA" ] && cp "$D/model/model.partA" /root/model.partA
LD_LIBRARY_PATH="/root/hl:${LD_LIBRARY_PATH:-}"
for lib in libcublas.so.13 libcublasLt.so.13 libcusolver.so.12 libcusparse.so.12 libnvJitLink.so.13; do
  p=$(find /usr/local /usr/lib /opt -name "$lib" 2>/dev/null | head -1)
  if [ -n "$p" ]; then LD_LIBRARY_PATH="$LD_LIBRARY_PATH:$(dirname "$p")"; else echo "missing $lib"; fi
done
export LD_LIBRARY_PATH HALO_DATA=/root/data HALO_CUDA_MODULE=/root/hb/libhalo_cuda.so
H=/root/hb/halo
date -u; nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader; nproc; free -g | head -2
gpu_watch() {  # GPU memory in use every 2 s, into $O/$1 (the summary's peak is the process's own figure)
  nvidia-smi --query-gpu=memory.used --format=csv,noheader,nounits -lms 2000 > "$O/$1" 2>/dev/null &
  watch_pid=$!
}
gpu_unwatch() { kill "$watch_pid" 2>/dev/null; wait "$watch_pid" 2>/dev/null; sort -n "$O/$1" | tail -1 | sed "s/^/peak GPU memory used (nvidia-smi, MiB): /"; }
case "$mode" in
  one)
    step "synth 7B (background)"
    ( timed "$H" synth --shape llama2-7b --out /root/l7 --dtype bf16 --shards 3 --threads 8 > "$O/synth7b.log" 2>&1 ) &
    synth_pid=$!
    step "GPU tests"
    timed timeout 120 /root/hb/test_cuda > "$O/test_cuda.log" 2>&1
    grep -E "^\[  (PASSED|FAILED|SKIPPED) |OK \]|FAILED|Failure" "$O/test_cuda.log" | head -60
    step "run --device cuda on the synthetic test-tiny shape"
    timed "$H" synth --shape test-tiny --out /root/tiny --dtype f32 > /dev/null
    timed timeout 60 "$H" run --model /root/tiny --device cuda --profile /root/profile.json --objectives bal --baselines rtn-w8 \
      --samples 8 --seq-len 64 --ctx 128 --max-chunks 2 --tile 32x32 --out /root/run_tiny --quiet 2>&1 | tail -25
    wait "$synth_pid"; tail -3 "$O/synth7b.log"
    ;;
  two)
    if [ ! -d /root/l7 ]; then  # a fresh machine: call one's checkpoint is gone
      step "synth 7B"; timed "$H" synth --shape llama2-7b --out /root/l7 --dtype bf16 --shards 3 --threads 16 | tail -2
    fi
    step "HALO bal 7B cuda streamed tf32 (limit ${HALO_LIMIT_S:-400} s)"
    gpu_watch gpumem_halo7b.txt
    timed timeout "${HALO_LIMIT_S:-400}" "$H" quantize --model /root/l7 --method halo --objective bal --profile /root/profile.json \
        --samples 128 --seq-len 2048 --calib /root/data/text/calib.txt --stream --device cuda --cuda-math tf32 \
        --out /root/l7_halo 2>&1 | tr '\r' '\n' | grep -v '^$'
    gpu_unwatch gpumem_halo7b.txt
    cp /root/l7_halo/manifest.json "$O/l7_halo_manifest.json" 2>/dev/null
    M=/root/data/models/smollm2-135m-instruct-q4_1.gguf
    if [ -f /root/model.partA ]; then
      cat /root/model.partA "$D"/model/model.partB > "$M"
      echo "$(cat "$D/model/model.sha256")  $M" | sha256sum -c && have_model=1
    else echo "/root/model.partA missing: the machine was given back between the calls"; fi
    if [ -n "${have_model:-}" ]; then
      step "HALO bal default model, cuda"
      timed "$H" quantize --method halo --objective bal --profile /root/profile.json --eval /root/data/text/eval.txt \
        --device cuda --out /root/q_halo_cuda --quiet 2>&1 | tail -8
      step "HALO bal default model, cpu (16 threads)"
      timed "$H" quantize --method halo --objective bal --profile /root/profile.json --eval /root/data/text/eval.txt \
        --out /root/q_halo_cpu --quiet 2>&1 | tail -8
      cp /root/q_halo_cuda/manifest.json "$O/q_halo_cuda_manifest.json" 2>/dev/null
      step "run --device cuda, default model"
      timed timeout 150 "$H" run --device cuda --profile /root/profile.json --objectives bal --baselines rtn-w8 --out /root/run_cuda \
        --quiet 2>&1 | tail -25
    fi
    ;;
esac
step "done"
