#include "cli_runner.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

namespace halo::test {

namespace {

// Single-quoted for /bin/sh: every ' becomes '\''.
std::string shell_quote(const std::string& s) {
    std::string q = "'";
    for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return q + "'";
}

std::filesystem::path process_dir() {
    return std::filesystem::path(::testing::TempDir()) / ("halo_cli_" + std::to_string(::getpid()));
}

// The process's directories go when every test of the process passed (ctest runs one test a
// process, so before this each run left one directory per test in the temp dir); a failing
// test's directory stays for a look at what `halo` wrote.
class RemoveDirsWhenPassed : public ::testing::Environment {
   public:
    void TearDown() override {
        if (!::testing::UnitTest::GetInstance()->Passed()) return;
        std::error_code ec;
        std::filesystem::remove_all(process_dir(), ec);
    }
};
[[maybe_unused]] ::testing::Environment* const kRemoveDirsWhenPassed =
    ::testing::AddGlobalTestEnvironment(new RemoveDirsWhenPassed);

}  // namespace

std::string read_text(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

std::filesystem::path fresh_dir() {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    std::string name = std::string(info->test_suite_name()) + "." + info->name();
    for (char& c : name)
        if (c == '/') c = '_';
    const auto dir = process_dir() / name;
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    return dir;
}

CliResult run_halo(const std::vector<std::string>& args, const std::filesystem::path& cwd) {
    const auto out_file = cwd / ".halo_stdout", err_file = cwd / ".halo_stderr";
    std::string cmd = "cd " + shell_quote(cwd.string()) + " && " + shell_quote(HALO_BIN);
    for (const auto& a : args) cmd += " " + shell_quote(a);
    cmd += " > " + shell_quote(out_file.string()) + " 2> " + shell_quote(err_file.string());
    const int status = std::system(cmd.c_str());
    CliResult r;
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    r.out = read_text(out_file);
    r.err = read_text(err_file);
    std::filesystem::remove(out_file);
    std::filesystem::remove(err_file);
    return r;
}

}  // namespace halo::test
