#!/usr/bin/env python3
"""Records reference token ids for halo's BPE tests with an independent tokenizer: Hugging
Face `tokenizers` (Rust) built from the vocabulary and merges of the GGUF file, read with the
`gguf` package. Pre-tokenizer as SmolLM2's tokenizer.json: Digits(individual_digits) then
ByteLevel(add_prefix_space=False). No added/special tokens, so special-token text is encoded as
plain text, matching halo (and llama.cpp with parse_special=false).

    pip install gguf==0.19.0 tokenizers
    python3 tests/data/model/record_tokens.py data/models/smollm2-135m-instruct-q4_1.gguf \
        > tests/data/model/smollm2_tokens.json
"""
import json
import sys

import gguf
from tokenizers import Tokenizer, decoders, models, pre_tokenizers

STRINGS = [
    "Hello world",
    "The quick brown fox jumps over the lazy dog.",
    "Don't stop: it's 3.14159, they're 42 and we'll see 1,000,000!",
    "  leading spaces,   inner runs\tand a tab  ",
    "line one\nline two\n\n\nafter blank lines\r\nwindows",
    "naïve café — “quotes” and façade, Größe, ĳ",
    "日本語のテキスト、中文文本。한국어",
    "emoji 🙂👍🏽 and symbols ∑∞≠ ½ ²³ Ⅻ",
    "def f(x):\n    return x**2 + 0x1F  # comment",
    "<|im_start|>user\nHi<|im_end|>",
    "   \n  \t \n",
    "'s 'S 'll 'LL ''quoted'' it'd",
]


def main(path):
    reader = gguf.GGUFReader(path)

    def strings(key):
        field = reader.fields[key]
        return [bytes(field.parts[i]).decode("utf-8") for i in field.data]

    tokens = strings("tokenizer.ggml.tokens")
    merges = [tuple(m.split(" ")) for m in strings("tokenizer.ggml.merges")]
    pre = bytes(reader.fields["tokenizer.ggml.pre"].parts[-1]).decode()
    vocab = {t: i for i, t in enumerate(tokens)}
    tok = Tokenizer(models.BPE(vocab=vocab, merges=merges))
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Digits(individual_digits=True),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True),
    ])
    tok.decoder = decoders.ByteLevel()
    cases = [{"text": s, "ids": tok.encode(s).ids} for s in STRINGS]
    for c in cases:
        assert tok.decode(c["ids"]) == c["text"], c["text"]
    head = {"model": "smollm2-135m-instruct-q4_1.gguf", "pre": pre,
            "reference": "tokenizers (HF, Rust) from the GGUF vocab and merges"}
    body = ",\n".join("  " + json.dumps(c, ensure_ascii=False) for c in cases)
    print(json.dumps(head, ensure_ascii=False)[:-1] + ', "cases": [\n' + body + "\n]}")


if __name__ == "__main__":
    main(sys.argv[1])
