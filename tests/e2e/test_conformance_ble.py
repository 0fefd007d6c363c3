"""The guide's chapter-4 Bluetooth LE scenarios (../shared/conformance/
examples.json), replayed step by step: those between two modules (4.3.2,
4.3.3, 4.3.4, 4.3.5) on two espat modules joined to one shared air (`espat air`),
each with its own pty and data dir (the corpus's "server" and "client"
devices); those with a phone or another central (4.3.7, 4.9.4-4.9.7) on one
module with a scripted peer (`espat ctl ble peer ...`) playing the phone's
steps as PEER_STEPS says.

Expectations are compared line by line, blank lines dropped, with the
corpus's {TYPE:name} placeholders (the kit of test_conformance.py); each
module's AT+BLEADDR? binds its address, which later steps send. A `{...}`
line matches any lines. An AT+BLESCAN step ends with +BLESCANDONE
(3.4.6 lists it; the examples leave it out): the test waits for it so that
it does not land inside the next answer. `expect_raw` (SPP passthrough)
is the bytes the other module was last given, raw. BLE_DIFFERENT lists
every step not run as written, with the reason. The examples leave out the
peripheral's own `+BLECONN` when a central connects to it (the catalog's
two-module scenario, step 5, [000:15707]) and, in 4.3.3, the `+READ` of
the module whose table the other one reads (4.3.2 shows it [000:14332]):
an answer that does not match as it came is compared again without such
lines (UNLISTED).
"""
import json
import os
import re

import pytest

from conftest import DEADLINE, SHARED, note, wait_for
from test_conformance import _lines, _lines_ok

SCENARIOS = os.path.join(SHARED, "conformance", "examples.json")
BLE_TWO = ("4.3.2", "4.3.3", "4.3.4", "4.3.5")
BLE_ONE = ("4.3.7", "4.9.4", "4.9.5", "4.9.6", "4.9.7")
PHONE = "60:51:42:fe:98:aa"
# No Wi-Fi APs and no scripted BLE peers of the world's own: only the
# other module is on the air.
QUIET_WORLD = "[world]\nscan_channel_ms = 10\n"

# (section, seed line of the step) -> (reason, change); a step the corpus
# inferred (no seed line) is named (section, "step", its index). Changes:
# "send" (the bytes sent instead), "expect" / "expect_async" (the lines
# espat prints instead), "before" ((dut, command, data): sent first, on
# that module, answered OK), "await" ((dut, lines): printed there then).
C302 = ("the default table's 0xC302 holds one byte (gatts_data.csv: val_max_len 1), so the "
        "example's 2-byte write is refused with Invalid Attribute Value Length as a GATT server "
        "that checks lengths does (COMPAT #432): the test writes one byte")
BLE_DIFFERENT = {
    ("4.3.2", 14339): (C302, {"send": "AT+BLEGATTCWR=0,3,3,,1\r\n"}),
    ("4.3.2", "step", 27): (C302, {"send": "a"}),
    ("4.3.2", "step", 29): (C302, {"expect_async": ["+WRITE:0,1,3,,1,a"]}),
    ("4.3.5", 15560): ("the client's AT+BLESPP enabled indications of char 7 on the server before "
                       "(the client writes that CCCD when it enters SPP [000:15583]); the server, "
                       "not in SPP yet, reports that write as any other: +WRITE, a line the "
                       "example leaves out", {"expect": ["+WRITE:0,1,7,1,2,\x02\x00", "OK"]}),
    ("4.3.4", 15188): ("the server, KeyboardOnly, must type the key the client shows: it prints "
                       "+BLESECKEYREQ:0 when asked (the guide's message table [000:11690], and "
                       "4.3.7 prints it for the same role), a line 4.3.4's log leaves out; it "
                       "comes before AT+BLEKEYREPLY's answer (COMPAT #470)",
                       {"expect": ["+BLESECKEYREQ:0", "OK"]}),
    ("4.3.3", 14639): ("conflict in the guide: the response shows +BLECONN then OK, the note "
                       "of the same step says only OK; the corpus accepts both (expect_alt)",
                       {}),
    ("4.3.3", 14845): ("the example notifies from the module that ran AT+BLEINIT=1 without its "
                       "peer ever enabling that characteristic's CCCD (the write at line 14815 "
                       "went the other way, to the other module's table); a GATT server "
                       "notifies only a client that subscribed (the guide's FAQ: \"Writing ccc "
                       "is a prerequisite\" [000:24957]), so the other module first writes the "
                       "CCCD of char 6 on this one: AT+BLEGATTCWR=0,3,6,1,2 with 01 00 "
                       "(this module reports the write: +WRITE)",
                       {"before": [("server", "AT+BLEGATTCPRIMSRV=0", None),
                                   ("server", "AT+BLEGATTCCHAR=0,3", None),
                                   ("server", "AT+BLEGATTCWR=0,3,6,1,2", b"\x01\x00")],
                        "await": [("client", ["+WRITE:0,1,6,1,2,\x01\x00"])]}),
}


def _load(sections):
    if not os.path.exists(SCENARIOS):
        return []
    with open(SCENARIOS) as f:
        return [s for s in json.load(f) if s["section"] in sections]


BLE_SCENARIOS = _load(BLE_TWO)
ONE_SCENARIOS = _load(BLE_ONE)


def _phone_connects(d, pair):
    d.ctl("ble", "peer", "add", "phone", f"addr={PHONE}", "name=phone")
    d.ctl("ble", "peer", "connect", "phone")


def _phone_shows_key(d, pair):
    """The phone (KeyboardDisplay, the scripted peer's default) shows the
    passkey its pairing made; the user reads it (binds {INT:passkey})."""
    def shown():
        return d.ctl("ble", "peers")["peers"][0]["pairing"]["shown"]
    pair.bound["passkey"] = str(wait_for(shown, "the phone's passkey"))


# (section, seed line) -> (what the scripted peer does, how)
PEER_STEPS = {
    ("4.3.7", 15948): ("`ble peer add phone` and `ble peer connect phone`", _phone_connects),
    ("4.3.7", 15966): ("the phone, paired by the module's Security Request, shows its passkey "
                       "(read from `ble peers`)", _phone_shows_key),
    ("4.9.5", 18701): ("`ble peer add phone` and `ble peer connect phone`", _phone_connects),
    ("4.9.7", 18874): ("`ble peer add phone` and `ble peer connect phone`", _phone_connects),
}


def _split(want):
    """want's lines up to the first {...}, and whether one follows."""
    if "{...}" in want:
        return want[:want.index("{...}")], True
    return want, False


UNLISTED = re.compile(r'^\+(BLECONN|READ):\d,"[0-9a-f:]{17}"$')


def _matches(got, want, bound):
    """got against want, then without the lines the examples leave out."""
    if _match_with_gaps(got, want, bound):
        return True
    wanted = {w.split(":", 1)[0] for w in want}
    return _match_with_gaps([l for l in got
                             if not (UNLISTED.match(l) and l.split(":", 1)[0] not in wanted)],
                            want, bound)


def _match_with_gaps(got, want, bound):
    """Lines got against want, where a "{...}" line matches any lines."""
    if not want:
        return not got
    if want[0] == "{...}":
        return any(_match_with_gaps(got[k:], want[1:], bound) for k in range(len(got) + 1))
    trial = dict(bound)
    if got and _lines_ok(got[:1], want[:1], trial) and _match_with_gaps(got[1:], want[1:], trial):
        bound.update(trial)
        return True
    return False


class _Pair:
    def __init__(self, duts):
        self.duts = duts
        self.sent = {name: b"" for name in duts}  # the last data each module was given
        self.bound = {}

    def read_expect(self, name, want, scan):
        d = self.duts[name]
        if want and want[-1] == ">":
            got = d.expect_re(rb".*?>").group(0)
            return _lines(got)
        if scan:
            # the answer, the scan's lines and +BLESCANDONE at its end
            got = d.read_until(lambda b: len(b) if b.endswith(b"+BLESCANDONE\r\n") else None,
                               DEADLINE + 5, "+BLESCANDONE")
            return [l for l in _lines(got) if l != "+BLESCANDONE"]
        return _lines(d.answer())

    def wait_lines(self, name, want):
        d = self.duts[name]

        def test(buf):
            return len(buf) if _matches(_lines(buf), want, dict(self.bound)) else None
        got = d.read_until(test, DEADLINE, f"{want}")
        assert _matches(_lines(got), want, self.bound), (name, want, got)

    def before(self, name, line, data):
        d = self.duts[name]
        if data is None:
            assert _lines(d.cmd(line))[-1] == "OK", line
            return
        d.write(line.encode() + b"\r\n")
        d.expect_re(rb".*?>")
        d.write(data)
        assert _lines(d.answer()) == ["OK"], line


def _subst(text, bound):
    return re.sub(r"\{(?:MAC|INT|IP|HEX|STR):(\w+)\}", lambda m: bound.get(m.group(1), m.group(0)),
                  text)


@pytest.mark.parametrize("sc", BLE_SCENARIOS, ids=[s["id"] for s in BLE_SCENARIOS])
def test_chapter4_ble_two_modules(sc, make_dut, air_hub, tmp_path):
    world = tmp_path / "quiet.ini"
    world.write_text(QUIET_WORLD)
    duts = {name: make_dut(args=["--air", air_hub], world=world) for name in sc["devices"]}
    _replay(sc, duts)


@pytest.mark.parametrize("sc", ONE_SCENARIOS, ids=[s["id"] for s in ONE_SCENARIOS])
def test_chapter4_ble_with_a_phone(sc, make_dut, tmp_path):
    world = tmp_path / "quiet.ini"
    world.write_text(QUIET_WORLD)
    _replay(sc, {"module": make_dut(world=world)})


def _replay(sc, duts):
    for d in duts.values():
        d.cmd("ATE0")
    pair = _Pair(duts)
    last = {}
    for i, st in enumerate(sc["steps"]):
        name = st.get("dut", "module")
        key = (sc["section"], st["line"]) if "line" in st else (sc["section"], "step", i)
        reason, diff = BLE_DIFFERENT.get(key, (None, {}))
        if reason:
            note(f"conformance: differs {sc['id']} {key[1:]}: {reason}")
        for who, line, data in diff.get("before", []):
            pair.before(who, line, data)
        for who, lines in diff.get("await", []):
            pair.wait_lines(who, lines)
        if "send" in st:
            text = _subst(diff.get("send") or st.get("send_template") or st["send"], pair.bound)
            data = text.encode("latin-1")
            duts[name].write(data)
            pair.sent[name] = data
            last[name] = text
        elif "expect" in st:
            wants = [diff["expect"]] if "expect" in diff else \
                [st["expect"]] + st.get("expect_alt", [])
            scan = last.get(name, "").startswith("AT+BLESCAN=1")
            got = pair.read_expect(name, wants[0], scan)
            assert any(_matches(got, w, pair.bound) for w in wants), \
                f"{sc['id']} {name} {last.get(name)!r}: want {wants[0]}, got {got}"
        elif "expect_async" in st:
            pair.wait_lines(name, diff.get("expect_async", st["expect_async"]))
        elif "peer" in st:
            what, play = PEER_STEPS[(sc["section"], st["line"])]
            note(f"conformance: {sc['id']} line {st['line']}: the phone is scripted: {what}")
            play(duts[name], pair)
        elif "expect_raw" in st:
            other = next(n for n in duts if n != name)
            want = pair.sent[other]
            got = duts[name].read_until(lambda b: len(want) if len(b) >= len(want) else None)
            assert got == want, (st["expect_raw"], got)
        else:
            raise AssertionError(f"unknown step {st}")
    for d in duts.values():
        d.quiet(0.05)


def test_ble_different_names_real_steps():
    every = BLE_SCENARIOS + ONE_SCENARIOS
    lines = {(s["section"], st["line"]) if "line" in st else (s["section"], "step", i)
             for s in every for i, st in enumerate(s["steps"])}
    assert set(BLE_DIFFERENT) <= lines
    peer_lines = {(s["section"], st.get("line")) for s in ONE_SCENARIOS for st in s["steps"]
                  if "peer" in st}
    assert set(PEER_STEPS) == peer_lines
