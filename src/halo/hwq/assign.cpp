#include "halo/hwq/assign.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include <fmt/format.h>

#include "halo/util/diagnostics.hpp"

namespace halo::hwq {
namespace {

constexpr ObjectiveTraits kObjectives[] = {
    {Objective::perf, "perf", "fastest assignment within the sensitivity budget"},
    {Objective::acc, "acc", "least sensitivity-weighted error"},
    {Objective::bal, "bal", "knee of the error/time front"},
    {Objective::energy, "energy", "least MAC energy within the sensitivity budget"},
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

double cost_of(const Assignment& a, bool by_energy) { return by_energy ? a.energy : a.time; }

}  // namespace

std::span<const ObjectiveTraits> objectives() { return kObjectives; }
const ObjectiveTraits& objective(std::string_view name) {
    for (const auto& o : kObjectives)
        if (o.name == name) return o;
    throw_bad_value("E9013", "--objective", "unknown objective", "perf, acc, bal or energy", std::string(name));
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
                        fmt::format("{}", budget), "0 = as accurate as acc, 1 = all tiles at the fastest level");
    if (c.n_tiles == 0) return {};
    const bool by_energy = objective == Objective::energy;
    auto pts = front(c, by_energy);
    const Assignment& acc = *std::min_element(pts.begin(), pts.end(), [&](const Assignment& a, const Assignment& b) {
        return a.err < b.err || (a.err == b.err && cost_of(a, by_energy) < cost_of(b, by_energy));
    });
    switch (objective) {  // the objective table's dispatch
        case Objective::acc: return acc;
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
