#!/usr/bin/env bash
# Session 21 on the lent GPU, one call: (1) the CUDA Fisher engine's new LM-head entries
# (test_cuda's CudaFisher tests against the CPU's model::fisher_diagonal, then every other CUDA
# test), (2) `halo quantize --method halo --sensitivity fisher --quantize-head` on a synthetic
# test-tiny with --device cpu and cuda (before this session the cuda run stopped with E9179 after
# its Fisher pass), the Fisher bench's SmolLM2-shape cases (the head's cost), (3) session 20's
# waveform steps (scripts/device_s20.sh: equality test, kernel times against 1795ea3's module,
# ncu counters, the sweep) with this build's module beside them ("s21 noarrays": the linked
# store's order comparison without its two local arrays).
#   scripts/device_stage.sh s21 build/bin/halo build/tests/unit/cuda/test_cuda build/bench/cuda/bench_cuda build/bin/libhalo_cuda.so
# Carry .device/s21, .device/s20 and .device/lockstep: scripts/device_s21.sh [s20 steps]
set -uo pipefail
D=$PWD/.device/s21
O=${OUT:-/tmp/halo-out}; mkdir -p "$O"
source "$PWD/scripts/device_env.sh"
(
device_log "$O/s21.log"
device_unpack "$D" bin=/root/b21 lib=/root/l21
device_banner
device_cuda_env /root/l21 /root/b21/libhalo_cuda.so
step "CUDA Fisher tests (the LM head's entries against the CPU)"
timed timeout 60 /root/b21/test_cuda --gtest_filter='CudaFisher.*' 2>&1 | grep -vE "^\[ RUN|^\[       OK" | tail -25
step "every other CUDA test"
timed timeout 60 /root/b21/test_cuda --gtest_filter='-CudaFisher.*' > "$O/test_cuda_rest.log" 2>&1
grep -E "^\[  (PASSED|FAILED|SKIPPED) |FAILED|Failure" "$O/test_cuda_rest.log" | head -20
step "halo quantize --method halo --sensitivity fisher --quantize-head, test-tiny, cpu and cuda"
H=/root/b21/halo
$H synth --shape test-tiny --out /root/tt --dtype f32 --quiet
for dev in cpu cuda; do
  timed timeout 60 $H quantize --model /root/tt --method halo --sensitivity fisher --quantize-head --tile 32x32 \
    --profile docs/results/profiles/int8-yosys.json --calib README.md --samples 8 --seq-len 128 --device $dev \
    --out /root/qh_$dev 2>&1 | grep -vE "ETA" | tail -4
done
grep -o '"device":{[^}]*}' /root/qh_cuda/manifest.json | head -2
same=0; total=0
for f in /root/qh_cpu/*.hqt; do b=$(basename "$f"); total=$((total + 1)); cmp -s "$f" "/root/qh_cuda/$b" && same=$((same + 1)); done
echo "weight files identical cpu vs cuda: $same of $total (output.hqt = the head: $(cmp -s /root/qh_cpu/output.hqt /root/qh_cuda/output.hqt && echo same || echo differs))"
step "Fisher bench, SmolLM2-135M shape: CPU (16 threads) vs GPU, without and with the LM head's entries"
timed timeout 150 env HALO_BENCH_DIR=/root/fb /root/b21/bench_cuda --benchmark_filter='BM_Fisher/smollm2' \
  --benchmark_counters_tabular=true 2>&1 | grep -vE "^\*\*\*|^Run on|^CPU Caches|^  L[123]|^Load Average|DEBUG"
step "end of session 21's own steps"
)
NEW_MODULE=/root/b21/libhalo_cuda.so NEW_LABEL="s21 noarrays" DEVICE_BUDGET_S=${DEVICE_BUDGET_S:-300} \
  bash "$PWD/scripts/device_s20.sh" "$@"
