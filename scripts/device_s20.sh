#!/usr/bin/env bash
# Issue #16 on the lent GPU, session 20: (1) the equality test of this build (up-links for acausal
# events: order comparisons walk leaders, not whole cause chains) and its lock-step default's first
# run on a GPU; (2) kernel time, interleaved, of the module staged in .device/lockstep (main
# 1795ea3, chain walks) against this build's, on the osu035 built-in INT8 MAC's exhaustive sweep
# (256 x 65,536 transitions); (3) Nsight Compute's counters of this build's default kernel over
# every 16th weight; (4) the whole sweep.
#   scripts/device_stage.sh s20 build/bench/timing/bench_timing build/tests/unit/timing/test_timing build/bin/libhalo_cuda.so
# One call, carry .device/s20 and .device/lockstep: scripts/device_s20.sh [steps: test kernel ncu more sweep]
# NEW_MODULE (a libhalo_cuda.so already on the machine) and NEW_LABEL: a later module tested and
# timed beside the two (device_s21.sh passes its build's).
set -uo pipefail
N=$PWD/.device/s20
B=$PWD/.device/lockstep
O=${OUT:-/tmp/halo-out}; mkdir -p "$O"
source "$PWD/scripts/device_env.sh"
device_log "$O/s20.log"
device_unpack "$N" bin=/root/nb lib=/root/hl
device_unpack "$B" bin=/root/bb
device_banner
device_cuda_env /root/hl /root/nb/libhalo_cuda.so
device_wave_mac $B/mac; export HALO_DYNAMIC_THREADS=16
steps=${*:-test kernel ncu more sweep}
kernel() {  # kernel LABEL MODULE LOCKSTEP(1 or 0) [THREADS_PER_SM, 0 = the module's default]
  step "$1: kernel alone, 256 x 65,536 transitions"
  HALO_CUDA_MODULE=$2 HALO_WAVE_LANE_LOCKSTEP=$3 timeout 90 /root/nb/bench_timing --benchmark_filter="BM_WaveCudaAllWeightsInt8/${4:-0}/1/1/" \
    --benchmark_counters_tabular=true 2>&1 | grep -E "^BM_|^Benchmark|error" | sed "s|^BM_|$1 BM_|" | tee -a "$O/bench.txt"
  nvidia-smi --query-gpu=clocks.sm,temperature.gpu,power.draw --format=csv,noheader
}
for s in $steps; do case $s in
test)
  step "WaveformCuda, this build (every configuration against the CPU engine)"
  timeout 150 /root/nb/test_timing --gtest_filter='WaveformCuda*' 2>&1 | grep -E "^\[cuda\]|OK \]|FAILED|Failure|Expected|Which is|differ|error"
  if [ -n "${NEW_MODULE:-}" ]; then  # a later module (NEW_LABEL) through the same test binary
    step "WaveformCuda, ${NEW_LABEL:-new} module"
    HALO_CUDA_MODULE=$NEW_MODULE timeout 150 /root/nb/test_timing --gtest_filter='WaveformCuda*' 2>&1 | grep -E "^\[cuda\]|OK \]|FAILED|Failure|Expected|Which is|differ|error"
  fi ;;
kernel)  # round 1, then (with time left, DEVICE_BUDGET_S, default 330 s) round 2 and the variants
  kernel "chainwalk-1795ea3 lockstep" /root/bb/libhalo_cuda.so 1
  kernel "uplinks lockstep" /root/nb/libhalo_cuda.so 1
  [ -n "${NEW_MODULE:-}" ] && kernel "${NEW_LABEL:-new} lockstep" "$NEW_MODULE" 1 ;;
more)
  budget=${DEVICE_BUDGET_S:-330}
  [ "$(elapsed)" -lt $((budget - 60)) ] && kernel "chainwalk-1795ea3 lockstep" /root/bb/libhalo_cuda.so 1
  [ "$(elapsed)" -lt $((budget - 45)) ] && kernel "uplinks lockstep" /root/nb/libhalo_cuda.so 1
  [ -n "${NEW_MODULE:-}" ] && [ "$(elapsed)" -lt $((budget - 40)) ] && kernel "${NEW_LABEL:-new} lockstep" "$NEW_MODULE" 1
  [ "$(elapsed)" -lt $((budget - 30)) ] && kernel "uplinks jumps" /root/nb/libhalo_cuda.so 0
  [ "$(elapsed)" -lt $((budget - 30)) ] && kernel "uplinks lockstep 512/SM" /root/nb/libhalo_cuda.so 1 512
  [ "$(elapsed)" -lt $((budget - 30)) ] && kernel "uplinks lockstep 768/SM" /root/nb/libhalo_cuda.so 1 768 ;;
ncu)
  step "ncu, this build's default lane kernel, every 16th weight (16 x 65,536 transitions)"
  device_ncu "$O/ncu.txt" /root/nb/bench_timing --benchmark_filter='BM_WaveCudaAllWeightsInt8/0/1/16/' ;;
sweep)
  step "whole sweep osu035, this build's default kernel"
  [ "$(elapsed)" -lt $((${DEVICE_BUDGET_S:-330} - 20)) ] && timeout 60 /usr/bin/time -v /root/nb/bench_timing --benchmark_filter='BM_DataSweepInt8/1' \
    --benchmark_counters_tabular=true 2>&1 | grep -E "BM_|Elapsed|Maximum resident|error" ;;
esac; done
echo "== done (+$(elapsed) s)"
