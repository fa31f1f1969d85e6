// Fixture of scripts/check_error_codes.py (never compiled): one code with two messages.
void f(int x) {
    if (x < 0) throw_bad_value("E6001", "--x", "x is negative", ">= 0", "x");
    if (x > 9) throw_bad_value("E6001", "--x", "x is too large", "<= 9", "x");
    if (x == 5) throw_usage("E6002", "five is refused");  // E6002 "quoted in a comment" is no site
}
