#!/usr/bin/env bash
cd /work/main
B=/tmp/s16/halo-784a70b
o=/tmp/s18/bal/fisher2-s1
start="$(date -u +%FT%TZ) (load $(cut -d' ' -f1-3 /proc/loadavg))"
/usr/bin/time -o /tmp/s18/bal/f2time -f "%x|%U|%E|%M" $B run --model data/models/smollm2-135m-instruct-q4_1.gguf \
  --eval data/text/eval.txt --calib data/text/calib.txt --profile docs/results/profiles/int8-yosys.json \
  --counts 0,128,16,9 --level-voltages 1,1,1.1,1.2 --extra-mac-energy-scales 0.00174143 \
  --samples 32 --seq-len 512 --ctx 512 --max-chunks -1 --quantize-head --threads 2 --force --quiet \
  --objectives model@0/0/1/0,model@bal --sensitivity fisher --halo-storage codes,indices --baselines= --no-fp-reference \
  --seed 1 --out $o > /tmp/s18/bal/f2log 2>&1
IFS='|' read rc u e m < /tmp/s18/bal/f2time
echo "fisher2-s1 (rc $rc; binary halo-784a70b; start $start, end $(date -u +%FT%TZ) (load $(cut -d' ' -f1-3 /proc/loadavg)), ${u}s user CPU, $e wall, peak $m KiB): halo-784a70b run --model data/models/smollm2-135m-instruct-q4_1.gguf --eval data/text/eval.txt --calib data/text/calib.txt --profile docs/results/profiles/int8-yosys.json --counts 0,128,16,9 --level-voltages 1,1,1.1,1.2 --extra-mac-energy-scales 0.00174143 --samples 32 --seq-len 512 --ctx 512 --max-chunks -1 --quantize-head --threads 2 --force --quiet --objectives model@0/0/1/0,model@bal --sensitivity fisher --halo-storage codes,indices --baselines= --no-fp-reference --seed 1 --out OUT/fisher2-s1" >> /tmp/s18/bal/commands2.txt
touch /tmp/s18/bal/f2done
