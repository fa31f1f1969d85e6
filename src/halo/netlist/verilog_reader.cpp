#include "halo/netlist/verilog_reader.hpp"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <map>
#include <numeric>
#include <set>
#include <sstream>
#include <unordered_map>

#include <fmt/format.h>

#include "halo/netlist/netlist_link.hpp"
#include "halo/util/atomic_file.hpp"
#include "halo/util/diagnostics.hpp"

namespace halo::netlist {

namespace {

enum class Tok : std::uint8_t { ident, number, punct, end };

struct Token {
    Tok kind = Tok::end;
    std::string text;
    std::uint32_t line = 0;
};

std::vector<Token> tokenize(std::string_view s, const std::string& file) {
    std::vector<Token> out;
    std::uint32_t line = 1;
    std::size_t i = 0;
    auto fail = [&](const std::string& msg, const std::string& found) {
        throw_bad_input("E2030", file, line, msg, "", found);
    };
    while (i < s.size()) {
        char c = s[i];
        if (c == '\n') { ++line; ++i; continue; }
        if (std::isspace(static_cast<unsigned char>(c))) { ++i; continue; }
        if (c == '/' && i + 1 < s.size() && s[i + 1] == '/') {
            while (i < s.size() && s[i] != '\n') ++i;
            continue;
        }
        if ((c == '/' && i + 1 < s.size() && s[i + 1] == '*') || (c == '(' && i + 1 < s.size() && s[i + 1] == '*' && !(i + 2 < s.size() && s[i + 2] == ')'))) {
            // Block comment or (* attribute *): skip to the matching close.
            const char* close = c == '/' ? "*/" : "*)";
            std::uint32_t start = line;
            i += 2;
            while (i + 1 < s.size() && !(s[i] == close[0] && s[i + 1] == close[1])) {
                if (s[i] == '\n') ++line;
                ++i;
            }
            if (i + 1 >= s.size()) { line = start; fail("comment or attribute is never closed", "end of file"); }
            i += 2;
            continue;
        }
        if (c == '`') {  // compiler directive: skip the line
            while (i < s.size() && s[i] != '\n') ++i;
            continue;
        }
        Token t;
        t.line = line;
        if (c == '\\') {  // escaped identifier, up to white space
            std::size_t start = ++i;
            while (i < s.size() && !std::isspace(static_cast<unsigned char>(s[i]))) ++i;
            if (i == start) fail("empty escaped identifier", "\\");
            t.kind = Tok::ident;
            t.text.assign(s.substr(start, i - start));
        } else if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
            std::size_t start = i;
            while (i < s.size() && (std::isalnum(static_cast<unsigned char>(s[i])) || s[i] == '_' || s[i] == '$')) ++i;
            t.kind = Tok::ident;
            t.text.assign(s.substr(start, i - start));
        } else if (std::isdigit(static_cast<unsigned char>(c)) || c == '\'') {
            // 12, 4'b10x1, 1'h0, 'd5 (blanks are not allowed inside here; Yosys writes none)
            std::size_t start = i;
            while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i;
            if (i < s.size() && s[i] == '\'') {
                ++i;
                if (i < s.size() && (s[i] == 's' || s[i] == 'S')) ++i;
                while (i < s.size() && (std::isalnum(static_cast<unsigned char>(s[i])) || s[i] == '_' || s[i] == '?')) ++i;
            }
            t.kind = Tok::number;
            t.text.assign(s.substr(start, i - start));
        } else if (std::string_view("()[]:;,.{}=#").find(c) != std::string_view::npos) {
            t.kind = Tok::punct;
            t.text.assign(1, c);
            ++i;
        } else {
            fail("unexpected character", fmt::format("'{}'", c));
        }
        out.push_back(std::move(t));
    }
    Token end;
    end.line = line;
    out.push_back(end);
    return out;
}

// One bit of a declared signal, or a constant: ids 0 and 1 are the constants.
using BitId = std::uint32_t;

struct Signal {
    int msb = 0, lsb = 0;
    std::vector<BitId> bits;  // index 0 = lsb
    int width() const { return static_cast<int>(bits.size()); }
    BitId at(int index) const { return bits[static_cast<std::size_t>(msb >= lsb ? index - lsb : lsb - index)]; }
    bool contains(int index) const { return msb >= lsb ? (index >= lsb && index <= msb) : (index >= msb && index <= lsb); }
};

struct PortDecl {
    std::string name;
    PortDirection direction;
};

struct CellInst {
    std::string type, name;
    std::vector<std::pair<std::string, std::vector<BitId>>> pins;
    std::uint32_t line;
};

struct Module {
    std::string name;
    std::uint32_t line = 0;
    std::vector<std::string> port_order;
    std::map<std::string, Signal> signals;
    std::vector<std::string> signal_order;
    std::vector<PortDecl> ports;
    std::vector<std::pair<std::vector<BitId>, std::vector<BitId>>> assigns;
    std::vector<std::uint32_t> assign_lines;
    std::vector<CellInst> cells;
    BitId next_bit = 2;
};

class Parser {
public:
    Parser(std::vector<Token> toks, std::string file) : t_(std::move(toks)), file_(std::move(file)) {}

    std::vector<Module> parse() {
        std::vector<Module> mods;
        while (peek().kind != Tok::end) {
            if (!is("module")) fail("E2030", "expected 'module'");
            mods.push_back(parse_module());
        }
        return mods;
    }

private:
    const Token& peek() const { return t_[pos_]; }
    bool is(std::string_view text) const { return peek().kind != Tok::end && peek().text == text; }
    Token take() {
        Token t = t_[pos_];
        if (t.kind != Tok::end) ++pos_;
        return t;
    }
    // Every bit a declaration, a reference or a constant produces is counted against one budget,
    // so a small file cannot ask for gigabytes (4,000 declarations of [1048575:0], or one wide
    // bus named in thousands of assigns). 2^22 bits is ~100x a synthesized BF16 MAC's pins.
    static constexpr std::size_t kMaxBitsPerFile = std::size_t{1} << 22;
    void spend_bits(std::size_t n) {
        bits_spent_ += n;
        if (bits_spent_ > kMaxBitsPerFile)
            throw_bad_input("E2034", file_, peek().line, "the netlist's buses add up to too many bits",
                            fmt::format("at most {} signal bits declared and referenced in one file", kMaxBitsPerFile),
                            fmt::format("more than that by line {}", peek().line),
                            "halo reads gate-level MAC netlists; check the bus ranges");
    }

    [[noreturn]] void fail(const char* code, const std::string& message) {
        const Token& t = peek();
        throw_bad_input(code, file_, t.line, message, "", t.kind == Tok::end ? "end of file" : "\"" + t.text.substr(0, 40) + "\"",
                        t.kind == Tok::end ? "the file may be truncated" : "");
    }
    void expect(std::string_view text) {
        if (!is(text)) fail("E2030", fmt::format("expected '{}'", text));
        take();
    }
    std::string ident() {
        if (peek().kind != Tok::ident) fail("E2030", "expected an identifier");
        return take().text;
    }
    int integer() {
        if (peek().kind != Tok::number) fail("E2030", "expected a number");
        const std::string& s = peek().text;
        if (s.find('\'') != std::string::npos || s.size() > 9) fail("E2030", "expected a small decimal number");
        return std::stoi(take().text);
    }

    void declare(Module& m, const std::string& name, int msb, int lsb) {
        auto it = m.signals.find(name);
        if (it != m.signals.end()) {
            // "input [3:0] a; wire [3:0] a;" declares one signal twice: the ranges must agree.
            if (it->second.msb != msb || it->second.lsb != lsb) fail("E2030", fmt::format("{} is declared with two ranges", name));
            return;
        }
        Signal s;
        s.msb = msb;
        s.lsb = lsb;
        int w = std::abs(msb - lsb) + 1;
        if (w > (1 << 20)) fail("E2031", fmt::format("{} is {} bits wide", name, w));
        spend_bits(static_cast<std::size_t>(w));
        for (int i = 0; i < w; ++i) s.bits.push_back(m.next_bit++);
        m.signals.emplace(name, std::move(s));
        m.signal_order.push_back(name);
    }

    Module parse_module() {
        Module m;
        m.line = peek().line;
        take();  // module
        m.name = ident();
        if (is("#")) fail("E2031", "module parameters are not supported");
        if (is("(")) {
            take();
            while (!is(")")) {
                if (is("input") || is("output") || is("inout")) fail("E2031", "ANSI-style port declarations are not supported; use write_verilog");
                m.port_order.push_back(ident());
                if (is(",")) take();
                else if (!is(")")) fail("E2030", "expected ',' or ')' in the port list");
            }
            take();
        }
        expect(";");
        while (!is("endmodule")) {
            if (peek().kind == Tok::end) fail("E2030", fmt::format("module {} (line {}) has no endmodule", m.name, m.line));
            if (is("input") || is("output") || is("inout") || is("wire") || is("reg")) parse_decl(m);
            else if (is("assign")) parse_assign(m);
            else if (peek().kind == Tok::ident) {
                static const std::set<std::string> kBehavioural = {"always", "initial", "function", "task", "generate",
                                                                   "parameter", "localparam", "integer", "genvar"};
                if (kBehavioural.count(peek().text)) fail("E2031", fmt::format("'{}' is not structural Verilog", peek().text));
                parse_instance(m);
            } else fail("E2030", "expected a declaration, assign or cell instance");
        }
        take();
        return m;
    }

    void parse_decl(Module& m) {
        std::string kind = take().text;
        if (is("signed")) take();
        int msb = 0, lsb = 0;
        if (is("[")) {
            take();
            msb = integer();
            expect(":");
            lsb = integer();
            expect("]");
        }
        for (;;) {
            std::string name = ident();
            declare(m, name, msb, lsb);
            if (kind == "inout") fail("E2014", fmt::format("inout port {} is not supported", name));
            if (kind == "input" || kind == "output")
                m.ports.push_back({name, kind == "input" ? PortDirection::input : PortDirection::output});
            if (is("=")) fail("E2031", "declaration assignments are not supported; use assign");
            if (is(",")) { take(); continue; }
            break;
        }
        expect(";");
    }

    void parse_assign(Module& m) {
        std::uint32_t line = take().line;
        for (;;) {
            auto lhs = expr(m);
            expect("=");
            auto rhs = expr(m);
            if (lhs.size() != rhs.size()) {
                throw_bad_input("E2033", file_, line, "assign sides have different widths",
                                fmt::format("{} bits", lhs.size()), fmt::format("{} bits", rhs.size()));
            }
            m.assigns.emplace_back(std::move(lhs), std::move(rhs));
            m.assign_lines.push_back(line);
            if (is(",")) { take(); continue; }
            break;
        }
        expect(";");
    }

    void parse_instance(Module& m) {
        CellInst c;
        c.line = peek().line;
        c.type = take().text;
        if (is("#")) fail("E2031", fmt::format("parameters on instance of {} are not supported", c.type));
        c.name = ident();
        expect("(");
        while (!is(")")) {
            if (!is(".")) fail("E2031", fmt::format("instance {}: only named connections (.PIN(net)) are supported", c.name));
            take();
            std::string pin = ident();
            expect("(");
            std::vector<BitId> bits;
            if (!is(")")) bits = expr(m);
            expect(")");
            c.pins.emplace_back(std::move(pin), std::move(bits));
            if (is(",")) take();
            else if (!is(")")) fail("E2030", "expected ',' or ')' in the connection list");
        }
        take();
        expect(";");
        m.cells.push_back(std::move(c));
    }

    // An expression's bits, MSB first (Verilog order).
    std::vector<BitId> expr(Module& m) {
        if (is("{")) {
            take();
            std::vector<BitId> out;
            for (;;) {
                auto part = expr(m);
                out.insert(out.end(), part.begin(), part.end());
                if (is(",")) { take(); continue; }
                break;
            }
            expect("}");
            return out;
        }
        if (peek().kind == Tok::number) return constant(take().text);
        std::string name = ident();
        auto it = m.signals.find(name);
        if (it == m.signals.end()) {  // an implicit one-bit net
            declare(m, name, 0, 0);
            it = m.signals.find(name);
        }
        const Signal& s = it->second;
        if (!is("[")) {
            spend_bits(s.bits.size());
            std::vector<BitId> out(s.bits.rbegin(), s.bits.rend());
            return out;
        }
        take();
        int hi = integer(), lo = hi;
        if (is(":")) {
            take();
            lo = integer();
        }
        expect("]");
        if (!s.contains(hi) || !s.contains(lo))
            fail("E2032", fmt::format("{}[{}{}] is outside {}[{}:{}]", name, hi, hi == lo ? "" : ":" + std::to_string(lo), name, s.msb, s.lsb));
        spend_bits(static_cast<std::size_t>(std::abs(hi - lo)) + 1);
        std::vector<BitId> out;
        int step = hi >= lo ? -1 : 1;
        for (int i = hi;; i += step) {
            out.push_back(s.at(i));
            if (i == lo) break;
        }
        return out;
    }

    std::vector<BitId> constant(const std::string& text) {
        auto q = text.find('\'');
        if (q == std::string::npos) {  // unsized decimal: 32 bits
            unsigned long long v = std::stoull(text.substr(0, 18));
            std::vector<BitId> out;
            for (int i = 31; i >= 0; --i) out.push_back((v >> i) & 1);
            return out;
        }
        int width = q == 0 ? 32 : std::stoi(text.substr(0, std::min<std::size_t>(q, 6)));
        if (width <= 0 || width > 4096) fail("E2031", fmt::format("constant width {}", width));
        spend_bits(static_cast<std::size_t>(width));
        std::size_t b = q + 1;
        if (b < text.size() && (text[b] == 's' || text[b] == 'S')) ++b;
        if (b >= text.size()) fail("E2030", "constant without a base");
        char base = static_cast<char>(std::tolower(static_cast<unsigned char>(text[b])));
        std::string digits;
        for (char c : text.substr(b + 1))
            if (c != '_') digits.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
        std::vector<int> lsb_bits;  // LSB first, x/z as 0
        int per_digit = base == 'b' ? 1 : base == 'o' ? 3 : base == 'h' ? 4 : 0;
        if (per_digit) {
            for (auto it = digits.rbegin(); it != digits.rend(); ++it) {
                char c = *it;
                int v = 0;
                if (c >= '0' && c <= '9') v = c - '0';
                else if (c >= 'a' && c <= 'f') v = c - 'a' + 10;
                else if (c == 'x' || c == 'z' || c == '?') v = 0;
                else fail("E2030", fmt::format("bad digit '{}' in constant {}", c, text));
                if (v >= (1 << per_digit)) fail("E2030", fmt::format("bad digit '{}' in constant {}", c, text));
                for (int k = 0; k < per_digit; ++k) lsb_bits.push_back((v >> k) & 1);
            }
        } else if (base == 'd') {
            if (digits.empty() || digits.size() > 18 || !std::all_of(digits.begin(), digits.end(), ::isdigit))
                fail("E2030", fmt::format("bad decimal constant {}", text));
            unsigned long long v = std::stoull(digits);
            for (int k = 0; k < 64; ++k) lsb_bits.push_back((v >> k) & 1);
        } else {
            fail("E2030", fmt::format("unknown base in constant {}", text));
        }
        lsb_bits.resize(static_cast<std::size_t>(width), 0);
        return std::vector<BitId>(lsb_bits.rbegin(), lsb_bits.rend());
    }

    std::vector<Token> t_;
    std::size_t pos_ = 0;
    std::string file_;
    std::size_t bits_spent_ = 0;
};

// Union-find over bits; the constants 0 and 1 are always their set's root.
struct Aliases {
    std::vector<BitId> parent;
    explicit Aliases(BitId n) : parent(n) { std::iota(parent.begin(), parent.end(), 0); }
    BitId find(BitId x) {
        while (parent[x] != x) x = parent[x] = parent[parent[x]];
        return x;
    }
    // false when two different constants would merge
    bool unite(BitId a, BitId b) {
        a = find(a);
        b = find(b);
        if (a == b) return true;
        if (a <= 1 && b <= 1) return false;
        if (b <= 1 || (a > 1 && b < a)) std::swap(a, b);
        parent[b] = a;
        return true;
    }
};

Netlist build(const Module& m, const std::vector<Module>& mods, const liberty::Library& lib, const std::string& file) {
    Netlist n;
    n.top = m.name;
    n.source_path = file;
    n.library = &lib;
    Aliases alias(m.next_bit);
    for (std::size_t k = 0; k < m.assigns.size(); ++k) {
        const auto& [lhs, rhs] = m.assigns[k];
        for (std::size_t i = 0; i < lhs.size(); ++i)
            if (!alias.unite(lhs[i], rhs[i]))
                throw_bad_input("E2020", file, m.assign_lines[k], "assign ties constant 0 to constant 1", "", "");
    }
    // Dense nets: constants keep 0/1; every other alias set gets one id in first-use order.
    std::unordered_map<BitId, NetId> net_of_root;
    n.net_names = {"0", "1"};
    auto net = [&](BitId b) -> NetId {
        BitId r = alias.find(b);
        if (r <= 1) return r;
        auto [it, inserted] = net_of_root.try_emplace(r, static_cast<NetId>(n.net_names.size()));
        if (inserted) n.net_names.emplace_back();
        return it->second;
    };
    auto name_bits = [&](const std::string& name, const Signal& s) {
        for (int i = 0; i < s.width(); ++i) {
            NetId id = net(s.bits[static_cast<std::size_t>(i)]);
            if (id > kConst1 && n.net_names[id].empty())
                n.net_names[id] = s.width() == 1 ? name : fmt::format("{}[{}]", name, std::min(s.msb, s.lsb) + i);
        }
    };
    // Ports in the module header's order; their names win.
    for (const auto& pname : m.port_order) {
        auto d = std::find_if(m.ports.begin(), m.ports.end(), [&](const PortDecl& p) { return p.name == pname; });
        if (d == m.ports.end())
            throw_bad_input("E2030", file, m.line, fmt::format("port {} of module {} has no input/output declaration", pname, m.name));
        const Signal& s = m.signals.at(pname);
        Port port;
        port.name = pname;
        port.direction = d->direction;
        for (BitId b : s.bits) port.bits.push_back(net(b));
        name_bits(pname, s);
        n.ports.push_back(std::move(port));
    }
    for (const auto& c : m.cells) {
        const liberty::Cell* cell = lib.find_cell(c.type);
        if (!cell) {
            bool is_module = std::any_of(mods.begin(), mods.end(), [&](const Module& x) { return x.name == c.type; });
            if (is_module)
                throw_bad_input("E2004", file, c.line, fmt::format("instance {} of module {}: the design is hierarchical", c.name, c.type),
                                "a flat netlist of library cells", "module " + c.type, "synthesize with `synth -flatten`");
            throw_bad_input("E2010", file, c.line, fmt::format("instance {} has type {}, which library {} does not define", c.name, c.type, lib.name),
                            "a cell of the Liberty library", c.type,
                            "map the design to the library: `dfflibmap -liberty LIB; abc -liberty LIB`");
        }
        Instance inst;
        inst.name = c.name;
        inst.cell = cell;
        std::vector<char> connected(cell->pins.size(), 0);
        for (const auto& [pin_name, bits] : c.pins) {
            int pin = cell->pin_index(pin_name);
            if (pin < 0)
                throw_bad_input("E2011", file, c.line, fmt::format("instance {} ({}) connects pin {}, which the cell does not have", c.name, c.type, pin_name),
                                "a pin of " + c.type, pin_name);
            if (bits.empty()) continue;  // .PIN() left open
            if (bits.size() != 1)
                throw_bad_input("E2012", file, c.line, fmt::format("instance {} ({}) pin {} is connected to {} bits", c.name, c.type, pin_name, bits.size()),
                                "1 bit", fmt::format("{} bits", bits.size()));
            NetId id = net(bits[0]);
            connected[static_cast<std::size_t>(pin)] = 1;
            auto dir = cell->pins[static_cast<std::size_t>(pin)].direction;
            if (dir == liberty::PinDirection::input) inst.inputs.push_back({pin, id});
            else if (dir == liberty::PinDirection::output) {
                if (id > kConst1) inst.outputs.push_back({pin, id});
            } else
                throw_bad_input("E2014", file, c.line, fmt::format("instance {} pin {} is bidirectional", c.name, pin_name), "input or output", pin_name);
        }
        for (std::size_t p = 0; p < cell->pins.size(); ++p)
            if (!connected[p] && cell->pins[p].direction == liberty::PinDirection::input)
                throw_bad_input("E2015", file, c.line, fmt::format("instance {} ({}) leaves input pin {} unconnected", c.name, c.type, cell->pins[p].name),
                                "every input pin connected", "no connection");
        auto by_pin = [](const PinConnection& x, const PinConnection& y) { return x.pin < y.pin; };
        std::sort(inst.inputs.begin(), inst.inputs.end(), by_pin);
        std::sort(inst.outputs.begin(), inst.outputs.end(), by_pin);
        n.instances.push_back(std::move(inst));
    }
    // Remaining names: declared wires in declaration order (public before Yosys' _NN_ names).
    for (int pass = 0; pass < 2; ++pass)
        for (const auto& name : m.signal_order) {
            bool generated = !name.empty() && name.front() == '_' && name.back() == '_';
            if ((pass == 0) == generated) continue;
            const Signal& s = m.signals.at(name);
            for (int i = 0; i < s.width(); ++i) {
                BitId r = alias.find(s.bits[static_cast<std::size_t>(i)]);
                auto it = net_of_root.find(r);
                if (it != net_of_root.end() && n.net_names[it->second].empty())
                    n.net_names[it->second] = s.width() == 1 ? name : fmt::format("{}[{}]", name, std::min(s.msb, s.lsb) + i);
            }
        }
    link_netlist(n);
    return n;
}

}  // namespace

Netlist read_structural_verilog_string(std::string_view text, std::string_view top, const liberty::Library& library,
                                       const std::string& source_name) {
    std::vector<Module> mods = Parser(tokenize(text, source_name), source_name).parse();
    if (mods.empty()) throw_bad_input("E2003", source_name, 0, "the file has no module", "a module", "none");
    const Module* chosen = nullptr;
    if (!top.empty()) {
        for (const auto& m : mods)
            if (m.name == top) chosen = &m;
        if (!chosen) {
            std::string names;
            for (const auto& m : mods) names += (names.empty() ? "" : ", ") + m.name;
            throw_bad_input("E2003", source_name, 0, fmt::format("top module {} is not in the netlist", top), std::string(top), names);
        }
    } else {
        std::set<std::string> used;
        for (const auto& m : mods)
            for (const auto& c : m.cells) used.insert(c.type);
        for (const auto& m : mods)
            if (!used.count(m.name)) {
                if (chosen)
                    throw_bad_input("E2003", source_name, 0, "several modules could be the top", "a top module name",
                                    chosen->name + ", " + m.name, "pass the top module's name");
                chosen = &m;
            }
        if (!chosen) throw_bad_input("E2003", source_name, 0, "every module is instantiated by another: no top", "a top module", "a cycle");
    }
    return build(*chosen, mods, library, source_name);
}

Netlist read_structural_verilog(const std::filesystem::path& path, std::string_view top, const liberty::Library& library) {
    std::error_code exists_error;  // not an open: opening a FIFO would block
    if (!std::filesystem::exists(path, exists_error)) throw_bad_input("E2000", path.string(), 0, "cannot open the netlist file", "a readable Verilog file", "", "check the path");
    // read_file: only a regular file (not a directory, FIFO or /dev/zero), and recorded as an input
    // so that no output of this run can replace it (atomic_file.hpp).
    return read_structural_verilog_string(read_file(path), top, library, path.string());
}

}  // namespace halo::netlist
