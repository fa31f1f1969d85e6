// Building blocks of the structural integer multipliers: a Verilog body builder that names
// every wire, and a matrix of weighted bits (the partial products, acc and a constant) that is
// reduced by carry-save adders to two rows and summed by one final adder.
//
// All arithmetic is modulo 2^width (the accumulator width), so bits of columns >= width are
// dropped. A bit of negative weight -2^c (the sign bit of a two's-complement row) is entered as
// its complement ~b at column c plus the constant -2^c, because -b = (1 - b) - 1 = ~b - 1; the
// constants of all rows are summed into one constant row.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace halo::mac {

class VerilogBody {
public:
    // Declares `wire <fresh> = expr;` and returns the fresh name.
    std::string wire(const std::string& expr);
    void line(std::string text) { lines_.push_back(std::move(text)); }
    std::string text() const;
    int full_adders = 0;
    int half_adders = 0;

private:
    std::vector<std::string> lines_;
    int next_ = 0;
};

struct WeightedBit {
    int column = 0;
    std::string signal;  // a Verilog expression of one bit
};

using BitRow = std::vector<WeightedBit>;

class BitMatrix {
public:
    explicit BitMatrix(int width) : width_(width) {}
    int width() const { return width_; }
    // Adds bit `signal` of weight 2^column (or -2^column when negative).
    void add(BitRow& row, int column, const std::string& signal, bool negative = false);
    void add_row(BitRow row) { rows_.push_back(std::move(row)); }
    void add_constant(std::int64_t value) { constant_ += static_cast<std::uint64_t>(value); }
    // The rows, with the accumulated constant as a last row of 1'b1 bits.
    std::vector<BitRow> rows() const;

private:
    int width_;
    std::uint64_t constant_ = 0;  // modulo 2^64, reduced modulo 2^width when emitted
    std::vector<BitRow> rows_;
};

// Reduces to at most two bits per column with a Dadda tree (heights 2, 3, 4, 6, 9, ...).
std::vector<BitRow> reduce_dadda(VerilogBody& body, const std::vector<BitRow>& rows, int width);
// Reduces row after row with 3:2 carry-save adders (the array multiplier's linear structure).
std::vector<BitRow> reduce_array(VerilogBody& body, const std::vector<BitRow>& rows, int width);
// `assign <out> = r0 + r1;` over two reduced rows (missing bits are 1'b0).
void final_adder(VerilogBody& body, const std::vector<BitRow>& two_rows, int width, const std::string& out);

}  // namespace halo::mac
