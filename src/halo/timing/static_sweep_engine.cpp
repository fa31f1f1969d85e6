#include "halo/timing/static_sweep_engine.hpp"

#include <algorithm>
#include <cstring>
#include <limits>
#include <numeric>
#include <optional>

#include "halo/util/parallel.hpp"

namespace halo::timing {

namespace {

// Position of `code` in the reflected binary Gray sequence (the inverse Gray code): in this
// order bit k changes every 2^(k+1) codes, bit 0 every other code.
std::uint64_t gray_rank(std::uint64_t code) {
    for (std::uint64_t shift = code >> 1; shift != 0; shift >>= 1) code ^= shift;
    return code;
}

// One code after another on one workspace (see the header).
class IncrementalSweep {
public:
    IncrementalSweep(const StaticTimer& timer, const NetReaders& readers, const std::vector<std::uint8_t>& pinned,
                     const std::vector<netlist::NetId>& port_nets)
        : timer_(timer), readers_(readers), pinned_(pinned), port_nets_(port_nets),
          dirty_((timer.graph().gates.size() + 63) / 64, 0), values_dirty_(dirty_.size(), 0) {
        constexpr double kNan = std::numeric_limits<double>::quiet_NaN();  // never equal: first use computes
        ws_.arc_memo.assign(timer.graph().arcs.size(), {{kNan, kNan}, {}, {}, SimSense::unknown});
        held_.resize(port_nets.size());
        for (std::size_t b = 0; b < port_nets.size(); ++b) held_[b].net = port_nets[b];
    }

    double delay(std::uint64_t code) {
        Endpoint e;
        if (!started_) {
            for (std::size_t b = 0; b < held_.size(); ++b) held_[b].value = b < 64 && ((code >> b) & 1u) != 0;
            e = timer_.evaluate(held_, ws_);
            started_ = true;
        } else {
            e = update(code);
        }
        return e.reached ? e.delay_ns : 0.0;
    }

    // Gate evaluations of the incremental updates so far (the measure of a bit's cost).
    std::uint64_t gates_evaluated() const { return gates_evaluated_; }

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

    Endpoint update(std::uint64_t code) {
        lowest_ = dirty_.size();
        for (std::size_t b = 0; b < port_nets_.size(); ++b) {
            const Logic v = b < 64 && ((code >> b) & 1u) != 0 ? Logic::one : Logic::zero;
            const netlist::NetId net = port_nets_[b];
            if (ws_.value[net] == v) continue;
            ws_.value[net] = v;
            mark_readers(net, true);
        }
        const auto& gates = timer_.graph().gates;
        for (std::size_t w = lowest_; w < dirty_.size(); ++w) {
            while (dirty_[w] != 0) {
                const std::uint64_t bit = dirty_[w] & (~dirty_[w] + 1);
                const std::size_t gi = w * 64 + static_cast<std::size_t>(__builtin_ctzll(dirty_[w]));
                dirty_[w] &= dirty_[w] - 1;
                ++gates_evaluated_;
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
    const std::vector<std::uint8_t>& pinned_;
    const std::vector<netlist::NetId>& port_nets_;
    std::vector<NetConstant> held_;
    std::vector<std::uint64_t> dirty_;         // per gate, cleared as visited
    std::vector<std::uint64_t> values_dirty_;  // per gate: an input's value changed
    std::size_t lowest_ = 0;
    bool started_ = false;
    std::uint64_t gates_evaluated_ = 0;
    StaWorkspace ws_;
};

}  // namespace

NetReaders net_readers(const CompiledGraph& g) {
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
    return readers;
}

StaticSweepEngine::StaticSweepEngine(const StaticTimer& timer, std::string_view weight_port)
    : timer_(timer), port_name_(weight_port), readers_(net_readers(timer.graph())) {
    const CompiledGraph& g = timer.graph();
    for (const NetConstant& c : hold_port(*g.netlist, weight_port, 0)) port_nets_.push_back(c.net);
    pinned_.assign(g.net_count(), 0);
    if (g.net_count() > netlist::kConst1) pinned_[netlist::kConst0] = pinned_[netlist::kConst1] = 1;
    for (netlist::NetId n : port_nets_) pinned_[n] = 1;

    // Each bit's cost: flip it and back from a few codes spread over the range (a fixed
    // sequence, so the order and hence the work do not vary between runs).
    const std::size_t width = std::min<std::size_t>(port_nets_.size(), 64);
    bit_cost_.assign(port_nets_.size(), 0.0);
    const std::uint64_t mask = width >= 64 ? ~0ull : (std::uint64_t{1} << width) - 1;
    constexpr int kBaseCodes = 4;
    std::uint64_t state = 0x9E3779B97F4A7C15ull;
    for (int s = 0; s < kBaseCodes; ++s) {
        state = state * 6364136223846793005ull + 1442695040888963407ull;
        const std::uint64_t base = (state >> 11) & mask;
        IncrementalSweep probe(timer_, readers_, pinned_, port_nets_);
        probe.delay(base);
        for (std::size_t b = 0; b < width; ++b) {
            const std::uint64_t before = probe.gates_evaluated();
            probe.delay(base ^ (std::uint64_t{1} << b));
            probe.delay(base);
            bit_cost_[b] += static_cast<double>(probe.gates_evaluated() - before) / (2.0 * kBaseCodes);
        }
    }
    bit_order_.resize(width);
    std::iota(bit_order_.begin(), bit_order_.end(), 0u);
    std::stable_sort(bit_order_.begin(), bit_order_.end(),
                     [&](unsigned a, unsigned b) { return bit_cost_[a] < bit_cost_[b]; });
}

std::uint64_t StaticSweepEngine::visit_rank(std::uint64_t code) const {
    std::uint64_t permuted = 0;
    for (std::size_t k = 0; k < bit_order_.size(); ++k) permuted |= ((code >> bit_order_[k]) & 1u) << k;
    return gray_rank(permuted);
}

std::vector<double> StaticSweepEngine::sweep(std::span<const std::uint64_t> codes, unsigned threads,
                                             const ProgressSink& progress) const {
    const auto& nl = *timer_.graph().netlist;
    const std::size_t width = port_nets_.size();
    for (std::uint64_t c : codes)
        if (width < 64 && (c >> width) != 0) hold_port(nl, port_name_, c);  // throws E3003
    std::vector<double> delays(codes.size(), 0.0);
    if (codes.empty()) return delays;

    // Codes in the measured Gray order, cut into runs (several per worker, for balance); each
    // run starts with one full evaluation.
    std::vector<std::pair<std::uint64_t, std::size_t>> order(codes.size());
    for (std::size_t i = 0; i < codes.size(); ++i) order[i] = {visit_rank(codes[i]), i};
    std::sort(order.begin(), order.end());
    const unsigned workers = resolve_threads(threads);
    const std::size_t runs = std::min<std::size_t>(codes.size(), std::size_t{workers} * 4);
    std::optional<Progress> prog;
    if (progress) prog.emplace(progress, "static sweep", codes.size());
    parallel_for(
        runs, workers,
        [&](std::size_t r, unsigned) {
            const std::size_t begin = codes.size() * r / runs, end = codes.size() * (r + 1) / runs;
            IncrementalSweep sweep(timer_, readers_, pinned_, port_nets_);
            for (std::size_t k = begin; k < end; ++k) {
                const std::size_t i = order[k].second;
                delays[i] = sweep.delay(codes[i]);
                if (prog) prog->advance();
            }
        },
        1);
    if (prog) prog->finish();
    return delays;
}

}  // namespace halo::timing
