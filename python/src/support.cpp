#include <memory>

#include <nanobind/stl/string.h>

#include "bindings.hpp"
#include "halo/util/diagnostics.hpp"

namespace halo::python {

namespace {

// halo.Error, defined in Python (halo/_errors.py) and handed over at import. A strong reference
// kept for the life of the process: the translator may run until the interpreter ends.
PyObject* g_error_class = nullptr;

const char* kind_name(ErrorKind k) {
    switch (k) {
        case ErrorKind::usage: return "usage";
        case ErrorKind::bad_input: return "bad_input";
        case ErrorKind::internal: return "internal";
    }
    return "internal";
}

// The jobs name the CLI flag ("--seq-len"); Python's options are the same names with
// underscores ("seq_len").
Diagnostic as_python_option(Diagnostic d) {
    if (d.file.empty() && d.place.starts_with("--")) {
        d.place.erase(0, 2);
        for (char& c : d.place)
            if (c == '-') c = '_';
    }
    return d;
}

void raise_halo_error(const Error& e) {
    const Diagnostic d = as_python_option(e.diagnostic());
    if (!g_error_class) {
        PyErr_SetString(PyExc_ValueError, d.render().c_str());
        return;
    }
    nb::dict kw;
    kw["code"] = d.code;
    kw["kind"] = kind_name(d.kind);
    kw["file"] = d.file;
    kw["line"] = d.line;
    kw["place"] = d.place;
    kw["message"] = d.message;
    kw["expected"] = d.expected;
    kw["found"] = d.found;
    kw["hint"] = d.hint;
    nb::object cls = nb::borrow(g_error_class);
    nb::object exc = cls(d.render(), **kw);
    PyErr_SetObject(g_error_class, exc.ptr());
}

}  // namespace

ProgressSink progress_sink(nb::object callback) {
    if (callback.is_none()) return {};
    // The last copy of the sink may be dropped on a worker thread: release the object under the GIL.
    std::shared_ptr<nb::object> cb(new nb::object(std::move(callback)), [](nb::object* o) {
        nb::gil_scoped_acquire gil;
        delete o;
    });
    return [cb](const ProgressUpdate& u) {
        nb::gil_scoped_acquire gil;
        try {
            (*cb)(u.task, u.done, u.total, u.elapsed_s);
        } catch (nb::python_error& e) {
            e.discard_as_unraisable("halo progress callback");
        }
    };
}

nb::object to_python(const nlohmann::json& j) {
    using V = nlohmann::json::value_t;
    switch (j.type()) {
        case V::null: return nb::none();
        case V::boolean: return nb::bool_(j.get<bool>());
        case V::number_integer: return nb::int_(j.get<std::int64_t>());
        case V::number_unsigned: return nb::int_(j.get<std::uint64_t>());
        case V::number_float: return nb::float_(j.get<double>());
        case V::string: return nb::str(j.get_ref<const std::string&>().c_str());
        case V::array: {
            nb::list l;
            for (const auto& x : j) l.append(to_python(x));
            return l;
        }
        case V::object: {
            nb::dict d;
            for (const auto& [k, v] : j.items()) d[nb::str(k.c_str())] = to_python(v);
            return d;
        }
        default: return nb::none();  // binary and discarded values never occur in halo's reports
    }
}

void bind_support(nb::module_& m) {
    m.def("_set_error_class", [](nb::object cls) {
        Py_XDECREF(g_error_class);
        g_error_class = cls.release().ptr();
    });
    nb::register_exception_translator([](const std::exception_ptr& p, void*) {
        try {
            std::rethrow_exception(p);
        } catch (const Error& e) {
            raise_halo_error(e);
        }
    });
}

}  // namespace halo::python
