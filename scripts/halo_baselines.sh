#!/usr/bin/env bash
# Issue #15's evaluation: every baseline row beside HALO, on both INT8 MACs, over several
# calibration seeds, in the short and the long setting, plus the tile-size ablation; then
# scripts/halo_baselines_summary.py writes mean/std tables and the Pareto figures.
# Self-contained: needs only a built `halo`, a model, and the Liberty library for the BF16 clock.
#
#   scripts/halo_baselines.sh HALO_BIN MODEL OUT_DIR THREADS [what...]
#     what (default "short"): short | long | tiles | all
#   Environment (optional): SEEDS="1 2 3", MACS="yosys booth4", TILES="64 32",
#     OBJECTIVES="perf,bal,acc", EXTRA_SCALES (default: the 45 nm factor, see halo.md),
#     EVAL / CALIB (texts; default the installed ones)
# Profiles already in OUT_DIR/profiles (int8-<mac>.json, bf16-yosys.json) are reused.
# Every run is `nice`d; each writes OUT_DIR/<setting>/<mac>/seed<S>/results.json, and the
# exact command lines go to OUT_DIR/commands.txt.
set -euo pipefail
if [ $# -lt 4 ]; then
    sed -n 2,15p "$0"
    exit 1
fi
HALO=$(realpath "$1"); MODEL=$(realpath "$2"); OUT=$3; THREADS=$4; shift 4
WHAT=${*:-short}
[ "$WHAT" = all ] && WHAT="short long tiles"
SEEDS=${SEEDS:-1 2 3}
MACS=${MACS:-yosys booth4}
TILES=${TILES:-64 32}
OBJECTIVES=${OBJECTIVES:-perf,bal,acc}
LIBERTY=${LIBERTY:-/usr/share/qflow/tech/osu018/osu018_stdcells.lib}
mkdir -p "$OUT/profiles"
OUT=$(realpath "$OUT")
log() { echo "$*" >> "$OUT/commands.txt"; echo "[$(date -u +%H:%M:%S)] $*" >&2; }
texts=()
[ -n "${EVAL:-}" ] && texts+=(--eval "$EVAL")
[ -n "${CALIB:-}" ] && texts+=(--calib "$CALIB")

# MAC profiles: INT8 yosys and booth4 with the per-code energies, BF16 static (its clock).
profile() {  # mac arch analysis out
    if [ ! -s "$4" ]; then
        local extra=()
        [ "$3" = static ] || extra=(--transitions 200)
        local cmd=(nice "$HALO" characterize --mac "$1" --mac-arch "$2" --analysis "$3" "${extra[@]}" --liberty "$LIBERTY"
                   --threads "$THREADS" --work-dir "$OUT/profiles/work-$1-$2" --out "$4")
        log "${cmd[*]}"
        "${cmd[@]}" > /dev/null
    fi
}
for m in $MACS; do profile int8 "$m" both "$OUT/profiles/int8-$m.json"; done
profile bf16-fp32 yosys static "$OUT/profiles/bf16-yosys.json"
# The 45 nm-like MAC energy scale: 300 fJ (Horowitz, ISSCC 2014, 45 nm: 8-bit multiply 0.2 pJ
# + 32-bit add 0.1 pJ) over the first MAC's mean energy per operation over all 256 codes.
first_mac=${MACS%% *}
EXTRA_SCALES=${EXTRA_SCALES:-$(python3 -c "import json,sys; w=json.load(open(sys.argv[1]))['weights']; \
print('%.6g' % (300 / (sum(x['energy_fj'] for x in w) / len(w))))" "$OUT/profiles/int8-$first_mac.json")}
log "# MAC energy scales simulated besides 1.0: $EXTRA_SCALES"

run() {  # dir mac seed extra-args...
    local dir=$1 mac=$2 seed=$3; shift 3
    [ -s "$OUT/$dir/results.json" ] && return 0
    mkdir -p "$(dirname "$OUT/$dir")"
    local cmd=(nice "$HALO" run --model "$MODEL" "${texts[@]}" --profile "$OUT/profiles/int8-$mac.json"
               --bf16-profile "$OUT/profiles/bf16-yosys.json" --baselines all --objectives "$OBJECTIVES"
               --seed "$seed" --extra-mac-energy-scales "$EXTRA_SCALES" --threads "$THREADS" --quiet --force
               --out "$OUT/$dir" "$@")
    log "${cmd[*]}"
    local t0=$SECONDS
    "${cmd[@]}" > "$OUT/$dir.log" 2>&1
    log "  -> $dir: $((SECONDS - t0)) s wall"
}
for w in $WHAT; do
    case $w in
    short) for m in $MACS; do for s in $SEEDS; do run "short/$m/seed$s" "$m" "$s"; done; done ;;
    long)  for m in $MACS; do for s in $SEEDS; do
               run "long/$m/seed$s" "$m" "$s" --samples 32 --seq-len 512 --ctx 512 --max-chunks -1
           done; done ;;
    tiles) first_seed=${SEEDS%% *}
           for t in $TILES; do run "tile$t/$first_mac/seed$first_seed" "$first_mac" "$first_seed" --tile "${t}x${t}"; done ;;
    *) echo "unknown setting $w (short, long, tiles, all)" >&2; exit 1 ;;
    esac
done
python3 "$(dirname "$0")/halo_baselines_summary.py" "$OUT"
