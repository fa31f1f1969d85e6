// The cell-library model built from a Liberty (.lib) file: what timing, constant propagation,
// simulation and energy need, in halo's units (ns, pF, V, fJ, nW), whatever units the file used.
// The reader (liberty_reader.hpp) is the only producer; everything else reads this.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "halo/liberty/cell_function.hpp"

namespace halo::liberty {

// Which physical quantity a table index stands for (Liberty lu_table_template variable_N).
enum class TableVariable : std::uint8_t {
    none,
    input_transition_ns,       // input_net_transition
    output_capacitance_pf,     // total_output_net_capacitance
    constrained_transition_ns, // setup/hold tables; read but unused by halo
    related_transition_ns,
};

// A 0-, 1- or 2-dimensional NLDM table in halo units. values are row-major: index_1 outer.
// lookup() interpolates bilinearly inside the grid and extrapolates linearly outside it, as
// OpenSTA's table model does.
struct LookupTable {
    TableVariable variable_1 = TableVariable::none;
    TableVariable variable_2 = TableVariable::none;
    std::vector<double> index_1;
    std::vector<double> index_2;
    std::vector<double> values;

    // Looks up by quantity, whatever order the template put its variables in.
    double lookup(double input_transition_ns, double output_capacitance_pf) const;
    // Lookup by axis value (axis 1, axis 2), the template's own order.
    double lookup_axes(double x1, double x2) const;
    std::size_t dimensions() const { return index_2.empty() ? (index_1.empty() ? 0 : 1) : 2; }
};

enum class TimingSense : std::uint8_t { positive_unate, negative_unate, non_unate };

enum class TimingType : std::uint8_t {
    combinational,
    rising_edge,
    falling_edge,
    setup_rising,
    setup_falling,
    hold_rising,
    hold_falling,
    preset,
    clear,
    three_state_enable,
    three_state_disable,
    other,
};

// One timing group of an output pin: from related_pin to this pin.
struct TimingArc {
    std::string related_pin;
    TimingSense sense = TimingSense::non_unate;
    TimingType type = TimingType::combinational;
    std::optional<LookupTable> cell_rise_ns;        // delay when the output rises
    std::optional<LookupTable> cell_fall_ns;        // delay when the output falls
    std::optional<LookupTable> rise_transition_ns;  // output slew when it rises
    std::optional<LookupTable> fall_transition_ns;  // output slew when it falls
};

// One internal_power group of an output pin. Energy per output transition in fJ (the Liberty
// tables' unit is energy: internal power unit x time unit, converted here).
struct InternalPower {
    std::string related_pin;  // "" when the group names none
    std::optional<LookupTable> rise_energy_fj;
    std::optional<LookupTable> fall_energy_fj;
};

enum class PinDirection : std::uint8_t { input, output, inout, internal };

struct Pin {
    std::string name;
    PinDirection direction = PinDirection::input;
    double capacitance_pf = 0;       // input pin load
    double rise_capacitance_pf = 0;  // = capacitance_pf when the file gives none
    double fall_capacitance_pf = 0;
    std::string function;            // Liberty boolean function of an output pin, "" otherwise
    std::string three_state;         // Liberty three_state condition ("" when none): output is Z when true
    std::vector<TimingArc> timing;
    std::vector<InternalPower> internal_power;
    std::uint32_t line = 0;          // where the pin group starts in the file (for diagnostics)
};

struct Cell {
    std::string name;
    double area = 0;                  // in the library's area unit (um^2 for OSU)
    double leakage_power_nw = 0;      // cell_leakage_power in nW
    bool is_sequential = false;       // has ff/latch/statetable: not a combinational gate
    std::vector<Pin> pins;
    std::uint32_t line = 0;
    // Compiled output functions, index = pin index; built by the reader for every output whose
    // function names only pins (flip-flop/latch outputs naming internal state stay empty).
    CellLogic logic;

    const Pin* find_pin(std::string_view pin_name) const;
    int pin_index(std::string_view pin_name) const;  // -1 when absent
};

struct Library {
    std::string name;
    std::string source_path;
    // Scale factors from the file's units to halo's (already applied to every number below).
    double time_unit_ns = 1;
    double capacitance_unit_pf = 1;
    double voltage_unit_v = 1;
    double leakage_unit_nw = 1;
    double current_unit_ua = 1;               // current_unit (1 when the file gives none)
    double pulling_resistance_unit_kohm = 1;  // pulling_resistance_unit
    // Scale from the file's internal_power table unit to fJ. Liberty tables hold energy per
    // transition in capacitive_load_unit x voltage_unit^2 (OSU: 1 pF x (1 V)^2 = 1 pJ = 1000 fJ).
    double energy_unit_fj = 1000;
    double nominal_process = 1;
    std::string operating_conditions;         // default_operating_conditions name ("" if none)
    double nominal_voltage_v = 0;
    double nominal_temperature_c = 0;
    // Slew and delay measurement thresholds, in percent of the swing.
    double slew_lower_threshold_pct_rise = 20, slew_upper_threshold_pct_rise = 80;
    double slew_lower_threshold_pct_fall = 20, slew_upper_threshold_pct_fall = 80;
    double input_threshold_pct_rise = 50, input_threshold_pct_fall = 50;
    double output_threshold_pct_rise = 50, output_threshold_pct_fall = 50;
    double slew_derate_from_library = 1;
    double default_max_transition_ns = 0;
    std::vector<Cell> cells;

    const Cell* find_cell(std::string_view cell_name) const;

private:
    friend class LibraryBuilder;
    std::unordered_map<std::string, std::size_t> cell_index_;
public:
    void index_cells();  // rebuilds the name index; the reader calls it once
};

}  // namespace halo::liberty
