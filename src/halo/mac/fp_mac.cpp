#include "halo/mac/fp_mac.hpp"

#include <array>
#include <map>

#include <fmt/format.h>

#include "halo/util/diagnostics.hpp"

namespace halo::mac {
namespace {

struct FpLayout {
    OperandFormat format;
    int exp_bits, man_bits, bias;
    bool ieee_specials;  // Inf and NaN at exponent all ones (else E4M3: NaN = s.1111.111, no Inf)
};

constexpr std::array<FpLayout, 4> kLayouts{{
    {OperandFormat::fp8_e4m3, 4, 3, 7, false},
    {OperandFormat::bf16, 8, 7, 127, true},
    {OperandFormat::fp16, 5, 10, 15, true},
    {OperandFormat::fp32, 8, 23, 127, true},
}};

const FpLayout& layout_of(OperandFormat f) {
    for (const auto& l : kLayouts)
        if (l.format == f) return l;
    throw_internal("E4030", "operand format is not a floating-point layout");
}

// A leading-zero counter over `width` bits as a Verilog function (result width 8).
std::string lzc_function(int width) {
    return fmt::format(
        "  function [7:0] lzc{0};\n"
        "    input [{1}:0] v;\n"
        "    integer i;\n"
        "    reg found;\n"
        "    begin\n"
        "      lzc{0} = {0};\n"
        "      found = 1'b0;\n"
        "      for (i = {1}; i >= 0; i = i - 1)\n"
        "        if (!found && v[i]) begin lzc{0} = {1} - i; found = 1'b1; end\n"
        "    end\n"
        "  endfunction\n",
        width, width - 1);
}

std::string substitute(std::string text, const std::map<std::string, std::string>& vars) {
    for (const auto& [key, value] : vars) {
        const std::string pat = "@" + key + "@";
        for (std::size_t p = text.find(pat); p != std::string::npos; p = text.find(pat, p + value.size()))
            text.replace(p, pat.size(), value);
    }
    return text;
}

std::string unpack_input(const char* x, const FpLayout& in) {
    const std::string nan = in.ieee_specials ? fmt::format("(&{0}e) & (|{0}m)", x)
                                             : fmt::format("&{}[@WB@-2:0]", x);
    const std::string inf = in.ieee_specials ? fmt::format("(&{0}e) & ~(|{0}m)", x) : "1'b0";
    return fmt::format(
        "  wire {0}s = {0}[@WB@-1];\n"
        "  wire [@IE@-1:0] {0}e = {0}[@WB@-2:@IM@];\n"
        "  wire [@IM@-1:0] {0}m = {0}[@IM@-1:0];\n"
        "  wire {0}_nan = {1};\n"
        "  wire {0}_inf = {2};\n"
        "  wire {0}_zero = ({0}e == 0) && ({0}m == 0);\n"
        "  wire [@IM@:0] {0}sig = {{{0}e != 0, {0}m}};\n"
        "  wire signed [15:0] {0}exp = ({0}e == 0) ? 16'sd1 : $signed({{{{(16-@IE@){{1'b0}}}}, {0}e}});\n",
        x, nan, inf);
}

// The datapath of fp_mac.hpp; @X@ are numbers substituted per MAC.
constexpr const char* kDatapath = R"(
  // product: psig * 2^(wexp + aexp - 2*bias - 2*man_bits), exact
  wire [@PW@-1:0] psig = wsig * asig;
  wire ps = ws ^ as;
  wire p_zero = (psig == 0);
  wire [7:0] plz = lzc@PW@(psig);
  wire signed [15:0] pexp = wexp + aexp - 16'sd@PBIAS@ + 16'sd@PWM1@ - $signed({8'b0, plz});
  wire [@N@-1:0] pnorm = @PEXT@ << plz;

  // accumulator, normalized the same way
  wire cs = acc[@AW@-1];
  wire [@AE@-1:0] ce = acc[@AW@-2:@AM@];
  wire [@AM@-1:0] cm = acc[@AM@-1:0];
  wire c_nan = (&ce) & (|cm);
  wire c_inf = (&ce) & ~(|cm);
  wire [@N@-1:0] csig = {ce != 0, cm};
  wire c_zero = (csig == 0);
  wire [7:0] clz = lzc@N@(csig);
  wire signed [15:0] cexp = ((ce == 0) ? 16'sd1 : $signed({{(16-@AE@){1'b0}}, ce})) - 16'sd@CBIAS@ - $signed({8'b0, clz});
  wire [@N@-1:0] cnorm = csig << clz;

  // X: the operand of larger magnitude
  wire p_bigger = !p_zero && (c_zero || (pexp > cexp) || (pexp == cexp && pnorm > cnorm));
  wire xs = p_bigger ? ps : cs;
  wire signed [15:0] xe = p_bigger ? pexp : cexp;
  wire [@N@-1:0] xm = p_bigger ? pnorm : cnorm;
  wire ys = p_bigger ? cs : ps;
  wire signed [15:0] ye = p_bigger ? cexp : pexp;
  wire [@N@-1:0] ym = p_bigger ? cnorm : pnorm;
  wire y_zero = p_bigger ? c_zero : p_zero;

  // exact (or rounding-equivalent) sum in a window of W = 2N+4 bits
  wire signed [15:0] d = xe - ye;
  wire [@W@-1:0] xw = {xm, @GPAD@};
  wire [@W@-1:0] yfull = {ym, @GPAD@};
  wire [@W@-1:0] yw = y_zero ? @W@'d0 : (d > 16'sd@NP4@) ? @W@'d1 : (yfull >> d[7:0]);
  wire sub = xs ^ ys;
  wire [@W@:0] s = sub ? ({1'b0, xw} - {1'b0, yw}) : ({1'b0, xw} + {1'b0, yw});

  // normalize and place the ulp at bit 2 of r
  wire [7:0] slz = lzc@W1@(s);
  wire signed [15:0] lead = 16'sd@W@ - $signed({8'b0, slz});
  wire signed [15:0] er = lead + xe - 16'sd@TWON3@;
  wire is_normal = (er >= 16'sd@EMIN@);
  wire signed [15:0] ulp_normal = lead - 16'sd@NM1@;
  wire signed [15:0] ulp_sub = 16'sd@SUBPOS@ - xe;
  wire signed [15:0] ulp = is_normal ? ulp_normal : ulp_sub;
  wire signed [15:0] sh = ulp + 16'sd@KM2@;
  wire [@SXW@-1:0] sx = {s, @KPAD@};
  wire [@SXW@-1:0] r = sx >> sh[9:0];
  wire sticky_lo = |(sx & ~({@SXW@{1'b1}} << sh[9:0]));
  wire [@N@-1:0] kept = r[@N@+1:2];
  wire round_up = r[1] & (r[0] | sticky_lo | kept[0]);
  wire [@N@:0] kept_r = {1'b0, kept} + round_up;
  wire signed [15:0] base = is_normal ? (er + 16'sd@CBIASM1@) : 16'sd0;
  wire [@N@+15:0] packed = {base, @NM1PAD@} + kept_r;
  wire overflow = (packed[@N@+15:@N@-1] >= @EMAXF@);

  // specials
  wire p_nan = w_nan | a_nan | (w_inf & a_zero) | (a_inf & w_zero);
  wire p_inf = w_inf | a_inf;
  wire any_nan = p_nan | c_nan | (p_inf & c_inf & (ps != cs));
  wire both_zero = p_zero & c_zero;
  wire exact_zero = (s == 0);
  assign y = any_nan ? @CNAN@ :
             p_inf ? {ps, @INF@} :
             c_inf ? {cs, @INF@} :
             both_zero ? {cs & ps, @AW1ZERO@} :
             exact_zero ? @AW@'d0 :
             overflow ? {xs, @INF@} :
             {xs, packed[@AW@-2:0]};
endmodule
)";

}  // namespace

std::string generate_fp_mac(const MacSpec& spec, MacArch) {
    const FpLayout& in = layout_of(spec.activation_format);
    const FpLayout& out = layout_of(spec.accumulator_format);
    const int wb = 1 + in.exp_bits + in.man_bits;
    const int aw = 1 + out.exp_bits + out.man_bits;
    const int pw = 2 * (in.man_bits + 1);
    const int n = out.man_bits + 1;
    if (pw > n) throw_internal("E4031", fmt::format("{}: product width {} exceeds accumulator precision {}", spec.name, pw, n));
    const int w = 2 * n + 4;
    const int k = n + 1;  // zeros appended below s so a left shift is never needed
    const int emin = 1 - out.bias;
    auto zeros = [](int count) { return count == 0 ? std::string("1'b0") : fmt::format("{}'b0", count); };
    const std::uint64_t cnan = out.format == OperandFormat::fp32 ? 0x7FC00000u : 0x7E00u;
    std::map<std::string, std::string> vars{
        {"WB", std::to_string(wb)},
        {"IE", std::to_string(in.exp_bits)},
        {"IM", std::to_string(in.man_bits)},
        {"PW", std::to_string(pw)},
        {"PBIAS", std::to_string(2 * in.bias + 2 * in.man_bits)},
        {"PWM1", std::to_string(pw - 1)},
        {"N", std::to_string(n)},
        {"AW", std::to_string(aw)},
        {"AE", std::to_string(out.exp_bits)},
        {"AM", std::to_string(out.man_bits)},
        {"CBIAS", std::to_string(out.bias + out.man_bits - (n - 1))},
        {"W", std::to_string(w)},
        {"W1", std::to_string(w + 1)},
        {"NP4", std::to_string(n + 4)},
        {"TWON3", std::to_string(2 * n + 3)},
        {"EMIN", emin < 0 ? fmt::format("0 - 16'sd{}", -emin) : std::to_string(emin)},
        {"NM1", std::to_string(n - 1)},
        {"SUBPOS", "0"},
        {"KM2", std::to_string(k - 2)},
        {"SXW", std::to_string(w + 1 + k)},
        {"CBIASM1", std::to_string(out.bias - 1)},
        {"EMAXF", fmt::format("{}", (1 << out.exp_bits) - 1)},
        {"CNAN", fmt::format("{}'h{:x}", aw, cnan)},
        {"INF", fmt::format("{{{}{{1'b1}}}}, {}", out.exp_bits, zeros(out.man_bits))},
        {"AW1ZERO", zeros(aw - 1)},
    };
    // Paddings that may be empty in Verilog are spelled as explicit zero vectors.
    vars["PEXT"] = pw == n ? std::string("psig") : fmt::format("{{psig, {}}}", zeros(n - pw));
    vars["GPAD"] = zeros(n + 4);
    vars["KPAD"] = zeros(k);
    vars["NM1PAD"] = zeros(n - 1);
    // ulp_sub = emin + N + 4 - xe, written as a constant minus xe.
    const int subpos = emin + n + 4;
    vars["SUBPOS"] = subpos < 0 ? fmt::format("0 - 16'sd{}", -subpos) : std::to_string(subpos);
    std::string text = fmt::format("// {}: y = acc + w * a, fused, round to nearest even; generated by halo\n", spec.name);
    text += "module mac(input [@WB@-1:0] w, input [@WB@-1:0] a, input [@AW@-1:0] acc, output [@AW@-1:0] y);\n";
    text += lzc_function(pw);
    if (n != pw) text += lzc_function(n);
    text += lzc_function(w + 1);
    text += unpack_input("w", in);
    text += unpack_input("a", in);
    text += kDatapath;
    return substitute(text, vars);
}

}  // namespace halo::mac
