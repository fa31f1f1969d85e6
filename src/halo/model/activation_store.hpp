// Hidden states of many sequences carried from one decoder block to the next by the streaming
// drivers (calibration for quantize, chunks for perplexity): item i is [rows_i x cols] FP32.
// Held in memory when all items fit in `memory_budget_bytes`, otherwise in one temporary file
// (fixed slot per item, read and written one item at a time), so a 128 x 2048-token
// calibration set of a 7B model (4 GiB) need not be resident. The file is removed on
// destruction. Both modes return the same bits (a test checks).
#pragma once

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <vector>

namespace halo::model {

class ActivationStore {
public:
    // `spill_dir`: where the temporary file goes (default: the system temp directory).
    ActivationStore(std::vector<std::int64_t> rows, std::int64_t cols, std::int64_t memory_budget_bytes,
                    std::filesystem::path spill_dir = {});
    ~ActivationStore();
    ActivationStore(const ActivationStore&) = delete;
    ActivationStore& operator=(const ActivationStore&) = delete;

    std::size_t size() const { return rows_.size(); }
    std::int64_t rows(std::size_t i) const { return rows_[i]; }
    std::int64_t cols() const { return cols_; }
    bool spilled() const { return file_ != nullptr; }
    std::int64_t total_bytes() const { return total_bytes_; }
    // Bytes resident for the items now (0 when spilled).
    std::int64_t resident_bytes() const;

    void load(std::size_t i, std::vector<float>& out) const;  // out = item i
    void store(std::size_t i, const std::vector<float>& values);

private:
    std::vector<std::int64_t> rows_;
    std::vector<std::int64_t> offsets_;  // in floats
    std::int64_t cols_ = 0;
    std::int64_t total_bytes_ = 0;
    std::vector<std::vector<float>> memory_;
    std::FILE* file_ = nullptr;
    std::filesystem::path file_path_;
};

}  // namespace halo::model
