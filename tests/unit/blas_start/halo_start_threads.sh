#!/usr/bin/env bash
# `halo version` must start no thread (OpenBLAS's pool included; tools/halo/blas_start).
# Counted with strace when it is installed; otherwise the link order that makes it so is checked
# (libopenblas before libhalo_blas_start among halo's NEEDED entries).
set -euo pipefail
halo="$1"
if command -v strace >/dev/null 2>&1 && strace -f -e trace=none true >/dev/null 2>&1; then
    clones=$(env -u OPENBLAS_NUM_THREADS strace -f -e trace=clone,clone3 "$halo" version 2>&1 >/dev/null | grep -c '^clone' || true)
    echo "threads started by 'halo version': $clones"
    [ "$clones" -eq 0 ]
else
    needed=$(readelf -d "$halo" | sed -n 's/.*NEEDED.*\[\(.*\)\]/\1/p')
    echo "$needed"
    blas=$(echo "$needed" | grep -n 'blas' | grep -v halo_blas_start | head -1 | cut -d: -f1)
    shim=$(echo "$needed" | grep -n 'libhalo_blas_start' | cut -d: -f1)
    [ -n "$shim" ] && { [ -z "$blas" ] || [ "$blas" -lt "$shim" ]; }
fi
