// halo._halo: the compiled part of the Python package (the Python part is python/halo/).
#include "bindings.hpp"

NB_MODULE(_halo, m) {
    m.doc() = "halo's C++ library (use the `halo` package, not this module)";
    halo::python::bind_support(m);
    halo::python::bind_profile(m);
    halo::python::bind_tensor(m);
    halo::python::bind_jobs(m);
}
