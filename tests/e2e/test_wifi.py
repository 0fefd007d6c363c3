"""Wi-Fi over the real pty, against a world steered through the control
interface: scans (sorting, print mask, filters, a changing world), joins
choosing among same-SSID APs, the station's `state`, SmartConfig, WPS, the
softAP driven by the `espat ctl` client, and malformed Wi-Fi commands.

Decided behaviour: docs/COMPAT.md #37-#51. What tests/transcripts/wifi_*.t
already cover (the basic join, AP lost/deauth/rekey, AT+CWSAP, AT+CWLIF,
AT+CWQIF) is not repeated here. Timings come from the world files: 10 ms
scan dwell, tens of ms to associate and get an address."""
import json
import re
import subprocess

import pytest

from conftest import DEADLINE, ESPAT, READY

LAB = "tests/worlds/lab.ini"
LAB_CWJAP = b'+CWJAP:"lab","02:11:22:33:44:55",1,-40,0,%d,3,0,1\r\n\r\nOK\r\n'
JOINED = b"WIFI CONNECTED\r\nWIFI GOT IP\r\n"
OK = b"\r\nOK\r\n"
ERROR = b"\r\nERROR\r\n"

# Five APs on four channels, in a world order that differs from both the
# sweep order and the RSSI order. Ciphers: open 0/0, WPA2 4/4 (CCMP),
# WPA/WPA2 5/3 (TKIP+CCMP / TKIP), WPA3 4/4.
SCAN_WORLD = """\
[world]
scan_channel_ms = 10

[ap alpha]
ssid = "alpha"
security = wpa2
password = "alphapass1"
bssid = 02:00:00:00:00:a1
channel = 6
rssi = -60
wps = yes

[ap bravo]
ssid = "bravo"
security = open
bssid = 02:00:00:00:00:b2
channel = 1
rssi = -70

[ap charlie]
ssid = "charlie"
security = wpa-wpa2
password = "charliepass"
bssid = 02:00:00:00:00:c3
channel = 6
rssi = -45

[ap delta]
ssid = "delta"
security = wpa3
password = "deltapass1"
bssid = 02:00:00:00:00:d4
channel = 11
rssi = -80
bgn = bg

[ap ghost]
ssid = "ghost"
security = open
hidden = yes
bssid = 02:00:00:00:00:e5
channel = 3
rssi = -55
"""

ALPHA = b'(3,"alpha",-60,"02:00:00:00:00:a1",6,-1,-1,4,4,7,1)'
BRAVO = b'(0,"bravo",-70,"02:00:00:00:00:b2",1,-1,-1,0,0,7,0)'
CHARLIE = b'(4,"charlie",-45,"02:00:00:00:00:c3",6,-1,-1,5,3,7,0)'
DELTA = b'(6,"delta",-80,"02:00:00:00:00:d4",11,-1,-1,4,4,3,0)'
GHOST = b'(0,"",-55,"02:00:00:00:00:e5",3,-1,-1,0,0,7,0)'

# Two APs with one SSID: the weaker on the lower channel.
TWIN_WORLD = """\
[world]
scan_channel_ms = 10

[ap far]
ssid = "twin"
security = wpa2
password = "twinpass1"
bssid = 02:00:00:00:00:01
channel = 3
rssi = -70
subnet = 192.168.7.0/24
pool_start = 192.168.7.30
pool_size = 1
assoc_ms = 40
dhcp_ms = 20

[ap near]
ssid = "twin"
security = wpa2
password = "twinpass1"
bssid = 02:00:00:00:00:02
channel = 9
rssi = -45
subnet = 192.168.8.0/24
pool_start = 192.168.8.40
pool_size = 1
assoc_ms = 40
dhcp_ms = 20
"""


def _lap(*entries):
    """The whole answer of a scan with these entries, in this order."""
    return b"".join(b"+CWLAP:" + e + b"\r\n" for e in entries) + OK


def _start(make_dut, world):
    """A module on the world, echo off."""
    d = make_dut(world=world)
    assert d.cmd("ATE0") == b"ATE0\r\n" + OK
    return d


def _world(tmp_path, text, name="w.ini"):
    p = tmp_path / name
    p.write_text(text)
    return str(p)


def _alive(d):
    assert d.cmd("AT") == OK


# ---- 1. scans -------------------------------------------------------------------


def test_scan_sorting_mask_and_filters(make_dut, tmp_path):
    d = _start(make_dut, _world(tmp_path, SCAN_WORLD))
    # factory AT+CWLAPOPT: sorted by RSSI, every field; the hidden AP has no SSID
    assert d.cmd("AT+CWLAP") == _lap(CHARLIE, GHOST, ALPHA, BRAVO, DELTA)
    # <reserved> 0: the sweep order, channel then the world's order (#43)
    assert d.cmd("AT+CWLAPOPT=0,2047") == OK
    assert d.cmd("AT+CWLAP") == _lap(BRAVO, GHOST, ALPHA, CHARLIE, DELTA)
    # the print mask picks fields, in their fixed order
    assert d.cmd("AT+CWLAPOPT=1,31") == OK
    assert d.cmd("AT+CWLAP") == _lap(
        b'(4,"charlie",-45,"02:00:00:00:00:c3",6)', b'(0,"",-55,"02:00:00:00:00:e5",3)',
        b'(3,"alpha",-60,"02:00:00:00:00:a1",6)', b'(0,"bravo",-70,"02:00:00:00:00:b2",1)',
        b'(6,"delta",-80,"02:00:00:00:00:d4",11)')
    assert d.cmd("AT+CWLAPOPT=1,6") == OK
    assert d.cmd("AT+CWLAP") == _lap(b'("charlie",-45)', b'("",-55)', b'("alpha",-60)',
                                     b'("bravo",-70)', b'("delta",-80)')
    assert d.cmd("AT+CWLAPOPT=0,1920") == OK  # pairwise, group, bgn, wps
    assert d.cmd("AT+CWLAP") == _lap(b"(0,0,7,0)", b"(0,0,7,0)", b"(4,4,7,1)", b"(5,3,7,0)",
                                     b"(4,4,3,0)")
    # the RSSI filter keeps APs at or above it
    assert d.cmd("AT+CWLAPOPT=1,2047,-60") == OK
    assert d.cmd("AT+CWLAP") == _lap(CHARLIE, GHOST, ALPHA)
    # the authmode mask: bit n keeps <ecn> n (open 1, WPA2|WPA/WPA2 24)
    assert d.cmd("AT+CWLAPOPT=1,2047,-100,1") == OK
    assert d.cmd("AT+CWLAP") == _lap(GHOST, BRAVO)
    assert d.cmd("AT+CWLAPOPT=1,2047,-100,24") == OK
    assert d.cmd("AT+CWLAP") == _lap(CHARLIE, ALPHA)
    assert d.cmd("AT+CWLAPOPT=1,2047,-65,24") == OK
    assert d.cmd("AT+CWLAP") == _lap(CHARLIE, ALPHA)
    assert d.cmd("AT+CWLAPOPT=1,2047,-50,8") == OK
    assert d.cmd("AT+CWLAP") == OK
    # AT+CWLAP= filters: SSID, MAC, channel (and together)
    assert d.cmd("AT+CWLAPOPT=1,2047,-100,65535") == OK
    assert d.cmd('AT+CWLAP="alpha"') == _lap(ALPHA)
    assert d.cmd('AT+CWLAP="nowhere"') == OK
    assert d.cmd('AT+CWLAP=,"02:00:00:00:00:b2"') == _lap(BRAVO)
    assert d.cmd("AT+CWLAP=,,6") == _lap(CHARLIE, ALPHA)
    assert d.cmd("AT+CWLAP=,,2") == OK
    assert d.cmd('AT+CWLAP="charlie",,6') == _lap(CHARLIE)
    assert d.cmd('AT+CWLAP="charlie",,11') == OK
    # the filter of AT+CWLAP= does not stick: the next plain scan sees all
    assert d.cmd("AT+CWLAP") == _lap(CHARLIE, GHOST, ALPHA, BRAVO, DELTA)


def test_scan_follows_the_world(make_dut, tmp_path):
    d = _start(make_dut, _world(tmp_path, SCAN_WORLD))
    assert d.cmd("AT+CWLAPOPT=1,31") == OK
    d.ctl("ap", "add", "echo", "ssid=echo point", "security=wpa2", "password=echopass1",
          "bssid=02:00:00:00:00:f6", "channel=2", "rssi=-50")
    assert d.cmd("AT+CWLAP") == _lap(
        b'(4,"charlie",-45,"02:00:00:00:00:c3",6)', b'(3,"echo point",-50,"02:00:00:00:00:f6",2)',
        b'(0,"",-55,"02:00:00:00:00:e5",3)', b'(3,"alpha",-60,"02:00:00:00:00:a1",6)',
        b'(0,"bravo",-70,"02:00:00:00:00:b2",1)', b'(6,"delta",-80,"02:00:00:00:00:d4",11)')
    d.ctl("ap", "down", "charlie")
    d.ctl("ap", "rm", "echo")
    d.ctl("ap", "set", "delta", "rssi=-30")
    assert d.cmd("AT+CWLAP") == _lap(
        b'(6,"delta",-30,"02:00:00:00:00:d4",11)', b'(0,"",-55,"02:00:00:00:00:e5",3)',
        b'(3,"alpha",-60,"02:00:00:00:00:a1",6)', b'(0,"bravo",-70,"02:00:00:00:00:b2",1)')
    # the sweep order follows a channel change; a hidden AP made visible shows its SSID
    d.ctl("ap", "up", "charlie")
    d.ctl("ap", "set", "alpha", "channel=1")
    d.ctl("ap", "set", "ghost", "hidden=no")
    assert d.cmd("AT+CWLAPOPT=0,6") == OK
    assert d.cmd("AT+CWLAP") == _lap(b'("alpha",-60)', b'("bravo",-70)', b'("ghost",-55)',
                                     b'("charlie",-45)', b'("delta",-30)')
    # an empty world: a scan that finds nothing is still OK
    for label in ("alpha", "bravo", "charlie", "delta", "ghost"):
        d.ctl("ap", "down", label)
    assert d.cmd("AT+CWLAP") == OK


def test_scan_needs_the_station(make_dut):
    d = _start(make_dut, LAB)
    assert d.cmd("AT+CWMODE=2") == OK
    assert d.cmd("AT+CWLAP") == ERROR
    assert d.cmd("AT+CWMODE=3") == OK
    assert d.cmd('AT+CWLAP="lab"') == _lap(b'(3,"lab",-40,"02:11:22:33:44:55",1,-1,-1,4,4,7,1)')


# ---- 2. joins among APs of one SSID ------------------------------------------------


def test_join_picks_by_scan_mode_and_bssid(make_dut, tmp_path):
    d = _start(make_dut, _world(tmp_path, TWIN_WORLD))
    # <scan_mode> 0 (the default): the first match of the sweep, lowest channel
    assert d.cmd('AT+CWJAP="twin","twinpass1"') == JOINED + OK
    assert d.cmd("AT+CWJAP?") == b'+CWJAP:"twin","02:00:00:00:00:01",3,-70,0,1,3,0,1\r\n' + OK
    assert d.ctl("state")["state"]["station"]["ip"] == "192.168.7.30"
    # <scan_mode> 1: all channels, the strongest; the old association goes first (#38)
    assert d.cmd('AT+CWJAP="twin","twinpass1",,,,,1') == b"WIFI DISCONNECT\r\n" + JOINED + OK
    assert d.cmd("AT+CWJAP?") == b'+CWJAP:"twin","02:00:00:00:00:02",9,-45,0,1,3,1,1\r\n' + OK
    sta = d.ctl("state")["state"]["station"]
    assert (sta["ap"], sta["ip"]) == ("near", "192.168.8.40")
    # a BSSID decides, whatever the scan mode prefers
    assert d.cmd('AT+CWJAP="twin","twinpass1","02:00:00:00:00:01",,,,1') == \
        b"WIFI DISCONNECT\r\n" + JOINED + OK
    assert d.cmd("AT+CWJAP?") == b'+CWJAP:"twin","02:00:00:00:00:01",3,-70,0,1,3,1,1\r\n' + OK
    assert d.cmd('AT+CWJAP="twin","twinpass1","02:00:00:00:00:02"') == \
        b"WIFI DISCONNECT\r\n" + JOINED + OK
    assert d.cmd("AT+CWJAP?") == b'+CWJAP:"twin","02:00:00:00:00:02",9,-45,0,1,3,0,1\r\n' + OK
    # a BSSID nobody has: no AP (#40)
    assert d.cmd('AT+CWJAP="twin","twinpass1","02:00:00:00:00:03"') == \
        b"WIFI DISCONNECT\r\n+CWJAP:3\r\n" + ERROR
    assert d.cmd("AT+CWJAP?") == b"No AP\r\n" + OK
    # the strongest moves: scan mode 1 follows the world
    d.ctl("ap", "set", "far", "rssi=-30")
    assert d.cmd('AT+CWJAP="twin","twinpass1",,,,,1') == JOINED + OK
    assert d.cmd("AT+CWJAP?") == b'+CWJAP:"twin","02:00:00:00:00:01",3,-30,0,1,3,1,1\r\n' + OK


def test_join_hidden_ap_by_ssid(make_dut, tmp_path):
    """A hidden AP answers a directed probe: it is joined by its SSID and
    AT+CWJAP? names it, though scans show it with an empty SSID."""
    d = _start(make_dut, _world(tmp_path, SCAN_WORLD))
    assert d.cmd('AT+CWJAP="ghost",""') == JOINED + OK


# ---- 3. the station in `state` ----------------------------------------------------


def test_state_after_join_and_quit(make_dut):
    d = _start(make_dut, LAB)
    assert d.cmd('AT+CWJAP="lab","labpass123"') == JOINED + OK
    st = d.ctl("state")["state"]
    assert st["mode"] == 1
    assert st["station"] == {
        "state": 2, "enabled": True, "ip": "192.168.3.112", "gateway": "192.168.3.1",
        "netmask": "255.255.255.0", "dhcp": True, "ap": "lab", "ssid": "lab",
        "bssid": "02:11:22:33:44:55", "channel": 1, "rssi": -40}
    assert d.cmd("AT+CWQAP") == OK
    d.expect(b"WIFI DISCONNECT\r\n")
    assert d.ctl("state")["state"]["station"] == {
        "state": 4, "enabled": True, "ip": "0.0.0.0", "gateway": "0.0.0.0",
        "netmask": "0.0.0.0", "dhcp": True, "ap": None, "ssid": None, "bssid": None,
        "channel": None, "rssi": None}
    assert d.cmd("AT+CWSTATE?") == b'+CWSTATE:4,"lab"\r\n' + OK


# ---- 4. SmartConfig -----------------------------------------------------------------


def _sc_lines(kind, extra=b""):
    return (b"smartconfig type:" + kind + b"\r\nSmart get wifi info\r\nssid:lab\r\n"
            b"password:labpass123\r\n" + extra + JOINED + b"smartconfig connected wifi\r\n")


def test_smartconfig_esptouch_saves_credentials(make_dut):
    d = _start(make_dut, LAB)
    assert d.cmd("AT+CWMODE=1") == OK
    assert d.cmd("AT+CWSTARTSMART=1") == OK
    d.ctl("smartconfig", "lab", "labpass123", "type=esptouch")
    d.expect(_sc_lines(b"ESPTOUCH"))
    assert d.cmd("AT+CWSTOPSMART") == OK
    assert d.cmd("AT+CWJAP?") == LAB_CWJAP % 0
    d.ctl("smartconfig", "stop")
    # saved as AT+CWJAP's: auto-connect after a power cut joins lab again
    assert d.ctl("power-cut") == {"ok": True}
    d.expect(READY)
    d.expect(JOINED)
    assert d.cmd("AT+CWJAP?") == b"AT+CWJAP?\r\n" + LAB_CWJAP % 0


def test_smartconfig_type_mismatch_then_airkiss(make_dut):
    d = _start(make_dut, LAB)
    assert d.cmd("AT+CWSTARTSMART=2") == OK  # AirKiss only
    d.ctl("smartconfig", "lab", "labpass123", "type=esptouch")
    d.quiet(2.0)  # an ESP-TOUCH phone is not heard (it would be within 0.4 s)
    assert d.cmd("AT+CWJAP?") == b"No AP\r\n" + OK
    # the same listener hears an AirKiss phone
    d.ctl("smartconfig", "lab", "labpass123", "type=airkiss")
    d.expect(_sc_lines(b"AIRKISS"))
    assert d.cmd("AT+CWSTOPSMART") == OK


def test_smartconfig_esptouch_v2_reserved_data(make_dut):
    d = _start(make_dut, LAB)
    assert d.cmd("AT+CWSTARTSMART=4") == OK
    d.ctl("smartconfig", "lab", "labpass123", "type=esptouch-v2", "rvd=hello, rvd")
    d.expect(_sc_lines(b"ESPTOUCH_V2", b"+SCRD:10,hello, rvd\r\n"))
    assert d.cmd("AT+CWSTOPSMART") == OK
    # started again it leaves the AP (#49); a second one while it runs is refused
    assert d.cmd("AT+CWSTARTSMART=3") == OK
    d.expect(b"WIFI DISCONNECT\r\n")
    assert d.cmd("AT+CWSTARTSMART=3") == ERROR
    assert d.cmd("AT+WPS=1") == ERROR
    assert d.cmd("AT+CWSTOPSMART") == OK


def test_smartconfig_leaves_the_current_ap(make_dut):
    d = _start(make_dut, LAB)
    assert d.cmd('AT+CWJAP="lab","labpass123"') == JOINED + OK
    # OK, then the station leaves its AP (#49)
    assert d.cmd("AT+CWSTARTSMART") == OK
    d.expect(b"WIFI DISCONNECT\r\n")
    d.quiet(0.1)
    assert d.cmd("AT+CWSTOPSMART") == OK


# ---- 5. WPS -------------------------------------------------------------------------


def test_wps_join(make_dut):
    d = _start(make_dut, LAB)
    assert d.cmd("AT+WPS=1") == OK
    d.ctl("wps", "lab")
    d.expect(JOINED)  # after the 1.5 s exchange
    assert d.cmd("AT+CWJAP?") == LAB_CWJAP % 0
    assert d.ctl("state")["state"]["station"]["ip"] == "192.168.3.112"
    assert d.cmd("AT+WPS=0") == OK


def test_wps_pbc_overlap(make_dut):
    d = _start(make_dut, LAB)
    d.ctl("ap", "add", "lab2", "ssid=lab2", "security=wpa2", "password=lab2pass1", "wps=yes",
          "channel=6")
    assert d.cmd("AT+WPS=1") == OK
    d.ctl("wps", "lab")
    d.ctl("wps", "lab2")
    d.quiet(2.0)  # longer than the exchange: no join (#50)
    assert d.cmd("AT+CWJAP?") == b"No AP\r\n" + OK
    assert d.cmd("AT+CWSTATE?") == b'+CWSTATE:0,""\r\n' + OK
    assert d.cmd("AT+WPS=0") == OK
    # both buttons still pressed: a new AT+WPS=1 stops at once, silently
    assert d.cmd("AT+WPS=1") == OK
    d.quiet(0.3)
    assert d.cmd("AT+WPS=0") == OK


# ---- 6. the softAP through `espat ctl` ---------------------------------------------------


def _cli(d, *args):
    r = subprocess.run([ESPAT, "ctl", "--ctl", d.ctl_path, *args], capture_output=True,
                       timeout=DEADLINE)
    return r.returncode, r.stdout, r.stderr


def _refused(d, args, why):
    """espat ctl ARGS exits 1 with the reason on stdout (JSON) and stderr."""
    rc, out, err = _cli(d, *args)
    msg = " ".join(args[:3]) + ": " + why
    assert (rc, out, err) == (1, json.dumps({"ok": False, "error": msg},
                                            separators=(",", ":")).encode() + b"\n",
                              b"espat ctl: " + msg.encode() + b"\n")


def test_softap_stations_through_the_cli(make_dut):
    d = _start(make_dut, LAB)
    a, b, c = "5e:d9:97:7b:ad:3c", "02:00:00:00:00:42", "02:00:00:00:00:43"
    _refused(d, ["sta", "join", a], "the softAP is off (AT+CWMODE is not 2 or 3)")
    assert d.cmd("AT+CWMODE=2") == OK
    assert d.cmd('AT+CWSAP="espat-ap","secret123",5,3,2') == OK
    assert _cli(d, "sta", "join", a) == (0, b'{"ok":true}\n', b"")
    d.expect(b'+STA_CONNECTED:"5e:d9:97:7b:ad:3c"\r\n'
             b'+DIST_STA_IP:"5e:d9:97:7b:ad:3c","192.168.4.2"\r\n')
    _refused(d, ["sta", "join", "02:00:00:00:00:99", "password=secret124"],
             "wrong password: the 4-way handshake fails")
    _refused(d, ["sta", "join", a], "that station is already associated")
    assert _cli(d, "sta", "join", b, "password=secret123") == (0, b'{"ok":true}\n', b"")
    d.expect(b'+STA_CONNECTED:"02:00:00:00:00:42"\r\n'
             b'+DIST_STA_IP:"02:00:00:00:00:42","192.168.4.3"\r\n')
    _refused(d, ["sta", "join", c], "the softAP is full (AT+CWSAP <max conn>)")
    d.quiet(0.2)  # nothing for the refused ones
    stations = d.ctl("state")["state"]["softap"]["stations"]
    assert stations == [{"mac": a, "ip": "192.168.4.2"}, {"mac": b, "ip": "192.168.4.3"}]
    assert d.cmd("AT+CWLIF") == (b"+CWLIF:192.168.4.2,5e:d9:97:7b:ad:3c\r\n"
                                 b"+CWLIF:192.168.4.3,02:00:00:00:00:42\r\n" + OK)
    assert _cli(d, "sta", "leave", a) == (0, b'{"ok":true}\n', b"")
    d.expect(b'+STA_DISCONNECTED:"5e:d9:97:7b:ad:3c"\r\n')
    _refused(d, ["sta", "leave", a], "no such station on the softAP")
    # the freed place and the lowest free address go to the next one
    assert _cli(d, "sta", "join", c) == (0, b'{"ok":true}\n', b"")
    d.expect(b'+STA_CONNECTED:"02:00:00:00:00:43"\r\n'
             b'+DIST_STA_IP:"02:00:00:00:00:43","192.168.4.2"\r\n')
    assert _cli(d, "sta", "leave", b) == (0, b'{"ok":true}\n', b"")
    d.expect(b'+STA_DISCONNECTED:"02:00:00:00:00:42"\r\n')
    assert d.cmd("AT+CWLIF") == b"+CWLIF:192.168.4.2,02:00:00:00:00:43\r\n" + OK
    # a bad MAC is the client's request failing: 1
    rc, out, err = _cli(d, "sta", "join", "02:00:00:00:00")
    assert rc == 1 and json.loads(out)["ok"] is False and err.startswith(b"espat ctl: ")
    # usage errors: 2
    rc, out, err = _cli(d)
    assert (rc, out) == (2, b"") and b"no command" in err
    assert d.ctl("state")["state"]["softap"]["stations"] == [{"mac": c, "ip": "192.168.4.2"}]


# ---- 7. robustness --------------------------------------------------------------------

SSID33 = "s" * 33
MALFORMED = [
    # wrong types
    'AT+CWMODE="1"',
    'AT+CWJAP="lab",123',
    'AT+CWJAP=lab,"labpass123"',
    'AT+CWJAP="lab","labpass123",,"0"',
    'AT+CWLAPOPT=1,"2047"',
    'AT+CWLAP=1',
    'AT+CWSAP="ap","secret123","5",3',
    'AT+WPS="1"',
    'AT+CWSTARTSMART="1"',
    'AT+CWRECONNCFG="1",0',
    # out of range
    "AT+CWMODE=4",
    "AT+CWMODE=-1",
    'AT+CWJAP="lab","labpass123",,2',
    'AT+CWJAP="lab","labpass123",,,7201',
    'AT+CWJAP="lab","labpass123",,,,0',
    'AT+CWJAP="lab","labpass123",,,,,2',
    'AT+CWJAP="lab","labpass123",,,,,,2',
    'AT+CWJAP="lab","labpass123",,,,,,,4',
    "AT+CWLAPOPT=2,2047",
    "AT+CWLAPOPT=1,2048",
    "AT+CWLAPOPT=1,2047,-101",
    "AT+CWLAPOPT=1,2047,-100,65536",
    "AT+CWLAP=,,15",
    "AT+CWLAP=,,0",
    'AT+CWLAP=,,1,2',
    'AT+CWLAP=,,1,0,1501',
    'AT+CWLAP=,,1,0,500,100',
    'AT+CWSAP="ap","secret123",14,3',
    'AT+CWSAP="ap","secret123",5,5',
    'AT+CWSAP="ap","secret123",5,3,11',
    "AT+CWSTARTSMART=0",
    "AT+CWSTARTSMART=5",
    'AT+CWSTARTSMART=1,0,"0123456789abcdef"',
    'AT+CWSTARTSMART=4,0,"0123456789abcde"',
    "AT+WPS=2",
    "AT+CWRECONNCFG=7201,0",
    "AT+CWRECONNCFG=1,1001",
    "AT+CWDHCP=1,4",
    "AT+CWDHCP=2,1",
    # too many or too few parameters
    "AT+CWMODE=1,1,1",
    'AT+CWJAP="lab","labpass123",,0,1,3,0,15,1,1',
    "AT+CWLAPOPT=1",
    "AT+CWLAPOPT=1,2047,-100,65535,1",
    'AT+CWLAP="lab",,1,0,0,100,1',
    "AT+CWRECONNCFG=1",
    "AT+WPS=0,1",
    "AT+WPS=1,0,0",
    'AT+CWSTARTSMART=4,0,"0123456789abcdef",1',
    # overlong SSIDs (32 bytes at most)
    f'AT+CWJAP="{SSID33}","labpass123"',
    f'AT+CWLAP="{SSID33}"',
    f'AT+CWSAP="{SSID33}","secret123",5,3',
    'AT+CWJAP="","labpass123"',
    # bad MAC strings
    'AT+CWJAP="lab","labpass123","02:11:22:33:44"',
    'AT+CWJAP="lab","labpass123","02:11:22:33:44:5g"',
    'AT+CWJAP="lab","labpass123","02-11-22-33-44-55"',
    'AT+CWJAP="lab","labpass123","02:11:22:33:44:55:66"',
    'AT+CWLAP=,"02:11:22:33:44"',
    'AT+CWLAP=,"0211:22:33:44:55"',
    'AT+CWQIF="5e:d9:97:7b:ad"',
    'AT+CIPSTAMAC="1a:fe:35:98:d3"',
    'AT+CIPSTAMAC="1a:fe:35:98:d3:7z"',
    'AT+CIPAPMAC="ff:ff:ff:ff:ff:ff"',
    # operations a command does not have
    "AT+CWLAP?",
    "AT+CWQAP=1",
    "AT+WPS",
    "AT+CWLAPOPT?",
    "AT+CWSTOPSMART=1",
]


def test_malformed_wifi_commands(make_dut):
    d = _start(make_dut, LAB)
    wrong = []
    for line in MALFORMED:
        got = d.cmd(line)
        alive = d.cmd("AT")
        if (got, alive) != (ERROR, OK):
            wrong.append(f"{line}: {got!r}, then AT: {alive!r}")
    assert not wrong, "\n".join(wrong)
    # nothing was configured or started by any of them
    assert d.cmd("AT+CWMODE?") == b"+CWMODE:1\r\n" + OK
    assert d.cmd("AT+CWSTATE?") == b'+CWSTATE:0,""\r\n' + OK
    assert d.cmd("AT+CWRECONNCFG?") == b"+CWRECONNCFG:0,0\r\n" + OK
    d.quiet(0.2)
    # the limits themselves are fine: a 32-byte SSID is looked for (and not found)
    assert d.cmd('AT+CWJAP="%s","labpass123"' % ("s" * 32)) == b"+CWJAP:3\r\n" + ERROR
    _alive(d)


def test_busy_during_a_join_and_a_scan(make_dut):
    d = _start(make_dut, LAB)
    d.ctl("ap", "set", "lab", "assoc_ms=400")
    d.write('AT+CWJAP="lab","labpass123"\r\n')
    d.write("AT\r\n")
    d.expect(b"busy p...\r\n")
    d.expect(JOINED + OK)
    d.quiet(0.1)  # the dropped AT does not run later
    _alive(d)
    # a scan of one channel, 300 ms of dwell
    d.write("AT+CWLAP=,,1,0,0,300\r\n")
    d.write("AT+CWSTATE?\r\n")
    d.expect(b"busy p...\r\n")
    d.expect(_lap(b'(3,"lab",-40,"02:11:22:33:44:55",1,-1,-1,4,4,7,1)'))
    d.quiet(0.1)
    assert d.cmd("AT+CWSTATE?") == b'+CWSTATE:2,"lab"\r\n' + OK


# ---- 8. every data dir is a device with its own MAC ----------------------------------

def test_each_data_dir_has_its_own_random_mac(make_dut):
    """The eFuse MAC is drawn at random under 34:85:18 when a data dir is new,
    kept across restarts, and the softAP's is the station's + 1."""
    macs = []
    for _ in range(2):
        d = make_dut()
        d.cmd("ATE0")
        d.cmd("AT+CWMODE=3")
        sta = d.cmd("AT+CIPSTAMAC?")
        ap = d.cmd("AT+CIPAPMAC?")
        m = re.fullmatch(rb'\+CIPSTAMAC:"34:85:18:([0-9a-f:]{8})"\r\n\r\nOK\r\n', sta)
        assert m, sta
        assert m.group(1) != b"00:00:00", sta
        low = int(m.group(1).replace(b":", b""), 16)
        assert ap == b'+CIPAPMAC:"34:85:18:%02x:%02x:%02x"\r\n\r\nOK\r\n' % (
            (low + 1) >> 16 & 0xFF, (low + 1) >> 8 & 0xFF, (low + 1) & 0xFF), ap
        macs.append(sta)
    assert macs[0] != macs[1]
