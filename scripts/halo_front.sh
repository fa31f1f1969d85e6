#!/usr/bin/env bash
# Issue #15's front evaluation on a machine with many cores: independent `halo run` parts (a
# HALO point or a few baseline rows each) run side by side, each on its own threads, so that
# the whole set (3 calibration seeds, the short and a longer setting, the tile ablation,
# prefill and decode for every row) fits one bounded call. Parts that finish return even if
# others are cut by the time limit. scripts/halo_baselines_summary.py OUT merges the parts of
# a seed into one table (mean and std over seeds) and draws the Pareto figures.
#
#   scripts/halo_front.sh HALO_BIN MODEL PROFILE OUT WORK [what...]
#     what (default "long short tiles"): long | short | tiles, run in that order of priority
#   Environment (optional): SEEDS ("1 2 3"), CORES (nproc), TOTAL_S (540: every part is
#     stopped by then, and none starts with less than 30 s left),
#     LADDER (default: the four-level ladder below), EVAL / CALIB (texts), LONG_CHUNKS (-1 = all)
# OUT gets <setting>/yosys/seed<S>/<part>/{results.json,report.md,log}, commands.txt and
# times.txt; WORK gets the quantized models (large; not copied).
set -uo pipefail
if [ $# -lt 5 ]; then
    sed -n 2,16p "$0"
    exit 1
fi
HALO=$(realpath "$1"); MODEL=$(realpath "$2"); PROFILE=$(realpath "$3"); OUT=$4; WORK=$5; shift 5
WHAT=${*:-long short tiles}
SEEDS=${SEEDS:-1 2 3}
CORES=${CORES:-$(nproc)}
DEADLINE=$((SECONDS + ${TOTAL_S:-540}))
LONG_CHUNKS=${LONG_CHUNKS:--1}  # ctx-512 chunks scored in the long setting (-1 = the whole text)
# The ladder: L0 every code at V_nom; L1 the 128 fastest codes at V_nom (a frequency-only
# level: on osu018 the non-negative codes, 1.29x L0's clock); L2 / L3 the 16 / 9 fastest codes
# at 1.1 / 1.2 V_nom (the session-4 ladder's L1 / L2).
LADDER=${LADDER:---counts 0,128,16,9 --level-voltages 1,1,1.1,1.2}
mkdir -p "$OUT" "$WORK"
OUT=$(realpath "$OUT"); WORK=$(realpath "$WORK")
texts=()
[ -n "${EVAL:-}" ] && texts+=(--eval "$(realpath "$EVAL")")
[ -n "${CALIB:-}" ] && texts+=(--calib "$(realpath "$CALIB")")
# The 45 nm-like MAC energy scale (docs/results/halo.md, part B): 300 fJ over the profile's mean.
SCALE=$(python3 -c "import json,sys; w=json.load(open(sys.argv[1]))['weights']; \
print('%.6g' % (300 / (sum(x['energy_fj'] for x in w) / len(w))))" "$PROFILE")
echo "# $(date -u +%FT%TZ) $(nproc) cores; MAC energy scale besides 1.0: $SCALE; ladder: $LADDER" >> "$OUT/commands.txt"

parts=()  # "threads|dir|args..."
add() { parts+=("$1|$2|$3"); }
LONG="--samples 32 --seq-len 512 --ctx 512 --max-chunks $LONG_CHUNKS"
first=${SEEDS%% *}
for w in $WHAT; do
    case $w in
    long)
        add 5 "long/yosys/seed$first/halo-model" "$LONG --objectives model@0/1/0/0 --baselines=, --no-fp-reference"
        add 2 "long/yosys/seed$first/rtn" "$LONG --objectives=, --baselines rtn-w8 --no-fp-reference"
        add 2 "long/yosys/seed$first/fp32" "$LONG --objectives=, --baselines=," ;;
    short)  # in order of priority: a part cut by the deadline returns nothing
        for p in model@0/1/0/0 bal; do
            for s in $SEEDS; do add 1 "short/yosys/seed$s/halo-${p//\//-}" "--objectives $p --baselines=, --no-fp-reference"; done
        done
        for s in $SEEDS; do add 1 "short/yosys/seed$s/gptq-g128" "--objectives=, --baselines gptq-w4-g128 --no-fp-reference"; done
        # RTN rows use no calibration: one run serves every seed (the summary counts it once).
        add 1 "short/yosys/seed$first/rtn" "--objectives=, --baselines rtn-w8,rtn-w4,rtn-w4-asym-dvfs,rtn-w8-asym-dvfs,iso"
        for s in $SEEDS; do add 1 "short/yosys/seed$s/gptq-dvfs" "--objectives=, --baselines gptq-w4-asym-dvfs --no-fp-reference"; done
        for s in $SEEDS; do add 1 "short/yosys/seed$s/halo-perf" "--objectives perf --baselines=, --no-fp-reference"; done ;;
    tiles)
        for t in 64 32; do
            add 1 "tile$t/yosys/seed$first/halo" "--tile ${t}x$t --objectives model@0/1/0/0 --baselines=, --no-fp-reference"
        done ;;
    *) echo "unknown setting $w (long, short, tiles)" >&2; exit 1 ;;
    esac
done

run_part() {  # threads dir args
    local threads=$1 dir=$2 args=$3 seed
    seed=${dir#*/seed}; seed=${seed%%/*}
    mkdir -p "$OUT/$dir"
    # shellcheck disable=SC2086  # $LADDER and $args are flag lists
    local cmd=(env OPENBLAS_NUM_THREADS="$threads" OMP_NUM_THREADS="$threads" timeout $((DEADLINE - SECONDS)) "$HALO" run --model "$MODEL" "${texts[@]}" --profile "$PROFILE" $LADDER
               --seed "$seed" --extra-mac-energy-scales "$SCALE" --threads "$threads" --quiet --force
               --out "$WORK/$dir" $args)
    echo "${cmd[*]}" >> "$OUT/commands.txt"
    local t0=$SECONDS rc=0
    "${cmd[@]}" > "$OUT/$dir/log" 2>&1 || rc=$?
    for f in results.json report.md; do [ -f "$WORK/$dir/$f" ] && cp "$WORK/$dir/$f" "$OUT/$dir/"; done
    # A flat copy too: the device tool returns only shallow folders.
    mkdir -p "$OUT/parts"
    [ -f "$WORK/$dir/results.json" ] && cp "$WORK/$dir/results.json" "$OUT/parts/${dir//\//__}.json"
    echo "$dir rc=$rc $((SECONDS - t0)) s, $threads threads" >> "$OUT/times.txt"
}

# A pool by threads: start a part when its threads fit in the free cores.
used=0
declare -A threads_of=()
for item in "${parts[@]}"; do
    IFS='|' read -r th dir args <<< "$item"
    while [ $((used + th)) -gt "$CORES" ]; do
        wait -n -p done_pid || true
        used=$((used - ${threads_of[$done_pid]:-0}))
        unset "threads_of[$done_pid]"
    done
    if [ $((DEADLINE - SECONDS)) -lt 30 ]; then echo "$dir not started (time)" >> "$OUT/times.txt"; continue; fi
    run_part "$th" "$dir" "$args" &
    threads_of[$!]=$th
    used=$((used + th))
done
wait
echo "# $(date -u +%FT%TZ) done" >> "$OUT/commands.txt"
python3 "$(dirname "$(realpath "$0")")/halo_baselines_summary.py" "$OUT" || true
