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


# ---- chapter 4: the TCP/IP scenarios, with real peers on the loopback ------------------------
#
# The scenarios of ../shared/conformance/examples.json that need only peers
# on this host (and, for 4.2.2 / 4.2.11, a station on the module's softAP,
# played by `ctl sta join`). Their `env` values are replaced (in one pass)
# with this test bed's: the AP the world leads to the host through, peer
# addresses 127.0.0.1 and the ports our peers got. `peer` steps are played
# by the peers; expectations are compared line by line, blank lines
# dropped, with the corpus's {TYPE:name} placeholders; `wait_ms` is slept
# (the +++ guards). CH4_DIFFERENT lists every step not run as written.

import time  # noqa: E402

from conftest import DEADLINE  # noqa: E402
from peers import Conn, TcpServer, UdpPeer, free_port  # noqa: E402

SCENARIOS = os.path.join(SHARED, "conformance", "examples.json")
CH4_WORLD = "tests/worlds/tcpip.ini"  # "espat" / "espatpass", network = host
CH4 = ("4.2.1", "4.2.2", "4.2.3", "4.2.4", "4.2.9", "4.2.10", "4.2.11", "4.2.12")
STA_MAC = "12:34:56:78:9a:bc"  # the PC that joins the softAP
# Reports a step does not show and the corpus says are not asserted (a
# station joining the softAP: 3.15, notes of 4.2.2).
CH4_UNASSERTED = re.compile(r"^\+(STA_CONNECTED|DIST_STA_IP):")

# (section, seed line of the step) -> (reason, change). Changes: "send"
# (what is sent instead), "expect" (the lines espat answers).
CH4_DIFFERENT = {
    ("4.2.2", 12150): ("AT+CIPSERVER=1 listens on the default port 333, a fixed privileged host "
                       "port that parallel test runs would fight over: the test names a free "
                       "port (AT+CIPSERVER=1,<port>); the default is the same code path",
                       {"send": "AT+CIPSERVER=1,{server_port}\r\n"}),
    ("4.2.10", 13584): ("conflict in the guide (README item 3): with AT+CIPMUX=1 the "
                        "single-connection AT+CIPCLOSE is refused; espat answers ERROR, one of "
                        "the corpus's expect_alt", {"expect": ["ERROR"]}),
}


def _load_scenarios():
    if not os.path.exists(SCENARIOS):
        return []
    with open(SCENARIOS) as f:
        return [s for s in json.load(f) if s["section"] in CH4]


CH4_SCENARIOS = _load_scenarios()


class _Bed:
    """The peers of one scenario and the env values that point at them."""

    def __init__(self, section):
        self.section = section
        self.srv = None        # tcp_server_peer
        self.conn = None       # the TCP connection of the peer (either side)
        self.udp = None        # udp_peer
        self.udp2 = None       # udp_peer_2
        self.server_port = free_port()  # the module's server
        self.local_port = free_port()   # the module's UDP port
        self.last_sent = b""
        ap = {"espressif": "espat", "1234567890": "espatpass"}
        if section in ("4.2.1", "4.2.9", "4.2.12"):
            self.srv = TcpServer()
            self.env = dict(ap, **{"192.168.3.102": "127.0.0.1", "8080": str(self.srv.port)})
        elif section == "4.2.3":
            self.udp = UdpPeer()
            self.env = dict(ap, **{"192.168.3.102": "127.0.0.1", "8080": str(self.udp.port),
                                   "1112": str(self.local_port)})
        elif section == "4.2.4":
            self.udp, self.udp2 = UdpPeer(), UdpPeer()
            self.env = dict(ap, **{"192.168.3.102": "127.0.0.1", "8080": str(self.udp.port),
                                   "1112": str(self.local_port), "192.168.3.103": "127.0.0.1",
                                   "1000": str(self.udp2.port)})
        elif section == "4.2.10":
            self.env = dict(ap, **{"8080": str(self.server_port)})
        elif section == "4.2.2":
            self.env = {}  # the softAP's own SSID and password stay
        elif section == "4.2.11":
            note("conformance: 4.2.11: the softAP station (ctl sta join) is simulated; its "
                 "address 192.168.4.2 is replaced by 127.0.0.1, where the host peer that plays "
                 "its UDP socket is")
            self.udp = UdpPeer()
            self.env = {"192.168.4.2": "127.0.0.1", "8080": str(self.udp.port),
                        "2233": str(self.local_port)}
        keys = sorted(self.env, key=len, reverse=True)
        self._rx = re.compile("|".join(re.escape(k) for k in keys)) if keys else None

    def subst(self, text):
        text = text.replace("{server_port}", str(self.server_port))
        return self._rx.sub(lambda m: self.env[m.group(0)], text) if self._rx else text

    def tcp(self):
        if self.conn is None:
            self.conn = self.srv.accept()
        return self.conn

    def close(self):
        for p in (self.srv, self.conn, self.udp, self.udp2):
            if p is not None:
                p.close()


_PH = re.compile(r"\{(IP|MAC|INT|HEX|STR):(\w+)\}")
_PH_RX = {"IP": r"\d{1,3}(?:\.\d{1,3}){3}", "MAC": r"[0-9a-f]{2}(?::[0-9a-f]{2}){5}",
          "INT": r"-?\d+", "HEX": r"[0-9a-fA-F]*", "STR": r"[^\r\n]*"}


def _line_ok(line, want, bound):
    """Whether one output line matches an expected line with placeholders;
    binds their values."""
    parts, names, pos = [], [], 0
    for m in _PH.finditer(want):
        parts.append(re.escape(want[pos:m.start()]))
        name = m.group(2)
        if name in bound:
            parts.append(re.escape(bound[name]))
        else:
            parts.append(f"({_PH_RX[m.group(1)]})")
            names.append(name)
        pos = m.end()
    parts.append(re.escape(want[pos:]))
    m = re.fullmatch("".join(parts), line)
    if not m:
        return False
    bound.update(zip(names, m.groups()))
    return True


def _lines_ok(got, want, bound):
    trial = dict(bound)
    if len(got) != len(want) or not all(_line_ok(g, w, trial) for g, w in zip(got, want)):
        return False
    bound.update(trial)
    return True


def _shown(raw):
    return [l for l in _lines(raw) if not CH4_UNASSERTED.match(l)]


def _play_peer(dut, bed, st):
    role = st.get("peer_role", "")
    text = st["peer"]
    if role == "softap_station":
        dut.ctl("sta", "join", STA_MAC, "password=1234567890")
    elif role == "tcp_client_peer":
        bed.conn = Conn.connect(bed.server_port)
    elif "peer_receives" in st:
        want = bed.subst(st["peer_receives"]).encode("latin-1")
        if bed.udp is not None:
            peer = bed.udp2 if role == "udp_peer_2" else bed.udp
            data, frm = peer.recv()
            assert frm == ("127.0.0.1", bed.local_port), (text, frm)
            assert data == want, (text, data)
        else:
            assert bed.tcp().recv_exact(len(want)) == want, text
    elif "peer_sends" in st:
        data = bed.subst(st["peer_sends"]).encode("latin-1")
        if bed.udp is not None:
            bed.udp.sendto(data, bed.local_port)
        else:
            bed.tcp().send(data)
        bed.last_sent = data
    else:
        # setting up a peer the bed already has (a server listening, a UDP
        # socket bound); a TCP server peer's connection is accepted lazily
        assert role in ("tcp_server_peer", "udp_peer"), text


def _read_expect(dut, want):
    """The answer to the step's send: up to its last line."""
    if want and want[-1] == ">":
        return dut.expect_re(rb".*?>").group(0)
    return dut.answer()


def _wait_lines(dut, want, bound, timeout=DEADLINE):
    """Unsolicited lines: reads until what came is exactly want (an active
    +IPD has no line end after its data)."""
    def test(buf):
        return len(buf) if _lines_ok(_shown(buf), want, dict(bound)) else None
    got = dut.read_until(test, timeout, f"{want}")
    assert _lines_ok(_shown(got), want, bound)


def _run_scenario(dut, sc):
    bed = _Bed(sc["section"])
    bound = {}
    last_send = None
    try:
        dut.cmd("ATE0")
        for st in sc["steps"]:
            key = (sc["section"], st.get("line"))
            diff = CH4_DIFFERENT.get(key, (None, {}))[1]
            if key in CH4_DIFFERENT:
                note(f"conformance: differs {sc['id']} line {key[1]}: "
                     f"{CH4_DIFFERENT[key][0]}")
            if "send" in st:
                text = diff.get("send") or st.get("send_template") or st["send"]
                last_send = bed.subst(text)
                dut.write(last_send.encode("latin-1"))
            elif "expect" in st:
                prev = sc["steps"][sc["steps"].index(st) - 1]
                pdiff = CH4_DIFFERENT.get((sc["section"], prev.get("line")), (None, {}))[1]
                wants = [pdiff["expect"]] if "expect" in pdiff else \
                    [st["expect"]] + st.get("expect_alt", [])
                wants = [[bed.subst(l) for l in w] for w in wants]
                got = _shown(_read_expect(dut, wants[0]))
                assert any(_lines_ok(got, w, bound) for w in wants), \
                    f"{sc['id']} {last_send!r}: want {wants[0]}, got {got}"
            elif "expect_async" in st:
                _wait_lines(dut, [bed.subst(l) for l in st["expect_async"]], bound)
            elif "expect_raw" in st:
                n = len(bed.last_sent)
                got = dut.read_until(lambda b: n if len(b) >= n else None)
                assert got == bed.last_sent, (st["expect_raw"], got)
            elif "peer" in st:
                _play_peer(dut, bed, st)
            elif "wait_ms" in st:
                time.sleep(st["wait_ms"] / 1000)
            else:
                raise AssertionError(f"unknown step {st}")
        dut.quiet(0.05)
    finally:
        bed.close()


@pytest.mark.parametrize("sc", CH4_SCENARIOS, ids=[s["id"] for s in CH4_SCENARIOS])
def test_chapter4_tcpip(sc, make_dut):
    dut = make_dut(world=CH4_WORLD)
    _run_scenario(dut, sc)


def test_chapter4_tables_name_real_steps():
    lines = {(s["section"], st.get("line")) for s in CH4_SCENARIOS for st in s["steps"]}
    assert set(CH4_DIFFERENT) <= lines, set(CH4_DIFFERENT) - lines
    assert {s["section"] for s in CH4_SCENARIOS} == set(CH4) or not CH4_SCENARIOS
