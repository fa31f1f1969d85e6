// One output bit of a 16-entry codebook lookup: y = w[a]. The 16-bit "weight" is that bit's
// column of the tile's codebook (held for the tile), the 4-bit "activation" the stored index.
module mac(input [15:0] w, input [3:0] a, input acc, output y);  // acc: unused (the tool needs the port)
  assign y = w[a];
endmodule
