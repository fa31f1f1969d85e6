#include "halo/gpu/nvml_probe.hpp"

#include <dlfcn.h>

#include <fmt/format.h>

#include "halo/util/diagnostics.hpp"

namespace halo::gpu {

namespace {
// The few NVML entry points halo uses, declared from NVML's public C API (stable ABI).
using NvmlReturn = int;
using NvmlDevice = void*;
constexpr int kNvmlClockSm = 1;
using InitFn = NvmlReturn (*)();
using ShutdownFn = NvmlReturn (*)();
using HandleFn = NvmlReturn (*)(unsigned, NvmlDevice*);
using EnergyFn = NvmlReturn (*)(NvmlDevice, unsigned long long*);
using ClockFn = NvmlReturn (*)(NvmlDevice, int, unsigned*);
using PowerFn = NvmlReturn (*)(NvmlDevice, unsigned*);
using NameFn = NvmlReturn (*)(NvmlDevice, char*, unsigned);
using DriverFn = NvmlReturn (*)(char*, unsigned);

template <class F>
F symbol(void* lib, const char* name) {
    void* p = ::dlsym(lib, name);
    if (!p) throw_internal("E8001", fmt::format("NVML lacks {}", name), "an NVIDIA driver with NVML is needed");
    return reinterpret_cast<F>(p);
}
}  // namespace

struct NvmlProbe::Impl {
    void* lib = nullptr;
    NvmlDevice device = nullptr;
    ShutdownFn shutdown = nullptr;
    EnergyFn energy = nullptr;
    ClockFn clock = nullptr;
    PowerFn power = nullptr;
    PowerFn limit = nullptr;
    NameFn name = nullptr;
    DriverFn driver = nullptr;
};

NvmlProbe::NvmlProbe(unsigned device_index) : impl_(std::make_unique<Impl>()) {
    impl_->lib = ::dlopen("libnvidia-ml.so.1", RTLD_NOW | RTLD_LOCAL);
    if (!impl_->lib)
        throw_internal("E8001", "cannot load libnvidia-ml.so.1 (NVML)", "run on a machine with an NVIDIA driver");
    auto init = symbol<InitFn>(impl_->lib, "nvmlInit_v2");
    impl_->shutdown = symbol<ShutdownFn>(impl_->lib, "nvmlShutdown");
    auto handle = symbol<HandleFn>(impl_->lib, "nvmlDeviceGetHandleByIndex_v2");
    impl_->energy = symbol<EnergyFn>(impl_->lib, "nvmlDeviceGetTotalEnergyConsumption");
    impl_->clock = symbol<ClockFn>(impl_->lib, "nvmlDeviceGetClockInfo");
    impl_->power = symbol<PowerFn>(impl_->lib, "nvmlDeviceGetPowerUsage");
    impl_->limit = symbol<PowerFn>(impl_->lib, "nvmlDeviceGetEnforcedPowerLimit");
    impl_->name = symbol<NameFn>(impl_->lib, "nvmlDeviceGetName");
    impl_->driver = symbol<DriverFn>(impl_->lib, "nvmlSystemGetDriverVersion");
    if (int rc = init(); rc != 0) throw_internal("E8001", fmt::format("nvmlInit failed ({})", rc));
    if (int rc = handle(device_index, &impl_->device); rc != 0)
        throw_internal("E8001", fmt::format("NVML has no device {} ({})", device_index, rc));
}

NvmlProbe::~NvmlProbe() {
    if (impl_ && impl_->shutdown) impl_->shutdown();
    if (impl_ && impl_->lib) ::dlclose(impl_->lib);
}

NvmlSample NvmlProbe::sample() const {
    NvmlSample s;
    unsigned long long e = 0;
    if (impl_->energy(impl_->device, &e) != 0) throw_internal("E8002", "NVML total energy counter unreadable");
    s.energy_mj = e;
    impl_->clock(impl_->device, kNvmlClockSm, &s.sm_clock_mhz);
    impl_->power(impl_->device, &s.power_mw);
    return s;
}

std::string NvmlProbe::device_name() const {
    char buf[128] = {};
    impl_->name(impl_->device, buf, sizeof buf);
    return buf;
}

std::string NvmlProbe::driver_version() const {
    char buf[128] = {};
    impl_->driver(buf, sizeof buf);
    return buf;
}

unsigned NvmlProbe::power_limit_mw() const {
    unsigned mw = 0;
    impl_->limit(impl_->device, &mw);
    return mw;
}

bool NvmlProbe::available() {
    try {
        NvmlProbe p;
        return true;
    } catch (const Error&) {
        return false;
    }
}

}  // namespace halo::gpu
