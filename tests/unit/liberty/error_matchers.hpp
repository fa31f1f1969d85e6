// Runs `fn`, expects a halo::Error and returns its diagnostic (fails the test otherwise).
#pragma once

#include <gtest/gtest.h>

#include "halo/util/diagnostics.hpp"

template <typename Fn>
halo::Diagnostic expect_halo_error(Fn&& fn) {
    try {
        fn();
    } catch (const halo::Error& e) {
        return e.diagnostic();
    }
    ADD_FAILURE() << "expected a halo::Error";
    return {};
}
