// A quant::DeviceBackend for the jobs' tests that records what the Fisher diagonal was asked
// for, then stops the run (FisherAsked); calibration, GPTQ and the other device work fail. Its
// tile fitter is the CPU's (`halo quantize --method halo` takes it before the Fisher pass).
#pragma once

#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "halo/hwq/tile_fit_batch.hpp"
#include "halo/quant/device_backend.hpp"

namespace halo::jobs::test {

struct FisherAsked : std::runtime_error {
    using std::runtime_error::runtime_error;
};
class FisherRecordingDevice : public quant::DeviceBackend {
public:
    std::optional<model::HeadGradient> head;
    std::string describe() const override { return "fisher-recording"; }
    std::unique_ptr<quant::CalibrationSource> calibration(const model::ModelWeights&,
                                                          const std::vector<std::vector<std::int32_t>>&) override { fail(); }
    quant::GptqResult gptq(model::Matrix&, const model::Matrix&, quant::ColumnRounder&, const quant::GptqOptions&) override { fail(); }
    double output_error(const model::Matrix&, const model::Matrix&, const model::Matrix&) override { fail(); }
    model::FisherDiagonal fisher_diagonal(const model::ModelWeights&, const std::vector<std::vector<std::int32_t>>&, ProgressSink,
                                          model::HeadGradient h) override {
        head = h;
        throw FisherAsked("the Fisher diagonal was asked for");
    }
    std::unique_ptr<quant::RowErrors> row_errors(const model::Matrix&, const model::Matrix&) override { fail(); }
    void time_phases(quant::PhaseSeconds*) override {}
    nlohmann::json placement(std::string_view) const override { return "fisher-recording"; }
    double peak_device_gib() const override { return 0; }
    hwq::TileFitter* tile_fitter() override { return &cpu_fitter_; }  // halo quantize asks before the Fisher pass

private:
    hwq::CpuTileFitter cpu_fitter_{1};
    [[noreturn]] static void fail() { throw std::logic_error("the device was used for more than the Fisher diagonal"); }
};

}  // namespace halo::jobs::test
