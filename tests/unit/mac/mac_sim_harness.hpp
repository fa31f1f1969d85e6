// Test helper: simulates Verilog sources whose top is `mac` with Icarus Verilog against vectors
// (w, a, acc -> expected y) and reports how many vectors ran and how many mismatched.
#pragma once

#include <sys/types.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <regex>
#include <string>
#include <vector>

#include <fmt/format.h>

namespace halo::mac::test {

struct Vector {
    std::uint64_t w, a, acc, y;
};

struct SimOutcome {
    long vectors = -1;
    long mismatches = -1;
    std::string log;  // the simulator's output (first mismatches listed)
};

inline std::string run_capture(const std::string& cmd) {
    std::string out;
    std::unique_ptr<FILE, int (*)(FILE*)> pipe(popen((cmd + " 2>&1").c_str(), "r"), pclose);
    if (!pipe) return "popen failed";
    char buf[4096];
    std::size_t n;
    while ((n = fread(buf, 1, sizeof buf, pipe.get())) > 0) out.append(buf, n);
    return out;
}

// A scratch directory per test process, removed with the object.
struct ScratchDir {
    std::filesystem::path path;
    explicit ScratchDir(const std::string& tag)
        : path(std::filesystem::temp_directory_path() / fmt::format("halo-mac-{}-{}", tag, getpid())) {
        std::filesystem::remove_all(path);
        std::filesystem::create_directories(path);
    }
    ~ScratchDir() { std::filesystem::remove_all(path); }
};

inline SimOutcome simulate(const std::vector<std::filesystem::path>& sources, int w_bits, int a_bits, int y_bits,
                           const std::vector<Vector>& vectors, const std::filesystem::path& dir) {
    {
        std::ofstream v(dir / "vectors.txt");
        for (const auto& x : vectors) v << fmt::format("{:x} {:x} {:x} {:x}\n", x.w, x.a, x.acc, x.y);
    }
    {
        std::ofstream tb(dir / "tb.v");
        tb << fmt::format(R"(`timescale 1ns/10ps
module tb;
  reg [{0}:0] w; reg [{1}:0] a; reg [{2}:0] acc; reg [{2}:0] expected;
  wire [{2}:0] y;
  mac dut(.w(w), .a(a), .acc(acc), .y(y));
  integer fd, n, errors, count;
  initial begin
    fd = $fopen("{3}", "r"); errors = 0; count = 0;
    while (!$feof(fd)) begin
      n = $fscanf(fd, "%h %h %h %h\n", w, a, acc, expected);
      if (n == 4) begin
        #1;
        if (y !== expected) begin
          errors = errors + 1;
          if (errors <= 10) $display("MISMATCH w=%h a=%h acc=%h y=%h expected=%h", w, a, acc, y, expected);
        end
        count = count + 1;
      end
    end
    $display("DONE %0d vectors %0d mismatches", count, errors);
    $finish;
  end
endmodule
)",
                          w_bits - 1, a_bits - 1, y_bits - 1, (dir / "vectors.txt").string());
    }
    std::string cmd = fmt::format("iverilog -g2005 -o '{}' '{}'", (dir / "sim").string(), (dir / "tb.v").string());
    for (const auto& s : sources) cmd += fmt::format(" '{}'", s.string());
    SimOutcome out;
    out.log = run_capture(cmd);
    if (!std::filesystem::exists(dir / "sim")) return out;
    out.log += run_capture(fmt::format("vvp -n '{}'", (dir / "sim").string()));
    std::smatch m;
    if (std::regex_search(out.log, m, std::regex("DONE (\\d+) vectors (\\d+) mismatches"))) {
        out.vectors = std::stol(m[1]);
        out.mismatches = std::stol(m[2]);
    }
    return out;
}

}  // namespace halo::mac::test
