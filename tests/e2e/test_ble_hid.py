"""Bluetooth LE HID (guide 3.4.41-3.4.44): AT+BLEHIDINIT makes the module a
HID over GATT keyboard, mouse and consumer control; a scripted host (`espat
ctl ble peer`) connects, reads the report map, is refused the reports until
it pairs (Insufficient Authentication, as HOGP's encrypted reports ask),
pairs, subscribes, and receives AT+BLEHIDKB / AT+BLEHIDMUS /
AT+BLEHIDCONSUMER's input reports byte for byte. The report map is checked
against the reports with a HID report-descriptor walker written here, not
the module's. Decided behaviour: docs/COMPAT.md #480-#482."""
from conftest import wait_for

OK = b"\r\nOK\r\n"
ERROR = b"\r\nERROR\r\n"
HOST = "60:51:42:fe:98:aa"
# handles: the GATT and GAP services take 1-9, the HID table starts at 10
REPORT_MAP, KB, KB_CCCD, MOUSE, MOUSE_CCCD, CC, CC_CCCD = 16, 20, 21, 27, 28, 31, 32


def walk(desc):
    """(report id, kind) -> bytes, from a HID report descriptor's short items
    (HID 1.11 6.2.2): Report Size x Report Count per Input/Output/Feature."""
    size = count = rid = 0
    bits = {}
    i = 0
    while i < len(desc):
        prefix = desc[i]
        n = (0, 1, 2, 4)[prefix & 3]
        v = int.from_bytes(desc[i + 1:i + 1 + n], "little")
        i += 1 + n
        tag = prefix & 0xFC
        if tag == 0x74:
            size = v
        elif tag == 0x94:
            count = v
        elif tag == 0x84:
            rid = v
        elif tag in (0x80, 0x90, 0xB0):
            key = (rid, {0x80: "in", 0x90: "out", 0xB0: "feature"}[tag])
            bits[key] = bits.get(key, 0) + size * count
    return {k: (b + 7) // 8 for k, b in bits.items()}


def received(d):
    return d.ctl("ble", "peer", "received", "host")["received"]


def test_hid_keyboard_mouse_consumer(make_dut):
    d = make_dut()
    d.cmd("ATE0")
    assert d.cmd("AT+BLEHIDINIT?") == b"+BLEHIDINIT:0\r\n" + OK
    assert d.cmd("AT+BLEHIDKB=0,4,0,0,0,0,0") == ERROR  # no HID yet
    assert d.cmd("AT+BLEHIDINIT=1") == OK
    assert d.cmd("AT+BLEHIDINIT?") == b"+BLEHIDINIT:1\r\n" + OK
    # the general commands are not for a HID device
    assert d.cmd("AT+BLEINIT=2") == ERROR
    assert d.cmd("AT+BLEINIT?") == b"+BLEINIT:0\r\n" + OK
    assert d.cmd("AT+BLEADVSTART") == ERROR
    assert d.cmd("AT+BLEGATTSSRVCRE") == ERROR
    # it advertises as a keyboard with the HID service's UUID and its name
    adv = d.ctl("ble", "air")["advertising"]
    assert adv["adv"] == "020106" "0319c103" "03031218" "0709" + b"ESP-AT".hex()
    d.ctl("ble", "peer", "add", "host", f"addr={HOST}", "name=host")
    d.ctl("ble", "peer", "connect", "host")
    d.expect(f'+BLECONN:0,"{HOST}"\r\n'.encode())
    assert d.ctl("ble", "air")["advertising"] is None
    d.ctl("ble", "peer", "mtu", "host", "247")
    d.expect(b"+BLECFGMTU:0,247\r\n")
    # the report map is readable before pairing; the reports are not
    rmap = bytes.fromhex(d.ctl("ble", "peer", "read", "host", str(REPORT_MAP))["value"])
    assert walk(rmap) == {(1, "in"): 8, (1, "out"): 1, (2, "in"): 4, (3, "in"): 2}
    err = d.ctl("ble", "peer", "subscribe", "host", str(KB_CCCD), "notify",
                expect_ok=False)["error"]
    assert "0x05" in err, err
    err = d.ctl("ble", "peer", "read", "host", str(KB), expect_ok=False)["error"]
    assert "0x05" in err, err
    assert d.cmd("AT+BLEHIDKB=0,4,0,0,0,0,0") == ERROR  # the host has not subscribed
    # the host pairs (Just Works against the module's NoInputNoOutput)
    d.ctl("ble", "peer", "pair", "host")
    d.expect(b"+BLESECREQ:0\r\n")
    assert d.cmd("AT+BLEENCRSP=0,1") == OK
    d.expect_re(rb"(\+BLESECKEYTYPE:0,\d+\r\n)+\+BLEAUTHCMPL:0,0\r\n")
    for cccd in (KB_CCCD, MOUSE_CCCD, CC_CCCD):
        d.ctl("ble", "peer", "subscribe", "host", str(cccd), "notify")
    received(d)
    # the guide's "a", a mouse move, volume up [000:8673, 8711, 8745]
    assert d.cmd("AT+BLEHIDKB=0,4,0,0,0,0,0") == OK
    assert d.cmd("AT+BLEHIDKB=2,4,5,0,0,0,0") == OK  # left shift, "a" "b"
    assert d.cmd("AT+BLEHIDKB=0,0,0,0,0,0,0") == OK  # released
    assert d.cmd("AT+BLEHIDMUS=0,10,10,0") == OK
    assert d.cmd("AT+BLEHIDMUS=1,-10,127,-1") == OK
    assert d.cmd("AT+BLEHIDCONSUMER=233") == OK
    want = [(KB, "0000040000000000"), (KB, "0200040500000000"), (KB, "0000000000000000"),
            (MOUSE, "000a0a00"), (MOUSE, "01f67fff"), (CC, "e900")]
    got = []

    def all_six():
        got.extend(received(d))
        return len(got) >= 6
    wait_for(all_six, "the six input reports")
    assert [(g["handle"], g["value"]) for g in got] == want
    assert all(g["op"] == "notify" for g in got)
    for bad in ("AT+BLEHIDMUS=8,0,0,0", "AT+BLEHIDMUS=0,-128,0,0", "AT+BLEHIDKB=0,256,0,0,0,0,0",
                "AT+BLEHIDKB=0,4,0,0,0,0", "AT+BLEHIDCONSUMER=1024"):
        assert d.cmd(bad) == ERROR, bad
    # the host leaves: the device advertises again; deinit takes it off the air
    d.ctl("ble", "peer", "disconnect", "host")
    d.expect(f'+BLEDISCONN:0,"{HOST}"\r\n'.encode())
    assert d.ctl("ble", "air")["advertising"] is not None
    assert d.cmd("AT+BLEHIDINIT=0") == OK
    assert d.ctl("ble", "air")["advertising"] is None
    assert d.cmd("AT+BLEINIT=2") == OK
    assert d.cmd("AT+BLEHIDINIT=1") == ERROR  # the general stack holds it now
