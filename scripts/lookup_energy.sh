#!/usr/bin/env bash
# Switching energy of a per-tile codebook lookup (issue #15: HALO weights stored as indices),
# characterized with the same tool and library as the MACs. A 16-entry x 8-bit lookup is eight
# one-bit slices y = w[a] (scripts/lookup/codebook_bit_mux.v): the 16-bit "weight" is one bit
# column of the tile's codebook, held for the tile; the 4-bit "activation" is the stored index.
# `halo characterize` simulates every index transition (16 x 16) for every column value (65,536)
# and gives each column's mean switching energy per transition; a lookup costs the sum over its
# eight columns. Prints the mean and the worst over column values, times 8.
#   scripts/lookup_energy.sh [HALO] [LIBERTY] [OUTDIR]
set -euo pipefail
HALO=${1:-build/bin/halo}
LIB=${2:-/usr/share/qflow/tech/osu018/osu018_stdcells.lib}
OUT=${3:-halo-work/lookup}
mkdir -p "$OUT"
cp scripts/lookup/codebook_bit_mux.v "$OUT/mac.v"
(cd "$OUT" && yosys -q -p "read_verilog mac.v; synth -top mac -flatten; dfflibmap -liberty $LIB; abc -liberty $LIB; opt_clean; tee -q -o stat.txt stat -liberty $LIB; write_json mac_net.json")
"$HALO" characterize --netlist "$OUT/mac_net.json" --top mac --weight-port w --weight-format uint16 --liberty "$LIB" \
  --analysis dynamic --transitions 0 --threads 0 --quiet --out "$OUT/profile.json"
python3 - "$OUT/profile.json" "$OUT/stat.txt" <<'PY'
import json, re, statistics, sys
p = json.load(open(sys.argv[1]))
e = [w["energy_fj"] for w in p["weights"]]
cells = re.search(r"Number of cells:\s+(\d+)", open(sys.argv[2]).read()).group(1)
print(f"one bit slice: {cells} cells on {p['design']['library']} at {p['design']['nominal_voltage_v']} V, "
      f"{p['analysis']['transitions']} index transitions per column value, {len(e)} column values")
print(f"per slice and transition: mean {statistics.mean(e):.1f} fJ, min {min(e):.1f}, max {max(e):.1f}")
print(f"16-entry x 8-bit lookup (8 slices): mean {8 * statistics.mean(e) / 1000:.2f} pJ, worst {8 * max(e) / 1000:.2f} pJ")
PY
