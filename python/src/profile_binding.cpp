// halo.Profile (mac::MacProfile), halo.characterize, halo.read_profile.
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include <nanobind/ndarray.h>
#include <nanobind/stl/filesystem.h>
#include <nanobind/stl/optional.h>
#include <nanobind/stl/string.h>

#include "bindings.hpp"
#include "halo/mac/characterize.hpp"
#include "halo/mac/profile.hpp"
#include "halo/util/diagnostics.hpp"

namespace halo::python {

namespace {

using Array1d = nb::ndarray<nb::numpy, double, nb::ndim<1>>;
using mac::MacProfile;
using mac::ProfileWeight;

// One per-weight field as a float64 array, NaN where the profile has none (null in the file).
template <class Field>
nb::object weight_field(const MacProfile& p, Field field) {
    auto* v = new std::vector<double>(p.weights.size());
    for (std::size_t i = 0; i < p.weights.size(); ++i) {
        const std::optional<double>& x = p.weights[i].*field;
        (*v)[i] = x ? *x : std::numeric_limits<double>::quiet_NaN();
    }
    nb::capsule owner(v, [](void* q) noexcept { delete static_cast<std::vector<double>*>(q); });
    return nb::cast(Array1d(v->data(), {v->size()}, owner));
}

std::string analysis_name(mac::Analysis a) {
    switch (a) {
        case mac::Analysis::static_only: return "static";
        case mac::Analysis::dynamic_only: return "dynamic";
        case mac::Analysis::both: return "both";
    }
    return "static";
}

template <class T>
void path_property(nb::class_<mac::CharacterizeOptions>& c, const char* name, std::filesystem::path T::* member) {
    c.def_prop_rw(
        name, [member](const T& o) { return (o.*member).string(); },
        [member](T& o, const std::string& v) { o.*member = v; });
}

}  // namespace

void bind_profile(nb::module_& m) {
    nb::class_<MacProfile> profile(m, "Profile",
                                   "A MAC's per-weight profile (docs/formats.md \"MAC profile\"): per-weight numpy arrays "
                                   "named as in the file, the design and analysis fields as attributes.");
    profile.def_rw("mac", &MacProfile::mac)
        .def_rw("arch", &MacProfile::arch)
        .def_rw("weight_format", &MacProfile::weight_format)
        .def_rw("weight_bits", &MacProfile::weight_bits)
        .def_rw("activation_format", &MacProfile::activation_format)
        .def_rw("accumulator_bits", &MacProfile::accumulator_bits)
        .def_rw("top", &MacProfile::top)
        .def_rw("netlist", &MacProfile::netlist)
        .def_rw("liberty", &MacProfile::liberty)
        .def_rw("library", &MacProfile::library)
        .def_rw("nominal_voltage_v", &MacProfile::nominal_voltage_v)
        .def_rw("load_pf", &MacProfile::load_pf)
        .def_rw("cells", &MacProfile::cells)
        .def_rw("area_um2", &MacProfile::area_um2)
        .def_rw("nominal_delay_ns", &MacProfile::nominal_delay_ns)
        .def_rw("static_analysis", &MacProfile::static_analysis)
        .def_rw("dynamic_analysis", &MacProfile::dynamic_analysis)
        .def_rw("transitions", &MacProfile::transitions)
        .def_rw("transition_set", &MacProfile::transition_set)
        .def_rw("seed", &MacProfile::seed)
        .def_rw("delay_model", &MacProfile::delay_model)
        .def_rw("leakage_nw", &MacProfile::leakage_nw)
        .def_prop_ro("code",
                     [](const MacProfile& p) {
                         auto* v = new std::vector<std::uint64_t>();
                         v->reserve(p.weights.size());
                         for (const auto& w : p.weights) v->push_back(w.code);
                         nb::capsule owner(v, [](void* q) noexcept { delete static_cast<std::vector<std::uint64_t>*>(q); });
                         return nb::cast(nb::ndarray<nb::numpy, std::uint64_t, nb::ndim<1>>(v->data(), {v->size()}, owner));
                     },
                     "weight port bit patterns (the file writes them as bit strings)")
        .def_prop_ro("value", [](const MacProfile& p) { return weight_field(p, &ProfileWeight::value); })
        .def_prop_ro("static_delay_ns", [](const MacProfile& p) { return weight_field(p, &ProfileWeight::static_delay_ns); })
        .def_prop_ro("dynamic_delay_ns", [](const MacProfile& p) { return weight_field(p, &ProfileWeight::dynamic_delay_ns); })
        .def_prop_ro("data_delay_max_ns", [](const MacProfile& p) { return weight_field(p, &ProfileWeight::data_delay_max_ns); })
        .def_prop_ro("data_delay_p999_ns", [](const MacProfile& p) { return weight_field(p, &ProfileWeight::data_delay_p999_ns); })
        .def_prop_ro("energy_fj", [](const MacProfile& p) { return weight_field(p, &ProfileWeight::energy_fj); })
        .def("__len__", [](const MacProfile& p) { return p.weights.size(); })
        .def("to_json", [](const MacProfile& p) { return mac::profile_json(p); }, "the profile file's JSON text")
        .def(
            "write", [](const MacProfile& p, const std::filesystem::path& path) { mac::write_profile(p, path); }, nb::arg("path"),
            "writes PATH (JSON) and beside it the CSV and SVG twins, each atomically")
        .def("__repr__", [](const MacProfile& p) {
            return "<halo.Profile " + p.mac + " " + p.weight_format + " on " + p.library + ", " + std::to_string(p.weights.size()) +
                   " weights>";
        });

    m.def(
        "read_profile", [](const std::filesystem::path& path) { return mac::read_profile(path); }, nb::arg("path"),
        "reads a profile file written by `halo characterize` or Profile.write");

    nb::class_<mac::CharacterizeOptions> opts(m, "CharacterizeOptions");
    opts.def(nb::init<>())
        .def_rw("top", &mac::CharacterizeOptions::top)
        .def_rw("weight_port", &mac::CharacterizeOptions::weight_port)
        .def_rw("weight_format", &mac::CharacterizeOptions::weight_format)
        .def_rw("mac", &mac::CharacterizeOptions::builtin_mac)
        .def_rw("mac_arch", &mac::CharacterizeOptions::arch)
        .def_rw("transitions", &mac::CharacterizeOptions::transitions)
        .def_rw("seed", &mac::CharacterizeOptions::seed)
        .def_rw("threads", &mac::CharacterizeOptions::threads)
        .def_rw("load_pf", &mac::CharacterizeOptions::load_pf)
        .def_prop_rw(
            "analysis", [](const mac::CharacterizeOptions& o) { return analysis_name(o.analysis); },
            [](mac::CharacterizeOptions& o, const std::string& v) { o.analysis = mac::parse_analysis(v); });
    path_property<mac::CharacterizeOptions>(opts, "netlist", &mac::CharacterizeOptions::netlist_json);
    path_property<mac::CharacterizeOptions>(opts, "liberty", &mac::CharacterizeOptions::liberty);
    path_property<mac::CharacterizeOptions>(opts, "work_dir", &mac::CharacterizeOptions::work_dir);

    m.def(
        "characterize",
        [](mac::CharacterizeOptions o, nb::object progress) {
            if (o.netlist_json.empty() && o.builtin_mac.empty())
                throw_usage("E4511", "characterize needs netlist=F.json or mac=NAME", "see `halo help characterize`");
            if (!o.netlist_json.empty() && !o.builtin_mac.empty())
                throw_usage("E4511", "characterize takes netlist=F.json or mac=NAME, not both");
            if (o.liberty.empty()) throw_usage("E4511", "characterize needs liberty=FILE.lib");
            o.progress = progress_sink(std::move(progress));
            nb::gil_scoped_release release;
            return mac::characterize(o);
        },
        nb::arg("options"), nb::arg("progress").none());
}

}  // namespace halo::python
