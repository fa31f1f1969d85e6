#!/usr/bin/env bash
# Installs everything halo needs on a fresh Debian machine, idempotently.
#   scripts/setup.sh build   compilers, libraries, EDA tools (what `make test` needs)
#   scripts/setup.sh data    the default real model and evaluation text, under data/
#   scripts/setup.sh all     both
# `build` also makes .venv (the Python package's build and test tools: nanobind,
# scikit-build-core, numpy, pytest, tqdm, matplotlib; see python/ and pyproject.toml).
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
what="${1:-all}"

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

apt_packages=(
  build-essential cmake ninja-build pkg-config
  libcli11-dev nlohmann-json3-dev libfmt-dev libopenblas-dev libeigen3-dev libssl-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  yosys opensta iverilog qflow-tech-osu018 qflow-tech-osu035
  python3 python3-pip unzip
  python3-venv python3-dev ccache
)
python_packages=(nanobind scikit-build-core numpy pytest tqdm matplotlib)

install_build() {
  local missing=()
  for p in "${apt_packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "setup: installing ${missing[*]}"
    as_root apt-get update -qq
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
}

install_python() {
  local py="$here/.venv/bin/python"
  [ -x "$py" ] || /usr/bin/python3 -m venv "$here/.venv"  # Debian's python3, whose headers python3-dev installs
  if ! "$py" -c "import nanobind, scikit_build_core, numpy, pytest, tqdm, matplotlib" 2>/dev/null; then
    echo "setup: installing ${python_packages[*]} into .venv"
    "$py" -m pip install -q "${python_packages[@]}"
  fi
}

install_data() {
  if [ -x "$here/scripts/setup_data.sh" ]; then "$here/scripts/setup_data.sh"; fi
}

case "$what" in
  build) install_build; install_python ;;
  data) install_data ;;
  all) install_build; install_python; install_data ;;
  *) echo "usage: $0 build|data|all" >&2; exit 1 ;;
esac
