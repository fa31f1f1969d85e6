// libFuzzer target for the safetensors reader: any byte string loads or throws halo::Error.
#include <cstdint>
#include <filesystem>

#include "halo/model/safetensors_reader.hpp"
#include "fuzz_input_file.hpp"
#include "halo/util/diagnostics.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::filesystem::path path = halo::fuzz::write_fuzz_input("safetensors_fuzz", ".safetensors", data, size);
    if (path.empty()) return 0;
    try {
        halo::model::SafetensorsFile file(path);
        for (const auto& t : file.tensors())
            if (t.n_elements() <= (1 << 20)) (void)file.dequantize(t);
    } catch (const halo::Error&) {
    }
    return 0;
}
