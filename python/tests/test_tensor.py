"""halo.quantize_tensor / dequantize_tensor on one matrix: exact against a numpy reference of
the documented rule, views without copies, every input layout, and bad input raising halo.Error."""

import threading

import numpy as np
import pytest

import halo


def weights(rows=16, cols=256, seed=0):
    return np.random.default_rng(seed).standard_normal((rows, cols)).astype(np.float32)


def int4_reference(w, group):
    """docs/design/quant.md: symmetric int4, s = fp16(max|w| / 7) per group, q = clip(round(w / s), -8, 7)."""
    rows, cols = w.shape
    out = np.empty_like(w)
    scales = np.empty((rows, cols // group), np.float32)
    for g in range(cols // group):
        block = w[:, g * group:(g + 1) * group]
        s = (np.abs(block).max(axis=1) / np.float32(7)).astype(np.float16).astype(np.float32)
        q = np.clip(np.rint(block / s[:, None]), -8, 7)
        out[:, g * group:(g + 1) * group] = s[:, None] * q
        scales[:, g] = s
    return out, scales


def test_int4_group_matches_the_reference_rule():
    w = weights()
    q = halo.quantize_tensor(w, format="int4", group=128)
    ref, ref_scales = int4_reference(w, 128)
    assert q.shape == (16, 256) and q.group_shape == (1, 128)
    np.testing.assert_array_equal(q.scales, ref_scales)
    np.testing.assert_array_equal(q.zeros, np.zeros_like(ref_scales))
    np.testing.assert_array_equal(halo.dequantize_tensor(q), ref)
    assert q.bits["bits_per_weight"] == pytest.approx(4 + 16 / 128)


def test_codes_decode_through_the_value_table():
    w = weights()
    q = halo.quantize_tensor(w, format="int4", group=64)
    values = np.asarray(q.values, np.float32)
    decoded = np.repeat(q.scales, 64, axis=1) * values[q.codes]
    np.testing.assert_array_equal(decoded, q.dequantize())


def test_arrays_are_views_on_the_tensor():
    q = halo.quantize_tensor(weights(), format="int8")
    codes = q.codes
    assert np.shares_memory(codes, q.codes)  # two reads, one buffer: no copy
    assert not codes.flags.writeable
    scales = q.scales
    del q  # the views keep the tensor alive
    assert codes.shape == (16, 256) and scales.shape == (16, 1) and np.all(scales > 0)


@pytest.mark.parametrize("fmt", ["int8", "int3-asym", "fp8-e4m3", "fp4-e2m1", "mxfp4", "nvfp4", "bitmod-fp4", "ant4"])
def test_formats_round_trip_close(fmt):
    w = weights(cols=128)
    q = halo.quantize_tensor(w, format=fmt, group=32 if not fmt.startswith(("mx", "nv", "bitmod")) else None)
    d = q.dequantize()
    assert d.shape == w.shape and d.dtype == np.float32
    rel = np.linalg.norm(d - w) / np.linalg.norm(w)
    assert rel < 0.25, f"{fmt}: relative error {rel}"


def test_layouts_and_dtypes_give_the_same_codes():
    w = weights(cols=512)
    base = halo.quantize_tensor(w[:, ::2].copy(), format="int4", group=128)
    strided = halo.quantize_tensor(w[:, ::2], format="int4", group=128)  # non-contiguous: read in place
    fortran = halo.quantize_tensor(np.asfortranarray(w[:, ::2]), format="int4", group=128)
    as64 = halo.quantize_tensor(w[:, ::2].astype(np.float64), format="int4", group=128)
    for other in (strided, fortran, as64):
        np.testing.assert_array_equal(other.codes, base.codes)
        np.testing.assert_array_equal(other.scales, base.scales)
    listed = halo.quantize_tensor(w[:2, :8].tolist(), format="int8")
    np.testing.assert_array_equal(listed.codes, halo.quantize_tensor(w[:2, :8], format="int8").codes)


def test_per_tile_scales_and_codebook():
    w = weights(rows=64, cols=64)
    t = halo.quantize_tensor(w, format="int4", tile="32x32")
    assert t.group_shape == (32, 32) and t.scales.shape == (2, 2)
    cb = halo.quantize_tensor(w, format="codebook", codebook=[-1.0, -0.25, 0.25, 1.0])
    assert sorted(set(cb.codes.ravel().tolist())) <= [0, 1, 2, 3]


@pytest.mark.parametrize("bad, code", [
    (np.zeros((2, 3, 4), np.float32), "E0093"),
    (np.zeros(5, np.float32), "E0093"),
    (np.zeros((2, 4), np.int32), "E0093"),
    (np.zeros((0, 4), np.float32), "E0093"),
])
def test_bad_arrays_raise(bad, code):
    with pytest.raises(halo.Error) as e:
        halo.quantize_tensor(bad, format="int4")
    assert e.value.code == code and e.value.place == "weights" and e.value.found
    assert isinstance(e.value, ValueError)


def test_nan_weight_names_the_element():
    w = weights(rows=4, cols=8)
    w[2, 5] = np.nan
    with pytest.raises(halo.Error) as e:
        halo.quantize_tensor(w, format="int4", name="blk.0.attn_q")
    assert e.value.code == "E6003" and "[2, 5]" in str(e.value) and e.value.place.startswith("blk.0.attn_q")


def test_bad_format_and_group():
    with pytest.raises(halo.Error) as e:
        halo.quantize_tensor(weights(), format="int99")
    assert e.value.code == "E6001" and e.value.found == "int99"
    with pytest.raises(halo.Error) as e:
        halo.quantize_tensor(weights(), format="int4", group=-3)
    assert e.value.code == "E6001"
    with pytest.raises(halo.Error):
        halo.quantize_tensor(weights(), format="int4", tile="32by32")
    with pytest.raises(halo.Error) as e:
        halo.dequantize_tensor(np.zeros((2, 2)))
    assert e.value.code == "E0093"


def test_gil_is_released_during_quantization():
    w = weights(rows=1024, cols=4096)
    done = threading.Event()
    ticks = 0

    def work():
        for _ in range(3):
            halo.quantize_tensor(w, format="nvfp4").dequantize()
        done.set()

    t = threading.Thread(target=work)
    t.start()
    while not done.is_set():
        ticks += 1
        done.wait(0.001)
    t.join()
    assert ticks > 20, f"the main thread ran {ticks} times while C++ worked"
