#include <functional>
#include <map>
#include <random>

#include <gtest/gtest.h>

#include "error_matchers.hpp"
#include "halo/liberty/cell_function.hpp"
#include "halo/liberty/liberty_reader.hpp"

using namespace halo::liberty;

namespace {

using Inputs = std::map<std::string, bool>;
using Truth = std::function<bool(const Inputs&)>;

// Known truth tables of osu018's combinational outputs, written from the cells' names (not
// from their function strings), keyed "CELL/PIN".
const std::map<std::string, Truth>& known_truth() {
    static const std::map<std::string, Truth> t = [] {
        std::map<std::string, Truth> m;
        auto v = [](const Inputs& in, const char* p) { return in.at(p); };
        Truth and2 = [=](const Inputs& i) { return v(i, "A") && v(i, "B"); };
        Truth or2 = [=](const Inputs& i) { return v(i, "A") || v(i, "B"); };
        Truth buf = [=](const Inputs& i) { return v(i, "A"); };
        Truth inv = [=](const Inputs& i) { return !v(i, "A"); };
        for (const char* c : {"AND2X1", "AND2X2"}) m[std::string(c) + "/Y"] = and2;
        for (const char* c : {"OR2X1", "OR2X2"}) m[std::string(c) + "/Y"] = or2;
        for (const char* c : {"BUFX2", "BUFX4", "CLKBUF1", "CLKBUF2", "CLKBUF3"}) m[std::string(c) + "/Y"] = buf;
        for (const char* c : {"INVX1", "INVX2", "INVX4", "INVX8", "TBUFX1", "TBUFX2"}) m[std::string(c) + "/Y"] = inv;
        m["AOI21X1/Y"] = [=](const Inputs& i) { return !((v(i, "A") && v(i, "B")) || v(i, "C")); };
        m["AOI22X1/Y"] = [=](const Inputs& i) { return !((v(i, "A") && v(i, "B")) || (v(i, "C") && v(i, "D"))); };
        m["OAI21X1/Y"] = [=](const Inputs& i) { return !((v(i, "A") || v(i, "B")) && v(i, "C")); };
        m["OAI22X1/Y"] = [=](const Inputs& i) { return !((v(i, "A") || v(i, "B")) && (v(i, "C") || v(i, "D"))); };
        m["NAND2X1/Y"] = [=](const Inputs& i) { return !(v(i, "A") && v(i, "B")); };
        m["NAND3X1/Y"] = [=](const Inputs& i) { return !(v(i, "A") && v(i, "B") && v(i, "C")); };
        m["NOR2X1/Y"] = [=](const Inputs& i) { return !(v(i, "A") || v(i, "B")); };
        m["NOR3X1/Y"] = [=](const Inputs& i) { return !(v(i, "A") || v(i, "B") || v(i, "C")); };
        m["XOR2X1/Y"] = [=](const Inputs& i) { return v(i, "A") != v(i, "B"); };
        m["XNOR2X1/Y"] = [=](const Inputs& i) { return v(i, "A") == v(i, "B"); };
        m["MUX2X1/Y"] = [=](const Inputs& i) { return !(v(i, "S") ? v(i, "A") : v(i, "B")); };  // inverting mux
        m["HAX1/YC"] = and2;
        m["HAX1/YS"] = [=](const Inputs& i) { return v(i, "A") != v(i, "B"); };
        m["FAX1/YC"] = [=](const Inputs& i) { return int(v(i, "A")) + v(i, "B") + v(i, "C") >= 2; };
        m["FAX1/YS"] = [=](const Inputs& i) { return (int(v(i, "A")) + v(i, "B") + v(i, "C")) % 2 == 1; };
        return m;
    }();
    return t;
}

const Library& osu018() {
    static const Library lib = read_liberty("/usr/share/qflow/tech/osu018/osu018_stdcells.lib");
    return lib;
}

std::vector<std::string> names(std::initializer_list<const char*> l) { return {l.begin(), l.end()}; }

// Brute force over the completions of X inputs, with the slow reference evaluator.
Ternary brute_eval3(const CellFunction& f, const std::vector<Ternary>& v) {
    std::vector<int> xs;
    for (int p : f.support())
        if (v[p] == Ternary::x) xs.push_back(p);
    bool any0 = false, any1 = false;
    for (unsigned m = 0; m < (1u << xs.size()); ++m) {
        std::vector<bool> b(v.size());
        for (std::size_t i = 0; i < v.size(); ++i) b[i] = v[i] == Ternary::one;
        for (std::size_t k = 0; k < xs.size(); ++k) b[xs[k]] = (m >> k) & 1;
        (f.eval_reference(b) ? any1 : any0) = true;
    }
    return any0 && any1 ? Ternary::x : any1 ? Ternary::one : Ternary::zero;
}

Sensitization brute_sensitize(const CellFunction& f, int pin, std::vector<Ternary> v) {
    v[pin] = Ternary::zero;
    std::vector<int> xs;
    for (int p : f.support())
        if (v[p] == Ternary::x) xs.push_back(p);
    bool rise = false, fall = false;
    for (unsigned m = 0; m < (1u << xs.size()); ++m) {
        std::vector<bool> b(v.size());
        for (std::size_t i = 0; i < v.size(); ++i) b[i] = v[i] == Ternary::one;
        for (std::size_t k = 0; k < xs.size(); ++k) b[xs[k]] = (m >> k) & 1;
        b[pin] = false;
        bool f0 = f.eval_reference(b);
        b[pin] = true;
        bool f1 = f.eval_reference(b);
        rise |= f1 && !f0;
        fall |= f0 && !f1;
    }
    if (rise && fall) return {true, Unateness::non_unate};
    if (rise) return {true, Unateness::positive};
    if (fall) return {true, Unateness::negative};
    return {false, Unateness::none};
}

// Every ternary assignment of n pins.
std::vector<std::vector<Ternary>> all_ternary(std::size_t n) {
    std::vector<std::vector<Ternary>> out;
    std::size_t total = 1;
    for (std::size_t i = 0; i < n; ++i) total *= 3;
    for (std::size_t code = 0; code < total; ++code) {
        std::vector<Ternary> v(n);
        std::size_t c = code;
        for (std::size_t i = 0; i < n; ++i, c /= 3) v[i] = static_cast<Ternary>(c % 3);
        out.push_back(v);
    }
    return out;
}

}  // namespace

TEST(CellFunction, EveryOsu018CombinationalOutputMatchesItsKnownTruthTable) {
    std::mt19937_64 rng(7);
    int checked = 0;
    for (const Cell& cell : osu018().cells) {
        if (cell.is_sequential) continue;
        for (std::size_t p = 0; p < cell.pins.size(); ++p) {
            if (cell.pins[p].direction != PinDirection::output) continue;
            std::string key = cell.name + "/" + cell.pins[p].name;
            auto it = known_truth().find(key);
            ASSERT_NE(it, known_truth().end()) << key << " has no known truth table in this test";
            const CellFunction* f = cell.logic.function(static_cast<int>(p));
            ASSERT_NE(f, nullptr) << key;
            ASSERT_TRUE(f->truth_table().has_value());
            // Random 64-pattern words through the bit-parallel evaluator.
            for (int round = 0; round < 8; ++round) {
                std::vector<std::uint64_t> words(cell.pins.size());
                for (auto& w : words) w = rng();
                std::uint64_t out = f->eval(words);
                for (int bit = 0; bit < 64; ++bit) {
                    Inputs in;
                    std::vector<bool> b(cell.pins.size());
                    for (std::size_t q = 0; q < cell.pins.size(); ++q) {
                        b[q] = (words[q] >> bit) & 1;
                        in[cell.pins[q].name] = b[q];
                    }
                    ASSERT_EQ(((out >> bit) & 1) != 0, it->second(in)) << key << " pattern " << bit;
                    ASSERT_EQ(f->eval_reference(b), it->second(in)) << key;
                }
            }
            ++checked;
        }
    }
    EXPECT_EQ(checked, 30);  // 28 single-output cells + FAX1 and HAX1 with two outputs each
}

TEST(CellFunction, PrecedenceAndSyntax) {
    auto pins = names({"A", "B", "C"});
    auto tt = [&](const char* text) { return *CellFunction::compile(text, pins, "t").truth_table(); };
    // Variable patterns over support (A, B, C) = bits 0, 1, 2 of the minterm.
    const std::uint64_t a = 0xAAAAAAAAAAAAAAAAull, b = 0xCCCCCCCCCCCCCCCCull, c = 0xF0F0F0F0F0F0F0F0ull;
    EXPECT_EQ(tt("A+B C"), a | (b & c));
    EXPECT_EQ(tt("A|B&C"), a | (b & c));
    EXPECT_EQ(tt("A*B+C"), (a & b) | c);
    EXPECT_EQ(tt("A^B C"), (a ^ b) & c);  // XOR binds tighter than AND (as in OpenSTA)
    EXPECT_EQ(tt("A'B"), ~a & b);
    EXPECT_EQ(tt("!A B"), ~a & b);
    EXPECT_EQ(tt("(A+B)'"), ~(a | b));
    EXPECT_EQ(tt("!!A & B"), a & b);
    EXPECT_EQ(tt("A (B+C)"), a & (b | c));
    EXPECT_EQ(*CellFunction::compile("1", pins, "t").truth_table(), ~std::uint64_t{0});
    EXPECT_EQ(*CellFunction::compile("0", pins, "t").truth_table(), 0u);
    EXPECT_TRUE(CellFunction::compile("0", pins, "t").support().empty());
    // Support is sorted pin indices, truth-table variables follow it.
    auto f = CellFunction::compile("C & !A", pins, "t");
    EXPECT_EQ(f.support(), (std::vector<int>{0, 2}));
    EXPECT_EQ(*f.truth_table(), ~a & b);  // var0 = A, var1 = C
}

TEST(CellFunction, Errors) {
    auto pins = names({"A", "B"});
    auto d = expect_halo_error([&] { CellFunction::compile("A &", pins, "CELL/Y"); });
    EXPECT_EQ(d.code, "E1301");
    EXPECT_EQ(d.place, "CELL/Y");
    EXPECT_NE(d.message.find("column 4"), std::string::npos) << d.message;
    EXPECT_EQ(expect_halo_error([&] { CellFunction::compile("(A", pins, "c"); }).code, "E1301");
    EXPECT_EQ(expect_halo_error([&] { CellFunction::compile("A B)", pins, "c"); }).code, "E1301");
    EXPECT_EQ(expect_halo_error([&] { CellFunction::compile("", pins, "c"); }).code, "E1301");
    d = expect_halo_error([&] { CellFunction::compile("A & Z", pins, "CELL/Y"); });
    EXPECT_EQ(d.code, "E1302");
    EXPECT_EQ(d.found, "Z");
    EXPECT_EQ(expect_halo_error([&] { CellFunction::compile(std::string(1000, '('), pins, "c"); }).code, "E1301");
}

TEST(CellFunction, TernaryExactOnEveryOsu018Cell) {
    for (const Cell& cell : osu018().cells) {
        for (std::size_t p = 0; p < cell.pins.size(); ++p) {
            const CellFunction* f = cell.logic.function(static_cast<int>(p));
            if (!f) continue;
            for (const auto& v : all_ternary(cell.pins.size())) {
                ASSERT_EQ(f->eval3(v), brute_eval3(*f, v)) << cell.name;
                for (int q : f->support()) {
                    Sensitization s = f->sensitize(q, v), r = brute_sensitize(*f, q, v);
                    ASSERT_EQ(s.can_toggle, r.can_toggle) << cell.name << " pin " << q;
                    ASSERT_EQ(s.unateness, r.unateness) << cell.name << " pin " << q;
                }
            }
        }
    }
}

TEST(CellFunction, TernaryExamples) {
    const Cell& mux = *osu018().find_cell("MUX2X1");
    const CellFunction& f = *mux.logic.function(mux.pin_index("Y"));
    int a = mux.pin_index("A"), b = mux.pin_index("B"), s = mux.pin_index("S");
    std::vector<Ternary> v(mux.pins.size(), Ternary::x);
    v[a] = v[b] = Ternary::one;
    EXPECT_EQ(f.eval3(v), Ternary::zero);  // exact: both data inputs 1, select unknown
    v[b] = Ternary::zero;
    EXPECT_EQ(f.eval3(v), Ternary::x);
    EXPECT_EQ(f.sensitize(s, v).unateness, Unateness::negative);  // S rising selects A=1 -> Y falls
    v[s] = Ternary::one;
    EXPECT_FALSE(f.sensitizes(b, v));  // B is not selected
    EXPECT_EQ(f.sensitize(a, v).unateness, Unateness::negative);

    const Cell& x = *osu018().find_cell("XOR2X1");
    const CellFunction& g = *x.logic.function(x.pin_index("Y"));
    std::vector<Ternary> w = {Ternary::x, Ternary::x, Ternary::x};
    EXPECT_EQ(g.sensitize(0, w).unateness, Unateness::non_unate);
    w[1] = Ternary::one;
    EXPECT_EQ(g.sensitize(0, w).unateness, Unateness::negative);
    EXPECT_EQ(g.sensitize(2, w).can_toggle, false);  // Y is not an input of its own function

    const Cell& nand = *osu018().find_cell("NAND2X1");
    const CellFunction& h = *nand.logic.function(2);
    EXPECT_EQ(h.eval3(std::vector<Ternary>{Ternary::zero, Ternary::x, Ternary::x}), Ternary::one);
    EXPECT_FALSE(h.sensitizes(1, std::vector<Ternary>{Ternary::zero, Ternary::x, Ternary::x}));
}

TEST(CellFunction, MoreThanSixInputsUsesTheEnumeratingPath) {
    auto pins = names({"A", "B", "C", "D", "E", "F", "G", "H"});
    auto f = CellFunction::compile("(A B + C D) ^ (E + F G) ^ H", pins, "wide");
    EXPECT_FALSE(f.truth_table().has_value());
    EXPECT_EQ(f.support().size(), 8u);
    std::mt19937 rng(3);
    for (int trial = 0; trial < 300; ++trial) {
        std::vector<Ternary> v(8);
        for (auto& t : v) t = static_cast<Ternary>(rng() % 3);
        ASSERT_EQ(f.eval3(v), brute_eval3(f, v));
        int pin = static_cast<int>(rng() % 8);
        Sensitization s = f.sensitize(pin, v), r = brute_sensitize(f, pin, v);
        ASSERT_EQ(s.can_toggle, r.can_toggle);
        ASSERT_EQ(s.unateness, r.unateness);
    }
    std::vector<std::uint64_t> words(8);
    for (auto& w : words) w = (std::uint64_t(rng()) << 32) | rng();
    std::uint64_t out = f.eval(words);
    for (int bit = 0; bit < 64; ++bit) {
        std::vector<bool> b(8);
        for (int q = 0; q < 8; ++q) b[q] = (words[q] >> bit) & 1;
        ASSERT_EQ(((out >> bit) & 1) != 0, f.eval_reference(b));
    }
}
