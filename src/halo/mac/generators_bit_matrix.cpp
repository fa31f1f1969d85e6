#include "halo/mac/generators_bit_matrix.hpp"

#include <algorithm>
#include <deque>

#include <fmt/format.h>

namespace halo::mac {

std::string VerilogBody::wire(const std::string& expr) {
    std::string name = fmt::format("n{}", next_++);
    lines_.push_back(fmt::format("  wire {} = {};", name, expr));
    return name;
}

std::string VerilogBody::text() const {
    std::string out;
    for (const auto& l : lines_) out += l + "\n";
    return out;
}

void BitMatrix::add(BitRow& row, int column, const std::string& signal, bool negative) {
    if (column >= width_) return;  // weight 2^column is 0 modulo 2^width
    if (negative) {
        row.push_back({column, "~" + signal});
        constant_ -= std::uint64_t{1} << column;
    } else {
        row.push_back({column, signal});
    }
}

std::vector<BitRow> BitMatrix::rows() const {
    std::vector<BitRow> out = rows_;
    BitRow constant;
    for (int c = 0; c < width_; ++c)
        if ((constant_ >> c) & 1) constant.push_back({c, "1'b1"});
    if (!constant.empty()) out.push_back(std::move(constant));
    return out;
}

namespace {

struct SumCarry {
    std::string sum, carry;
};

SumCarry full_adder(VerilogBody& body, const std::string& x, const std::string& y, const std::string& z) {
    ++body.full_adders;
    const std::string p = body.wire(fmt::format("{} ^ {}", x, y));
    return {body.wire(fmt::format("{} ^ {}", p, z)), body.wire(fmt::format("({} & {}) | ({} & {})", x, y, p, z))};
}

SumCarry half_adder(VerilogBody& body, const std::string& x, const std::string& y) {
    ++body.half_adders;
    return {body.wire(fmt::format("{} ^ {}", x, y)), body.wire(fmt::format("{} & {}", x, y))};
}

using Columns = std::vector<std::deque<std::string>>;

Columns to_columns(const std::vector<BitRow>& rows, int width) {
    Columns cols(width);
    for (const auto& row : rows)
        for (const auto& b : row)
            if (b.column < width) cols[b.column].push_back(b.signal);
    return cols;
}

std::vector<BitRow> to_rows(const Columns& cols) {
    std::size_t height = 2;
    for (const auto& c : cols) height = std::max(height, c.size());
    std::vector<BitRow> out(height);
    for (int c = 0; c < static_cast<int>(cols.size()); ++c)
        for (std::size_t k = 0; k < cols[c].size(); ++k) out[k].push_back({c, cols[c][k]});
    return out;
}

}  // namespace

std::vector<BitRow> reduce_dadda(VerilogBody& body, const std::vector<BitRow>& rows, int width) {
    Columns cols = to_columns(rows, width);
    std::size_t max_height = 0;
    for (const auto& c : cols) max_height = std::max(max_height, c.size());
    std::vector<std::size_t> targets{2};
    while (targets.back() < max_height) targets.push_back(targets.back() * 3 / 2);
    targets.pop_back();  // the first target below the current height comes first
    for (auto t = targets.rbegin(); t != targets.rend(); ++t) {
        const std::size_t d = *t;
        Columns next(width);
        std::vector<std::string> carries_in;
        for (int c = 0; c < width; ++c) {
            std::deque<std::string> bits = cols[c];
            std::vector<std::string> sums, carries_out;
            // Height of this column after the stage: unreduced bits + sums made + carries in.
            auto height = [&] { return bits.size() + sums.size() + carries_in.size(); };
            while (height() > d && bits.size() >= 2) {
                SumCarry sc;
                if (height() - d == 1 || bits.size() == 2) {
                    sc = half_adder(body, bits[0], bits[1]);
                    bits.erase(bits.begin(), bits.begin() + 2);
                } else {
                    sc = full_adder(body, bits[0], bits[1], bits[2]);
                    bits.erase(bits.begin(), bits.begin() + 3);
                }
                sums.push_back(sc.sum);
                carries_out.push_back(sc.carry);  // dropped past the top column (mod 2^width)
            }
            next[c].insert(next[c].end(), sums.begin(), sums.end());
            next[c].insert(next[c].end(), bits.begin(), bits.end());
            next[c].insert(next[c].end(), carries_in.begin(), carries_in.end());
            carries_in = std::move(carries_out);
        }
        cols = std::move(next);
    }
    // A column the stages could not bring down (never with Dadda heights) is finished here.
    for (bool again = true; again;) {
        again = false;
        for (int c = 0; c < width; ++c) {
            while (cols[c].size() > 2) {
                auto sc = full_adder(body, cols[c][0], cols[c][1], cols[c][2]);
                cols[c].erase(cols[c].begin(), cols[c].begin() + 3);
                cols[c].push_back(sc.sum);
                if (c + 1 < width) cols[c + 1].push_back(sc.carry);
                again = true;
            }
        }
    }
    return to_rows(cols);
}

std::vector<BitRow> reduce_array(VerilogBody& body, const std::vector<BitRow>& rows, int width) {
    if (rows.empty()) return {};
    Columns acc = to_columns({rows[0]}, width);
    for (std::size_t r = 1; r < rows.size(); ++r) {
        Columns add = to_columns({rows[r]}, width);
        for (int c = 0; c < width; ++c) acc[c].insert(acc[c].end(), add[c].begin(), add[c].end());
        // One carry-save row: columns above two bits get a full (or half) adder, carries move
        // one column up into the same row of adders, as in an array multiplier.
        Columns next(width);
        for (int c = 0; c < width; ++c) {
            auto& bits = acc[c];
            while (bits.size() + next[c].size() > 2 && bits.size() >= 2) {
                SumCarry sc = bits.size() >= 3 ? full_adder(body, bits[0], bits[1], bits[2])
                                               : half_adder(body, bits[0], bits[1]);
                bits.erase(bits.begin(), bits.begin() + (bits.size() >= 3 ? 3 : 2));
                next[c].push_back(sc.sum);
                if (c + 1 < width) next[c + 1].push_back(sc.carry);
            }
            next[c].insert(next[c].end(), bits.begin(), bits.end());
        }
        acc = std::move(next);
    }
    // Carries that met a full column are left at height 3; one more pass finishes them.
    return reduce_dadda(body, to_rows(acc), width);
}

void final_adder(VerilogBody& body, const std::vector<BitRow>& two_rows, int width, const std::string& out) {
    std::string operands[2];
    for (int r = 0; r < 2; ++r) {
        std::vector<std::string> bits(width, "1'b0");
        if (r < static_cast<int>(two_rows.size()))
            for (const auto& b : two_rows[r]) bits[b.column] = b.signal;
        std::string concat;
        for (int c = width - 1; c >= 0; --c) concat += bits[c] + (c ? ", " : "");
        operands[r] = fmt::format("{{{}}}", concat);
    }
    body.line(fmt::format("  wire [{}:0] row0 = {};", width - 1, operands[0]));
    body.line(fmt::format("  wire [{}:0] row1 = {};", width - 1, operands[1]));
    body.line(fmt::format("  assign {} = row0 + row1;", out));
}

}  // namespace halo::mac
