#!/usr/bin/env bash
# Issue #16 on the lent GPU: the lane kernel's lock-step gate walk (the default since session 19)
# against the jumps (HALO_WAVE_LANE_LOCKSTEP=0), on the osu035 built-in INT8 MAC's exhaustive
# sweep (256 weights x 65,536 transitions), after the equality test; Nsight Compute's counters of the
# default kernel over 16 weights; then the whole sweep. Binaries built on the dev machine,
# staged with
#   scripts/device_stage.sh lockstep build/bench/timing/bench_timing build/tests/unit/timing/test_timing build/bin/libhalo_cuda.so
#   mkdir -p .device/lockstep/mac && cp <halo characterize --mac int8 --liberty osu035 work dir>/int8-yosys-49edc1b632fd9cf8/mac_net.json \
#       /usr/share/qflow/tech/osu035/osu035_stdcells.lib .device/lockstep/mac/
# One call, carry .device/lockstep: scripts/device_lockstep.sh
set -uo pipefail
D=$PWD/.device/lockstep
O=${OUT:-/tmp/halo-out}; mkdir -p "$O"
source "$PWD/scripts/device_env.sh"
device_log "$O/lockstep.log"
device_unpack "$D" bin=/root/hb lib=/root/hl
device_banner
device_cuda_env /root/hl /root/hb/libhalo_cuda.so
device_wave_mac $D/mac; export HALO_DYNAMIC_THREADS=16
step "WaveformCuda (every configuration against the CPU engine, lock-step included)"
timeout 150 /root/hb/test_timing --gtest_filter='WaveformCuda*' 2>&1 | grep -E "^\[cuda\]|OK \]|FAILED|Failure|Expected|Which is|differ|error"
for lockstep in unset 0; do
  step "kernel alone, 256 x 65,536 transitions, HALO_WAVE_LANE_LOCKSTEP $lockstep"
  if [ "$lockstep" = unset ]; then unset HALO_WAVE_LANE_LOCKSTEP; else export HALO_WAVE_LANE_LOCKSTEP=$lockstep; fi
  timeout 60 /root/hb/bench_timing --benchmark_filter='BM_WaveCudaAllWeightsInt8/0/1/1/' \
    --benchmark_counters_tabular=true 2>&1 | grep -E "^BM_|^Benchmark|error" | tee -a "$O/bench.txt"
done
unset HALO_WAVE_LANE_LOCKSTEP
step "profile: ncu over the default lane kernel on every 16th weight (16 x 65,536 transitions)"
device_ncu "$O/ncu.txt" /root/hb/bench_timing --benchmark_filter='BM_WaveCudaAllWeightsInt8/0/1/16/'
step "whole sweep osu035, default kernel (lock-step)"
HALO_DYNAMIC_THREADS=16 timeout 60 /usr/bin/time -v /root/hb/bench_timing --benchmark_filter='BM_DataSweepInt8/1' \
  --benchmark_counters_tabular=true 2>&1 | grep -E "BM_|Elapsed|Maximum resident|error"
echo "== done (+$(elapsed) s)"
