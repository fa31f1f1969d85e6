#!/bin/sh
# Regenerates scalesim_reference.csv by running SCALE-Sim v2 (scalesim-project/scale-sim-v2,
# commit 22f88b1) on the GEMM layers of scalesim_layers.csv, in all three dataflows and four
# array shapes. SCALE-Sim is not part of halo: unpack it outside the repository, e.g.
#   git clone https://github.com/scalesim-project/scale-sim-v2 /tmp/scalesim
# Needs Debian's python3-numpy python3-tqdm python3-absl python3-pandas.
# Usage: make_scalesim_reference.sh /tmp/scalesim > scalesim_reference.csv
set -eu
SS=${1:?path to a scale-sim-v2 checkout}
HERE=$(cd "$(dirname "$0")" && pwd)
WORK=$(mktemp -d)
echo "# SCALE-Sim v2 (commit 22f88b1) COMPUTE_REPORT + DETAILED_ACCESS_REPORT, InterfaceBandwidth CALC, word 1 byte"
echo "# made by: tests/data/accel/make_scalesim_reference.sh /tmp/scalesim  (python3 -m scalesim.scale -c CFG -t scalesim_layers.csv -p OUT -i gemm)"
echo "rows,cols,dataflow,ifmap_kb,filter_kb,ofmap_kb,layer,M,N,K,total_cycles,stall_cycles,overall_util,mapping_eff,compute_util,sram_ifmap_reads,sram_filter_reads,sram_ofmap_writes,dram_ifmap_reads,dram_filter_reads,dram_ofmap_writes"
for shape in 4x4:64 8x8:64 16x8:64 32x32:64 8x8:1; do
  arr=${shape%%:*}; kb=${shape##*:}
  rows=${arr%%x*}; cols=${arr##*x}
  for df in ws os is; do
    name=ref_${rows}x${cols}_${kb}_${df}
    cat > "$WORK/$name.cfg" <<CFG
[general]
run_name = $name

[architecture_presets]
ArrayHeight:    $rows
ArrayWidth:     $cols
IfmapSramSzkB:    $kb
FilterSramSzkB:   $kb
OfmapSramSzkB:    $kb
IfmapOffset:    0
FilterOffset:   10000000
OfmapOffset:    20000000
Dataflow : $df
Bandwidth : 10
MemoryBanks: 1

[run_presets]
InterfaceBandwidth: CALC
CFG
    (cd "$SS" && python3 -m scalesim.scale -c "$WORK/$name.cfg" -t "$HERE/scalesim_layers.csv" -p "$WORK/out" -i gemm > "$WORK/$name.log" 2>&1)
    python3 - "$HERE/scalesim_layers.csv" "$WORK/out/$name" "$rows" "$cols" "$df" "$kb" <<'PY'
import csv, sys
layers_csv, out, rows, cols, df, kb = sys.argv[1:]
layers = [r for r in csv.reader(open(layers_csv))][1:]
comp = [r for r in csv.reader(open(out + "/COMPUTE_REPORT.csv"))][1:]
det = [r for r in csv.reader(open(out + "/DETAILED_ACCESS_REPORT.csv"))][1:]
for lay, c, d in zip(layers, comp, det):
    name, m, n, k = [x.strip() for x in lay[:4]]
    c = [x.strip() for x in c]; d = [x.strip() for x in d]
    print(",".join([rows, cols, df, kb, kb, kb, name, m, n, k, c[1], c[2], c[3], c[4], c[5],
                    d[3], d[6], d[9], d[12], d[15], d[18]]))
PY
  done
done
rm -rf "$WORK"
