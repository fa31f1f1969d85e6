// The nanobind module halo._halo: each binding_*.cpp adds one part; support.cpp holds what they
// share (halo::Error -> halo.Error, progress sinks that call Python, JSON -> Python objects).
#pragma once

#include <nanobind/nanobind.h>
#include <nlohmann/json.hpp>

#include "halo/util/progress.hpp"

namespace halo::python {

namespace nb = nanobind;

void bind_support(nb::module_& m);   // _set_error_class; the exception translator
void bind_profile(nb::module_& m);   // Profile, characterize, read_profile
void bind_tensor(nb::module_& m);    // QuantizedTensor, quantize_tensor, load_quantized
void bind_jobs(nb::module_& m);      // quantize, perplexity, simulate

// A sink that calls `callback(task, done, total, elapsed_s)` under the GIL from whichever thread
// reports; empty for None. An exception in the callback is reported as unraisable, never
// propagated into the C++ loop.
ProgressSink progress_sink(nb::object callback);

// nlohmann::json -> dict / list / str / int / float / bool / None.
nb::object to_python(const nlohmann::json& j);

}  // namespace halo::python
