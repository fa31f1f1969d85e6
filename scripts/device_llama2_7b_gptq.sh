#!/usr/bin/env bash
# Session 5, lead: the synthetic Llama-2-7B shape, streamed GPTQ W4 g128 with 128 x 2048
# calibration tokens on the GPU, end to end (binaries of branch s5-gpu b98223e, sm_90).
set -uo pipefail
D=$PWD/.device/s5-final
O=${OUT:-/tmp/halo-out}; mkdir -p "$O"
exec > >(tee "$O/run7b.log") 2>&1
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
export LD_LIBRARY_PATH HALO_CUDA_MODULE=/root/hb/libhalo_cuda.so
H=/root/hb/halo
date -u; nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader; nproc
/usr/bin/time -f "[synth: %e s wall, peak RSS %M kB, rc %x]" $H synth --shape llama2-7b --out /root/l7 --dtype bf16 --shards 3 | tail -2
nvidia-smi --query-gpu=memory.used --format=csv,noheader,nounits -lms 2000 > "$O/gpumem.txt" 2>/dev/null & w=$!
/usr/bin/time -f "[gptq: %e s wall, %U s user, peak RSS %M kB, rc %x]" timeout "${LIMIT:-430}" $H quantize --model /root/l7 \
  --method gptq --bits 4 --group 128 --samples 128 --seq-len 2048 --calib $D/text/calib.txt --stream --device cuda \
  --cuda-math tf32 --out /root/l7_gptq 2>&1 | tr '\r' '\n' | grep -v '^$' | awk 'NR%4==1 || /blocks|time|peak|wall|device|bits|phase|error|rc/'
kill $w 2>/dev/null; sort -n "$O/gpumem.txt" | tail -1 | sed 's/^/peak GPU memory used (nvidia-smi, MiB): /'
cp /root/l7_gptq/manifest.json "$O/l7_gptq_manifest.json" 2>/dev/null; ls /root/l7_gptq | wc -l
date -u
