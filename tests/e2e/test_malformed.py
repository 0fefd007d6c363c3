"""Thousands of malformed lines over the pty. Each is awaited until its
answer: ERROR (with a well-formed ERR CODE line, AT+SYSLOG=1), or nothing
where nothing is due (an empty line; a line without LF, which the next one
completes). The module never dies and AT answers OK afterwards.

MALFORMED_LINES (default 3000) and MALFORMED_SEED (default 1) tune it.

test_schema_malformed breaks every command of the tables one way at a time
from its argument schema (schema_malformed.py) and wants the exact ERR CODE;
`make soak` runs the same with thousands more random lists."""
import os
import random
import re
import time

import schema_malformed
from conftest import esc

N = int(os.environ.get("MALFORMED_LINES", "3000"))
SEED = int(os.environ.get("MALFORMED_SEED", "1"))
BUDGET_S = 120

ANSWER = re.compile(rb"ERR CODE:0x01(0[1-9a-c])[0-9a-f]{4}\r\n\r\nERROR\r\n")
NAME = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!%-./:_"


def _bytes(rng, n, exclude=b"\n"):
    return bytes(b for b in (rng.randrange(256) for _ in range(n * 2)) if b not in exclude)[:n]


def _huge(rng):
    return rng.choice([b"", b"-", b"+"]) + str(rng.randrange(10**19, 10**40)).encode()


def _gen(rng):
    """Yields (bytes, due) with due "error" or "none". Never a valid
    command: nothing here may restart, sleep or enter data mode."""
    kinds = ["random", "unknown", "lower", "quotes", "huge", "overlong", "no_cr", "nul",
             "partial", "empty", "form", "range", "too_many", "space"]
    while True:
        k = rng.choice(kinds)
        if k == "random":
            first = rng.choice([b for b in range(256) if b not in b"A\n"])
            yield bytes([first]) + _bytes(rng, rng.randrange(0, 80)) + b"\r\n", "error"
        elif k == "unknown":
            # '+' and a lower-case letter: no such command name
            tail = bytes(rng.choice(NAME + b"abc=?,\"") for _ in range(rng.randrange(0, 30)))
            yield b"AT+" + bytes([rng.choice(b"abcdefghijklmnopqrstuvwxyz")]) + tail + b"\r\n", "error"
        elif k == "lower":
            pre = rng.choice([b"at", b"At", b"aT", b"a", b"A", b"TA", b" AT"])
            yield pre + rng.choice([b"", b"+GMR", b"E0", b"+RST", b"+SYSLOG=1"]) + b"\r\n", "error"
        elif k == "quotes":
            yield rng.choice([
                b'AT+SAVETRANSLINK=1,"192.168.1.1,80\r\n',
                b'AT+SAVETRANSLINK=1,192.168.1.1",80\r\n',
                b'AT+SAVETRANSLINK=1,"192.168.1.1"x,80\r\n',
                b'AT+SAVETRANSLINK=1,"a"b",80\r\n',
                b'AT+SAVETRANSLINK=1,"abc\\",80\r\n',
                b'AT+SAVETRANSLINK="1","h",80\r\n',
                b'AT+SYSMSG="1\r\n',
                b'AT+SYSMSG=""\r\n',
                b'AT+SYSREG=0,"0x1000"\r\n',
                b'AT+UART_CUR="115200",8,1,0,0\r\n',
                b'AT+SLEEP=\'1\'\r\n',
            ]), "error"
        elif k == "huge":
            cmd = rng.choice([b"AT+UART_CUR=%s,8,1,0,0", b"AT+SYSMSG=%s", b"AT+TRANSINTVL=%s",
                              b"AT+GSLP=%s", b"AT+SYSREG=0,%s", b"AT+SYSTIMESTAMP=%s",
                              b"AT+RFPOWER=%s", b"AT+SLEEP=%s", b"AT+SYSLOG=%s"])
            yield cmd.replace(b"%s", _huge(rng)) + b"\r\n", "error"
        elif k == "overlong":
            n = rng.randrange(255, 3000)
            body = b"AT+SYSREG=0,0x" + b"0" * n
            yield body + b"\r\n", "error"
        elif k == "no_cr":
            yield rng.choice([b"AT", b"AT+GMR", b"ATE1", b"X" * rng.randrange(0, 50)]) + b"\n", "error"
        elif k == "nul":
            yield rng.choice([b"AT\0\r\n", b"\0AT\r\n", b"AT+GMR\0\r\n", b"AT+\0GMR\r\n",
                              b"\0\0\0\r\n", b'AT+SYSMSG="\0"\r\n']), "error"
        elif k == "partial":
            # no LF: nothing due; the next write completes it (into junk)
            yield bytes([rng.choice(b"BCDXYZ0189 ")]) + _bytes(rng, rng.randrange(0, 40), b"\n\r"), "none"
            yield b"x" + _bytes(rng, rng.randrange(0, 10)) + b"\r\n", "error"
        elif k == "empty":
            yield b"\r\n", "none"
        elif k == "form":
            yield rng.choice([b"AT+GMR?", b"AT+GMR=?", b"AT+GMR=1", b"AT+RST?", b"AT+CMD",
                              b"AT+SYSRAM=1", b"AT+SYSREG?", b"AT+SLEEPWKCFG?", b"AT?", b"AT=?",
                              b"AT+GSLP", b"AT+SYSTEMP=1", b"AT+UART_CUR", b"AT+GMR??",
                              b"AT+GMR \r"]) + b"\r\n", "error"
        elif k == "range":
            yield rng.choice([b"AT+SYSLOG=2", b"AT+SLEEP=4", b"AT+RFPOWER=39", b"AT+RFPOWER=85",
                              b"AT+UART_CUR=79,8,1,0,0", b"AT+UART_DEF=115200,9,1,0,0",
                              b"AT+TRANSINTVL=1001", b"AT+SYSMSG=-1", b"AT+RST=2",
                              b"ATE2", b"ATE", b"ATE-1", b"AT+SYSSTORE=2",
                              b"AT+SLEEPWKCFG=2,99,0", b"AT+SYSREG=2,0"]) + b"\r\n", "error"
        elif k == "too_many":
            yield b"AT+SYSLOG=" + b",".join([b"1"] * rng.randrange(2, 60)) + b"\r\n", "error"
        elif k == "space":
            yield rng.choice([b"AT ", b"AT+GMR ", b" AT+GMR", b"AT+ GMR", b"AT+SYSLOG= 1",
                              b"AT+SYSLOG=1 ", b"AT\t"]) + b"\r\n", "error"


def test_malformed_lines(dut):
    rng = random.Random(SEED)
    assert dut.cmd("ATE0") == b"ATE0\r\n\r\nOK\r\n"
    assert dut.cmd("AT+SYSLOG=1") == b"\r\nOK\r\n"
    t0 = time.monotonic()
    sent = errors = 0
    gen = _gen(rng)
    while sent < N:
        line, due = next(gen)
        sent += 1
        dut.write(line)
        if due == "none":
            continue
        try:
            m = dut.expect_re(ANSWER)
        except AssertionError as e:
            raise AssertionError(f"line {sent} (seed {SEED}): sent \"{esc(line)}\": {e}") from None
        errors += 1
        assert time.monotonic() - t0 < BUDGET_S, f"too slow: {sent} lines in {BUDGET_S}s"
    dut.quiet(0.05)
    assert dut.alive()
    assert dut.cmd("AT") == b"\r\nOK\r\n"
    assert dut.cmd("AT+SYSLOG?") == b"+SYSLOG:1\r\n\r\nOK\r\n"
    assert errors > N * 0.8


def test_binary_storm(dut):
    """Random bytes with line ends, in random-size writes and without
    waiting: the module may answer anything (busy p... included) but stays
    alive and answers AT afterwards. No line may start a command."""
    rng = random.Random(SEED + 1)
    dut.cmd("ATE0")
    junk = bytearray()
    for _ in range(200):
        junk += bytes([rng.choice(b"BXYZ\x00\xff")]) + _bytes(rng, rng.randrange(0, 300))
        junk += rng.choice([b"\r\n", b"\n", b"\r", b""])
    pos = 0
    while pos < len(junk):
        n = rng.randrange(1, 512)
        dut.write(bytes(junk[pos:pos + n]))
        pos += n
    # end any half line, drain until quiet, then a clean line
    dut.write(b"\r\n")
    end = time.monotonic() + 10
    while dut._read_some(0.2):
        assert time.monotonic() < end, "output does not stop"
    dut.buf = b""
    assert dut.cmd("AT") in (b"\r\nOK\r\n", b"AT\r\n\r\nOK\r\n")
    assert dut.alive()


def test_schema_malformed(dut):
    """Every command, every way its schema can be broken (and its absent
    forms): ERROR with the predicted ERR CODE, and the module answers AT
    between commands."""
    rng = random.Random(SEED)
    schema = schema_malformed.load()
    assert dut.cmd("ATE0") == b"ATE0\r\n\r\nOK\r\n"
    assert dut.cmd("AT+SYSLOG=1") == b"\r\nOK\r\n"
    listed = set(re.findall(rb'\+CMD:\d+,"([^"]*)"', dut.cmd("AT+CMD?")))
    assert listed == {b"AT" + c["name"].encode() for c in schema}
    sent = 0
    last = None
    for name, line, want in schema_malformed.cases(schema, rng):
        if name != last:
            if last is not None:
                assert dut.cmd("AT") == b"\r\nOK\r\n", f"after {last}"
            last = name
        sent += 1
        out = dut.cmd(line)
        assert out == b"ERR CODE:0x%08x\r\n\r\nERROR\r\n" % want, (line, out)
    assert dut.alive()
    assert sent > 1000
