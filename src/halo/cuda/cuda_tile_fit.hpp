// `--device cuda`'s HALO tile fitter (hwq/tile_fit_batch.hpp): the batch goes to the module's
// TileFitEngine (cuda_backend_api.hpp) as plain data, with each distinct tile histogrammed once
// however many levels it is fitted at. The fits equal hwq::fit_tile's bit for bit
// (tests/unit/cuda/cuda_tile_fit_test.cpp).
#pragma once

#include <memory>

#include "halo/cuda/cuda_backend_api.hpp"
#include "halo/hwq/tile_fit_batch.hpp"

namespace halo::cuda {

class CudaTileFitter final : public hwq::TileFitter {
public:
    // E8109 when the module is missing; the device must be open (open_device).
    explicit CudaTileFitter(int device);
    ~CudaTileFitter() override;
    std::string describe() const override;
    std::vector<hwq::TileFit> fit(const model::Matrix& w, std::span<const std::uint8_t> mask, const hwq::TileGrid& grid,
                                  std::span<const hwq::TileFitJob> jobs, std::span<const hwq::LevelCodebook> levels) override;
    std::size_t peak_device_bytes() const;

private:
    int device_;
    std::unique_ptr<TileFitEngine> engine_;
};

}  // namespace halo::cuda
