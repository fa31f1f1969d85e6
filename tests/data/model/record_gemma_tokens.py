#!/usr/bin/env python3
"""Records llama.cpp's tokenization of test strings and of eval.txt with the Gemma 3 270M GGUF.

  python record_gemma_tokens.py LLAMA_TOKENIZE MODEL.gguf EVAL.txt > gemma3_tokens.json

Runs `llama-tokenize --ids --no-bos --no-parse-special` (the peer, built beside the project;
special-token text is plain text, as in halo) per string, and once on the whole eval text (count and FNV-1a-64 hash of
the ids, as tests/unit/model/tokenizer_bpe_test.cpp hashes SmolLM2's). Not part of the test run.
"""
import ast
import json
import subprocess
import sys
import tempfile

CASES = [
    "Hello world",
    "The quick brown fox jumps over the lazy dog.",
    "Don't stop: it's 3.14159, they're 42 and we'll see 1,000,000!",
    "  leading spaces,   inner runs\tand\ttabs\n\nnew paragraph\n\n\nthree newlines",
    "naïve café, Größe, 東京, 서울, emoji 🙂👍",
    "<div>html tags</div> and <start_of_turn>special text",
    "int main() {\n    return 0;\n}\n",
    "A hacker is a person who enjoys exploring the details of programmable systems.",
]


def tokenize(binary, model, text):
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False, encoding="utf-8") as f:
        f.write(text)
    out = subprocess.run([binary, "-m", model, "-f", f.name, "--ids", "--no-bos", "--no-parse-special", "--log-disable"],
                         check=True, capture_output=True, text=True).stdout
    return ast.literal_eval(out.strip().splitlines()[-1])


def fnv1a64(ids):
    h = 14695981039346656037
    for i in ids:
        for b in int(i).to_bytes(4, "little", signed=True):
            h = ((h ^ b) * 1099511628211) & 0xFFFFFFFFFFFFFFFF
    return h


def main():
    binary, model, eval_txt = sys.argv[1:4]
    cases = [{"text": t, "ids": tokenize(binary, model, t)} for t in CASES]
    ids = tokenize(binary, model, open(eval_txt, encoding="utf-8").read())
    print(json.dumps({"model": "gemma3-270m-q4_k_m.gguf", "reference": "llama.cpp llama-tokenize --no-bos --no-parse-special",
                      "cases": cases, "eval_txt": {"tokens": len(ids), "fnv1a64": str(fnv1a64(ids))}},
                     ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
