"""The shared air (docs/internals/air.md): a hub (`espat air --socket
PATH`) and two modules joined to it with --air, each with its own pty and
data dir. Module A runs a softAP; module B sees it in AT+CWLAP with A's
real SSID, channel, security and MAC, joins it (A reports +STA_CONNECTED /
+DIST_STA_IP), and TCP and UDP go both ways between them through the hub.
A wrong password, A's power cut and A's kill -9 are seen by B as a real
station would see them. TCP across the air has a window (#290): a module
whose host does not read holds one window, the sender holds the rest; one
test plays the hub itself to check the grants on the wire. Decided
behaviour: docs/COMPAT.md #280-#291.

Each test starts its own hub (a few ms) in its tmp dir; nothing waits on
time, only on output and the control socket's state."""
import os
import re
import signal
import socket
import struct
import subprocess

import pytest

from conftest import (DEADLINE, ESPAT, READY, guarded_plus, ipd_stream, joined, note, pattern,
                      rss_kib, sha, wait_for, write_thread)

OK = b"\r\nOK\r\n"
ERROR = b"\r\nERROR\r\n"
# No APs of the world's own: only the air's softAPs show; fast scans.
QUIET_WORLD = "[world]\nscan_channel_ms = 10\n"
SSID, PWD = "air-ap", "password1"


@pytest.fixture
def hub(air_hub):
    return air_hub


@pytest.fixture
def pair(make_dut, hub, tmp_path):
    """A with its softAP up (WPA2, channel 5), B a station; echo off."""
    world = tmp_path / "quiet.ini"
    world.write_text(QUIET_WORLD)
    a = make_dut(args=["--air", hub], world=world)
    b = make_dut(args=["--air", hub], world=world)
    for d in (a, b):
        assert d.cmd("ATE0") == b"ATE0\r\n" + OK
    assert a.cmd("AT+CWMODE=2") == OK
    assert a.cmd(f'AT+CWSAP="{SSID}","{PWD}",5,3') == OK
    assert b.cmd("AT+CWMODE=1") == OK
    return a, b


def mac_of(d, cmd):
    got = d.cmd(cmd)
    m = re.search(rb'"([0-9a-f:]{17})"', got)
    assert m, got
    return m.group(1).decode()


def scan_until_seen(b, timeout=DEADLINE):
    """AT+CWLAP until the air's softAP is in it (A publishes before its next
    sleep; B hears it from the hub)."""
    def seen():
        got = b.cmd("AT+CWLAP")
        return got if SSID.encode() in got else None
    return wait_for(seen, "the softAP in B's scan", timeout)


def send(d, data, link=None):
    """AT+CIPSEND of data, checked byte for byte up to SEND OK."""
    head = b"" if link is None else b"%d," % link
    d.write(b"AT+CIPSEND=" + head + b"%d\r\n" % len(data))
    d.expect(b"\r\nOK\r\n>")
    d.write(data)
    d.expect(b"\r\nRecv %d bytes\r\n\r\nSEND OK\r\n" % len(data))


def join(a, b):
    scan_until_seen(b)
    assert b.cmd(f'AT+CWJAP="{SSID}","{PWD}"') == b"WIFI CONNECTED\r\nWIFI GOT IP\r\n" + OK
    bmac = mac_of(b, "AT+CIPSTAMAC?")
    a.expect(b'+STA_CONNECTED:"%s"\r\n' % bmac.encode())
    m = a.expect_re(rb'\+DIST_STA_IP:"%s","(192\.168\.4\.\d+)"\r\n' % bmac.encode())
    return bmac, m.group(1).decode()


def test_scan_shows_the_softap_with_its_real_fields(pair):
    a, b = pair
    amac = mac_of(a, "AT+CIPAPMAC?")
    got = scan_until_seen(b)
    # ecn 3 (WPA2), rssi, the softAP's MAC, channel 5, ciphers CCMP/CCMP
    assert re.search(rb'\+CWLAP:\(3,"air-ap",-40,"%s",5,-1,-1,4,4,7,0\)\r\n' % amac.encode(),
                     got), got


def test_join_tcp_udp_both_ways(pair):
    a, b = pair
    bmac, bip = join(a, b)
    got = b.cmd("AT+CIPSTA?")
    assert b'+CIPSTA:ip:"%s"' % bip.encode() in got
    assert b'+CIPSTA:gateway:"192.168.4.1"' in got
    assert re.search(rb'\+CWJAP:"air-ap","%s",5,-40,' % mac_of(a, "AT+CIPAPMAC?").encode(),
                     b.cmd("AT+CWJAP?"))

    # A serves, B dials A's softAP address
    assert a.cmd("AT+CIPMUX=1") == OK
    assert a.cmd("AT+CIPSERVER=1,3333") == OK
    assert b.cmd('AT+CIPSTART="TCP","192.168.4.1",3333') == b"CONNECT\r\n" + OK
    a.expect(b"0,CONNECT\r\n")
    payload = bytes(range(256)) * 4  # every byte value, 1024 bytes
    send(b, payload)
    a.expect(b"\r\n+IPD,0,1024:" + payload)
    send(a, b"hello", 0)
    b.expect(b"\r\n+IPD,5:hello")
    assert b.cmd("AT+CIPCLOSE") == b"CLOSED\r\n" + OK
    a.expect(b"0,CLOSED\r\n")

    # B serves, A dials the address A's DHCP server gave B
    assert b.cmd("AT+CIPMUX=1") == OK
    assert b.cmd("AT+CIPSERVER=1,3333") == OK  # the same port: no clash on the host
    assert a.cmd(f'AT+CIPSTART=1,"TCP","{bip}",3333') == b"1,CONNECT\r\n" + OK
    b.expect(b"0,CONNECT\r\n")
    send(a, b"abc", 1)
    b.expect(b"\r\n+IPD,0,3:abc")
    send(b, b"wxyz", 0)
    a.expect(b"\r\n+IPD,1,4:wxyz")

    # UDP both ways: each names the other's address and port
    assert a.cmd(f'AT+CIPSTART=2,"UDP","{bip}",4002,4001,0') == b"2,CONNECT\r\n" + OK
    assert b.cmd('AT+CIPSTART=2,"UDP","192.168.4.1",4001,4002,0') == b"2,CONNECT\r\n" + OK
    send(a, b"ping", 2)
    b.expect(b"\r\n+IPD,2,4:ping")
    send(b, b"pong", 2)
    a.expect(b"\r\n+IPD,2,4:pong")

    st = a.ctl("state")["state"]["air"]
    assert st["connected"] and st["softap"]["published"]
    assert st["softap"]["stations"][0]["mac"] == bmac
    assert st["softap"]["stations"][0]["ip"] == bip
    st = b.ctl("state")["state"]["air"]
    assert st["station"]["state"] == "joined" and st["station"]["ip"] == bip
    assert [x["ssid"] for x in st["aps"]] == [SSID]

    # B leaves: A sees the station go
    assert b.cmd("AT+CWQAP") == OK
    b.expect_re(rb"WIFI DISCONNECT\r\n")
    a.expect_re(rb'\+STA_DISCONNECTED:"%s"\r\n' % bmac.encode())
    # B's links died with its network; A's ends of the TCP ones close too
    a.expect_re(rb"1,CLOSED\r\n")


def test_wrong_password(pair):
    a, b = pair
    scan_until_seen(b)
    assert b.cmd(f'AT+CWJAP="{SSID}","wrongpass9"') == b"+CWJAP:2\r\n" + ERROR
    assert b"STA_CONNECTED" not in a.buf
    # and the right one still works
    join(a, b)


def test_power_cut_of_the_ap(pair):
    a, b = pair
    join(a, b)
    assert a.cmd("AT+CIPMUX=1") == OK
    assert a.cmd("AT+CIPSERVER=1,3333") == OK
    assert b.cmd("AT+CWRECONNCFG=0,0") == OK  # stay down, so the test sees it plainly
    assert b.cmd('AT+CIPSTART="TCP","192.168.4.1",3333') == b"CONNECT\r\n" + OK
    a.expect(b"0,CONNECT\r\n")
    a.ctl("power-cut")
    b.expect_re(rb"(WIFI DISCONNECT\r\n[\s\S]*CLOSED\r\n|CLOSED\r\n[\s\S]*WIFI DISCONNECT\r\n)")
    assert b.cmd("AT+CWSTATE?").startswith(b"+CWSTATE:")
    assert b.cmd("AT+CIPSTATUS").startswith(b"STATUS:")


def test_kill9_of_the_ap(pair):
    a, b = pair
    join(a, b)
    assert a.cmd("AT+CIPMUX=1") == OK
    assert a.cmd("AT+CIPSERVER=1,3333") == OK
    assert b.cmd("AT+CWRECONNCFG=0,0") == OK
    assert b.cmd('AT+CIPSTART="TCP","192.168.4.1",3333') == b"CONNECT\r\n" + OK
    a.expect(b"0,CONNECT\r\n")
    a.kill9()
    b.expect_re(rb"(WIFI DISCONNECT\r\n[\s\S]*CLOSED\r\n|CLOSED\r\n[\s\S]*WIFI DISCONNECT\r\n)")
    # the softAP is gone from the air
    got = b.cmd("AT+CWLAP")
    assert SSID.encode() not in got and got.endswith(OK)
    assert b.ctl("state")["state"]["air"]["aps"] == []


def test_no_hub_is_a_usage_error(tmp_path):
    r = subprocess.run([ESPAT, "--air", str(tmp_path / "none.sock"), "--data-dir",
                        str(tmp_path / "d")], capture_output=True, timeout=DEADLINE,
                       stdin=subprocess.DEVNULL)
    assert r.returncode == 2
    assert b"no air hub there" in r.stderr


def test_alone_state_shows_no_air(make_dut):
    d = make_dut()
    assert d.ctl("state")["state"]["air"] is None


def test_ap_drops_the_station(pair):
    """AT+CWQIF on A deauthenticates B: WIFI DISCONNECT, then B's reconnect
    policy brings it back (a new +STA_CONNECTED on A)."""
    a, b = pair
    bmac, _ = join(a, b)
    assert a.cmd(f'AT+CWQIF="{bmac}"') == OK
    a.expect(b'+STA_DISCONNECTED:"%s"\r\n' % bmac.encode())
    b.expect(b"WIFI DISCONNECT\r\n")
    # AT+CWJAP's default reconnect interval is 1 s
    b.expect(b"WIFI CONNECTED\r\nWIFI GOT IP\r\n", timeout=DEADLINE)
    a.expect(b'+STA_CONNECTED:"%s"\r\n' % bmac.encode())


def test_nobody_at_that_address(pair):
    """A connect to an address of the softAP's network that no module holds
    fails at once, as does one to a port nothing listens on."""
    a, b = pair
    join(a, b)
    got = b.cmd('AT+CIPSTART="TCP","192.168.4.77",3333')
    assert got == ERROR, got
    # nothing listens on that port of A: refused
    got = b.cmd('AT+CIPSTART="TCP","192.168.4.1",3334')
    assert got == ERROR, got
    assert b.cmd("AT") == OK


def test_hub_gone_module_goes_on_alone(make_dut, tmp_path):
    world = tmp_path / "quiet.ini"
    world.write_text(QUIET_WORLD)
    path = str(tmp_path / "air.sock")
    hub = subprocess.Popen([ESPAT, "air", "--socket", path], stdin=subprocess.DEVNULL,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(lambda: os.path.exists(path), "the hub's socket")
        a = make_dut(args=["--air", path], world=world)
        b = make_dut(args=["--air", path], world=world)
        for d in (a, b):
            assert d.cmd("ATE0") == b"ATE0\r\n" + OK
        assert a.cmd("AT+CWMODE=2") == OK
        assert a.cmd(f'AT+CWSAP="{SSID}","{PWD}",5,3') == OK
        assert b.cmd("AT+CWMODE=1") == OK
        assert b.cmd("AT+CWRECONNCFG=0,0") == OK
        join(a, b)
    finally:
        hub.send_signal(signal.SIGTERM)
        assert hub.wait(timeout=DEADLINE) == 0
    b.expect(b"WIFI DISCONNECT\r\n")
    a.expect_re(rb'\+STA_DISCONNECTED:"[0-9a-f:]{17}"\r\n')
    wait_for(lambda: not b.ctl("state")["state"]["air"]["connected"], "B off the air")
    assert b.cmd("AT+CWLAP") == OK
    assert a.cmd("AT") == OK


def test_softap_off_and_on_again(pair):
    """AT+CWMODE=1 on A takes its softAP out of the air: B loses it; back to
    mode 2, B's reconnect policy finds it again."""
    a, b = pair
    bmac, _ = join(a, b)
    assert a.cmd("AT+CWMODE=1") == OK
    b.expect(b"WIFI DISCONNECT\r\n")
    assert SSID.encode() not in b.cmd("AT+CWLAP")
    assert a.cmd("AT+CWMODE=2") == OK
    b.expect(b"WIFI CONNECTED\r\nWIFI GOT IP\r\n")
    a.expect(b'+STA_CONNECTED:"%s"\r\n' % bmac.encode())


def test_station_stops(pair):
    """B's process ends (SIGTERM): A sees its station go."""
    a, b = pair
    bmac, _ = join(a, b)
    assert b.stop() == 0
    a.expect(b'+STA_DISCONNECTED:"%s"\r\n' % bmac.encode())


# ---- flow control (COMPAT #290) -------------------------------------------------

WINDOW = 65536  # ESPAT_AIR_WINDOW (src/proto/air.h)


def streams(d):
    return d.ctl("state")["state"]["air"]["streams"]


def passthrough_to_a(a, b, port):
    """B (single link) dials A's server on port and enters passthrough."""
    join(a, b)
    assert a.cmd("AT+CIPMUX=1") == OK
    assert a.cmd(f"AT+CIPSERVER=1,{port}") == OK
    assert b.cmd(f'AT+CIPSTART="TCP","192.168.4.1",{port}') == b"CONNECT\r\n" + OK
    a.expect(b"0,CONNECT\r\n")
    assert b.cmd("AT+CIPMODE=1") == OK
    b.write(b"AT+CIPSEND\r\n")
    b.expect(b"\r\nOK\r\n>")


def stuck(a, b):
    """A's host reads nothing: A's link is paused with a whole window held,
    and B's stream has bytes queued and no credit. Nothing moves from here
    until A's host reads."""
    sa, sb = streams(a), streams(b)
    return (len(sa) == 1 and len(sb) == 1 and sa[0]["paused"] and sa[0]["room"] == 0
            and sa[0]["held"] == WINDOW and sb[0]["credit"] == 0 and sb[0]["queued"] > 0)


def test_flow_control_bounds_the_receiver(pair):
    """B pours 8 MiB in passthrough into A, whose host does not read: the
    window stops B (its queue, then its UART), A's memory stays bounded; then
    A's host reads every byte, in order."""
    a, b = pair
    passthrough_to_a(a, b, 3334)
    total = 8 * 1024 * 1024
    data = pattern(total, seed=290)
    base = rss_kib(a)
    writer = write_thread(b, data, timeout=120.0)
    wait_for(lambda: stuck(a, b), "B's stream to wait on A's window", timeout=30)
    grown = rss_kib(a) - base
    note(f"air flow control: A's RSS grew by {grown} KiB while B sent {total >> 20} MiB")
    # A holds one window, its UART's back-pressure threshold (256 KiB) and
    # the pty's buffer (about 0.8 MiB of RSS; 2.5 MiB under ASan, whose
    # allocator keeps freed memory); without the window it would hold all
    # 8 MiB
    assert grown < total // 1024 // 2, f"A grew by {grown} KiB while its host did not read"
    assert writer.is_alive(), "B's host was not held back"
    assert streams(b)[0]["queued"] <= 1024 * 1024  # ESPAT_AIR_SNDQ_MAX
    got = ipd_stream(a, total, link=0, timeout=30)
    assert sha(got) == sha(data), "A's host got other bytes"
    joined(writer, timeout=30)
    wait_for(lambda: streams(b)[0]["queued"] == 0, "B's queue to drain")
    assert streams(a)[0]["room"] == WINDOW and streams(b)[0]["credit"] == WINDOW


def test_close_with_bytes_queued_sends_them_then_fin(pair):
    """B leaves passthrough and closes its link while the window still holds
    bytes back: they still reach A's host (once it reads), then CLOSED, as a
    host socket's graceful close flushes in the background."""
    a, b = pair
    passthrough_to_a(a, b, 3335)
    # less than what A's UART, the window and B's queue hold together: B's
    # host gets rid of all of it while A's host reads nothing. A stops
    # reading at 256 KiB of UART output (ESPAT_TX_HIGH, +IPD headers
    # included), the window holds 64 KiB, B stops its UART at 256 KiB
    # queued (ESPAT_SOCK_HIGH): 512 KiB left too little room for the +IPD
    # headers of small chunks (two CI runs blocked the writer); 448 KiB
    # still leaves B's queue holding bytes back when it closes
    total = 448 * 1024
    data = pattern(total, seed=2901)
    writer = write_thread(b, data, timeout=60.0)
    joined(writer, timeout=60.0)  # the writer's own limit (a loaded CI took over 30 s)
    wait_for(lambda: stuck(a, b), "B's stream to wait on A's window", timeout=30)
    guarded_plus(b)
    assert b.cmd("AT+CIPMODE=0") == OK
    assert b.cmd("AT+CIPCLOSE") == b"CLOSED\r\n" + OK
    closing = streams(b)
    assert len(closing) == 1 and closing[0]["closing"] and closing[0]["queued"] > 0
    assert b.ctl("state")["state"]["air"]["sockets"] == 0
    got = ipd_stream(a, total, link=0, timeout=30)
    assert sha(got) == sha(data), "A's host got other bytes"
    a.expect(b"0,CLOSED\r\n")
    wait_for(lambda: streams(b) == [] and streams(a) == [], "both ends to forget the stream")


# ---- the window as the protocol sees it: a hub played by the test --------------

HDR = struct.Struct(">BBIIIIHIH6s")  # type code net peer cid src_ip sport dst_ip dport mac


class FakeHub:
    """One module's hub connection, spoken by the test (docs/internals/air.md:
    the protocol), to check what a module says on the wire."""

    def __init__(self, path):
        self.lsock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.lsock.bind(path)
        self.lsock.listen(1)
        self.conn, self.buf = None, b""

    def accept(self):
        self.lsock.settimeout(DEADLINE)
        self.conn, _ = self.lsock.accept()
        self.conn.setblocking(False)

    def send(self, typ, code=0, net=0, peer=0, cid=0, src=(0, 0), dst=(0, 0), payload=b"",
             mac=b"\0" * 6):
        h = HDR.pack(typ, code, net, peer, cid, src[0], src[1], dst[0], dst[1], mac)
        self.conn.sendall(struct.pack(">I", len(h) + len(payload)) + h + payload)

    def frames(self):
        """Every whole frame that arrived so far: (type, code, peer, cid, payload,
        mac)."""
        try:
            while True:
                got = self.conn.recv(65536)
                if not got:
                    break
                self.buf += got
        except BlockingIOError:
            pass
        out = []
        while len(self.buf) >= 4 and len(self.buf) >= 4 + struct.unpack(">I", self.buf[:4])[0]:
            n = struct.unpack(">I", self.buf[:4])[0]
            f = HDR.unpack(self.buf[4:4 + HDR.size])
            out.append((f[0], f[1], f[3], f[4], self.buf[4 + HDR.size:4 + n], f[9]))
            self.buf = self.buf[4 + n:]
        return out

    def close(self):
        for s in (self.conn, self.lsock):
            if s:
                s.close()


def test_window_on_the_wire(make_dut, tmp_path):
    """The module grants (TCP_WINDOW) exactly the bytes it handed to its link,
    holds at most one window while its host does not read, and resets a
    stream whose sender goes past the window; the bytes it held still reach
    its host, then CLOSED."""
    hub = FakeHub(str(tmp_path / "fake.sock"))
    try:
        d = make_dut(args=["--air", str(tmp_path / "fake.sock")], start=False)
        d.start(wait_ready=False)
        hub.accept()
        wait_for(lambda: any(f[0] == 0x01 for f in hub.frames()), "HELLO")
        hub.send(0x02, peer=5)  # WELCOME: the module is 5
        d.expect(READY)
        assert d.cmd("ATE0") == b"ATE0\r\n" + OK
        assert d.cmd("AT+CIPMUX=1") == OK
        assert d.cmd("AT+CIPSERVER=1,3336") == OK
        me, peer = (0xC0A80401, 3336), (0xC0A80402, 50000)
        hub.send(0x40, net=5, peer=9, cid=1, src=peer, dst=me)  # TCP_OPEN from module 9
        acc = wait_for(lambda: [f for f in hub.frames() if f[0] == 0x41], "TCP_ACCEPT")
        assert acc[0][1:4] == (0, 9, 1)
        d.expect(b"0,CONNECT\r\n")

        data = pattern(2 * 1024 * 1024, seed=2902)
        sent = granted = 0
        credit = WINDOW

        def pour():
            """Sends what the window allows; true once the module stops granting."""
            nonlocal sent, granted, credit
            for f in hub.frames():
                if f[0] == 0x45:
                    assert f[2:4] == (9, 1) and len(f[4]) == 4
                    g = struct.unpack(">I", f[4])[0]
                    granted += g
                    credit += g
            while credit > 0 and sent < len(data):
                k = min(credit, 16384)
                hub.send(0x42, peer=9, cid=1, payload=data[sent:sent + k])
                sent += k
                credit -= k
            st = streams(d)
            return credit == 0 and len(st) == 1 and st[0]["paused"] and st[0]["room"] == 0
        wait_for(pour, "the module to hold a whole window and grant nothing more", timeout=30)
        assert sent < len(data), "the module never paused"
        assert granted == sent - WINDOW  # all but the window it holds
        st = streams(d)[0]
        assert st["held"] == WINDOW and st["queued"] == 0
        # one byte past the window: the stream is reset toward the sender
        hub.send(0x42, peer=9, cid=1, payload=data[sent:sent + 1])
        rst = wait_for(lambda: [f for f in hub.frames() if f[0] == 0x43], "TCP_CLOSE")
        assert rst[0][1:4] == (1, 9, 1)  # RST, the stream's name
        got = ipd_stream(d, sent, link=0, timeout=30)
        assert sha(got) == sha(data[:sent])
        d.expect(b"0,CLOSED\r\n")
        assert streams(d) == []
    finally:
        hub.close()
