// Tests on the installed default model and texts (scripts/setup.sh data) skip when they are
// absent, unless HALO_REQUIRE_DATA is set (`make test` sets it, after installing them): then the
// absence is a failure, so the real-model tests cannot pass by skipping.
#pragma once

#include <cstdlib>
#include <filesystem>

#include <gtest/gtest.h>

#define HALO_SKIP_UNLESS_INSTALLED(path)                                                                          \
    do {                                                                                                          \
        if (!std::filesystem::exists(path)) {                                                                     \
            if (std::getenv("HALO_REQUIRE_DATA")) FAIL() << (path) << " is missing and HALO_REQUIRE_DATA is set"; \
            GTEST_SKIP() << (path) << " not installed (scripts/setup.sh data)";                                 \
        }                                                                                                         \
    } while (0)
