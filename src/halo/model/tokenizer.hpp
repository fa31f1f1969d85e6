// A tokenizer built from a model's own files (GGUF tokenizer.ggml.* or tokenizer.json).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace halo::model {

class Tokenizer {
public:
    virtual ~Tokenizer() = default;
    virtual std::vector<std::int32_t> encode(std::string_view text, bool add_bos) const = 0;
    virtual std::string decode(const std::vector<std::int32_t>& ids) const = 0;
    virtual int vocab_size() const = 0;
    virtual std::int32_t bos_id() const = 0;  // -1 when none
    virtual std::int32_t eos_id() const = 0;
};

}  // namespace halo::model

#include <filesystem>

namespace halo::model {

// The tokenizer of a model: a .gguf file (tokenizer.ggml.*), a tokenizer.json, or a checkpoint
// directory holding tokenizer.json. Implemented in bpe_tokenizer.cpp (byte-level BPE).
std::unique_ptr<Tokenizer> load_tokenizer(const std::filesystem::path& path);

}  // namespace halo::model
