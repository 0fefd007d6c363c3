"""The guide's chapter-3 Bluetooth LE examples that need a peer (sections
3.4.6-3.4.54 of ../shared/conformance/command_examples.json), each section
on a fresh module with the peers its examples name, scripted
(`espat ctl ble peer add`): 24:0a:c4:09:34:23, an advertiser with a
periodic train, and 24:12:5f:9d:91:98, a peripheral serving esp-at's
default table. (test_ble.py replays the sections that need no peer.)

An answer must equal the entry's `expect`, or match its `expect_format`,
where a format line stands for as many lines of its shape as come (a
listing). A `>` prompt is answered with as many bytes as the command
asked for. DIFFERENT lists every entry not run as written, with the
reason; PEER_FIRST the peer actions a section needs before its examples
(a phone that subscribes before the server notifies)."""
import re

import pytest

from conftest import wait_for
from test_conformance import _lines, _line_rx, run_entries, section_blocks

ADV = "24:0a:c4:09:34:23"
GATT = "24:12:5f:9d:91:98"
PHONE = "60:51:42:fe:98:aa"

SECTIONS = ["3.4.6 AT+BLESCAN", "3.4.10 AT+BLEADVDATAEX", "3.4.13 AT+BLECONN",
            "3.4.14 AT+BLECONNPARAM", "3.4.15 AT+BLEDISCONN", "3.4.16 AT+BLEDATALEN",
            "3.4.17 AT+BLECFGMTU", "3.4.21 AT+BLEGATTSSRV", "3.4.22 AT+BLEGATTSCHAR",
            "3.4.23 AT+BLEGATTSNTFY", "3.4.24 AT+BLEGATTSIND", "3.4.25 AT+BLEGATTSSETATTR",
            "3.4.26 AT+BLEGATTCPRIMSRV", "3.4.27 AT+BLEGATTCINCLSRV", "3.4.28 AT+BLEGATTCCHAR",
            "3.4.29 AT+BLEGATTCRD", "3.4.30 AT+BLEGATTCWR", "3.4.31 AT+BLESPPCFG",
            "3.4.33 AT+BLESECPARAM", "3.4.38 AT+BLEENCDEV", "3.4.39 AT+BLEENCCLEAR",
            "3.4.40 AT+BLESETKEY", "3.4.41 AT+BLEHIDINIT", "3.4.48 AT+BLEPERIODICDATA",
            "3.4.49 AT+BLEPERIODICSTART", "3.4.51 AT+BLESYNCSTART", "3.4.52 AT+BLESYNCSTOP",
            "3.4.53 AT+BLEREADPHY", "3.4.54 AT+BLESETPHY"]

NO_INIT = ("the example sends no AT+BLEINIT first; the command needs the stack up (COMPAT #403), "
           "so the test initializes it first")
# id -> (reason, change): "before" (commands sent first, each answered OK),
# "expect" (the answer espat gives instead).
DIFFERENT = {
    "ex226": ("the example notifies service 3 of a server whose table has two (3 is a client's "
              "index for 0xA002, catalog §1.4); the test notifies service 1's characteristic 6, "
              "which the phone subscribed to", {"send": "AT+BLEGATTSNTFY=0,1,6,4\r\n"}),
    "ex232": ("as ex226: service 1's characteristic 7, which the phone subscribed to",
              {"send": "AT+BLEGATTSIND=0,1,7,4\r\n"}),
    "ex259": (NO_INIT, {"before": ["AT+BLEINIT=1"]}),
    "ex263": (NO_INIT, {"before": ["AT+BLEINIT=2"]}),
    "ex276": (NO_INIT, {"before": ["AT+BLEINIT=2"]}),
    "ex277": (NO_INIT, {"before": ["AT+BLEINIT=2"]}),
    "ex278": (NO_INIT, {"before": ["AT+BLEINIT=2"]}),
}


def _prepare(d, section):
    """The peers of the section's examples, as the guide's bench had them."""
    d.ctl("ble", "peer", "add", "adv", f"addr={ADV}", "name=ESP-AT", "interval=20",
          "per=1122334455", "per_interval=50") if section.startswith(("3.4.51", "3.4.52")) else \
        d.ctl("ble", "peer", "add", "adv", f"addr={ADV}", "name=ESP-AT", "interval=20")
    d.ctl("ble", "peer", "add", "srv", f"addr={GATT}", "interval=20", "gatt=default")


def _phone_subscribes(d):
    """A phone connects to the advertising server and enables notifications
    of characteristic 6 and indications of characteristic 7 (0xC305's CCCD
    at handle 27, 0xC306's at 30)."""
    d.ctl("ble", "peer", "add", "phone", f"addr={PHONE}", "name=phone")
    wait_for(lambda: d.ctl("ble", "air")["advertising"], "the module advertising")
    d.ctl("ble", "peer", "connect", "phone")
    d.expect(f'+BLECONN:0,"{PHONE}"\r\n'.encode())
    d.ctl("ble", "peer", "subscribe", "phone", "27", "notify")
    d.expect(b"+WRITE:0,1,6,1,2,\x01\x00\r\n")
    d.ctl("ble", "peer", "subscribe", "phone", "30", "indicate")
    d.expect(b"+WRITE:0,1,7,1,2,\x02\x00\r\n")


# entry id -> what a peer does before it is sent
PEER_FIRST = {"ex226": _phone_subscribes, "ex232": _phone_subscribes}


def _format_ok(got, fmts):
    """got against the formats: the lines of the variants that do not end
    in ERROR (the corpus splits one listing over several) each stand for
    any number of lines of that shape, and the answer ends in OK (a scan in
    +BLESCANDONE; a disconnect's report may follow its OK)."""
    pool = [f for v in fmts if not v or v[-1] != "ERROR" for f in v
            if f and f not in ("OK", ">")]
    if not got or got[-1] not in ("OK", "+BLESCANDONE") and "OK" not in got:
        return False
    return all(l in ("OK", "+BLESCANDONE") or any(_line_rx(f).fullmatch(l) for f in pool)
               for l in got)


def _run(d, e):
    reason, diff = DIFFERENT.get(e["id"], (None, {}))
    for c in diff.get("before", []):
        assert _lines(d.cmd(c)) == ["OK"], c
    if e["id"] in PEER_FIRST:
        PEER_FIRST[e["id"]](d)
    send = diff.get("send", e["send"])
    fmts = [v["lines"] for v in e.get("expect_format", [])]
    want = diff.get("expect", e.get("expect"))
    prompt = (want or (fmts[0] if fmts else []))[-1:] == [">"]
    scan = send.startswith("AT+BLESCAN=1") and "," in send
    d.write(send.encode())
    if prompt:
        d.expect_re(rb".*?>")
        n = int(re.search(r",(\d+)\r\n$", send).group(1))
        d.write(b"x" * n)
        got = _lines(d.answer())
        return None if got == ["OK"] else f"{e['id']} {send!r}: after the data got {got}"
    if scan:
        raw = d.read_until(lambda b: len(b) if b.endswith(b"+BLESCANDONE\r\n") else None, 10)
    else:
        raw = d.answer()
        after = next((v[v.index("OK") + 1:] for v in fmts if "OK" in v[:-1]), [])
        # reports the format shows after OK come one connection event later;
        # a scan's +BLESCANDONE only when a <duration> ends (COMPAT #405)
        if after and not send.startswith("AT+BLESCAN"):
            raw += d.read_until(lambda b: len(b) if b.count(b"\r\n") >= len(after) else None)
    got = _lines(raw)
    if want is not None and not fmts:
        ok = got == want
    else:
        ok = (want is not None and got == want) or _format_ok(got, fmts)
    return None if ok else f"{e['id']} {send!r}: want {want or fmts}, got {got}"


@pytest.mark.parametrize("block", section_blocks(SECTIONS), ids=[s.split()[0] for s in SECTIONS])
def test_chapter3_ble_with_peers(block, make_dut):
    section, entries = block
    assert entries, f"no examples of {section} in the corpus"
    d = make_dut()
    d.cmd("ATE0")
    _prepare(d, section)
    run_entries(entries, DIFFERENT, lambda e: _run(d, e))
    # a scan or sync may still run: stop what the section left going
    d.cmd("AT+BLESCAN=0")
