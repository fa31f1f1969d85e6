"""The Python package gives what the `halo` CLI gives on the default model and MAC: the same
profile file, the same quantized tensors (byte for byte), the same perplexity, the same
simulation report. Single-threaded on both sides so the floating-point sums agree exactly."""

import json

import pytest

import halo

from conftest import LIBERTY, SOURCE_DIR

# Run-specific manifest fields (when and how long), not results.
RUN_FIELDS = {"date", "wall_s", "peak_rss_mb", "seconds", "time_s", "command"}  # command: argv of the CLI vs of python


def strip_run_fields(x):
    if isinstance(x, dict):
        return {k: strip_run_fields(v) for k, v in x.items() if k not in RUN_FIELDS}
    if isinstance(x, list):
        return [strip_run_fields(v) for v in x]
    return x


@pytest.fixture(scope="module")
def profiles(cli, tmp_path_factory):
    d = tmp_path_factory.mktemp("profiles")
    work = d / "work"
    cli("characterize", "--mac", "int8", "--liberty", LIBERTY, "--work-dir", work, "--out", d / "cli.json", "--quiet")
    p = halo.characterize(mac="int8", liberty=str(LIBERTY), work_dir=str(work), progress=False)
    p.write(d / "py.json")
    return d, p


def test_same_profile_file(profiles):
    d, p = profiles
    assert (d / "py.json").read_bytes() == (d / "cli.json").read_bytes()
    assert (d / "py.csv").read_bytes() == (d / "cli.csv").read_bytes()
    cli_profile = json.loads((d / "cli.json").read_text())
    assert p.static_delay_ns.tolist() == [w["static_delay_ns"] for w in cli_profile["weights"]]
    assert p.value.tolist() == [w["value"] for w in cli_profile["weights"]]


@pytest.fixture(scope="module")
def quantized(cli, default_model, tmp_path_factory):
    d = tmp_path_factory.mktemp("quantized")
    cli("quantize", "--model", default_model, "--method", "rtn", "--format", "int4", "--group", "128",
        "--threads", "1", "--out", d / "cli", "--quiet")
    manifest = halo.quantize(model=default_model, method="rtn", format="int4", group=128, threads=1,
                             out=d / "py", progress=False)
    return d, manifest


def test_same_quantized_tensors(quantized):
    d, manifest = quantized
    cli_files = sorted(p.name for p in (d / "cli").iterdir())
    assert cli_files == sorted(p.name for p in (d / "py").iterdir())
    assert len([f for f in cli_files if f.endswith(".hqt")]) == 210
    for name in cli_files:
        if name.endswith(".hqt"):
            assert (d / "py" / name).read_bytes() == (d / "cli" / name).read_bytes(), name
    cli_manifest = json.loads((d / "cli" / "manifest.json").read_text())
    assert strip_run_fields(manifest) == strip_run_fields(cli_manifest)


def test_loaded_arrays_match_the_files(quantized):
    d, _ = quantized
    py, cli = halo.load_quantized(d / "py"), halo.load_quantized(d / "cli")
    assert py.layers.keys() == cli.layers.keys() and len(py.layers) == 210
    t, u = py.layers["blk.3.ffn_down"], cli.layers["blk.3.ffn_down"]
    assert (t.codes == u.codes).all() and (t.scales == u.scales).all()
    assert t.dequantize().shape == t.shape and t.group_shape == (1, 128)


def test_same_perplexity(cli, default_model, quantized):
    d, _ = quantized
    args = ["--model", default_model, "--ctx", "128", "--max-chunks", "2", "--threads", "1", "--json", "--quiet"]
    for q in (None, d / "py"):
        extra = ["--quantized", q] if q else []
        want = json.loads(cli("eval", *args, *extra))
        got = halo.perplexity(model=default_model, quantized=q, ctx=128, max_chunks=2, threads=1, progress=False)
        for key in ("perplexity", "nll_sum", "tokens_scored", "chunks", "bos", "text_tokens"):
            assert got[key] == want[key], (q, key)


@pytest.mark.parametrize("flags", [
    {"model_shape": "smollm2-135m", "seq": 256},
    {"model_shape": "smollm2-135m", "batch": 4, "context": 512, "arch": "gpu", "gpu": "h200"},
    {"model_shape": "tiny", "design": "amove-conservative", "arch": "tensor-core"},
    {"topology": SOURCE_DIR / "tests" / "data" / "accel" / "scalesim_layers.csv", "array": "32x32", "dataflow": "os"},
])
def test_same_simulation(cli, flags):
    args = [a for k, v in flags.items() for a in ("--" + k.replace("_", "-"), v)]
    want = json.loads(cli("simulate", *args, "--json"))
    assert halo.simulate(**flags) == want


def test_quantize_head_as_the_cli(cli, tmp_path):
    # quantize_head=True is --quantize-head: the same head file (output.hqt) and manifest entry as
    # the CLI's, on the tiny synthetic checkpoint (byte-level tokenizer: any printable text).
    cli("synth", "--shape", "test-tiny", "--out", tmp_path / "m", "--dtype", "f32", "--threads", "1", "--quiet")
    text = tmp_path / "text.txt"
    text.write_text("".join(chr(33 + (i * 7919) % 94) for i in range(3000)))
    profile = SOURCE_DIR / "docs" / "results" / "profiles" / "int8-yosys.json"
    flags = dict(tile="32x32", calib=str(text), samples=2, seq_len=64, threads=1)
    cli("quantize", "--model", tmp_path / "m", "--method", "halo", "--quantize-head", "--profile", profile,
        *[a for k, v in flags.items() for a in ("--" + k.replace("_", "-"), v)], "--out", tmp_path / "cli", "--quiet")
    manifest = halo.quantize(model=str(tmp_path / "m"), method="halo", quantize_head=True, profile=str(profile),
                             out=tmp_path / "py", progress=False, **flags)
    assert manifest["head"]["file"] == "output.hqt"
    assert manifest["halo"]["quantize_head"] is True
    assert (tmp_path / "py" / "output.hqt").read_bytes() == (tmp_path / "cli" / "output.hqt").read_bytes()
    cli_manifest = json.loads((tmp_path / "cli" / "manifest.json").read_text())
    assert strip_run_fields(manifest["head"]) == strip_run_fields(cli_manifest["head"])
