// libFuzzer target for the GGUF reader: any byte string must either load (and then every
// tensor must dequantize within bounds, and the tokenizer build or fail cleanly) or be
// rejected with halo::Error; crashes, hangs and sanitizer reports are bugs.
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <string>
#include <unistd.h>

#include "halo/model/bpe_tokenizer.hpp"
#include "halo/model/gguf_reader.hpp"
#include "halo/util/diagnostics.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    // The reader maps files; keep the input in a per-process file in memory-backed /dev/shm.
    static const std::filesystem::path path = "/dev/shm/halo_gguf_fuzz_" + std::to_string(::getpid()) + ".gguf";
    if (FILE* f = std::fopen(path.c_str(), "wb")) {
        if (size) std::fwrite(data, 1, size, f);
        std::fclose(f);
    } else {
        return 0;
    }
    try {
        halo::model::GgufFile file(path);
        for (const auto& t : file.tensors())
            if (t.n_elements() <= (1 << 20)) (void)file.dequantize(t);
        try {
            (void)halo::model::bpe_from_gguf(file);
        } catch (const halo::Error&) {
        }
    } catch (const halo::Error&) {
    }
    return 0;
}
