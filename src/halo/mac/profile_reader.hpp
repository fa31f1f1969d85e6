// The reader of the MAC profile JSON (docs/formats.md, "MAC profile") that profile.hpp's
// write_profile writes: every field, so a profile read back and written again is the same file.
// Bad input E4530 names the file and the field (missing, wrong type, a code that is not a bit
// string of weight_bits bits, not a halo MAC profile at all).
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "halo/mac/profile.hpp"

namespace halo::mac {

// `file` names the source in messages.
MacProfile parse_profile_json(std::string_view text, const std::string& file);
MacProfile read_profile_file(const std::filesystem::path& path);

}  // namespace halo::mac
