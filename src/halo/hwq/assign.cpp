#include "halo/hwq/assign.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <sstream>
#include <string>

#include <fmt/format.h>

#include "halo/util/diagnostics.hpp"

namespace halo::hwq {
namespace {

constexpr ObjectiveTraits kObjectives[] = {
    {Objective::perf, "perf", "fastest assignment within the sensitivity budget"},
    {Objective::acc, "acc", "least sensitivity-weighted error with no tile at the nominal level"},
    {Objective::bal, "bal", "knee of the error/time front"},
    {Objective::energy, "energy", "least MAC energy within the sensitivity budget"},
    {Objective::least_error, "least-error", "least sensitivity-weighted error (tiles may stay at the nominal level)"},
};

std::vector<int> lagrangian(const TileCosts& c, const std::vector<double>& cost, double lambda) {
    std::vector<int> lv(c.n_tiles, 0);
    for (std::size_t t = 0; t < c.n_tiles; ++t) {
        double best = std::numeric_limits<double>::infinity();
        for (std::size_t l = 0; l < c.n_levels; ++l) {
            const double v = c.at(c.err, t, l) + lambda * c.at(cost, t, l);
            // ties: the cheaper level
            if (v < best || (v == best && c.at(cost, t, l) < c.at(cost, t, static_cast<std::size_t>(lv[t])))) best = v, lv[t] = static_cast<int>(l);
        }
    }
    return lv;
}

constexpr AssignScopeTraits kScopes[] = {
    {AssignScope::layer, "layer", "each linear layer picks its own front point (objective)"},
    {AssignScope::model, "model", "one model-wide share of weights per level, by tile rank"},
};

constexpr RankKeyTraits kRankKeys[] = {
    {RankKey::error, "error", "sensitivity-weighted error gained per weight by leaving L0 for the fastest level"},
    {RankKey::sensitivity, "sensitivity", "tile score (mean sensitivity per weight), the paper's rule"},
};

double cost_of(const Assignment& a, bool by_energy) { return by_energy ? a.energy : a.time; }

// acc: each tile at its least-error level among the raised ones (1..n-1), ties to the faster.
// No variant of HALO's paper runs a tile at the nominal level; with every INT8 code allowed
// there, least error alone would put every tile at L0, a point no faster than uniform INT8.
Assignment least_error_raised(const TileCosts& c) {
    std::vector<int> lv(c.n_tiles, 0);
    if (c.n_levels < 2) return evaluate(c, std::move(lv));
    for (std::size_t t = 0; t < c.n_tiles; ++t) {
        std::size_t best = 1;
        for (std::size_t l = 2; l < c.n_levels; ++l) {
            const double e = c.at(c.err, t, l), b = c.at(c.err, t, best);
            if (e < b || (e == b && c.at(c.time, t, l) < c.at(c.time, t, best))) best = l;
        }
        lv[t] = static_cast<int>(best);
    }
    return evaluate(c, std::move(lv));
}

}  // namespace

std::span<const ObjectiveTraits> objectives() { return kObjectives; }
const ObjectiveTraits& objective(std::string_view name) {
    for (const auto& o : kObjectives)
        if (o.name == name) return o;
    throw_bad_value("E9013", "--objective", "unknown objective", "perf, acc, bal, energy or least-error", std::string(name));
}

std::span<const AssignScopeTraits> assign_scopes() { return kScopes; }
const AssignScopeTraits& assign_scope(std::string_view name) {
    for (const auto& s : kScopes)
        if (s.name == name) return s;
    throw_bad_value("E9062", "--assign", "unknown assignment scope", "layer or model", std::string(name));
}

std::span<const RankKeyTraits> rank_keys() { return kRankKeys; }
const RankKeyTraits& rank_key(std::string_view name) {
    for (const auto& k : kRankKeys)
        if (k.name == name) return k;
    throw_bad_value("E9063", "--rank", "unknown tile ranking key", "error or sensitivity", std::string(name));
}

void check_level_shares(std::span<const double> shares, std::size_t n_levels) {
    double sum = 0;
    std::string text;
    for (double x : shares) {
        text += fmt::format("{}{}", text.empty() ? "" : "/", x);
        sum += x;
    }
    const bool ok = shares.size() == n_levels &&
                    std::all_of(shares.begin(), shares.end(), [](double x) { return x >= 0 && x <= 1; }) &&
                    std::fabs(sum - 1) <= 1e-6;
    if (!ok)
        throw_bad_value("E9064", "--level-shares", "the model-wide budget needs one share per level, each in [0, 1], summing to 1",
                        fmt::format("{} shares summing to 1, slowest level first (e.g. 0.2/0.5/0.3)", n_levels),
                        text.empty() ? std::string("none") : text);
}

std::vector<double> parse_level_shares(std::string_view text) {
    std::string s(text);
    std::replace(s.begin(), s.end(), ',', '/');
    std::stringstream in(s);
    std::string item;
    std::vector<double> out;
    while (std::getline(in, item, '/')) {
        std::size_t used = 0;
        double v = 0;
        try {
            v = std::stod(item, &used);
        } catch (const std::exception&) {
            used = 0;
        }
        if (used == 0 || used != item.size() || !std::isfinite(v))
            throw_bad_value("E9072", "--level-shares", "a level share is not a number", "e.g. 0.2/0.5/0.3", item);
        out.push_back(v);
    }
    return out;
}

std::vector<std::vector<int>> assign_model_wide(std::span<const TileCosts> layers, std::span<const double> shares, RankKey key) {
    struct Ranked {
        double key;
        std::size_t layer, tile;
    };
    std::vector<Ranked> order;
    std::vector<std::vector<int>> out(layers.size());
    std::size_t n_levels = 0;
    for (std::size_t i = 0; i < layers.size(); ++i) {
        const auto& c = layers[i];
        if (c.weights.size() != c.n_tiles || c.score.size() != c.n_tiles || (n_levels && c.n_levels != n_levels))
            throw_internal("E9065", fmt::format("model-wide assignment: linear {} lacks tile weights/scores or has another level count", i));
        n_levels = c.n_levels;
        out[i].assign(c.n_tiles, 0);
        for (std::size_t t = 0; t < c.n_tiles; ++t) {
            const double n = std::max(1.0, c.weights[t]);
            const double k = key == RankKey::sensitivity ? c.score[t]
                                                         : (c.at(c.err, t, c.n_levels - 1) - c.at(c.err, t, 0)) / n;
            order.push_back({k, i, t});
        }
    }
    if (order.empty()) return out;
    check_level_shares(shares, n_levels);
    std::stable_sort(order.begin(), order.end(), [](const Ranked& a, const Ranked& b) { return a.key > b.key; });
    double total = 0;
    for (const auto& r : order) total += layers[r.layer].weights[r.tile];
    std::vector<double> boundary(n_levels, 0);
    double cum = 0;
    for (std::size_t l = 0; l < n_levels; ++l) boundary[l] = (cum += shares[l]) * total;
    boundary.back() = total;  // the shares sum to 1 within 1e-6: the last level takes the rest
    double before = 0;
    std::size_t l = 0;
    for (const auto& r : order) {
        const double n = layers[r.layer].weights[r.tile];
        while (l + 1 < n_levels && before + n / 2 > boundary[l]) ++l;
        out[r.layer][r.tile] = static_cast<int>(l);
        before += n;
    }
    return out;
}

ModelObjectivePlan assign_model_objective(std::span<const TileCosts> layers, Objective objective, double budget) {
    TileCosts pool;
    for (std::size_t i = 0; i < layers.size(); ++i) {
        const auto& c = layers[i];
        if (c.n_tiles == 0) continue;
        if ((pool.n_levels && c.n_levels != pool.n_levels) || c.err.size() != c.n_tiles * c.n_levels ||
            c.time.size() != c.err.size() || c.energy.size() != c.err.size())
            throw_internal("E9077", fmt::format("model-wide objective: linear {} has another level count or incomplete costs", i));
        pool.n_levels = c.n_levels;
        pool.n_tiles += c.n_tiles;
        pool.err.insert(pool.err.end(), c.err.begin(), c.err.end());
        pool.time.insert(pool.time.end(), c.time.begin(), c.time.end());
        pool.energy.insert(pool.energy.end(), c.energy.begin(), c.energy.end());
    }
    ModelObjectivePlan out;
    out.levels.resize(layers.size());
    out.chosen = assign(pool, objective, budget);  // E9014 on a bad budget, as per layer
    std::size_t at = 0;
    for (std::size_t i = 0; i < layers.size(); ++i) {
        const auto n = layers[i].n_tiles;
        out.levels[i].assign(out.chosen.level.begin() + static_cast<std::ptrdiff_t>(at),
                             out.chosen.level.begin() + static_cast<std::ptrdiff_t>(at + n));
        at += n;
        const Assignment own = assign(layers[i], objective, budget);
        out.per_layer.err += own.err, out.per_layer.time += own.time, out.per_layer.energy += own.energy;
    }
    out.chosen.level.clear();
    return out;
}

Assignment evaluate(const TileCosts& c, std::vector<int> level) {
    Assignment a;
    for (std::size_t t = 0; t < c.n_tiles; ++t) {
        const auto l = static_cast<std::size_t>(level[t]);
        a.err += c.at(c.err, t, l), a.time += c.at(c.time, t, l), a.energy += c.at(c.energy, t, l);
    }
    a.level = std::move(level);
    return a;
}

std::vector<Assignment> front(const TileCosts& c, bool by_energy) {
    const auto& cost = by_energy ? c.energy : c.time;
    // lambda scale: error per unit cost, spanning many decades either side.
    double es = 0, cs = 0;
    for (double e : c.err) es += e;
    for (double x : cost) cs += x;
    const double base = cs > 0 ? es / cs : 1;
    std::vector<Assignment> out;
    out.push_back(evaluate(c, lagrangian(c, cost, 0)));
    for (int i = -40; i <= 40; ++i) out.push_back(evaluate(c, lagrangian(c, cost, base * std::pow(10.0, i / 5.0))));
    out.push_back(evaluate(c, lagrangian(c, cost, std::numeric_limits<double>::max() / 1e10)));
    std::sort(out.begin(), out.end(), [&](const Assignment& a, const Assignment& b) {
        return cost_of(a, by_energy) < cost_of(b, by_energy) || (cost_of(a, by_energy) == cost_of(b, by_energy) && a.err < b.err);
    });
    out.erase(std::unique(out.begin(), out.end(), [](const Assignment& a, const Assignment& b) { return a.level == b.level; }),
              out.end());
    return out;
}

Assignment assign(const TileCosts& c, Objective objective, double budget) {
    if (!(budget >= 0 && budget <= 1))
        throw_bad_value("E9014", "--budget", "the sensitivity budget is a fraction of the error range", "0 <= budget <= 1",
                        fmt::format("{}", budget), "0 = as accurate as least-error, 1 = all tiles at the fastest level");
    if (c.n_tiles == 0) return {};
    if (objective == Objective::acc) return least_error_raised(c);  // per tile; needs no front
    const bool by_energy = objective == Objective::energy;
    auto pts = front(c, by_energy);
    const Assignment& acc = *std::min_element(pts.begin(), pts.end(), [&](const Assignment& a, const Assignment& b) {
        return a.err < b.err || (a.err == b.err && cost_of(a, by_energy) < cost_of(b, by_energy));
    });  // least error: the front's accurate end
    switch (objective) {  // the objective table's dispatch
        case Objective::least_error: return acc;
        case Objective::acc: break;  // returned above
        case Objective::perf:
        case Objective::energy: {
            const double e_fast = pts.front().err;  // cheapest point
            const double limit = acc.err + budget * (e_fast - acc.err) + 1e-12 * std::fabs(acc.err);
            for (const auto& p : pts)
                if (p.err <= limit) return p;
            return acc;
        }
        case Objective::bal: {
            const double c0 = cost_of(pts.front(), false), c1 = cost_of(acc, false);
            const double e0 = pts.front().err, e1 = acc.err;
            const double dc = std::max(1e-300, std::fabs(c1 - c0)), de = std::max(1e-300, std::fabs(e0 - e1));
            const Assignment* best = &acc;
            double best_d = -1;
            for (const auto& p : pts) {
                if (cost_of(p, false) > c1 + 1e-12 * std::fabs(c1)) continue;
                const double x = (cost_of(p, false) - c0) / dc, y = (p.err - e1) / de;  // x: 0 fast .. 1 slow; y: 0 accurate .. 1
                const double d = 1 - x - y;  // distance below the chord x + y = 1 (scaled)
                if (d > best_d) best_d = d, best = &p;
            }
            return *best;
        }
    }
    return acc;
}

std::vector<std::size_t> grouped_order(std::span<const int> level) {
    std::vector<std::size_t> order(level.size());
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return level[a] > level[b]; });
    return order;
}

int switches(std::span<const int> level, std::span<const std::size_t> order, int start_level) {
    int n = 0, cur = start_level;
    for (std::size_t i : order) {
        if (cur >= 0 && level[i] != cur) ++n;
        cur = level[i];
    }
    return n;
}

}  // namespace halo::hwq
