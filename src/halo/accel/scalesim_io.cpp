#include "halo/accel/scalesim_io.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <map>

#include <fmt/format.h>

#include "halo/util/atomic_file.hpp"
#include "halo/util/diagnostics.hpp"

namespace halo::accel {

namespace {

std::string trim(std::string_view s) {
    std::size_t b = 0, e = s.size();
    while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
    while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
    return std::string(s.substr(b, e - b));
}

std::string lower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return s;
}

template <typename F>
void for_each_line(std::string_view text, F&& f) {
    long line_no = 0;
    std::size_t pos = 0;
    while (pos <= text.size()) {
        std::size_t nl = text.find('\n', pos);
        if (nl == std::string_view::npos) nl = text.size();
        ++line_no;
        f(line_no, text.substr(pos, nl - pos));
        pos = nl + 1;
    }
}

bool parse_int64(const std::string& s, std::int64_t& out) {
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    return ec == std::errc() && p == s.data() + s.size();
}

}  // namespace

ScaleSimConfig parse_scalesim_config(std::string_view text, const std::string& file) {
    // section.key (lower case) -> (value, line)
    std::map<std::string, std::pair<std::string, long>> kv;
    std::string section;
    for_each_line(text, [&](long ln, std::string_view raw) {
        std::string line = trim(raw);
        if (line.empty() || line[0] == '#' || line[0] == ';') return;
        if (line.front() == '[') {
            if (line.back() != ']') throw_bad_input("E7010", file, ln, "malformed section header", "[name]", line);
            section = lower(trim(std::string_view(line).substr(1, line.size() - 2)));
            return;
        }
        std::size_t sep = line.find_first_of(":=");
        if (sep == std::string::npos)
            throw_bad_input("E7010", file, ln, "expected 'key: value'", "key: value", line);
        kv[section + "." + lower(trim(std::string_view(line).substr(0, sep)))] = {
            trim(std::string_view(line).substr(sep + 1)), ln};
    });
    auto need = [&](const std::string& key) -> const std::pair<std::string, long>& {
        auto it = kv.find(key);
        if (it == kv.end())
            throw_bad_input("E7010", file, 0, "missing key " + key, key, "nothing",
                            "a SCALE-Sim config names ArrayHeight, ArrayWidth, *SramSzkB and Dataflow");
        return it->second;
    };
    auto need_int = [&](const std::string& key) {
        const auto& [v, ln] = need(key);
        std::int64_t x = 0;
        if (!parse_int64(v, x) || x <= 0) throw_bad_input("E7010", file, ln, "bad value for " + key, "a positive integer", v);
        return x;
    };
    ScaleSimConfig c;
    if (auto it = kv.find("general.run_name"); it != kv.end()) c.run_name = it->second.first;
    c.array.rows = static_cast<int>(std::min<std::int64_t>(need_int("architecture_presets.arrayheight"), 1 << 30));
    c.array.cols = static_cast<int>(std::min<std::int64_t>(need_int("architecture_presets.arraywidth"), 1 << 30));
    c.array.ifmap_sram_kb = need_int("architecture_presets.ifmapsramszkb");
    c.array.filter_sram_kb = need_int("architecture_presets.filtersramszkb");
    c.array.ofmap_sram_kb = need_int("architecture_presets.ofmapsramszkb");
    {
        const auto& [v, ln] = need("architecture_presets.dataflow");
        try {
            c.array.dataflow = parse_dataflow(lower(v));
        } catch (const Error&) {
            throw_bad_input("E7010", file, ln, "unknown Dataflow", "ws, os or is", v);
        }
    }
    if (auto it = kv.find("run_presets.interfacebandwidth"); it != kv.end()) {
        std::string mode = lower(it->second.first);
        if (mode != "calc" && mode != "user")
            throw_bad_input("E7010", file, it->second.second, "bad InterfaceBandwidth", "CALC or USER", it->second.first);
        c.user_bandwidth = mode == "user";
    }
    if (auto it = kv.find("architecture_presets.bandwidth"); it != kv.end()) {
        std::string first = trim(it->second.first.substr(0, it->second.first.find(',')));
        std::int64_t bw = 0;
        if (!parse_int64(first, bw) || bw <= 0)
            throw_bad_input("E7010", file, it->second.second, "bad Bandwidth", "a positive integer", it->second.first);
        c.bandwidth_words_per_cycle = static_cast<double>(bw);
    }
    try {
        validate(c.array);
    } catch (const Error& e) {
        Diagnostic d = e.diagnostic();
        d.file = file;
        throw Error(d);
    }
    return c;
}

ScaleSimConfig read_scalesim_config(const std::filesystem::path& path) {
    return parse_scalesim_config(read_file(path), path.string());
}

std::vector<Gemm> parse_scalesim_topology(std::string_view text, const std::string& file) {
    std::vector<Gemm> layers;
    bool header = true;
    for_each_line(text, [&](long ln, std::string_view raw) {
        std::string line = trim(raw);
        if (header) {  // SCALE-Sim skips the first line whatever it holds
            header = false;
            return;
        }
        if (line.empty()) return;
        std::vector<std::string> f;
        std::size_t pos = 0;
        while (true) {
            std::size_t c = line.find(',', pos);
            f.push_back(trim(std::string_view(line).substr(pos, c == std::string::npos ? std::string::npos : c - pos)));
            if (c == std::string::npos) break;
            pos = c + 1;
        }
        if (!f.empty() && f.back().empty()) f.pop_back();  // the trailing comma
        if (f.size() < 4)
            throw_bad_input("E7011", file, ln, "a GEMM layer needs 4 fields", "name, M, N, K,", line,
                            "SCALE-Sim GEMM topologies list M, N, K (in that order) after the name");
        if (f.size() > 4)
            throw_bad_input("E7011", file, ln, "too many fields for a GEMM layer", "name, M, N, K,", line,
                            "convolution topologies are not read; convert the layer to M, N, K");
        Gemm g;
        g.name = f[0];
        std::int64_t* dims[3] = {&g.M, &g.N, &g.K};
        const char* names[3] = {"M", "N", "K"};
        for (int i = 0; i < 3; ++i)
            if (!parse_int64(f[static_cast<std::size_t>(i) + 1], *dims[i]) || *dims[i] <= 0)
                throw_bad_input("E7011", file, ln, fmt::format("bad {} of layer '{}'", names[i], g.name),
                                "a positive integer", f[static_cast<std::size_t>(i) + 1]);
        layers.push_back(std::move(g));
    });
    if (layers.empty())
        throw_bad_input("E7011", file, 0, "no layers", "a header line and at least one 'name, M, N, K,' line", "none");
    return layers;
}

std::vector<Gemm> read_scalesim_topology(const std::filesystem::path& path) {
    return parse_scalesim_topology(read_file(path), path.string());
}

}  // namespace halo::accel
