"""Malformed argument lists generated from the command tables' schemas.

tests/tools/schema_dump prints every command's forms and the schema of its
set form (the table rows the engine checks arguments against). From that,
cases() makes lines that break a command one way each -- too many
arguments, too few, a required one left empty, a wrong type, a value out of
range, a number that overflows or is no number, a string too long, broken
quoting -- plus the forms the command does not have, each with the ERR CODE
the engine must answer under AT+SYSLOG=1 (core/errcode.h; the checks are
core/engine.c check_args and core/args.c). The values around the broken
one are valid, drawn at random. Used by test_malformed.py (a few per
command) and bench/soak.py (thousands)."""
import json
import os
import subprocess

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCHEMA_DUMP = os.environ.get("SCHEMA_DUMP") or os.path.join(REPO, "build", "tests", "schema_dump")

OP = 0x010C0000  # the form does not exist
LINE_MAX = 250   # longer lines are the line assembler's case, not these
ARGS_MAX = 32    # the tokenizer's limit (core/args.h)


def err_num(need, given):
    return 0x01060000 | (need << 8) | (given & 0xFF)


def err_length(i):
    return 0x01040000 | i


def err_type(i):
    return 0x01050000 | i


def err_invalid(i):
    return 0x01070000 | i


def err_parse(i):
    return 0x01080000 | i


def load():
    """The tables: one dict per command (family, name, forms, params)."""
    out = subprocess.run([SCHEMA_DUMP], check=True, capture_output=True).stdout
    return [json.loads(line) for line in out.splitlines()]


def quote(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"').replace(",", "\\,") + '"'


def valid(p, rng):
    """A value that passes p's schema check."""
    if p["type"] == "int":
        lo, hi = p["min"], p["max"]
        return str(rng.choice([lo, hi, rng.randint(lo, hi)]))
    if p["type"] == "str":
        n = rng.randint(0, min(p["maxlen"], 12))
        return quote("".join(rng.choice('ab,"\\ z09') for _ in range(n)))
    return rng.choice(["0", '"x"'])


NOT_NUMBERS = ("99999999999999999999", "-9223372036854775809", "1a", "0x", "1.5", " 1", "1 ",
               "+", "--1", "0x1G")


def breakers(c):
    """Every (argument list, ERR CODE) that breaks c's set form one way;
    None stands for a valid value, drawn when the line is made."""
    ps = c["params"]
    n = len(ps)
    req = max([i + 1 for i, p in enumerate(ps) if not p["optional"]], default=0)
    out = []
    if n + 1 <= ARGS_MAX:
        out.append((["0"] * (n + 1), err_num(n, n + 1)))
    out.append((["0"] * (ARGS_MAX + 1), err_num(n, ARGS_MAX)))
    if req >= 2:
        out.append(([None] * (req - 1), err_num(req, req - 1)))
    for i, p in enumerate(ps):
        head = [None] * i
        tail = ["0"] * (max(req, i + 1) - i - 1)
        if not p["optional"] and i + 2 <= n:  # empty, with an argument after it
            out.append((head + [""] + ["0"] * (max(req, i + 2) - i - 1), err_invalid(i)))
        if p["type"] == "int":
            out.append((head + ['"1"'] + tail, err_type(i)))
            if p["min"] > -(1 << 63):
                out.append((head + [str(p["min"] - 1)] + tail, err_invalid(i)))
            if p["max"] < (1 << 63) - 1:
                out.append((head + [str(p["max"] + 1)] + tail, err_invalid(i)))
        if p["type"] == "str":
            out.append((head + ["7"] + tail, err_type(i)))
            if p["maxlen"] < 200:
                out.append((head + [quote("x" * (p["maxlen"] + 1))] + tail, err_length(i)))
        for junk in NOT_NUMBERS:
            out.append((head + [junk] + tail, err_type(i)))
        out.append((head + ['"abc'], err_parse(i)))        # unterminated
        out.append((head + ['"a"b'] + tail, err_parse(i)))  # junk after the quote
    return out


def cases(schema, rng, extra_per_cmd=0):
    """(command name, line without CR LF, ERR CODE) for every command:
    its absent forms, every breaker once, then extra_per_cmd random ones."""
    for c in schema:
        if c["digit_suffix"]:
            continue  # ATE0/ATE1: test_malformed.py's hand-written lines cover them
        name = c["name"]
        lines = [(f"AT{name}{suffix}", OP)
                 for form, suffix in (("T", "=?"), ("Q", "?"), ("S", "=1"), ("E", ""))
                 if form not in c["forms"]]
        if "S" in c["forms"]:
            brk = breakers(c)
            for args, want in brk + [rng.choice(brk) for _ in range(extra_per_cmd)]:
                vals = [valid(c["params"][k], rng) if v is None else v for k, v in enumerate(args)]
                lines.append((f"AT{name}={','.join(vals)}", want))
        for line, want in lines:
            if len(line) <= LINE_MAX:
                yield "AT" + name, line, want
