// NVML read-only access, loaded at run time with dlopen("libnvidia-ml.so.1") so halo builds
// where no driver or NVML header exists (CI) and says so clearly where it runs without one.
// Only queries are used: total energy counter, SM clock, power draw, power limit, names.
// Nothing here changes a setting of the card.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

namespace halo::gpu {

struct NvmlSample {
    std::uint64_t energy_mj = 0;  // total energy since driver load (nvmlDeviceGetTotalEnergyConsumption)
    unsigned sm_clock_mhz = 0;
    unsigned power_mw = 0;
};

class NvmlProbe {
public:
    // Throws halo::Error (E8001, internal) when NVML cannot be loaded or the device not found.
    explicit NvmlProbe(unsigned device_index = 0);
    ~NvmlProbe();
    NvmlProbe(const NvmlProbe&) = delete;
    NvmlProbe& operator=(const NvmlProbe&) = delete;

    NvmlSample sample() const;
    std::string device_name() const;
    std::string driver_version() const;
    unsigned power_limit_mw() const;  // enforced limit, as set by the owner; read only

    static bool available();  // libnvidia-ml.so.1 loads and reports a device

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace halo::gpu
