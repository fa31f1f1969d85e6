// The CUDA path of the fast exact engine: one thread per transition, each running the same
// lane code as the CPU engine (waveform_lane.hpp) on its own scratch in device memory,
// interleaved across threads (ScratchLayout) so that a warp's accesses coalesce. A
// persistent grid walks every transition of every job (one job = one weight's circuit). Built
// into the loadable module libhalo_cuda.so, never linked into halo itself.
#include <cuda_runtime.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include "halo/timing/waveform_cuda_api.hpp"

namespace halo::timing {
namespace {

void check(cudaError_t e, const char* what) {
    if (e != cudaSuccess) throw std::runtime_error(std::string("CUDA ") + what + ": " + cudaGetErrorString(e));
}

struct DevJob {
    WaveView circuit;  // device pointers
    const std::uint64_t* a0;
    const std::uint64_t* a1;
    const std::uint64_t* acc0;
    const std::uint64_t* acc1;
    WaveLaneResult* results;
    std::size_t first;  // global index of its first transition
    std::size_t count;
};

// Every thread's scratch, interleaved: array X of thread t, element k, at X + k * threads + t
// (waveform_lane.hpp, WaveStrided). Offsets in bytes from the start of the allocation.
struct ScratchLayout {
    std::uint32_t capacity, max_slots, max_words;
    std::size_t threads;
    std::size_t events_off, begin_off, end_off, stamp_off, dirty_off, init_off, bytes;
};

ScratchLayout layout(std::uint32_t capacity, std::uint32_t max_slots, std::uint32_t max_words, std::size_t threads) {
    auto round256 = [](std::size_t x) { return (x + 255) / 256 * 256; };
    ScratchLayout l{capacity, max_slots, max_words, threads, 0, 0, 0, 0, 0, 0, 0};
    l.begin_off = round256(threads * capacity * sizeof(WaveEvent));
    l.end_off = l.begin_off + round256(threads * max_slots * 4);
    l.stamp_off = l.end_off + round256(threads * max_slots * 4);
    l.dirty_off = l.stamp_off + round256(threads * max_slots * 4);
    l.init_off = l.dirty_off + round256(threads * max_words * 8);
    l.bytes = l.init_off + round256(threads * max_slots);
    return l;
}

using DeviceScratch = WaveScratchOf<WaveStrided<WaveEvent>, WaveStrided<std::uint32_t>, WaveStrided<std::uint64_t>>;

constexpr int kBlock = 128;

// MinBlocks resident blocks of kBlock threads per multiprocessor: the compiler caps registers
// to fit them (the lane code wants ~146 registers, i.e. 3 blocks, unbounded).
template <int MinBlocks>
__global__ void __launch_bounds__(kBlock, MinBlocks)
    wave_kernel(const DevJob* jobs, int job_count, std::size_t total, unsigned char* scratch, ScratchLayout l) {
    const std::size_t tid = std::size_t{blockIdx.x} * blockDim.x + threadIdx.x;
    const std::size_t threads = l.threads;
    if (tid >= threads) return;
    const WaveStrided<std::uint8_t> init{scratch + l.init_off + tid, threads};
    DeviceScratch s;
    s.events = {reinterpret_cast<WaveEvent*>(scratch + l.events_off) + tid, threads};
    s.capacity = l.capacity;
    s.begin = {reinterpret_cast<std::uint32_t*>(scratch + l.begin_off) + tid, threads};
    s.end = {reinterpret_cast<std::uint32_t*>(scratch + l.end_off) + tid, threads};
    s.stamp = {reinterpret_cast<std::uint32_t*>(scratch + l.stamp_off) + tid, threads};
    s.dirty = {reinterpret_cast<std::uint64_t*>(scratch + l.dirty_off) + tid, threads};
    s.stamp_value = 0;
    for (std::size_t i = tid; i < total; i += threads) {
        int lo = 0, hi = job_count - 1;
        while (lo < hi) {
            const int mid = (lo + hi + 1) / 2;
            if (jobs[mid].first <= i) lo = mid;
            else hi = mid - 1;
        }
        const DevJob& job = jobs[lo];
        const std::size_t k = i - job.first;
        const WaveView& c = job.circuit;
        const int na = c.activation_bits;
        for (int p = 0; p < na + c.accumulator_bits; ++p)
            init[p] = p < na ? (job.a0[k] >> p) & 1u : (job.acc0[k] >> (p - na)) & 1u;
        for (std::uint32_t g = 0; g < c.gate_count; ++g) {
            const WaveGate& wg = c.gates[g];
            unsigned m = 0;
            for (std::uint32_t j = 0; j < wg.input_count; ++j) m |= unsigned{init[wg.inputs[j]]} << j;
            init[wg.output] = (wg.truth >> m) & 1u;
        }
        ++s.stamp_value;
        auto initial = [init](std::uint32_t slot) { return init[slot]; };
        job.results[k] = simulate_wave_lane(c, job.a1[k], job.acc1[k], initial, s);
    }
}

// Packs host arrays into one staging buffer, then one copy to the device.
class Packer {
public:
    std::size_t add(const void* p, std::size_t bytes) {
        const std::size_t off = (data_.size() + 15) / 16 * 16;
        data_.resize(off + bytes);
        if (bytes) std::memcpy(data_.data() + off, p, bytes);
        return off;
    }
    std::size_t zeros(std::size_t bytes) {
        const std::size_t off = add(nullptr, 0);
        data_.resize(off + bytes);
        return off;
    }
    std::vector<unsigned char>& data() { return data_; }

private:
    std::vector<unsigned char> data_;
};

struct Scratch {
    unsigned char* ptr = nullptr;
    std::size_t bytes = 0;
};
Scratch g_scratch;

std::string probe() {
    int n = 0;
    const cudaError_t e = cudaGetDeviceCount(&n);
    if (e != cudaSuccess) return std::string("no usable CUDA device: ") + cudaGetErrorString(e);
    if (n == 0) return "no CUDA device";
    return "";
}

void run(const WaveCudaJob* jobs, std::size_t job_count, std::uint32_t capacity, std::uint32_t threads_per_sm,
         WaveCudaStats* stats) {
    cudaEvent_t t0, t1, k0, k1;
    check(cudaEventCreate(&t0), "event");
    check(cudaEventCreate(&t1), "event");
    check(cudaEventCreate(&k0), "event");
    check(cudaEventCreate(&k1), "event");
    check(cudaEventRecord(t0), "event record");
    cudaDeviceProp prop{};
    check(cudaGetDeviceProperties(&prop, 0), "device properties");

    Packer pack;
    struct Offsets {
        std::size_t gates, internal, toggle, is_output, fan_begin, fan_gates, a0, a1, acc0, acc1, results;
    };
    std::vector<Offsets> off(job_count);
    std::size_t total = 0;
    std::uint32_t max_slots = 0, max_words = 0;
    for (std::size_t j = 0; j < job_count; ++j) {
        const WaveCudaJob& job = jobs[j];
        const WaveView& c = job.circuit;
        Offsets& o = off[j];
        o.gates = pack.add(c.gates, sizeof(WaveGate) * c.gate_count);
        o.internal = pack.add(c.internal_fj, sizeof(double) * c.gate_count * kWaveMaxInputs * 4);
        o.toggle = pack.add(c.toggle_fj, sizeof(double) * c.slot_count);
        o.is_output = pack.add(c.is_output, c.slot_count);
        o.fan_begin = pack.add(c.fanout_begin, sizeof(std::uint32_t) * (c.slot_count + 1));
        o.fan_gates = pack.add(c.fanout_gates, sizeof(std::uint32_t) * c.fanout_begin[c.slot_count]);
        o.a0 = pack.add(job.a0, 8 * job.count);
        o.a1 = pack.add(job.a1, 8 * job.count);
        o.acc0 = pack.add(job.acc0, 8 * job.count);
        o.acc1 = pack.add(job.acc1, 8 * job.count);
        o.results = pack.zeros(sizeof(WaveLaneResult) * job.count);
        total += job.count;
        max_slots = std::max(max_slots, c.slot_count);
        max_words = std::max(max_words, (c.gate_count + 63) / 64);
    }
    const std::size_t jobs_off = pack.zeros(sizeof(DevJob) * job_count);

    unsigned char* dev = nullptr;
    check(cudaMalloc(&dev, pack.data().size()), "malloc (circuits)");
    std::size_t first = 0;
    std::vector<DevJob> dj(job_count);
    for (std::size_t j = 0; j < job_count; ++j) {
        const WaveView& c = jobs[j].circuit;
        const Offsets& o = off[j];
        DevJob& d = dj[j];
        d.circuit = c;
        d.circuit.gates = reinterpret_cast<const WaveGate*>(dev + o.gates);
        d.circuit.internal_fj = reinterpret_cast<const double*>(dev + o.internal);
        d.circuit.toggle_fj = reinterpret_cast<const double*>(dev + o.toggle);
        d.circuit.is_output = dev + o.is_output;
        d.circuit.fanout_begin = reinterpret_cast<const std::uint32_t*>(dev + o.fan_begin);
        d.circuit.fanout_gates = reinterpret_cast<const std::uint32_t*>(dev + o.fan_gates);
        d.a0 = reinterpret_cast<const std::uint64_t*>(dev + o.a0);
        d.a1 = reinterpret_cast<const std::uint64_t*>(dev + o.a1);
        d.acc0 = reinterpret_cast<const std::uint64_t*>(dev + o.acc0);
        d.acc1 = reinterpret_cast<const std::uint64_t*>(dev + o.acc1);
        d.results = reinterpret_cast<WaveLaneResult*>(dev + o.results);
        d.first = first;
        d.count = jobs[j].count;
        first += jobs[j].count;
    }
    std::memcpy(pack.data().data() + jobs_off, dj.data(), sizeof(DevJob) * job_count);
    check(cudaMemcpy(dev, pack.data().data(), pack.data().size(), cudaMemcpyHostToDevice), "copy in");

    // Resident threads: threads_per_sm per multiprocessor, rounded to a supported kernel variant
    // (blocks per multiprocessor 3, 4, 6 or 8; 0: 6, the fastest of the four on an H200 for the
    // INT8 MACs, docs/results/characterize.md), never more than transitions.
    const std::uint32_t want_blocks = threads_per_sm > 0 ? (threads_per_sm + kBlock - 1) / kBlock : 6;
    const int blocks_per_sm = want_blocks <= 3 ? 3 : want_blocks <= 4 ? 4 : want_blocks <= 6 ? 6 : 8;
    std::size_t threads = std::min<std::size_t>(
        total, std::size_t{static_cast<unsigned>(prop.multiProcessorCount)} * static_cast<std::size_t>(blocks_per_sm) * kBlock);
    threads = std::max<std::size_t>(1, (threads + kBlock - 1) / kBlock) * kBlock;
    const ScratchLayout l = layout(capacity, max_slots, max_words, threads);
    if (g_scratch.bytes < l.bytes) {
        if (g_scratch.ptr) check(cudaFree(g_scratch.ptr), "free (scratch)");
        g_scratch = {};
        check(cudaMalloc(&g_scratch.ptr, l.bytes), "malloc (scratch)");
        g_scratch.bytes = l.bytes;
    }
    // Stamps and dirty bits start at zero (events, ranges and initial values are written first).
    check(cudaMemset(g_scratch.ptr + l.stamp_off, 0, l.init_off - l.stamp_off), "memset (scratch)");
    // The order comparison recurses through cause chains (waveform_lane.hpp), with two
    // kWaveMaxChain arrays per level.
    check(cudaDeviceSetLimit(cudaLimitStackSize, 24 * 1024), "stack size");
    check(cudaEventRecord(k0), "event record");
    if (total > 0) {
        const auto* dev_jobs = reinterpret_cast<const DevJob*>(dev + jobs_off);
        const unsigned grid = static_cast<unsigned>(threads / kBlock);
        const int n = static_cast<int>(job_count);
        switch (blocks_per_sm) {
        case 3: wave_kernel<3><<<grid, kBlock>>>(dev_jobs, n, total, g_scratch.ptr, l); break;
        case 4: wave_kernel<4><<<grid, kBlock>>>(dev_jobs, n, total, g_scratch.ptr, l); break;
        case 6: wave_kernel<6><<<grid, kBlock>>>(dev_jobs, n, total, g_scratch.ptr, l); break;
        default: wave_kernel<8><<<grid, kBlock>>>(dev_jobs, n, total, g_scratch.ptr, l); break;
        }
    }
    check(cudaGetLastError(), "kernel launch");
    check(cudaEventRecord(k1), "event record");
    check(cudaDeviceSynchronize(), "kernel");
    for (std::size_t j = 0; j < job_count; ++j)
        check(cudaMemcpy(jobs[j].results, dev + off[j].results, sizeof(WaveLaneResult) * jobs[j].count, cudaMemcpyDeviceToHost),
              "copy out");
    check(cudaFree(dev), "free (circuits)");
    check(cudaEventRecord(t1), "event record");
    check(cudaEventSynchronize(t1), "event sync");
    float kernel_ms = 0, total_ms = 0;
    check(cudaEventElapsedTime(&kernel_ms, k0, k1), "elapsed");
    check(cudaEventElapsedTime(&total_ms, t0, t1), "elapsed");
    for (cudaEvent_t e : {t0, t1, k0, k1}) cudaEventDestroy(e);
    if (stats) {
        stats->kernel_s = kernel_ms / 1000.0;
        stats->total_s = total_ms / 1000.0;
        stats->threads = threads;
        stats->device = prop.name;
    }
}

const WaveCudaApi kApi{kWaveCudaAbi, &probe, &run};

}  // namespace
}  // namespace halo::timing

extern "C" __attribute__((visibility("default"))) const halo::timing::WaveCudaApi* halo_wave_cuda_api() { return &halo::timing::kApi; }
