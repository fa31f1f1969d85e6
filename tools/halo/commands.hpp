// One factory per subcommand (defined in cmd_<name>.cpp).
#pragma once

#include "command.hpp"

namespace halo::cli {

Command version_command();
Command gpu_bench_command();
Command simulate_command();
Command characterize_command();
Command liberty_info_command();
Command quantize_command();
Command eval_command();
Command run_command();
Command amove_hw_command();
Command export_command();
Command synth_command();

}  // namespace halo::cli
