// Outputs never replace inputs. Every file halo reads through read_file or MappedFile is recorded
// by identity (st_dev, st_ino), not by name, so `--out lib.lib` equal to `--liberty ./lib.lib`,
// a hard link, or a symlink to it are all caught. Before an output replaces an existing path,
// refuse_replacing_input checks it: a file must not be a recorded input, and a directory must not
// contain one (replacing `--out M` with --force must not delete the model M/ it read).
// Files this process wrote itself are not inputs when read back (a pipeline re-reading its own
// intermediate output may rewrite it).
#pragma once

#include <filesystem>

namespace halo {

void note_input_file(const std::filesystem::path& path, unsigned long long dev, unsigned long long ino);
void note_output_file(const std::filesystem::path& path);

// E0005 (bad input) naming `target` and the input it would destroy; nothing when target does not exist.
void refuse_replacing_input(const std::filesystem::path& target);

}  // namespace halo
