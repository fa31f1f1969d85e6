#include "command.hpp"
#include "commands.hpp"

namespace halo::cli {

const std::vector<Command>& command_table() {
    // Explicit, ordered as the data flows: characterize -> quantize -> eval / simulate / gpu-bench -> run.
    static const std::vector<Command> table = {
        version_command(),
        gpu_bench_command(),
        simulate_command(),
        characterize_command(),
        liberty_info_command(),
        quantize_command(),
        eval_command(),
        amove_hw_command(),
    };
    return table;
}

}  // namespace halo::cli
