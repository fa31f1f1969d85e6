// NLDM delay calculation as OpenSTA does it without parasitics: a cell arc's delay and output
// slew are the Liberty tables looked up at (input slew, lumped load), where the load is the sum
// of the fanout pins' capacitances plus any set_load on an output port. No wire delay, and the
// slew at every load pin equals the driver's (OpenSTA applies slew_derate_from_library and
// threshold adjustment only to RC wire delays, which halo does not model).
//
// Fast path: the load of every net is fixed, so each 2-D table collapses once, at compile time,
// to a 1-D piecewise-linear curve over input slew. Bilinear interpolation is separable, so the
// curve gives the same number as the 2-D lookup (tested against LookupTable::lookup).
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "halo/liberty/library.hpp"

namespace halo::timing {

// Output edge / input edge index: rise = 0, fall = 1 (arrays indexed by it).
enum class Edge : std::uint8_t { rise = 0, fall = 1 };
constexpr int kRise = 0;
constexpr int kFall = 1;

// A pool of 1-D curves y(slew): points of curve c are x_[begin..begin+count).
class SlewCurves {
public:
    static constexpr std::uint32_t kNone = ~std::uint32_t{0};

    // Collapses `table` at the fixed load `load_pf` onto its slew axis.
    std::uint32_t add(const liberty::LookupTable& table, double load_pf);

    // y at `slew_ns`: linear inside the grid, linear extrapolation outside (as OpenSTA).
    double eval(std::uint32_t curve, double slew_ns) const {
        const Span& s = spans_[curve];
        const double* x = &x_[s.begin];
        const double* y = &y_[s.begin];
        if (s.count == 1) return y[0];
        std::uint32_t i = 0;
        while (i + 2 < s.count && slew_ns >= x[i + 1]) ++i;
        double t = (slew_ns - x[i]) / (x[i + 1] - x[i]);
        return y[i] + t * (y[i + 1] - y[i]);
    }
    // Whether two curves have the same slew grid (then eval_pair searches it once).
    bool same_grid(std::uint32_t a, std::uint32_t b) const {
        const Span& sa = spans_[a];
        const Span& sb = spans_[b];
        return sa.count == sb.count && std::equal(&x_[sa.begin], &x_[sa.begin] + sa.count, &x_[sb.begin]);
    }
    // eval(a, slew) and eval(b, slew), bit for bit; `a` and `b` must have the same grid.
    void eval_pair(std::uint32_t a, std::uint32_t b, double slew_ns, double& ya, double& yb) const {
        const Span& sa = spans_[a];
        const double* x = &x_[sa.begin];
        const double* y0 = &y_[sa.begin];
        const double* y1 = &y_[spans_[b].begin];
        if (sa.count == 1) {
            ya = y0[0];
            yb = y1[0];
            return;
        }
        std::uint32_t i = 0;
        while (i + 2 < sa.count && slew_ns >= x[i + 1]) ++i;
        double t = (slew_ns - x[i]) / (x[i + 1] - x[i]);
        ya = y0[i] + t * (y0[i + 1] - y0[i]);
        yb = y1[i] + t * (y1[i + 1] - y1[i]);
    }
    std::size_t size() const { return spans_.size(); }

private:
    struct Span {
        std::uint32_t begin = 0;
        std::uint32_t count = 0;
    };
    std::vector<Span> spans_;
    std::vector<double> x_;
    std::vector<double> y_;
};

// The table of an arc for one output edge: delay (cell_rise/cell_fall) or slew
// (rise_transition/fall_transition). Null when the library gives none.
const liberty::LookupTable* arc_delay_table(const liberty::TimingArc& arc, int out_edge);
const liberty::LookupTable* arc_slew_table(const liberty::TimingArc& arc, int out_edge);

// Which (input edge -> output edge) pairs a timing sense lets through. OpenSTA expands a
// positive_unate arc to rise->rise and fall->fall, negative_unate to rise->fall and fall->rise,
// and non_unate to all four.
inline bool sense_allows(liberty::TimingSense sense, int in_edge, int out_edge) {
    switch (sense) {
        case liberty::TimingSense::positive_unate: return in_edge == out_edge;
        case liberty::TimingSense::negative_unate: return in_edge != out_edge;
        case liberty::TimingSense::non_unate: return true;
    }
    return true;
}

}  // namespace halo::timing
