#include "halo/timing/static_sweep.hpp"

#include <algorithm>
#include <cstring>
#include <limits>
#include <memory>
#include <optional>

#include "halo/util/parallel.hpp"

namespace halo::timing {

namespace {

// Position of `code` in the reflected binary Gray sequence (the inverse Gray code): codes
// visited in this order differ from the previous one in few bits (one within a full range).
std::uint64_t gray_rank(std::uint64_t code) {
    for (std::uint64_t shift = code >> 1; shift != 0; shift >>= 1) code ^= shift;
    return code;
}

// Which gates read each net (a gate once per net), flat: gates[begin[n] .. begin[n + 1]).
struct NetReaders {
    std::vector<std::uint32_t> begin;
    std::vector<std::uint32_t> gates;
};

// One code after another on one workspace: only the gates downstream of a changed weight bit
// are evaluated again, in topological order, and a gate's fan-out only when its output's value,
// slews or arrivals changed. Each gate is evaluated by the same two steps as the full
// evaluation (StaticTimer::evaluate_gate_*), on final inputs, so the figures are identical.
class IncrementalSweep {
public:
    IncrementalSweep(const StaticTimer& timer, const NetReaders& readers,
                     const std::vector<std::uint8_t>& pinned)
        : timer_(timer), readers_(readers), pinned_(pinned), dirty_((timer.graph().gates.size() + 63) / 64, 0),
          values_dirty_(dirty_.size(), 0) {
        constexpr double kNan = std::numeric_limits<double>::quiet_NaN();  // never equal: first use computes
        ws_.arc_memo.assign(timer.graph().arcs.size(), {{kNan, kNan}, {}, {}, SimSense::unknown});
    }

    double delay(std::span<const NetConstant> held) {
        Endpoint e;
        if (!started_) {
            e = timer_.evaluate(held, ws_);
            started_ = true;
        } else {
            e = update(held);
        }
        return e.reached ? e.delay_ns : 0.0;
    }

private:
    // `value_changed`: the net's value changed (else only its slews or arrivals), so its
    // readers must redo case analysis too.
    void mark_readers(netlist::NetId net, bool value_changed) {
        for (std::uint32_t k = readers_.begin[net]; k < readers_.begin[net + 1]; ++k) {
            const std::uint32_t g = readers_.gates[k];
            const std::uint64_t bit = std::uint64_t{1} << (g & 63);
            dirty_[g >> 6] |= bit;
            if (value_changed) values_dirty_[g >> 6] |= bit;
            lowest_ = std::min<std::size_t>(lowest_, g >> 6);
        }
    }

    Endpoint update(std::span<const NetConstant> held) {
        lowest_ = dirty_.size();
        for (const NetConstant& c : held) {
            const Logic v = c.value ? Logic::one : Logic::zero;
            if (ws_.value[c.net] == v) continue;
            ws_.value[c.net] = v;
            mark_readers(c.net, true);
        }
        const auto& gates = timer_.graph().gates;
        for (std::size_t w = lowest_; w < dirty_.size(); ++w) {
            while (dirty_[w] != 0) {
                const std::uint64_t bit = dirty_[w] & (~dirty_[w] + 1);
                const std::size_t gi = w * 64 + static_cast<std::size_t>(__builtin_ctzll(dirty_[w]));
                dirty_[w] &= dirty_[w] - 1;
                // Input values as at the gate's last evaluation: its output value and constant
                // flag stand, and so do its arcs' senses (kept in the arc memo).
                const bool same_constants = (values_dirty_[w] & bit) == 0;
                values_dirty_[w] &= ~bit;
                const netlist::NetId out = gates[gi].out_net;
                const Logic old_value = ws_.value[out];
                const StaWorkspace::NetState old_state = ws_.state[out];
                if (!same_constants) {
                    if (!pinned_[out]) ws_.value[out] = Logic::x;
                    timer_.evaluate_gate_constant(gi, ws_);
                }
                timer_.evaluate_gate_timing(gi, ws_, same_constants);
                const StaWorkspace::NetState& now = ws_.state[out];
                const bool value_changed = ws_.value[out] != old_value;
                if (value_changed || std::memcmp(&now, &old_state, sizeof now) != 0) mark_readers(out, value_changed);
            }
        }
        return timer_.latest_output(ws_);
    }

    const StaticTimer& timer_;
    const NetReaders& readers_;
    const std::vector<std::uint8_t>& pinned_;                 // per net: held or a constant net
    std::vector<std::uint64_t> dirty_;                        // per gate, cleared as visited
    std::vector<std::uint64_t> values_dirty_;                 // per gate: an input's value changed
    std::size_t lowest_ = 0;
    bool started_ = false;
    StaWorkspace ws_;
};

}  // namespace

std::vector<double> static_delay_sweep(const StaticTimer& timer, std::string_view weight_port,
                                       std::span<const std::uint64_t> codes, unsigned threads,
                                       const ProgressSink& progress) {
    const auto& nl = *timer.graph().netlist;
    for (std::uint64_t c : codes) hold_port(nl, weight_port, c);  // validates port and codes up front
    std::vector<double> delays(codes.size(), 0.0);
    if (codes.empty()) return delays;
    const CompiledGraph& g = timer.graph();
    // Which gates read each net (a gate once per net), and the nets no gate may change.
    std::vector<std::vector<std::uint32_t>> readers_of(g.net_count());
    for (std::uint32_t gi = 0; gi < g.gates.size(); ++gi) {
        const GateOutput& gate = g.gates[gi];
        auto add = [&](netlist::NetId n) {
            if (n == netlist::kNoNet) return;
            if (readers_of[n].empty() || readers_of[n].back() != gi) readers_of[n].push_back(gi);
        };
        for (int v = 0; v < gate.var_count; ++v) add(gate.var_net[v]);
        for (std::uint32_t a = gate.arcs_begin; a < gate.arcs_end; ++a) add(g.arcs[a].from_net);
    }
    NetReaders readers;
    readers.begin.reserve(g.net_count() + 1);
    for (const auto& r : readers_of) {
        readers.begin.push_back(static_cast<std::uint32_t>(readers.gates.size()));
        readers.gates.insert(readers.gates.end(), r.begin(), r.end());
    }
    readers.begin.push_back(static_cast<std::uint32_t>(readers.gates.size()));
    std::vector<std::uint8_t> pinned(g.net_count(), 0);
    if (g.net_count() > netlist::kConst1) pinned[netlist::kConst0] = pinned[netlist::kConst1] = 1;
    for (const NetConstant& c : hold_port(nl, weight_port, codes.front())) pinned[c.net] = 1;

    // Codes in Gray order, cut into runs (several per worker, for balance); each run starts with
    // one full evaluation.
    std::vector<std::size_t> order(codes.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(),
                     [&](std::size_t a, std::size_t b) { return gray_rank(codes[a]) < gray_rank(codes[b]); });
    const unsigned workers = resolve_threads(threads);
    const std::size_t runs = std::min<std::size_t>(codes.size(), std::size_t{workers} * 4);
    std::optional<Progress> prog;
    if (progress) prog.emplace(progress, "static sweep", codes.size());
    parallel_for(
        runs, workers,
        [&](std::size_t r, unsigned) {
            const std::size_t begin = codes.size() * r / runs, end = codes.size() * (r + 1) / runs;
            IncrementalSweep sweep(timer, readers, pinned);
            for (std::size_t k = begin; k < end; ++k) {
                const std::size_t i = order[k];
                delays[i] = sweep.delay(hold_port(nl, weight_port, codes[i]));
                if (prog) prog->advance();
            }
        },
        1);
    if (prog) prog->finish();
    return delays;
}

std::vector<double> static_delay_sweep(const netlist::Netlist& netlist, std::string_view weight_port,
                                       std::span<const std::uint64_t> codes, const StaOptions& options,
                                       const ProgressSink& progress) {
    StaticTimer timer(netlist, options);
    return static_delay_sweep(timer, weight_port, codes, options.threads, progress);
}

std::vector<std::uint64_t> all_codes(unsigned bits) {
    std::vector<std::uint64_t> codes(std::size_t{1} << bits);
    for (std::size_t i = 0; i < codes.size(); ++i) codes[i] = i;
    return codes;
}

}  // namespace halo::timing
