// Shows halo::Progress updates: a redrawn bar with rate and ETA on a terminal, a line every few
// seconds when stderr is a file or pipe, nothing with --quiet.
#pragma once

#include "halo/util/progress.hpp"

namespace halo::cli {

ProgressSink terminal_progress(bool quiet = false);

}  // namespace halo::cli
