#!/usr/bin/env bash
# Sessions 15-16 on the lent machine (issue #15's long setting): every row of the long setting
# (32 x 512 calibration tokens drawn with --seed S, every chunk of the eval text at ctx 512, heads
# quantized, seeds 1-3, yosys INT8 MAC profile, then the booth4 profile), one halo run per
# row, as many at once as the machine has cores, each on one core (--threads 1) with calibration,
# Fisher, GPTQ and HALO's tile fits on the GPU (--device cuda; perplexity with the A8 hooks and the
# simulation stay on that core). A job whose CUDA run fails is run once more on the CPU, logged.
# Session 15 ran the same rows on the CPU only, 16 at a time in 9 multi-row jobs: none finished in
# 9.4 min; hence one row per job and the GPU here.
# Binaries built on the dev machine and carried xz-compressed in .device/s16/{bin,lib,text} with
# part A of the default model; part B in .device/s16b (one call's 64 MiB cannot hold the model
# beside the binaries). Calls back to back (the machine is given back 30 s after a call; the runs
# live only as long as it is held):
#   scripts/device_s16.sh one     unpacks, keeps part A in /root
#   scripts/device_s16.sh start   joins the model (sha256 checked), starts the queue in its own
#                                 process session (it outlives the call), then as `wait`
#   scripts/device_s16.sh wait    waits up to WAIT_S (default 540) or until the queue is done, then
#                                 packs every finished run's results.json and log into
#                                 $OUT/long.tar.gz (the runs' own records: command, start, end, load,
#                                 CPU, peak memory in /root/long/<job>.time; queue.log)
set -uo pipefail
D=$PWD/.device/s16
O=${OUT:-/tmp/halo-out}; mkdir -p "$O"
mode=${1:-one}
source "$PWD/scripts/device_env.sh"
device_log "$O/$mode.log"
date -u; nproc; lscpu | grep -E "Model name|^CPU\(s\)|Thread|Socket"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
M=/root/data/models/smollm2-135m-instruct-q4_1.gguf
pack() {
  (cd /root/long && tar czf "$O/long.tar.gz" --ignore-failed-read ./*.time ./*.log ./long/*/*/*/results.json ./long/*/*/*/report.md ./queue.log 2>/dev/null)
  ls -la "$O"
}
wait_queue() {
  local limit=${WAIT_S:-540}
  [ -d /root/long ] || { echo "/root/long missing: the machine was given back, the queue is gone"; exit 3; }
  while [ "$(elapsed)" -lt "$limit" ]; do
    [ -f /root/long/queue.done ] && break
    sleep 10
  done
  step "queue state"; cat /root/long/queue.log; uptime; nvidia-smi --query-gpu=memory.used,utilization.gpu --format=csv,noheader
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
      cat /root/model.partA "$PWD/.device/s16b/model.partB" > "$M"
      echo "$(cat "$PWD/.device/s16b/model.sha256")  $M" | sha256sum -c || exit 4
    fi
    cp "$PWD/docs/results/profiles/int8-yosys.json" "$PWD/docs/results/profiles/int8-booth4.json" /root/data/text/
    device_cuda_env /root/hl /root/hb/libhalo_cuda.so
    env | grep -E "^(LD_LIBRARY_PATH|HALO_CUDA_MODULE)=" > /root/long/env.sh
    sed -i 's/^/export /' /root/long/env.sh
    printf 'export ONLY=%q\n' "${ONLY:-.*}" >> /root/long/env.sh
    cat > /root/long/queue.sh <<'QUEUE'
#!/usr/bin/env bash
# The queue: one halo run per row, one core each, at most $SLOTS at once, in the order below.
set -u
source /root/long/env.sh
export OPENBLAS_CORETYPE=Haswell OPENBLAS_NUM_THREADS=1
T=/root/data/text M=/root/data/models/smollm2-135m-instruct-q4_1.gguf
SLOTS=$(nproc)
base=(--model "$M" --eval $T/eval.txt --calib $T/calib.txt --bf16-profile $T/bf16-yosys.json
      --counts 0,128,16,9 --level-voltages 1,1,1.1,1.2 --extra-mac-energy-scales 0.00174143
      --samples 32 --seq-len 512 --ctx 512 --max-chunks -1 --quantize-head --threads 1 --quiet --force)
job() {  # dir args...   (dir = <mac>/seed<S>/<row>)
  local dir=$1; shift
  local name=${dir//\//-}
  mkdir -p "/root/long/long/$dir"
  echo "$(date -u +%FT%TZ) start $name (load $(cut -d' ' -f1-3 /proc/loadavg))" >> /root/long/queue.log
  /usr/bin/time -o /root/long/$name.time -f "$name: rc %x, %e s wall, %U s user, peak RSS %M kB" \
    /root/hb/halo run "${base[@]}" --device cuda --out /root/long/long/$dir "$@" > /root/long/$name.log 2>&1
  local rc=$?
  echo "$(date -u +%FT%TZ) end $name (load $(cut -d' ' -f1-3 /proc/loadavg)): $(tail -1 /root/long/$name.time); args: --device cuda $*" >> /root/long/queue.log
  if [ $rc -ne 0 ]; then
    echo "$(date -u +%FT%TZ) $name failed with --device cuda (rc $rc: $(grep -m1 -iE "error|E[0-9]{4}" /root/long/$name.log)); again on the CPU" >> /root/long/queue.log
    /usr/bin/time -o /root/long/$name.time -f "$name: rc %x, %e s wall, %U s user, peak RSS %M kB" \
      /root/hb/halo run "${base[@]}" --out /root/long/long/$dir "$@" > /root/long/$name-cpu.log 2>&1
    echo "$(date -u +%FT%TZ) end $name on the CPU: $(tail -1 /root/long/$name.time); args: $*" >> /root/long/queue.log
  fi
}
rows() {  # mac seed: one line per row of that seed, seed-free rows (RTN, iso, BF16) with seed 1 only
  local mac=$1 s=$2 p="--profile $T/int8-$1.json --seed $2"
  local idx="--halo-storage codes,indices --baselines= --no-fp-reference"
  if [ "$s" = 1 ]; then echo "$mac/seed$s/fp-rtn8 $p --objectives= --baselines rtn-w8,iso"; fi
  echo "$mac/seed$s/bal $p --objectives bal --sensitivity fisher $idx"
  echo "$mac/seed$s/m0010 $p --objectives model@0/0/1/0 --sensitivity fisher $idx"
  echo "$mac/seed$s/acc $p --objectives acc $idx"
  echo "$mac/seed$s/m82 $p --objectives model@0.8/0.2/0/0 $idx"
  echo "$mac/seed$s/m01 $p --objectives model@0/1/0/0 $idx"
  echo "$mac/seed$s/h3 $p --objectives model@0/0/1/0 --level-codes 0,0,8,8 $idx"
  # session 18: points between m82 and m01 (40/30/20 % of the weights at L0, the rest at L1)
  echo "$mac/seed$s/m46 $p --objectives model@0.4/0.6/0/0 $idx"
  echo "$mac/seed$s/m37 $p --objectives model@0.3/0.7/0/0 $idx"
  echo "$mac/seed$s/m28 $p --objectives model@0.2/0.8/0/0 $idx"
  # session 18: the model-wide knee (one lambda on the model's pooled front), Fisher sensitivity
  echo "$mac/seed$s/mbal $p --objectives model@bal --sensitivity fisher $idx"
  for b in gptq-w4-g128 gptq-w4 gptq-w4-asym-dvfs gptq-w4-sym-dvfs gptq-w8-asym-dvfs gptq-w8-sym-dvfs; do
    echo "$mac/seed$s/$b $p --objectives= --baselines $b --no-fp-reference"
  done
  if [ "$s" = 1 ]; then
    for b in rtn-w8-asym-dvfs rtn-w8-sym-dvfs rtn-w4 rtn-w4-asym-dvfs rtn-w4-sym-dvfs bf16; do
      echo "$mac/seed$s/$b $p --objectives= --baselines $b --no-fp-reference"
    done
  fi
}
# ONLY (an extended regex on <mac>/seed<S>/<row>, passed through env.sh) picks the rows to run again.
run_all() { { rows yosys 1; rows yosys 2; rows yosys 3; rows booth4 1; rows booth4 2; rows booth4 3; } | grep -E "^(${ONLY:-.*}) "; }
echo "$(date -u +%FT%TZ) queue of $(run_all | wc -l) jobs, $SLOTS at once, $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo)" >> /root/long/queue.log
running=0
while read -r dir args; do
  if [ "$running" -ge "$SLOTS" ]; then wait -n; running=$((running - 1)); fi
  # shellcheck disable=SC2086  # the job's arguments hold no spaces
  job "$dir" $args &
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
