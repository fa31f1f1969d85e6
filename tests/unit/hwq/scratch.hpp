// A temporary directory for one test, removed with everything in it when the test ends.
#pragma once

#include <atomic>
#include <filesystem>
#include <string>
#include <system_error>
#include <unistd.h>

#include <fmt/format.h>

namespace halo::hwq::test {

class Scratch {
public:
    explicit Scratch(const std::string& prefix) {
        static std::atomic<int> n{0};
        path_ = std::filesystem::temp_directory_path() / fmt::format("{}_{}_{}", prefix, ::getpid(), n++);
        std::filesystem::create_directories(path_);
    }
    ~Scratch() {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    Scratch(const Scratch&) = delete;
    Scratch& operator=(const Scratch&) = delete;
    std::filesystem::path operator/(const std::string& s) const { return path_ / s; }

private:
    std::filesystem::path path_;
};

}  // namespace halo::hwq::test
