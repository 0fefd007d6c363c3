"""Every tests/transcripts/*.t over a real pty against build/espat --no-pace,
one fresh module (and data dir) per file. Expectations are awaited with a
deadline; `~ N` sleeps N ms of real time (the module's own timing); `@` lines
go to the control socket; `! world PATH` becomes --world."""
import glob
import os
import re
import time

import pytest

from conftest import DEADLINE, REPO, CtlError, esc
import transcript

FILES = sorted(glob.glob(os.path.join(REPO, "tests", "transcripts", "*.t")))


def _await(dut, expectation, line, path):
    regex, shown = expectation
    rx = re.compile(regex, re.S)
    end = time.monotonic() + DEADLINE
    while not rx.fullmatch(dut.buf):
        left = end - time.monotonic()
        if left <= 0 or not dut.alive():
            raise AssertionError(
                f"{os.path.basename(path)}:{line}: output mismatch\n"
                f"    want \"{shown}\"\n    got  \"{esc(dut.buf)}\"")
        dut._read_some(min(left, 0.2))
    dut.buf = b""


@pytest.mark.parametrize("path", FILES, ids=[os.path.basename(f) for f in FILES])
def test_transcript(path, make_dut):
    play(path, make_dut)


def play(path, make_dut):
    """Plays one transcript file over a pty (also used by test_ctl.py)."""
    options, steps = transcript.parse(path)
    if "inproc-only" in options:
        pytest.skip(f"inproc-only: {options['inproc-only']}")
    chip = options.get("chip")
    dut = make_dut(world=options.get("world"), args=("--chip", chip) if chip else ())
    for kind, arg, line in steps:
        if kind == "expect":
            _await(dut, arg, line, path)
        elif kind == "send":
            for part in transcript.split_lines(arg):
                dut.write(part)
        elif kind == "chunk":
            dut.write(arg)
        elif kind == "wait":
            time.sleep(arg / 1000.0)
        elif kind == "power-cycle":
            dut.restart(cut=True)
        elif kind == "ctl":
            args, want_ok = arg
            try:
                dut.ctl(*args, expect_ok=want_ok)
            except CtlError as e:
                raise AssertionError(f"{os.path.basename(path)}:{line}: {e}") from None
    dut.quiet(0.1)


def test_parser_reads_every_file():
    assert FILES, "no transcripts found"
    for f in FILES:
        transcript.parse(f)
