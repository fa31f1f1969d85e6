#!/usr/bin/env bash
# Stages binaries for the lent GPU machine (read by scripts/device_env.sh's device_unpack there):
#   scripts/device_stage.sh NAME BINARY...
# writes .device/NAME/bin/<binary>.xz and .device/NAME/lib/<library>.xz for every library the
# binaries (and the CUDA module build/lib/libhalo_cuda.so, staged into bin/ when given) link that
# the device image lacks: this Debian machine's OpenBLAS, fmt, gfortran, quadmath, libcrypto,
# benchmark and gomp. The CUDA, C and C++ runtimes are the device's own (device_cuda_env).
set -euo pipefail
name=$1; shift
dest=.device/$name
mkdir -p "$dest/bin" "$dest/lib"
keep='libopenblas|libblas|liblapack|libfmt|libgfortran|libquadmath|libcrypto|libbenchmark|libgomp|libhalo'
for b in "$@"; do
  xz -T2 -6 -c "$b" > "$dest/bin/$(basename "$b").xz"
  ldd "$b" | awk '/=>/ {print $3}' | grep -E "$keep" || true
done | sort -u | while read -r lib; do
  real=$(readlink -f "$lib")
  [ -f "$dest/lib/$(basename "$lib").xz" ] || xz -T2 -6 -c "$real" > "$dest/lib/$(basename "$lib").xz"
done
du -sh "$dest"
