#include "halo/liberty/library.hpp"

#include <algorithm>

namespace halo::liberty {

namespace {

// The segment used for interpolation at x: [i, i+1] with i clamped to [0, n-2], so a value
// outside the grid extrapolates linearly from the nearest end segment (OpenSTA's convention).
std::size_t segment(const std::vector<double>& axis, double x) {
    std::size_t n = axis.size();
    if (n <= 1 || x <= axis.front()) return 0;
    if (x >= axis.back()) return n - 2;
    auto it = std::upper_bound(axis.begin(), axis.end(), x);  // first element > x
    return static_cast<std::size_t>(it - axis.begin()) - 1;
}

// Fraction of the way from axis[i] to axis[i+1]; 0 for a one-point axis.
double fraction(const std::vector<double>& axis, std::size_t i, double x) {
    if (axis.size() <= 1) return 0;
    double lo = axis[i], hi = axis[i + 1];
    return (x - lo) / (hi - lo);
}

double axis_value(TableVariable v, double input_transition_ns, double output_capacitance_pf) {
    return v == TableVariable::output_capacitance_pf ? output_capacitance_pf : input_transition_ns;
}

}  // namespace

double LookupTable::lookup_axes(double x1, double x2) const {
    if (values.empty()) return 0;
    if (index_1.empty()) return values[0];  // scalar
    std::size_t i = segment(index_1, x1);
    double d1 = fraction(index_1, i, x1);
    if (index_2.empty()) {
        double y0 = values[i];
        double y1 = index_1.size() > 1 ? values[i + 1] : 0;
        return (1 - d1) * y0 + d1 * y1;
    }
    std::size_t n2 = index_2.size();
    std::size_t j = segment(index_2, x2);
    double d2 = fraction(index_2, j, x2);
    auto at = [&](std::size_t a, std::size_t b) { return values[a * n2 + b]; };
    double y00 = at(i, j);
    double y10 = index_1.size() > 1 ? at(i + 1, j) : 0;
    double y01 = n2 > 1 ? at(i, j + 1) : 0;
    double y11 = index_1.size() > 1 && n2 > 1 ? at(i + 1, j + 1) : 0;
    return (1 - d1) * (1 - d2) * y00 + d1 * (1 - d2) * y10 + (1 - d1) * d2 * y01 + d1 * d2 * y11;
}

double LookupTable::lookup(double input_transition_ns, double output_capacitance_pf) const {
    return lookup_axes(axis_value(variable_1, input_transition_ns, output_capacitance_pf),
                       axis_value(variable_2, input_transition_ns, output_capacitance_pf));
}

const Pin* Cell::find_pin(std::string_view pin_name) const {
    int i = pin_index(pin_name);
    return i < 0 ? nullptr : &pins[static_cast<std::size_t>(i)];
}

int Cell::pin_index(std::string_view pin_name) const {
    for (std::size_t i = 0; i < pins.size(); ++i)
        if (pins[i].name == pin_name) return static_cast<int>(i);
    return -1;
}

const Cell* Library::find_cell(std::string_view cell_name) const {
    auto it = cell_index_.find(std::string(cell_name));
    return it == cell_index_.end() ? nullptr : &cells[it->second];
}

void Library::index_cells() {
    cell_index_.clear();
    for (std::size_t i = 0; i < cells.size(); ++i) cell_index_.emplace(cells[i].name, i);
}

}  // namespace halo::liberty
