// halo.quantize / halo.perplexity / halo.simulate: the option structs of the library's jobs
// (src/halo/jobs: the same jobs `halo quantize`, `halo eval` and `halo simulate` run), filled by
// name from Python (python/halo/_options.py; names are the CLI's flags with underscores), and the
// jobs run with the GIL released. Nothing of the orchestration is repeated here.
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include "bindings.hpp"
#include "halo/jobs/eval_job.hpp"
#include "halo/jobs/methods.hpp"
#include "halo/jobs/quantize_job.hpp"
#include "halo/jobs/simulate_job.hpp"
#include "halo/quant/quant_dir.hpp"

namespace halo::python {

namespace {

using Q = jobs::QuantizeJobOptions;
using P = jobs::EvalJobOptions;
using S = jobs::SimulateJobOptions;

// A path member shown to Python as a string option.
template <class T>
void path_option(nb::class_<T>& c, const char* name, std::filesystem::path T::*member) {
    c.def_prop_rw(name, [member](const T& t) { return (t.*member).string(); },
                  [member](T& t, const std::string& v) { t.*member = v; });
}

// A member of QuantizeJobOptions::halo shown as a flat option (the CLI's flags are flat too).
template <class V>
void halo_option(nb::class_<Q>& c, const char* name, V jobs::HaloJobOptions::*member) {
    c.def_prop_rw(name, [member](const Q& q) { return q.halo.*member; }, [member](Q& q, const V& v) { q.halo.*member = v; });
}

nlohmann::json quantize(const Q& options, const ProgressSink& progress) {
    (void)jobs::run_quantize_job(options, {progress, {}});
    return quant::read_quantized_dir(options.out_dir).manifest;  // through the directory's owner (quant/quant_dir)
}

}  // namespace

void bind_jobs(nb::module_& m) {
    nb::class_<Q> q(m, "QuantizeOptions");
    q.def(nb::init<>())
        .def_rw("model", &Q::model).def_rw("method", &Q::method).def_rw("format", &Q::format)
        .def_rw("scale_format", &Q::scale_format).def_rw("sensitivity", &Q::sensitivity).def_rw("tile", &Q::tile)
        .def_rw("act_format", &Q::act_format).def_rw("codebook", &Q::codebook).def_rw("bits", &Q::bits)
        .def_rw("group", &Q::group).def_rw("samples", &Q::samples).def_rw("seq_len", &Q::seq_len)
        .def_rw("block_size", &Q::block_size).def_rw("max_chunks", &Q::max_chunks).def_rw("ctx", &Q::ctx)
        .def_rw("asym", &Q::asym).def_rw("force", &Q::force).def_rw("act_order", &Q::act_order)
        .def_rw("damp", &Q::damp).def_rw("sparse_fraction", &Q::sparse_fraction).def_rw("smooth_alpha", &Q::smooth_alpha)
        .def_rw("threads", &Q::threads).def_rw("calib_int8_inputs", &Q::calib_int8_inputs);
    path_option(q, "out", &Q::out_dir);
    path_option(q, "calib", &Q::calib_text);
    path_option(q, "eval", &Q::eval_text);
    q.def_prop_rw("profile", [](const Q& o) { return o.halo.profile.string(); }, [](Q& o, const std::string& v) { o.halo.profile = v; });
    // Setting objective or budget marks it given, as the CLI's flag count does (E9070 with assign="model").
    q.def_prop_rw("objective", [](const Q& o) { return o.halo.objective; },
                  [](Q& o, const std::string& v) { o.halo.objective = v, o.halo.objective_given = true; });
    q.def_prop_rw("budget", [](const Q& o) { return o.halo.budget; },
                  [](Q& o, double v) { o.halo.budget = v, o.halo.budget_given = true; });
    halo_option(q, "levels", &jobs::HaloJobOptions::levels);
    halo_option(q, "timing", &jobs::HaloJobOptions::timing);
    halo_option(q, "counts", &jobs::HaloJobOptions::counts);
    halo_option(q, "guard_band", &jobs::HaloJobOptions::guard_band);
    halo_option(q, "voltage_step", &jobs::HaloJobOptions::voltage_step);
    halo_option(q, "vt", &jobs::HaloJobOptions::vt);
    halo_option(q, "alpha", &jobs::HaloJobOptions::alpha);
    halo_option(q, "salient", &jobs::HaloJobOptions::salient);
    halo_option(q, "outlier_sigma", &jobs::HaloJobOptions::outlier_sigma);
    halo_option(q, "sparse_grid", &jobs::HaloJobOptions::sparse_grid);
    halo_option(q, "max_codes", &jobs::HaloJobOptions::max_codes);
    halo_option(q, "level_codes", &jobs::HaloJobOptions::level_codes);
    halo_option(q, "assign", &jobs::HaloJobOptions::assign);
    halo_option(q, "level_shares", &jobs::HaloJobOptions::level_shares);
    halo_option(q, "rank", &jobs::HaloJobOptions::rank);
    halo_option(q, "gptq", &jobs::HaloJobOptions::gptq);
    halo_option(q, "quantize_head", &jobs::HaloJobOptions::quantize_head);

    nb::class_<P> p(m, "PerplexityOptions");
    p.def(nb::init<>())
        .def_rw("model", &P::model).def_rw("act_format", &P::act_format).def_rw("ppl_method", &P::method)
        .def_rw("bos", &P::bos).def_rw("ctx", &P::ctx).def_rw("stride", &P::stride).def_rw("max_chunks", &P::max_chunks)
        .def_rw("threads", &P::threads);
    path_option(p, "text", &P::text);
    path_option(p, "quantized", &P::quantized);

    nb::class_<S>(m, "SimulateOptions")
        .def(nb::init<>())
        .def_rw("arch", &S::arch).def_rw("array", &S::array).def_rw("dataflow", &S::dataflow)
        .def_rw("model_shape", &S::model_shape).def_rw("hf_config", &S::hf_config).def_rw("quantized", &S::quantized)
        .def_rw("tile_levels", &S::tile_levels).def_rw("profile", &S::profile).def_rw("config_file", &S::config_file)
        .def_rw("topology", &S::topology).def_rw("scalesim_cfg", &S::scalesim_cfg).def_rw("out", &S::out)
        .def_rw("reorder", &S::reorder).def_rw("gpu", &S::gpu).def_rw("gpu_path", &S::gpu_path).def_rw("baseline", &S::baseline)
        .def_rw("design", &S::design).def_rw("seq", &S::seq).def_rw("batch", &S::batch).def_rw("context", &S::context)
        .def_rw("switch_penalty_ns", &S::switch_penalty_ns).def_rw("model", &S::model);

    // halo.quantize's keywords as flags ("--damp"): those the method does not take are E6035.
    m.def("check_method_options", [](const std::string& method, const std::vector<std::string>& given_flags) {
        jobs::check_flags_apply(jobs::method_table().find(method).traits, given_flags);
    }, nb::arg("method"), nb::arg("given_flags"));
    m.def("quantize", [](const Q& options, nb::object progress) {
        const ProgressSink sink = progress_sink(std::move(progress));
        nlohmann::json manifest;
        {
            nb::gil_scoped_release release;
            manifest = quantize(options, sink);
        }
        return to_python(manifest);
    }, nb::arg("options"), nb::arg("progress").none());
    m.def("perplexity", [](const P& options, nb::object progress) {
        const ProgressSink sink = progress_sink(std::move(progress));
        nlohmann::json result;
        {
            nb::gil_scoped_release release;
            result = jobs::run_eval_job(options, sink).json();
        }
        return to_python(result);
    }, nb::arg("options"), nb::arg("progress").none());
    m.def("simulate", [](const S& options) {
        nlohmann::json report;
        {
            nb::gil_scoped_release release;
            report = jobs::run_simulate_job(options).report;
        }
        return to_python(report);
    }, nb::arg("options"));
}

}  // namespace halo::python
