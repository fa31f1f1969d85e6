#!/usr/bin/env python3
"""HALO against a baseline from Python: characterize the default MAC (INT8 on OSU 0.18 um),
quantize the default model (SmolLM2-135M) with HALO at a few objectives and with GPTQ/RTN W4, score
each (perplexity on the installed eval text, simulated prefill speed-up and energy on a 128x128
systolic array against uniform INT8 at the nominal clock), and plot the Pareto front.

    python examples/pareto_front.py --out pareto-run         # writes pareto-run/pareto.png/.svg

Needs the halo package (pip install . or PYTHONPATH=build/python), matplotlib, and the data
that `make demo` installs (data/models, data/text).
"""

import argparse
import json
import pathlib
import time

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

import halo  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default="pareto-run", help="output directory (created)")
    ap.add_argument("--points", default="perf@0.5,bal@0.5", help="HALO objective@budget points")
    ap.add_argument("--baselines", default="gptq-w4,rtn-w4", help="baselines: gptq-w4, rtn-w4 (W4 g128, A8)")
    ap.add_argument("--ctx", type=int, default=256, help="perplexity: tokens per chunk")
    ap.add_argument("--max-chunks", type=int, default=4, help="perplexity: chunks scored")
    ap.add_argument("--samples", type=int, default=4, help="calibration samples")
    ap.add_argument("--seq-len", type=int, default=128, help="tokens per calibration sample")
    ap.add_argument("--threads", type=int, default=0, help="threads (0 = all cores)")
    args = ap.parse_args()
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.monotonic()

    profile = halo.characterize(mac="int8", work_dir=str(out / "work"), threads=args.threads)
    profile.write(out / "profile.json")
    delay = profile.static_delay_ns
    print(f"profile: {len(profile)} weights, static delay {delay.min():.3f} .. {delay.max():.3f} ns")

    common = dict(samples=args.samples, seq_len=args.seq_len, ctx=args.ctx, max_chunks=args.max_chunks,
                  threads=args.threads, force=True)
    # One quantized directory per HALO point (the same job as `halo quantize --method halo`),
    # scored as every other directory: perplexity (its INT8 activations come with it) and the
    # simulation of its tiles on the machine it was quantized for (DIR/sim_config.json).
    points = []
    for point in args.points.split(","):
        objective, _, budget = point.partition("@")
        d = out / f"halo-{point}"
        halo.quantize(method="halo", out=d, profile=out / "profile.json", objective=objective,
                      budget=float(budget or 0.5), **common)
        ppl = halo.perplexity(quantized=d, ctx=args.ctx, max_chunks=args.max_chunks, threads=args.threads)
        sim_point = halo.simulate(model_shape="smollm2-135m", seq=512, quantized=d)
        points.append({"name": f"halo-{point}", "perplexity": ppl["perplexity"], "speedup": sim_point["speedup"],
                       "energy_ratio": sim_point["energy_ratio"]})

    # Every baseline tile runs at the nominal level: the simulator's baseline itself (the static
    # profile has no switching energy, so MAC energy is the flat table, as in the HALO points).
    sim = halo.simulate(model_shape="smollm2-135m", seq=512, array="128x128")
    for name in args.baselines.split(","):
        method = name.split("-")[0]
        halo.quantize(method=method, format="int4", group=128, out=out / name, **common)
        # Activations INT8 per token, as HALO's points are scored (W4A8 against HALO A8).
        ppl = halo.perplexity(quantized=out / name, ctx=args.ctx, max_chunks=args.max_chunks, threads=args.threads,
                              act_format="int8_per_token")
        points.append({"name": name + "a8", "perplexity": ppl["perplexity"], "speedup": sim["speedup"],
                       "energy_ratio": sim["energy_ratio"]})
    fp = halo.perplexity(ctx=args.ctx, max_chunks=args.max_chunks, threads=args.threads)["perplexity"]

    fig, ax = plt.subplots(figsize=(6, 4))
    for p in points:
        ax.scatter(p["speedup"], p["perplexity"], color="tab:red" if p["name"].startswith("halo") else "tab:blue")
        ax.annotate(f"{p['name']}\n(energy x{p['energy_ratio']:.2f})", (p["speedup"], p["perplexity"]),
                    textcoords="offset points", xytext=(6, 4), fontsize=8)
    ax.axhline(fp, color="gray", linestyle="--", linewidth=1, label=f"FP reference ({fp:.2f})")
    ax.set_xlabel("simulated prefill speed-up vs uniform INT8 at the nominal clock")
    ax.set_ylabel(f"perplexity (ctx {args.ctx}, {args.max_chunks} chunks)")
    ax.set_title("SmolLM2-135M: HALO vs W4A8 baselines (int8 MAC, osu018)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out / "pareto.png", dpi=120)
    fig.savefig(out / "pareto.svg")
    (out / "points.json").write_text(json.dumps({"fp_perplexity": fp, "points": points}, indent=1) + "\n")
    for p in points:
        print(f"{p['name']:<16} ppl {p['perplexity']:8.3f}  speed-up {p['speedup']:.3f}  energy x{p['energy_ratio']:.3f}")
    print(f"wrote {out / 'pareto.png'} ({time.monotonic() - t0:.0f} s)")


if __name__ == "__main__":
    main()
