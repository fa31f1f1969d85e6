// Helpers for the model tests: a scratch directory removed at the end of the test, and an
// assertion on a halo::Error's code and message.
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <functional>
#include <string>
#include <unistd.h>

#include "halo/util/atomic_file.hpp"
#include "halo/util/diagnostics.hpp"

namespace halo::model::testing {

class ScratchDir {
public:
    ScratchDir() {
        static std::atomic<int> counter{0};
        path_ = std::filesystem::temp_directory_path() /
                ("halo_model_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
        std::filesystem::create_directories(path_);
    }
    ~ScratchDir() {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    std::filesystem::path operator/(const std::string& name) const { return path_ / name; }
    const std::filesystem::path& path() const { return path_; }

private:
    std::filesystem::path path_;
};

// Runs `f`, expects a halo::Error with `code` whose rendered message contains every fragment.
inline void expect_error(const std::function<void()>& f, const std::string& code,
                         std::initializer_list<std::string> fragments) {
    try {
        f();
        ADD_FAILURE() << "expected error " << code;
    } catch (const Error& e) {
        EXPECT_EQ(e.diagnostic().code, code) << e.what();
        EXPECT_EQ(e.diagnostic().kind, ErrorKind::bad_input) << e.what();
        for (const auto& frag : fragments) EXPECT_NE(std::string(e.what()).find(frag), std::string::npos) << "missing \"" << frag << "\" in: " << e.what();
    }
}

}  // namespace halo::model::testing
