// The inputs the jobs' tests run on: test-tiny (a synthetic FP32 2-block checkpoint) as DIR/tiny,
// a calibration and evaluation text of `sentences` numbered sentences as DIR/text.txt, and the
// synthetic INT8 MAC profile (hwq/test_support.hpp) as DIR/profile.json.
#pragma once

#include <filesystem>
#include <string>

#include "../hwq/test_support.hpp"
#include "halo/mac/profile.hpp"
#include "halo/model/synthetic_checkpoint.hpp"
#include "halo/util/atomic_file.hpp"

namespace halo::jobs::test {

// Only the checkpoint, as DIR/tiny.
inline void write_tiny_model(const std::filesystem::path& dir) {
    model::SyntheticOptions so;
    so.dtype = "f32";
    so.threads = 1;
    model::write_synthetic_checkpoint(dir / "tiny", model::synthetic_shape("test-tiny"), so);
}

inline void write_tiny_job_inputs(const std::filesystem::path& dir, int sentences = 120) {
    write_tiny_model(dir);
    std::string text;
    for (int i = 0; i < sentences; ++i) text += "the quick brown fox jumps over the lazy dog " + std::to_string(i) + ". ";
    write_file_atomic(dir / "text.txt", text);
    mac::write_profile(hwq::test::synthetic_int8_profile(), dir / "profile.json");
}

}  // namespace halo::jobs::test
