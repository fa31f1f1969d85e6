"""halo.Error carries the diagnostic's parts; options are checked by name and type; a profile
file read and written back is the same file."""

import json

import pytest

import halo

from conftest import LIBERTY


def test_missing_file_names_it(tmp_path):
    missing = tmp_path / "nope.json"
    with pytest.raises(halo.Error) as e:
        halo.read_profile(missing)
    assert e.value.file == str(missing) or str(missing) in str(e.value)
    assert e.value.exit_code in (2, 3) and e.value.code.startswith("E")


def test_profile_not_json_and_wrong_fields(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(halo.Error) as e:
        halo.read_profile(bad)
    assert (e.value.code, e.value.file, e.value.kind) == ("E4050", str(bad), "bad_input")
    other = tmp_path / "other.json"
    other.write_text(json.dumps({"format": "something-else"}))
    with pytest.raises(halo.Error) as e:
        halo.read_profile(other)
    assert e.value.code == "E4050" and e.value.place == "format" and "something-else" in e.value.found


def test_unknown_option_and_wrong_type():
    with pytest.raises(halo.Error) as e:
        halo.simulate(modle="smollm2-135m")
    assert (e.value.code, e.value.place, e.value.kind, e.value.exit_code) == ("E0091", "modle", "usage", 1)
    assert "model_shape" in e.value.expected
    with pytest.raises(halo.Error) as e:
        halo.simulate(model_shape="smollm2-135m", seq="long")
    assert e.value.code == "E0092" and e.value.place == "seq"
    with pytest.raises(halo.Error) as e:
        halo.quantize(method="rtn")  # no out
    assert e.value.code == "E0091" and e.value.place == "out"


def test_library_usage_errors_keep_their_code():
    with pytest.raises(halo.Error) as e:
        halo.characterize(liberty=str(LIBERTY), progress=False)  # neither mac nor netlist
    assert (e.value.code, e.value.kind) == ("E4511", "usage")
    with pytest.raises(halo.Error) as e:
        halo.characterize(mac="int8", analysis="sideways", progress=False)
    assert e.value.code == "E4510"
    with pytest.raises(halo.Error) as e:
        halo.simulate(arch="abacus", model_shape="tiny")
    assert (e.value.code, e.value.place) == ("E7060", "arch")  # the job names --arch; Python shows its option name


def test_quantized_dir_errors(tmp_path):
    with pytest.raises(halo.Error) as e:
        halo.load_quantized(tmp_path / "absent")
    assert e.value.code.startswith("E")
    with pytest.raises(halo.Error) as e:
        halo.quantize(method="nonesuch", out=tmp_path / "q", progress=False)
    assert e.value.code == "E6007"


def test_option_of_another_method_is_refused(tmp_path):
    # One check for the CLI and Python (jobs::check_flags_apply): never silently ignored.
    with pytest.raises(halo.Error) as e:
        halo.quantize(method="gptq", objective="perf", out=tmp_path / "q", progress=False)
    assert (e.value.code, e.value.kind) == ("E6035", "usage") and "--objective" in str(e.value)
    with pytest.raises(halo.Error) as e:
        halo.quantize(method="halo", group=128, out=tmp_path / "q", progress=False)
    assert e.value.code == "E6035"
    with pytest.raises(halo.Error) as e:  # HALO's --quantize-head
        halo.quantize(method="gptq", quantize_head=True, out=tmp_path / "q", progress=False)
    assert e.value.code == "E6035" and "--quantize-head" in str(e.value)
    with pytest.raises(halo.Error) as e:  # HALO's --sparse-grid
        halo.quantize(method="gptq", sparse_grid="row-or-tile", out=tmp_path / "q", progress=False)
    assert e.value.code == "E6035" and "--sparse-grid" in str(e.value)
    with pytest.raises(halo.Error) as e:  # GPTQ's and HALO's --calib-int8-inputs
        halo.quantize(method="awq", calib_int8_inputs=True, out=tmp_path / "q", progress=False)
    assert e.value.code == "E6035" and "--calib-int8-inputs" in str(e.value)
    with pytest.raises(halo.Error) as e:  # a bad tile is the CLI's E0010, named as the option
        halo.quantize(method="rtn", tile="128", out=tmp_path / "q", progress=False)
    assert (e.value.code, e.value.place) == ("E0010", "tile")
    assert not (tmp_path / "q").exists()
    # A per-layer point (objective, budget) with the model-wide budget: E9070, as on the CLI.
    for point in ({"objective": "perf"}, {"budget": 0.3}):
        with pytest.raises(halo.Error) as e:
            halo.quantize(method="halo", assign="model", level_shares="0.5/0.5/0", out=tmp_path / "q", progress=False, **point)
        assert e.value.code == "E9070", point
    assert not (tmp_path / "q").exists()


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")  # the broken callback's report
def test_progress_callback_gets_updates_and_its_errors_do_not_escape(tmp_path):
    seen = []
    profile = halo.characterize(mac="int4", work_dir=str(tmp_path / "work"), progress=lambda *u: seen.append(u))
    assert len(profile) == 16
    assert seen and seen[-1][1] == seen[-1][2]  # the last update is the finished task
    task, done, total, elapsed = seen[-1]
    assert isinstance(task, str) and total == 16 and elapsed >= 0

    def broken(*_):
        raise RuntimeError("callback bug")

    assert len(halo.characterize(mac="int4", work_dir=str(tmp_path / "work"), progress=broken)) == 16


def test_profile_round_trip_is_byte_identical(tmp_path):
    p = halo.characterize(mac="int4", work_dir=str(tmp_path / "work"), progress=False)
    p.write(tmp_path / "a.json")
    q = halo.read_profile(tmp_path / "a.json")
    q.write(tmp_path / "b.json")
    assert (tmp_path / "a.json").read_bytes() == (tmp_path / "b.json").read_bytes()
    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()
    assert q.value.tolist() == list(range(-8, 8)) or sorted(q.value.tolist()) == list(range(-8, 8))


def test_import_starts_no_blas_threads_and_leaves_the_environment():
    # OpenBLAS in _halo would start (cores - 1) threads at import; halo/__init__.py keeps it at
    # none and removes the variable it set. Measured in a fresh interpreter (numpy first: its
    # own BLAS threads are not halo's).
    import os
    import subprocess
    import sys
    code = ("import os, numpy\n"
            "before = len(os.listdir('/proc/self/task'))\n"
            "import halo\n"
            "print(before, len(os.listdir('/proc/self/task')), 'OPENBLAS_NUM_THREADS' in os.environ)\n")
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_NUM_THREADS"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout.split()
    before, after, env_set = int(out[0]), int(out[1]), out[2]
    if os.cpu_count() == 1:
        pytest.skip("one core: OpenBLAS starts no worker either way")
    assert after == before, f"import halo started {after - before} thread(s)"
    assert env_set == "False"
