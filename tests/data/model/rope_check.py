#!/usr/bin/env python3
# Usage: python3 tests/data/model/rope_check.py data/models/smollm2-135m-instruct-q4_1.gguf data/text/eval.txt
# (pip install gguf==0.19.0 tokenizers numpy). An independent numpy forward of SmolLM2, also a
# reference figure for halo's own forward pass.
# Checks the RoPE decision numerically: perplexity of SmolLM2 on a slice of eval.txt with a
# numpy forward using HF rotate_half RoPE, with Q/K (a) un-permuted as halo's loader does and
# (b) left in the GGUF order.
import sys, numpy as np, gguf
from gguf.quants import dequantize
from tokenizers import Tokenizer, models, pre_tokenizers
r = gguf.GGUFReader(sys.argv[1])
W = {t.name: dequantize(t.data, t.tensor_type).astype(np.float32).reshape(tuple(int(x) for x in reversed(t.shape))) if len(t.shape) > 1 else dequantize(t.data, t.tensor_type).astype(np.float32).reshape(-1) for t in r.tensors}
f = r.fields
def strs(k): return [bytes(f[k].parts[i]).decode() for i in f[k].data]
tok = Tokenizer(models.BPE(vocab={t:i for i,t in enumerate(strs("tokenizer.ggml.tokens"))}, merges=[tuple(m.split(" ")) for m in strs("tokenizer.ggml.merges")]))
tok.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.Digits(individual_digits=True), pre_tokenizers.ByteLevel(add_prefix_space=False)])
ids = tok.encode(open(sys.argv[2]).read()[:2000]).ids[:256]
L, D, H, KV, HD, theta, eps = 30, 576, 9, 3, 64, 100000.0, 1e-5
def unpermute(w, n):
    return w.reshape(n, HD // 2, 2, -1).swapaxes(1, 2).reshape(w.shape)
def rms(x, g): return x / np.sqrt((x * x).mean(-1, keepdims=True) + eps) * g
def rope(x):  # x: [T, heads, HD], rotate_half
    T = x.shape[0]
    inv = theta ** (-np.arange(0, HD, 2) / HD)
    ang = np.arange(T)[:, None] * inv[None, :]
    cos, sin = np.cos(np.concatenate([ang, ang], -1))[:, None, :], np.sin(np.concatenate([ang, ang], -1))[:, None, :]
    x1, x2 = x[..., :HD // 2], x[..., HD // 2:]
    return x * cos + np.concatenate([-x2, x1], -1) * sin
def ppl(fix):
    x = W["token_embd.weight"][ids]
    T = len(ids)
    mask = np.triu(np.full((T, T), -np.inf), 1)
    for l in range(L):
        p = f"blk.{l}."
        h = rms(x, W[p + "attn_norm.weight"])
        wq, wk = W[p + "attn_q.weight"], W[p + "attn_k.weight"]
        if fix: wq, wk = unpermute(wq, H), unpermute(wk, KV)
        q = rope((h @ wq.T).reshape(T, H, HD)); k = rope((h @ wk.T).reshape(T, KV, HD))
        v = (h @ W[p + "attn_v.weight"].T).reshape(T, KV, HD)
        out = np.zeros((T, H, HD), np.float32)
        for hh in range(H):
            s = q[:, hh] @ k[:, hh // 3].T / np.sqrt(HD) + mask
            s = np.exp(s - s.max(-1, keepdims=True)); s /= s.sum(-1, keepdims=True)
            out[:, hh] = s @ v[:, hh // 3]
        x = x + out.reshape(T, D) @ W[p + "attn_output.weight"].T
        h = rms(x, W[p + "ffn_norm.weight"])
        g = h @ W[p + "ffn_gate.weight"].T
        x = x + ((g / (1 + np.exp(-g))) * (h @ W[p + "ffn_up.weight"].T)) @ W[p + "ffn_down.weight"].T
    logits = rms(x, W["output_norm.weight"]) @ W["token_embd.weight"].T
    logits -= logits.max(-1, keepdims=True)
    lp = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    return float(np.exp(-np.mean([lp[i, ids[i + 1]] for i in range(T - 1)])))
print("tokens", len(ids), "ppl unpermuted+rotate_half", ppl(True), "ppl gguf-order+rotate_half", ppl(False))
