// Dynamic (sensitized) timing and switching energy of a MAC, per weight code: the public face of
// dynamic timing, called by `halo characterize`. Model: docs/design/dynamic_timing.md.
//   dynamic_delay_ns    sound bound: latest time any output can change over every activation
//                       transition (exhaustive up to exhaustive_max_bits, else a seeded uniform
//                       sample), accumulator free; never above the static figure.
//   data_delay_max_ns,  exact event simulation (transport: the fast exact engine, waveform_engine.hpp,
//   data_delay_p999_ns  on the CPU or CUDA; inertial: the reference event simulator) over every
//                       activation pair (`exhaustive_data`, activations up to 12 bits) or
//                       `data_transitions` seeded transitions, partial sums from `distribution`;
//                       max and nearest-rank 99.9th percentile.
//   energy_fj           mean switching energy per operation over the same transitions.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "halo/netlist/netlist.hpp"
#include "halo/timing/delay_annotation.hpp"
#include "halo/timing/dynamic_circuit.hpp"
#include "halo/timing/event_sim.hpp"
#include "halo/timing/transition_set.hpp"
#include "halo/util/progress.hpp"

namespace halo::timing {

// Where the arc delays come from.
enum class DelaySource : std::uint8_t {
    per_weight_static,  // the static pass under case analysis for each weight (default): the
                        // same slews, hence delays, as the per-weight static figure
    annotation,         // the DelayAnnotation given (weight-free slews), same for every weight
};

// Which engine simulates the data-dependent transitions. All give the reference's figures.
enum class DataEngine : std::uint8_t {
    fast,       // WaveformEngine on the CPU (default); the reference where it does not apply
    reference,  // EventSimulator
    cuda,       // WaveformEngine's CUDA kernel in libhalo_cuda.so (E3540 where unusable)
};

struct DynamicOptions {
    DynamicPorts ports;
    DelaySource delay_source = DelaySource::per_weight_static;
    StaOptions sta;                           // for per_weight_static
    std::vector<std::uint64_t> weight_codes;  // empty: every code of the weight port
    int exhaustive_max_bits = 8;              // sound bound exhaustive up to this activation width
    std::size_t bound_samples = 65536;        // activation pairs per weight beyond it
    std::size_t data_transitions = 2000;      // event-simulated transitions per weight (0: skip)
    bool exhaustive_data = false;             // every activation pair instead (2^(2 bits) per weight)
    DataEngine data_engine = DataEngine::fast;
    DataDistribution distribution;
    DelayMode delay_mode = DelayMode::transport;
    std::uint64_t seed = 1;
    unsigned threads = 0;                     // 0 = all cores
    ProgressSink progress;                    // may be empty
};

struct DynamicWeightResult {
    std::uint64_t weight_code = 0;
    double dynamic_delay_ns = 0;     // 0 when no output can change
    std::uint64_t worst_a0 = 0, worst_a1 = 0;  // a transition reaching the bound
    double data_delay_max_ns = 0;
    double data_delay_p999_ns = 0;
    double energy_fj = 0;            // mean switching energy per operation
    double toggles_per_op = 0;
    std::size_t gates = 0;           // gates left after constant propagation
    std::size_t acausal_transitions = 0;  // data transitions with an event scheduled before its
                                          // cause's time (negative arc delays; informational)
};

struct DynamicResult {
    std::vector<DynamicWeightResult> weights;
    double leakage_nw = 0;           // sum of cell leakage (weight independent in this model)
    bool bound_exhaustive = false;
    std::uint64_t bound_transitions_per_weight = 0;
    std::size_t data_transitions_per_weight = 0;
    bool data_exhaustive = false;    // every activation pair (partial sums drawn per transition)
    std::string data_engine;         // "fast-cpu", "reference" or "cuda (<device>)"
    std::size_t data_acausal_transitions = 0;  // summed over weights (waveform_engine.hpp)
    std::size_t data_overflowed = 0; // cuda: transitions re-run on the CPU (device scratch too small)
    double device_seconds = 0;       // cuda: device time (copies, allocation, kernels)
    double kernel_seconds = 0;       // cuda: the kernel alone
    double prepare_seconds = 0;      // cuda: wall time of the host's per-weight delays, circuits, stimuli
    double device_wall_seconds = 0;  // cuda: wall time of the device thread (flattening, packing, device)
    double bound_seconds = 0;        // cuda: wall time of the sound bounds on the CPU (beside the device)
    std::string distribution;        // DataDistribution::describe()
    std::string delay_mode;          // "transport" or "inertial"
    std::string delay_source;        // "per-weight static pass" or "annotation"
};

// `annotation` is used only with DelaySource::annotation (pass {} otherwise).
DynamicResult dynamic_sweep(const netlist::Netlist& netlist, const DelayAnnotation& annotation,
                            const DynamicOptions& options);

// The data-dependent transition set of one weight (exhaustive or sampled, per the options).
std::vector<Stimulus> data_stimuli(const DynamicOptions& options, const DynamicCircuit& circuit);

// Fills data_delay_max_ns, data_delay_p999_ns, energy_fj, toggles_per_op from the simulated results.
void summarize_data(std::span<const EventSimResult> results, DynamicWeightResult& weight);

// One weight on a given delay model (the sweep calls it per weight). With DataEngine::cuda the
// data figures are left 0 (the sweep batches every weight onto the device).
DynamicWeightResult dynamic_weight(const netlist::Netlist& netlist, const DynamicDelays& delays,
                                   const DynamicOptions& options, std::uint64_t weight_code);

}  // namespace halo::timing
