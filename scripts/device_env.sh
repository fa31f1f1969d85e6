# Shared set-up of the device scripts (sourced, not run): unpacking the xz-compressed binaries,
# libraries and texts staged under .device/NAME, and the environment the CUDA module needs on the
# lent machine (its CUDA libraries live under /usr/local there; Debian's OpenBLAS 0.3.21 takes
# the host CPU for Prescott, where LAPACK can crash, hence OPENBLAS_CORETYPE).

# device_unpack DIR SUB=DEST...: every DIR/SUB/*.xz decompressed into DEST, made executable.
device_unpack() {
  local dir=$1; shift
  python3 - "$dir" "$@" <<'PY'
import lzma, os, pathlib, sys
d = pathlib.Path(sys.argv[1])
for pair in sys.argv[2:]:
    sub, dst = pair.split("=", 1)
    pathlib.Path(dst).mkdir(parents=True, exist_ok=True)
    for f in (d / sub).glob("*.xz"):
        out = pathlib.Path(dst) / f.name[:-3]
        out.write_bytes(lzma.decompress(f.read_bytes()))
        os.chmod(out, 0o755)
PY
}

# device_cuda_env LIBDIR MODULE: LD_LIBRARY_PATH = LIBDIR + the CUDA libraries' folders (a missing
# one is reported), HALO_CUDA_MODULE = MODULE, OPENBLAS_CORETYPE=Haswell; all exported.
device_cuda_env() {
  local p lib
  LD_LIBRARY_PATH="$1${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  for lib in libcublas.so.13 libcublasLt.so.13 libcusolver.so.12 libcusparse.so.12 libnvJitLink.so.13; do
    p=$(find /usr/local /usr/lib /opt -name "$lib" 2>/dev/null | head -1)
    if [ -n "$p" ]; then LD_LIBRARY_PATH="$LD_LIBRARY_PATH:$(dirname "$p")"; else echo "missing $lib"; fi
  done
  export LD_LIBRARY_PATH HALO_CUDA_MODULE=$2 OPENBLAS_CORETYPE=Haswell
}

# device_log FILE: everything the script prints from here on also goes to FILE, and the clock of
# elapsed (whole seconds since this call) and step (a header with the UTC time and elapsed) starts.
device_log() {
  exec > >(tee "$1") 2>&1
  DEVICE_T0=$EPOCHREALTIME
}
elapsed() { awk -v a="$DEVICE_T0" -v b="$EPOCHREALTIME" 'BEGIN{print int(b - a)}'; }
step() { echo; echo "== $(date -u +%H:%M:%S) (+$(elapsed) s) $*"; }
# timed CMD...: CMD under /usr/bin/time, its wall and user seconds, peak memory and exit status.
timed() { /usr/bin/time -f "[%e s wall, %U s user, peak RSS %M kB, rc %x]" "$@"; }

# device_ncu OUTFILE PROGRAM ARG...: Nsight Compute's counters (speed of light, memory, warp
# states, scheduler, occupancy, launch) of the first wave_kernel launch of PROGRAM, with the clocks
# left alone (/work/.library/device/METHOD.md); the whole report into OUTFILE, its figures printed. 120 s at most.
device_ncu() {
  local out=$1; shift
  local ncu
  ncu=$(command -v ncu || ls /opt/nvidia/nsight-compute/*/ncu /usr/local/cuda/bin/ncu 2>/dev/null | head -1)
  if [ -z "$ncu" ]; then echo "no ncu on this machine"; return 0; fi
  timeout 120 "$ncu" --clock-control none --kernel-name regex:wave_kernel --launch-count 1 \
    --section SpeedOfLight --section MemoryWorkloadAnalysis --section MemoryWorkloadAnalysis_Tables \
    --section WarpStateStats --section SchedulerStats --section Occupancy --section LaunchStats "$@" > "$out" 2>&1
  echo "ncu rc $?"
  grep -vE "^\s*$" "$out" | grep -vE "^----|OPT|^\s+(This|See|Check|The|Use|Consider|On average)" | tail -120
}

# device_banner: the clock, the card (name, driver, memory, top SM clock, power limit) and the cores.
device_banner() {
  date -u
  nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm,power.limit --format=csv,noheader
  nproc
}

# device_wave_mac DIR: the netlist the waveform bench and tests read (HALO_WAVE_*): the osu035
# built-in INT8 MAC staged as DIR/mac_net.json (top `mac`) with DIR/osu035_stdcells.lib.
device_wave_mac() {
  export HALO_WAVE_NETLIST=$1/mac_net.json HALO_WAVE_TOP=mac HALO_WAVE_LIBERTY=$1/osu035_stdcells.lib
}
