// Verilog generators of the integer MACs (one per architecture, listed in generators.cpp).
#pragma once

#include <string>

#include "halo/mac/mac_table.hpp"

namespace halo::mac {

std::string generate_int_mac(const MacSpec& spec, MacArch arch);

}  // namespace halo::mac
