#!/usr/bin/env bash
# Issue #16, session 19, second GPU call: which gate-walk loop form the lane kernel should use.
# An experiment build (main 558a6e7 + simulate_wave_lane<Cached, Walk>, selected on the device by
# HALO_WAVE_LANE_WALK; not committed, its forms are listed in docs/results/characterize.md,
# session 19) staged as .device/walkexp beside the pre-refactor build (.device/lockbase) and main's
# (.device/lockstep). Carry all three: scripts/device_s19b.sh
set -uo pipefail
D=$PWD/.device/lockstep
O=${OUT:-/tmp/halo-out}; mkdir -p "$O"
source "$PWD/scripts/device_env.sh"
device_log "$O/s19b.log"
device_unpack "$D" bin=/root/hb lib=/root/hl
device_unpack "$PWD/.device/lockbase" bin=/root/bb
device_unpack "$PWD/.device/walkexp" bin=/root/xb
date -u; nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm,power.limit --format=csv,noheader; nproc
device_cuda_env /root/hl /root/hb/libhalo_cuda.so
export HALO_WAVE_NETLIST=$D/mac/mac_net.json HALO_WAVE_TOP=mac HALO_WAVE_LIBERTY=$D/mac/osu035_stdcells.lib
sweep() {  # sweep LABEL DIR WALK LOCKSTEP
  step "$1: kernel alone, 256 x 65,536 transitions"
  HALO_CUDA_MODULE=$2/libhalo_cuda.so HALO_WAVE_LANE_WALK=$3 HALO_WAVE_LANE_LOCKSTEP=$4 timeout 60 "$2/bench_timing" \
    --benchmark_filter='BM_WaveCudaAllWeightsInt8/0/1/' --benchmark_counters_tabular=true 2>&1 \
    | grep -E "^BM_|error" | sed "s|^BM_|$1 BM_|" | tee -a "$O/bench.txt"
}
for round in 1 2; do
  sweep "base-363765d" /root/bb "" 0
  sweep "main-lockstep" /root/hb "" 1
  for w in 0 1 2 3 4 5; do
    HALO_WAVE_LANE_WALK=$w sweep "exp-walk$w" /root/xb $w 0
  done
done
for w in 3 5 2; do
  step "WaveformCuda equality, lane defaults replaced by walk $w"
  HALO_CUDA_MODULE=/root/xb/libhalo_cuda.so HALO_WAVE_LANE_WALK=$w timeout 100 /root/xb/test_timing \
    --gtest_filter='WaveformCuda.EqualsCpuEngine*' 2>&1 | grep -E "^\[cuda\].*defaults \(|OK \]|FAILED|Failure"
done
echo "== done (+$(elapsed) s)"
