// Issue #17 classes 3, 4, 5 at the util layer: readers take only regular files (a symlink to
// /dev/zero, a FIFO, a directory are refused by name); outputs never replace an input, compared
// by file identity; a directory output is committed by one rename or one exchange, under a lock
// that makes a second writer of the same --out fail; SIGTERM removes staged outputs; SIGKILL's
// leftovers are removed by the next run and never cost the existing --out; an output that cannot
// be created where it was asked for is bad input (E0024, exit 2), not an internal error.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>

#include "halo/util/atomic_file.hpp"
#include "halo/util/diagnostics.hpp"
#include "halo/util/mapped_file.hpp"

namespace fs = std::filesystem;

namespace {

class Scratch {
public:
    Scratch() : path_(fs::temp_directory_path() / ("halo_hostile_util_" + std::to_string(::getpid()) + "_" + std::to_string(n_++))) {
        fs::remove_all(path_);
        fs::create_directories(path_);
    }
    ~Scratch() {
        std::error_code ec;
        fs::remove_all(path_, ec);
    }
    fs::path operator/(const std::string& name) const { return path_ / name; }
    const fs::path& path() const { return path_; }

private:
    static inline int n_ = 0;
    fs::path path_;
};

// The code and the rendered message of the halo::Error `f` throws.
std::pair<std::string, std::string> error_of(const std::function<void()>& f) {
    try {
        f();
    } catch (const halo::Error& e) {
        return {e.diagnostic().code, e.what()};
    }
    return {"none", ""};
}

void write_plain(const fs::path& p, const std::string& text) { std::ofstream(p) << text; }

TEST(HostileRead, SymlinkToDevZeroFifoAndDirectoryAreNotRegularFiles) {
    Scratch s;
    fs::create_symlink("/dev/zero", s / "layer.hqt");
    auto [code, msg] = error_of([&] { (void)halo::read_file(s / "layer.hqt"); });
    EXPECT_EQ(code, "E0001");
    EXPECT_NE(msg.find((s / "layer.hqt").string() + ": error E0001: not a regular file (expected a regular file, found a character device)"),
              std::string::npos) << msg;
    std::tie(code, msg) = error_of([&] { halo::MappedFile m(s / "layer.hqt"); });
    EXPECT_EQ(code, "E0001");
    EXPECT_NE(msg.find("found a character device"), std::string::npos) << msg;

    ASSERT_EQ(::mkfifo((s / "fifo").c_str(), 0600), 0);
    std::tie(code, msg) = error_of([&] { (void)halo::read_file(s / "fifo"); });  // must not block
    EXPECT_NE(msg.find("found a FIFO"), std::string::npos) << msg;

    fs::create_directories(s / "dir");
    std::tie(code, msg) = error_of([&] { (void)halo::read_file(s / "dir"); });
    EXPECT_NE(msg.find("not a regular file (expected a regular file, found a directory)"), std::string::npos) << msg;
}

TEST(HostileOutput, AFileThisRunReadIsNeverReplacedEvenThroughALink) {
    Scratch s;
    write_plain(s / "lib.lib", "library (x) {}");
    fs::create_hard_link(s / "lib.lib", s / "hard.lib");
    fs::create_symlink(s / "lib.lib", s / "soft.lib");
    (void)halo::read_file(s / "soft.lib");  // read through the symlink
    for (const char* out : {"lib.lib", "hard.lib", "soft.lib"}) {
        const auto [code, msg] = error_of([&] { halo::write_file_atomic(s / out, "{}"); });
        EXPECT_EQ(code, "E0005") << out;
        EXPECT_NE(msg.find("output would replace an input of this run"), std::string::npos) << msg;
        EXPECT_NE(msg.find("soft.lib"), std::string::npos) << msg;  // names the input as it was given
    }
    EXPECT_EQ(halo::read_file(s / "lib.lib"), "library (x) {}");
    // A file this process wrote itself may be rewritten after reading it back.
    halo::write_file_atomic(s / "mine.json", "1");
    EXPECT_EQ(halo::read_file(s / "mine.json"), "1");
    halo::write_file_atomic(s / "mine.json", "2");
    EXPECT_EQ(halo::read_file(s / "mine.json"), "2");
}

TEST(HostileOutput, ADirectoryHoldingAnInputIsNotReplacedWithForce) {
    Scratch s;
    fs::create_directories(s / "model");
    write_plain(s / "model/config.json", "{}");
    (void)halo::read_file(s / "model/config.json");
    const auto [code, msg] = error_of([&] { halo::AtomicDirectory out(s / "model", /*overwrite=*/true); });
    EXPECT_EQ(code, "E0005");
    EXPECT_NE(msg.find("config.json"), std::string::npos) << msg;
    EXPECT_TRUE(fs::exists(s / "model/config.json"));
}

TEST(HostileOutput, ReplacingADirectoryIsOneExchangeAndLeavesNoStaging) {
    Scratch s;
    {
        halo::AtomicDirectory out(s / "out", false);
        halo::write_file_atomic(out / "a", "old");
        out.commit();
    }
    {
        halo::AtomicDirectory out(s / "out", true);
        EXPECT_NE(out.staging().filename().string().find("out.partial."), std::string::npos);
        halo::write_file_atomic(out / "b", "new");
        out.commit();
    }
    EXPECT_FALSE(fs::exists(s / "out/a"));
    EXPECT_EQ(halo::read_file(s / "out/b"), "new");
    int entries = 0;
    for (const auto& e : fs::directory_iterator(s.path())) (void)e, ++entries;
    EXPECT_EQ(entries, 1);  // only out/: no staging, no .old, no lock file
}

TEST(HostileOutput, TwoWritersOfOneOutputCannotInterleave) {
    Scratch s;
    halo::AtomicDirectory first(s / "out", false);
    const auto [code, msg] = error_of([&] { halo::AtomicDirectory second(s / "out", false); });
    EXPECT_EQ(code, "E0004");
    EXPECT_NE(msg.find("another halo run is writing this output"), std::string::npos) << msg;
    // The lock is per open file, so a second process is refused the same way.
    const pid_t child = ::fork();
    if (child == 0) {
        try {
            halo::AtomicDirectory other(s / "out", false);
        } catch (const halo::Error& e) {
            ::_exit(e.diagnostic().code == "E0004" ? 0 : 1);
        }
        ::_exit(2);
    }
    int status = 0;
    ::waitpid(child, &status, 0);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
    halo::write_file_atomic(first / "x", "1");
    first.commit();
    EXPECT_EQ(halo::read_file(s / "out/x"), "1");
}

TEST(HostileOutput, SigtermRemovesTheStagedDirectoryAndTemporaryFile) {
    Scratch s;
    int ready[2];
    ASSERT_EQ(::pipe(ready), 0);
    const pid_t child = ::fork();
    if (child == 0) {
        halo::AtomicDirectory out(s / "out", false);
        halo::write_file_atomic(out / "done", "1");
        halo::write_file_atomic(s / "file.json", [&](std::ostream& os) {
            os << "partial";
            os.flush();
            (void)!::write(ready[1], "r", 1);
            ::pause();  // killed here, with a staged directory and a temporary file on disk
        });
        ::_exit(3);
    }
    char c = 0;
    ASSERT_EQ(::read(ready[0], &c, 1), 1);
    int staged = 0;
    for (const auto& e : fs::directory_iterator(s.path())) (void)e, ++staged;
    EXPECT_EQ(staged, 3);  // out.partial.*, out.lock, file.json.tmp.*
    ::kill(child, SIGTERM);
    int status = 0;
    ::waitpid(child, &status, 0);
    EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM) << status;
    std::string left;
    for (const auto& e : fs::directory_iterator(s.path())) left += e.path().filename().string() + " ";
    EXPECT_EQ(left, "");
    ::close(ready[0]);
    ::close(ready[1]);
}

TEST(HostileOutput, SigkillLeftoversAreRemovedByTheNextRunAndTheOldOutputSurvives) {
    Scratch s;
    {
        halo::AtomicDirectory out(s / "out", false);
        halo::write_file_atomic(out / "result", "old");
        out.commit();
    }
    // A run replacing out/ is killed with SIGKILL (no handler runs) while its staging directory
    // and a temporary file of another output exist.
    int ready[2];
    ASSERT_EQ(::pipe(ready), 0);
    const pid_t child = ::fork();
    if (child == 0) {
        halo::AtomicDirectory out(s / "out", true);
        halo::write_file_atomic(out / "result", "new, unfinished");
        halo::write_file_atomic(s / "report.json", [&](std::ostream& os) {
            os << "partial";
            os.flush();
            (void)!::write(ready[1], "r", 1);
            ::pause();
        });
        ::_exit(3);
    }
    char c = 0;
    ASSERT_EQ(::read(ready[0], &c, 1), 1);
    ::kill(child, SIGKILL);
    int status = 0;
    ::waitpid(child, &status, 0);
    ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << status;
    ::close(ready[0]);
    ::close(ready[1]);
    std::string left;
    for (const auto& e : fs::directory_iterator(s.path())) left += e.path().filename().string().substr(0, 12) + " ";
    // out/ intact beside the leftovers: out.partial.<pid>.<n>, out.lock (unlocked), report.json.tmp.<pid>.<n>.
    EXPECT_EQ(halo::read_file(s / "out/result"), "old");
    EXPECT_NE(left.find("out.partial."), std::string::npos) << left;
    EXPECT_NE(left.find("report.json."), std::string::npos) << left;

    // The next run takes the (released) lock, removes the dead run's staging directory, commits.
    {
        halo::AtomicDirectory out(s / "out", true);
        EXPECT_EQ(out.stale_removed(), 1);
        halo::write_file_atomic(out / "result", "next");
        out.commit();
    }
    EXPECT_EQ(halo::read_file(s / "out/result"), "next");
    // The next write of report.json removes the temporary of the dead process.
    halo::write_file_atomic(s / "report.json", "done");
    left.clear();
    for (const auto& e : fs::directory_iterator(s.path())) left += e.path().filename().string() + " ";
    EXPECT_TRUE(left == "out report.json " || left == "report.json out ") << left;
}

TEST(HostileOutput, StagingOfALiveRunOrAnotherNameIsNotTouched) {
    Scratch s;
    fs::create_directories(s / "out.partial.notapid.0");          // not "<pid>.<n>"
    fs::create_directories(s / "outer.partial.123.0");            // another output's name
    write_plain(s / ("x.json.tmp." + std::to_string(::getppid()) + ".0"), "live");  // a live process's temporary
    {
        halo::AtomicDirectory out(s / "out", false);
        EXPECT_EQ(out.stale_removed(), 0);
        out.commit();
    }
    halo::write_file_atomic(s / "x.json", "1");
    EXPECT_TRUE(fs::exists(s / "out.partial.notapid.0"));
    EXPECT_TRUE(fs::exists(s / "outer.partial.123.0"));
    EXPECT_TRUE(fs::exists(s / ("x.json.tmp." + std::to_string(::getppid()) + ".0")));
}

TEST(HostileOutput, OutputUnderARegularFileOrInAPlaceThatRefusesIsBadInput) {
    Scratch s;
    write_plain(s / "afile", "x");
    const auto check = [&](const std::function<void()>& f, const std::string& path, const std::string& found) {
        try {
            f();
            ADD_FAILURE() << "no error for " << path;
        } catch (const halo::Error& e) {
            EXPECT_EQ(e.diagnostic().code, "E0024");
            EXPECT_EQ(e.exit_code(), 2);
            const std::string msg = e.what();
            EXPECT_EQ(msg.rfind("error E0024: " + path + ": cannot write the output here (expected a path in a writable directory, found " + found, 0), 0u) << msg;
        }
    };
    const std::string in_the_way = (s / "afile").string() + " is a regular file, not a directory";
    check([&] { halo::write_file_atomic(s / "afile/sub/x.json", "1"); }, (s / "afile/sub/x.json").string(), in_the_way);
    check([&] { halo::AtomicDirectory out(s / "afile/q", false); }, (s / "afile/q").string(), in_the_way);
    // A place that refuses new entries: a read-only directory for a user, /sys for root (who may
    // write anywhere else).
    fs::path refusing = s / "ro";
    std::string found;
    if (::geteuid() == 0) {
        if (!fs::is_directory("/sys")) GTEST_SKIP() << "no /sys to stand for an unwritable place";
        refusing = "/sys/halo_test_not_here";
        found = "/sys refuses a new entry";
    } else {
        fs::create_directories(refusing);
        fs::permissions(refusing, fs::perms::owner_read | fs::perms::owner_exec);
        found = refusing.string() + " is not writable";
    }
    check([&] { halo::write_file_atomic(refusing / "x.json", "1"); }, (refusing / "x.json").string(), found);
    check([&] { halo::AtomicDirectory out(refusing / "q", false); }, (refusing / "q").string(), found);
    if (::geteuid() != 0) fs::permissions(refusing, fs::perms::owner_all);
}

}  // namespace
