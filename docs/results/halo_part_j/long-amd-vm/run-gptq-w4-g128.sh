#!/usr/bin/env bash
# after the bal runs: gptq-w4-g128, seeds 1-3, same machine and setting
while [ ! -f /tmp/s18/bal/done-s3 ]; do sleep 10; done
cd /work/main
B=/tmp/s16/halo-784a70b
for S in 1 2 3; do
  o=/tmp/s18/bal/g128-s$S
  start="$(date -u +%FT%TZ) (load $(cut -d' ' -f1-3 /proc/loadavg))"
  /usr/bin/time -o /tmp/s18/bal/gtime-s$S -f "%x|%U|%E|%M" $B run --model data/models/smollm2-135m-instruct-q4_1.gguf \
    --eval data/text/eval.txt --calib data/text/calib.txt --profile docs/results/profiles/int8-yosys.json \
    --counts 0,128,16,9 --level-voltages 1,1,1.1,1.2 --extra-mac-energy-scales 0.00174143 \
    --samples 32 --seq-len 512 --ctx 512 --max-chunks -1 --quantize-head --threads 2 --force --quiet \
    --objectives= --baselines gptq-w4-g128 --no-fp-reference --seed $S --out $o > /tmp/s18/bal/glog-s$S 2>&1
  IFS='|' read rc u e m < /tmp/s18/bal/gtime-s$S
  echo "g128-s$S (rc $rc; binary halo-784a70b; start $start, end $(date -u +%FT%TZ) (load $(cut -d' ' -f1-3 /proc/loadavg)), ${u}s user CPU, $e wall, peak $m KiB): halo-784a70b run --model data/models/smollm2-135m-instruct-q4_1.gguf --eval data/text/eval.txt --calib data/text/calib.txt --profile docs/results/profiles/int8-yosys.json --counts 0,128,16,9 --level-voltages 1,1,1.1,1.2 --extra-mac-energy-scales 0.00174143 --samples 32 --seq-len 512 --ctx 512 --max-chunks -1 --quantize-head --threads 2 --force --quiet --objectives= --baselines gptq-w4-g128 --no-fp-reference --seed $S --out OUT/g128-s$S" >> /tmp/s18/bal/commands.txt
done
touch /tmp/s18/bal/gdone
