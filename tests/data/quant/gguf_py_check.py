#!/usr/bin/env python3
"""Independent check of `halo export`: dequantize tensors of the exported GGUF with llama.cpp's
gguf-py (gguf.quants) and compare them with the quantized directory's .hqt files decoded here
from their documented layout (src/halo/quant/quant_dir.hpp), Q/K rows put in llama.cpp's order.

  python gguf_py_check.py EXPORTED.gguf QUANT_DIR SOURCE.gguf [TENSOR ...]
  (default tensors: all linears of layer 0 and of the last layer)

Prints one line per tensor: type, max |gguf-py - hqt decode|, whether they are bit-identical, and
the relative RMS difference to the source model's tensor (small when the rows are in the same
order: a wrong Q/K permutation would make it ~1.4), then the overall maximum.
Needs `pip install gguf numpy` (a venv is fine). Not part of the test run.
"""
import json
import struct
import sys
from pathlib import Path

import numpy as np
from gguf import GGUFReader
from gguf.quants import dequantize

ELEMENT = {"int8": (8, True), "int4": (4, True), "int4-asym": (4, False)}


def decode_hqt(path: Path, fmt: str) -> np.ndarray:
    b = path.read_bytes()
    assert b[:4] == b"HQT1", path
    rows, cols = struct.unpack_from("<qq", b, 8)
    cb, flags = struct.unpack_from("<II", b, 24)
    g_rows, g_cols = struct.unpack_from("<qq", b, 32)
    sbits, = struct.unpack_from("<I", b, 48)
    assert flags & ~1 == 0 and sbits == 16 and g_rows == 1, (path, flags, sbits, g_rows)
    bits, signed = ELEMENT[fmt]
    assert cb == bits
    n = rows * cols
    pos = 68
    nbytes = (n * cb + 7) // 8
    packed = np.frombuffer(b, np.uint8, nbytes, pos)
    pos += nbytes
    bitv = np.unpackbits(packed, bitorder="little")[: n * cb].reshape(n, cb)
    codes = (bitv.astype(np.int32) << np.arange(cb)).sum(axis=1)
    v = np.where(codes >= (1 << (bits - 1)), codes - (1 << bits), codes) if signed else codes
    n_groups = rows * ((cols + g_cols - 1) // g_cols)
    scales = np.frombuffer(b, np.float16, n_groups, pos).astype(np.float32)
    pos += 2 * n_groups
    zeros = np.zeros(n_groups, np.float32)
    if flags & 1:
        zeros = np.frombuffer(b, np.uint8, n_groups, pos).astype(np.float32)
    group = (np.arange(cols) // g_cols)[None, :] + (np.arange(rows) * ((cols + g_cols - 1) // g_cols))[:, None]
    v = v.reshape(rows, cols).astype(np.float32)
    return (scales[group] * (v - zeros[group])).astype(np.float32)


def to_llama_order(m: np.ndarray, heads: int) -> np.ndarray:
    rows, cols = m.shape
    hd = rows // heads
    return m.reshape(heads, 2, hd // 2, cols).swapaxes(1, 2).reshape(rows, cols)


def main() -> None:
    gguf_path, qdir, source = Path(sys.argv[1]), Path(sys.argv[2]), GGUFReader(Path(sys.argv[3]))
    source_tensors = {t.name: t for t in source.tensors}
    manifest = json.loads((qdir / "manifest.json").read_text())
    r = GGUFReader(gguf_path)
    meta = {f.name: f for f in r.fields.values()}
    heads = int(meta["llama.attention.head_count"].parts[-1][0])
    kv_heads = int(meta["llama.attention.head_count_kv"].parts[-1][0])
    tensors = {t.name: t for t in r.tensors}
    last = max(e["layer"] for e in manifest["linears"])
    wanted = sys.argv[4:] or [f"blk.{e['layer']}.{e['name']}.weight" for e in manifest["linears"] if e["layer"] in (0, last)]
    overall = 0.0
    for e in manifest["linears"]:
        name = f"blk.{e['layer']}.{e['name']}.weight"
        if name not in wanted:
            continue
        t = tensors[name]
        ours = decode_hqt(qdir / e["file"], e["spec"]["format"])
        if e["name"] in ("attn_q", "attn_k"):
            ours = to_llama_order(ours, heads if e["name"] == "attn_q" else kv_heads)
        theirs = dequantize(t.data, t.tensor_type).reshape(ours.shape).astype(np.float32)
        diff = float(np.max(np.abs(theirs - ours)))
        same = bool(np.array_equal(theirs.view(np.uint32), ours.view(np.uint32)))
        overall = max(overall, diff)
        st = source_tensors[name]
        src = dequantize(st.data, st.tensor_type).reshape(ours.shape).astype(np.float64)
        rel = float(np.sqrt(np.mean((theirs - src) ** 2) / np.mean(src ** 2)))
        print(f"{name:28s} {t.tensor_type.name:5s} {ours.shape[0]}x{ours.shape[1]} max|diff| {diff:.3g} "
              f"bit-identical {same} rel-RMS vs source {st.tensor_type.name} {rel:.3f}")
    print(f"tensors checked: {len(wanted)}, overall max|diff| {overall:.3g}")


if __name__ == "__main__":
    main()
