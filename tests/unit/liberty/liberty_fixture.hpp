// Small Liberty texts built in code, shared by the broken-input and physics tests: a
// well-formed library with one cell X (input pin A) whose remaining body is given, so each test
// names only what it breaks and the line numbers below stay fixed.
#pragma once

#include <string>

// `cell_body` goes inside cell (X) starting on line 8; a 2-D template t2 indexed by load (pF,
// index_1 = 1, 2) and input transition (ns, index_2 = 1, 2, 3) is on lines 2-5.
inline std::string lib_with(const std::string& cell_body) {
    return "library (b) {\n"                                  // 1
           "  lu_table_template (t2) {\n"                     // 2
           "    variable_1 : total_output_net_capacitance;\n"  // 3
           "    variable_2 : input_net_transition;\n"         // 4
           "    index_1 (\"1, 2\"); index_2 (\"1, 2, 3\"); }\n"  // 5
           "  cell (X) {\n"                                   // 6
           "    pin (A) { direction : input; capacitance : 1; }\n"  // 7
           + cell_body +                                      // 8...
           "  }\n"
           "}\n";
}

// An output pin Y computing `function` of A, with one timing arc from A whose `tables` start
// on line 10 (when placed as lib_with's cell body).
inline std::string output_with(const std::string& function, const std::string& tables) {
    return "    pin (Y) { direction : output; function : \"" + function + "\";\n"  // 8
           "      timing () { related_pin : \"A\";\n"                             // 9
           + tables +                                                             // 10
           "      } }\n";
}
