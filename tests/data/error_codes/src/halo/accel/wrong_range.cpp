// Fixture of scripts/check_error_codes.py (never compiled): a quant code used in accel.
void g() { throw_internal("E6003", "accel code in the quant range"); }
