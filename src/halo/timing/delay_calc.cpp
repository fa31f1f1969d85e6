#include "halo/timing/delay_calc.hpp"

namespace halo::timing {

namespace {

bool is_slew_axis(liberty::TableVariable v) {
    return v == liberty::TableVariable::input_transition_ns || v == liberty::TableVariable::related_transition_ns;
}

}  // namespace

std::uint32_t SlewCurves::add(const liberty::LookupTable& table, double load_pf) {
    const std::vector<double>* axis = nullptr;
    if (is_slew_axis(table.variable_1) && !table.index_1.empty()) axis = &table.index_1;
    else if (is_slew_axis(table.variable_2) && !table.index_2.empty()) axis = &table.index_2;
    Span span{static_cast<std::uint32_t>(x_.size()), 0};
    if (axis == nullptr || axis->size() == 1) {
        // No slew dependence: one constant point (the table's own lookup handles load and
        // a single-point slew axis alike).
        x_.push_back(0);
        y_.push_back(table.lookup(axis ? (*axis)[0] : 0.0, load_pf));
        span.count = 1;
    } else {
        // At a grid slew the bilinear lookup reduces to the load interpolation of that row.
        for (double s : *axis) {
            x_.push_back(s);
            y_.push_back(table.lookup(s, load_pf));
        }
        span.count = static_cast<std::uint32_t>(axis->size());
    }
    spans_.push_back(span);
    return static_cast<std::uint32_t>(spans_.size() - 1);
}

const liberty::LookupTable* arc_delay_table(const liberty::TimingArc& arc, int out_edge) {
    const auto& t = out_edge == kRise ? arc.cell_rise_ns : arc.cell_fall_ns;
    return t ? &*t : nullptr;
}

const liberty::LookupTable* arc_slew_table(const liberty::TimingArc& arc, int out_edge) {
    const auto& t = out_edge == kRise ? arc.rise_transition_ns : arc.fall_transition_ns;
    return t ? &*t : nullptr;
}

}  // namespace halo::timing
