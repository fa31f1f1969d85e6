#!/usr/bin/env bash
# Switching energy of a per-tile codebook lookup (issue #15: HALO weights stored as indices),
# characterized with the tool and library that give the MAC energies. A lookup of 2^B one-byte
# entries is eight one-bit slices y = w[a] (scripts/lookup/codebook_bit_mux.v): the 2^B-bit
# "weight" is one bit column of the tile's codebook, held for the tile; the B-bit "activation"
# the stored index. `halo characterize` simulates every index transition for every column value
# and gives each column value's mean switching energy per transition. A lookup costs the sum
# over the columns that vary; where a level's codes all share a bit (e.g. L2's multiples of 8 up
# to 120: bits 0-2 and 7 are 0) that column is a constant and needs no mux.
#   scripts/lookup_energy.sh [INDEX_BITS] [CODES] [HALO] [LIBERTY] [OUTDIR]
# CODES: the level's INT8 codes, comma-separated (default: every code, all 8 columns vary).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
B=${1:-3}
CODES=${2:-}
HALO=$(realpath "${3:-$here/../build/bin/halo}")
LIB=$(realpath "${4:-/usr/share/qflow/tech/osu018/osu018_stdcells.lib}")
OUT=${5:-halo-work/lookup-b$B}
[ "$B" -ge 1 ] && [ "$B" -le 4 ] || { echo "lookup_energy.sh: INDEX_BITS must be 1..4 (the column is a 2^B-bit weight), got $B" >&2; exit 1; }
mkdir -p "$OUT"
cp "$here/lookup/codebook_bit_mux.v" "$OUT/mac.v"
# The built-in MACs' flow (src/halo/mac/yosys_driver.cpp) without abc's delay target.
(cd "$OUT" && yosys -q -p "read_verilog mac.v; chparam -set INDEX_BITS $B -set ENTRIES $((1 << B)) mac; synth -top mac -flatten; dfflibmap -liberty \"$LIB\"; abc -liberty \"$LIB\"; opt_clean; write_json mac_net.json")
"$HALO" characterize --netlist "$OUT/mac_net.json" --top mac --weight-port w --weight-format "uint$((1 << B))" --liberty "$LIB" \
  --analysis dynamic --transitions 0 --threads 0 --quiet --out "$OUT/profile.json"
python3 - "$OUT/profile.json" "$CODES" <<'PY'
import json, statistics, sys
p = json.load(open(sys.argv[1]))
e = [w["energy_fj"] for w in p["weights"]]
codes = [int(c) & 0xFF for c in sys.argv[2].split(",")] if sys.argv[2] else list(range(256))
varying = [b for b in range(8) if len({(c >> b) & 1 for c in codes}) > 1]
d = p["design"]
print(f"one bit slice: {d.get('cells', '?')} cells on {d['library']} at {d['nominal_voltage_v']} V, "
      f"{p['analysis']['transitions']} index transitions per column value, {len(e)} column values")
print(f"per slice and transition: mean {statistics.mean(e):.1f} fJ, min {min(e):.1f}, max {max(e):.1f}")
print(f"{len(codes)} codes, columns that vary: {varying}")
n = len(varying)
print(f"{len(e).bit_length() - 1}-entry lookup over {n} varying columns: mean {n * statistics.mean(e) / 1000:.2f} pJ, "
      f"worst {n * max(e) / 1000:.2f} pJ (all 8 columns: mean {8 * statistics.mean(e) / 1000:.2f}, worst {8 * max(e) / 1000:.2f})")
PY
