#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>

#include "halo/util/atomic_file.hpp"
#include "halo/util/diagnostics.hpp"
#include "halo/util/mapped_file.hpp"
#include "halo/util/parallel.hpp"

namespace fs = std::filesystem;

TEST(Diagnostics, RendersFileLineCodeExpectedFoundHint) {
    halo::Diagnostic d;
    d.code = "E1154";
    d.file = "osu018.lib";
    d.line = 412;
    d.message = "capacitive_load_unit scale is not a number";
    d.expected = "1,ff";
    d.found = "\"x\"";
    d.hint = "write the scale as a number";
    EXPECT_EQ(d.render(),
              "osu018.lib:412: error E1154: capacitive_load_unit scale is not a number (expected 1,ff, found \"x\"); "
              "hint: write the scale as a number");
}

TEST(Diagnostics, ExitCodeFollowsKind) {
    try {
        halo::throw_bad_value("E0100", "tensor blk.0.attn_q.weight", "NaN weight");
    } catch (const halo::Error& e) {
        EXPECT_EQ(e.exit_code(), 2);
        EXPECT_EQ(std::string(e.what()), "error E0100: tensor blk.0.attn_q.weight: NaN weight");
    }
    try {
        halo::throw_internal("E0000", "bug");
    } catch (const halo::Error& e) {
        EXPECT_EQ(e.exit_code(), 3);
    }
}

TEST(AtomicFile, WritesAndLeavesNoTemporary) {
    fs::path dir = fs::temp_directory_path() / "halo_atomic_test";
    fs::remove_all(dir);
    halo::write_file_atomic(dir / "a.txt", "hello");
    EXPECT_EQ(halo::read_file(dir / "a.txt"), "hello");
    halo::write_file_atomic(dir / "a.txt", "world");
    EXPECT_EQ(halo::read_file(dir / "a.txt"), "world");
    int files = 0;
    for (auto& e : fs::directory_iterator(dir)) (void)e, ++files;
    EXPECT_EQ(files, 1);
    fs::remove_all(dir);
}

TEST(AtomicFile, FailedFillKeepsOldContent) {
    fs::path dir = fs::temp_directory_path() / "halo_atomic_test2";
    fs::remove_all(dir);
    halo::write_file_atomic(dir / "a.txt", "old");
    EXPECT_THROW(halo::write_file_atomic(dir / "a.txt",
                                         [](std::ostream& os) {
                                             os << "partial";
                                             throw std::runtime_error("interrupted");
                                         }),
                 std::runtime_error);
    EXPECT_EQ(halo::read_file(dir / "a.txt"), "old");
    fs::remove_all(dir);
}

TEST(AtomicFile, RenameOntoADirectoryNamesTheReasonAndLeavesNoTemporary) {
    fs::path dir = fs::temp_directory_path() / ("halo_atomic_test3_" + std::to_string(::getpid()));
    fs::remove_all(dir);
    fs::create_directories(dir / "target" / "occupied");
    try {
        halo::write_file_atomic(dir / "target", "x");
        FAIL();
    } catch (const halo::Error& e) {
        EXPECT_EQ(e.diagnostic().code, "E0024");  // the path given is in the way: bad input, not internal
        EXPECT_NE(std::string(e.what()).find("target is a directory"), std::string::npos) << e.what();
        // The OS's reason, not the "Success" a later call left in the error code.
        EXPECT_EQ(std::string(e.what()).find("Success"), std::string::npos) << e.what();
    }
    int files = 0;
    for (auto& e : fs::directory_iterator(dir)) (void)e, ++files;
    EXPECT_EQ(files, 1);  // only the directory: the temporary was removed
    fs::remove_all(dir);
}

TEST(AtomicDirectory, UncommittedLeavesNothingAndExistingIsRefused) {
    fs::path dir = fs::temp_directory_path() / "halo_atomic_dir";
    fs::remove_all(dir);
    {
        halo::AtomicDirectory out(dir, false);
        halo::write_file_atomic(out / "x", "1");
    }
    EXPECT_FALSE(fs::exists(dir));
    {
        halo::AtomicDirectory out(dir, false);
        halo::write_file_atomic(out / "x", "1");
        out.commit();
    }
    EXPECT_EQ(halo::read_file(dir / "x"), "1");
    EXPECT_THROW(halo::AtomicDirectory(dir, false), halo::Error);
    fs::remove_all(dir);
}

TEST(MappedFile, MapsBytesAndRejectsMissing) {
    fs::path p = fs::temp_directory_path() / "halo_map_test.bin";
    halo::write_file_atomic(p, std::string("\x01\x02\x03", 3));
    halo::MappedFile m(p);
    ASSERT_EQ(m.size(), 3u);
    EXPECT_EQ(m.bytes()[2], 3);
    fs::remove(p);
    try {
        halo::MappedFile missing(p);
        FAIL() << "expected an error";
    } catch (const halo::Error& e) {
        EXPECT_EQ(e.diagnostic().code, "E0001");
        EXPECT_EQ(e.diagnostic().file, p.string());
    }
}

TEST(Parallel, VisitsEveryIndexOnceAndRethrows) {
    std::vector<std::atomic<int>> seen(1000);
    halo::parallel_for(seen.size(), 4, [&](size_t i, unsigned) { seen[i]++; }, 7);
    for (auto& s : seen) EXPECT_EQ(s.load(), 1);
    EXPECT_THROW(halo::parallel_for(100, 2, [](size_t i, unsigned) { if (i == 50) throw std::runtime_error("x"); }),
                 std::runtime_error);
}
