"""Shared fixtures: the `halo` CLI the results are compared with, the installed default model."""

import os
import pathlib
import subprocess

import pytest

SOURCE_DIR = pathlib.Path(os.environ.get("HALO_SOURCE_DIR", pathlib.Path(__file__).resolve().parents[2]))
LIBERTY = pathlib.Path("/usr/share/qflow/tech/osu018/osu018_stdcells.lib")
MODEL = SOURCE_DIR / "data" / "models" / "smollm2-135m-instruct-q4_1.gguf"


@pytest.fixture(scope="session")
def cli():
    """Runs the `halo` binary (HALO_CLI, set by CTest) and returns its stdout; fails on a non-zero exit."""
    exe = os.environ.get("HALO_CLI", str(SOURCE_DIR / "build" / "bin" / "halo"))
    if not os.access(exe, os.X_OK):
        pytest.fail(f"the halo CLI is not built at {exe} (set HALO_CLI)")

    def run(*args):
        r = subprocess.run([exe, *map(str, args)], capture_output=True, text=True)
        assert r.returncode == 0, f"halo {' '.join(map(str, args))} exited {r.returncode}: {r.stderr}"
        return r.stdout

    return run


@pytest.fixture(scope="session")
def default_model():
    if not MODEL.exists():
        pytest.skip(f"the default model is not installed ({MODEL}; `make demo` or scripts/setup.sh data installs it)")
    return MODEL
