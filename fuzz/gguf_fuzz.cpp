// libFuzzer target for the GGUF reader: any byte string must either load (and then every
// tensor must dequantize within bounds, and the tokenizer build or fail cleanly) or be
// rejected with halo::Error; crashes, hangs and sanitizer reports are bugs.
#include <cstdint>
#include <filesystem>

#include "halo/model/bpe_tokenizer.hpp"
#include "halo/model/gguf_reader.hpp"
#include "fuzz_input_file.hpp"
#include "halo/util/diagnostics.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::filesystem::path path = halo::fuzz::write_fuzz_input("gguf_fuzz", ".gguf", data, size);
    if (path.empty()) return 0;
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
