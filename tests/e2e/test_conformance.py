"""The guide's own chapter-3.1 and 3.2 examples, from the conformance corpus
(../shared/conformance/command_examples.json), over a pty, in the radio
world tests/worlds/conformance.ini (the APs the examples name).

The examples of one command section run on a fresh module after ATE0, in
the corpus's order (so "Delete a Filter" finds the filter "Add a Filter"
added).
An entry's answer (blank lines dropped) must equal `expect`, or, when the
corpus has only a format (expect_source "none"/"format" without a literal
response), match one variant of `expect_format` with <...> as wildcards.

SKIP and DIFFERENT below list every entry that is not checked as written,
with the reason; they are printed at the end of the run (the lead keeps
docs/COMPAT.md in step with them). Also checked: every 3.1 command's
documented query format.
"""
import json
import os
import re

import pytest

from conftest import SHARED, esc, note

CORPUS = os.path.join(SHARED, "conformance", "command_examples.json")

WORLD = "tests/worlds/conformance.ini"
PKI = ("needs the factory certificates (namespace client_cert) in the manufacturing NVS, as "
       "a real module's mfg_nvs has them; a fresh espat data dir has only factory_param")

# id -> reason: not run at all.
SKIP = {
    "ex026": PKI,
    "ex027": PKI,
    "ex029": PKI,
    "ex030": PKI,
    "ex031": PKI,
}

# id -> (reason, what espat answers instead). Keys: "expect" (lines),
# "expect_any" (a list of acceptable line lists), "format" (check
# expect_format instead of the literal expect), "data" (bytes to send after
# the prompt) and "after" (the answer to the data).
FILTER_RE = b"^WIFI CONNECTED\r\n"
JOINED = ["WIFI CONNECTED", "WIFI GOT IP", "OK"]
REJOIN = ("the module is already connected (an earlier example joined): it leaves that AP "
          "first, so WIFI DISCONNECT comes before the new join (real firmware logs show this)")
CWLAP5 = "+CWLAP:(<ecn>,<ssid>,<rssi>,<mac>,<channel>)"
DIFFERENT = {
    "ex020": ("with the ex017 filter on, WIFI CONNECTED is cut, as the example's note says",
              {"expect": ["WIFI GOT IP", "OK"]}),
    "ex023": (REJOIN, {"expect": ["WIFI DISCONNECT"] + JOINED}),
    "ex044": (REJOIN, {"expect": ["WIFI DISCONNECT"] + JOINED}),
    "ex048": (REJOIN, {"expect": ["WIFI DISCONNECT"] + JOINED}),
    "ex049": (REJOIN, {"expect": ["WIFI DISCONNECT"] + JOINED}),
    "ex050": (REJOIN, {"expect": ["WIFI DISCONNECT"] + JOINED}),
    "ex054": ("<print mask> 31 selects five fields, so the lines have five: one per AP of the "
              "conformance world (8), strongest first",
              {"formats": [[CWLAP5] * 8 + ["OK"]]}),
    "ex056": ("<print mask> 31 and <authmode mask> 1: five fields, the one open AP",
              {"formats": [[CWLAP5, "OK"]]}),
    "ex076": ("the format shows only OK; the join prints its Wi-Fi messages first, as AT+CWJAP "
              "does (EAP-TLS certificates are not checked yet, COMPAT)", {"expect": JOINED}),
    "ex077": (REJOIN, {"expect": ["WIFI DISCONNECT"] + JOINED}),
    "ex001": ("the example shows an older build (AT 2.2.0.0, SDK v4.0.1); espat reports the "
              "v3.3.0.0 build of the guide's 3.3 examples (COMPAT #13): checked against the "
              "format instead", {"format": True}),
    "ex013": ("heap sizes are simulated and vary: checked against the format",
              {"format": True}),
    "ex017": ("the example continues after '>' with the 17-byte regex its note gives; "
              "the filter is then added: OK", {"data": FILTER_RE, "after": ["OK"]}),
    "ex021": ("the example continues after '>' with the 17-byte regex its note gives; "
              "the filter added by ex017 is then deleted: OK",
              {"data": FILTER_RE, "after": ["OK"]}),
    "ex024": ("the corpus pairs the erase with the read form's response "
              "(+SYSFLASH:<length>,<data>); an erase answers OK only (COMPAT #11)",
              {"expect": ["OK"]}),
    "ex025": ("the corpus pairs the write with the read form's response; a write answers '>' "
              "(COMPAT #11), takes <length> bytes (here 0x1C000 of 0xFF), then OK",
              {"expect": [">"], "data": b"\xff" * 0x1C000, "after": ["OK"]}),
    "ex032": ("the format's OK is the answer to the data: a type-8 write answers OK and '>' "
              "first (COMPAT #11), takes 1164 bytes, then OK",
              {"expect": ["OK", ">"],
               "data": b"-----BEGIN CERTIFICATE-----\n" + b"A" * 1136, "after": ["OK"]}),
}


# section -> commands sent (after ATE0) before its examples, with the reason.
SETUP = {
    "3.2.10 AT+CWSAP": (["AT+CWMODE=3"], "AT+CWSAP needs the softAP on (guide 3.2.10 notes)"),
    "3.2.14 AT+CWDHCPS": (["AT+CWMODE=3"], "AT+CWDHCPS needs the softAP on"),
    "3.2.19 AT+CIPAPMAC": (["AT+CWMODE=3"], "AT+CIPAPMAC needs the softAP on"),
    "3.2.21 AT+CIPAP": (["AT+CWMODE=3"], "AT+CIPAP needs the softAP on"),
}


def _load():
    if not os.path.exists(CORPUS):
        return None
    with open(CORPUS) as f:
        return json.load(f)


DATA = _load()
pytestmark = pytest.mark.skipif(DATA is None, reason=f"conformance corpus not found: {CORPUS}")


def _examples():
    if DATA is None:
        return []
    return [e for e in DATA["examples"] if e["command_section"].startswith(("3.1.", "3.2."))]


def _blocks():
    blocks = {}
    for e in _examples():
        blocks.setdefault(e["command_section"], []).append(e)
    return list(blocks.items())


def _line_rx(fmt):
    """A format line with <...> wildcards -> compiled regex."""
    parts = re.split(r"<[^<>]+>", fmt)
    return re.compile(".*?".join(re.escape(p) for p in parts), re.S)


def _matches_format(lines, fmt_lines):
    # "[WIFI GOT IPv6 LL]": a line that appears only in some conditions (IPv6 on)
    fmt_lines = [f for f in fmt_lines if f != "" and not (f.startswith("[") and f.endswith("]"))]
    if len(lines) != len(fmt_lines):
        return False
    return all(_line_rx(f).fullmatch(l) for l, f in zip(lines, fmt_lines))


def _lines(raw):
    return [l for l in raw.decode("latin-1").split("\r\n") if l != ""]


def _read_answer(dut, want_last):
    """Up to the final result; a trailing '>' prompt when one is due."""
    if want_last == ">":
        return dut.expect_re(rb".*?>").group(0)
    return dut.answer()


def _run_entry(dut, e):
    """Returns an error text, or None."""
    diff = DIFFERENT.get(e["id"], (None, {}))[1]
    if "formats" in diff:
        want, fmts = None, diff["formats"]
    elif "expect_any" in diff:
        want, fmts = None, diff["expect_any"]
    elif "expect" in diff:
        want, fmts = diff["expect"], None
    elif diff.get("format") or "expect" not in e:
        want, fmts = None, [v["lines"] for v in e.get("expect_format", [])]
    else:
        want, fmts = e["expect"], None
    last = want[-1] if want else (fmts[0][-1] if fmts and fmts[0] else "OK")
    dut.write(e["send"].encode("latin-1"))
    got = _lines(_read_answer(dut, last))
    if want is not None and got != want:
        return f"{e['id']} {e['send']!r}: want {want}, got {got}"
    if want is None and not any(_matches_format(got, f) for f in fmts):
        return f"{e['id']} {e['send']!r}: no format of {fmts} matches {got}"
    if "data" in diff:
        dut.write(diff["data"])
        got = _lines(dut.answer(timeout=30))
        if got != diff["after"]:
            return f"{e['id']} data: want {diff['after']}, got {got}"
    return None


@pytest.mark.parametrize("block", _blocks(),
                         ids=[k.replace(" ", "-") for k, _ in _blocks()])
def test_examples(block, make_dut):
    section, entries = block
    dut = make_dut(world=WORLD)
    dut.cmd("ATE0")
    if section in SETUP:
        cmds, why = SETUP[section]
        note(f"conformance: setup {section}: {cmds}: {why}")
        for c in cmds:
            assert _lines(dut.cmd(c))[-1] == "OK", c
    errors = []
    for e in entries:
        if e["id"] in SKIP:
            note(f"conformance: skip {e['id']} {e['send'].strip()!r}: {SKIP[e['id']]}")
            continue
        if e["id"] in DIFFERENT:
            note(f"conformance: differs {e['id']} {e['send'].strip()!r}: {DIFFERENT[e['id']][0]}")
        err = _run_entry(dut, e)
        if err:
            errors.append(err)
    assert not errors, "\n".join(errors)


def test_tables_name_real_entries():
    ids = {e["id"] for e in _examples()}
    assert set(SKIP) <= ids and set(DIFFERENT) <= ids, (set(SKIP) | set(DIFFERENT)) - ids


def _query_commands():
    if DATA is None:
        return []
    return [c for c in DATA["commands"]
            if c["command_section"].startswith(("3.1.", "3.2.")) and c.get("query_format")]


@pytest.mark.parametrize("cmd", _query_commands(), ids=lambda c: c["command"])
def test_query_format(cmd, make_dut):
    """AT+X? prints lines of the documented query format, then OK. Wi-Fi
    queries run with both interfaces on and the station joined, the state
    their formats describe."""
    dut = make_dut(world=WORLD)
    dut.cmd("ATE0")
    if cmd["command_section"].startswith("3.2."):
        assert _lines(dut.cmd("AT+CWMODE=3"))[-1] == "OK"
        assert _lines(dut.cmd('AT+CWJAP="test","1234567890"'))[-1] == "OK"
    got = _lines(dut.cmd(cmd["command"] + "?"))
    assert got and got[-1] == "OK", got
    fmts = [cmd["query_format"]] + cmd.get("query_format_variants", [])
    fmts = [line for f in fmts for line in f.split("\n")]
    for line in got[:-1]:
        assert any(_line_rx(f).fullmatch(line) for f in fmts), (line, fmts)
