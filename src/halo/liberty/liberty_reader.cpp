#include "halo/liberty/liberty_reader.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <fstream>
#include <map>
#include <sstream>

#include <fmt/format.h>

#include "halo/liberty/liberty_syntax.hpp"
#include "halo/liberty/liberty_units.hpp"
#include "halo/util/atomic_file.hpp"
#include "halo/util/diagnostics.hpp"

namespace halo::liberty {

namespace {

// A table template's axes, already in halo units.
struct Template {
    TableVariable variable_1 = TableVariable::none;
    TableVariable variable_2 = TableVariable::none;
    std::vector<double> index_1, index_2;
};

struct VariableRow {
    const char* name;
    TableVariable variable;
    bool is_capacitance;
};
constexpr VariableRow kVariables[] = {
    {"input_net_transition", TableVariable::input_transition_ns, false},
    {"input_transition_time", TableVariable::input_transition_ns, false},
    {"total_output_net_capacitance", TableVariable::output_capacitance_pf, true},
    {"constrained_pin_transition", TableVariable::constrained_transition_ns, false},
    {"related_pin_transition", TableVariable::related_transition_ns, false},
};

struct TimingTypeRow {
    const char* name;
    TimingType type;
};
constexpr TimingTypeRow kTimingTypes[] = {
    {"combinational", TimingType::combinational},         {"combinational_rise", TimingType::combinational},
    {"combinational_fall", TimingType::combinational},    {"rising_edge", TimingType::rising_edge},
    {"falling_edge", TimingType::falling_edge},           {"setup_rising", TimingType::setup_rising},
    {"setup_falling", TimingType::setup_falling},         {"hold_rising", TimingType::hold_rising},
    {"hold_falling", TimingType::hold_falling},           {"preset", TimingType::preset},
    {"clear", TimingType::clear},                         {"three_state_enable", TimingType::three_state_enable},
    {"three_state_disable", TimingType::three_state_disable},
};

struct SenseRow {
    const char* name;
    TimingSense sense;
};
constexpr SenseRow kSenses[] = {{"positive_unate", TimingSense::positive_unate},
                                {"negative_unate", TimingSense::negative_unate},
                                {"non_unate", TimingSense::non_unate}};

struct DirectionRow {
    const char* name;
    PinDirection direction;
};
constexpr DirectionRow kDirections[] = {{"input", PinDirection::input},
                                        {"output", PinDirection::output},
                                        {"inout", PinDirection::inout},
                                        {"internal", PinDirection::internal}};

// Delay-like tables of a timing group.
struct TimingTableRow {
    const char* name;
    std::optional<LookupTable> TimingArc::*member;
};
constexpr TimingTableRow kTimingTables[] = {{"cell_rise", &TimingArc::cell_rise_ns},
                                            {"cell_fall", &TimingArc::cell_fall_ns},
                                            {"rise_transition", &TimingArc::rise_transition_ns},
                                            {"fall_transition", &TimingArc::fall_transition_ns}};

// Library-level percentages.
struct ThresholdRow {
    const char* name;
    double Library::*member;
};
constexpr ThresholdRow kThresholds[] = {
    {"slew_lower_threshold_pct_rise", &Library::slew_lower_threshold_pct_rise},
    {"slew_upper_threshold_pct_rise", &Library::slew_upper_threshold_pct_rise},
    {"slew_lower_threshold_pct_fall", &Library::slew_lower_threshold_pct_fall},
    {"slew_upper_threshold_pct_fall", &Library::slew_upper_threshold_pct_fall},
    {"input_threshold_pct_rise", &Library::input_threshold_pct_rise},
    {"input_threshold_pct_fall", &Library::input_threshold_pct_fall},
    {"output_threshold_pct_rise", &Library::output_threshold_pct_rise},
    {"output_threshold_pct_fall", &Library::output_threshold_pct_fall},
    {"slew_derate_from_library", &Library::slew_derate_from_library},
    {"nom_temperature", &Library::nominal_temperature_c},
    {"nom_process", &Library::nominal_process},
};

// Groups whose presence makes a cell sequential.
constexpr const char* kSequentialGroups[] = {"ff", "latch", "statetable", "ff_bank", "latch_bank"};

template <typename Row, std::size_t N>
const Row* find_row(const Row (&rows)[N], std::string_view name) {
    for (const auto& r : rows)
        if (name == r.name) return &r;
    return nullptr;
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\n' || s.front() == '\r')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\n' || s.back() == '\r')) s.remove_suffix(1);
    return s;
}

class Reader {
public:
    explicit Reader(std::string file) : file_(std::move(file)) {}

    Library read(const SyntaxGroup& root) {
        if (root.type != "library")
            throw_bad_input("E1102", file_, root.line, "the top-level group is not a library", "library (name) { ... }",
                            root.type);
        lib_.source_path = file_;
        lib_.name = root.args.empty() ? std::string() : root.args[0].text;
        read_units(root);
        read_library_attributes(root);
        for (const auto& g : root.groups) {
            if (g.type == "lu_table_template") read_template(g, delay_templates_);
            else if (g.type == "power_lut_template") read_template(g, power_templates_);
        }
        read_operating_conditions(root);
        for (const auto& g : root.groups)
            if (g.type == "cell") read_cell(g);
        lib_.index_cells();
        return std::move(lib_);
    }

private:
    [[noreturn]] void fail(const char* code, std::uint32_t line, const std::string& message,
                           const std::string& expected = {}, const std::string& found = {},
                           const std::string& hint = {}) {
        throw_bad_input(code, file_, line, message, expected, found, hint);
    }

    double number(std::string_view text, std::uint32_t line, std::string_view what) {
        std::string_view t = trim(text);
        if (!t.empty() && t.front() == '+') t.remove_prefix(1);
        double v = 0;
        auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
        if (t.empty() || ec != std::errc() || p != t.data() + t.size() || !std::isfinite(v))
            fail("E1201", line, fmt::format("{} is not a number", what), "a number",
                 fmt::format("\"{}\"", std::string(text.substr(0, 40))));
        return v;
    }

    double number_attr(const SyntaxAttribute& a) {
        if (a.values.size() != 1)
            fail("E1201", a.line, fmt::format("{} takes one value", a.name), "1 value",
                 fmt::format("{} values", a.values.size()));
        return number(a.values[0].text, a.line, a.name);
    }

    // A capacitance, area or leakage: physically never negative (E1208).
    double non_negative_attr(const SyntaxAttribute& a, const std::string& owner) {
        const double v = number_attr(a);
        if (v < 0) fail("E1208", a.line, fmt::format("{} {} is negative", owner, a.name), "a value >= 0", a.values[0].text);
        return v;
    }

    // "0.1, 0.2 0.3" -> numbers (commas and/or blanks separate them).
    std::vector<double> number_list(std::string_view text, std::uint32_t line, std::string_view what) {
        std::vector<double> out;
        std::size_t i = 0;
        while (i < text.size()) {
            while (i < text.size() && (text[i] == ',' || text[i] == ' ' || text[i] == '\t' || text[i] == '\n' || text[i] == '\r')) ++i;
            std::size_t start = i;
            while (i < text.size() && text[i] != ',' && text[i] != ' ' && text[i] != '\t' && text[i] != '\n' && text[i] != '\r') ++i;
            if (i > start) out.push_back(number(text.substr(start, i - start), line, what));
        }
        return out;
    }

    std::vector<double> index_values(const SyntaxAttribute& a, double scale) {
        std::vector<double> out;
        for (const auto& v : a.values)
            for (double x : number_list(v.text, a.line, a.name)) out.push_back(x * scale);
        for (std::size_t i = 1; i < out.size(); ++i)
            if (!(out[i] > out[i - 1]))
                fail("E1204", a.line, fmt::format("{} is not strictly increasing", a.name), "increasing values",
                     fmt::format("{} after {}", out[i], out[i - 1]));
        if (out.empty()) fail("E1204", a.line, fmt::format("{} is empty", a.name), "at least one value", "none");
        // Indices are transitions and loads: a negative one is physically impossible.
        if (out.front() < 0)
            fail("E1209", a.line, fmt::format("{} has a negative value", a.name), "values >= 0", fmt::format("{}", out.front()));
        return out;
    }

    void read_units(const SyntaxGroup& root) {
        struct UnitAttr {
            const char* name;
            UnitKind kind;
            double Library::*member;
        };
        static constexpr UnitAttr kUnitAttrs[] = {
            {"time_unit", UnitKind::time, &Library::time_unit_ns},
            {"voltage_unit", UnitKind::voltage, &Library::voltage_unit_v},
            {"leakage_power_unit", UnitKind::power, &Library::leakage_unit_nw},
            {"current_unit", UnitKind::current, &Library::current_unit_ua},
            {"pulling_resistance_unit", UnitKind::resistance, &Library::pulling_resistance_unit_kohm},
        };
        for (const auto& a : root.attributes) {
            for (const auto& u : kUnitAttrs) {
                if (a.name != u.name) continue;
                if (a.values.size() != 1) fail("E1150", a.line, fmt::format("{} takes one value", a.name));
                auto scale = parse_unit(a.values[0].text, u.kind);
                if (!scale)
                    fail("E1150", a.line, fmt::format("{} \"{}\" is not a known unit", a.name, a.values[0].text),
                         unit_examples(u.kind), a.values[0].text);
                lib_.*(u.member) = *scale;
            }
            if (a.name == "capacitive_load_unit") {
                // capacitive_load_unit (1, pf)
                if (a.values.size() != 2)
                    fail("E1151", a.line, "capacitive_load_unit takes a number and a unit", "(1,pf)",
                         fmt::format("{} values", a.values.size()));
                double n = number(a.values[0].text, a.line, "capacitive_load_unit scale");
                auto scale = parse_unit("1" + a.values[1].text, UnitKind::capacitance);
                if (!scale)
                    fail("E1151", a.line, "capacitive_load_unit unit is not known", unit_examples(UnitKind::capacitance),
                         a.values[1].text);
                lib_.capacitance_unit_pf = n * *scale;
            }
        }
        // Liberty internal_power tables hold energy in capacitive_load_unit x voltage_unit^2
        // (pF x V^2 = pJ = 1000 fJ).
        lib_.energy_unit_fj = lib_.capacitance_unit_pf * lib_.voltage_unit_v * lib_.voltage_unit_v * 1000.0;
    }

    void read_library_attributes(const SyntaxGroup& root) {
        for (const auto& a : root.attributes) {
            if (const auto* t = find_row(kThresholds, a.name)) lib_.*(t->member) = number_attr(a);
            else if (a.name == "nom_voltage") lib_.nominal_voltage_v = number_attr(a) * lib_.voltage_unit_v;
            else if (a.name == "default_max_transition") lib_.default_max_transition_ns = number_attr(a) * lib_.time_unit_ns;
            else if (a.name == "default_operating_conditions" && !a.values.empty()) lib_.operating_conditions = a.values[0].text;
        }
    }

    // nom_voltage / nom_temperature / nom_process are what the library was characterized at;
    // an operating_conditions group (the default one, else the first) stands in only for the
    // nominal values the file leaves out.
    void read_operating_conditions(const SyntaxGroup& root) {
        const SyntaxGroup* chosen = nullptr;
        for (const auto& g : root.groups) {
            if (g.type != "operating_conditions") continue;
            bool is_default = !g.args.empty() && g.args[0].text == lib_.operating_conditions;
            if (!chosen || is_default) chosen = &g;
            if (is_default) break;
        }
        if (!chosen) return;
        struct Fill {
            const char* group_attr;
            const char* nominal_attr;
            double Library::*member;
            double scale;
        };
        const Fill fills[] = {{"voltage", "nom_voltage", &Library::nominal_voltage_v, lib_.voltage_unit_v},
                              {"temperature", "nom_temperature", &Library::nominal_temperature_c, 1.0},
                              {"process", "nom_process", &Library::nominal_process, 1.0}};
        for (const auto& f : fills) {
            if (root.find_attribute(f.nominal_attr)) continue;
            if (const auto* a = chosen->find_attribute(f.group_attr)) lib_.*(f.member) = number_attr(*a) * f.scale;
        }
    }

    std::pair<TableVariable, double> variable(const SyntaxAttribute& a) {
        std::string_view name = a.values.empty() ? std::string_view() : std::string_view(a.values[0].text);
        const auto* row = find_row(kVariables, name);
        if (!row) return {TableVariable::none, 1.0};  // e.g. noise or CCS axes halo never looks up
        return {row->variable, row->is_capacitance ? lib_.capacitance_unit_pf : lib_.time_unit_ns};
    }

    void read_template(const SyntaxGroup& g, std::map<std::string, Template>& into) {
        if (g.args.empty()) fail("E1203", g.line, fmt::format("{} has no name", g.type));
        Template t;
        double scale_1 = 1, scale_2 = 1;
        if (const auto* a = g.find_attribute("variable_1")) std::tie(t.variable_1, scale_1) = variable(*a);
        if (const auto* a = g.find_attribute("variable_2")) std::tie(t.variable_2, scale_2) = variable(*a);
        if (const auto* a = g.find_attribute("variable_3"); a && g.find_attribute("index_3"))
            (void)a;  // 3-D templates (CCS) are accepted but tables that use them are rejected
        if (const auto* a = g.find_attribute("index_1")) t.index_1 = index_values(*a, scale_1);
        if (const auto* a = g.find_attribute("index_2")) t.index_2 = index_values(*a, scale_2);
        into[g.args[0].text] = std::move(t);
    }

    // A table group such as cell_rise(template) { index_1(...); values(...); }.
    LookupTable read_table(const SyntaxGroup& g, const std::map<std::string, Template>& templates,
                           const std::map<std::string, Template>& fallback, double value_scale) {
        std::string name = g.args.empty() ? std::string("scalar") : g.args[0].text;
        LookupTable table;
        double scale_1 = 1, scale_2 = 1;
        if (name != "scalar") {
            auto it = templates.find(name);
            if (it == templates.end()) {
                it = fallback.find(name);
                if (it == fallback.end())
                    fail("E1203", g.line, fmt::format("{} uses template \"{}\", which the library does not define", g.type, name),
                         "a lu_table_template or power_lut_template name", name);
            }
            const Template& t = it->second;
            table.variable_1 = t.variable_1;
            table.variable_2 = t.variable_2;
            table.index_1 = t.index_1;
            table.index_2 = t.index_2;
            auto scale_of = [&](TableVariable v) {
                return v == TableVariable::output_capacitance_pf ? lib_.capacitance_unit_pf
                       : v == TableVariable::none                ? 1.0
                                                                 : lib_.time_unit_ns;
            };
            scale_1 = scale_of(t.variable_1);
            scale_2 = scale_of(t.variable_2);
        }
        if (const auto* a = g.find_attribute("index_1")) table.index_1 = index_values(*a, scale_1);
        if (const auto* a = g.find_attribute("index_2")) table.index_2 = index_values(*a, scale_2);
        if (g.find_attribute("index_3"))
            fail("E1206", g.find_attribute("index_3")->line, "3-dimensional tables are not supported",
                 "1- or 2-dimensional NLDM tables", "index_3");
        if (!table.index_2.empty() && table.index_1.empty())
            fail("E1202", g.line, fmt::format("{} has index_2 but no index_1", g.type));
        const auto* values = g.find_attribute("values");
        if (!values) fail("E1202", g.line, fmt::format("{} has no values", g.type), "values ( ... )", "none");
        std::size_t n1 = table.index_1.size(), n2 = table.index_2.size();
        std::size_t rows = 0;
        for (const auto& v : values->values) {
            auto row = number_list(v.text, values->line, "table value");
            if (n2 > 0 && values->values.size() > 1 && row.size() != n2)
                fail("E1202", values->line, fmt::format("{} row {} has {} values but index_2 has {}", g.type, rows + 1, row.size(), n2),
                     fmt::format("{} values", n2), fmt::format("{} values", row.size()));
            for (double x : row) table.values.push_back(x * value_scale);
            ++rows;
        }
        std::size_t expected = n1 == 0 ? 1 : (n2 == 0 ? n1 : n1 * n2);
        if (table.values.size() != expected)
            fail("E1202", values->line,
                 fmt::format("{} has {} values but its indices call for {} ({} x {})", g.type, table.values.size(), expected,
                             std::max<std::size_t>(n1, 1), std::max<std::size_t>(n2, 1)),
                 fmt::format("{} values", expected), fmt::format("{} values", table.values.size()),
                 "check index_1/index_2 against the values' rows and columns");
        if (n2 > 0 && values->values.size() > 1 && rows != n1)
            fail("E1202", values->line, fmt::format("{} has {} rows but index_1 has {}", g.type, rows, n1),
                 fmt::format("{} rows", n1), fmt::format("{} rows", rows));
        return table;
    }

    static std::vector<std::string> split_names(std::string_view text) {
        std::vector<std::string> out;
        std::istringstream in{std::string(text)};
        std::string w;
        while (in >> w) out.push_back(w);
        return out;
    }

    std::vector<std::string> related_pins(const SyntaxGroup& g) {
        const auto* a = g.find_attribute("related_pin");
        if (!a || a->values.empty()) return {""};
        auto names = split_names(a->values[0].text);
        if (names.empty()) return {""};
        return names;
    }

    void read_timing(const SyntaxGroup& g, Pin& pin) {
        TimingArc arc;
        if (const auto* a = g.find_attribute("timing_sense"); a && !a->values.empty()) {
            const auto* row = find_row(kSenses, a->values[0].text);
            if (!row)
                fail("E1207", a->line, "unknown timing_sense", "positive_unate, negative_unate or non_unate",
                     a->values[0].text);
            arc.sense = row->sense;
        }
        if (const auto* a = g.find_attribute("timing_type"); a && !a->values.empty()) {
            const auto* row = find_row(kTimingTypes, a->values[0].text);
            arc.type = row ? row->type : TimingType::other;
        }
        for (const auto& t : g.groups)
            if (const auto* row = find_row(kTimingTables, t.type)) {
                arc.*(row->member) = read_table(t, delay_templates_, power_templates_, lib_.time_unit_ns);
                check_delay_table(*(arc.*(row->member)), t);
            }
        for (auto& name : related_pins(g)) {
            TimingArc copy = arc;
            copy.related_pin = name;
            pin.timing.push_back(std::move(copy));
        }
    }

    // Output transitions are never negative. A 50%-to-50% cell delay can be (osu018 has -0.19 ns
    // at a slow input slew), but never by more than the input transition itself: beyond that the
    // output would settle before the input began to move.
    void check_delay_table(const LookupTable& t, const SyntaxGroup& g) {
        const bool is_transition = g.type.find("transition") != std::string::npos;
        double slowest_input_ns = 0;
        if (t.variable_1 == TableVariable::input_transition_ns && !t.index_1.empty()) slowest_input_ns = t.index_1.back();
        if (t.variable_2 == TableVariable::input_transition_ns && !t.index_2.empty()) slowest_input_ns = t.index_2.back();
        const double floor_ns = is_transition ? 0.0 : -slowest_input_ns;
        for (std::size_t i = 0; i < t.values.size(); ++i)
            if (t.values[i] < floor_ns) {
                const auto* values = g.find_attribute("values");
                fail("E1210", values ? values->line : g.line, fmt::format("{} value {} is physically impossible", g.type, i + 1),
                     is_transition ? std::string("a transition >= 0 ns")
                                   : fmt::format("a delay >= -{} ns (minus the slowest input transition)", slowest_input_ns),
                     fmt::format("{} ns", t.values[i]), "check the table's sign and the library's time_unit");
            }
    }

    static std::string pin_names(const SyntaxGroup& g) {
        std::string out;
        for (const auto& a : g.args) out += (out.empty() ? "" : ",") + a.text;
        return out;
    }

    void read_internal_power(const SyntaxGroup& g, Pin& pin) {
        InternalPower p;
        for (const auto& t : g.groups) {
            if (t.type == "rise_power")
                p.rise_energy_fj = read_table(t, power_templates_, delay_templates_, lib_.energy_unit_fj);
            else if (t.type == "fall_power")
                p.fall_energy_fj = read_table(t, power_templates_, delay_templates_, lib_.energy_unit_fj);
            else if (t.type == "power")
                p.rise_energy_fj = p.fall_energy_fj = read_table(t, power_templates_, delay_templates_, lib_.energy_unit_fj);
        }
        for (auto& name : related_pins(g)) {
            InternalPower copy = p;
            copy.related_pin = name;
            pin.internal_power.push_back(std::move(copy));
        }
    }

    void read_pin(const SyntaxGroup& g, Cell& cell) {
        if (g.args.empty() || g.args[0].text.empty()) fail("E1401", g.line, fmt::format("{} has no name", g.type));
        Pin pin;
        pin.line = g.line;
        bool has_rise = false, has_fall = false;
        for (const auto& a : g.attributes) {
            if (a.name == "direction") {
                const auto* row = a.values.empty() ? nullptr : find_row(kDirections, a.values[0].text);
                if (!row)
                    fail("E1402", a.line, "unknown pin direction", "input, output, inout or internal",
                         a.values.empty() ? std::string() : a.values[0].text);
                pin.direction = row->direction;
            } else if (a.name == "capacitance") {
                pin.capacitance_pf = non_negative_attr(a, "pin " + pin_names(g)) * lib_.capacitance_unit_pf;
            } else if (a.name == "rise_capacitance") {
                pin.rise_capacitance_pf = non_negative_attr(a, "pin " + pin_names(g)) * lib_.capacitance_unit_pf;
                has_rise = true;
            } else if (a.name == "fall_capacitance") {
                pin.fall_capacitance_pf = non_negative_attr(a, "pin " + pin_names(g)) * lib_.capacitance_unit_pf;
                has_fall = true;
            } else if (a.name == "function" && !a.values.empty()) {
                pin.function = a.values[0].text;
            } else if (a.name == "three_state" && !a.values.empty()) {
                pin.three_state = a.values[0].text;
            }
        }
        if (!has_rise) pin.rise_capacitance_pf = pin.capacitance_pf;
        if (!has_fall) pin.fall_capacitance_pf = pin.capacitance_pf;
        for (const auto& t : g.groups) {
            if (t.type == "timing") read_timing(t, pin);
            else if (t.type == "internal_power") read_internal_power(t, pin);
        }
        // pin (A, B) { ... } declares several pins with the same body.
        for (const auto& name : g.args) {
            if (name.text.empty()) continue;
            if (cell.pin_index(name.text) >= 0)
                fail("E1403", g.line, fmt::format("cell {} declares pin {} twice", cell.name, name.text));
            Pin copy = pin;
            copy.name = name.text;
            cell.pins.push_back(std::move(copy));
        }
    }

    void read_cell(const SyntaxGroup& g) {
        if (g.args.empty() || g.args[0].text.empty()) fail("E1401", g.line, "cell has no name");
        Cell cell;
        cell.name = g.args[0].text;
        cell.line = g.line;
        for (const auto& a : g.attributes) {
            if (a.name == "area") cell.area = non_negative_attr(a, "cell " + cell.name);
            else if (a.name == "cell_leakage_power") cell.leakage_power_nw = non_negative_attr(a, "cell " + cell.name) * lib_.leakage_unit_nw;
        }
        for (const auto& sub : g.groups) {
            if (sub.type == "pin") {
                read_pin(sub, cell);
            } else if (sub.type == "bus" || sub.type == "bundle") {
                // Bus/bundle members are declared as pin groups inside; halo treats them as pins.
                for (const auto& p : sub.groups)
                    if (p.type == "pin") read_pin(p, cell);
            } else {
                for (const char* s : kSequentialGroups)
                    if (sub.type == s) cell.is_sequential = true;
            }
        }
        if (lib_.find_cell(cell.name) != nullptr || seen_cells_.count(cell.name))
            fail("E1404", g.line, fmt::format("cell {} is defined twice", cell.name));
        seen_cells_[cell.name] = true;
        check_related_pins(cell, g);
        compile_functions(cell);
        lib_.cells.push_back(std::move(cell));
    }

    // Every arc must start at a pin of its cell (or at a bus/bundle name, whose members are pins).
    void check_related_pins(const Cell& cell, const SyntaxGroup& g) {
        std::vector<std::string> groups;
        for (const auto& sub : g.groups)
            if ((sub.type == "bus" || sub.type == "bundle") && !sub.args.empty()) groups.push_back(sub.args[0].text);
        auto known = [&](const std::string& name) {
            return name.empty() || cell.pin_index(name) >= 0 || std::find(groups.begin(), groups.end(), name) != groups.end();
        };
        for (const auto& pin : cell.pins) {
            for (const auto& arc : pin.timing)
                if (!known(arc.related_pin))
                    fail("E1405", pin.line, fmt::format("cell {} pin {}: timing related_pin {} is not a pin of the cell", cell.name, pin.name, arc.related_pin),
                         "a pin of " + cell.name, arc.related_pin);
            for (const auto& p : pin.internal_power)
                if (!known(p.related_pin))
                    fail("E1405", pin.line, fmt::format("cell {} pin {}: internal_power related_pin {} is not a pin of the cell", cell.name, pin.name, p.related_pin),
                         "a pin of " + cell.name, p.related_pin);
        }
    }

    // A combinational output whose function reads its own pin is a loop, not a gate; one whose
    // function reads inputs but has no timing arc would give every path through it 0 ns.
    void check_function_physics(const Cell& cell, const Pin& p) {
        if (cell.is_sequential) return;
        const auto words = function_identifiers(p.function);
        if (std::find(words.begin(), words.end(), p.name) != words.end())
            fail("E1409", p.line, fmt::format("cell {} pin {}: function reads its own output", cell.name, p.name),
                 "a function of the input pins", p.function, "a combinational cell cannot feed back into itself");
        if (!words.empty() && p.timing.empty())
            fail("E1410", p.line, fmt::format("cell {} pin {} has a function but no timing arcs", cell.name, p.name),
                 "a timing () group per input it depends on", fmt::format("function \"{}\" and no timing", p.function),
                 "every delay through this cell would be 0 ns");
    }

    // The pin names a Liberty function mentions ("!(A B + C)" -> A, B, C); constants 0/1 are not names.
    static std::vector<std::string> function_identifiers(std::string_view f) {
        std::vector<std::string> out;
        std::string cur;
        const auto flush = [&] {
            if (!cur.empty() && cur != "0" && cur != "1") out.push_back(cur);
            cur.clear();
        };
        for (char c : f) {
            if (std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '[' || c == ']' || c == '.') cur.push_back(c);
            else flush();
        }
        flush();
        return out;
    }

    void compile_functions(Cell& cell) {
        std::vector<std::string> names;
        for (const auto& p : cell.pins) names.push_back(p.name);
        cell.logic.functions.resize(cell.pins.size());
        for (std::size_t i = 0; i < cell.pins.size(); ++i) {
            const Pin& p = cell.pins[i];
            if (p.function.empty() || p.direction == PinDirection::input) continue;
            try {
                cell.logic.functions[i] = CellFunction::compile(p.function, names, cell.name + "/" + p.name);
                check_function_physics(cell, p);  // after compile: a name that is no pin is E1302 first
            } catch (const Error& e) {
                // Sequential outputs name internal state (IQ, DS0000): not a pin function.
                if (cell.is_sequential && e.diagnostic().code == "E1302") continue;
                Diagnostic d = e.diagnostic();
                d.file = file_;
                d.line = p.line;
                throw Error(std::move(d));
            }
        }
    }

    std::string file_;
    Library lib_;
    std::map<std::string, Template> delay_templates_, power_templates_;
    std::map<std::string, bool> seen_cells_;
};

}  // namespace

Library read_liberty_string(std::string_view text, const std::string& source_name) {
    SyntaxGroup root = parse_liberty_syntax(text, source_name);
    return Reader(source_name).read(root);
}

Library read_liberty(const std::filesystem::path& path) {
    std::error_code exists_error;  // not an open: opening a FIFO would block
    if (!std::filesystem::exists(path, exists_error))
        throw_bad_input("E1101", path.string(), 0, "cannot open the Liberty file", "a readable .lib file", "",
                        "check the path");
    // read_file: only a regular file (not a directory, FIFO or /dev/zero), and recorded as an input
    // so that no output of this run can replace it (atomic_file.hpp).
    return read_liberty_string(read_file(path), path.string());
}

}  // namespace halo::liberty
