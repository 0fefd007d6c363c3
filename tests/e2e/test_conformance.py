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
docs/COMPAT.md in step with them). EXACT lists entries whose documented
format is tightened to the exact answer a fresh module gives. Also checked:
every 3.1 command's documented query format.
"""
import json
import os
import re

import pytest

from conftest import REPO, SHARED, esc, note

CORPUS = os.path.join(SHARED, "conformance", "command_examples.json")

WORLD = "tests/worlds/conformance.ini"
# The factory PKI a fresh module holds in its manufacturing NVS (pki/README.md).
FACTORY = os.path.join(REPO, "pki", "factory")

# id -> reason: not run at all.
SKIP = {}

# id -> (reason, what espat answers instead). Keys: "expect" (lines),
# "expect_any" (a list of acceptable line lists), "format" (check
# expect_format instead of the literal expect), "data" (bytes to send after
# the prompt), "after" (the answer to the data) and "reflash_mfg" (first
# give the module a factory manufacturing NVS again, see _reflash_mfg).
FILTER_RE = b"^WIFI CONNECTED\r\n"
JOINED = ["WIFI CONNECTED", "WIFI GOT IP", "OK"]
REJOIN = ("the module is already connected (an earlier example joined): it leaves that AP "
          "first, so WIFI DISCONNECT comes before the new join (real firmware logs show this)")
CWLAP5 = "+CWLAP:(<ecn>,<ssid>,<rssi>,<mac>,<channel>)"
# factory_param, ble_data (the default GATT table) and one namespace per directory of
# pki/factory
MFG_NAMESPACES = 2 + len(os.listdir(FACTORY)) if os.path.isdir(FACTORY) else 0
MFG_FACTORY = ("the example works on a module as it left the factory, so the test flashes the "
               "factory manufacturing NVS back first (power off, mfg_nvs.db removed, which a "
               "module seeds at boot with factory_param, ble_data and pki/factory)")
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
    "ex027": ("ex026 just erased the whole client_cert namespace; " + MFG_FACTORY,
              {"reflash_mfg": True}),
    "ex028": ("ex027 just erased client_cert.0, which ex030 and ex031 read; " + MFG_FACTORY
              + f"; a fresh module holds {MFG_NAMESPACES} namespaces "
              f"(factory_param, ble_data and the {MFG_NAMESPACES - 2} of pki/factory): one line "
              "each",
              {"reflash_mfg": True,
               "formats": [['+SYSMFG:<"namespace">'] * MFG_NAMESPACES + ["OK"]]}),
    "ex029": ("the factory PKI has two client certificates (client_cert.0 and .1, "
              "pki/factory/client_cert): one line each",
              {"formats": [['+SYSMFG:<"namespace">,<"key">,<type>'] * 2 + ["OK"]]}),
    "ex032": ("the format's OK is the answer to the data: a type-8 write answers OK and '>' "
              "first (COMPAT #11), takes 1164 bytes, then OK",
              {"expect": ["OK", ">"],
               "data": b"-----BEGIN CERTIFICATE-----\n" + b"A" * 1136, "after": ["OK"]}),
}


def _factory_file(ns, name):
    with open(os.path.join(FACTORY, ns, name), "rb") as f:
        return f.read().decode("latin-1")


def _exact():
    if not os.path.isdir(FACTORY):
        return {}
    crt = _factory_file("client_cert", "client_cert_00.crt")
    pre = '+SYSMFG:"client_cert","client_cert.0",8'
    return {
        "ex030": (f"client_cert.0 is pki/factory/client_cert/client_cert_00.crt ({len(crt)} "
                  "bytes, type 8: a file stored as binary, as mfg_nvs.py does)",
                  [f"{pre},{len(crt)},{crt}", "OK"]),
        "ex031": ("bytes 100..299 of pki/factory/client_cert/client_cert_00.crt",
                  [f"{pre},200,{crt[100:300]}", "OK"]),
    }


# id -> (reason, the answer's lines): the documented format would also
# accept other answers; the test wants exactly this one.
EXACT = _exact()


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


# ---- for the family files that replay their own sections ------------------------------

def section_blocks(sections):
    """(section, its entries in corpus order) for each of sections: what a
    family's test file replays with the peers it starts."""
    if DATA is None:
        return []
    return [(s, [e for e in DATA["examples"] if e["command_section"] == s]) for s in sections]


def check_send_data(dut, e):
    """An entry's data after its '>' prompt, and the answer the format's
    later variants allow; an error text, or None."""
    fmts = [v["lines"] for v in e.get("expect_format", [])]
    dut.write("".join(e["send_data"]).encode("latin-1"))
    got = _lines(dut.answer())
    if got not in fmts[1:]:
        return f"{e['id']} data {e['send_data']}: want one of {fmts[1:]}, got {got}"
    return None


def run_entries(entries, different, run):
    """Runs run(e) (an error text, or None) for each entry in order, noting
    the differences different names; asserts that none failed."""
    errors = []
    for e in entries:
        if e["id"] in different:
            reason = different[e["id"]]
            reason = reason[0] if isinstance(reason, tuple) else reason
            note(f"conformance: differs {e['id']} {e['send'].strip()!r}: {reason}")
        err = run(e)
        if err:
            errors.append(err)
    assert not errors, "\n".join(errors)


def _read_answer(dut, want_last):
    """Up to the final result; a trailing '>' prompt when one is due."""
    if want_last == ">":
        return dut.expect_re(rb".*?>").group(0)
    return dut.answer()


def _reflash_mfg(dut):
    """Power off; the manufacturing NVS back to the factory image: its
    file removed, which the next boot seeds as a fresh module's; power on."""
    rc = dut.stop()
    assert rc == 0, f"espat exited with {rc} on SIGTERM: {dut.stderr()}"
    os.remove(os.path.join(dut.data_dir, "mfg_nvs.db"))
    dut.start()
    dut.cmd("ATE0")


def _run_entry(dut, e):
    """Returns an error text, or None."""
    diff = DIFFERENT.get(e["id"], (None, {}))[1]
    if diff.get("reflash_mfg"):
        _reflash_mfg(dut)
    if e["id"] in EXACT:
        want, fmts = EXACT[e["id"]][1], None
    elif "formats" in diff:
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
        if e["id"] in EXACT:
            note(f"conformance: exact {e['id']} {e['send'].strip()!r}: {EXACT[e['id']][0]}")
        err = _run_entry(dut, e)
        if err:
            errors.append(err)
    assert not errors, "\n".join(errors)


def test_tables_name_real_entries():
    ids = {e["id"] for e in _examples()}
    named = set(SKIP) | set(DIFFERENT) | set(EXACT)
    assert named <= ids, named - ids


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


# ---- chapter 4: the TCP/IP and SSL scenarios, with real peers on the loopback ---------------
#
# The scenarios of ../shared/conformance/examples.json that need only peers
# on this host (and, for 4.2.2 / 4.2.6 / 4.2.11, a station on the module's
# softAP, played by `ctl sta join`). Their `env` values are replaced (in one
# pass) with this test bed's: the AP the world leads to the host through,
# peer addresses 127.0.0.1 and the ports our peers got; the PC's copy of
# esp-at's raw_data directory is pki/factory, which holds the same files.
# `peer` steps are played by the peers: TCP and UDP sockets, and for SSL the
# guide's own `openssl s_server` / `s_client` commands, run with -quiet so
# that their stdout is the data alone; the module's clock comes from a
# local SNTP server. Expectations are compared line by line, blank lines
# dropped, with the corpus's {TYPE:name} placeholders; `wait_ms` is slept
# (the +++ guards). CH4_DIFFERENT lists every step not run as written.

import calendar  # noqa: E402
import shlex  # noqa: E402
import time  # noqa: E402

from conftest import DEADLINE  # noqa: E402
from peers import (Conn, DnsServer, Openssl, SntpServer, TcpServer, UdpPeer,  # noqa: E402
                   bind_somewhere, free_ports)

SCENARIOS = os.path.join(SHARED, "conformance", "examples.json")
CH4_WORLD = "tests/worlds/tcpip.ini"  # "espat" / "espatpass", network = host
CH4 = ("4.2.1", "4.2.2", "4.2.3", "4.2.4", "4.2.5", "4.2.6", "4.2.7", "4.2.8", "4.2.9", "4.2.10",
       "4.2.11", "4.2.12")
STA_MAC = "12:34:56:78:9a:bc"  # the PC that joins the softAP
# Reports a step does not show and the corpus says are not asserted (a
# station joining the softAP: 3.15, notes of 4.2.2).
CH4_UNASSERTED = re.compile(r"^\+(STA_CONNECTED|DIST_STA_IP):")

RAW_DATA = "/home/esp-at/components/customized_partitions/raw_data"  # the guide's PC
# Loopback addresses for the SNTP and DNS servers of 4.2.7, tried in turn
# (test_svc's server may hold 127.0.0.123:123 in a parallel run).
SVC_HOSTS = [f"127.0.0.{i}" for i in range(140, 150)]
PORT_FREE = ("the port 8070 is replaced by a free one (env): a fixed port would collide with "
             "parallel test runs; the number is the module's to take either way")
SSL_PEER = ("the PC's certificates are the project's factory PKI (pki/factory, esp-at's "
            "raw_data layout, the same files the module's mfg_nvs holds) and its port a free "
            "one; -quiet is added so that openssl's stdout is the data alone")
SOFTAP_PC = ("the PC is a simulated station on the softAP (ctl sta join): its s_client reaches "
             "the module's server where espat's servers listen, 127.0.0.1, instead of the "
             "softAP address 192.168.4.1")
SERVER_SENDS = ("the guide says the SSL server sends the 4 bytes (README item 19), but the PC "
                "is the client here: the PC's s_client sends them")
CLOCK = ("The module checks the client certificate's validity period against its own clock "
         "(COMPAT #87), which reads 1970 on a module fresh from power-on, as on the chip "
         "[000:5845]; the example's module got the time before (as in 4.2.7, by SNTP): the "
         "test sets it first with AT+SYSTIMESTAMP=<the host's time>")

# (section, seed line of the step) -> (reason, change). Changes: "send"
# (what is sent instead), "expect" (the lines espat answers), "before"
# (commands sent first, each answered OK), "then" (lines the module prints
# after the answer, waited for before the next step), "peer_host" (where
# an s_client connects instead), "peer_args" (options it gets added),
# "peer_none" (a peer step that asks nothing of the test bed).
CH4_DIFFERENT = {
    ("4.2.2", 12150): ("AT+CIPSERVER=1 listens on the default port 333, a fixed privileged host "
                       "port that parallel test runs would fight over: the test names a free "
                       "port (AT+CIPSERVER=1,<port>); the default is the same code path",
                       {"send": "AT+CIPSERVER=1,{server_port}\r\n"}),
    ("4.2.10", 13584): ("conflict in the guide (README item 3): with AT+CIPMUX=1 the "
                        "single-connection AT+CIPCLOSE is refused; espat answers ERROR, one of "
                        "the corpus's expect_alt", {"expect": ["ERROR"]}),
    ("4.2.5", 12617): (SSL_PEER, {}),
    ("4.2.5", 12638): (PORT_FREE, {}),
    ("4.2.6", 12751): ("the guide's response block starts with the echoed AT+CIPAP? (README "
                       "item 18): the test runs with ATE0 and the corpus drops the echo", {}),
    ("4.2.6", 12770): (PORT_FREE, {}),
    ("4.2.6", 12788): (SOFTAP_PC + "; -quiet is added so that its stdout is the data alone",
                       {"peer_host": "127.0.0.1"}),
    ("4.2.6", 12791): ("conflict in the guide (README item 20): with AT+CIPMUX=1 the accept is "
                       "reported as <link ID>,CONNECT, not CONNECT: espat prints 0,CONNECT, the "
                       "corpus's expectation", {}),
    ("4.2.6", 12831): (SERVER_SENDS, {}),
    ("4.2.7", 12904): ("the guide's SNTP servers cn.ntp.org.cn and ntp.sjtu.edu.cn are names on "
                       "the internet: a local DNS server, made the module's by AT+CIPDNS first, "
                       "maps both to a local SNTP server that answers with the host's time. "
                       "The guide queries the time after the sync, which a module reports with "
                       "+TIME_UPDATED (3.15), a line the example leaves out: the test waits for "
                       "it", {"before": ['AT+CIPDNS=1,"{dns_host}"'], "then": ["+TIME_UPDATED"]}),
    ("4.2.7", 12960): (SSL_PEER + ". Conflict in the guide (README item 21): the example "
                       "shows CONNECT on the module when the PC starts its server; the module "
                       "prints it in answer to AT+CIPSTART, where it is checked", {}),
    ("4.2.7", 12997): (PORT_FREE, {}),
    ("4.2.8", 13133): (PORT_FREE + ". " + CLOCK,
                       {"before": ["AT+SYSTIMESTAMP={now}"]}),
    ("4.2.8", 13142): ("conflict in the guide (README item 22): it says to connect the PC to the "
                       "softAP, but the module is a station and the PC reaches it on the "
                       "station's network, here the host itself: nothing to do",
                       {"peer_none": True}),
    ("4.2.8", 13146): ("the PC's s_client reaches the module's server where espat's servers "
                       "listen, 127.0.0.1, instead of the station address; " + SSL_PEER
                       + ", and -verify_return_error so that it really refuses a module "
                       "certificate that client_ca_00 does not verify (without it s_client "
                       "only reports the failure and goes on)",
                       {"peer_host": "127.0.0.1", "peer_args": ["-verify_return_error"]}),
    ("4.2.8", 13198): (SERVER_SENDS, {}),
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
        self.tls = None        # ssl_server_peer / ssl_client_peer: an Openssl
        self.ntp = None        # sntp_server
        self.dns = None        # the DNS server that names the SNTP servers
        self.tz_s = 0          # the time zone AT+CIPSNTPCFG sets, in seconds
        # the module's server, the module's UDP port, ssl_server_peer
        self.server_port, self.local_port, self.ssl_port = free_ports(3)
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
        elif section == "4.2.5":
            self.env = dict(ap, **{"192.168.3.102": "127.0.0.1", "8070": str(self.ssl_port)})
        elif section == "4.2.6":
            self.env = {"8070": str(self.server_port)}  # the softAP's SSID and password stay
        elif section == "4.2.7":
            self.env = dict(ap, **{"192.168.3.102": "127.0.0.1", "8070": str(self.ssl_port)})
            try:
                self.ntp = bind_somewhere(SntpServer, SVC_HOSTS)
                names = {"cn.ntp.org.cn": self.ntp.sock.getsockname()[0],
                         "ntp.sjtu.edu.cn": self.ntp.sock.getsockname()[0]}
                self.dns = bind_somewhere(lambda h: DnsServer(h, names), SVC_HOSTS)
            except OSError as e:
                self.close()
                pytest.skip(f"cannot bind local SNTP/DNS servers (ports 123, 53): {e}")
            self.tz_s = 8 * 3600
        elif section == "4.2.8":
            self.env = dict(ap, **{"8070": str(self.server_port)})
        elif section == "4.2.2":
            self.env = {}  # the softAP's own SSID and password stay
        elif section == "4.2.11":
            note("conformance: 4.2.11: the softAP station (ctl sta join) is simulated; its "
                 "address 192.168.4.2 is replaced by 127.0.0.1, where the host peer that plays "
                 "its UDP socket is")
            self.udp = UdpPeer()
            self.env = {"192.168.4.2": "127.0.0.1", "8080": str(self.udp.port),
                        "2233": str(self.local_port)}
        self.env[RAW_DATA] = FACTORY
        keys = sorted(self.env, key=len, reverse=True)
        self._rx = re.compile("|".join(re.escape(k) for k in keys))

    def subst(self, text):
        text = text.replace("{server_port}", str(self.server_port))
        if self.dns is not None:
            text = text.replace("{dns_host}", self.dns.host)
        text = text.replace("{now}", str(int(time.time())))
        return self._rx.sub(lambda m: self.env[m.group(0)], text)

    def time_ok(self, text):
        """Whether an asctime text is the module's wall clock: the host's
        time in the configured time zone (a few seconds either way), so
        not 1970."""
        try:
            t = calendar.timegm(time.strptime(text, "%a %b %d %H:%M:%S %Y"))
        except ValueError:
            return False
        return abs(t - (time.time() + self.tz_s)) <= DEADLINE

    def tcp(self):
        if self.conn is None:
            self.conn = self.srv.accept()
        return self.conn

    def close(self):
        for p in (self.srv, self.conn, self.udp, self.udp2, self.tls, self.ntp, self.dns):
            if p is not None:
                p.close()


_PH = re.compile(r"\{(IP|MAC|INT|HEX|STR|TIME):(\w+)\}")
_PH_RX = {"IP": r"\d{1,3}(?:\.\d{1,3}){3}", "MAC": r"[0-9a-f]{2}(?::[0-9a-f]{2}){5}",
          "INT": r"-?\d+", "HEX": r"[0-9a-fA-F]*", "STR": r"[^\r\n]*",
          "TIME": r"[A-Z][a-z]{2} [A-Z][a-z]{2} [ \d]\d \d{2}:\d{2}:\d{2} \d{4}"}


def _line_ok(line, want, bound, time_ok=None):
    """Whether one output line matches an expected line with placeholders;
    binds their values. A {TIME:...} is a clock reading: never bound, it
    must satisfy time_ok(text)."""
    parts, groups, pos = [], [], 0
    for m in _PH.finditer(want):
        parts.append(re.escape(want[pos:m.start()]))
        kind, name = m.groups()
        if kind != "TIME" and name in bound:
            parts.append(re.escape(bound[name]))
        else:
            parts.append(f"({_PH_RX[kind]})")
            groups.append((kind, name))
        pos = m.end()
    parts.append(re.escape(want[pos:]))
    m = re.fullmatch("".join(parts), line)
    if not m:
        return False
    values = list(zip(groups, m.groups()))
    if any(kind == "TIME" and not (time_ok and time_ok(v)) for (kind, _), v in values):
        return False
    bound.update((name, v) for (kind, name), v in values if kind != "TIME")
    return True


def _lines_ok(got, want, bound, time_ok=None):
    trial = dict(bound)
    if len(got) != len(want) or \
            not all(_line_ok(g, w, trial, time_ok) for g, w in zip(got, want)):
        return False
    bound.update(trial)
    return True


def _shown(raw):
    return [l for l in _lines(raw) if not CH4_UNASSERTED.match(l)]


def _openssl_args(bed, text, diff):
    """The openssl command of a peer step's text ("PC runs: openssl s_client
    -host ... -port 8070"), as this bed runs it."""
    m = re.search(r"openssl (s_server|s_client)\b(.*?)(?:\s{2,}\(.*)?$", bed.subst(text))
    assert m, f"no openssl command in {text!r}"
    args = shlex.split(m.group(1) + m.group(2))
    if "peer_host" in diff:
        args[args.index("-host") + 1] = diff["peer_host"]
    return args + ["-quiet"] + diff.get("peer_args", [])


def _play_peer(dut, bed, st, diff):
    role = st.get("peer_role", "")
    text = st["peer"]
    if diff.get("peer_none"):
        return
    if role == "softap_station":
        dut.ctl("sta", "join", STA_MAC, "password=1234567890")
    elif role == "tcp_client_peer":
        bed.conn = Conn.connect(bed.server_port)
    elif role == "ssl_server_peer":
        args = _openssl_args(bed, text, diff)
        bed.tls = Openssl(args, listen_port=int(args[args.index("-port") + 1]))
    elif role == "ssl_client_peer":
        bed.tls = Openssl(_openssl_args(bed, text, diff))
    elif "peer_receives" in st:
        want = bed.subst(st["peer_receives"]).encode("latin-1")
        if bed.tls is not None:
            assert bed.tls.recv_exact(len(want)) == want, text
        elif bed.udp is not None:
            peer = bed.udp2 if role == "udp_peer_2" else bed.udp
            data, frm = peer.recv()
            assert frm == ("127.0.0.1", bed.local_port), (text, frm)
            assert data == want, (text, data)
        else:
            assert bed.tcp().recv_exact(len(want)) == want, text
    elif "peer_sends" in st:
        data = bed.subst(st["peer_sends"]).encode("latin-1")
        if bed.tls is not None:
            bed.tls.send(data)
        elif bed.udp is not None:
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


def _wait_lines(dut, want, bound, timeout=DEADLINE, time_ok=None):
    """Unsolicited lines: reads until what came is exactly want (an active
    +IPD has no line end after its data)."""
    def test(buf):
        return len(buf) if _lines_ok(_shown(buf), want, dict(bound), time_ok) else None
    got = dut.read_until(test, timeout, f"{want}")
    assert _lines_ok(_shown(got), want, bound, time_ok)


def _run_scenario(dut, sc):
    bed = _Bed(sc["section"])
    try:
        _run_steps(dut, sc, bed)
    except AssertionError as e:
        if bed.tls is None:
            raise
        raise AssertionError(f"{e}\npeer: {bed.tls.log()}") from e
    finally:
        bed.close()


def _run_steps(dut, sc, bed):
    bound = {}
    last_send = None
    dut.cmd("ATE0")
    for st in sc["steps"]:
        key = (sc["section"], st.get("line"))
        diff = CH4_DIFFERENT.get(key, (None, {}))[1]
        if key in CH4_DIFFERENT:
            note(f"conformance: differs {sc['id']} line {key[1]}: "
                 f"{CH4_DIFFERENT[key][0]}")
        for c in diff.get("before", []):
            c = bed.subst(c)
            assert _lines(dut.cmd(c)) == ["OK"], c
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
            assert any(_lines_ok(got, w, bound, bed.time_ok) for w in wants), \
                f"{sc['id']} {last_send!r}: want {wants[0]}, got {got}"
            if "then" in pdiff:
                _wait_lines(dut, pdiff["then"], bound)
        elif "expect_async" in st:
            _wait_lines(dut, [bed.subst(l) for l in st["expect_async"]], bound,
                        time_ok=bed.time_ok)
        elif "expect_raw" in st:
            n = len(bed.last_sent)
            got = dut.read_until(lambda b: n if len(b) >= n else None)
            assert got == bed.last_sent, (st["expect_raw"], got)
        elif "peer" in st:
            _play_peer(dut, bed, st, diff)
        elif "wait_ms" in st:
            time.sleep(st["wait_ms"] / 1000)
        else:
            raise AssertionError(f"unknown step {st}")
    # nothing more, but for the softAP's station reports the guide leaves out
    # (its DHCP lease may land after the last answer)
    end = time.monotonic() + 0.05
    while (left := end - time.monotonic()) > 0:
        dut._read_some(left)
    end = time.monotonic() + 2  # a report cut by the window: its rest
    while dut.buf and not dut.buf.endswith(b"\r\n") and time.monotonic() < end:
        dut._read_some(end - time.monotonic())
    assert _shown(dut.buf) == [], f"unexpected output {dut.buf!r}"


@pytest.mark.parametrize("sc", CH4_SCENARIOS, ids=[s["id"] for s in CH4_SCENARIOS])
def test_chapter4_tcpip(sc, make_dut):
    dut = make_dut(world=CH4_WORLD)
    _run_scenario(dut, sc)


def test_chapter4_tables_name_real_steps():
    lines = {(s["section"], st.get("line")) for s in CH4_SCENARIOS for st in s["steps"]}
    assert set(CH4_DIFFERENT) <= lines, set(CH4_DIFFERENT) - lines
    assert {s["section"] for s in CH4_SCENARIOS} == set(CH4) or not CH4_SCENARIOS
