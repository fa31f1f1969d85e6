// Synthesis of a MAC with Yosys onto a Liberty library, with a content-addressed cache.
//
// In <work_dir>/<mac>-<arch>-<hash>/ it writes mac.v and syn.ys:
//   read_verilog mac.v; synth -top mac -flatten; dfflibmap -liberty L; abc -liberty L -D <ps>;
//   opt_clean; stat -liberty L (teed to stat.txt); write_json mac_net.json;
//   write_verilog -noattr mac_net.v
// runs `yosys -q syn.ys` there (stdout and stderr to yosys.log) and parses stat.txt. <hash> is
// FNV-1a over the Verilog, the script and the Liberty file's path, size and mtime, so a
// repeated characterization finds the finished directory (it holds `done`) and skips Yosys.
// The directory is built under <dir>.partial.<pid>.<n> and renamed when complete.
#pragma once

#include <filesystem>
#include <map>
#include <string>

#include "halo/mac/mac_table.hpp"

namespace halo::mac {

struct SynthOptions {
    double abc_delay_ps = 5000;   // abc -D: the delay target that steers ABC's mapping
    std::string yosys = "yosys";  // the executable (found on PATH when not a path)
    bool use_cache = true;
};

struct SynthResult {
    std::filesystem::path dir;              // the cache entry
    std::filesystem::path verilog;          // mac.v (the RTL)
    std::filesystem::path script;           // syn.ys
    std::filesystem::path netlist_json;     // mac_net.json (Yosys write_json)
    std::filesystem::path netlist_verilog;  // mac_net.v (write_verilog -noattr)
    int cells = 0;                          // "Number of cells" of stat
    double area_um2 = 0;                    // "Chip area" of stat -liberty
    std::map<std::string, int> cell_counts; // per library cell
    double synth_seconds = 0;               // wall time of the Yosys run (0 when cached)
    bool from_cache = false;
};

// Synthesizes the built-in MAC `spec` with multiplier `arch`. Errors: E4041 (bad input) when the
// Liberty file is missing; E4040 (internal) when Yosys cannot run or fails, with its last lines;
// E4042 (internal) when stat's output cannot be parsed.
SynthResult synthesize(const MacSpec& spec, MacArch arch, const std::filesystem::path& liberty_path,
                       const std::filesystem::path& work_dir, const SynthOptions& options = {});

// The same for any Verilog whose top module is `mac`; `label` names the cache entry.
SynthResult synthesize_verilog(const std::string& verilog, const std::string& label,
                               const std::filesystem::path& liberty_path, const std::filesystem::path& work_dir,
                               const SynthOptions& options = {});

// The Yosys script for the given Liberty path (relative file names mac.v, mac_net.*).
std::string yosys_script(const std::filesystem::path& liberty_path, double abc_delay_ps);

// Parses the text of `stat -liberty` (cells, area, per-cell counts); E4042 when it is not one.
void parse_yosys_stat(const std::string& text, const std::string& file, SynthResult& out);

}  // namespace halo::mac
