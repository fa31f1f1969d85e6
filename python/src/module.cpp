// halo._halo: the compiled part of the Python package (the Python part is python/halo/).
#include "bindings.hpp"

#include <string>
#include <vector>

#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include "halo/util/provenance.hpp"

NB_MODULE(_halo, m) {
    // Manifests record the command that made them: from Python, the interpreter's argv.
    {
        std::vector<std::string> argv{"python3"};
        for (const auto& a : nanobind::module_::import_("sys").attr("argv")) argv.push_back(nanobind::cast<std::string>(nanobind::str(a)));
        halo::record_command_line(argv);
    }
    m.doc() = "halo's C++ library (use the `halo` package, not this module)";
    halo::python::bind_support(m);
    halo::python::bind_profile(m);
    halo::python::bind_tensor(m);
    halo::python::bind_jobs(m);
}
