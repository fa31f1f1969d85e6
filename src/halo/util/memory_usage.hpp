// Process memory figures for run summaries: peak and current resident set size, from
// /proc/self/status (VmHWM, VmRSS). 0 where /proc is not there.
#pragma once

namespace halo {

double peak_rss_mib();
double current_rss_mib();

}  // namespace halo
