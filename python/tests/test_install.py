"""`pip install .` in a fresh virtual environment builds and installs the package, which then
imports and works outside the source tree. The build dir sits beside build/ so ccache reuses the
library objects `make build` compiled (pyproject.toml); pip fetches scikit-build-core and
nanobind from PyPI (or its cache) for the isolated build."""

import os
import shutil
import subprocess
import sys
import venv

from conftest import SOURCE_DIR


def test_pip_install_in_a_fresh_venv(tmp_path):
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    build_dir = SOURCE_DIR / "build-pip-test"
    shutil.rmtree(build_dir, ignore_errors=True)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    # scikit-build-core otherwise takes Python's configured compiler (x86_64-linux-gnu-g++); ccache
    # keys on the compiler's name, so the main build's c++ objects would all miss.
    env.setdefault("CXX", "c++")
    r = subprocess.run([python, "-m", "pip", "install", "-q", f"--config-settings=build-dir={build_dir}", str(SOURCE_DIR)],
                       capture_output=True, text=True, env=env)
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-4000:]
    check = ("import halo, numpy as np, pathlib; "
             "assert 'site-packages' in pathlib.Path(halo.__file__).parts, halo.__file__; "
             "q = halo.quantize_tensor(np.ones((2, 4), np.float32), format='int8'); "
             "assert abs(q.dequantize() - 1).max() < 0.01; print('ok', halo.__file__)")
    r = subprocess.run([python, "-c", check], capture_output=True, text=True, env=env, cwd=tmp_path)
    assert r.returncode == 0 and r.stdout.startswith("ok"), r.stderr
    shutil.rmtree(build_dir, ignore_errors=True)
    assert sys.version_info >= (3, 9)
