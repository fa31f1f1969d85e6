// Whether GPU 0 opens here: the GPU tests skip where it does not (CI, the dev machine) and run on
// the lent machine.
#pragma once

#include "halo/cuda/cuda_model.hpp"
#include "halo/util/diagnostics.hpp"

namespace halo::cuda::test {

inline bool have_gpu() {
    try {
        open_device(0);
        return true;
    } catch (const Error&) {
        return false;
    }
}

}  // namespace halo::cuda::test
