#include "halo/gpu/value_sets.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <fstream>
#include <functional>
#include <random>

#include <fmt/format.h>

#include "halo/util/diagnostics.hpp"

namespace halo::gpu {

namespace {

using Generator = std::function<std::vector<std::int8_t>(std::string_view arg, std::int64_t n, std::int64_t k, std::mt19937_64& rng)>;

struct Row {
    ValueSetRow info;
    Generator make;
};

int parse_int(std::string_view s, std::string_view spec) {
    try {
        size_t used = 0;
        int v = std::stoi(std::string(s), &used);
        if (used != s.size()) throw std::invalid_argument("trailing");
        return v;
    } catch (const std::exception&) {
        throw_bad_value("E8010", std::string(spec), "value-set argument is not an integer", "an integer", std::string(s));
    }
}

std::vector<int> parse_codebook(std::string_view arg, std::string_view spec) {
    std::vector<int> cb;
    size_t start = 0;
    while (start <= arg.size()) {
        size_t comma = arg.find(',', start);
        std::string_view item = arg.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
        int v = parse_int(item, spec);
        if (v < -128 || v > 127) throw_bad_value("E8011", std::string(spec), "codebook value out of INT8 range", "-128..127", std::to_string(v));
        cb.push_back(v);
        if (comma == std::string_view::npos) break;
        start = comma + 1;
    }
    std::sort(cb.begin(), cb.end());
    cb.erase(std::unique(cb.begin(), cb.end()), cb.end());
    if (cb.size() < 2) throw_bad_value("E8011", std::string(spec), "a codebook needs at least two values", ">= 2 values", std::to_string(cb.size()));
    return cb;
}

// LLM-like weights: Student-t with 4 degrees of freedom, one scale per output channel.
std::vector<double> studentt_channels(std::int64_t n, std::int64_t k, std::mt19937_64& rng) {
    std::student_t_distribution<double> t(4.0);
    std::uniform_real_distribution<double> channel_scale(0.5, 2.0);
    std::vector<double> w(static_cast<size_t>(n * k));
    for (std::int64_t r = 0; r < n; ++r) {
        double s = channel_scale(rng);
        for (std::int64_t c = 0; c < k; ++c) w[static_cast<size_t>(r * k + c)] = s * t(rng);
    }
    return w;
}

// Per-channel symmetric round-to-nearest to [-qmax, qmax].
std::vector<std::int8_t> rtn_symmetric(const std::vector<double>& w, std::int64_t n, std::int64_t k, int qmax) {
    std::vector<std::int8_t> q(w.size());
    for (std::int64_t r = 0; r < n; ++r) {
        double amax = 0;
        for (std::int64_t c = 0; c < k; ++c) amax = std::max(amax, std::abs(w[static_cast<size_t>(r * k + c)]));
        double scale = amax > 0 ? amax / qmax : 1.0;
        for (std::int64_t c = 0; c < k; ++c) {
            double v = std::nearbyint(w[static_cast<size_t>(r * k + c)] / scale);
            q[static_cast<size_t>(r * k + c)] = static_cast<std::int8_t>(std::clamp<double>(v, -qmax, qmax));
        }
    }
    return q;
}

// Per-channel asymmetric fit onto a codebook: the channel's [min, max] maps onto the
// codebook's [first, last] (w = s * (c - z)), then each weight takes the nearest code.
std::vector<std::int8_t> fit_codebook(const std::vector<double>& w, std::int64_t n, std::int64_t k, const std::vector<int>& cb) {
    std::vector<std::int8_t> q(w.size());
    for (std::int64_t r = 0; r < n; ++r) {
        auto begin = w.begin() + r * k, end = begin + k;
        auto [mn, mx] = std::minmax_element(begin, end);
        double span = std::max(*mx - *mn, 1e-12);
        double scale = span / (cb.back() - cb.front());
        for (std::int64_t c = 0; c < k; ++c) {
            double code = cb.front() + (w[static_cast<size_t>(r * k + c)] - *mn) / scale;
            q[static_cast<size_t>(r * k + c)] = nearest_code(cb, code);
        }
    }
    return q;
}

std::vector<std::int8_t> uniform_from(const std::vector<int>& values, std::int64_t count, std::mt19937_64& rng) {
    std::uniform_int_distribution<size_t> pick(0, values.size() - 1);
    std::vector<std::int8_t> q(static_cast<size_t>(count));
    for (auto& v : q) v = static_cast<std::int8_t>(values[pick(rng)]);
    return q;
}

const std::vector<Row>& rows() {
    static const std::vector<Row> table = {
        {{"uniform_random", "", "every INT8 code equally likely"},
         [](std::string_view, std::int64_t n, std::int64_t k, std::mt19937_64& rng) {
             std::vector<int> all;
             for (int v = -128; v < 128; ++v) all.push_back(v);
             return uniform_from(all, n * k, rng);
         }},
        {{"zeros", "", "all weights 0 (the floor)"},
         [](std::string_view, std::int64_t n, std::int64_t k, std::mt19937_64&) {
             return std::vector<std::int8_t>(static_cast<size_t>(n * k), 0);
         }},
        {{"rtn8_studentt", "", "Student-t(4) weights, per-channel symmetric RTN to INT8"},
         [](std::string_view, std::int64_t n, std::int64_t k, std::mt19937_64& rng) {
             return rtn_symmetric(studentt_channels(n, k, rng), n, k, 127);
         }},
        {{"rtn4_studentt", "", "Student-t(4) weights, per-channel symmetric RTN to INT4 (codes -7..7)"},
         [](std::string_view, std::int64_t n, std::int64_t k, std::mt19937_64& rng) {
             return rtn_symmetric(studentt_channels(n, k, rng), n, k, 7);
         }},
        {{"codebook", "comma-separated INT8 codes",
          "Student-t(4) weights fitted per channel (scale + zero point) onto the codebook, nearest code"},
         [](std::string_view arg, std::int64_t n, std::int64_t k, std::mt19937_64& rng) {
             return fit_codebook(studentt_channels(n, k, rng), n, k, parse_codebook(arg, arg));
         }},
        {{"uniform_codebook", "comma-separated INT8 codes", "codes drawn uniformly from the given set"},
         [](std::string_view arg, std::int64_t n, std::int64_t k, std::mt19937_64& rng) {
             return uniform_from(parse_codebook(arg, arg), n * k, rng);
         }},
        {{"single", "one INT8 code", "every weight equal to the given code"},
         [](std::string_view arg, std::int64_t n, std::int64_t k, std::mt19937_64&) {
             int v = parse_int(arg, arg);
             if (v < -128 || v > 127) throw_bad_value("E8011", std::string(arg), "code out of INT8 range", "-128..127", std::string(arg));
             return std::vector<std::int8_t>(static_cast<size_t>(n * k), static_cast<std::int8_t>(v));
         }},
        {{"popcount", "0..8", "codes drawn uniformly among the 8-bit patterns with that many set bits"},
         [](std::string_view arg, std::int64_t n, std::int64_t k, std::mt19937_64& rng) {
             int bits = parse_int(arg, arg);
             if (bits < 0 || bits > 8) throw_bad_value("E8011", std::string(arg), "popcount out of range", "0..8", std::string(arg));
             std::vector<int> codes;
             for (int u = 0; u < 256; ++u)
                 if (std::popcount(static_cast<unsigned>(u)) == bits) codes.push_back(static_cast<std::int8_t>(u));
             return uniform_from(codes, n * k, rng);
         }},
        {{"sign", "pos|neg", "codes drawn uniformly among the non-negative (pos) or negative (neg) INT8 codes"},
         [](std::string_view arg, std::int64_t n, std::int64_t k, std::mt19937_64& rng) {
             if (arg != "pos" && arg != "neg") throw_bad_value("E8011", std::string(arg), "sign must be pos or neg", "pos|neg", std::string(arg));
             std::vector<int> codes;
             for (int v = arg == "pos" ? 0 : -128; v < (arg == "pos" ? 128 : 0); ++v) codes.push_back(v);
             return uniform_from(codes, n * k, rng);
         }},
        {{"tiled_file", "path@RxC: raw int8 codes of an R x C layer",
          "a real layer's codes (e.g. from gpu-bench --export) repeated periodically to fill N x K: the same code "
          "distribution and neighbourhoods at a size that keeps the GPU at its power cap"},
         [](std::string_view arg, std::int64_t n, std::int64_t k, std::mt19937_64&) {
             size_t at = arg.rfind('@'), x = arg.rfind('x');
             if (at == std::string_view::npos || x == std::string_view::npos || x < at)
                 throw_bad_value("E8010", std::string(arg), "tiled_file needs path@RxC", "path@RxC", std::string(arg));
             std::string path(arg.substr(0, at));
             std::int64_t r = parse_int(arg.substr(at + 1, x - at - 1), arg), c = parse_int(arg.substr(x + 1), arg);
             if (r <= 0 || c <= 0) throw_bad_value("E8010", std::string(arg), "tiled_file shape must be positive", "R, C > 0", std::string(arg));
             std::ifstream is(path, std::ios::binary);
             if (!is) throw_bad_input("E8012", path, 0, "cannot open weight codes file");
             std::vector<std::int8_t> src(static_cast<size_t>(r * c));
             is.read(reinterpret_cast<char*>(src.data()), static_cast<std::streamsize>(src.size()));
             if (is.gcount() != static_cast<std::streamsize>(src.size()))
                 throw_bad_input("E8012", path, 0, "weight codes file too short", fmt::format("{} bytes ({} x {})", src.size(), r, c),
                                 fmt::format("{} bytes", is.gcount()));
             std::vector<std::int8_t> q(static_cast<size_t>(n * k));
             for (std::int64_t i = 0; i < n; ++i)
                 for (std::int64_t j = 0; j < k; ++j) q[static_cast<size_t>(i * k + j)] = src[static_cast<size_t>((i % r) * c + j % c)];
             return q;
         }},
        {{"file", "path to raw int8 codes, N*K bytes", "codes read from a file (e.g. a quantized layer)"},
         [](std::string_view arg, std::int64_t n, std::int64_t k, std::mt19937_64&) {
             std::ifstream is(std::string(arg), std::ios::binary);
             if (!is) throw_bad_input("E8012", std::string(arg), 0, "cannot open weight codes file");
             std::vector<std::int8_t> q(static_cast<size_t>(n * k));
             is.read(reinterpret_cast<char*>(q.data()), static_cast<std::streamsize>(q.size()));
             if (is.gcount() != static_cast<std::streamsize>(q.size()))
                 throw_bad_input("E8012", std::string(arg), 0, "weight codes file too short",
                                 fmt::format("{} bytes ({} x {})", q.size(), n, k), fmt::format("{} bytes", is.gcount()));
             return q;
         }},
    };
    return table;
}

}  // namespace

const std::vector<ValueSetRow>& value_set_table() {
    static const std::vector<ValueSetRow> infos = [] {
        std::vector<ValueSetRow> v;
        for (const auto& r : rows()) v.push_back(r.info);
        return v;
    }();
    return infos;
}

std::vector<std::int8_t> make_weights(std::string_view spec, std::int64_t n, std::int64_t k, std::uint64_t seed) {
    if (n <= 0 || k <= 0) throw_bad_value("E8013", std::string(spec), "weight shape must be positive", "N, K > 0", fmt::format("{} x {}", n, k));
    size_t colon = spec.find(':');
    std::string_view name = spec.substr(0, colon);
    std::string_view arg = colon == std::string_view::npos ? std::string_view{} : spec.substr(colon + 1);
    std::mt19937_64 rng(seed);
    for (const auto& r : rows()) {
        if (r.info.name != name) continue;
        if (!r.info.argument.empty() && arg.empty())
            throw_bad_value("E8010", std::string(spec), "value set needs an argument", std::string(r.info.argument), "none");
        return r.make(arg, n, k, rng);
    }
    std::string names;
    for (const auto& r : rows()) names += (names.empty() ? "" : ", ") + std::string(r.info.name);
    throw_bad_value("E8010", std::string(spec), "unknown weight value set", names, std::string(name));
}

std::vector<std::int8_t> make_activations(std::int64_t m, std::int64_t k, double sigma, std::uint64_t seed) {
    std::mt19937_64 rng(seed ^ 0x9e3779b97f4a7c15ull);
    std::normal_distribution<double> g(0.0, sigma);
    std::vector<std::int8_t> a(static_cast<size_t>(m * k));
    for (auto& v : a) v = static_cast<std::int8_t>(std::clamp(std::nearbyint(g(rng)), -127.0, 127.0));
    return a;
}

std::int8_t nearest_code(const std::vector<int>& cb, double x) {
    auto it = std::lower_bound(cb.begin(), cb.end(), x);
    if (it == cb.begin()) return static_cast<std::int8_t>(cb.front());
    if (it == cb.end()) return static_cast<std::int8_t>(cb.back());
    int hi = *it, lo = *(it - 1);
    return static_cast<std::int8_t>((x - lo) <= (hi - x) ? lo : hi);
}

}  // namespace halo::gpu
