#!/usr/bin/env python3
"""Writes small valid seed inputs for the byte-level fuzz targets (GGUF, safetensors) into
OUT/gguf and OUT/safetensors, and copies the text seeds (Liberty, netlists) into OUT/liberty,
OUT/yosys_json, OUT/verilog. Usage: fuzz/make_seed_corpus.py OUT"""
import json
import os
import shutil
import struct
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def gguf_string(s):
    b = s.encode()
    return struct.pack("<Q", len(b)) + b


def gguf_kv_u32(key, v):
    return gguf_string(key) + struct.pack("<II", 4, v)


def gguf_kv_str(key, v):
    return gguf_string(key) + struct.pack("<I", 8) + gguf_string(v)


def gguf_kv_str_array(key, items):
    out = gguf_string(key) + struct.pack("<IIQ", 9, 8, len(items))
    for s in items:
        out += gguf_string(s)
    return out


def gguf_file(tensors, kvs):
    """tensors: (name, dims, ggml type id, data bytes)."""
    head = b"GGUF" + struct.pack("<IQQ", 3, len(tensors), len(kvs)) + b"".join(kvs)
    infos, data = b"", b""
    for name, dims, type_id, payload in tensors:
        infos += gguf_string(name) + struct.pack("<I", len(dims)) + b"".join(struct.pack("<Q", d) for d in dims)
        infos += struct.pack("<IQ", type_id, len(data))
        data += payload + b"\0" * ((-len(payload)) % 32)
    body = head + infos
    return body + b"\0" * ((-len(body)) % 32) + data


def q8_0_block(scale_f16_bits, codes):
    return struct.pack("<H", scale_f16_bits) + bytes(c & 0xFF for c in codes)


def write_gguf(out):
    os.makedirs(out, exist_ok=True)
    f32 = struct.pack("<8f", *[0.5 * i - 1 for i in range(8)])
    q8 = q8_0_block(0x3C00, range(-16, 16))  # scale 1.0
    q4_1 = struct.pack("<HH", 0x3C00, 0x0000) + bytes(range(16))  # scale 1, min 0
    kvs = [gguf_kv_str("general.architecture", "llama"), gguf_kv_u32("general.alignment", 32),
           gguf_kv_str("tokenizer.ggml.model", "gpt2"),
           gguf_kv_str_array("tokenizer.ggml.tokens", ["a", "b", "ab", "\u0120c"]),
           gguf_kv_str_array("tokenizer.ggml.merges", ["a b"])]
    with open(os.path.join(out, "small.gguf"), "wb") as f:
        f.write(gguf_file([("t.f32", [4, 2], 0, f32), ("t.q8_0", [32], 8, q8), ("t.q4_1", [32], 3, q4_1)], kvs))
    with open(os.path.join(out, "empty.gguf"), "wb") as f:
        f.write(gguf_file([], []))


def write_safetensors(out):
    os.makedirs(out, exist_ok=True)
    data = struct.pack("<4f", 1, 2, 3, 4) + struct.pack("<4H", 0x3C00, 0x4000, 0x4200, 0x4400) + struct.pack("<2H", 0x3F80, 0x4000)
    header = {"a": {"dtype": "F32", "shape": [2, 2], "data_offsets": [0, 16]},
              "b": {"dtype": "F16", "shape": [4], "data_offsets": [16, 24]},
              "c": {"dtype": "BF16", "shape": [1, 2], "data_offsets": [24, 28]},
              "__metadata__": {"format": "pt"}}
    h = json.dumps(header).encode()
    h += b" " * ((-len(h)) % 8)
    with open(os.path.join(out, "small.safetensors"), "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + data)


def copy_text_seeds(out):
    for sub, files in {"liberty": ["tests/data/liberty/tiny.lib"], "yosys_json": ["tests/data/netlist/small.json"],
                       "verilog": ["tests/data/netlist/small.v"]}.items():
        os.makedirs(os.path.join(out, sub), exist_ok=True)
        for f in files:
            shutil.copy(os.path.join(ROOT, f), os.path.join(out, sub))


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    write_gguf(os.path.join(sys.argv[1], "gguf"))
    write_safetensors(os.path.join(sys.argv[1], "safetensors"))
    copy_text_seeds(sys.argv[1])
