#!/usr/bin/env bash
# halo eval vs llama.cpp's llama-perplexity, side by side in one run on one machine: same GGUF,
# same text, same context, same thread count, runs interleaved (the order flips every round so
# neither side always runs first on a warm or cold cache). Two pairs:
#   fp32: `halo eval` on the GGUF (dequantized to FP32 by halo)  vs  llama-perplexity on the
#         GGUF's F32 conversion (llama-quantize --allow-requantize ... F32)
#   w8:   `halo eval --quantized` on an RTN W8 g32 directory  vs  llama-perplexity on the Q8_0
#         GGUF `halo export` writes from that same directory
# Every process is timed whole (/usr/bin/time -v: wall, user, system, peak RSS), model loading
# included on both sides. Prints one row per run and the median wall time per configuration.
#
# Usage: bench/model/eval_vs_llamacpp.sh [ROUNDS [FIRST]]   (default 3 rounds numbered from 1;
#        FIRST > 1 continues a series: even rounds run llama.cpp first)
# Environment: HALO (build/bin/halo), LLAMA_BIN (llama.cpp's build/bin), MODEL (the installed
# default GGUF), TEXT (data/text/eval.txt), CTX (512), CHUNKS (20), THREADS (2),
# WORK (/tmp/halo-eval-bench: the F32 GGUF, the RTN directory and the Q8_0 GGUF are made there
# once and reused).
set -euo pipefail

ROUNDS=${1:-3}
FIRST=${2:-1}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
HALO=${HALO:-$ROOT/build/bin/halo}
LLAMA_BIN=${LLAMA_BIN:-/work/peers/llama_cpp_python-0.3.36/vendor/llama.cpp/build/bin}
MODEL=${MODEL:-$ROOT/data/models/smollm2-135m-instruct-q4_1.gguf}
TEXT=${TEXT:-$ROOT/data/text/eval.txt}
CTX=${CTX:-512}
CHUNKS=${CHUNKS:-20}
THREADS=${THREADS:-2}
WORK=${WORK:-/tmp/halo-eval-bench}
mkdir -p "$WORK"

for exe in "$HALO" "$LLAMA_BIN/llama-perplexity" "$LLAMA_BIN/llama-quantize" /usr/bin/time; do
    [[ -x $exe ]] || { echo "eval_vs_llamacpp.sh: $exe not found or not executable" >&2; exit 2; }
done

F32=$WORK/model-f32.gguf
RTN=$WORK/rtn-w8g32
Q80=$WORK/rtn-w8g32-q8_0.gguf
[[ -f $F32 ]] || "$LLAMA_BIN/llama-quantize" --allow-requantize "$MODEL" "$F32" F32 > "$WORK/llama-quantize.log" 2>&1
[[ -d $RTN ]] || "$HALO" quantize --model "$MODEL" --method rtn --bits 8 --group 32 --out "$RTN" --threads "$THREADS" --quiet
[[ -f $Q80 ]] || "$HALO" export --quantized "$RTN" --model "$MODEL" --out "$Q80" --quiet

# run NAME CMD...: times one process; appends "name wall user sys rss_mib ppl" to $WORK/rows.
run() {
    local name=$1; shift
    local log=$WORK/$name.log
    /usr/bin/time -v "$@" > "$log.out" 2> "$log"
    local wall user sys rss ppl
    wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {n=split($2,t,":"); s=0; for(i=1;i<=n;i++) s=s*60+t[i]; print s}' "$log")
    user=$(awk -F': ' '/User time/ {print $2}' "$log")
    sys=$(awk -F': ' '/System time/ {print $2}' "$log")
    rss=$(awk -F': ' '/Maximum resident/ {printf "%.0f", $2/1024}' "$log")
    if [[ $name == halo* ]]; then
        ppl=$(grep -o '"perplexity": [0-9.]*' "$log.out" | awk '{print $2}')
    else
        ppl=$(grep -o 'Final estimate: PPL = [0-9.]*' "$log" | awk '{print $5}')
    fi
    printf '%-10s %8.2f %8.2f %7.2f %7s %10s\n' "$name" "$wall" "$user" "$sys" "$rss" "$ppl" | tee -a "$WORK/rows"
}

halo_fp32()  { run halo-fp32  "$HALO" eval --model "$MODEL" --text "$TEXT" --ctx "$CTX" --max-chunks "$CHUNKS" --threads "$THREADS" --json --quiet; }
halo_w8()    { run halo-w8    "$HALO" eval --model "$MODEL" --quantized "$RTN" --text "$TEXT" --ctx "$CTX" --max-chunks "$CHUNKS" --threads "$THREADS" --json --quiet; }
llama_fp32() { run llama-f32  "$LLAMA_BIN/llama-perplexity" -m "$F32" -f "$TEXT" -c "$CTX" -b "$CTX" --chunks "$CHUNKS" -t "$THREADS"; }
llama_q80()  { run llama-q8_0 "$LLAMA_BIN/llama-perplexity" -m "$Q80" -f "$TEXT" -c "$CTX" -b "$CTX" --chunks "$CHUNKS" -t "$THREADS"; }

echo "# $(date -u +%FT%TZ) $(uname -n), $(nproc) cores, load average: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# ctx $CTX, $CHUNKS chunks, $THREADS threads, rounds $FIRST..$((FIRST + ROUNDS - 1)); halo $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')"
printf '%-10s %8s %8s %7s %7s %10s\n' config wall_s user_s sys_s rss_MiB perplexity
: > "$WORK/rows"
for ((r = FIRST; r < FIRST + ROUNDS; r++)); do
    if ((r % 2)); then halo_fp32; llama_fp32; halo_w8; llama_q80
    else llama_fp32; halo_fp32; llama_q80; halo_w8; fi
done
echo "# median wall seconds per configuration"
for name in halo-fp32 llama-f32 halo-w8 llama-q8_0; do
    awk -v n="$name" '$1 == n {print $2}' "$WORK/rows" | sort -g |
        awk -v n="$name" '{v[NR]=$1} END {m = NR % 2 ? v[(NR+1)/2] : (v[NR/2] + v[NR/2+1]) / 2; printf "%-10s %8.2f\n", n, m}'
done
echo "# end $(date -u +%FT%TZ), load average: $(cut -d' ' -f1-3 /proc/loadavg)"
