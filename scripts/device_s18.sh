#!/usr/bin/env bash
# Session 18 on the lent machine: where does W8A8 perplexity differ between machines? The same
# binary (main 784a70b, .device/s16) gives rtn-w8 36.7151 on the lent Intel host (part J) and
# 36.5971 on the AMD dev VM, FP32 35.2198 on both. The binary, OpenBLAS and libgfortran are
# carried; the C and C++ runtimes (glibc's libm among them) are the host's. Here each probe runs
# twice at once, one core each: with the host's runtimes, and with the dev VM's (its ld.so,
# libc, libm, libstdc++, libgcc_s carried in .device/s18g):
#   rtn-w8 (per-channel W8, per-token A8; no calibration), FP32, and FP32 weights with A8 only.
# Calls back to back (the machine is given back 30 s after a call):
#   scripts/device_s18.sh one    carry .device/s16 and .device/s18g: unpacks, keeps part A
#   scripts/device_s18.sh libm   carry .device/s16b: joins the model, runs the six probes
set -uo pipefail
O=${OUT:-/tmp/halo-out}; mkdir -p "$O"
mode=${1:-one}
source "$PWD/scripts/device_env.sh"
device_log "$O/$mode.log"
date -u; lscpu | grep -E "Model name|^CPU\(s\)"; ldd --version | head -1
M=/root/data/models/smollm2-135m-instruct-q4_1.gguf
case "$mode" in
  one)
    device_unpack "$PWD/.device/s16" bin=/root/hb lib=/root/hl text=/root/data/text
    device_unpack "$PWD/.device/s18g" lib=/root/vmlib
    cp "$PWD/.device/s16/model/model.partA" /root/model.partA
    ls -la /root/hb /root/hl /root/vmlib
    ;;
  libm)
    [ -x /root/hb/halo ] || { echo "/root/hb/halo missing: the machine was given back after call one"; exit 3; }
    mkdir -p /root/data/models
    cat /root/model.partA "$PWD/.device/s16b/model.partB" > "$M"
    echo "$(cat "$PWD/.device/s16b/model.sha256")  $M" | sha256sum -c || exit 4
    export OPENBLAS_CORETYPE=Haswell OPENBLAS_NUM_THREADS=1
    T=/root/data/text
    host() { LD_LIBRARY_PATH=/root/hl /root/hb/halo "$@"; }
    vm() { /root/vmlib/ld-linux-x86-64.so.2 --library-path /root/vmlib:/root/hl /root/hb/halo "$@"; }
    host version; vm version
    for rt in host vm; do
      $rt run --model "$M" --eval $T/eval.txt --calib $T/calib.txt --profile "$PWD/docs/results/profiles/int8-yosys.json" \
        --counts 0,128,16,9 --level-voltages 1,1,1.1,1.2 --samples 32 --seq-len 512 --ctx 512 --max-chunks -1 \
        --quantize-head --threads 1 --quiet --force --objectives= --baselines rtn-w8 --no-fp-reference --seed 1 \
        --out /root/out-$rt-rtn8 > "$O/$rt-rtn8.log" 2>&1 &
      $rt eval --model "$M" --text $T/eval.txt --ctx 512 --max-chunks -1 --threads 1 --quiet --json "$O/$rt-fp32.json" > "$O/$rt-fp32.log" 2>&1 &
      $rt eval --model "$M" --text $T/eval.txt --ctx 512 --max-chunks -1 --threads 1 --quiet --act-format int8_per_token \
        --json "$O/$rt-a8.json" > "$O/$rt-a8.log" 2>&1 &
    done
    wait
    for rt in host vm; do cp /root/out-$rt-rtn8/results.json "$O/$rt-rtn8.json" 2>/dev/null; done
    python3 - "$O" <<'PY'
import json, pathlib, sys
o = pathlib.Path(sys.argv[1])
for rt in ("host", "vm"):
    r = json.loads((o / f"{rt}-rtn8.json").read_text()) if (o / f"{rt}-rtn8.json").exists() else None
    f = json.loads((o / f"{rt}-fp32.json").read_text()) if (o / f"{rt}-fp32.json").exists() else None
    a = json.loads((o / f"{rt}-a8.json").read_text()) if (o / f"{rt}-a8.json").exists() else None
    print(rt, "rtn-w8", r and repr(r["variants"][0]["perplexity"]), "fp32", f and repr(f["perplexity"]), "a8", a and repr(a["perplexity"]))
PY
    ;;
esac
echo "== done (+$(elapsed) s)"
