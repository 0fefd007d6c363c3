"""BluFi over the real pty (guide 3.4.45-3.4.47, example 4.10.1;
docs/internals/blufi.md): a phone-side client written from Espressif's
BluFi protocol (blufi_phone.py) negotiates the security, provisions the
module's Wi-Fi with the world's AP and exchanges custom data both ways.
Decided behaviour: docs/COMPAT.md #500-#504."""
import re

import pytest

from blufi_phone import (CTRL, DATA, C_ACK, C_GET_STATUS, C_GET_VERSION, C_GET_WIFI_LIST,
                         C_OPMODE, D_CUSTOM, D_END_REASON, D_ERROR, D_STA_BSSID, D_STA_SSID,
                         D_VERSION, D_WIFI_LIST, FC_ENC, FC_FRAG, Phone, typ)
from test_ble import _ch3_run, mac_plus

OK = b"\r\nOK\r\n"
ERROR = b"\r\nERROR\r\n"
WORLD = "tests/worlds/tcpip.ini"  # AP "espat" / "espatpass", quick joins
AP_BSSID = bytes.fromhex("02e59a700001")


@pytest.fixture
def blufi(make_dut):
    """A new module (station mode, the factory's) with BluFi on as
    "blufi_test", as the guide's example 4.10.1 starts, and a phone connected
    to it (MTU 128, notifications on)."""
    d = make_dut(world=WORLD)
    d.cmd("ATE0")
    assert d.cmd('AT+BLUFINAME="blufi_test"') == OK
    assert d.cmd("AT+BLUFI=1") == OK
    phone = Phone(d)
    phone.connect(mtu=128)
    d.expect(b"+BLUFICONN\r\n")
    return d, phone


def test_commands_and_advertising(make_dut):
    """AT+BLUFI?, AT+BLUFINAME, the advertising a phone sees (the BluFi name
    and service 0xFFFF), and BluFi only while BLE is not initialized."""
    d = make_dut()
    d.cmd("ATE0")
    assert d.cmd("AT+BLUFI?") == b"+BLUFI:0\r\n" + OK
    assert d.cmd("AT+BLUFINAME?") == b"+BLUFINAME:BLUFI_DEVICE\r\n" + OK
    assert d.cmd('AT+BLUFINAME="blufi_test"') == OK
    assert d.cmd("AT+BLUFINAME?") == b"+BLUFINAME:blufi_test\r\n" + OK
    assert d.cmd('AT+BLUFINAME="' + "x" * 27 + '"') == ERROR  # 26 bytes at most
    assert d.cmd("AT+BLUFISEND=4") == ERROR  # BluFi is off
    assert d.ctl("ble", "air")["advertising"] is None
    assert d.cmd("AT+BLUFI=1,3") == OK
    assert d.cmd("AT+BLUFI?") == b"+BLUFI:1\r\n" + OK
    assert d.cmd("AT+BLUFI=1") == ERROR  # on already
    adv = d.ctl("ble", "air")["advertising"]
    assert adv["adv"] == "020106" + "0303ffff" + "0b09" + b"blufi_test".hex()
    sta = re.search(rb'\+CIPSTAMAC:"([0-9a-f:]{17})"', d.cmd("AT+CIPSTAMAC?")).group(1).decode()
    assert adv["addr"] == mac_plus(sta, 2) and adv["interval_ms"] == 100  # the public address
    assert d.cmd("AT+BLEINIT=2") == ERROR  # BluFi holds the stack
    assert d.cmd("AT+BLUFISEND=4") == ERROR  # no phone
    assert d.cmd("AT+BLUFI=0") == OK  # nobody connected: no +BLUFIDISCONN
    assert d.cmd("AT+BLUFI=0") == OK
    assert d.ctl("ble", "air")["advertising"] is None
    assert d.cmd("AT+BLEINIT=2") == OK
    assert d.cmd("AT+BLUFI=1") == ERROR  # BLE is initialized
    assert d.cmd("AT+BLUFI=2") == ERROR


def test_provision_and_custom_data(blufi):
    """The guide's example 4.10.1 end to end: security negotiated, SSID and
    password encrypted, the module joins (WIFI CONNECTED, WIFI GOT IP) and
    reports the connection to the phone; custom data both ways, a long one
    in fragments; AT+BLUFI=0 ends the link with +BLUFIDISCONN."""
    d, phone = blufi
    phone.negotiate()
    phone.configure_sta(b"espat", b"espatpass")
    d.expect(b"WIFI CONNECTED\r\nWIFI GOT IP\r\n")
    opmode, sta, softap, extras = phone.wifi_report()
    assert (opmode, sta, softap) == (1, 0, 0)
    assert extras[D_STA_SSID] == b"espat" and extras[D_STA_BSSID] == AP_BSSID
    assert d.cmd("AT+CWJAP?").startswith(b'+CWJAP:"espat"')
    # the module's report went encrypted (the security mode asked for it)
    assert any(t == typ(DATA, 0x0F) and fc & FC_ENC for t, fc, _ in phone.frames)

    # phone -> module: +BLUFIDATA with the raw bytes, a long one in fragments
    phone.custom(b"hi,\r\nthere")
    d.expect(b"+BLUFIDATA:10,hi,\r\nthere\r\n")
    long = bytes(range(256)) + b"end"
    phone.custom(long)
    d.expect(b"+BLUFIDATA:259," + long + b"\r\n")

    # module -> phone: AT+BLUFISEND, 600 bytes in fragments of MTU - 11
    d.write(b"AT+BLUFISEND=4\r\n")
    d.expect(b">")
    d.write(b"test")
    assert d.answer() == OK
    assert phone.wait(DATA, D_CUSTOM) == b"test"
    phone.frames.clear()
    data = bytes((i * 7) & 0xFF for i in range(600))
    d.write(b"AT+BLUFISEND=600\r\n")
    d.expect(b">")
    d.write(data)
    assert d.answer() == OK
    assert phone.wait(DATA, D_CUSTOM) == data
    frags = [fc for t, fc, _ in phone.frames if t == typ(DATA, D_CUSTOM)]
    assert len(frags) == 6 and all(fc & FC_FRAG for fc in frags[:-1]) and not frags[-1] & FC_FRAG
    assert d.cmd("AT+BLUFISEND=601") == ERROR

    # the version, the APs around and the status on request
    phone.send(CTRL, C_GET_WIFI_LIST)
    aps, rest = {}, phone.wait(DATA, D_WIFI_LIST)
    while rest:
        aps[rest[2:1 + rest[0]]] = rest[1] - 256 if rest[1] > 127 else rest[1]
        rest = rest[1 + rest[0]:]
    assert aps[b"espat"] == -42
    phone.send(CTRL, C_GET_VERSION)
    assert phone.wait(DATA, D_VERSION) == b"\x01\x03"
    phone.send(CTRL, C_GET_STATUS)
    assert phone.wifi_report()[:2] == (1, 0)

    assert d.cmd("AT+BLUFI=0") == b"+BLUFIDISCONN\r\n" + OK
    assert d.ctl("ble", "peers")["peers"][0]["connected"] is False
    assert d.cmd("AT+BLUFI?") == b"+BLUFI:0\r\n" + OK


def test_wrong_password_then_right(blufi):
    """A wrong password is reported to the phone (station failed, the end
    reason of a failed handshake) and does not leave BluFi stuck: the right
    password then provisions the module (COMPAT #502). The phone's opmode
    sets the Wi-Fi mode (Wi-Fi off here first)."""
    d, phone = blufi
    assert d.cmd("AT+CWMODE=0") == OK
    phone.negotiate()
    phone.configure_sta(b"espat", b"wrongpass1")
    opmode, sta, _, extras = phone.wifi_report()
    assert (opmode, sta) == (1, 1)
    assert extras[D_END_REASON] == bytes([15])
    assert d.cmd("AT+CWMODE?") == b"+CWMODE:1\r\n" + OK
    phone.configure_sta(b"espat", b"espatpass")
    d.expect_re(rb"(?s).*WIFI CONNECTED\r\nWIFI GOT IP\r\n")
    assert phone.wifi_report()[:2] == (1, 0)


def test_auth_floor(make_dut):
    """AT+BLUFI=1,<auth floor>: an AP whose security is below the floor is not
    joined (reported as a failed connection, 205), even with its password."""
    d = make_dut(world=WORLD)
    d.cmd("ATE0")
    assert d.cmd("AT+BLUFI=1,4") == OK  # WPA_WPA2_PSK at least; "espat" is WPA2_PSK (3)
    phone = Phone(d)
    phone.connect(mtu=128)
    d.expect(b"+BLUFICONN\r\n")
    phone.negotiate()
    phone.configure_sta(b"espat", b"espatpass")
    opmode, sta, _, extras = phone.wifi_report()
    assert (opmode, sta) == (1, 1) and extras[D_END_REASON] == bytes([205])
    assert d.cmd("AT+CWJAP?") == b"No AP\r\n" + OK
    assert d.cmd("AT+BLUFI=0") == b"+BLUFIDISCONN\r\n" + OK
    assert d.cmd("AT+BLUFI=1,3") == OK
    phone.connect(mtu=128)
    d.expect(b"+BLUFICONN\r\n")
    phone.negotiate()
    phone.configure_sta(b"espat", b"espatpass")
    d.expect(b"WIFI CONNECTED\r\nWIFI GOT IP\r\n")
    assert phone.wifi_report()[:2] == (1, 0)


def test_reconnect_and_bad_frames(blufi):
    """Bad frames are reported to the phone as BluFi errors and the next good
    frame works; a new connection starts the sequence numbers again; the
    phone hanging up gives +BLUFIDISCONN and BluFi advertises again."""
    d, phone = blufi
    phone.send(DATA, D_CUSTOM, b"plain")  # no security yet: clear text is fine
    d.expect(b"+BLUFIDATA:5,plain\r\n")
    seq = phone.send_seq
    phone.send(DATA, D_CUSTOM, b"ack me", ack=True)  # an ACK carries the frame's sequence
    d.expect(b"+BLUFIDATA:6,ack me\r\n")
    assert phone.wait(CTRL, C_ACK) == bytes([seq])
    # a checksum that does not match
    phone.write_raw(bytes([typ(DATA, D_CUSTOM), 0x02, phone.send_seq, 1, 0x41, 0, 0]))
    phone.send_seq += 1
    assert phone.wait(DATA, D_ERROR) == b"\x01"
    # a sequence number out of order (the module's counter stays)
    phone.write_frame(typ(DATA, D_CUSTOM), 0, b"x", seq=(phone.send_seq + 5) & 0xFF)
    phone.send_seq -= 6
    assert phone.wait(DATA, D_ERROR) == b"\x00"
    # encrypted before any key was negotiated
    phone.write_raw(bytes([typ(DATA, D_CUSTOM), FC_ENC, phone.send_seq, 1, 0x41]))
    phone.send_seq += 1
    assert phone.wait(DATA, D_ERROR) == b"\x02"
    phone.send(CTRL, C_OPMODE, b"\x04")  # no such mode
    assert phone.wait(DATA, D_ERROR) == b"\x09"
    phone.send(DATA, D_CUSTOM, b"again")
    d.expect(b"+BLUFIDATA:5,again\r\n")

    phone.disconnect()
    d.expect(b"+BLUFIDISCONN\r\n")
    assert d.ctl("ble", "air")["advertising"] is not None
    phone.connect()  # MTU 23 this time
    d.expect(b"+BLUFICONN\r\n")
    phone.send(DATA, D_CUSTOM, b"new link")
    d.expect(b"+BLUFIDATA:8,new link\r\n")


# ---- the guide's chapter-3 examples (/work/shared/conformance) -------------------------
# AT+BLUFISEND's (3.4.47) needs a phone: test_provision_and_custom_data sends it.

from test_conformance import run_entries, section_blocks  # noqa: E402

CH3_SECTIONS = ["3.4.45 AT+BLUFI", "3.4.46 AT+BLUFINAME"]


@pytest.mark.parametrize("block", section_blocks(CH3_SECTIONS),
                         ids=[s.split()[0] for s in CH3_SECTIONS])
def test_chapter3_examples(block, make_dut):
    section, entries = block
    assert entries, f"no examples of {section} in the corpus"
    d = make_dut()
    d.cmd("ATE0")
    run_entries(entries, {}, lambda e: _ch3_run(d, e))
