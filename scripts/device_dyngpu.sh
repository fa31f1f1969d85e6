#!/usr/bin/env bash
# Issue #16 on the lent H200 (docs/results/characterize.md, session 9): the CUDA engine of the
# exhaustive INT8 data-dependent sweep, level kernel vs lane kernel. Binaries built on the dev
# machine (sm_90) and carried xz-compressed in .device/dyngpu/{bin,lib}; the two MACs' netlists
# (Yosys JSON) and Liberty files in .device/dyngpu/mac. Steps (arguments, default "test bench"):
#   test   test_timing WaveformCuda* on both MACs (every activation pair of 8 weights; level
#          kernel defaults, level kernel small capacity, lane kernel; all against the CPU engine)
#   bench  BM_WaveCudaAllWeightsInt8 (256 x 65,536 transitions; level kernel at 512 and 768
#          threads/SM, lane kernel) and BM_DataSweepInt8/1 (the whole sweep) on both MACs
#   ncu    Nsight Compute on the level kernel of the osu035 test launch
set -uo pipefail
D=$PWD/.device/dyngpu
O=${OUT:-/tmp/halo-out}; mkdir -p "$O"
exec > >(tee "$O/run.log") 2>&1
t_start=$EPOCHREALTIME
step() { echo; echo "== $(date -u +%H:%M:%S) (+$(awk -v a="$t_start" -v b="$EPOCHREALTIME" 'BEGIN{print int(b - a)}') s) $*"; }
source "$PWD/scripts/device_env.sh"
device_unpack "$D" bin=/root/hb lib=/root/hl
device_cuda_env /root/hl /root/hb/libhalo_cuda.so
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm --format=csv,noheader; nproc
cuobjdump -res-usage /root/hb/libhalo_cuda.so 2>/dev/null | grep -A1 "wave_" | grep -oE "wave_[a-z_]+Li[0-9]|REG:[0-9]+|STACK:[0-9]+|LOCAL:[0-9]+" | paste -sd' ' | sed 's/wave_/\nwave_/g'
echo
M=$D/mac
macs="osu035:$M/int8_osu035.json:mac:$M/osu035_stdcells.lib osu018:$M/int8_osu018.json:t:$M/osu018_stdcells.lib"
for what in ${@:-test bench}; do
  for spec in $macs; do
    IFS=: read -r name json top lib <<< "$spec"
    export HALO_WAVE_NETLIST=$json HALO_WAVE_TOP=$top HALO_WAVE_LIBERTY=$lib HALO_DYNAMIC_THREADS=16
    case "$what" in
      test)
        step "test $name"
        timeout 240 /root/hb/test_timing --gtest_filter='WaveformCuda*' 2>&1 | grep -E "^\[cuda\]|OK \]|FAILED|Failure|Expected|Which is|differ|error" ;;
      bench)
        step "bench $name: kernel alone"
        lane=""; [ "$name" = osu035 ] && lane="|BM_WaveCudaAllWeightsInt8/768/1"  # the lane kernel (before) once
        timeout 240 /root/hb/bench_timing --benchmark_filter="BM_WaveCudaAllWeightsInt8/(512|768)/0$lane" \
          --benchmark_counters_tabular=true 2>&1 | grep -v "^\*\*\*"
        step "bench $name: whole sweep (CSV $O/sweep_$name.csv)"
        HALO_DYNAMIC_CSV=$O/sweep_$name.csv timeout 240 /usr/bin/time -v /root/hb/bench_timing --benchmark_filter='BM_DataSweepInt8/1' \
          --benchmark_counters_tabular=true 2>&1 | grep -E "BM_|Elapsed|Maximum resident|User time|System time|device_s|error" ;;
      ncu)
        [ "$name" = osu035 ] || continue
        step "ncu $name level kernel"
        timeout 200 ncu --clock-control none -k regex:wave_level_kernel -c 1 --section SpeedOfLight --section Occupancy \
          --section WarpStateStats --section SchedulerStats --section MemoryWorkloadAnalysis --section LaunchStats \
          /root/hb/test_timing --gtest_filter='WaveformCuda*' > "$O/ncu_$name.txt" 2>&1
        grep -vE "^\[|^==PROF==" "$O/ncu_$name.txt" | grep -E "Throughput|Registers|Shared Memory|Warp Cycles|Active Threads|Eligible|Issued|Achieved|Theoretical Occ|Stall|L1|L2|Duration|Block Limit|Local" | head -60 ;;
    esac
  done
done
step done
