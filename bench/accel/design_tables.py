#!/usr/bin/env python3
"""Llama-2-7B design tables from `halo simulate --design` (docs/results/simulator.md), checked
against `halo amove-hw`'s printed figures for the same phases.

usage: bench/accel/design_tables.py path/to/halo [docs/results/amove.md]
Runs, per phase (prefill seq 2048; decode batch 1 and 16, context 2048), arch (tensor-core,
systolic with --array 64x64, amove-hw's array) and design:
    halo simulate --model-shape llama-2-7b <phase> --arch A --array 64x64 --design D --json
prints one Markdown table per phase and exits 1 if any time (ms, 3 decimals), speedup or energy
ratio (2 decimals) differs from the `halo amove-hw` row, or, given amove.md, from its table
"Simulated speed and energy" (columns TC prefill, TC decode b1, TC decode b16, SA prefill)."""
import json
import subprocess
import sys

DESIGNS = ["int8", "ant-like", "olive-like", "mxfp4", "int-sym-g64", "amove-aggressive", "amove-conservative"]
PHASES = [("prefill, seq 2048", ["--seq", "2048"], ["--phase", "prefill", "--seq", "2048"]),
          ("decode, batch 1, context 2048", ["--batch", "1", "--context", "2048"],
           ["--phase", "decode", "--batch", "1", "--context", "2048"]),
          ("decode, batch 16, context 2048", ["--batch", "16", "--context", "2048"],
           ["--phase", "decode", "--batch", "16", "--context", "2048"])]
ARCHES = ["tensor-core", "systolic"]


def simulate(halo, phase_args, arch, design):
    out = subprocess.run([halo, "simulate", "--model-shape", "llama-2-7b", *phase_args, "--arch", arch, "--array", "64x64",
                          "--design", design, "--json"], check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def amove_hw(halo, args):
    out = subprocess.run([halo, "amove-hw", "--model-shape", "llama-2-7b", *args], check=True, capture_output=True, text=True).stdout
    rows = {}
    for line in out.splitlines()[2:]:
        f = line.replace("|", " ").split()
        rows[f[0]] = {"tensor-core": (f[3], f[4], f[5]), "systolic": (f[7], f[8], f[9])}
    return rows


def amove_md(path):
    """{(design, column index): "speedup / energy"} from amove.md's ratio table."""
    table = {}
    for line in open(path):
        f = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(f) == 7 and f[0] in ("int8", "ant-like", "olive-like", "mxfp4", "int-sym-g64", "amove-aggressive",
                                    "amove-conservative"):
            for i in range(4):
                table[(f[0], i)] = f[2 + i]
    return table


# amove.md's columns: (phase index, arch)
MD_COLUMNS = [(0, "tensor-core"), (1, "tensor-core"), (2, "tensor-core"), (0, "systolic")]


def main():
    halo = sys.argv[1]
    md = amove_md(sys.argv[2]) if len(sys.argv) > 2 else {}
    mismatches = 0
    md_checked = 0
    for phase, (title, sim_args, hw_args) in enumerate(PHASES):
        hw = amove_hw(halo, hw_args)
        print(f"\n### Llama-2-7B {title}\n")
        print("| design | arch | time ms | cycles | energy J (MAC / rescale / decode / SRAM / DRAM) | decoder-bound | speedup | energy saving |")
        print("| --- | --- | --- | --- | --- | --- | --- | --- |")
        for arch in ARCHES:
            for design in DESIGNS:
                j = simulate(halo, sim_args, arch, design)
                t, e = j["total"], j["total"]["energy_j"]
                ms, sp, es = f"{t['time_s'] * 1e3:.3f}", f"{j['speedup']:.2f}", f"{j['energy_saving']:.2f}"
                name = j["run"]["design"]
                if hw[name][arch] != (ms, sp, es):
                    mismatches += 1
                    print(f"MISMATCH {name} {arch}: simulate {(ms, sp, es)} amove-hw {hw[name][arch]}", file=sys.stderr)
                for col, (p, a) in enumerate(MD_COLUMNS):
                    if md and p == phase and a == arch:
                        md_checked += 1
                        if md[(design, col)] != f"{sp} / {es}":
                            mismatches += 1
                            print(f"MISMATCH amove.md {design} {title} {arch}: {sp} / {es} vs {md[(design, col)]}", file=sys.stderr)
                print(f"| {design} | {arch} | {ms} | {t['cycles']:.4g} | {e['total']:.4g} ({e['mac']:.3g} / {e['rescale']:.3g} / "
                      f"{e['decode']:.3g} / {e['sram']:.3g} / {e['dram']:.3g}) | {t['decoder_bound_gemms']} of {len(j['layers'])} | "
                      f"{sp} | {es} |")
    print(f"\nmismatches with halo amove-hw and amove.md ({md_checked} of its cells checked): {mismatches}")
    return 1 if mismatches else 0


if __name__ == "__main__":
    sys.exit(main())
