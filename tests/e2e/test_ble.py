"""Bluetooth LE over the real pty (docs/internals/ble.md): what is built so
far, AT+BLEINIT, AT+BLEADDR and AT+BLENAME, with the posix port's base MAC
and flash. Decided behaviour: docs/COMPAT.md #400-#403."""
import re

OK = b"\r\nOK\r\n"
ERROR = b"\r\nERROR\r\n"


def mac_plus(mac, n):
    v = (int(mac.replace(":", ""), 16) & ~0xFF) | ((int(mac[-2:], 16) + n) & 0xFF)
    h = f"{v:012x}"
    return ":".join(h[i:i + 2] for i in range(0, 12, 2))


def test_init_addr_name_across_power_cut(make_dut):
    d = make_dut()
    d.cmd("ATE0")
    assert d.cmd("AT+BLEINIT?") == b"+BLEINIT:0\r\n" + OK
    assert d.cmd("AT+BLESCANPARAM?") == ERROR  # not initialized
    assert d.cmd("AT+BLEINIT=2") == OK
    assert d.cmd("AT+BLEINIT=1") == ERROR  # the role stays until a restart
    sta = re.search(rb'\+CIPSTAMAC:"([0-9a-f:]{17})"', d.cmd("AT+CIPSTAMAC?")).group(1).decode()
    # the public address is the base MAC + 2 (the station's factory MAC is the base)
    want = f'+BLEADDR:"{mac_plus(sta, 2)}"\r\n'.encode() + OK
    assert d.cmd("AT+BLEADDR?") == want
    assert d.cmd('AT+BLEADDR=1,"3f:7f:24:87:1c:7b"') == ERROR  # not static
    assert d.cmd('AT+BLEADDR=1,"f8:7f:24:87:1c:7b"') == OK
    assert d.cmd('AT+BLENAME="esp\\,demo"') == OK
    assert d.cmd("AT+BLENAME?") == b"+BLENAME:esp,demo\r\n" + OK
    d.restart()
    d.cmd("ATE0")
    assert d.cmd("AT+BLEINIT?") == b"+BLEINIT:0\r\n" + OK
    assert d.cmd("AT+BLEINIT=1") == OK  # another role after the restart
    assert d.cmd("AT+BLENAME?") == b"+BLENAME:esp,demo\r\n" + OK
    assert d.cmd("AT+BLEADDR?") == want


ADV = "0201060a09457370726573736966030302a0"


def test_scan_scripted_peer(make_dut):
    """A phone added with `espat ctl ble peer add` shows in AT+BLESCAN with its
    advertising data, scan response (active scan) and RSSI; +BLESCANDONE ends
    a scan with a duration; a removed peer is heard no more."""
    d = make_dut()
    d.cmd("ATE0")
    r = d.ctl("ble", "peer", "add", "phone", "addr=24:0a:c4:d6:e4:46", f"adv={ADV}",
              "rsp=1122", "interval=100", "rssi=-78")
    assert r["peer"]["adv"] == ADV
    d.ctl("ble", "peer", "add", "phone", "addr=24:0a:c4:d6:e4:47", expect_ok=False)  # exists
    d.ctl("ble", "peer", "add", "x", "addr=nope", expect_ok=False)
    assert [p["label"] for p in d.ctl("ble", "peers")["peers"]] == ["phone"]
    assert d.cmd("AT+BLEINIT=1") == OK
    assert d.cmd("AT+BLESCANPARAM=1,0,0,160,160") == OK  # active, always listening
    assert d.cmd("AT+BLESCAN=1,1") == OK
    line = f'+BLESCAN:"24:0a:c4:d6:e4:46",-78,{ADV},1122,0\r\n'.encode()
    out = d.expect_re(rb"(.*?)\+BLESCANDONE\r\n").group(0)
    # one report per advertising event: 100 ms apart for the second of the scan
    assert out.count(line) in (10, 11), out
    assert out.replace(line, b"") == b"+BLESCANDONE\r\n", out
    d.ctl("ble", "peer", "rm", "phone")
    d.ctl("ble", "peer", "rm", "phone", expect_ok=False)
    assert d.cmd("AT+BLESCAN=1,1") == OK
    assert d.expect(b"+BLESCANDONE\r\n") == b"+BLESCANDONE\r\n"


def test_advertising_on_the_air(make_dut):
    """AT+BLEADVSTART puts the advertising set on the air, where `espat ctl ble
    air` shows it as a phone hears it; a change while on reaches the air;
    AT+BLEADVSTOP and a power cut take it off."""
    d = make_dut()
    d.cmd("ATE0")
    assert d.ctl("ble", "air")["advertising"] is None
    assert d.cmd("AT+BLEINIT=2") == OK
    assert d.cmd("AT+BLEADVPARAM=50,50,0,0,7,0,,") == OK
    assert d.cmd(f'AT+BLEADVDATA="{ADV.upper()}"') == OK
    assert d.cmd("AT+BLEADVSTART") == OK
    sta = re.search(rb'\+CIPSTAMAC:"([0-9a-f:]{17})"', d.cmd("AT+CIPSTAMAC?")).group(1).decode()
    adv = d.ctl("ble", "air")["advertising"]
    assert adv["addr"] == mac_plus(sta, 2) and adv["addr_type"] == 0
    assert adv["adv"] == ADV and adv["rsp"] == "" and adv["interval_ms"] == 31
    assert d.cmd('AT+BLESCANRSPDATA="1122"') == OK
    assert d.ctl("ble", "air")["advertising"]["rsp"] == "1122"
    assert d.cmd("AT+BLEADVSTOP") == OK
    assert d.ctl("ble", "air")["advertising"] is None
    assert d.cmd("AT+BLEADVSTART") == OK
    d.ctl("power-cut")
    d.expect_re(rb".*ready\r\n")
    assert d.ctl("ble", "air")["advertising"] is None


def test_connections_with_scripted_peers(make_dut):
    """A scripted phone connects to the module's advertising (+BLECONN, the
    advertising stops) and hangs up (+BLEDISCONN); the module connects to an
    advertising peer with AT+BLECONN, and when that peer vanishes the link
    ends at the supervision timeout."""
    d = make_dut()
    d.cmd("ATE0")
    assert d.cmd("AT+BLEINIT=2") == OK
    assert d.cmd("AT+BLEADVSTART") == OK
    d.ctl("ble", "peer", "add", "phone", "addr=60:51:42:fe:98:aa", "name=phone", "interval=50")
    assert d.ctl("ble", "peer", "connect", "phone")["conn_index"] == 0
    d.expect(b'+BLECONN:0,"60:51:42:fe:98:aa"\r\n')
    assert d.ctl("ble", "air")["advertising"] is None
    assert d.ctl("ble", "peers")["peers"][0]["connected"] is True
    assert d.cmd("AT+BLECONN?") == b'+BLECONN:0,"60:51:42:fe:98:aa"\r\n' + OK
    d.ctl("ble", "peer", "disconnect", "phone")
    d.expect(b'+BLEDISCONN:0,"60:51:42:fe:98:aa"\r\n')
    d.ctl("ble", "peer", "disconnect", "phone", expect_ok=False)
    # now the module is the central
    assert d.cmd('AT+BLECONN=1,"60:51:42:fe:98:aa",0,5') == b'+BLECONN:1,"60:51:42:fe:98:aa"\r\n' + OK
    d.ctl("ble", "peer", "rm", "phone")
    d.expect(b'+BLEDISCONN:1,"60:51:42:fe:98:aa"\r\n', timeout=15)
    assert d.cmd("AT+BLECONN?") == OK
    assert d.cmd('AT+BLECONN=0,"60:51:42:fe:98:aa",0,3', timeout=10) == b"+BLECONN:0,-1\r\n" + ERROR


def test_link_parameters_and_mtu(make_dut):
    """AT+BLECONNPARAM's update and AT+BLECFGMTU's exchange with a scripted
    peer come back as +BLECONNPARAM and +BLECFGMTU reports; a peer's own MTU
    exchange reaches a server module."""
    d = make_dut()
    d.cmd("ATE0")
    d.ctl("ble", "peer", "add", "ios", "addr=c0:11:22:33:44:66", "addr_type=1", "mtu=185",
          "interval=20")
    assert d.cmd("AT+BLEINIT=1") == OK
    assert d.cmd('AT+BLECONN=0,"c0:11:22:33:44:66",1') == b'+BLECONN:0,"c0:11:22:33:44:66"\r\n' + OK
    assert d.cmd("AT+BLECONNPARAM=0,12,12,0,500") == OK
    d.expect(b"+BLECONNPARAM:0,12,12,12,0,500\r\n")
    assert d.cmd("AT+BLECFGMTU=0,517") == OK
    d.expect(b"+BLECFGMTU:0,185\r\n")
    d.ctl("ble", "peer", "mtu", "ios", "100", expect_ok=False)  # once per link
    d.ctl("power-cut")  # the world (and its peers) stays; the link ends
    d.expect_re(rb".*ready\r\n")
    d.cmd("ATE0")
    assert d.ctl("ble", "peers")["peers"][0]["connected"] is False
    assert d.cmd("AT+BLEINIT=2") == OK
    assert d.cmd("AT+BLEADVSTART") == OK
    d.ctl("ble", "peer", "connect", "ios")
    d.expect(b'+BLECONN:0,"c0:11:22:33:44:66"\r\n')
    d.ctl("ble", "peer", "mtu", "ios", "247")
    d.expect(b"+BLECFGMTU:0,247\r\n")
    assert d.cmd("AT+BLECFGMTU?") == b"+BLECFGMTU:0,247\r\n" + OK


def test_gatts_default_table(make_dut):
    """A new device's manufacturing NVS holds the default GATT table
    (ble_data), which AT+BLEGATTSSRVCRE builds and AT+BLEGATTSSRV? lists as
    the guide shows [000:14663-14664]; AT+SYSMFG sees its rows."""
    d = make_dut()
    d.cmd("ATE0")
    assert b'+SYSMFG:"ble_data"\r\n' in d.cmd("AT+SYSMFG?")
    assert d.cmd("AT+BLEINIT=2") == OK
    assert d.cmd("AT+BLEGATTSSRVCRE") == OK
    assert d.cmd("AT+BLEGATTSSRVSTART") == OK
    assert d.cmd("AT+BLEGATTSSRV?") == b"+BLEGATTSSRV:1,1,0xA002,1\r\n+BLEGATTSSRV:2,1,0xA003,1\r\n" + OK
    chars = d.cmd("AT+BLEGATTSCHAR?")
    assert chars.count(b'+BLEGATTSCHAR:"char"') == 10 and chars.count(b'+BLEGATTSCHAR:"desc"') == 9
    d.write(b"AT+BLEGATTSSETATTR=1,8,,1\r\n")
    d.expect(b">")
    d.write(b"9")
    assert d.answer() == OK


def test_gatt_server_with_scripted_client(make_dut):
    """The guide's 4.3 server flow with a scripted phone as the client: it
    reads C300 (+READ), writes C302 (+WRITE), subscribes to C305 through its
    CCCD, and receives what AT+BLEGATTSNTFY sends; a read-only attribute
    refuses a write with ATT's error. Handles count from the GATT (1-4) and
    GAP (5-9) services a client sees first: the table starts at 10."""
    d = make_dut()
    d.cmd("ATE0")
    d.ctl("ble", "peer", "add", "phone", "addr=7c:df:a1:b3:8d:de")
    for line in ("AT+BLEINIT=2", "AT+BLEGATTSSRVCRE", "AT+BLEGATTSSRVSTART", "AT+BLEADVSTART"):
        assert d.cmd(line) == OK, line
    d.ctl("ble", "peer", "connect", "phone")
    d.expect(b'+BLECONN:0,"7c:df:a1:b3:8d:de"\r\n')
    assert d.ctl("ble", "peer", "read", "phone", "12")["value"] == "30"
    d.expect(b'+READ:0,"7c:df:a1:b3:8d:de"\r\n')
    d.ctl("ble", "peer", "write", "phone", "18", "37")
    d.expect(b"+WRITE:0,1,3,,1,7\r\n")
    err = d.ctl("ble", "peer", "write", "phone", "12", "37", expect_ok=False)["error"]
    assert "0x03" in err  # Write Not Permitted
    assert d.cmd("AT+BLEGATTSNTFY=0,1,6,4") == ERROR  # not subscribed
    d.ctl("ble", "peer", "subscribe", "phone", "27", "notify")
    d.expect(b"+WRITE:0,1,6,1,2,\x01\x00\r\n")
    d.write(b"AT+BLEGATTSNTFY=0,1,6,4\r\n")
    d.expect(b">")
    d.write(b"1234")
    assert d.answer() == OK
    got = d.ctl("ble", "peer", "received", "phone")["received"]
    assert got == [{"op": "notify", "handle": 26, "value": "31323334"}]


# ---- the guide's chapter-3 examples that need no peer (/work/shared/conformance) ----------

import pytest  # noqa: E402

from test_conformance import _lines, _matches_format, run_entries, section_blocks  # noqa: E402

CH3_SECTIONS = ["3.4.2 AT+BLEINIT", "3.4.3 AT+BLEADDR", "3.4.4 AT+BLENAME",
                "3.4.5 AT+BLESCANPARAM", "3.4.7 AT+BLESCANRSPDATA", "3.4.8 AT+BLEADVPARAM",
                "3.4.9 AT+BLEADVDATA", "3.4.11 AT+BLEADVSTART", "3.4.12 AT+BLEADVSTOP",
                "3.4.18 AT+BLEGATTSSRVCRE", "3.4.19 AT+BLEGATTSSRVSTART",
                "3.4.20 AT+BLEGATTSSRVSTOP"]


def _ch3_run(d, e):
    got = _lines(d.cmd(e["send"]))
    if "expect" in e:
        ok = got == e["expect"]
    else:
        ok = any(_matches_format(got, v["lines"]) for v in e.get("expect_format", []))
    return None if ok else f"{e['id']} {e['send']!r}: want {e.get('expect') or e.get('expect_format')}, got {got}"


@pytest.mark.parametrize("block", section_blocks(CH3_SECTIONS),
                         ids=[s.split()[0] for s in CH3_SECTIONS])
def test_chapter3_examples(block, make_dut):
    section, entries = block
    assert entries, f"no examples of {section} in the corpus"
    d = make_dut()
    d.cmd("ATE0")
    run_entries(entries, {}, lambda e: _ch3_run(d, e))
