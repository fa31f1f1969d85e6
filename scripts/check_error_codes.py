#!/usr/bin/env python3
"""Check halo's numbered diagnostics: one code, one message site; every code in its module's range.

Like OpenSTA's etc/FindMessages.tcl, this scans the sources for message sites: a call whose
first argument is a code literal "E1234" (throw_bad_input, throw_bad_value, throw_usage, a
reader's local fail(), ...) or a code handed to a helper (parse_strict(..., "E5202"),
d.code = "E4042"). It fails when
  - one code is used at two sites whose message text differs (a code names one problem; two
    problems under one code cannot be told apart in tests, docs or bug reports), or
  - a code is outside the range of the module whose source uses it (docs/design.md, "Error code
    ranges"; a command in tools/halo uses the range of the module it fronts, table below).
Two sites with the same message text (the same check in two places) may share a code.

Known debt: scripts/error_code_families.txt lists the codes that already name a family of
messages (E2030 "Verilog syntax", ...) with how many distinct messages each had when this check
arrived. Such a code fails only when it gains messages beyond that count; new codes get none.
Splitting a family: give each message its own code, update tests and docs, lower or drop its line.

Usage: check_error_codes.py [REPO_ROOT]   (default: the repository this script is in)
       check_error_codes.py --list [REPO_ROOT]   print "code file:line message" for every site
Exit 0 when clean, 1 with one line per problem otherwise. Python 3 standard library only.
"""
import pathlib
import re
import sys

# docs/design.md "Error code ranges": the first digits of a code per module.
MODULE_PREFIX = {
    "util": "E00", "liberty": "E1", "netlist": "E2", "timing": "E3", "mac": "E4",
    "model": "E5", "quant": "E6", "accel": "E7", "gpu": "E8", "halo": "E9",
    # Modules of branches merged on 2026-12-03 (main): the CUDA forward shares the GPU range;
    # hwq (the HALO algorithm) and jobs (the end-to-end jobs) take over halo's E9xxx.
    "cuda": "E8", "hwq": "E9", "jobs": "E9",
}
# tools/halo: the CLI's own codes are E00xx; a command's checks of its domain's values use the
# range of the library module it fronts.
COMMAND_MODULE = {
    "cmd_characterize.cpp": "mac", "cmd_quantize.cpp": "quant", "cmd_eval.cpp": "model",
    "cmd_export.cpp": "quant", "cmd_simulate.cpp": "accel", "cmd_amove_hw.cpp": "accel",
    "cmd_gpu_bench.cpp": "gpu", "cmd_run.cpp": "halo",
    "cmd_liberty_info.cpp": "liberty",
}
# src/halo/jobs: the jobs the commands call hold the checks the commands held, so a job keeps the
# range of the module it fronts beside jobs' own E9xxx.
JOB_MODULE = {"quantize_job.cpp": "quant", "methods.cpp": "quant", "simulate_job.cpp": "accel", "eval_job.cpp": "model"}

# Index of the message argument per diagnostic function (0 = the code).
MESSAGE_ARG = {
    "throw_bad_input": 3, "throw_bad_input_at": 3, "throw_bad_value": 2,
    "throw_internal": 1, "throw_usage": 1,
}

CODE_LITERAL = re.compile(r'"(E\d{4})"')
ASSIGN_BEFORE = re.compile(r'([A-Za-z_][A-Za-z0-9_.>-]*)\s*=\s*$')


def split_args(text, open_paren):
    """Arguments (raw text) of the call whose '(' is at open_paren; strings and nesting aware."""
    args, depth, i, start = [], 0, open_paren + 1, open_paren + 1
    while i < len(text):
        c = text[i]
        if c == '"' or c == "'":
            i += 1
            while i < len(text) and text[i] != c:
                i += 2 if text[i] == "\\" else 1
        elif c in "([{":
            depth += 1
        elif c in ")]}":
            if depth == 0:
                args.append(text[start:i].strip())
                return args
            depth -= 1
        elif c == "," and depth == 0:
            args.append(text[start:i].strip())
            start = i + 1
        i += 1
    return args


def normalize(message):
    return " ".join(message.split())


def strip_comments(text):
    """Blank out // and /* */ comments (keeping line numbers), leaving string literals intact."""
    out, i, n = [], 0, len(text)
    while i < n:
        c = text[i]
        if c == '"' or c == "'":
            j = i + 1
            while j < n and text[j] != c and text[j] != "\n":
                j += 2 if text[j] == "\\" else 1
            out.append(text[i:j + 1])
            i = j + 1
        elif text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            i = j
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append("\n" * text.count("\n", i, j))
            i = j
        else:
            out.append(c)
            i += 1
    return "".join(out)


def enclosing_call(text, pos):
    """(function name, index of its '(') of the innermost call around pos, or None."""
    depth, i = 0, pos - 1
    while i >= 0:
        c = text[i]
        if c in ")]}":
            depth += 1
        elif c in "([{":
            if depth == 0:
                if c != "(":
                    return None
                name = re.search(r"([A-Za-z_][A-Za-z0-9_:]*)\s*$", text[:i])
                return (name.group(1).split("::")[-1], i) if name else None
            depth -= 1
        elif c == ";":
            return None
        i -= 1
    return None


def message_sites(text):
    """(code, line, message text) for every code literal in one file."""
    text = strip_comments(text)
    for m in CODE_LITERAL.finditer(text):
        code, line = m.group(1), text.count("\n", 0, m.start()) + 1
        before = text[max(0, m.start() - 200):m.start()]
        if re.search(r"(==|!=)\s*$", before):  # a comparison (e.code == "E1302"), not a site
            continue
        assign = ASSIGN_BEFORE.search(before)
        if assign:
            # d.code = "E4042": the message is set on the following lines of the same diagnostic.
            msg = re.search(r"\.message\s*=\s*([^;]+);", text[m.end():m.end() + 400])
            yield code, line, normalize(msg.group(1)) if msg else "<diagnostic built field by field>"
            continue
        call = enclosing_call(text, m.start())
        if not call:
            yield code, line, "<unrecognized site>"
            continue
        func, open_paren = call
        args = split_args(text, open_paren)
        if not args or args[0] != m.group(0):
            # The code is a later argument: the helper (parse_strict, ...) owns the message.
            yield code, line, f"<message of {func}()>"
        elif func in MESSAGE_ARG:
            k = MESSAGE_ARG[func]
            yield code, line, normalize(args[k] if k < len(args) else "")
        else:  # a file's own fail(code, [line,] message, ...): the first argument with text
            yield code, line, normalize(next((a for a in args[1:] if '"' in a), ""))


def expected_prefixes(rel):
    parts = rel.parts
    if parts[:3] == ("src", "halo", "jobs") and parts[-1] in JOB_MODULE:
        return [MODULE_PREFIX["jobs"], MODULE_PREFIX[JOB_MODULE[parts[-1]]]]
    if parts[:2] == ("src", "halo") and len(parts) > 3:
        return [MODULE_PREFIX[parts[2]]] if parts[2] in MODULE_PREFIX else None
    if parts[:2] == ("tools", "halo"):
        fronted = COMMAND_MODULE.get(parts[-1])
        return ["E00"] + ([MODULE_PREFIX[fronted]] if fronted else [])
    return None


def scan(root):
    sites = []  # (code, "file:line", message, allowed prefixes)
    for base in ("src", "tools"):
        for path in sorted((root / base).rglob("*")):
            if path.suffix not in (".cpp", ".hpp", ".cu", ".cuh", ".h"):
                continue
            rel = path.relative_to(root)
            text = path.read_text(encoding="utf-8", errors="replace")
            for code, line, msg in message_sites(text):
                sites.append((code, f"{rel}:{line}", msg, expected_prefixes(rel)))
    return sites


def read_families(path):
    """code -> the number of distinct messages it is allowed (the known-debt list)."""
    families = {}
    if path.exists():
        for n, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            line = raw.split("#", 1)[0].split()
            if not line:
                continue
            if len(line) != 2 or not re.fullmatch(r"E\d{4}", line[0]) or not line[1].isdigit():
                raise SystemExit(f"{path}:{n}: expected 'E1234 COUNT', found {raw!r}")
            families[line[0]] = int(line[1])
    return families


def problems(sites, families):
    out = []
    by_code = {}
    for code, where, msg, prefixes in sites:
        by_code.setdefault(code, []).append((where, msg))
        if prefixes is not None and not any(code.startswith(p) for p in prefixes):
            out.append(f"{where}: {code} is outside the range of its module (expected {' or '.join(p + 'x' * (5 - len(p)) for p in prefixes)})")
        if msg == "<unrecognized site>":
            out.append(f"{where}: {code} appears where no message site is recognized")
    for code, uses in sorted(by_code.items()):
        messages = {}
        for where, msg in uses:
            messages.setdefault(msg, []).append(where)
        allowed = families.get(code, 1)
        if len(messages) > allowed:
            detail = "; ".join(f"{ws[0]} {msg[:70]}" for msg, ws in messages.items())
            known = f" (the known-debt list allows {allowed})" if code in families else ""
            out.append(f"{code} is used with {len(messages)} different messages{known}: {detail}")
    return out


def main(argv):
    listing = "--list" in argv
    rest = [a for a in argv[1:] if a != "--list"]
    root = pathlib.Path(rest[0]) if rest else pathlib.Path(__file__).resolve().parent.parent
    sites = scan(root)
    if listing:
        for code, where, msg, _ in sorted(sites):
            print(code, where, msg)
        return 0
    families = read_families(root / "scripts" / "error_code_families.txt")
    found = problems(sites, families)
    for p in found:
        print(p)
    # Debt paid off (a family split or gone): not an error, but the list should shrink with it.
    counts = {}
    for code, _, msg, _ in sites:
        counts.setdefault(code, set()).add(msg)
    for code, allowed in sorted(families.items()):
        if len(counts.get(code, ())) < allowed:
            print(f"note: {code} now has {len(counts.get(code, ()))} messages; lower its line in error_code_families.txt")
    print(f"{len(sites)} message sites, {len({s[0] for s in sites})} codes, {len(found)} problems")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
