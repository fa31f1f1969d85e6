#!/usr/bin/env bash
# Runs halo's GPU measurements on a lent GPU machine (see docs/gpu.md). Expects prebuilt
# binaries in .device/bin and their non-system libraries in .device/lib. Writes to $OUT.
# Usage: scripts/device_gpu_bench.sh tables|profile
set -uo pipefail
export LD_LIBRARY_PATH="$PWD/.device/lib:/usr/local/cuda/lib64:${LD_LIBRARY_PATH:-}"
out="${OUT:-/tmp/halo-gpu}"; mkdir -p "$out"
nvidia-smi --query-gpu=name,driver_version,power.limit,clocks.max.sm,temperature.gpu --format=csv | tee "$out/device.csv"
case "${1:-tables}" in
  tables|all)
    .device/bin/halo gpu-bench --self-test 2>&1 | tee "$out/self_test.txt"
    .device/bin/test_gpu 2>&1 | tail -4 | tee "$out/test_gpu.txt"
    sets='rtn8_studentt;uniform_random;rtn4_studentt;codebook:0,8,16,32,48,64,80,96,112;codebook:0,8,16,24,32,40,48,56,64,72,80,88,96,104,112,120;zeros'
    .device/bin/halo gpu-bench --quiet --shapes 8192x8192x8192 --kinds int8,fp8 --weights "$sets" --reps 5 --seconds 2 \
        --json "$out/square.json" --md "$out/square.md"
    .device/bin/halo gpu-bench --quiet --preset smollm2 --tokens 8192 --kinds int8 \
        --weights 'rtn8_studentt;codebook:0,8,16,32,48,64,80,96,112;zeros' --reps 5 --seconds 1 \
        --json "$out/smollm2.json" --md "$out/smollm2.md"
    ;;
  layers)
    .device/bin/halo gpu-bench --quiet --preset smollm2 --tokens 8192 --kinds int8 \
        --weights 'rtn8_studentt;codebook:0,8,16,32,48,64,80,96,112;zeros' --reps 5 --seconds 1 \
        --json "$out/smollm2.json" --md "$out/smollm2.md"
    .device/bin/halo gpu-bench --quiet --shapes 8192x8192x8192 --kinds int8 --reps 3 --seconds 1 \
        --weights 'popcount:0;popcount:1;popcount:2;popcount:3;popcount:4;popcount:5;popcount:6;popcount:7;popcount:8;sign:pos;sign:neg;rtn8_studentt' \
        --json "$out/classes.json" --md "$out/classes.md"
    .device/bin/halo gpu-bench --quiet --shapes 8192x8192x8192 --kinds int8 --reps 1 --seconds 0.5 --warmup 0.2 --profile-out "$out/gpu_profile_int8.json"
    ;;
  real)
    # Real SmolLM2-135M block-15 operands exported by `halo gpu-bench --export` into .device/codes.
    .device/bin/halo gpu-bench --quiet --codes .device/codes --tokens 8192 --kinds int8 --reps 5 --seconds 0.6 --warmup 0.3 \
        --json "$out/real_layers.json" --md "$out/real_layers.md"
    sets=""
    for m in rtn-w8 gptq-w4 halo-acc halo-bal halo-perf; do sets="$sets;tiled_file:.device/codes/$m-ffn_up.i8@1536x576"; done
    .device/bin/halo gpu-bench --quiet --shapes 8192x8192x8192 --kinds int8 --weights "${sets#;}" --reps 5 --seconds 2 \
        --json "$out/real_square.json" --md "$out/real_square.md"
    .device/bin/halo gpu-bench --quiet --shapes 8192x8192x8192 --kinds int8 --reps 3 --seconds 1 --profile-out "$out/gpu_profile_int8_popcount.json"
    ;;
  profile)
    .device/bin/halo gpu-bench --quiet --shapes 8192x8192x8192 --kinds int8 --reps 1 --seconds 0.5 --warmup 0.2 --profile-out "$out/gpu_profile_int8.json"
    .device/bin/halo gpu-bench --quiet --shapes 8192x8192x8192 --kinds int8 --reps 3 --seconds 1 \
        --weights 'popcount:0;popcount:1;popcount:2;popcount:3;popcount:4;popcount:5;popcount:6;popcount:7;popcount:8;sign:pos;sign:neg;rtn8_studentt' \
        --json "$out/classes.json" --md "$out/classes.md"
    ;;
esac
