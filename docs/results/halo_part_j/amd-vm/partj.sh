#!/usr/bin/env bash
# Issue #15 part J on the dev VM (AMD EPYC 2 vCPU): part I's setting, HALO rows with index storage.
set -u
cd /work/main
H=/tmp/s16/halo-784a70b; O=/tmp/s16/j
mkdir -p $O
common=(--model data/models/smollm2-135m-instruct-q4_1.gguf --eval data/text/eval.txt --calib data/text/calib.txt
  --profile docs/results/profiles/int8-yosys.json --counts 0,128,16,9 --level-voltages 1,1,1.1,1.2
  --extra-mac-energy-scales 0.00174143 --threads 2 --force --quantize-head --quiet --max-chunks -1 --no-fp-reference)
job() { local name=$1; shift
  local t0=$(date -u +%FT%TZ) l0=$(cut -d' ' -f1-3 /proc/loadavg)
  /usr/bin/time -o $O/$name.time -f "%x|%U|%E|%M" $H run "${common[@]}" --out $O/$name "$@" > $O/$name.log 2>&1
  IFS='|' read rc u e m < $O/$name.time
  echo "$name (rc $rc; binary halo-784a70b; start $t0 (load $l0), end $(date -u +%FT%TZ) (load $(cut -d' ' -f1-3 /proc/loadavg)), ${u}s user CPU, $e wall, peak $m KiB): halo-784a70b run ... --out OUT/$name $*" >> $O/commands.txt
}
for s in 1 2 3; do
  b=gptq-w4-asym-dvfs,gptq-w4-sym-dvfs; [ $s = 1 ] && b=rtn-w4-asym-dvfs,rtn-w4-sym-dvfs,$b
  job j3-s$s --objectives model@0/0/1/0 --level-codes 0,0,8,8 --halo-storage codes,indices --baselines $b --seed $s
done
for s in 1 2 3; do
  job j4-s$s --objectives bal,model@0/0/1/0 --sensitivity fisher --halo-storage codes,indices --baselines= --seed $s
done
touch $O/done
