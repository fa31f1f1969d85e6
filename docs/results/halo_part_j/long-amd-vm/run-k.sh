#!/usr/bin/env bash
# Part J addendum: HALO points between model@0.8/0.2/0/0 and model@0/1/0/0, long setting, dev VM.
cd /work/main
B=/tmp/s16/halo-784a70b
for s in 1 2 3; do
  o=/tmp/s17/k/k-s$s
  start="$(date -u +%FT%TZ) (load $(cut -d' ' -f1-3 /proc/loadavg))"
  /usr/bin/time -o /tmp/s17/k/k-s$s.time -f "%x|%U|%E|%M" $B run --model data/models/smollm2-135m-instruct-q4_1.gguf \
    --eval data/text/eval.txt --calib data/text/calib.txt --profile docs/results/profiles/int8-yosys.json \
    --counts 0,128,16,9 --level-voltages 1,1,1.1,1.2 --extra-mac-energy-scales 0.00174143 \
    --samples 32 --seq-len 512 --ctx 512 --max-chunks -1 --quantize-head --threads 2 --force \
    --objectives model@0.6/0.4/0/0,model@0.4/0.6/0/0 --halo-storage codes,indices --baselines= --no-fp-reference \
    --seed $s --out $o > /tmp/s17/k/k-s$s.log 2>&1
  IFS='|' read rc u e m < /tmp/s17/k/k-s$s.time
  echo "k-s$s (rc $rc; binary halo-784a70b; start $start, end $(date -u +%FT%TZ) (load $(cut -d' ' -f1-3 /proc/loadavg)), ${u}s user CPU, $e wall, peak $m KiB): halo-784a70b run --model data/models/smollm2-135m-instruct-q4_1.gguf --eval data/text/eval.txt --calib data/text/calib.txt --profile docs/results/profiles/int8-yosys.json --counts 0,128,16,9 --level-voltages 1,1,1.1,1.2 --extra-mac-energy-scales 0.00174143 --samples 32 --seq-len 512 --ctx 512 --max-chunks -1 --quantize-head --threads 2 --force --objectives model@0.6/0.4/0/0,model@0.4/0.6/0/0 --halo-storage codes,indices --baselines= --no-fp-reference --seed $s --out OUT/k-s$s" >> /tmp/s17/k/commands.txt
done
touch /tmp/s17/k/done
