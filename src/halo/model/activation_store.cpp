#include "halo/model/activation_store.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "halo/util/diagnostics.hpp"

namespace halo::model {

ActivationStore::ActivationStore(std::vector<std::int64_t> rows, std::int64_t cols, std::int64_t budget,
                                 std::filesystem::path spill_dir)
    : rows_(std::move(rows)), cols_(cols) {
    std::int64_t floats = 0;
    for (auto r : rows_) {
        offsets_.push_back(floats);
        floats += r * cols_;
    }
    total_bytes_ = floats * static_cast<std::int64_t>(sizeof(float));
    if (total_bytes_ <= budget) {
        memory_.resize(rows_.size());
        return;
    }
    if (spill_dir.empty()) spill_dir = std::filesystem::temp_directory_path();
    file_path_ = spill_dir / fmt::format("halo-activations-{}-{}.f32", ::getpid(), static_cast<const void*>(this));
    file_ = std::fopen(file_path_.c_str(), "w+b");
    if (!file_)
        throw_bad_value("E5602", file_path_.string(), "cannot create the activation spill file", "a writable directory",
                        std::strerror(errno), "pass --spill-dir DIR or raise --activation-budget-mb");
}

ActivationStore::~ActivationStore() {
    if (file_) {
        std::fclose(file_);
        std::error_code ec;
        std::filesystem::remove(file_path_, ec);
    }
}

std::int64_t ActivationStore::resident_bytes() const {
    std::int64_t b = 0;
    for (const auto& m : memory_) b += static_cast<std::int64_t>(m.size() * sizeof(float));
    return b;
}

void ActivationStore::load(std::size_t i, std::vector<float>& out) const {
    out.resize(static_cast<std::size_t>(rows_[i] * cols_));
    if (!file_) {
        std::copy(memory_[i].begin(), memory_[i].end(), out.begin());
        return;
    }
    const auto off = static_cast<off_t>(offsets_[i] * static_cast<std::int64_t>(sizeof(float)));
    const auto bytes = out.size() * sizeof(float);
    if (::pread(::fileno(file_), out.data(), bytes, off) != static_cast<ssize_t>(bytes))
        throw_internal("E5609", fmt::format("reading {} bytes of activations back from {} failed", bytes, file_path_.string()));
}

void ActivationStore::store(std::size_t i, const std::vector<float>& values) {
    if (values.size() != static_cast<std::size_t>(rows_[i] * cols_))
        throw_internal("E5610", fmt::format("activation item {} has {} values, expected {}", i, values.size(), rows_[i] * cols_));
    if (!file_) {
        memory_[i] = values;
        return;
    }
    const auto off = static_cast<off_t>(offsets_[i] * static_cast<std::int64_t>(sizeof(float)));
    const auto bytes = values.size() * sizeof(float);
    if (::pwrite(::fileno(file_), values.data(), bytes, off) != static_cast<ssize_t>(bytes))
        throw_bad_value("E5611", file_path_.string(), "cannot write activations to the spill file", "free disk space",
                        std::strerror(errno), "pass --spill-dir on a larger disk");
}

}  // namespace halo::model
