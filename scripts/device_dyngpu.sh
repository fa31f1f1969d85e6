#!/usr/bin/env bash
# Issue #16 on the lent H200 (docs/results/characterize.md, sessions 9-10): the CUDA engine of the
# exhaustive INT8 data-dependent sweep. Binaries built on the dev machine (sm_90) and carried
# xz-compressed in .device/dyngpu/{bin,lib}: test_timing, bench_timing, libhalo_cuda.so (this
# build) and libhalo_cuda_base.so (the module of the build before, for a side-by-side timing in
# the same call); the osu035 INT8 MAC's netlist (Yosys JSON) and Liberty file in .device/dyngpu/mac.
# Steps (arguments, default "test bench sweep"), each under its own time limit, stopping before a
# step once $DYNGPU_BUDGET_S (default 150) seconds have passed:
#   test   test_timing WaveformCuda* (every activation pair of 8 weights; lane kernel defaults, bit
#          sets in shared memory, small capacity; level kernel defaults and small capacity; all
#          against the CPU engine)
#   bench  BM_WaveCudaAllWeightsInt8 (256 x 65,536 transitions): the base module's lane kernel at
#          768 threads/SM, then this build's lane kernel at its default (640 since session 13),
#          at 768, at 640 and 384 with the bit sets in shared memory, and the level kernel at 512
#   sweep  BM_DataSweepInt8/1 (the whole sweep, default kernel), CSV into $OUT
#   ncu    Nsight Compute on the lane kernel of the test launch
set -uo pipefail
D=$PWD/.device/dyngpu
O=${OUT:-/tmp/halo-out}; mkdir -p "$O"
source "$PWD/scripts/device_env.sh"
device_log "$O/run.log"
budget=${DYNGPU_BUDGET_S:-150}
over() { [ "$(elapsed)" -ge "$budget" ] && { echo "(budget of $budget s spent: skipping $*)"; return 0; }; return 1; }
device_unpack "$D" bin=/root/hb lib=/root/hl
device_cuda_env /root/hl /root/hb/libhalo_cuda.so
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm --format=csv,noheader; nproc
for m in libhalo_cuda.so libhalo_cuda_base.so; do
  echo "$m:"; cuobjdump -res-usage /root/hb/$m 2>/dev/null | grep -A1 "wave_" | grep -oE "wave_[a-z_]+Li[0-9]|REG:[0-9]+|STACK:[0-9]+" | paste -sd' ' | sed 's/ wave_/\nwave_/g'
done
export HALO_WAVE_NETLIST=$D/mac/int8_osu035.json HALO_WAVE_TOP=mac HALO_WAVE_LIBERTY=$D/mac/osu035_stdcells.lib HALO_DYNAMIC_THREADS=16
bench() {  # bench MODULE FILTER LIMIT [SHARED]: SHARED=1 puts the lane kernel's bit sets in shared memory
  HALO_WAVE_LANE_SHARED=${4:-0} HALO_CUDA_MODULE=/root/hb/$1 timeout "$3" /root/hb/bench_timing --benchmark_filter="$2" \
    --benchmark_counters_tabular=true 2>&1 | grep -E "^BM_|^Benchmark|error" | sed "s/^/[$1 shared=${4:-0}] /" | tee -a "$O/bench.txt"
}
for what in ${@:-test bench sweep}; do
  case "$what" in
    test)
      step "test osu035 (this build)"
      timeout 90 /root/hb/test_timing --gtest_filter='WaveformCuda*' 2>&1 | grep -E "^\[cuda\]|OK \]|FAILED|Failure|Expected|Which is|differ|error" ;;
    bench)
      step "bench osu035: kernel alone, 256 x 65,536 transitions"
      over "base lane 768" || bench libhalo_cuda_base.so 'BM_WaveCudaAllWeightsInt8/768/1/' 40
      over "lane default" || bench libhalo_cuda.so 'BM_WaveCudaAllWeightsInt8/0/1/' 30
      over "lane 768" || bench libhalo_cuda.so 'BM_WaveCudaAllWeightsInt8/768/1/' 30
      over "lane 640 shared" || bench libhalo_cuda.so 'BM_WaveCudaAllWeightsInt8/640/1/' 30 1
      over "lane 384 shared" || bench libhalo_cuda.so 'BM_WaveCudaAllWeightsInt8/384/1/' 30 1
      over "level 512" || bench libhalo_cuda.so 'BM_WaveCudaAllWeightsInt8/512/0/' 40 ;;
    sweep)
      over "whole sweep" && continue
      step "whole sweep osu035, default kernel (CSV $O/sweep_osu035.csv)"
      HALO_DYNAMIC_CSV=$O/sweep_osu035.csv timeout 40 /usr/bin/time -v /root/hb/bench_timing --benchmark_filter='BM_DataSweepInt8/1' \
        --benchmark_counters_tabular=true 2>&1 | grep -E "BM_|Elapsed|Maximum resident|error" ;;
    ncu)
      step "ncu lane kernel"
      timeout 200 ncu --clock-control none -k regex:wave_kernel -c 1 --section SpeedOfLight --section Occupancy \
        --section WarpStateStats --section SchedulerStats --section MemoryWorkloadAnalysis --section LaunchStats \
        /root/hb/test_timing --gtest_filter='WaveformCuda*' > "$O/ncu.txt" 2>&1
      grep -vE "^\[|^==PROF==" "$O/ncu.txt" | grep -E "Throughput|Registers|Warp Cycles|Active Threads|Eligible|Issued|Achieved|Theoretical Occ|L1|L2|Duration|Local" | head -40 ;;
  esac
done
step "summary"
grep -v "\] Benchmark" "$O/bench.txt" 2>/dev/null | awk '{print $1, $2, $3, "wall", $4, $5}'
step done
