#!/usr/bin/env bash
# session 19: acc on the booth4 MAC profile, long setting, dev VM CPU, seeds 1-3
cd /work/main
B=/tmp/s19/halo-4307542  # acc unchanged since (1795ea3 changed comments and tests only)
for s in 1 2 3; do
  o=/tmp/s19/accb/accb-s$s
  start="$(date -u +%FT%TZ) (load $(cut -d' ' -f1-3 /proc/loadavg))"
  /usr/bin/time -o /tmp/s19/accb/time-s$s -f "%x|%U|%E|%M" $B run --model data/models/smollm2-135m-instruct-q4_1.gguf \
    --eval data/text/eval.txt --calib data/text/calib.txt --profile docs/results/profiles/int8-booth4.json \
    --counts 0,128,16,9 --level-voltages 1,1,1.1,1.2 --extra-mac-energy-scales 0.00174143 \
    --samples 32 --seq-len 512 --ctx 512 --max-chunks -1 --quantize-head --threads 2 --force --quiet \
    --objectives acc --halo-storage codes,indices --baselines= --no-fp-reference \
    --seed $s --out $o > /tmp/s19/accb/log-s$s 2>&1
  IFS='|' read rc u e m < /tmp/s19/accb/time-s$s
  echo "accb-s$s (rc $rc; binary halo-4307542; start $start, end $(date -u +%FT%TZ) (load $(cut -d' ' -f1-3 /proc/loadavg)), ${u}s user CPU, $e wall, peak $m KiB): halo-4307542 run --model data/models/smollm2-135m-instruct-q4_1.gguf --eval data/text/eval.txt --calib data/text/calib.txt --profile docs/results/profiles/int8-booth4.json --counts 0,128,16,9 --level-voltages 1,1,1.1,1.2 --extra-mac-energy-scales 0.00174143 --samples 32 --seq-len 512 --ctx 512 --max-chunks -1 --quantize-head --threads 2 --force --quiet --objectives acc --halo-storage codes,indices --baselines= --no-fp-reference --seed $s --out OUT/accb-s$s" >> /tmp/s19/accb/commands.txt
done
touch /tmp/s19/accb/done
