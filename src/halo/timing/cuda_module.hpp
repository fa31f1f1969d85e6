// The optional CUDA module, libhalo_cuda.so: the CUDA runtime, cuBLASLt and halo's kernels live
// there, not in halo itself, and are loaded (dlopen) only by a command that uses the GPU, so
// every other command starts without them. Looked for in order: $HALO_CUDA_MODULE (a file),
// next to the running executable, and the build tree's bin/ directory.
#pragma once

#include <string>

namespace halo::timing {

// The address of `symbol` in the module, or nullptr with the reason in `why` (module not built,
// not found, or not loadable: e.g. no CUDA driver on this machine). Loads the module once.
void* cuda_module_symbol(const char* symbol, std::string* why);

}  // namespace halo::timing
