#include "halo/util/memory_usage.hpp"

#include <fstream>
#include <string>

namespace halo {
namespace {

double status_field_mib(const char* field) {
    std::ifstream in("/proc/self/status");
    std::string line;
    const std::string key = field;
    while (std::getline(in, line))
        if (line.rfind(key, 0) == 0) return std::stod(line.substr(key.size())) / 1024.0;  // the file says kB
    return 0;
}

}  // namespace

double peak_rss_mib() { return status_field_mib("VmHWM:"); }
double current_rss_mib() { return status_field_mib("VmRSS:"); }

}  // namespace halo
