// Hostile .hqt layer files (issue #17 classes 1 and 3): a 68-byte header claiming 2^24 x 2^24
// is refused before any allocation, and NaN/Inf scales are refused instead of turning the
// perplexity into NaN.
#include <gtest/gtest.h>

#include <cstring>
#include <limits>

#include "halo/quant/quant_dir.hpp"
#include "halo/util/diagnostics.hpp"
#include "test_util.hpp"

namespace halo::quant {
namespace {

std::string error_of(const std::function<void()>& f) {
    try {
        f();
    } catch (const Error& e) {
        EXPECT_EQ(e.exit_code(), 2) << e.what();
        return std::string(e.diagnostic().code) + " " + e.what();
    }
    return "no error";
}

template <class T>
void poke(std::string& bytes, std::size_t at, T v) {
    std::memcpy(bytes.data() + at, &v, sizeof(T));
}

// 1 x 3 int3, one fp32 scale per row: 68-byte header, 2 code bytes, the scale at byte 70.
std::pair<QuantSpec, std::string> small_hqt() {
    model::Matrix m(1, 3);
    m.data = {1, -1, 0};
    const auto spec = make_spec("int3", Granularity::per_channel(), ScaleFormat::fp32);
    return {spec, write_hqt(quantize_rtn(m, spec))};
}

TEST(HostileHqt, HugeShapeInATinyFileIsRefusedBeforeAllocating) {
    auto [spec, bytes] = small_hqt();
    bytes.resize(68);
    poke<std::int64_t>(bytes, 8, std::int64_t{1} << 24);   // rows
    poke<std::int64_t>(bytes, 16, std::int64_t{1} << 24);  // cols
    const std::string msg = error_of([&] { (void)read_hqt(bytes, spec, "dir/blk.0.attn_q.hqt"); });
    // 2^48 codes of 3 bits = 105,553,116,266,496 bytes, of which the file holds none.
    EXPECT_EQ(msg, "E6010 error E6010: dir/blk.0.attn_q.hqt at byte 68: quantized tensor file is truncated "
                   "(expected 105553116266496 more bytes, found 0); hint: the directory was copied partially; re-run halo quantize");
}

TEST(HostileHqt, NanAndInfScalesAreRefused) {
    for (float bad : {std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity()}) {
        auto [spec, bytes] = small_hqt();
        ASSERT_EQ(bytes.size(), 74u);
        poke<float>(bytes, 70, bad);
        const std::string msg = error_of([&] { (void)read_hqt(bytes, spec, "dir/blk.0.attn_q.hqt"); });
        EXPECT_NE(msg.find("E6010 error E6010: dir/blk.0.attn_q.hqt: a group scale is not finite (expected a finite scale, found "),
                  std::string::npos) << msg;
    }
}

}  // namespace
}  // namespace halo::quant
