#!/usr/bin/env bash
# Static per-weight sweep of an INT8 MAC, whole process, side by side: OpenSTA's case-analysis
# sweep (`sta`, one report_checks per weight code) against `halo characterize` (static), in
# alternating rounds, on the same synthesized netlist (Verilog for OpenSTA, Yosys JSON for halo).
# Usage: bench/timing/static_vs_opensta.sh HALO_BINARY NETLIST_DIR [ROUNDS]
#   NETLIST_DIR holds mac_net.v and mac_net.json of one synthesis (e.g. a `halo characterize
#   --mac int8 --work-dir W` cache directory W/int8-yosys-*), top module "mac", weight port w[7:0].
# Liberty: $LIBERTY (default osu035). Prints per round wall and user+sys CPU seconds of both,
# their ratios and the load average; writes the per-weight tables to $TMPDIR.
set -euo pipefail
halo=$(readlink -f "$1"); dir=$(readlink -f "$2"); rounds=${3:-5}
lib=${LIBERTY:-/usr/share/qflow/tech/osu035/osu035_stdcells.lib}
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
cd "$work"
{
  echo "read_liberty $lib"; echo "read_verilog $dir/mac_net.v"; echo "link_design mac"
  echo "set_input_delay 0 [all_inputs]"; echo "set_output_delay 0 [all_outputs]"; echo "set_load 0.01 [all_outputs]"
  for w in $(seq 0 255); do
    for b in $(seq 0 7); do echo "set_case_analysis $(( (w >> b) & 1 )) [get_ports {w[$b]}]"; done
    echo "puts \"W=$w\""
    echo "report_checks -path_delay max -format end -unconstrained -digits 6"
    for b in $(seq 0 7); do echo "unset_case_analysis [get_ports {w[$b]}]"; done
  done
} > sweep.tcl
measure() {  # prints "wall cpu"
  /usr/bin/time -f "%e %U %S" -o t.txt "$@" > /dev/null 2>&1
  awk '{printf "%.3f %.3f", $1, $2 + $3}' t.txt
}
printf "%-6s %-9s %-9s %-9s %-9s %-8s %-8s %s\n" round sta_wall sta_cpu halo_wall halo_cpu wall_x cpu_x load
for r in $(seq 1 "$rounds"); do
  read -r sw sc <<< "$(measure sta -no_splash -exit sweep.tcl)"
  read -r hw hc <<< "$(measure "$halo" characterize --netlist "$dir/mac_net.json" --top mac --liberty "$lib" --threads 2 \
                       --quiet --out "$work/prof.json")"
  printf "%-6s %-9s %-9s %-9s %-9s %-8s %-8s %s\n" "$r" "$sw" "$sc" "$hw" "$hc" \
    "$(awk -v a="$sw" -v b="$hw" 'BEGIN{printf "%.1f", a/b}')" "$(awk -v a="$sc" -v b="$hc" 'BEGIN{printf "%.1f", (b>0)?a/b:0}')" \
    "$(cut -d' ' -f1 /proc/loadavg)"
done
sta -no_splash -exit sweep.tcl 2>&1 | grep -c "^W=" | sed 's/^/weights reported by OpenSTA: /'
