#!/usr/bin/env bash
# Session 9, helper actgpu (issue #13): every --act-format on the GPU. One call on the lent H200
# with binaries built on the dev machine (sm_90), carried xz-compressed in .device/actgpu/{bin,lib},
# the eval text in .device/actgpu/text. The default model's 98 MB GGUF cannot travel in one call
# (64 MiB), so the evals use the synthetic checkpoint of its shape (`halo synth --shape
# smollm2-135m`: SmolLM2-135M's config, seeded random weights):
#   the activation tests of test_cuda (every row of the GPU's activation-format table bit for bit,
#   the attention operands, the forward's logits per format; the host-compiled rows too);
#   eval --device cpu and --device cuda per format (CPU evals in the background, the GPU's in the
#   foreground), ctx 512, 2 chunks; then the rest of test_cuda while the CPU evals finish.
# Everything is bounded so the call ends within its limit: ACT_LIMIT_S (default 165) in all.
set -uo pipefail
D=$PWD/.device/actgpu
O=${OUT:-/tmp/halo-out}; mkdir -p "$O"
exec > >(tee "$O/actgpu.log") 2>&1
t0=$EPOCHREALTIME
since() { awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN{print int(b-a)}'; }
left() { echo $(( ${ACT_LIMIT_S:-165} - $(since) )); }
step() { echo; echo "== $(date -u +%H:%M:%S) (+$(since) s) $*"; }
source "$PWD/scripts/device_env.sh"
device_unpack "$D" bin=/root/hb lib=/root/hl
device_cuda_env /root/hl /root/hb/libhalo_cuda.so
H=/root/hb/halo
date -u; nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader; nproc
step "activation tests (test_cuda)"
F='CudaActivationQuant.*:GpuActivationTable.*:ActRowQuant.*'
timeout 45 /root/hb/test_cuda --gtest_filter="$F" > "$O/test_act.log" 2>&1; echo "rc $?"
grep -E "^\[  (PASSED|FAILED) |^\[ +(OK|FAILED) +\]|^act" "$O/test_act.log"
step "synth smollm2-135m"
timeout 30 $H synth --shape smollm2-135m --out /root/sm --dtype f16 2>&1 | tr '\r' '\n' | tail -1
FORMATS="none int8_per_token int4@g64 int4-asym@g64 fp8-e4m3@g32 mxfp4 nvfp4 amove-int4-g32c4 olive4 ant4 int4@g64+attn amove-conservative int8@row+attn=mxfp4 e4m3-raw@row"
E="--model /root/sm --text $D/text/eval.txt --ctx 512 --max-chunks 2 --quiet"
act_flag() { [ "$1" = none ] || echo "--act-format $1"; }
J=/root/evals; mkdir -p $J  # per-format results; only files named in letters, digits, '.', '_', '-' come back, so not under $O
step "eval cpu per format (background)"
( for f in $FORMATS; do
    [ "$(left)" -lt 8 ] && break
    timeout $(( $(left) - 5 > 1 ? $(left) - 5 : 1 )) $H eval $E --device cpu $(act_flag "$f") --json "$J/cpu_$f.json" > /dev/null 2> "$J/cpu_$f.err"
  done ) &
cpu_pid=$!
step "eval cuda per format"
for f in $FORMATS; do
  timeout 30 $H eval $E --device cuda $(act_flag "$f") --json "$J/cuda_$f.json" > /dev/null 2> "$J/cuda_$f.err" || { echo "cuda $f failed:"; tail -3 "$J/cuda_$f.err"; }
done
step "the rest of test_cuda"
timeout $(( $(left) - 40 > 5 ? $(left) - 40 : 5 )) /root/hb/test_cuda --gtest_filter="-$F" > "$O/test_rest.log" 2>&1; echo "rc $?"
grep -E "^\[  (PASSED|FAILED|SKIPPED) |FAILED|Failure" "$O/test_rest.log" | head -20
step "waiting for the cpu evals"
wait $cpu_pid
step "cpu vs cuda"
python3 - "$J" "$O" $FORMATS <<'PY'
import json, pathlib, sys
o = pathlib.Path(sys.argv[1])
rows = []
print("| activations | cpu | cuda | relative difference | tokens/s cpu / cuda |")
print("| --- | --- | --- | --- | --- |")
for f in sys.argv[3:]:
    r = {}
    for dev in ("cpu", "cuda"):
        p = o / f"{dev}_{f}.json"
        r[dev] = json.loads(p.read_text()) if p.exists() and p.stat().st_size else None
    c, g = r["cpu"], r["cuda"]
    cell = lambda x: f"{x['perplexity']:.4f}" if x else "not run (limit)"
    rel = f"{abs(g['perplexity'] - c['perplexity']) / c['perplexity']:.2e}" if c and g else ""
    sp = f"{c['tokens_per_s']:.0f} / " if c else "- / "
    sp += f"{g['tokens_per_s']:.0f}" if g else "-"
    print(f"| {f} | {cell(c)} | {cell(g)} | {rel} | {sp} |")
    rows.append({"act_format": f, "cpu": c, "cuda": g})
(pathlib.Path(sys.argv[2]) / "evals.json").write_text(json.dumps(rows, indent=1))  # all the JSONs, one file back
PY
step "end"
