#!/usr/bin/env python3
"""Counts equal codes between two quantized model directories (docs/formats.md `.hqt`): the
CUDA-vs-CPU GPTQ check of issue #13. Usage: compare_hqt_codes.py DIR_A DIR_B"""
import pathlib
import struct
import sys

import numpy as np


def codes(path):
    raw = path.read_bytes()
    magic, _version, rows, cols, bits = struct.unpack_from("<4sIqqI", raw, 0)
    if magic != b"HQT1":
        raise SystemExit(f"{path}: not an .hqt file (magic {magic!r})")
    n = rows * cols
    stream = np.frombuffer(raw, dtype=np.uint8, count=(n * bits + 7) // 8, offset=68)
    bitstream = np.unpackbits(stream, bitorder="little")[: n * bits].reshape(n, bits)
    return (bitstream.astype(np.uint32) << np.arange(bits, dtype=np.uint32)).sum(axis=1)


def main():
    a, b = map(pathlib.Path, sys.argv[1:3])
    total = same = 0
    worst = (1.0, "")
    per_layer = {}
    for fa in sorted(a.glob("*.hqt")):
        ca, cb = codes(fa), codes(b / fa.name)
        eq = int((ca == cb).sum())
        total += ca.size
        same += eq
        worst = min(worst, (eq / ca.size, fa.name))
        layer = int(fa.name.split(".")[1])
        s, t = per_layer.get(layer, (0, 0))
        per_layer[layer] = (s + eq, t + ca.size)
    print("per block: " + " ".join(f"{l}:{100.0 * s / t:.2f}" for l, (s, t) in sorted(per_layer.items())))
    print(f"codes equal: {same} of {total} ({100.0 * same / total:.4f} %); lowest file: {worst[1]} {100.0 * worst[0]:.4f} %")


if __name__ == "__main__":
    main()
