// halo.QuantizedTensor (quant::QuantizedTensor), halo.quantize_tensor / dequantize_tensor for one
// matrix, and halo.load_quantized for a quantized model directory. Arrays out are views on the
// tensor's own storage where the layout allows (codes, scales, zero points, tile slots), owned by
// the Python object; the dequantized matrix is moved out without a copy.
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include <nanobind/ndarray.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include <fmt/format.h>

#include "bindings.hpp"
#include "halo/model/float_convert.hpp"
#include "halo/quant/format.hpp"
#include "halo/quant/quant_dir.hpp"
#include "halo/quant/quantized_tensor.hpp"
#include "halo/util/diagnostics.hpp"

namespace halo::python {

namespace {

using quant::QuantizedTensor;
using AnyArray = nb::ndarray<nb::ro, nb::device::cpu>;

template <class T>
using View = nb::ndarray<nb::numpy, const T>;

nb::object self_of(const QuantizedTensor& t) { return nb::find(&t); }

std::string dtype_name(const nb::dlpack::dtype& d) {
    const char* kind = d.code == static_cast<std::uint8_t>(nb::dlpack::dtype_code::Float)    ? "float"
                       : d.code == static_cast<std::uint8_t>(nb::dlpack::dtype_code::Int)    ? "int"
                       : d.code == static_cast<std::uint8_t>(nb::dlpack::dtype_code::UInt)   ? "uint"
                       : d.code == static_cast<std::uint8_t>(nb::dlpack::dtype_code::Bfloat) ? "bfloat"
                       : d.code == static_cast<std::uint8_t>(nb::dlpack::dtype_code::Bool)   ? "bool"
                                                                                             : "code ";
    return fmt::format("{}{}", kind, d.bits);
}

// The weights as an FP32 matrix: float32/float64/float16/bfloat16, any strides, two dimensions.
model::Matrix matrix_of(const AnyArray& w, const std::string& name) {
    if (w.ndim() != 2)
        throw_bad_value("E0093", name, "weights must be one matrix", "a 2-D array [out x in]", fmt::format("{}-D array", w.ndim()),
                        "quantize a stack of matrices one matrix at a time");
    const auto d = w.dtype();
    const bool is_float = d.code == static_cast<std::uint8_t>(nb::dlpack::dtype_code::Float) && (d.bits == 16 || d.bits == 32 || d.bits == 64);
    const bool is_bf16 = d.code == static_cast<std::uint8_t>(nb::dlpack::dtype_code::Bfloat) && d.bits == 16;
    if (d.lanes != 1 || !(is_float || is_bf16))
        throw_bad_value("E0093", name, "weights have an unsupported element type", "float32, float64, float16 or bfloat16",
                        dtype_name(d));
    const auto rows = static_cast<std::int64_t>(w.shape(0)), cols = static_cast<std::int64_t>(w.shape(1));
    if (rows < 1 || cols < 1)
        throw_bad_value("E0093", name, "weights are empty", "at least 1 x 1", fmt::format("{} x {}", rows, cols));
    model::Matrix m(rows, cols);
    const auto* base = static_cast<const std::uint8_t*>(w.data());
    const std::int64_t s0 = w.stride(0), s1 = w.stride(1), bytes = d.bits / 8;
    for (std::int64_t r = 0; r < rows; ++r)
        for (std::int64_t c = 0; c < cols; ++c) {
            const std::uint8_t* p = base + (r * s0 + c * s1) * bytes;
            float v = 0;
            if (is_bf16) {
                std::uint16_t h;
                std::memcpy(&h, p, 2);
                v = model::bf16_to_fp32(h);
            } else if (d.bits == 16) {
                std::uint16_t h;
                std::memcpy(&h, p, 2);
                v = model::fp16_to_fp32(h);
            } else if (d.bits == 32) {
                std::memcpy(&v, p, 4);
            } else {
                double x;
                std::memcpy(&x, p, 8);
                v = static_cast<float>(x);
            }
            m.at(r, c) = v;
        }
    return m;
}

quant::Granularity granularity_of(long group, const std::string& tile) {
    if (!tile.empty()) {
        long r = 0, c = 0;
        char x = 0;
        if (std::sscanf(tile.c_str(), "%ld%c%ld", &r, &x, &c) != 3 || x != 'x' || r < 1 || c < 1 ||
            tile.find_first_not_of("0123456789x") != std::string::npos)
            throw_bad_value("E6001", "tile", "tile shape must be ROWSxCOLS", "e.g. 128x128", tile);
        if (group) throw_bad_value("E6001", "group", "group and tile exclude each other", "one of them", "both");
        return quant::Granularity::per_tile(r, c);
    }
    if (group < 0) throw_bad_value("E6001", "group", "group size must be positive", ">= 1", fmt::format("{}", group));
    return group ? quant::Granularity::per_group(group) : quant::Granularity::per_channel();
}

nb::ndarray<nb::numpy, float, nb::ndim<2>> owned_matrix(model::Matrix&& m) {
    auto* held = new model::Matrix(std::move(m));
    nb::capsule owner(held, [](void* p) noexcept { delete static_cast<model::Matrix*>(p); });
    return nb::ndarray<nb::numpy, float, nb::ndim<2>>(held->data.data(), {static_cast<std::size_t>(held->rows),
                                                                          static_cast<std::size_t>(held->cols)},
                                                      owner);
}

// Scales or zero points: a strided view on the interleaved GroupParams {scale, zero} array.
nb::object group_param_view(const QuantizedTensor& t, int member) {
    static_assert(sizeof(quant::GroupParams) == 2 * sizeof(float), "GroupParams is {scale, zero}");
    const auto* base = reinterpret_cast<const float*>(t.all_params().data()) + member;
    const auto gc = static_cast<std::int64_t>(t.n_group_cols());
    return nb::cast(View<float>(base, {static_cast<std::size_t>(t.n_group_rows()), static_cast<std::size_t>(t.n_group_cols())},
                                self_of(t), {2 * gc, 2}));
}

nb::object tile_view(const QuantizedTensor& t, const std::vector<std::int32_t>& slots) {
    if (slots.empty()) return nb::none();
    const auto& tl = t.tiles;
    if (tl.tile_rows > 0 && tl.tile_cols > 0) {
        const auto tr = static_cast<std::size_t>((t.rows() + tl.tile_rows - 1) / tl.tile_rows);
        const auto tc = static_cast<std::size_t>((t.cols() + tl.tile_cols - 1) / tl.tile_cols);
        if (tr * tc == slots.size()) return nb::cast(View<std::int32_t>(slots.data(), {tr, tc}, self_of(t)));
    }
    return nb::cast(View<std::int32_t>(slots.data(), {slots.size()}, self_of(t)));
}

}  // namespace

void bind_tensor(nb::module_& m) {
    nb::class_<QuantizedTensor>(m, "QuantizedTensor",
                                "One quantized matrix: w[r, c] = scale[g] * (v(code[r, c]) - zero[g]) for its scale group g "
                                "(docs/design/quant.md); arrays are read-only views on the tensor's storage.")
        .def_prop_ro("shape", [](const QuantizedTensor& t) { return nb::make_tuple(t.rows(), t.cols()); })
        .def_prop_ro("format", [](const QuantizedTensor& t) { return std::string(t.spec().format->name); })
        .def_prop_ro("spec", [](const QuantizedTensor& t) { return t.spec().describe(); })
        .def_prop_ro("group_shape", [](const QuantizedTensor& t) { return nb::make_tuple(t.group_rows(), t.group_cols()); },
                     "rows and columns of one scale group (the last one in each direction may be shorter)")
        .def_prop_ro("codes",
                     [](const QuantizedTensor& t) {
                         return nb::cast(View<std::uint8_t>(
                             t.codes().data(), {static_cast<std::size_t>(t.rows()), static_cast<std::size_t>(t.cols())}, self_of(t)));
                     })
        .def_prop_ro("scales", [](const QuantizedTensor& t) { return group_param_view(t, 0); },
                     "[group rows x group cols] float32 (NVFP4: block scale times tensor_scale)")
        .def_prop_ro("zeros", [](const QuantizedTensor& t) { return group_param_view(t, 1); }, "zero points, 0 for symmetric formats")
        .def_prop_ro("tensor_scale", [](const QuantizedTensor& t) { return t.tensor_scale; })
        .def_prop_ro("values", [](const QuantizedTensor& t) {
            const int n = 1 << t.spec().element_bits();
            std::vector<float> v;
            for (int c = 0; c < n; ++c) v.push_back(t.spec().value(static_cast<std::uint8_t>(c)));
            return v;
        }, "v(code) for every code (custom mixture rows: their first type's values)")
        .def_prop_ro("group_types",
                     [](const QuantizedTensor& t) -> nb::object {
                         if (t.group_type.empty()) return nb::none();
                         return nb::cast(View<std::uint8_t>(t.group_type.data(),
                                                            {static_cast<std::size_t>(t.n_group_rows()), static_cast<std::size_t>(t.n_group_cols())},
                                                            self_of(t)));
                     })
        .def_prop_ro("row_codebooks",
                     [](const QuantizedTensor& t) -> nb::object {
                         if (t.row_codebooks.empty()) return nb::none();
                         return nb::cast(View<float>(t.row_codebooks.data(),
                                                     {static_cast<std::size_t>(t.rows()), static_cast<std::size_t>(t.row_codebook_size)},
                                                     self_of(t)));
                     })
        .def_prop_ro("input_scale",
                     [](const QuantizedTensor& t) -> nb::object {
                         if (t.input_scale.empty()) return nb::none();
                         return nb::cast(View<float>(t.input_scale.data(), {t.input_scale.size()}, self_of(t)));
                     })
        .def_prop_ro("sparse",
                     [](const QuantizedTensor& t) -> nb::object {
                         if (t.sparse.row_ptr.empty()) return nb::none();
                         nb::dict d;
                         d["row_ptr"] = View<std::uint32_t>(t.sparse.row_ptr.data(), {t.sparse.row_ptr.size()}, self_of(t));
                         d["col"] = View<std::int32_t>(t.sparse.col.data(), {t.sparse.col.size()}, self_of(t));
                         d["value"] = View<float>(t.sparse.value.data(), {t.sparse.value.size()}, self_of(t));
                         return d;
                     },
                     "the FP16 outliers kept outside the codes, CSR by row: {row_ptr, col, value}, or None")
        .def_prop_ro("tile_shape",
                     [](const QuantizedTensor& t) -> nb::object {
                         if (t.tiles.tile_rows == 0) return nb::none();
                         return nb::make_tuple(t.tiles.tile_rows, t.tiles.tile_cols);
                     })
        .def_prop_ro("tile_levels", [](const QuantizedTensor& t) { return tile_view(t, t.tiles.level); },
                     "DVFS level id per tile over the tile grid, or None")
        .def_prop_ro("tile_codebook_ids", [](const QuantizedTensor& t) { return tile_view(t, t.tiles.codebook_id); })
        .def_prop_ro("bits", [](const QuantizedTensor& t) {
            const auto b = t.bits();
            nb::dict d;
            d["weights"] = b.weights, d["code_bits"] = b.code_bits, d["scale_bits"] = b.scale_bits;
            d["codebook_bits"] = b.codebook_bits, d["input_scale_bits"] = b.input_scale_bits, d["sparse_bits"] = b.sparse_bits;
            d["total"] = b.total(), d["bits_per_weight"] = b.bits_per_weight();
            return d;
        })
        .def("dequantize", [](const QuantizedTensor& t) {
            model::Matrix m;
            {
                nb::gil_scoped_release release;
                m = t.decode();
            }
            return owned_matrix(std::move(m));
        }, "the float32 matrix the codes stand for")
        .def("__repr__", [](const QuantizedTensor& t) {
            return fmt::format("<halo.QuantizedTensor {}x{} {}>", t.rows(), t.cols(), t.spec().describe());
        });

    m.def(
        "quantize_tensor",
        [](const AnyArray& w, const std::string& format, long group, const std::string& tile, const std::string& scale_format,
           std::vector<float> codebook, const std::string& name) {
            const auto granularity = granularity_of(group, tile);
            std::optional<quant::ScaleFormat> scale;
            if (!scale_format.empty()) {
                const auto* sf = quant::find_scale_format(scale_format);
                if (!sf) throw_bad_value("E6001", "scale_format", "unknown scale format", "fp16, e8m0, e4m3, fp32", scale_format);
                scale = sf->id;
            }
            std::sort(codebook.begin(), codebook.end());
            const auto spec = quant::make_spec(format, granularity, scale,
                                               codebook.empty() ? quant::Codebook{} : quant::Codebook(std::move(codebook)));
            model::Matrix m = matrix_of(w, name);
            nb::gil_scoped_release release;
            quant::check_finite(m, name);
            return quant::quantize_rtn(m, spec);
        },
        nb::arg("weights"), nb::arg("format"), nb::arg("group"), nb::arg("tile"), nb::arg("scale_format"), nb::arg("codebook"),
        nb::arg("name"));

    m.def(
        "load_quantized",
        [](const std::string& dir) {
            quant::QuantizedDir qd;
            {
                nb::gil_scoped_release release;
                qd = quant::read_quantized_dir(dir);
            }
            nb::dict layers;
            for (auto& rec : qd.linears)
                layers[nb::str(fmt::format("blk.{}.{}", rec.layer, model::linear_name(rec.kind)).c_str())] =
                    nb::cast(std::move(rec.tensor));
            nb::dict vectors;
            for (auto& v : qd.vectors) {
                auto* held = new std::vector<float>(std::move(v.values));
                nb::capsule owner(held, [](void* p) noexcept { delete static_cast<std::vector<float>*>(p); });
                vectors[nb::str(fmt::format("blk.{}.{}", v.layer, v.name).c_str())] =
                    nb::ndarray<nb::numpy, float, nb::ndim<1>>(held->data(), {held->size()}, owner);
            }
            return nb::make_tuple(to_python(qd.manifest), layers, vectors);
        },
        nb::arg("dir"));
}

}  // namespace halo::python
