#!/usr/bin/env python3
"""Summarises scripts/halo_baselines.sh's runs: OUT/<setting>/<mac>/seed<S>/results.json (a run may
hold a subset of the rows; seed-independent rows such as RTN may come from one run) ->
OUT/summary.md (mean and sample std over seeds of every row's perplexity, prefill speed-up and
energy, decode speed-up and energy per batch, energy at the extra MAC energy scales) and
OUT/pareto-<setting>-<mac>{,-energy}.svg (mean points, +-1 std bars in perplexity).
Standard library only."""
import json
import math
import statistics
import sys
from pathlib import Path


def mean_std(xs):
    xs = [x for x in xs if x is not None and math.isfinite(x)]
    if not xs:
        return None, None
    return statistics.fmean(xs), (statistics.stdev(xs) if len(xs) > 1 else 0.0)


def fmt(ms, digits=3):
    m, s = ms
    if m is None:
        return "-"
    return f"{m:.{digits}f}" if s == 0 else f"{m:.{digits}f} ± {s:.{digits}f}"


IDX = "+idx"  # halo run --halo-storage indices: the HALO point's weights stored as per-tile codebook indices
PRINTED_NUMBERS = 9  # bits info_b ppl speedup energy mac_en switches d1 d16 at the end of a printed row


def read_printed_table(path):
    """A run's printed results table (halo run's stdout, kept as <row>/stdout.txt where its results.json was
    lost) -> a results-like dict: per row bits, perplexity, prefill and decode-b1/b16 speed-up and energy
    as printed (3-4 digits); no extra MAC energy scales. The FP32 row carries only its perplexity."""
    variants, fp32 = [], None
    for line in path.read_text().splitlines():
        tok = line.split()
        if not tok or tok[0] in ("variant", "report:"):
            continue
        if tok[0] == "fp32":
            fp32 = float(tok[-1])
            continue
        if len(tok) < 2 + PRINTED_NUMBERS:
            raise SystemExit(f"{path}: row '{line}': expected a name, the arithmetic and {PRINTED_NUMBERS} figures")
        bits, _, ppl, spd, en, _, _, d1, d16 = tok[-PRINTED_NUMBERS:]
        phases = {"prefill": {"speedup": float(spd), "energy_ratio": float(en)}}
        for key, cell in (("decode-b1", d1), ("decode-b16", d16)):
            s_, e_ = cell.split("/")
            phases[key] = {"speedup": float(s_), "energy_ratio": float(e_)}
        variants.append({"name": tok[0], "bits_per_weight": float(bits), "perplexity": float(ppl),
                         "speedup": float(spd), "energy_ratio": float(en), "phases": phases,
                         "phases_at_mac_energy_scale": [], "source": "printed table"})
    return {"variants": variants, "fp32_perplexity": fp32, "printed_only": True}


def read_run(f):
    return read_printed_table(f) if f.name == "stdout.txt" else json.loads(f.read_text())


def collect(out):
    """(setting, mac) -> {seed: results}. A seed's rows come from OUT/<setting>/<mac>/seed<S>/results.json
    or, when the run was split into parts (scripts/halo_front.sh), from every seed<S>/<part>/results.json
    merged (the FP32 perplexity from the part that measured it)."""
    groups = {}
    for seed_dir in sorted(p for p in out.glob("*/*/seed*") if p.is_dir()):
        whole = seed_dir / "results.json"
        files = [whole] if whole.exists() else sorted(
            [d / "results.json" if (d / "results.json").exists() else d / "stdout.txt"
             for d in seed_dir.iterdir() if (d / "results.json").exists() or (d / "stdout.txt").exists()])
        merged = None
        runs = [(f, read_run(f)) for f in files]
        # a HALO row name that two parts both hold (the same objective run twice with different flags, e.g.
        # --level-codes) is told apart by its part's directory: halo-model@0-0-1-0[h3](+idx); a baseline
        # row two parts hold (rtn-w8 beside each part's rows) is one computation, the first one kept
        # (a point's +idx row goes with its codes row)
        def base(name):
            return name[:-len(IDX)] if name.endswith(IDX) else name
        seen = {}
        for f, r in runs:
            for v in r["variants"]:
                seen.setdefault(base(v["name"]), set()).add(f.parent)
        for f, r in runs:
            for v in r["variants"]:
                if v["name"].startswith("halo") and len(seen[base(v["name"])]) > 1:
                    v["name"] = f"{base(v['name'])}[{f.parent.name}]{v['name'][len(base(v['name'])):]}"
        # a results.json first, so the setting's description (calibration, ctx, array) comes from a full record
        for f, r in sorted(runs, key=lambda fr: fr[0].name != "results.json"):
            if merged is None:
                merged = dict(r, variants=[], printed_rows=[])
            if r.get("printed_only"):
                merged["printed_rows"] += [v["name"] for v in r["variants"]]
            names = [v["name"] for v in merged["variants"]]
            merged["variants"] += [v for v in r["variants"] if v["name"] not in names]
            if r.get("fp32_perplexity") is not None:
                merged["fp32_perplexity"] = r["fp32_perplexity"]
        if merged and merged["variants"]:
            groups.setdefault((seed_dir.parent.parent.name, seed_dir.parent.name), {})[seed_dir.name[4:]] = merged
    return groups


def is_halo(name, storage):
    """A HALO row of that storage: 'codes' (the INT8 codes, as the paper stores them) or 'indices' (+idx)."""
    return name.startswith("halo") and name.endswith(IDX) == (storage == "indices")


def no_worse(ppl, spd, en, ppl_b, spd_b, en_b):
    """At most as perplexed, at least as fast, at most as costly, compared at the printed precision (perplexity
    to 2 decimals, ratios to 3): a row known from a printed table has no more digits, and a difference below
    them is no difference a reader could see."""
    return round(ppl, 2) <= round(ppl_b, 2) and round(spd, 3) >= round(spd_b, 3) and round(en, 3) <= round(en_b, 3)


def dominance(points, storage="codes"):
    """For every non-HALO row: the HALO rows (means) of that storage at least as good in perplexity, prefill
    speed-up and prefill energy at once."""
    lines = []
    halo = [p for p in points if is_halo(p[0], storage)]
    for name, spd, en, ppl, _ in points:
        if name.startswith("halo"):
            continue
        by = [h[0] for h in halo if no_worse(h[3], h[1], h[2], ppl, spd, en)]
        lines.append(f"- {name} (ppl {ppl:.2f}, {spd:.3f}x, energy {en:.3f}): "
                     + (f"dominated by {', '.join(by)}" if by else "**not dominated** by any HALO row"))
    return lines


SEED_FREE = ("rtn", "iso", "bf16")  # rows with no calibration: one run stands for every seed


def phase_figures(v, phase):
    """(speed-up, energy ratio) of a row in a phase: prefill, decode-b<B>, or '<phase> @ MAC x<scale>'
    (the energy simulated at an extra MAC energy scale; the speed-up does not depend on it)."""
    if " @ MAC x" in phase:
        base, scale = phase.split(" @ MAC x")
        at = next((p for p in v["phases_at_mac_energy_scale"] if f"{p['mac_energy_scale']:g}" == scale), None)
        if at is None:  # a row known from its printed table only
            return None, None
        return at[base]["speedup"], at[base]["energy_ratio"]
    if phase == "prefill":
        return v["speedup"], v["energy_ratio"]
    return v["phases"][phase]["speedup"], v["phases"][phase]["energy_ratio"]


def dominance_per_seed(runs, names, phases, storage="codes"):
    """Per seed and phase, the HALO rows (of that storage) of that seed's runs at most as perplexed, at least
    as fast and at most as costly as each non-HALO row of the same seed (a calibration-free row from the run
    that has it)."""
    lines = ["| row | " + " | ".join(phases) + " |", "|" + " --- |" * (len(phases) + 1)]
    for name in names:
        if name.startswith("halo"):
            continue
        cells = []
        for phase in phases:
            per_seed = []
            for seed, r in sorted(runs.items()):
                row = next((v for v in r["variants"] if v["name"] == name), None)
                if row is None and name.startswith(SEED_FREE):
                    row = next((v for rr in runs.values() for v in rr["variants"] if v["name"] == name), None)
                halo = [v for v in r["variants"] if is_halo(v["name"], storage)]
                if row is None or not halo:
                    per_seed.append(f"{seed}: not run")
                    continue
                spd, en = phase_figures(row, phase)
                known = [h for h in halo if phase_figures(h, phase)[0] is not None]
                by = [] if spd is None else [h["name"] for h in known if no_worse(
                    h["perplexity"], *phase_figures(h, phase), row["perplexity"], spd, en)]
                if not by and (spd is None or len(known) < len(halo)):  # some figures known from a printed table only
                    per_seed.append(f"{seed}: n/a (printed table)")
                    continue
                per_seed.append(f"{seed}: " + (", ".join(b[len("halo-"):] for b in by) if by else "**none**"))
            cells.append("; ".join(per_seed))
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return lines


def color(name):
    if name.startswith("halo"):
        return "#d62728"
    if name.endswith("-dvfs") or name.startswith("iso"):
        return "#2ca02c"
    return "#1f77b4"


def svg(points, fp, xlabel, title):
    W, H, L, R, T, B = 720, 460, 70, 150, 30, 50
    xs = [p[1] for p in points] + [1.0]
    ys = [p[2] + p[3] for p in points] + [p[2] - p[3] for p in points] + ([fp] if fp else [])
    log_y = max(ys) / max(min(ys), 1e-9) > 5  # W4 rows at thousands beside W8 rows near FP32
    if log_y:
        points = [(n, x, math.log10(y), math.log10(y + sd) - math.log10(y)) for n, x, y, sd in points]
        ys = [math.log10(max(y, 1e-9)) for y in ys]
        fp = math.log10(fp) if fp else fp
    x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)
    x0, x1 = x0 - 0.05 * (x1 - x0 + 1e-9), x1 + 0.05 * (x1 - x0 + 1e-9)
    y0, y1 = y0 - 0.05 * (y1 - y0 + 1e-9), y1 + 0.05 * (y1 - y0 + 1e-9)
    X = lambda x: L + (x - x0) / (x1 - x0) * (W - L - R)
    Y = lambda y: H - B - (y - y0) / (y1 - y0) * (H - T - B)
    s = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" font-family="sans-serif" font-size="11">',
         '<rect width="100%" height="100%" fill="white"/>',
         f'<text x="{L}" y="18" font-size="13">{title}</text>',
         f'<line x1="{L}" y1="{H-B}" x2="{W-R}" y2="{H-B}" stroke="black"/>',
         f'<line x1="{L}" y1="{T}" x2="{L}" y2="{H-B}" stroke="black"/>']
    for i in range(5):
        x, y = x0 + (x1 - x0) * i / 4, y0 + (y1 - y0) * i / 4
        s.append(f'<text x="{X(x):.1f}" y="{H-B+16}" text-anchor="middle">{x:.2f}</text>')
        s.append(f'<text x="{L-4}" y="{Y(y)+4:.1f}" text-anchor="end">{10 ** y if log_y else y:.1f}</text>')
    s.append(f'<text x="{(L+W-R)/2}" y="{H-10}" text-anchor="middle">{xlabel}</text>')
    s.append(f'<text x="14" y="{(T+H-B)/2}" transform="rotate(-90 14 {(T+H-B)/2})" text-anchor="middle">perplexity{" (log scale)" if log_y else ""}</text>')
    if fp:
        s.append(f'<line x1="{L}" y1="{Y(fp):.1f}" x2="{W-R}" y2="{Y(fp):.1f}" stroke="gray" stroke-dasharray="4 3"/>'
                 f'<text x="{W-R+4}" y="{Y(fp)+4:.1f}" fill="gray">FP32</text>')
    for name, x, y, sd in points:
        c = color(name)
        if sd > 0:
            s.append(f'<line x1="{X(x):.1f}" y1="{Y(y-sd):.1f}" x2="{X(x):.1f}" y2="{Y(y+sd):.1f}" stroke="{c}"/>')
        s.append(f'<circle cx="{X(x):.1f}" cy="{Y(y):.1f}" r="4" fill="{c}"/>'
                 f'<text x="{X(x)+6:.1f}" y="{Y(y)-5:.1f}" font-size="9">{name}</text>')
    s.append(f'<text x="{W-R+4}" y="{T+10}" fill="#d62728">HALO</text>')
    s.append(f'<text x="{W-R+4}" y="{T+24}" fill="#2ca02c">DVFS-aware / iso-voltage</text>')
    s.append(f'<text x="{W-R+4}" y="{T+38}" fill="#1f77b4">nominal-clock baselines</text>')
    s.append("</svg>")
    return "\n".join(s) + "\n"


def main():
    out = Path(sys.argv[1])
    md = ["# halo baselines summary", "",
          "Mean ± sample std over the runs holding the row (column runs; no ± : one run, or equal values). Speed-up and energy",
          "are against uniform INT8 at L0 on the same array and phase; decode context = the prefill length.", ""]
    for (setting, mac), runs in sorted(collect(out).items()):
        seeds = sorted(runs)
        # the setting's description from a full record (a seed may be known from printed tables only)
        first = next((runs[s] for s in seeds if "calibration" in runs[s]), None)
        if first is None:
            raise SystemExit(f"{out}/{setting}/{mac}: no results.json among the seeds {seeds}; "
                             "the printed tables alone do not say the setting")
        phases = [k for k in first["variants"][0].get("phases", {}) if k != "prefill"]
        scales = [p["mac_energy_scale"] for p in first["variants"][0].get("phases_at_mac_energy_scale", [])]
        md += [f"## {setting}, {mac} (seeds {', '.join(seeds)})", "",
               f"calibration {first['calibration']['samples']} x {first['calibration']['seq_len']} tokens, eval ctx "
               f"{first['ctx']} x {first['max_chunks']} chunks (-1 = all), array {first['simulator']['array']}; "
               f"FP32 perplexity {fmt(mean_std([r.get('fp32_perplexity') for r in runs.values()]))}", ""]
        printed = sorted({f"seed {s}: {n}" for s in seeds for n in runs[s].get("printed_rows", [])})
        if printed:
            md += [f"Rows known from the run's printed table only (results.json lost; figures to 3-4 digits, no extra "
                   f"MAC energy scales, so those cells average the other seeds): {len(printed)} row-seeds.", ""]
        head = ["row", "runs", "bits/w", "perplexity", "prefill speed-up", "prefill energy"]
        head += [f"{p} speed-up / energy" for p in phases]
        head += [f"prefill energy @ MAC x{s:g}" for s in scales]
        md += ["| " + " | ".join(head) + " |", "|" + " --- |" * len(head)]
        names = []  # every row of every run (a run may hold a subset of the rows)
        for r in runs.values():
            names += [v["name"] for v in r["variants"] if v["name"] not in names]
        points = []
        for name in names:
            rows = [next(v for v in r["variants"] if v["name"] == name) for r in runs.values()
                    if any(v["name"] == name for v in r["variants"])]
            ppl = mean_std([v["perplexity"] for v in rows])
            spd = mean_std([v["speedup"] for v in rows])
            en = mean_std([v["energy_ratio"] for v in rows])
            cells = [name, str(len(rows)), fmt(mean_std([v["bits_per_weight"] for v in rows]), 2), fmt(ppl, 2), fmt(spd), fmt(en)]
            for p in phases:
                cells.append(fmt(mean_std([v["phases"][p]["speedup"] for v in rows])) + " / " +
                             fmt(mean_std([v["phases"][p]["energy_ratio"] for v in rows])))
            for x in scales:
                cells.append(fmt(mean_std([phase_figures(v, f"prefill @ MAC x{x:g}")[1] for v in rows])))
            md.append("| " + " | ".join(cells) + " |")
            points.append((name, spd[0], en[0], ppl[0], ppl[1]))
        fp = mean_std([r.get("fp32_perplexity") for r in runs.values()])[0]
        storages = ["codes"] + (["indices"] if any(n.startswith("halo") and n.endswith(IDX) for n in names) else [])
        for storage in storages:
            what = ("HALO rows storing INT8 codes" if storage == "codes"
                    else f"HALO rows storing per-tile codebook indices ({IDX})")
            md += ["", f"Dominance by the {what} (means; at most as perplexed, at least as fast and at most as costly "
                   "in prefill energy, compared at 2 decimals of perplexity and 3 of the ratios):"]
            md += dominance(points, storage)
            md += ["", f"Dominance per seed and phase by the {what}: for each seed, those of that seed at most as",
                   "perplexed, at least as fast and at most as costly in that phase's energy (**none**: not dominated on",
                   "that seed):", ""]
            md += dominance_per_seed(runs, names, ["prefill"] + phases + [f"{p} @ MAC x{x:g}" for x in scales
                                                                         for p in ["prefill"] + phases], storage)
        md.append("")
        for phase in ["prefill"] + [p for p in phases if p == "decode-b1"]:
            for energy in (False, True):
                pts = []
                for n, _, _, p, sd in points:
                    rows = [v for r in runs.values() for v in r["variants"] if v["name"] == n]
                    pts.append((n, statistics.fmean(phase_figures(v, phase)[1 if energy else 0] for v in rows), p, sd))
                tag = "" if phase == "prefill" else f"-{phase}"
                name = f"pareto-{setting}-{mac}{tag}{'-energy' if energy else ''}.svg"
                axis = f"{phase} energy ratio (lower is better)" if energy else f"{phase} speed-up"
                (out / name).write_text(svg(pts, fp, axis, f"{setting}, {mac}: perplexity vs {phase} "
                                            f"{'energy' if energy else 'speed-up'} (mean of {len(seeds)} seeds)"))
                md.append(f"![{name}]({name})")
        md.append("")
    (out / "summary.md").write_text("\n".join(md) + "\n")
    print(out / "summary.md")


if __name__ == "__main__":
    main()
