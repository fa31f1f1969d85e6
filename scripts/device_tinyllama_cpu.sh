#!/usr/bin/env bash
# Session 6, lead: issue #13's "same commands on CPU for the 1.1B shape" on the lent machine's
# 16 CPU cores (no GPU used): the synthetic TinyLlama-1.1B (F16, 3 shards), then streamed RTN W4
# g128, GPTQ W4 g128 and HALO bal side by side (bench/quant/stream_scale_bench.sh, one process
# each, THREADS each), then the streamed eval of the GPTQ directory. Carried: .device/s6-lead
# (xz binaries, their libraries, the texts). The HALO profile is the tracked osu018 INT8 profile.
set -uo pipefail
D=$PWD/.device/s6-lead
O=${OUT:-/tmp/halo-out}; mkdir -p "$O"
exec > >(tee "$O/tl11_cpu.log") 2>&1
mkdir -p /root/hb /root/hl
python3 - "$D" <<'PY'
import lzma, os, pathlib, sys
d = pathlib.Path(sys.argv[1])
for sub, dst in (("bin", "/root/hb"), ("lib", "/root/hl")):
    for f in (d / sub).glob("*.xz"):
        out = pathlib.Path(dst) / f.name[:-3]
        out.write_bytes(lzma.decompress(f.read_bytes())); os.chmod(out, 0o755)
PY
export LD_LIBRARY_PATH=/root/hl
mkdir -p data/text && cp "$D"/text/*.txt data/text/
H=/root/hb/halo
date -u; nproc; grep -m1 "model name" /proc/cpuinfo; free -g | head -2; $H version | head -3
S=${SHAPE:-tinyllama-1.1b}; W=${WORK:-/root/w}; mkdir -p $W
/usr/bin/time -f "[synth: %e s wall, %U s user, peak RSS %M kB, rc %x]" $H synth --shape $S --out $W/$S --dtype f16 --shards 3 --threads 16 --quiet
du -sb $W/$S
T=${THREADS:-5}
for r in rtn gptq halo; do
  mkdir -p $W/$r; ln -sfn $W/$S $W/$r/$S; cp docs/results/profiles/int8-yosys.json $W/$r/profile.json
done
(RUNS=rtn timeout ${LIMIT:-470} bench/quant/stream_scale_bench.sh $H $W/rtn $S $T ${SAMPLES:-16} ${SEQ:-256} > $O/rtn.txt 2>&1) &
(RUNS=gptq timeout ${LIMIT:-470} bench/quant/stream_scale_bench.sh $H $W/gptq $S $T ${SAMPLES:-16} ${SEQ:-256} > $O/gptq.txt 2>&1;
 RUNS=eval timeout 90 bench/quant/stream_scale_bench.sh $H $W/gptq $S $T ${SAMPLES:-16} ${SEQ:-256} > $O/eval.txt 2>&1) &
(RUNS=halo timeout ${LIMIT:-470} bench/quant/stream_scale_bench.sh $H $W/halo $S $T ${SAMPLES:-16} ${SEQ:-256} > $O/halo.txt 2>&1) &
wait
for r in rtn gptq eval halo; do echo "== $r"; cat $O/$r.txt; done
for f in $W/*/*.time; do cp "$f" "$O/$(basename $(dirname $f))_$(basename $f)"; done
for f in $W/*/*.out; do tr '\r' '\n' < "$f" | grep -v '^$' | tail -25 > "$O/$(basename $(dirname $f))_$(basename $f)"; done
for q in $W/rtn/q-rtn4 $W/gptq/q-gptq4 $W/halo/q-halo; do [ -f $q/manifest.json ] && cp $q/manifest.json $O/$(basename $q)_manifest.json; done
date -u
