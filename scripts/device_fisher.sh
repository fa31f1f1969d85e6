#!/usr/bin/env bash
# Session 8, fisher helper (issue #13): the GPU backward pass for the Fisher diagonal on the lent
# H200, binaries built on the dev machine (sm_90) and carried xz-compressed in .device/fisher/
# {bin,lib} (halo, libhalo_cuda.so, libhalo_blas_start.so, test_cuda, bench_cuda; OpenBLAS, fmt,
# gfortran, quadmath, libcrypto, libbenchmark), with any text as .device/fisher/calib.txt (session 8:
# README.md). One call: every CUDA test (test_cuda, the CudaFisher ones first), `quantize --method
# kmeans --sensitivity fisher` on test-tiny with --device cpu and cuda, then bench_cuda's
# Fisher cases (bench/cuda/fisher_bench.cpp: CPU on all 16 cores vs GPU, FP32 and TF32, on
# synthetic F16 checkpoints of the SmolLM2-135M and TinyLlama-1.1B shapes written to /root/fb).
set -uo pipefail
D=$PWD/.device/fisher
O=${OUT:-/tmp/halo-out}; mkdir -p "$O"
source "$PWD/scripts/device_env.sh"
device_log "$O/fisher.log"
mkdir -p /root/hb /root/hl /root/fb
python3 - "$D" <<'PY'
import lzma, os, pathlib, sys
d = pathlib.Path(sys.argv[1])
for sub, dst in (("bin", "/root/hb"), ("lib", "/root/hl")):
    for f in (d / sub).glob("*.xz"):
        out = pathlib.Path(dst) / f.name[:-3]
        out.write_bytes(lzma.decompress(f.read_bytes())); os.chmod(out, 0o755)
PY
LD_LIBRARY_PATH="/root/hl"
for lib in libcublas.so.13 libcublasLt.so.13 libcusolver.so.12 libcusparse.so.12 libnvJitLink.so.13; do
  p=$(find /usr/local /usr/lib /opt -name "$lib" 2>/dev/null | head -1)
  if [ -n "$p" ]; then LD_LIBRARY_PATH="$LD_LIBRARY_PATH:$(dirname "$p")"; else echo "missing $lib"; fi
done
export LD_LIBRARY_PATH HALO_CUDA_MODULE=/root/hb/libhalo_cuda.so HALO_BENCH_DIR=/root/fb OPENBLAS_CORETYPE=Haswell
date -u; nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader; nproc; grep -m1 "model name" /proc/cpuinfo
step "CUDA Fisher tests"
timed timeout 30 /root/hb/test_cuda --gtest_filter='CudaFisher.*' 2>&1 | grep -vE "^\[ RUN|^\[       OK" | tail -30
step "every other CUDA test"
timed timeout 25 /root/hb/test_cuda --gtest_filter='-CudaFisher.*' > "$O/test_cuda_rest.log" 2>&1
grep -E "^\[  (PASSED|FAILED|SKIPPED) |FAILED|Failure" "$O/test_cuda_rest.log" | head -20
step "quantize kmeans --sensitivity fisher, cpu and cuda (test-tiny)"
H=/root/hb/halo
$H synth --shape test-tiny --out /root/tt --dtype f32 --quiet
for dev in cpu cuda; do
  timed timeout 15 $H quantize --model /root/tt --method kmeans --sensitivity fisher --calib "$D/calib.txt" --samples 8 \
      --seq-len 128 --device $dev --out /root/q_$dev --quiet
done
grep -o '"fisher"[^,}]*' /root/q_cuda/manifest.json
same=0; total=0
for f in /root/q_cpu/*; do b=$(basename "$f"); [ "$b" = manifest.json ] && continue
  total=$((total + 1)); cmp -s "$f" "/root/q_cuda/$b" && same=$((same + 1)); done
echo "output files identical cpu vs cuda: $same of $total (manifest aside)"
step "Fisher bench (CPU vs GPU)"
timed timeout ${BENCH_LIMIT_S:-70} /root/hb/bench_cuda --benchmark_filter=Fisher --benchmark_out="$O/fisher_bench.json" \
    --benchmark_out_format=json --benchmark_counters_tabular=true
step "end"
