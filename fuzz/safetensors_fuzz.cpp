// libFuzzer target for the safetensors reader: any byte string loads or throws halo::Error.
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <string>
#include <unistd.h>

#include "halo/model/safetensors_reader.hpp"
#include "halo/util/diagnostics.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const std::filesystem::path path =
        "/dev/shm/halo_safetensors_fuzz_" + std::to_string(::getpid()) + ".safetensors";
    if (FILE* f = std::fopen(path.c_str(), "wb")) {
        if (size) std::fwrite(data, 1, size, f);
        std::fclose(f);
    } else {
        return 0;
    }
    try {
        halo::model::SafetensorsFile file(path);
        for (const auto& t : file.tensors())
            if (t.n_elements() <= (1 << 20)) (void)file.dequantize(t);
    } catch (const halo::Error&) {
    }
    return 0;
}
