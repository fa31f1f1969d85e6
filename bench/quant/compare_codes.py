#!/usr/bin/env python3
"""Code agreement of two quantized model directories with the same layout (docs/results/scale.md,
"GPTQ on this CPU"): per .hqt file, how many weights got the same code.
  bench/quant/compare_codes.py DIR_A DIR_B
Reads the .hqt header (docs/formats.md: 68 bytes, code_bits at offset 24) and compares the packed
codes (4- or 8-bit codes only). Prints the totals and the worst file. Python standard library only.
"""
import pathlib
import struct
import sys


def codes(path):
    b = path.read_bytes()
    if b[:4] != b"HQT1":
        sys.exit(f"{path}: not an .hqt file")
    rows, cols, code_bits = struct.unpack_from("<qqI", b, 8)
    if code_bits not in (4, 8):
        sys.exit(f"{path}: {code_bits}-bit codes are not supported here")
    n = rows * cols
    return code_bits, n, b[68:68 + (n * code_bits + 7) // 8]


def differing(a, b, code_bits):
    x = (int.from_bytes(a, "little") ^ int.from_bytes(b, "little")).to_bytes(len(a), "little")
    if code_bits == 8:
        return len(x) - x.count(0)
    table = bytes(((v & 15) != 0) + ((v >> 4) != 0) for v in range(256))
    t = x.translate(table)
    return t.count(1) + 2 * t.count(2)


def main():
    da, db = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
    total = diff = 0
    worst = (0.0, "")
    for fa in sorted(da.glob("*.hqt")):
        bits, n, ca = codes(fa)
        bits_b, n_b, cb = codes(db / fa.name)
        if (bits, n) != (bits_b, n_b):
            sys.exit(f"{fa.name}: shapes or code widths differ")
        d = differing(ca, cb, bits)
        total += n
        diff += d
        worst = max(worst, (d / n, fa.name))
    print(f"weights {total}, codes differing {diff} ({100.0 * diff / max(total, 1):.4f} %), "
          f"equal {100.0 * (total - diff) / max(total, 1):.4f} %; worst file {worst[1]} ({100.0 * worst[0]:.4f} %)")


if __name__ == "__main__":
    main()
