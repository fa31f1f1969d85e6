// GPTQ on a real layer of the installed model (skipped when it is not installed): the inputs of
// block 0's linears come from LayerwiseCalibration on a few fixed token windows.
#include <gtest/gtest.h>

#include <filesystem>
#include <random>

#include "halo/model/model_loader.hpp"
#include "halo/quant/gptq.hpp"
#include "halo/quant/model_quantizer.hpp"
#include "../require_data.hpp"

namespace halo::quant {
namespace {

TEST(RealLayer, GptqBeatsRtnOnBlock0) {
    const auto path = model::default_model_path();
    HALO_SKIP_UNLESS_INSTALLED(path);
    const auto weights = model::load_model(path);
    std::mt19937 rng(5);
    std::uniform_int_distribution<std::int32_t> tok(0, weights.config.vocab_size - 1);
    std::vector<std::vector<std::int32_t>> samples(4, std::vector<std::int32_t>(64));
    for (auto& s : samples)
        for (auto& t : s) t = tok(rng);
    LayerwiseSource src(weights, samples, 2);
    const auto stats = src.capture(0, {});
    for (auto k : {model::LinearKind::attn_q, model::LinearKind::ffn_down}) {
        const auto& w = weights.layers[0][k];
        const auto& g = stats[static_cast<std::size_t>(k)].gram;
        const auto spec = make_spec("int3", Granularity::per_group(128));
        GptqOptions opt;
        opt.threads = 2;
        const double rtn = output_error(w, quantize_rtn(w, spec).decode(), g);
        const double gptq = output_error(w, quantize_gptq(w, g, spec, opt).decode(), g);
        EXPECT_LT(gptq, 0.9 * rtn) << model::linear_name(k);
    }
}

}  // namespace
}  // namespace halo::quant
