#!/usr/bin/env python3
"""Makes tests/data/model/kquant/tiny_kquant.gguf and its reference values kquant_reference.json.

  python make_kquant_gguf.py LLAMA_QUANTIZE_BINARY

1. Writes a tiny synthetic Llama-shaped model in F32 (gguf-py's GGUFWriter; values from a seeded
   numpy generator, no real weights) with rows of 256 elements, so that K-quants apply.
2. Quantizes it with llama.cpp's `llama-quantize`, giving each 256-wide tensor a different type
   (--tensor-type), so one small file holds Q2_K, Q3_K, Q4_K, Q5_K, Q6_K and IQ4_NL tensors.
3. Dequantizes every tensor with gguf-py (gguf.quants.dequantize: an implementation independent
   of halo's) and writes, per tensor: type, shape, the float64 sum and sum of squares, the
   maximum |dequantized - original F32| and the values at every 61st element, as JSON.

halo's test (tests/unit/model/dequant_kquant_file_test.cpp) reads the .gguf with its own reader
and dequantizers and compares against the JSON. Needs `pip install gguf numpy`. Not run by the
tests (llama-quantize is not available in CI); the outputs are committed.
"""
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from gguf import GGUFReader, GGUFWriter
from gguf.quants import dequantize

HERE = Path(__file__).resolve().parent
D = 256          # embedding width: one K-quant super-block per row
VOCAB = 32
FF = 64
HEAD_DIM = 32    # one head of 32: Q/K/V are [32 x 256]
SAMPLE_STRIDE = 61

# Tensor -> the type llama-quantize is told to write (the 256-wide rows); the others (ne0 of 32
# or 64) are not whole super-blocks and fall back to what llama-quantize picks.
TYPES = {
    "token_embd.weight": "q2_k",
    "blk.0.attn_q.weight": "q3_k",
    "blk.0.attn_k.weight": "q4_k",
    "blk.0.attn_v.weight": "q5_k",
    "blk.0.ffn_gate.weight": "q6_k",
    "blk.0.ffn_up.weight": "iq4_nl",
}


def synthetic_tensors(rng):
    # Rows with different scales and a few outliers, so sub-block scales and mins differ.
    def mat(rows, cols):
        w = rng.standard_normal((rows, cols)).astype(np.float32)
        w *= np.exp(rng.uniform(-2, 0.5, size=(rows, 1))).astype(np.float32)
        w[rng.integers(0, rows, 4), rng.integers(0, cols, 4)] *= 8
        return w

    return {
        "token_embd.weight": mat(VOCAB, D),
        "blk.0.attn_norm.weight": np.ones(D, np.float32),
        "blk.0.attn_q.weight": mat(HEAD_DIM, D),
        "blk.0.attn_k.weight": mat(HEAD_DIM, D),
        "blk.0.attn_v.weight": mat(HEAD_DIM, D),
        "blk.0.attn_output.weight": mat(D, HEAD_DIM),
        "blk.0.ffn_norm.weight": np.ones(D, np.float32),
        "blk.0.ffn_gate.weight": mat(FF, D),
        "blk.0.ffn_up.weight": mat(FF, D),
        "blk.0.ffn_down.weight": mat(D, FF),
        "output_norm.weight": np.ones(D, np.float32),
    }


def write_f32(path, tensors):
    w = GGUFWriter(str(path), "llama")
    w.add_name("halo tiny k-quant test model (synthetic)")
    w.add_block_count(1)
    w.add_context_length(64)
    w.add_embedding_length(D)
    w.add_feed_forward_length(FF)
    w.add_head_count(1)
    w.add_head_count_kv(1)
    w.add_key_length(HEAD_DIM)
    w.add_value_length(HEAD_DIM)
    w.add_rope_dimension_count(HEAD_DIM)
    w.add_layer_norm_rms_eps(1e-5)
    w.add_vocab_size(VOCAB)
    w.add_file_type(0)
    for name, t in tensors.items():
        w.add_tensor(name, t)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def main():
    quantize = sys.argv[1]
    rng = np.random.default_rng(20261203)
    tensors = synthetic_tensors(rng)
    out_gguf = HERE / "tiny_kquant.gguf"
    with tempfile.TemporaryDirectory() as tmp:
        f32 = Path(tmp) / "tiny_f32.gguf"
        write_f32(f32, tensors)
        cmd = [quantize]
        for name, t in TYPES.items():
            cmd += ["--tensor-type", f"{name.removesuffix('.weight').split('.')[-1]}={t}"]
        cmd += ["--token-embedding-type", TYPES["token_embd.weight"], str(f32), str(out_gguf), "q8_0", "1"]
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    reader = GGUFReader(str(out_gguf))
    ref = {"generator": "make_kquant_gguf.py", "sample_stride": SAMPLE_STRIDE, "tensors": {}}
    for t in reader.tensors:
        x = dequantize(t.data, t.tensor_type).astype(np.float32).reshape(-1)
        orig = tensors[t.name].reshape(-1)
        ref["tensors"][t.name] = {
            "type": t.tensor_type.name,
            "ne": [int(n) for n in t.shape],
            "sum": float(x.astype(np.float64).sum()),
            "sum_sq": float((x.astype(np.float64) ** 2).sum()),
            "max_abs_error_vs_f32": float(np.abs(x - orig).max()),
            "samples": [float(v) for v in x[::SAMPLE_STRIDE]],
        }
    (HERE / "kquant_reference.json").write_text(json.dumps(ref, indent=1) + "\n")
    for name, r in ref["tensors"].items():
        print(f"{name:28s} {r['type']:7s} sum {r['sum']:+.6f} max|err| {r['max_abs_error_vs_f32']:.4f}")


if __name__ == "__main__":
    main()
