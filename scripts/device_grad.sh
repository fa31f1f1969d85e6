#!/usr/bin/env bash
# Session 8, helper grad (issue #13): AWQ's search and activation quantization on the GPU, one
# call on the lent H200 with binaries built on the dev machine (sm_90), carried xz-compressed in
# .device/grad/{bin,lib}, texts in .device/grad/text. The default model's 98 MB GGUF cannot travel
# in one call, so the model runs use the synthetic checkpoint of its shape (smollm2-135m):
#   GPU tests of these parts (test_cuda: AWQ, activation quantizers, output error; then the rest);
#   AWQ W4 g128 CPU vs CUDA (unquantized calibration inputs), codes compared;
#   eval CPU vs CUDA: plain, --act-format int8_per_token, int4@g64.
set -uo pipefail
D=$PWD/.device/grad
O=${OUT:-/tmp/halo-out}; mkdir -p "$O"
exec > >(tee "$O/grad.log") 2>&1
t0=$EPOCHREALTIME
step() { echo; echo "== $(date -u +%H:%M:%S) (+$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN{print int(b-a)}') s) $*"; }
timed() { /usr/bin/time -f "[%e s wall, %U s user, peak RSS %M kB, rc %x]" "$@"; }
mkdir -p /root/hb /root/hl
python3 - "$D" <<'PY'
import lzma, os, pathlib, sys
d = pathlib.Path(sys.argv[1])
for sub, dst in (("bin", "/root/hb"), ("lib", "/root/hl")):
    for f in (d / sub).glob("*.xz"):
        out = pathlib.Path(dst) / f.name[:-3]
        out.write_bytes(lzma.decompress(f.read_bytes())); os.chmod(out, 0o755)
PY
LD_LIBRARY_PATH="/root/hl"
for lib in libcublas.so.13 libcublasLt.so.13 libcusolver.so.12 libcusparse.so.12 libnvJitLink.so.13; do
  p=$(find /usr/local /usr/lib /opt -name "$lib" 2>/dev/null | head -1); [ -n "$p" ] && LD_LIBRARY_PATH="$LD_LIBRARY_PATH:$(dirname "$p")"
done
export LD_LIBRARY_PATH HALO_CUDA_MODULE=/root/hb/libhalo_cuda.so OPENBLAS_CORETYPE=Haswell
H=/root/hb/halo
date -u; nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader; nproc
step "GPU tests of this session's parts"
timed timeout 60 /root/hb/test_cuda --gtest_filter='CudaAwq.*:CudaActivationQuant.*:CudaQuantBackend.*' > "$O/test_parts.log" 2>&1
grep -E "^\[  (PASSED|FAILED|SKIPPED) |OK \]|FAILED|codes equal|act |Failure|Expected|Which is" "$O/test_parts.log" | head -40
step "the other GPU tests (forward, calibration, GPTQ)"
timed timeout 45 /root/hb/test_cuda --gtest_filter='-CudaAwq.*:CudaActivationQuant.*:CudaQuantBackend.*' > "$O/test_rest.log" 2>&1
grep -E "^\[  (PASSED|FAILED|SKIPPED) |OK \]|FAILED|codes equal|Failure" "$O/test_rest.log" | head -30
step "synth smollm2-135m (the default model's shape)"
timed $H synth --shape smollm2-135m --out /root/sm --dtype f16 | tail -1
C="--samples 32 --seq-len 256 --calib $D/text/calib.txt --calib-inputs unquantized --quiet"
for dev in cpu cuda; do
  step "awq W4 g128 $dev"
  timed $H quantize --model /root/sm --method awq --bits 4 --group 128 $C --device $dev --out /root/awq_$dev | tail -4
done
step "codes cpu vs cuda"; python3 scripts/compare_hqt_codes.py /root/awq_cpu /root/awq_cuda | head -12
python3 - /root/awq_cpu/manifest.json /root/awq_cuda/manifest.json <<'PY'
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
print("cuda placement:", json.dumps(b.get("flags", {}).get("device")))
la, lb = a["linears"], b["linears"]
same = sum(x.get("awq_alpha") == y.get("awq_alpha") for x, y in zip(la, lb))
rel = [abs(x["output_error"] - y["output_error"]) / x["output_error"] for x, y in zip(la, lb)
       if x.get("output_error") and y.get("output_error")]
print(f"awq alpha equal on {same} of {len(la)} linears; output error |cuda - cpu| / cpu: max {max(rel, default=0):.3g}")
PY
E="--model /root/sm --text $D/text/eval.txt --ctx 512 --max-chunks 8 --quiet"
for act in "" int8_per_token int4@g64; do
  for dev in cpu cuda; do
    step "eval $dev act '${act:-none}'"
    timed $H eval $E --device $dev ${act:+--act-format $act} | grep -E "perplexity|time|model"
  done
done
step "refused: +attn on the GPU"; $H eval $E --device cuda --act-format int4@g64+attn; echo "rc $?"
step "end"
