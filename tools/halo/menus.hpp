// The names a menu flag accepts, read from the library's tables (never typed here), for help
// text and for require_member()'s error list.
#pragma once

#include <string>
#include <vector>

namespace halo::cli {

std::vector<std::string> design_names();          // accel::amove_designs(), names and aliases
std::vector<std::string> builtin_model_names();   // accel::builtin_model_names()
std::vector<std::string> dataflow_names();        // accel::dataflow_table()
std::vector<std::string> gpu_model_names();       // accel::gpu_table()
std::vector<std::string> gpu_path_names();        // accel::gpu_path_table()
std::vector<std::string> simulate_arch_names();   // accel::design_arches() and the GPU roofline
std::vector<std::string> mac_names();             // mac::mac_table()
std::vector<std::string> mac_arch_names();        // mac::mac_arch_table()
std::vector<std::string> weight_format_names();   // mac::weight_format_table()
std::vector<std::string> perplexity_method_names();  // model::PerplexityMethod
std::string sparse_grid_help();                    // hwq::sparse_grids(): --sparse-grid of run and quantize
std::string calib_int8_inputs_help();              // --calib-int8-inputs of run and quantize

}  // namespace halo::cli
