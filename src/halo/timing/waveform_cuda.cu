// The CUDA path of the fast exact engine: one thread per transition, each running the same
// lane code as the CPU engine (waveform_lane.hpp) on its own scratch in device memory,
// interleaved across threads (ScratchLayout) so that a warp's accesses coalesce. A
// persistent grid walks every transition of every job (one job = one weight's circuit). Built
// into the loadable module libhalo_cuda.so, never linked into halo itself.
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include "halo/timing/waveform_cuda_api.hpp"
#include "halo/timing/waveform_level.hpp"

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
    std::size_t events_off, range_off, dirty_off, init_off, up_off, bytes;
};

ScratchLayout layout(std::uint32_t capacity, std::uint32_t max_slots, std::uint32_t max_words, std::size_t threads) {
    auto round256 = [](std::size_t x) { return (x + 255) / 256 * 256; };
    ScratchLayout l{capacity, max_slots, max_words, threads, 0, 0, 0, 0, 0, 0};
    l.range_off = round256(threads * capacity * sizeof(WaveEvent));
    l.dirty_off = l.range_off + round256(threads * max_slots * sizeof(WaveRange));
    l.init_off = l.dirty_off + round256(threads * max_words * 8);
    l.up_off = l.init_off + round256(threads * max_slots);
    l.bytes = l.up_off + round256(threads * capacity * sizeof(std::uint32_t));  // up-links: written for acausal events only
    return l;
}

using DeviceEvents = WaveLinkedEvents<WaveStrided<WaveEvent>, WaveStrided<std::uint32_t>>;
using DeviceScratch = WaveScratchOf<DeviceEvents, WaveStrided<WaveRange>, WaveStrided<std::uint64_t>>;

constexpr int kBlock = 128;

// MinBlocks resident blocks of kBlock threads per multiprocessor: the compiler caps registers
// to fit them (the lane code wants ~136 registers, i.e. 3 blocks, unbounded).
// Shared: each thread's dirty bits and initial values (one bit per slot) in the block's shared
// memory (word w of thread t at w * kBlock + t: a warp's words are neighbours, no bank
// conflicts) instead of global memory, where a gate visit or a fan-out mark cost a scattered
// read and write each, and the initial values one byte per slot.
// Lockstep: simulate_wave_lane's lock-step gate walk (the 32 lanes visit the same gate at the
// same step), the default; HALO_WAVE_LANE_LOCKSTEP=0 asks for the jumps (5 blocks only).
template <int MinBlocks, bool Shared, bool Lockstep>
__global__ void __launch_bounds__(kBlock, MinBlocks)
    wave_kernel(const DevJob* jobs, int job_count, std::size_t total, unsigned char* scratch, ScratchLayout l) {
    extern __shared__ std::uint64_t lane_smem[];
    const std::size_t tid = std::size_t{blockIdx.x} * blockDim.x + threadIdx.x;
    const auto threads = static_cast<std::uint32_t>(l.threads);
    if (tid >= threads) return;
    const WaveStrided<std::uint8_t> init{scratch + l.init_off + tid, threads};
    const WaveStrided<std::uint32_t> init_bits{reinterpret_cast<std::uint32_t*>(lane_smem + std::size_t{l.max_words} * kBlock) + threadIdx.x,
                                               static_cast<std::uint32_t>(kBlock)};
    DeviceScratch s;
    s.events = {{reinterpret_cast<WaveEvent*>(scratch + l.events_off) + tid, threads},
                {reinterpret_cast<std::uint32_t*>(scratch + l.up_off) + tid, threads}};
    s.capacity = l.capacity;
    s.range = {reinterpret_cast<WaveRange*>(scratch + l.range_off) + tid, threads};
    if constexpr (Shared) {
        s.dirty = {lane_smem + threadIdx.x, static_cast<std::uint32_t>(kBlock)};
        for (std::uint32_t w = 0; w < l.max_words; ++w) s.dirty[w] = 0;  // the lane code keeps them zero between lanes
    } else {
        s.dirty = {reinterpret_cast<std::uint64_t*>(scratch + l.dirty_off) + tid, threads};
    }
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
        ++s.stamp_value;
        if constexpr (Shared) {
            auto bit = [init_bits](std::uint32_t slot) { return (init_bits[slot >> 5] >> (slot & 31)) & 1u; };
            auto set = [init_bits](std::uint32_t slot, unsigned v) {
                std::uint32_t& w = init_bits[slot >> 5];
                w = (w & ~(1u << (slot & 31))) | (v << (slot & 31));
            };
            for (int p = 0; p < na + c.accumulator_bits; ++p)
                set(static_cast<std::uint32_t>(p), static_cast<unsigned>(p < na ? (job.a0[k] >> p) & 1u : (job.acc0[k] >> (p - na)) & 1u));
            for (std::uint32_t g = 0; g < c.gate_count; ++g) {
                const WaveGate& wg = c.gates[g];
                unsigned m = 0;
                for (std::uint32_t j = 0; j < wg.input_count; ++j) m |= bit(wg.inputs[j]) << j;
                set(wg.output, static_cast<unsigned>((wg.truth >> m) & 1u));
            }
            auto initial = [bit](std::uint32_t slot) { return static_cast<std::uint8_t>(bit(slot)); };
            job.results[k] = simulate_wave_lane<kWaveCachedReplay, Lockstep>(c, job.a1[k], job.acc1[k], initial, s);
        } else {
            for (int p = 0; p < na + c.accumulator_bits; ++p)
                init[p] = p < na ? (job.a0[k] >> p) & 1u : (job.acc0[k] >> (p - na)) & 1u;
            for (std::uint32_t g = 0; g < c.gate_count; ++g) {
                const WaveGate& wg = c.gates[g];
                unsigned m = 0;
                for (std::uint32_t j = 0; j < wg.input_count; ++j) m |= unsigned{init[wg.inputs[j]]} << j;
                init[wg.output] = (wg.truth >> m) & 1u;
            }
            auto initial = [init](std::uint32_t slot) { return init[slot]; };
            job.results[k] = simulate_wave_lane<kWaveCachedReplay, Lockstep>(c, job.a1[k], job.acc1[k], initial, s);
        }
    }
}

// Shared memory per block of the lane kernel's Shared form: dirty words, then initial-value words.
std::size_t lane_shared_bytes(const ScratchLayout& l) {
    return (std::size_t{l.max_words} * 8 + std::size_t{(l.max_slots + 31) / 32} * 4) * kBlock;
}

// The level kernel (waveform_level.hpp): one warp per transition, the lanes replaying the dirty
// gates of a level side by side, events packed in the warp's shared memory (the first
// `near` of them) and beyond that in its slice of global memory. Same steps and event indices
// as simulate_wave_levelled on the CPU.
struct DevLevelJob {
    WaveView circuit;  // device pointers
    WaveLevelView levels;
    const std::uint64_t* a0;
    const std::uint64_t* a1;
    const std::uint64_t* acc0;
    const std::uint64_t* acc1;
    WaveLaneResult* results;
    std::size_t first;
    std::size_t count;
};

constexpr int kLevelBlock = 128;
constexpr unsigned kFull = 0xffffffffu;

// Per-warp shared memory: events, then ranges and the three bit sets (32-bit words).
struct LevelLayout {
    std::uint32_t near, max_slots, max_positions;
    __host__ __device__ std::size_t warp_bytes() const {
        return (std::size_t{near} * sizeof(WavePackedEvent) + 4ull * (max_slots + 2 * ((max_slots + 31) / 32) + (max_positions + 31) / 32) + 15) /
               16 * 16;
    }
};

__device__ inline std::uint32_t warp_exclusive_sum(std::uint32_t x, std::uint32_t lane, std::uint32_t& total) {
    std::uint32_t inc = x;
    for (int d = 1; d < 32; d <<= 1) {
        const std::uint32_t y = __shfl_up_sync(kFull, inc, d);
        if (lane >= static_cast<std::uint32_t>(d)) inc += y;
    }
    total = __shfl_sync(kFull, inc, 31);
    return inc - x;
}

template <int MinBlocks>
__global__ void __launch_bounds__(kLevelBlock, MinBlocks)
    wave_level_kernel(const DevLevelJob* jobs, int job_count, std::size_t total, WavePackedEvent* far_base,
                      std::uint32_t far_per_warp, std::uint32_t capacity, LevelLayout lay, std::size_t warps) {
    extern __shared__ __align__(16) unsigned char smem[];
    const std::uint32_t lane = threadIdx.x & 31u;
    const std::uint32_t warp_in_block = threadIdx.x >> 5;
    const std::size_t warp = std::size_t{blockIdx.x} * (kLevelBlock / 32) + warp_in_block;
    unsigned char* mine = smem + warp_in_block * lay.warp_bytes();
    WaveLevelScratch s;
    s.events = {reinterpret_cast<WavePackedEvent*>(mine), lay.near, far_base + warp * far_per_warp};
    s.capacity = capacity;
    s.range = reinterpret_cast<std::uint32_t*>(mine + std::size_t{lay.near} * sizeof(WavePackedEvent));
    s.init = s.range + lay.max_slots;
    s.written = s.init + (lay.max_slots + 31) / 32;
    s.dirty = s.written + (lay.max_slots + 31) / 32;
    const std::uint32_t lanemask_lt = (1u << lane) - 1u;
    for (std::size_t i = warp; i < total; i += warps) {
        int lo = 0, hi = job_count - 1;
        while (lo < hi) {
            const int mid = (lo + hi + 1) / 2;
            if (jobs[mid].first <= i) lo = mid;
            else hi = mid - 1;
        }
        const DevLevelJob& job = jobs[lo];
        const std::size_t k = i - job.first;
        const WaveView& c = job.circuit;
        const WaveLevelView& l = job.levels;
        const std::uint64_t a0 = job.a0[k], a1 = job.a1[k], acc0 = job.acc0[k], acc1 = job.acc1[k];
        for (std::uint32_t w = lane; w < wave_slot_words(c); w += 32) s.init[w] = s.written[w] = 0;
        for (std::uint32_t w = lane; w < wave_position_words(c); w += 32) s.dirty[w] = 0;
        __syncwarp();
        double energy = 0;
        float settle = -INFINITY;
        bool acausal = false, overflow = false;
        std::uint32_t count = 0;
        const auto primaries = static_cast<std::uint32_t>(c.activation_bits + c.accumulator_bits);
        for (std::uint32_t p0 = 0; p0 < primaries; p0 += 32) {
            const std::uint32_t p = p0 + lane;
            const bool toggles = p < primaries && wave_level_primary(c, s, p, a0, acc0, a1, acc1);
            const unsigned m = __ballot_sync(kFull, toggles);
            if (toggles) wave_level_primary_event(c, l, s, p, count + __popc(m & lanemask_lt), a1, acc1, energy, settle);
            count += __popc(m);
        }
        __syncwarp();
        std::uint32_t next[kWaveMaxInputs], last[kWaveMaxInputs];
        for (std::uint32_t lv = 0; lv < l.levels && !overflow; ++lv) {
            const std::uint32_t end = l.level_begin[lv + 1];
            for (std::uint32_t base = l.level_begin[lv]; base < end; base += 32) {
                const std::uint32_t pos = base + lane;
                std::uint32_t gi = 0, bound = 0;
                unsigned assign = 0;
                bool dirty = false;
                if (pos < end) {
                    const WaveLevelGate g = l.gates[pos];
                    gi = g.gate;
                    assign = wave_level_init(g, s);
                    dirty = wave_bit(s.dirty, pos);
                    if (dirty) bound = wave_level_inputs(g, s, next, last);
                }
                std::uint32_t bound_total = 0;
                const std::uint32_t reserved = count + warp_exclusive_sum(bound, lane, bound_total);
                if (count + bound_total > capacity) {
                    overflow = true;
                    break;
                }
                std::uint32_t n = 0;
                if (dirty) {
                    std::uint32_t stop = reserved;
                    wave_gate_replay(c.gates[gi], gi, s.events, next, last, assign, reserved, stop, reserved + bound, acausal);
                    n = stop - reserved;
                }
                std::uint32_t n_total = 0;
                const std::uint32_t at = count + warp_exclusive_sum(n, lane, n_total);
                __syncwarp();
                // Pack the regions together in lane order; each destination lies at or below its
                // source and above every later one, so chunks of 32 read before they write.
                unsigned movers = __ballot_sync(kFull, n > 0 && at != reserved);
                while (movers != 0) {
                    const int from = __ffs(movers) - 1;
                    movers &= movers - 1;
                    const std::uint32_t src = __shfl_sync(kFull, reserved, from), dst = __shfl_sync(kFull, at, from),
                                        len = __shfl_sync(kFull, n, from);
                    for (std::uint32_t c0 = 0; c0 < len; c0 += 32) {
                        const bool mine_k = c0 + lane < len;
                        WavePackedEvent v{};
                        if (mine_k) v = s.events.at(src + c0 + lane);
                        __syncwarp();
                        if (mine_k) s.events.at(dst + c0 + lane) = v;
                        __syncwarp();
                    }
                }
                if (dirty) wave_level_finish(c, l, s, gi, at, n, energy, settle);
                count += n_total;
                __syncwarp();
            }
        }
        for (int d = 16; d > 0; d >>= 1) {
            energy += __shfl_xor_sync(kFull, energy, d);
            settle = fmaxf(settle, __shfl_xor_sync(kFull, settle, d));
        }
        acausal = __any_sync(kFull, acausal);
        if (lane == 0) job.results[k] = WaveLaneResult{settle, count, energy, overflow, acausal};
        __syncwarp();
    }
}

// Packs host arrays into one staging buffer, then one copy to the device. The large arrays (the
// transitions) go after it instead, copied straight from where they are, and the results' region
// is left for the kernel to write (it writes every transition's): no staging or zeroing of
// hundreds of megabytes on the host.
class Packer {
public:
    // Offsets at or above kLater lie after the staged bytes (at() resolves both kinds).
    static constexpr std::size_t kLater = std::size_t{1} << 62;
    std::size_t later(const void* p, std::size_t bytes) {
        const std::size_t off = (later_ + 255) / 256 * 256;
        later_ = off + bytes;
        if (p != nullptr && bytes > 0) copies_.push_back({off, p, bytes});
        return kLater + off;
    }
    std::size_t staged_bytes() const { return (data_.size() + 255) / 256 * 256; }
    std::size_t bytes() const { return staged_bytes() + later_; }
    unsigned char* at(unsigned char* dev, std::size_t off) const {
        return off >= kLater ? dev + staged_bytes() + (off - kLater) : dev + off;
    }
    void copy_in(unsigned char* dev) const {
        check(cudaMemcpy(dev, data_.data(), data_.size(), cudaMemcpyHostToDevice), "copy in");
        for (const Copy& c : copies_)
            check(cudaMemcpy(dev + staged_bytes() + c.off, c.from, c.bytes, cudaMemcpyHostToDevice), "copy in");
    }
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
    struct Copy {
        std::size_t off;
        const void* from;
        std::size_t bytes;
    };
    std::vector<unsigned char> data_;
    std::vector<Copy> copies_;
    std::size_t later_ = 0;
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
         WaveCudaKernel kernel, WaveCudaStats* stats) {
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
        std::size_t level_gates, level_begin, fan_pos;
    };
    std::vector<Offsets> off(job_count);
    // The level kernel where every circuit fits its packed events (else the lane kernel).
    std::vector<WaveLevelCircuit> levelled;
    if (kernel == WaveCudaKernel::level)
        for (std::size_t j = 0; j < job_count && levelled.size() == j; ++j) {
            levelled.push_back(level_circuit(jobs[j].circuit));
            if (!levelled.back().supported) levelled.clear();
        }
    // Resident threads: threads_per_sm per multiprocessor, rounded to a supported kernel variant
    // (blocks of 128 threads per multiprocessor 3, 4, 6 or 8, the compiler capping registers to
    // fit them), never more than the work needs. The level kernel: default 4 blocks (16 warps)
    // per multiprocessor, each warp a quarter of its block's share of shared memory (the lane
    // kernel where a warp's ranges and bit sets leave no room for events).
    auto blocks_variant = [](std::uint32_t want) { return want <= 3 ? 3 : want <= 4 ? 4 : want <= 6 ? 6 : 8; };
    const int level_blocks = blocks_variant(threads_per_sm > 0 ? (threads_per_sm + kLevelBlock - 1) / kLevelBlock : 4);
    const std::size_t level_warp_share =
        std::min<std::size_t>(prop.sharedMemPerMultiprocessor / static_cast<std::size_t>(level_blocks) - prop.reservedSharedMemPerBlock,
                              prop.sharedMemPerBlockOptin) /
        (kLevelBlock / 32);
    LevelLayout lay{0, 0, 0};
    for (std::size_t j = 0; j < job_count; ++j) {
        lay.max_slots = std::max(lay.max_slots, jobs[j].circuit.slot_count);
        lay.max_positions = std::max(lay.max_positions, jobs[j].circuit.gate_count);
    }
    const bool level = kernel == WaveCudaKernel::level && levelled.size() == job_count &&
                       level_warp_share >= lay.warp_bytes() + 64 * sizeof(WavePackedEvent);
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
        o.a0 = pack.later(job.a0, 8 * job.count);
        o.a1 = pack.later(job.a1, 8 * job.count);
        o.acc0 = pack.later(job.acc0, 8 * job.count);
        o.acc1 = pack.later(job.acc1, 8 * job.count);
        o.results = pack.later(nullptr, sizeof(WaveLaneResult) * job.count);
        if (level) {
            const WaveLevelCircuit& lc = levelled[j];
            o.level_gates = pack.add(lc.gates.data(), sizeof(WaveLevelGate) * lc.gates.size());
            o.level_begin = pack.add(lc.level_begin.data(), 4 * lc.level_begin.size());
            o.fan_pos = pack.add(lc.fanout_pos.data(), 4 * lc.fanout_pos.size());
        }
        total += job.count;
        max_slots = std::max(max_slots, c.slot_count);
        max_words = std::max(max_words, (c.gate_count + 63) / 64);
    }
    const std::size_t jobs_off = pack.zeros(sizeof(DevJob) * job_count);
    const std::size_t level_jobs_off = pack.zeros(level ? sizeof(DevLevelJob) * job_count : 0);

    unsigned char* dev = nullptr;
    check(cudaMalloc(&dev, pack.bytes()), "malloc (circuits, transitions, results)");
    std::size_t first = 0;
    std::vector<DevJob> dj(job_count);
    for (std::size_t j = 0; j < job_count; ++j) {
        const WaveView& c = jobs[j].circuit;
        const Offsets& o = off[j];
        DevJob& d = dj[j];
        d.circuit = c;
        d.circuit.gates = reinterpret_cast<const WaveGate*>(pack.at(dev, o.gates));
        d.circuit.internal_fj = reinterpret_cast<const double*>(pack.at(dev, o.internal));
        d.circuit.toggle_fj = reinterpret_cast<const double*>(pack.at(dev, o.toggle));
        d.circuit.is_output = pack.at(dev, o.is_output);
        d.circuit.fanout_begin = reinterpret_cast<const std::uint32_t*>(pack.at(dev, o.fan_begin));
        d.circuit.fanout_gates = reinterpret_cast<const std::uint32_t*>(pack.at(dev, o.fan_gates));
        d.a0 = reinterpret_cast<const std::uint64_t*>(pack.at(dev, o.a0));
        d.a1 = reinterpret_cast<const std::uint64_t*>(pack.at(dev, o.a1));
        d.acc0 = reinterpret_cast<const std::uint64_t*>(pack.at(dev, o.acc0));
        d.acc1 = reinterpret_cast<const std::uint64_t*>(pack.at(dev, o.acc1));
        d.results = reinterpret_cast<WaveLaneResult*>(pack.at(dev, o.results));
        d.first = first;
        d.count = jobs[j].count;
        first += jobs[j].count;
    }
    std::memcpy(pack.data().data() + jobs_off, dj.data(), sizeof(DevJob) * job_count);
    if (level) {
        std::vector<DevLevelJob> lj(job_count);
        for (std::size_t j = 0; j < job_count; ++j) {
            const Offsets& o = off[j];
            lj[j] = {dj[j].circuit, levelled[j].view(), dj[j].a0, dj[j].a1, dj[j].acc0, dj[j].acc1, dj[j].results, dj[j].first, dj[j].count};
            lj[j].levels.gates = reinterpret_cast<const WaveLevelGate*>(pack.at(dev, o.level_gates));
            lj[j].levels.level_begin = reinterpret_cast<const std::uint32_t*>(pack.at(dev, o.level_begin));
            lj[j].levels.fanout_begin = dj[j].circuit.fanout_begin;  // same offsets as the lane kernel's
            lj[j].levels.fanout_pos = reinterpret_cast<const std::uint32_t*>(pack.at(dev, o.fan_pos));
        }
        std::memcpy(pack.data().data() + level_jobs_off, lj.data(), sizeof(DevLevelJob) * job_count);
    }
    pack.copy_in(dev);

    // The order comparison recurses through cause chains (waveform_lane.hpp), with two
    // kWaveMaxChain arrays per level.
    check(cudaDeviceSetLimit(cudaLimitStackSize, 24 * 1024), "stack size");
    std::size_t threads = 0;
    const auto sms = static_cast<std::size_t>(prop.multiProcessorCount);
    if (level) {
        // The events beyond the warp's shared memory go to its global slice.
        const int blocks_per_sm = level_blocks;
        capacity = std::min(capacity, kWaveLevelMaxEvents);
        lay.near = static_cast<std::uint32_t>(
            std::min<std::size_t>(capacity, (level_warp_share - lay.warp_bytes()) / sizeof(WavePackedEvent)));
        const std::size_t blocks =
            std::max<std::size_t>(1, std::min(sms * static_cast<std::size_t>(blocks_per_sm), (total + kLevelBlock / 32 - 1) / (kLevelBlock / 32)));
        const std::size_t warps = blocks * (kLevelBlock / 32);
        const std::uint32_t far_per_warp = capacity > lay.near ? capacity - lay.near : 0;
        const std::size_t far_bytes = std::max<std::size_t>(16, warps * far_per_warp * sizeof(WavePackedEvent));
        if (g_scratch.bytes < far_bytes) {
            if (g_scratch.ptr) check(cudaFree(g_scratch.ptr), "free (scratch)");
            g_scratch = {};
            check(cudaMalloc(&g_scratch.ptr, far_bytes), "malloc (scratch)");
            g_scratch.bytes = far_bytes;
        }
        const std::size_t smem = lay.warp_bytes() * (kLevelBlock / 32);
        threads = warps * 32;
        const auto* dev_jobs = reinterpret_cast<const DevLevelJob*>(pack.at(dev, level_jobs_off));
        auto* far = reinterpret_cast<WavePackedEvent*>(g_scratch.ptr);
        auto launch = [&](auto kernel_fn) {
            check(cudaFuncSetAttribute(kernel_fn, cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(smem)),
                  "shared memory size");
            check(cudaEventRecord(k0), "event record");
            if (total > 0)
                kernel_fn<<<static_cast<unsigned>(blocks), kLevelBlock, smem>>>(dev_jobs, static_cast<int>(job_count), total, far,
                                                                                  far_per_warp, capacity, lay, warps);
        };
        switch (blocks_per_sm) {
        case 3: launch(wave_level_kernel<3>); break;
        case 4: launch(wave_level_kernel<4>); break;
        case 6: launch(wave_level_kernel<6>); break;
        default: launch(wave_level_kernel<8>); break;
        }
        if (stats) stats->near_events = lay.near;
    } else {
        // The lane kernel also comes with 5 blocks (640 threads, about 100 registers each), its
        // default: 8.95 s against 10.56 s at 768 threads/SM for the osu035 INT8 MAC's exhaustive
        // sweep on an H100 (sessions 10 and 11, docs/results/characterize.md).
        const std::uint32_t want = threads_per_sm > 0 ? (threads_per_sm + kBlock - 1) / kBlock : 5;
        const int blocks_per_sm = want == 5 ? 5 : blocks_variant(want);
        threads = std::min<std::size_t>(total, sms * static_cast<std::size_t>(blocks_per_sm) * kBlock);
        threads = std::max<std::size_t>(1, (threads + kBlock - 1) / kBlock) * kBlock;
        const ScratchLayout l = layout(capacity, max_slots, max_words, threads);
        if (g_scratch.bytes < l.bytes) {
            if (g_scratch.ptr) check(cudaFree(g_scratch.ptr), "free (scratch)");
            g_scratch = {};
            check(cudaMalloc(&g_scratch.ptr, l.bytes), "malloc (scratch)");
            g_scratch.bytes = l.bytes;
        }
        // Range stamps and dirty bits start at zero (events and initial values are written first).
        check(cudaMemset(g_scratch.ptr + l.range_off, 0, l.init_off - l.range_off), "memset (scratch)");
        // Dirty bits and initial values in shared memory where every block of the variant fits,
        // asked for by HALO_WAVE_LANE_SHARED=1 (off by default until it has run on a GPU:
        // docs/results/characterize.md, session 10).
        const std::size_t smem = lane_shared_bytes(l);
        const char* shared_env = std::getenv("HALO_WAVE_LANE_SHARED");
        const bool shared = shared_env != nullptr && std::string(shared_env) == "1" &&
                            smem <= prop.sharedMemPerBlockOptin &&
                            static_cast<std::size_t>(blocks_per_sm) * (smem + prop.reservedSharedMemPerBlock) <= prop.sharedMemPerMultiprocessor;
        const char* lockstep_env = std::getenv("HALO_WAVE_LANE_LOCKSTEP");
        const bool lockstep = lockstep_env == nullptr || std::string(lockstep_env) != "0";
        if (!lockstep && blocks_per_sm != 5)  // the host refuses this first (E3544)
            throw std::runtime_error("the jumps lane kernel runs at 5 blocks per multiprocessor only");
        check(cudaEventRecord(k0), "event record");
        if (total > 0) {
            const auto* dev_jobs = reinterpret_cast<const DevJob*>(pack.at(dev, jobs_off));
            const unsigned grid = static_cast<unsigned>(threads / kBlock);
            const int n = static_cast<int>(job_count);
            auto launch = [&](auto kernel_fn, std::size_t bytes) {
                if (bytes > 0)
                    check(cudaFuncSetAttribute(kernel_fn, cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(bytes)),
                          "shared memory size");
                kernel_fn<<<grid, kBlock, bytes>>>(dev_jobs, n, total, g_scratch.ptr, l);
            };
            // The jumps walk comes in the default 5 blocks per multiprocessor only (a comparison
            // variant; more instantiations cost compile time).
            if (!lockstep) {
                if (shared) launch(wave_kernel<5, true, false>, smem);
                else launch(wave_kernel<5, false, false>, 0);
            } else if (shared) {
                switch (blocks_per_sm) {
                case 3: launch(wave_kernel<3, true, true>, smem); break;
                case 4: launch(wave_kernel<4, true, true>, smem); break;
                case 5: launch(wave_kernel<5, true, true>, smem); break;
                case 6: launch(wave_kernel<6, true, true>, smem); break;
                default: launch(wave_kernel<8, true, true>, smem); break;
                }
            } else {
                switch (blocks_per_sm) {
                case 3: launch(wave_kernel<3, false, true>, 0); break;
                case 4: launch(wave_kernel<4, false, true>, 0); break;
                case 5: launch(wave_kernel<5, false, true>, 0); break;
                case 6: launch(wave_kernel<6, false, true>, 0); break;
                default: launch(wave_kernel<8, false, true>, 0); break;
                }
            }
        }
        if (stats) stats->lane_shared = shared, stats->lane_lockstep = lockstep;
    }
    check(cudaGetLastError(), "kernel launch");
    check(cudaEventRecord(k1), "event record");
    check(cudaDeviceSynchronize(), "kernel");
    for (std::size_t j = 0; j < job_count; ++j)
        check(cudaMemcpy(jobs[j].results, pack.at(dev, off[j].results), sizeof(WaveLaneResult) * jobs[j].count, cudaMemcpyDeviceToHost),
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
        stats->kernel = level ? WaveCudaKernel::level : WaveCudaKernel::lane;
    }
}

const WaveCudaApi kApi{kWaveCudaAbi, &probe, &run};

}  // namespace
}  // namespace halo::timing

extern "C" __attribute__((visibility("default"))) const halo::timing::WaveCudaApi* halo_wave_cuda_api() { return &halo::timing::kApi; }
