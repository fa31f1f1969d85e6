#include "halo/mac/yosys_driver.hpp"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <sstream>
#include <vector>

#include <fmt/format.h>

#include "halo/util/atomic_file.hpp"
#include "halo/util/diagnostics.hpp"

namespace fs = std::filesystem;

namespace halo::mac {
namespace {

std::uint64_t fnv1a(std::string_view bytes, std::uint64_t h = 0xcbf29ce484222325ull) {
    for (unsigned char c : bytes) {
        h ^= c;
        h *= 0x100000001b3ull;
    }
    return h;
}

std::string last_lines(const std::string& text, int count) {
    std::size_t pos = text.size();
    while (pos > 0 && (text[pos - 1] == '\n')) --pos;
    std::size_t end = pos;
    for (int n = 0; n < count && pos > 0; ++n) {
        pos = text.rfind('\n', pos - 1);
        if (pos == std::string::npos) { pos = 0; break; }
    }
    return text.substr(pos == 0 ? 0 : pos + 1, end - (pos == 0 ? 0 : pos + 1));
}

// Runs `yosys -q syn.ys` in `dir`, stdout and stderr into yosys.log; returns the exit status
// (127 when the program could not be started).
int run_yosys(const std::string& yosys, const fs::path& dir) {
    const std::string log = (dir / "yosys.log").string();
    const std::string dir_s = dir.string();
    const pid_t pid = fork();
    if (pid < 0) throw_internal("E4040", "cannot fork to run yosys");
    if (pid == 0) {
        // Child: only async-signal-safe calls until exec.
        const int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
            close(fd);
        }
        if (chdir(dir_s.c_str()) != 0) _exit(126);
        execlp(yosys.c_str(), yosys.c_str(), "-q", "syn.ys", static_cast<char*>(nullptr));
        _exit(127);
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) throw_internal("E4040", "lost the yosys process");
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

SynthResult paths_in(const fs::path& dir) {
    SynthResult r;
    r.dir = dir;
    r.verilog = dir / "mac.v";
    r.script = dir / "syn.ys";
    r.netlist_json = dir / "mac_net.json";
    r.netlist_verilog = dir / "mac_net.v";
    return r;
}

}  // namespace

std::string yosys_script(const fs::path& liberty_path, double abc_delay_ps) {
    const std::string lib = liberty_path.string();
    return fmt::format(
        "read_verilog mac.v\n"
        "synth -top mac -flatten\n"
        "dfflibmap -liberty {0}\n"
        "abc -liberty {0} -D {1}\n"
        "opt_clean\n"
        "tee -q -o stat.txt stat -liberty {0}\n"
        "write_json mac_net.json\n"
        "write_verilog -noattr mac_net.v\n",
        lib, abc_delay_ps);
}

void parse_yosys_stat(const std::string& text, const std::string& file, SynthResult& out) {
    std::istringstream in(text);
    std::string line;
    bool cells_found = false, area_found = false, in_cells = false;
    long line_no = 0;
    while (std::getline(in, line)) {
        ++line_no;
        std::istringstream ls(line);
        std::string first;
        ls >> first;
        if (line.find("Number of cells:") != std::string::npos) {
            out.cells = std::stoi(line.substr(line.find(':') + 1));
            cells_found = in_cells = true;
            continue;
        }
        if (line.find("Chip area for module") != std::string::npos) {
            const auto colon = line.rfind(':');
            try {
                out.area_um2 = std::stod(line.substr(colon + 1));
            } catch (const std::exception&) {
                throw_bad_input("E4042", file, line_no, "chip area is not a number", "a number", line);
            }
            area_found = true;
            in_cells = false;
            continue;
        }
        if (in_cells) {
            int count = 0;
            if (!first.empty() && (ls >> count)) out.cell_counts[first] = count;
            else in_cells = false;
        }
    }
    if (!cells_found || !area_found) {
        Diagnostic d;
        d.kind = ErrorKind::internal;
        d.code = "E4042";
        d.file = file;
        d.message = "Yosys stat output lacks the cell count or the chip area";
        d.expected = "\"Number of cells:\" and \"Chip area for module\" lines";
        d.found = cells_found ? "no chip area" : "no cell count";
        d.hint = "was stat run with -liberty?";
        throw Error(std::move(d));
    }
}

SynthResult synthesize_verilog(const std::string& verilog, const std::string& label, const fs::path& liberty_path,
                               const fs::path& work_dir, const SynthOptions& options) {
    std::error_code ec;
    if (!fs::is_regular_file(liberty_path, ec)) {
        const auto st = fs::status(liberty_path, ec);
        throw_bad_input("E4041", liberty_path.string(), 0, "Liberty file not found", "a readable .lib file",
                        fs::exists(st) ? "a " + std::string(fs::is_directory(st) ? "directory" : "file that is not a regular file")
                                       : "nothing at that path");
    }
    const fs::path lib_abs = fs::absolute(liberty_path);
    const std::string script = yosys_script(lib_abs, options.abc_delay_ps);
    const auto mtime = fs::last_write_time(lib_abs).time_since_epoch().count();
    std::uint64_t h = fnv1a(verilog);
    h = fnv1a(script, h);
    h = fnv1a(fmt::format("{}|{}|{}", lib_abs.string(), fs::file_size(lib_abs), mtime), h);
    const fs::path dir = fs::absolute(work_dir) / fmt::format("{}-{:016x}", label, h);

    if (options.use_cache && fs::exists(dir / "done", ec)) {
        SynthResult r = paths_in(dir);
        parse_yosys_stat(read_file(dir / "stat.txt"), (dir / "stat.txt").string(), r);
        r.from_cache = true;
        return r;
    }

    AtomicDirectory staging(dir, /*overwrite=*/true);
    write_file_atomic(staging / "mac.v", verilog);
    write_file_atomic(staging / "syn.ys", script);
    const auto start = std::chrono::steady_clock::now();
    const int status = run_yosys(options.yosys, staging.staging());
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (status != 0) {
        std::string log;
        try {
            log = read_file(staging / "yosys.log");
        } catch (const Error&) {
        }
        Diagnostic d;
        d.kind = ErrorKind::internal;
        d.code = "E4040";
        d.place = label;
        d.message = status == 127 ? fmt::format("could not run `{}`", options.yosys)
                                  : fmt::format("yosys failed with status {}", status);
        d.found = last_lines(log, 6);
        d.hint = status == 127 ? "install yosys (scripts/setup.sh) or pass its path"
                               : "the lines above are the end of yosys' log; run syn.ys by hand to see it all";
        throw Error(std::move(d));
    }
    SynthResult r = paths_in(dir);
    parse_yosys_stat(read_file(staging / "stat.txt"), (dir / "stat.txt").string(), r);
    write_file_atomic(staging / "done", fmt::format("{:.3f} s\n", seconds));
    staging.commit();
    r.synth_seconds = seconds;
    return r;
}

SynthResult synthesize(const MacSpec& spec, MacArch arch, const fs::path& liberty_path, const fs::path& work_dir,
                       const SynthOptions& options) {
    return synthesize_verilog(generate_verilog(spec, arch), fmt::format("{}-{}", spec.name, arch_name(arch)),
                              liberty_path, work_dir, options);
}

}  // namespace halo::mac
