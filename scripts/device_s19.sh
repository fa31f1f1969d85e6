#!/usr/bin/env bash
# Issue #16 on the lent GPU, session 19: is the lane kernel's default slower after the lock-step
# refactor (d4cd974)? Session 19's first call measured the default at 11.79 / 11.97 s against
# session 13's 8.96 s (same 640 threads/SM). This call runs, interleaved on one machine, the
# build before the refactor (363765d, staged as .device/lockbase) and main's build
# (.device/lockstep), default and lock-step, on the osu035 built-in INT8 MAC's exhaustive sweep.
# (Labels as of this call: "main-default" is the jumps, the default until bebce6a.)
#   scripts/device_stage.sh lockbase <363765d build>/bench/timing/bench_timing <363765d build>/bin/libhalo_cuda.so
# One call, carry .device/lockstep and .device/lockbase: scripts/device_s19.sh
set -uo pipefail
D=$PWD/.device/lockstep
B=$PWD/.device/lockbase
O=${OUT:-/tmp/halo-out}; mkdir -p "$O"
source "$PWD/scripts/device_env.sh"
device_log "$O/s19.log"
device_unpack "$D" bin=/root/hb lib=/root/hl
device_unpack "$B" bin=/root/bb
date -u; nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm,power.limit --format=csv,noheader; nproc
device_cuda_env /root/hl /root/hb/libhalo_cuda.so
export HALO_WAVE_NETLIST=$D/mac/mac_net.json HALO_WAVE_TOP=mac HALO_WAVE_LIBERTY=$D/mac/osu035_stdcells.lib
sweep() {  # sweep LABEL BENCH MODULE LOCKSTEP
  step "$1: kernel alone, 256 x 65,536 transitions"
  HALO_CUDA_MODULE=$3 HALO_WAVE_LANE_LOCKSTEP=$4 timeout 60 "$2" --benchmark_filter='BM_WaveCudaAllWeightsInt8/0/1/' \
    --benchmark_counters_tabular=true 2>&1 | grep -E "^BM_|^Benchmark|error" | sed "s|^BM_|$1 BM_|" | tee -a "$O/bench.txt"
  nvidia-smi --query-gpu=clocks.sm,temperature.gpu,power.draw --format=csv,noheader
}
for round in 1 2; do
  sweep "base-363765d-default" /root/bb/bench_timing /root/bb/libhalo_cuda.so 0
  sweep "main-default" /root/hb/bench_timing /root/hb/libhalo_cuda.so 0
  sweep "main-lockstep" /root/hb/bench_timing /root/hb/libhalo_cuda.so 1
done
echo "== done (+$(elapsed) s)"
