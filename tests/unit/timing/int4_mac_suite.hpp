// The signed INT4 MAC (y = acc + w * a, 10-bit accumulator) synthesized by Yosys + ABC onto
// osu018 once per test suite, with its static timer: the fixture of the dynamic-timing and
// fast-engine MAC tests. Tests skip when yosys or osu018 is missing.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <unistd.h>

#include "dynamic_test_support.hpp"
#include "halo/timing/static_timing.hpp"

namespace halo::timing::test {

class Int4MacSuite : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        if (nl_ != nullptr || !std::filesystem::exists(kOsu018)) return;
        auto dir = std::filesystem::temp_directory_path() / ("halo_int4_mac_" + std::to_string(::getpid()));
        auto json = synthesize(mac_verilog(4, 10), dir);
        if (json.empty()) return;
        lib_ = new liberty::Library(liberty::read_liberty(kOsu018));
        nl_ = new netlist::Netlist(netlist::read_yosys_json(json, "t", *lib_));
        timer_ = new StaticTimer(*nl_, {});
        std::filesystem::remove_all(dir);
    }
    static void TearDownTestSuite() {
        delete timer_;
        delete nl_;
        delete lib_;
        timer_ = nullptr;
        nl_ = nullptr;
        lib_ = nullptr;
    }
    void SetUp() override {
        if (nl_ == nullptr) GTEST_SKIP() << "yosys or osu018 missing";
    }
    static inline liberty::Library* lib_ = nullptr;
    static inline netlist::Netlist* nl_ = nullptr;
    static inline StaticTimer* timer_ = nullptr;
};

}  // namespace halo::timing::test
