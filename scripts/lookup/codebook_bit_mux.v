// One output bit of a codebook lookup: y = w[a]. The ENTRIES-bit "weight" is that bit's column
// of the tile's codebook (held for the tile), the INDEX_BITS-bit "activation" the stored index.
// acc: unused; `halo characterize --netlist` needs the port. ENTRIES = 2^INDEX_BITS.
module mac #(parameter INDEX_BITS = 3, parameter ENTRIES = 8)
            (input [ENTRIES-1:0] w, input [INDEX_BITS-1:0] a, input acc, output y);
  assign y = w[a];
endmodule
