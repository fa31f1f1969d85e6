#!/usr/bin/env bash
# Session 15 on the lent machine's CPU cores (issue #15's long setting; no GPU work). Session 14
# ran one halo run at a time with --threads 16 and found it used 2.3 cores; here the runs go side
# by side instead, one core each (--threads 1), as many at once as the machine has cores: every
# row of the long setting (32 x 512 calibration tokens drawn with --seed S, every chunk of the
# eval text at ctx 512, heads quantized, yosys INT8 MAC profile, seeds 1-3; HALO rows also with
# their weights stored as codebook indices, and an 8-codes-a-tile HALO point). Binaries built on the dev machine and carried xz-compressed in
# .device/s15/{bin,lib,text} with part A of the default model; part B in .device/s15b (one call's
# 64 MiB cannot hold the model beside the binaries). Calls back to back (the machine is given
# back 30 s after a call; the runs live only as long as it is held):
#   scripts/device_s15.sh one     unpacks, keeps part A in /root
#   scripts/device_s15.sh start   joins the model (sha256 checked), starts the queue in its own
#                                 process session (it outlives the call), then as `wait`
#   scripts/device_s15.sh wait    waits up to WAIT_S (default 540) or until the queue is done, then
#                                 packs every finished run's results.json and log into
#                                 $OUT/long.tar.gz (the runs' own records: command, start, end, load,
#                                 CPU, peak memory in /root/long/<job>.time)
set -uo pipefail
D=$PWD/.device/s15
O=${OUT:-/tmp/halo-out}; mkdir -p "$O"
mode=${1:-one}
source "$PWD/scripts/device_env.sh"
device_log "$O/$mode.log"
date -u; nproc; lscpu | grep -E "Model name|^CPU\(s\)|Thread|Socket"
M=/root/data/models/smollm2-135m-instruct-q4_1.gguf
pack() {
  (cd /root/long && tar czf "$O/long.tar.gz" --ignore-failed-read ./*.time ./*.log ./*/results.json ./queue.log 2>/dev/null)
  ls -la "$O"
}
wait_queue() {
  local limit=${WAIT_S:-540}
  while [ "$(elapsed)" -lt "$limit" ]; do
    [ -f /root/long/queue.done ] && break
    sleep 10
  done
  step "queue state"; cat /root/long/queue.log; uptime
  pack
}
case "$mode" in
  one)
    device_unpack "$D" bin=/root/hb lib=/root/hl text=/root/data/text
    cp "$D/model/model.partA" /root/model.partA
    ls -la /root/hb /root/hl /root/data/text /root/model.partA
    LD_LIBRARY_PATH=/root/hl OPENBLAS_CORETYPE=Haswell /root/hb/halo version
    ;;
  start)
    [ -x /root/hb/halo ] || { echo "/root/hb/halo missing: the machine was given back after call one"; exit 3; }
    mkdir -p /root/data/models /root/long
    if [ ! -f "$M" ]; then
      cat /root/model.partA "$PWD/.device/s15b/model.partB" > "$M"
      echo "$(cat "$PWD/.device/s15b/model.sha256")  $M" | sha256sum -c || exit 4
    fi
    cp "$PWD/docs/results/profiles/int8-yosys.json" /root/data/text/
    cat > /root/long/queue.sh <<'QUEUE'
#!/usr/bin/env bash
# The queue: one halo run per job, one core each, at most $SLOTS at once, in the order below.
set -u
export LD_LIBRARY_PATH=/root/hl OPENBLAS_CORETYPE=Haswell OPENBLAS_NUM_THREADS=1
T=/root/data/text M=/root/data/models/smollm2-135m-instruct-q4_1.gguf
SLOTS=$(nproc)
base=(--model "$M" --eval $T/eval.txt --calib $T/calib.txt --bf16-profile $T/bf16-yosys.json
      --counts 0,128,16,9 --level-voltages 1,1,1.1,1.2 --extra-mac-energy-scales 0.00174143
      --max-chunks -1 --quantize-head --threads 1 --quiet --force)
long=(--profile $T/int8-yosys.json --samples 32 --seq-len 512 --ctx 512)
w8=(--objectives acc,model@0.8/0.2/0/0,model@0/1/0/0 --halo-storage codes,indices)
w4=(--objectives bal,model@0/0/1/0 --sensitivity fisher --halo-storage codes,indices)
w3=(--objectives model@0/0/1/0 --level-codes 0,0,8,8 --halo-storage codes,indices)  # 8 codes a tile at L2/L3: 3-bit indices
job() {  # name args...
  local name=$1; shift
  echo "$(date -u +%FT%TZ) start $name (load $(cut -d' ' -f1-3 /proc/loadavg))" >> /root/long/queue.log
  /usr/bin/time -o /root/long/$name.time -f "$name: rc %x, %e s wall, %U s user, peak RSS %M kB" \
    /root/hb/halo run "${base[@]}" --out /root/long/$name "$@" > /root/long/$name.log 2>&1
  echo "$(date -u +%FT%TZ) end $name (load $(cut -d' ' -f1-3 /proc/loadavg)): $(cat /root/long/$name.time | tail -1); args: $*" >> /root/long/queue.log
}
run_all() {
  # The longest first (three HALO points, Fisher calibration, four evaluations), the shortest last.
  for s in 1 2 3; do echo "L-s$s-halo8 ${long[*]} ${w8[*]} --baselines= --no-fp-reference --seed $s"; done
  for s in 1 2 3; do echo "L-s$s-halo4 ${long[*]} ${w4[*]} --baselines= --no-fp-reference --seed $s"; done
  echo "L-s1-rtn8 ${long[*]} --objectives= --baselines rtn-w8,iso,rtn-w8-asym-dvfs,rtn-w8-sym-dvfs --seed 1"
  echo "L-s1-rtn4 ${long[*]} --objectives= --baselines rtn-w4,rtn-w4-asym-dvfs,rtn-w4-sym-dvfs,bf16 --no-fp-reference --seed 1"
  for s in 1 2 3; do
    echo "L-s$s-gptq4a ${long[*]} --objectives= --baselines gptq-w4-g128,gptq-w4 --no-fp-reference --seed $s"
    echo "L-s$s-gptq4b ${long[*]} --objectives= --baselines gptq-w4-asym-dvfs,gptq-w4-sym-dvfs --no-fp-reference --seed $s"
  done
  for s in 1 2 3; do echo "L-s$s-gptq8 ${long[*]} --objectives= --baselines gptq-w8-asym-dvfs,gptq-w8-sym-dvfs --no-fp-reference --seed $s"; done
  for s in 1 2 3; do echo "L-s$s-halo3 ${long[*]} ${w3[*]} --baselines= --no-fp-reference --seed $s"; done
}
echo "$(date -u +%FT%TZ) queue of $(run_all | wc -l) jobs, $SLOTS at once, $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo)" >> /root/long/queue.log
running=0
while read -r name args; do
  if [ "$running" -ge "$SLOTS" ]; then wait -n; running=$((running - 1)); fi
  # shellcheck disable=SC2086  # the job's arguments hold no spaces
  job "$name" $args &
  running=$((running + 1))
done < <(run_all)
wait
touch /root/long/queue.done
QUEUE
    chmod +x /root/long/queue.sh
    rm -f /root/long/queue.done
    setsid nohup /root/long/queue.sh > /root/long/queue.out 2>&1 < /dev/null &
    sleep 5; cat /root/long/queue.log
    wait_queue
    ;;
  wait)
    wait_queue
    ;;
esac
echo "== done (+$(elapsed) s)"
