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
    assert d.cmd("AT+BLENAME?") == ERROR  # not initialized
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
