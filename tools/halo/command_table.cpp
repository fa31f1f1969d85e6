#include "command.hpp"
#include "commands.hpp"

namespace halo::cli {

const std::vector<Command>& command_table() {
    // Explicit, ordered as the data flows: characterize -> quantize -> eval / simulate / gpu-bench -> run.
    static const std::vector<Command> table = {
        characterize_command(),
        quantize_command(),
        eval_command(),
        export_command(),
        synth_command(),
        simulate_command(),
        gpu_bench_command(),
        run_command(),
        amove_hw_command(),
        liberty_info_command(),
        version_command(),
    };
    return table;
}

}  // namespace halo::cli
