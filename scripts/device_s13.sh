#!/usr/bin/env bash
# Session 13 on the lent GPU: binaries built on the dev machine (sm_90) carried xz-compressed in
# .device/s13/{bin,lib,text}, the osu035 INT8 MAC in .device/s13/mac, the default model in two
# parts (one call's 64 MiB cannot hold it beside the binaries). Two calls back to back (the
# machine stays warm 30 s between them, so /root keeps what the first left):
#   one: unpacks; part A of the model into /root; test_cuda (every GPU test: the head's input
#        captured on the device, issue #15); issue #16: WaveformCuda* (every kernel configuration
#        against the CPU engine) and the kernel alone over 256 x 65,536 transitions (the base
#        module's lane kernel at 768 threads/SM, this build's default (640), 768, 640 and 384 with
#        the bit sets in shared memory, the level kernel at 512)
#   two: the whole sweep (default kernel); the default model (part A + the carried part B,
#        sha256 checked): `halo run --device cuda --quantize-head` (HALO acc and bal, baselines
#        rtn-w8 and gptq-w8-asym-dvfs, heads quantized, seed 1) and the same on the CPU
#        (16 threads); `halo quantize --method halo --stream --device cuda --quantize-head` and
#        `halo eval --quantized` of its directory (the head read back)
set -uo pipefail
D=$PWD/.device/s13
O=${OUT:-/tmp/halo-out}; mkdir -p "$O"
mode=${1:-one}
source "$PWD/scripts/device_env.sh"
device_log "$O/$mode.log"
if [ -d "$D/bin" ]; then
  device_unpack "$D" bin=/root/hb lib=/root/hl text=/root/data/text
  mkdir -p /root/mac && cp "$D"/mac/* /root/mac/
fi
[ -f "$D/model/model.partA" ] && cp "$D/model/model.partA" /root/model.partA
[ -x /root/hb/halo ] || { echo "/root/hb/halo missing: a fresh machine without the binaries (carry .device/s13 with bin/)"; exit 3; }
device_cuda_env /root/hl /root/hb/libhalo_cuda.so
export HALO_DATA=/root/data
H=/root/hb/halo
date -u; nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv,noheader; nproc
export HALO_WAVE_NETLIST=/root/mac/int8_osu035.json HALO_WAVE_TOP=mac HALO_WAVE_LIBERTY=/root/mac/osu035_stdcells.lib HALO_DYNAMIC_THREADS=16
bench() {  # bench MODULE FILTER LIMIT [SHARED]
  HALO_WAVE_LANE_SHARED=${4:-0} HALO_CUDA_MODULE=/root/hb/$1 timeout "$3" /root/hb/bench_timing --benchmark_filter="$2" \
    --benchmark_counters_tabular=true 2>&1 | grep -E "^BM_|^Benchmark|error" | sed "s/^/[$1 shared=${4:-0}] /" | tee -a "$O/bench.txt"
}
case "$mode" in
  one)
    step "test_cuda"
    timed timeout 150 /root/hb/test_cuda > "$O/test_cuda.log" 2>&1
    grep -E "^\[  (PASSED|FAILED|SKIPPED) |OK \]|FAILED|Failure|Expected|Which is" "$O/test_cuda.log" | head -60
    step "WaveformCuda (osu035, this build)"
    timeout 90 /root/hb/test_timing --gtest_filter='WaveformCuda*' 2>&1 | grep -E "^\[cuda\]|OK \]|FAILED|Failure|Expected|Which is|differ|error"
    step "kernel alone, 256 x 65,536 transitions, osu035"
    bench libhalo_cuda_base.so 'BM_WaveCudaAllWeightsInt8/768/1/' 40
    bench libhalo_cuda.so 'BM_WaveCudaAllWeightsInt8/0/1/' 30
    bench libhalo_cuda.so 'BM_WaveCudaAllWeightsInt8/768/1/' 30
    bench libhalo_cuda.so 'BM_WaveCudaAllWeightsInt8/640/1/' 30 1
    bench libhalo_cuda.so 'BM_WaveCudaAllWeightsInt8/0/1/' 30
    [ "$(elapsed)" -lt 200 ] && bench libhalo_cuda.so 'BM_WaveCudaAllWeightsInt8/512/0/' 40
    ;;
  two)
    step "whole sweep osu035, default kernel"
    HALO_DYNAMIC_CSV=$O/sweep_osu035.csv timeout 40 /usr/bin/time -v /root/hb/bench_timing --benchmark_filter='BM_DataSweepInt8/1' \
      --benchmark_counters_tabular=true 2>&1 | grep -E "BM_|Elapsed|Maximum resident|error"
    M=/root/data/models/smollm2-135m-instruct-q4_1.gguf
    mkdir -p /root/data/models
    if [ -f /root/model.partA ]; then
      cat /root/model.partA "$D"/model/model.partB > "$M"
      echo "$(cat "$D/model/model.sha256")  $M" | sha256sum -c && have_model=1
    else echo "/root/model.partA missing: the machine was given back between the calls"; fi
    [ -n "${have_model:-}" ] || exit 4
    common=(--profile "$PWD/docs/results/profiles/int8-yosys.json" --counts 0,128,16,9 --level-voltages 1,1,1.1,1.2
            --extra-mac-energy-scales 0.00174143 --quantize-head --no-fp-reference --quiet --objectives acc,bal
            --baselines rtn-w8,gptq-w8-asym-dvfs --seed 1 --threads 16)
    step "halo run --device cuda --quantize-head (default model, seed 1)"
    timed timeout 150 "$H" run "${common[@]}" --device cuda --out /root/run_cuda 2>&1 | tail -22
    cp /root/run_cuda/results.json "$O/run_cuda.json" 2>/dev/null
    step "halo run, CPU (16 threads), same flags"
    timed timeout 120 "$H" run "${common[@]}" --out /root/run_cpu 2>&1 | tail -22
    cp /root/run_cpu/results.json "$O/run_cpu.json" 2>/dev/null
    step "halo quantize --method halo --stream --device cuda --quantize-head, then eval --quantized"
    timed timeout 90 "$H" quantize --method halo --objective bal --profile "$PWD/docs/results/profiles/int8-yosys.json" \
      --stream --device cuda --quantize-head --out /root/q_stream_cuda --quiet 2>&1 | tail -6
    ls /root/q_stream_cuda | grep -c hqt | sed 's/^/.hqt files: /'; ls -la /root/q_stream_cuda/output.hqt
    cp /root/q_stream_cuda/manifest.json "$O/q_stream_cuda_manifest.json" 2>/dev/null
    timed timeout 60 "$H" eval --quantized /root/q_stream_cuda --max-chunks 4 --threads 16 --quiet 2>&1 | tail -6
    ;;
esac
step "done"
