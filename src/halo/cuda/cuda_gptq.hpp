// GPTQ with its dense algebra on the GPU: quant::gptq_with, the CPU's own algorithm and column order
// (dead inputs, act_order permutation and static groups, dampening,
// per-block column loop, lazy updates), with the inverse Hessian factor (cuSOLVER) and the
// lazy block update W[:, i2:] -= Err U[i1:i2, i2:] (cuBLAS) on the device. The per-column
// rounding stays on the host, through the same ColumnRounder, so every number format GPTQ
// takes works here and the codes agree with the CPU's except where the two libraries' float
// sums round a weight across a decision boundary (tests: >= 99.9 % equal).
// Before each block, its columns (and those of a group fitted there) are copied back from the
// device: the host holds W [rows x cols] and U, the device W, U and one error block.
#pragma once

#include "halo/cuda/cuda_backend_api.hpp"
#include "halo/quant/gptq.hpp"

namespace halo::cuda {

quant::GptqResult gptq_on_device(GptqEngine& engine, model::Matrix& w, const model::Matrix& gram, quant::ColumnRounder& rounder,
                                 const quant::GptqOptions& options);

}  // namespace halo::cuda
