#!/usr/bin/env bash
# Session 14 on the lent machine's 16 CPU cores (issue #15's long setting; no GPU work): halo run
# with 32 x 512 calibration tokens and every chunk of the eval text at ctx 512, heads quantized,
# seeds 1-3, on the yosys INT8 MAC profile; the W8 rows and HALO's accurate points in one run per
# seed, the W4 rows and HALO's fast points (Fisher sensitivity) in another. Binaries built on the
# dev machine, carried xz-compressed in .device/s14/{bin,lib,text} with part A of the default model
# (one call's 64 MiB cannot hold it beside the binaries); part B travels in .device/s14b. Calls
# back to back (the machine is given back 30 s after a call):
#   scripts/device_s14.sh one      unpacks, keeps part A in /root
#   scripts/device_s14.sh evalscale  joins the model, times halo eval at 1/4/8/16 threads (two binaries)
#   scripts/device_s14.sh runs     joins the model (sha256 checked), then runs every run not yet
#                                  done on this machine, in order, while RUN_BUDGET_S (default 540)
#                                  lasts; each finished run's results.json and log land in $OUT
#                                  (OUT/<run>.json; a run already done on this machine is copied again)
# Session 14 (H100 host, 04:14-04:23 UTC): the first run, s1-rtn, did not end in its 560 s (1,308 s
# of CPU: halo run used 2.3 of the 16 cores), so nothing came back (scale_logs/s14-device-long.log).
set -uo pipefail
D=$PWD/.device/s14
O=${OUT:-/tmp/halo-out}; mkdir -p "$O"
mode=${1:-one}
source "$PWD/scripts/device_env.sh"
device_log "$O/$mode.log"
date -u; nproc; lscpu | grep -E "Model name"
case "$mode" in
  one)
    device_unpack "$D" bin=/root/hb lib=/root/hl text=/root/data/text
    cp "$D/model/model.partA" /root/model.partA
    ls -la /root/hb /root/hl /root/data/text /root/model.partA
    LD_LIBRARY_PATH=/root/hl OPENBLAS_CORETYPE=Haswell /root/hb/halo version
    ;;
  runs)
    [ -x /root/hb/halo ] || { echo "/root/hb/halo missing: the machine was given back after call one"; exit 3; }
    M=/root/data/models/smollm2-135m-instruct-q4_1.gguf
    mkdir -p /root/data/models /root/long
    if [ ! -f "$M" ]; then
      cat /root/model.partA "$PWD/.device/s14b/model.partB" > "$M"
      echo "$(cat "$PWD/.device/s14b/model.sha256")  $M" | sha256sum -c || exit 4
    fi
    # OpenBLAS 0.3.21 takes this CPU for Prescott, where LAPACK can crash (device_env.sh).
    export LD_LIBRARY_PATH=/root/hl OPENBLAS_CORETYPE=Haswell
    common=(--model "$M" --eval /root/data/text/eval.txt --calib /root/data/text/calib.txt
            --profile "$PWD/docs/results/profiles/int8-yosys.json" --bf16-profile /root/data/text/bf16-yosys.json
            --counts 0,128,16,9 --level-voltages 1,1,1.1,1.2 --extra-mac-energy-scales 0.00174143
            --samples 32 --seq-len 512 --ctx 512 --max-chunks -1 --quantize-head --threads 16 --quiet --force)
    w8=(--objectives acc,model@0.8/0.2/0/0,model@0/1/0/0)
    w4=(--objectives bal,model@0/0/1/0 --sensitivity fisher)
    budget=${RUN_BUDGET_S:-540}
    one_run() {  # name args...
      local name=$1; shift
      [ -s "/root/long/$name/results.json" ] && { cp "/root/long/$name/results.json" "$O/$name.json"; return 0; }
      local left=$((budget - $(elapsed)))
      [ "$left" -gt 60 ] || { echo "skip $name: ${left} s left of the call"; return 0; }
      echo "== $(date -u +%H:%M:%S) (+$(elapsed) s) $name: halo run ${*}"
      /usr/bin/time -f "[$name: %e s wall, %U s user, peak RSS %M kB, rc %x]" timeout "$left" \
        /root/hb/halo run "${common[@]}" --out "/root/long/$name" "$@" > "$O/$name.log" 2>&1
      tail -1 "$O/$name.log"
      grep -vE "^\[" "$O/$name.log" | tail -25
      [ -s "/root/long/$name/results.json" ] && cp "/root/long/$name/results.json" "$O/$name.json"
    }
    # Small runs (one group of rows each), so a call cut by its limit loses one group at most; the
    # summary merges a seed's groups. Calibration-free rows (RTN, iso, BF16, FP32) once, on seed 1.
    one_run s1-rtn --objectives= --baselines rtn-w8,iso,rtn-w8-asym-dvfs,rtn-w8-sym-dvfs,bf16,rtn-w4,rtn-w4-asym-dvfs,rtn-w4-sym-dvfs --seed 1
    for s in 1 2 3; do  # the W8 end first (the dominance claim), then the W4 end
      one_run s$s-halo8 "${w8[@]}" --baselines= --no-fp-reference --seed $s
      one_run s$s-gptq8 --objectives= --baselines gptq-w8-asym-dvfs,gptq-w8-sym-dvfs --no-fp-reference --seed $s
    done
    for s in 1 2 3; do
      one_run s$s-halo4 "${w4[@]}" --baselines= --no-fp-reference --seed $s
      one_run s$s-gptq4 --objectives= --baselines gptq-w4-g128,gptq-w4-asym-dvfs,gptq-w4-sym-dvfs --no-fp-reference --seed $s
    done
    ls /root/long
    ;;
  evalscale)
    # halo eval's thread scaling on this machine: main 9f99330 (halo) against the build with the
    # gated activation and the per-token NLL on the model's threads (halo-new), 16 chunks of 256.
    [ -x /root/hb/halo-new ] || { echo "/root/hb/halo-new missing: the machine was given back after call one"; exit 3; }
    M=/root/data/models/smollm2-135m-instruct-q4_1.gguf
    mkdir -p /root/data/models
    if [ ! -f "$M" ]; then
      cat /root/model.partA "$PWD/.device/s14b/model.partB" > "$M"
      echo "$(cat "$PWD/.device/s14b/model.sha256")  $M" | sha256sum -c || exit 4
    fi
    export LD_LIBRARY_PATH=/root/hl OPENBLAS_CORETYPE=Haswell
    for t in 1 4 8 16; do
      for b in halo halo-new; do
        echo "$b threads $t: $(/root/hb/$b eval --model "$M" --text /root/data/text/eval.txt --max-chunks 16 --ctx 256 --threads $t --quiet --json /tmp/$b-$t.json 2>&1 | tail -1) ppl $(python3 -c "import json; print(json.load(open('/tmp/$b-$t.json'))['perplexity'])")"
      done
    done
    ;;
esac
echo "== done (+$(elapsed) s)"
