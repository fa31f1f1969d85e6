#include "halo/cuda/cuda_gptq.hpp"

namespace halo::cuda {
namespace {

// GPTQ's algebra on the device: the factor (cuSOLVER) and the lazy update (cuBLAS) run there,
// the device holds W; a block's columns are copied back before the host rounds them.
class DeviceAlgebra final : public quant::GptqAlgebra {
public:
    explicit DeviceAlgebra(GptqEngine& engine) : engine_(engine) {}
    std::vector<float> inverse_hessian_factor(std::vector<float> h, std::int64_t n) override {
        return engine_.inverse_hessian_factor(h, n);
    }
    void begin(const model::Matrix& wp) override { engine_.upload_weights(wp); }
    void fetch_columns(model::Matrix& wp, std::int64_t c0, std::int64_t c1) override {
        engine_.download_columns(c0, c1, wp.data.data(), wp.cols);
    }
    void lazy_update(model::Matrix& /*wp*/, const std::vector<float>& err, const std::vector<float>& /*u*/, std::int64_t i1,
                     std::int64_t i2) override {
        engine_.lazy_update(err.data(), i1, i2);
    }

private:
    GptqEngine& engine_;
};

}  // namespace

quant::GptqResult gptq_on_device(GptqEngine& engine, model::Matrix& w, const model::Matrix& gram, quant::ColumnRounder& rounder,
                                 const quant::GptqOptions& opt) {
    DeviceAlgebra algebra(engine);
    return quant::gptq_with(algebra, w, gram, rounder, opt);  // the CPU's algorithm, line for line
}

}  // namespace halo::cuda
