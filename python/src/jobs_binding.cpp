// halo.quantize / halo.perplexity / halo.simulate: option structs the Python side fills by name
// (python/halo/_options.py), and the jobs of jobs_adapter.hpp run with the GIL released.
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include "bindings.hpp"
#include "jobs_adapter.hpp"

namespace halo::python {

namespace {

template <class Job>
nb::object run_released(const Job& job, nb::object progress,
                        nlohmann::json (*fn)(const Job&, const ProgressSink&)) {
    const ProgressSink sink = progress_sink(std::move(progress));
    nlohmann::json result;
    {
        nb::gil_scoped_release release;
        result = fn(job, sink);
    }
    return to_python(result);
}

}  // namespace

void bind_jobs(nb::module_& m) {
    using Q = QuantizeJob;
    nb::class_<Q>(m, "QuantizeOptions")
        .def(nb::init<>())
        .def_rw("model", &Q::model).def_rw("method", &Q::method).def_rw("format", &Q::format)
        .def_rw("scale_format", &Q::scale_format).def_rw("calib", &Q::calib).def_rw("out", &Q::out)
        .def_rw("sensitivity", &Q::sensitivity).def_rw("eval", &Q::eval).def_rw("tile", &Q::tile)
        .def_rw("act_format", &Q::act_format).def_rw("codebook", &Q::codebook).def_rw("bits", &Q::bits)
        .def_rw("group", &Q::group).def_rw("samples", &Q::samples).def_rw("seq_len", &Q::seq_len)
        .def_rw("block_size", &Q::block_size).def_rw("max_chunks", &Q::max_chunks).def_rw("ctx", &Q::ctx)
        .def_rw("asym", &Q::asym).def_rw("force", &Q::force).def_rw("act_order", &Q::act_order)
        .def_rw("damp", &Q::damp).def_rw("sparse_fraction", &Q::sparse_fraction).def_rw("smooth_alpha", &Q::smooth_alpha)
        .def_rw("threads", &Q::threads).def_rw("profile", &Q::profile).def_rw("objective", &Q::objective)
        .def_rw("levels", &Q::levels).def_rw("timing", &Q::timing).def_rw("counts", &Q::counts).def_rw("sweep", &Q::sweep)
        .def_rw("guard_band", &Q::guard_band).def_rw("budget", &Q::budget).def_rw("voltage_step", &Q::voltage_step)
        .def_rw("vt", &Q::vt).def_rw("alpha", &Q::alpha).def_rw("salient", &Q::salient)
        .def_rw("outlier_sigma", &Q::outlier_sigma).def_rw("max_codes", &Q::max_codes).def_rw("gptq", &Q::gptq);

    using P = PerplexityJob;
    nb::class_<P>(m, "PerplexityOptions")
        .def(nb::init<>())
        .def_rw("model", &P::model).def_rw("text", &P::text).def_rw("quantized", &P::quantized)
        .def_rw("act_format", &P::act_format).def_rw("method", &P::method).def_rw("bos", &P::bos)
        .def_rw("ctx", &P::ctx).def_rw("stride", &P::stride).def_rw("max_chunks", &P::max_chunks)
        .def_rw("threads", &P::threads);

    using S = SimulateJob;
    nb::class_<S>(m, "SimulateOptions")
        .def(nb::init<>())
        .def_rw("arch", &S::arch).def_rw("array", &S::array).def_rw("dataflow", &S::dataflow).def_rw("model", &S::model)
        .def_rw("config", &S::config).def_rw("quantized", &S::quantized).def_rw("tile_levels", &S::tile_levels)
        .def_rw("profile", &S::profile).def_rw("config_file", &S::config_file).def_rw("topology", &S::topology)
        .def_rw("scalesim_cfg", &S::scalesim_cfg).def_rw("out", &S::out).def_rw("reorder", &S::reorder)
        .def_rw("gpu", &S::gpu).def_rw("gpu_path", &S::gpu_path).def_rw("baseline", &S::baseline)
        .def_rw("design", &S::design).def_rw("seq", &S::seq).def_rw("batch", &S::batch).def_rw("context", &S::context)
        .def_rw("switch_penalty_ns", &S::switch_penalty_ns);

    m.def("quantize", [](const Q& job, nb::object progress) { return run_released(job, std::move(progress), &run_quantize_job); },
          nb::arg("options"), nb::arg("progress").none());
    m.def("perplexity", [](const P& job, nb::object progress) { return run_released(job, std::move(progress), &run_perplexity_job); },
          nb::arg("options"), nb::arg("progress").none());
    m.def("simulate", [](const S& job) {
        nlohmann::json result;
        {
            nb::gil_scoped_release release;
            result = run_simulate_job(job);
        }
        return to_python(result);
    }, nb::arg("options"));
}

}  // namespace halo::python
