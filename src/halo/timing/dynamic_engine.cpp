#include "halo/timing/dynamic_engine.hpp"

#include <algorithm>
#include <cstring>
#include <limits>

#include "halo/timing/ternary_timing.hpp"

namespace halo::timing {

namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();

// pen[l] = -inf where bit l of mask is set, +inf elsewhere, so max(t, pen) keeps t on the set
// lanes and blocks it (+inf, neutral for min) on the others.
struct PenaltyTable {
    float rows[16][4];
    PenaltyTable() {
        for (int n = 0; n < 16; ++n)
            for (int b = 0; b < 4; ++b) rows[n][b] = ((n >> b) & 1) ? kNever : kInf;
    }
};
const PenaltyTable kPenalty;

inline void expand_mask(std::uint64_t mask, float* pen) {
    for (int i = 0; i < 16; ++i) std::memcpy(pen + 4 * i, kPenalty.rows[(mask >> (4 * i)) & 15u], sizeof(float) * 4);
}

}  // namespace

DynamicEngine::DynamicEngine(const DynamicCircuit& circuit) : circuit_(circuit) {
    for (const auto& cg : circuit.gates) {
        if (!cg.drives_output) continue;
        Gate g{};
        g.output = cg.output;
        g.n = static_cast<std::uint8_t>(cg.inputs.size());
        for (int j = 0; j < g.n; ++j) {
            g.inputs[j] = cg.inputs[j];
            g.delay_ns[j] = cg.delay_ns[j];
            g.unate[j] = cg.logic.unateness[j];
        }
        g.prime_begin = static_cast<std::uint32_t>(primes_.size());
        for (const auto& p : cg.logic.primes_one) primes_.push_back({p.care, p.value, 1});
        for (const auto& p : cg.logic.primes_zero) primes_.push_back({p.care, p.value, 0});
        g.prime_end = static_cast<std::uint32_t>(primes_.size());
        gates_.push_back(g);
    }
    k1_.assign(circuit.slot_count, 0);
    k0_.assign(circuit.slot_count, 0);
    rise_.assign(std::size_t{circuit.slot_count} * kLanes, kNever);
    fall_.assign(std::size_t{circuit.slot_count} * kLanes, kNever);
}

void DynamicEngine::set_inputs(std::span<const std::uint64_t> a0, std::span<const std::uint64_t> a1, int lanes) {
    for (int i = 0; i < circuit_.activation_bits; ++i) {
        std::uint64_t one = 0;
        float* r = &rise_[std::size_t(i) * kLanes];
        float* f = &fall_[std::size_t(i) * kLanes];
        for (int l = 0; l < kLanes; ++l) {
            bool b0 = l < lanes && ((a0[l] >> i) & 1u), b1 = l < lanes && ((a1[l] >> i) & 1u);
            one |= std::uint64_t{b1} << l;
            r[l] = (!b0 && b1) ? 0.0f : kNever;
            f[l] = (b0 && !b1) ? 0.0f : kNever;
        }
        k1_[i] = one;
        k0_[i] = ~one;
    }
    for (int i = 0; i < circuit_.accumulator_bits; ++i) {
        Slot s = static_cast<Slot>(circuit_.activation_bits + i);
        k1_[s] = k0_[s] = 0;
        std::fill_n(&rise_[std::size_t(s) * kLanes], kLanes, 0.0f);
        std::fill_n(&fall_[std::size_t(s) * kLanes], kLanes, 0.0f);
    }
}

void DynamicEngine::eval_gate(const Gate& g) {
    // by_edge[e][j]: the last event of input j, of either edge, plus its delay to output edge e.
    alignas(64) float by_edge[2][kDynamicMaxInputs][kLanes];
    alignas(64) float ro[kLanes], fo[kLanes], forced[kLanes], tp[kLanes], pen[kLanes];
    const float* R[kDynamicMaxInputs];
    const float* F[kDynamicMaxInputs];
    for (int j = 0; j < g.n; ++j) {
        R[j] = &rise_[std::size_t(g.inputs[j]) * kLanes];
        F[j] = &fall_[std::size_t(g.inputs[j]) * kLanes];
        const auto& d = g.delay_ns[j];
        for (int l = 0; l < kLanes; ++l) {
            by_edge[0][j][l] = std::max(R[j][l] + d[0][0], F[j][l] + d[0][1]);
            by_edge[1][j][l] = std::max(F[j][l] + d[1][1], R[j][l] + d[1][0]);
        }
    }
    for (int l = 0; l < kLanes; ++l) ro[l] = fo[l] = kNever;
    // Unate rule.
    for (int j = 0; j < g.n; ++j) {
        const auto& d = g.delay_ns[j];
        switch (g.unate[j]) {
            case Unateness::positive:
                for (int l = 0; l < kLanes; ++l) {
                    ro[l] = std::max(ro[l], R[j][l] + d[0][0]);
                    fo[l] = std::max(fo[l], F[j][l] + d[1][1]);
                }
                break;
            case Unateness::negative:
                for (int l = 0; l < kLanes; ++l) {
                    ro[l] = std::max(ro[l], F[j][l] + d[0][1]);
                    fo[l] = std::max(fo[l], R[j][l] + d[1][0]);
                }
                break;
            case Unateness::binate:
                for (int l = 0; l < kLanes; ++l) {
                    ro[l] = std::max(ro[l], by_edge[0][j][l]);
                    fo[l] = std::max(fo[l], by_edge[1][j][l]);
                }
                break;
            default: break;
        }
    }
    // Final values and the forcing rule, prime by prime.
    std::uint64_t one = 0, zero = 0;
    bool any_forced = false;
    for (int l = 0; l < kLanes; ++l) forced[l] = kInf;
    for (std::uint32_t p = g.prime_begin; p < g.prime_end; ++p) {
        const Prime& pr = primes_[p];
        std::uint64_t mask = ~std::uint64_t{0};
        for (int j = 0; j < g.n; ++j)
            if ((pr.care >> j) & 1u) mask &= ((pr.value >> j) & 1u) ? k1_[g.inputs[j]] : k0_[g.inputs[j]];
        if (mask == 0) continue;
        (pr.one ? one : zero) |= mask;
        any_forced = true;
        for (int l = 0; l < kLanes; ++l) tp[l] = kNever;
        const int e = pr.one ? 0 : 1;
        for (int j = 0; j < g.n; ++j) {
            if (!((pr.care >> j) & 1u)) continue;
            for (int l = 0; l < kLanes; ++l) tp[l] = std::max(tp[l], by_edge[e][j][l]);
        }
        expand_mask(mask, pen);
        for (int l = 0; l < kLanes; ++l) forced[l] = std::min(forced[l], std::max(tp[l], pen[l]));
    }
    k1_[g.output] = one;
    k0_[g.output] = zero;
    float* RO = &rise_[std::size_t(g.output) * kLanes];
    float* FO = &fall_[std::size_t(g.output) * kLanes];
    if (!any_forced) {
        std::memcpy(RO, ro, sizeof ro);
        std::memcpy(FO, fo, sizeof fo);
        return;
    }
    for (int l = 0; l < kLanes; ++l) {
        ro[l] = std::min(ro[l], forced[l]);
        fo[l] = std::min(fo[l], forced[l]);
    }
    // The last transition goes to the final value: a lane ending at 1 falls no later than it rises.
    alignas(64) float pen0[kLanes];
    expand_mask(one, pen);
    expand_mask(zero, pen0);
    for (int l = 0; l < kLanes; ++l) {
        FO[l] = std::min(fo[l], std::max(ro[l], pen[l]));
        RO[l] = std::min(ro[l], std::max(fo[l], pen0[l]));
    }
}

void DynamicEngine::run_block(std::span<const std::uint64_t> a0, std::span<const std::uint64_t> a1, float* settle_ns) {
    int lanes = static_cast<int>(std::min<std::size_t>({a0.size(), a1.size(), std::size_t{kLanes}}));
    set_inputs(a0, a1, lanes);
    for (const Gate& g : gates_) eval_gate(g);
    alignas(64) float out[kLanes];
    for (int l = 0; l < kLanes; ++l) out[l] = kNever;
    for (Slot s : circuit_.output_slots) {
        const float* r = &rise_[std::size_t(s) * kLanes];
        const float* f = &fall_[std::size_t(s) * kLanes];
        for (int l = 0; l < kLanes; ++l) out[l] = std::max(out[l], std::max(r[l], f[l]));
    }
    std::copy_n(out, lanes, settle_ns);
}

DynamicEngine::Worst DynamicEngine::exhaustive() {
    Worst worst{kNever, 0, 0};
    const std::uint64_t count = std::uint64_t{1} << circuit_.activation_bits;
    std::array<std::uint64_t, kLanes> a0{}, a1{};
    float settle[kLanes];
    for (std::uint64_t x0 = 0; x0 < count; ++x0) {
        for (std::uint64_t base = 0; base < count; base += kLanes) {
            int lanes = static_cast<int>(std::min<std::uint64_t>(kLanes, count - base));
            for (int l = 0; l < lanes; ++l) {
                a0[l] = x0;
                a1[l] = base + l;
            }
            run_block(std::span(a0).first(lanes), std::span(a1).first(lanes), settle);
            for (int l = 0; l < lanes; ++l)
                if (settle[l] > worst.settle_ns) worst = {settle[l], x0, base + l};
        }
    }
    return worst;
}

}  // namespace halo::timing
