// hand-written for halo tests: the same circuit as small.json plus assigns and constants
module small(a, b, clk, y, q, z, k);
  input a;
  input b;
  input clk;
  output y;
  output [1:0] q;
  output z;
  output [2:0] k;
  wire nand_out;
  wire \esc[0] ;
  (* keep *)
  NAND2X1 g_nand (.A(a), .B(b), .Y(nand_out));
  DFFPOSX1 g_ff (.CLK(clk), .D(y), .Q(\esc[0] ));
  INVX1 g_inv (
    .A(a),
    .Y(z)
  );
  assign y = nand_out;
  assign q = {1'b0, \esc[0] };
  assign k = 3'h5;
endmodule
