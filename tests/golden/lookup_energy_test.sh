#!/usr/bin/env bash
# scripts/lookup_energy.sh on a 4-entry lookup (2-bit index, 4-bit column: 16 column values x 16
# index transitions, about a second): the columns the codes {0, 8, 16, 24} let vary are 3 and 4,
# every energy is positive, and the lookup's mean is the varying columns times the slice's mean.
#   lookup_energy_test.sh HALO_BIN
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
out=$("$here/../../scripts/lookup_energy.sh" 2 0,8,16,24 "$1" /usr/share/qflow/tech/osu018/osu018_stdcells.lib "$work/lookup")
echo "$out"
python3 - "$out" <<'PY'
import re, sys
out = sys.argv[1]
assert "columns that vary: [3, 4]" in out, "varying columns"
m = re.search(r"per slice and transition: mean ([\d.]+) fJ, min ([\d.]+), max ([\d.]+)", out)
mean, lo, hi = map(float, m.groups())
assert 0 < lo <= mean <= hi, (lo, mean, hi)
m = re.search(r"4-entry lookup over 2 varying columns: mean ([\d.]+) pJ, worst ([\d.]+) pJ", out)
assert m, "lookup line"
assert abs(float(m.group(1)) - round(2 * mean / 1000, 2)) < 0.006 and abs(float(m.group(2)) - round(2 * hi / 1000, 2)) < 0.006
assert re.search(r"16 index transitions per column value, 16 column values", out)
print("lookup_energy_test: ok")
PY
