"""halo: hardware-aware quantization of LLMs, from Python.

The same library as the ``halo`` command line (README.md), called in process:

    profile = halo.characterize(mac="int8", liberty=OSU018)      # -> halo.Profile (numpy arrays)
    manifest = halo.quantize(method="gptq", out="q", group=128)   # -> the manifest as a dict
    q = halo.load_quantized("q")                                   # per-layer codes, scales, ...
    halo.perplexity(quantized="q", ctx=256, max_chunks=4)          # -> dict (as `halo eval --json`)
    halo.simulate(model_shape="smollm2-135m", seq=512)             # -> dict (as `halo simulate --json`)
    t = halo.quantize_tensor(w, format="int4", group=128)          # one matrix, numpy in and out
    w_hat = halo.dequantize_tensor(t)

Options have the CLI's names with underscores and its defaults (`halo help <command>`): the
functions fill the option structs of the library's jobs (src/halo/jobs) and run the same jobs
the commands run. Errors
are raised as halo.Error (a ValueError) carrying the diagnostic's code, file, place, expected and
found. Long work runs with the GIL released and reports progress through tqdm when it is
installed (progress=False silences it; a callable gets (task, done, total, elapsed_s)).
"""

import os as _os

import numpy as _np

# OpenBLAS (linked by _halo) starts (cores - 1) worker threads when the module loads, sized by
# OPENBLAS_NUM_THREADS; with 1 it starts none, and the jobs' set_blas_threads(n) starts them when
# a call first asks for n > 1 (the CLI does the same with tools/halo/blas_start). The variable is
# removed again at once, so child processes and the caller's environment are as before.
_blas_quiet = "OPENBLAS_NUM_THREADS" not in _os.environ
if _blas_quiet:
    _os.environ["OPENBLAS_NUM_THREADS"] = "1"
try:
    from . import _halo
finally:
    if _blas_quiet:
        del _os.environ["OPENBLAS_NUM_THREADS"]
from ._errors import Error, python_error as _python_error
from ._options import fill as _fill
from ._progress import make_sink as _make_sink

_halo._set_error_class(Error)

Profile = _halo.Profile
QuantizedTensor = _halo.QuantizedTensor

__all__ = ["Error", "Profile", "QuantizedTensor", "QuantizedModel", "characterize", "read_profile", "quantize",
           "load_quantized", "perplexity", "simulate", "quantize_tensor", "dequantize_tensor"]

DEFAULT_LIBERTY = "/usr/share/qflow/tech/osu018/osu018_stdcells.lib"


def characterize(*, progress=True, **options):
    """Per-weight delay (and energy) profile of a MAC, as `halo characterize`.

    Options: netlist (Yosys JSON) or mac ("int8", "int4", "fp8-e4m3", "bf16"), liberty (default
    osu018), top, weight_port, weight_format, mac_arch, work_dir, analysis ("static", "dynamic",
    "both"), transitions, seed, threads, load_pf. Returns a halo.Profile; Profile.write(path)
    writes the profile file (with its CSV and SVG), halo.read_profile(path) reads one.
    """
    options.setdefault("liberty", DEFAULT_LIBERTY)
    opts = _fill(_halo.CharacterizeOptions(), "characterize", options)
    return _halo.characterize(opts, _make_sink(progress))


def read_profile(path):
    """Reads a profile file written by `halo characterize` or Profile.write."""
    return _halo.read_profile(str(path))


def quantize(*, model=None, method="rtn", out=None, progress=True, **options):
    """Quantizes a model's linear layers into the directory `out`, as `halo quantize`.

    method: rtn, gptq, awq, kmeans, smoothquant or halo. Options as the CLI's flags (format,
    bits, asym, group, tile, scale_format, codebook (a list of numbers), calib, samples, seq_len,
    block_size, damp, act_order, calib_int8_inputs (gptq, halo: calibration statistics of
    INT8-per-token inputs), sparse_fraction, sensitivity, smooth_alpha, act_format, eval, max_chunks,
    ctx, threads, force; for halo: profile, objective, levels, counts (a list),
    voltage_step, vt, alpha, guard_band, timing, budget, max_codes, level_codes, assign, level_shares, rank,
    salient, outlier_sigma, sparse_grid ("row" or "row-or-tile"), quantize_head (True = --quantize-head: the LM head quantized and
    assigned too, DIR/output.hqt),
    gptq (False = --no-gptq)). Every method, halo included, writes one quantized directory
    (the sweep over HALO points is `halo run`'s). Returns its manifest (manifest.json) as a dict.
    """
    if out is None:
        raise _python_error("E0091", "out", "quantize() needs out=DIR", "a directory to write", "nothing", kind="usage")
    # An option the method does not take is an error (E6035), as the CLI's flag would be.
    given = ["--no-gptq" if k == "gptq" else "--" + k.replace("_", "-") for k, v in options.items() if v is not None]
    _halo.check_method_options(method, given)
    if isinstance(options.get("codebook"), str):
        options["codebook"] = [float(x) for x in options["codebook"].split(",")]
    opts = _fill(_halo.QuantizeOptions(), "quantize", dict(options, model=model, method=method, out=out))
    return _halo.quantize(opts, _make_sink(progress))


class QuantizedModel:
    """A quantized model directory read back: `manifest` (dict), `layers` {"blk.<l>.<linear>":
    halo.QuantizedTensor} and `vectors` {"blk.<l>.<norm>": float32 array} (the float vectors the
    method changed, SmoothQuant's norms)."""

    def __init__(self, manifest, layers, vectors):
        self.manifest = manifest
        self.layers = layers
        self.vectors = vectors

    def dequantized(self, name):
        """The float32 weights layer `name` stands for."""
        return self.layers[name].dequantize()

    def __repr__(self):
        return f"<halo.QuantizedModel {self.manifest.get('method')} {self.manifest.get('spec', '')}, {len(self.layers)} layers>"


def load_quantized(dir):
    """Reads a quantized model directory (halo quantize --out DIR) into a halo.QuantizedModel."""
    return QuantizedModel(*_halo.load_quantized(str(dir)))


def perplexity(*, model=None, quantized=None, text=None, ctx=512, max_chunks=-1, progress=True, **options):
    """Perplexity of a model (or a quantized model directory) on a text, as `halo eval`.

    Options: ppl_method ("llamacpp" or "hf"), stride, bos ("auto", "yes", "no"), act_format, threads.
    Returns what `halo eval --json` prints, as a dict.
    """
    opts = _fill(_halo.PerplexityOptions(), "perplexity",
                 dict(options, model=model, quantized=quantized, text=text, ctx=ctx, max_chunks=max_chunks))
    return _halo.perplexity(opts, _make_sink(progress))


def simulate(**options):
    """Cycles, time and energy of a workload on a systolic array, tensor core or GPU model, as
    `halo simulate`. Options: arch, design, array, dataflow, model_shape (a built-in shape),
    hf_config (a config.json), model (a GGUF file, safetensors directory or installed name: its
    shape only), quantized, tile_levels, seq, batch, context, profile, config_file,
    topology, scalesim_cfg, reorder, switch_penalty_ns, gpu, gpu_path, baseline, out (FILE.json:
    the report, with its chart FILE.svg beside it). Returns the report as a dict."""
    return _halo.simulate(_fill(_halo.SimulateOptions(), "simulate", options))


def quantize_tensor(weights, format="int4", group=None, tile=None, scale_format=None, codebook=None, name="weights"):
    """Round-to-nearest quantization of one matrix [out x in] in any halo number format.

    weights: a 2-D array of float32/float64/float16 (numpy, or anything with __dlpack__ on the
    CPU such as a torch tensor; any strides). group: scale group along the input dimension
    (None: per output channel); tile: "ROWSxCOLS" per-tile scales. Returns a halo.QuantizedTensor
    whose codes, scales and zeros are numpy views (no copy).
    """
    if not hasattr(weights, "__dlpack__"):
        weights = _np.asarray(weights)
    if isinstance(weights, _np.ndarray) and weights.dtype.kind not in "f":
        raise _python_error("E0093", name, "weights have an unsupported element type",
                            "float32, float64, float16 or bfloat16", str(weights.dtype))
    if isinstance(codebook, str):
        codebook = [float(x) for x in codebook.split(",")]
    return _halo.quantize_tensor(weights, str(format), int(group or 0), tile or "", scale_format or "",
                                 list(codebook or []), name)


def dequantize_tensor(q):
    """The float32 matrix a halo.QuantizedTensor stands for."""
    if not isinstance(q, QuantizedTensor):
        raise _python_error("E0093", "q", "dequantize_tensor() takes a halo.QuantizedTensor", "halo.QuantizedTensor",
                            type(q).__name__)
    return q.dequantize()
