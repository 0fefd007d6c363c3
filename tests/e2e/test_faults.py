"""Faults a user injects through `espat ctl fault ...` (docs/internals/ctl.md,
"Faults"; src/world/netfault.c), each against real peers on the host's
loopback, checking what the AT port shows: DNS failing or hanging, connects
refused or blackholed, latency, loss, a link frozen until only a keep-alive
notices (TCP, SSL and MQTT), every link dropped, and the AP leaving. Decisions
pinned here: docs/COMPAT.md #250-#257.

The peers (a TCP server, a UDP peer) are started once for the file; each
test has its own module joined to tests/worlds/tcpip.ini's host network.
Waits are on output, on the peer's sockets or on the control socket's
state; the fixed pauses (dut.quiet, peer.nothing) are where a stretch of
silence is itself what a fault must produce, each well under the delay
the fault adds.
"""
import socket
import time

import pytest

from conftest import (ERROR, OK, READY, CtlError, esc, ipd, ok, prompt, send, start, wait_for)
from peers import Conn, TcpServer, UdpPeer, free_port
from test_ssl import TlsServer


@pytest.fixture(scope="module")
def srv():
    s = TcpServer()
    yield s
    s.close()


@pytest.fixture(scope="module")
def udp():
    u = UdpPeer()
    yield u
    u.close()


def faults(dut):
    return dut.ctl("fault", "list")["faults"]


def timed(dut, line, timeout=10.0):
    """The answer to line and how long it took (s)."""
    t = time.monotonic()
    got = dut.cmd(line, timeout=timeout)
    return got, time.monotonic() - t


# ---- the commands ------------------------------------------------------------------

def test_commands_state_and_errors(net):
    f = faults(net)
    assert f["dns"] == [] and f["connect"] == [] and f["latency_ms"] == 0
    assert f["loss_pct"] == 0 and f["frozen"] == 0
    net.ctl("fault", "dns", "fail", "example.com")
    net.ctl("fault", "connect", "refuse", "127.0.0.1:9")
    net.ctl("fault", "connect", "blackhole", "[::1]:80")
    net.ctl("fault", "latency", "20")
    net.ctl("fault", "loss", "5")
    st = net.ctl("state")["state"]["faults"]
    assert st["dns"] == [{"name": "example.com", "how": "fail"}]
    assert st["connect"] == [{"host": "127.0.0.1", "port": 9, "how": "refuse"},
                             {"host": "::1", "port": 80, "how": "blackhole"}]
    assert (st["latency_ms"], st["loss_pct"]) == (20, 5)
    for bad in (("fault", "dns", "slow"), ("fault", "connect", "refuse", "example.com"),
                ("fault", "connect", "refuse", "127.0.0.1:0"), ("fault", "latency", "-1"),
                ("fault", "latency", "60001"), ("fault", "loss", "101"),
                ("fault", "freeze", "0"), ("fault", "freeze", "mqtt"), ("fault", "thaw", "5"),
                ("fault", "drop", "now")):
        with pytest.raises(CtlError):
            net.ctl(*bad)
    net.ctl("power-cut")  # the faults are the world's: they stay
    net.expect(READY)
    assert faults(net)["latency_ms"] == 20
    net.ctl("fault", "clear")
    f = faults(net)
    assert f["dns"] == [] and f["connect"] == [] and f["latency_ms"] == 0 and f["loss_pct"] == 0
    assert net.cmd("AT") == b"AT\r\n" + OK  # echo is back on after the power cut


# ---- DNS -----------------------------------------------------------------------------

def test_dns_fail(net, srv):
    """A failing DNS: AT+CIPDOMAIN and AT+CIPSTART by name answer ERROR at
    once; names without a rule and addresses are unaffected; `ok` ends it."""
    net.ctl("fault", "dns", "fail", "localhost")
    got, took = timed(net, 'AT+CIPDOMAIN="localhost"')
    assert got == ERROR and took < 2
    assert net.cmd(f'AT+CIPSTART="TCP","localhost",{srv.port}') == ERROR
    ok(net, 'AT+CIPDOMAIN="127.0.0.1"', b'+CIPDOMAIN:"127.0.0.1"\r\n')
    net.ctl("fault", "dns", "ok")
    ok(net, 'AT+CIPDOMAIN="localhost"', b'+CIPDOMAIN:"127.0.0.1"\r\n')
    start(net, srv.port, host="localhost")
    srv.accept().close()
    net.expect(b"CLOSED\r\n")
    assert faults(net)["dns_faulted"] == 2


def test_dns_hang(net):
    """A DNS server that never answers: AT+CIPDOMAIN waits out its
    <timeout> (here 1500 ms) in silence, then ERROR; the next command works."""
    net.ctl("fault", "dns", "hang")
    net.write('AT+CIPDOMAIN="localhost",1,1500\r\n')
    net.quiet(1.0)
    net.expect(ERROR)
    ok(net, "AT")


# ---- connects --------------------------------------------------------------------------

def test_connect_refused(net, srv):
    """A refused connect ends AT+CIPSTART in ERROR at once and the server
    never sees it (no SYN left the module); other ports still connect."""
    net.ctl("fault", "connect", "refuse", f"127.0.0.1:{srv.port}")
    got, took = timed(net, f'AT+CIPSTART="TCP","127.0.0.1",{srv.port}')
    assert got == ERROR and took < 2
    srv.no_accept()
    ok(net, "AT+CIPSTATE?")
    net.ctl("fault", "connect", "ok")
    start(net, srv.port)
    srv.accept().close()
    net.expect(b"CLOSED\r\n")


def test_connect_blackholed(net, srv):
    """A blackholed address: AT+CIPSTART waits its whole <timeout>
    (1500 ms) in silence, then ERROR with no CLOSED; nothing reached the
    server."""
    net.ctl("fault", "connect", "blackhole", "127.0.0.1")
    net.write(f'AT+CIPSTART="TCP","127.0.0.1",{srv.port},0,,1500\r\n')
    net.quiet(1.0)
    net.expect(ERROR)
    net.quiet(0.2)
    srv.no_accept()
    ok(net, "AT+CIPSTATE?")
    assert faults(net)["connects_faulted"] == 1
    net.ctl("fault", "clear")
    start(net, srv.port)
    srv.accept().close()
    net.expect(b"CLOSED\r\n")


# ---- latency and loss ----------------------------------------------------------------------

def test_latency(net, srv):
    """300 ms each way: the peer's bytes reach +IPD 300 ms late, ours reach
    the peer 300 ms late, and AT+PING's round trip grows by 600 ms."""
    start(net, srv.port)
    c = srv.accept()
    net.ctl("fault", "latency", "300")
    c.send(b"late")
    net.quiet(0.2)
    assert ipd(net) == (None, b"late", None, None)
    prompt(net, "AT+CIPSEND=3")
    net.write(b"out")
    net.expect(b"\r\nRecv 3 bytes\r\n")
    c.nothing(0.2)
    assert c.recv_exact(3) == b"out"
    net.expect(b"\r\nSEND OK\r\n")
    got = net.cmd('AT+PING="127.0.0.1"')
    assert got.startswith(b"+PING:") and got.endswith(OK), esc(got)
    assert int(got[6:got.index(b"\r\n")]) >= 600, esc(got)
    net.ctl("fault", "latency", "0")
    c.send(b"now")
    assert ipd(net) == (None, b"now", None, None)
    c.close()
    net.expect(b"CLOSED\r\n")


def test_loss_udp(net, udp):
    """100 % loss: a datagram either way vanishes (AT+CIPSEND still says
    SEND OK: UDP has no delivery report); at 0 % they flow again."""
    ok(net, f'AT+CIPSTART="UDP","127.0.0.1",{udp.port},0,0', b"CONNECT\r\n")
    local = net.ctl("state")["state"]["links"][0]["local_port"]
    net.ctl("fault", "loss", "100")
    send(net, b"gone")
    udp.nothing(0.3)
    udp.sendto(b"lost", local)
    net.quiet(0.3)
    assert faults(net)["dgrams_lost"] == 2
    net.ctl("fault", "loss", "0")
    send(net, b"here")
    assert udp.recv()[0] == b"here"
    udp.sendto(b"back", local)
    assert ipd(net)[1] == b"back"
    ok(net, "AT+CIPCLOSE", b"CLOSED\r\n")


def test_loss_tcp_delays_never_loses(net, srv):
    """TCP under 50 % loss: every byte arrives, in order, only later
    (retransmissions); the layer counts them."""
    start(net, srv.port)
    c = srv.accept()
    net.ctl("fault", "loss", "50")
    # one chunk at a time, so that each is a draw of its own
    for i in range(8):
        chunk = bytes([i]) * 100 + bytes(range(256))
        c.send(chunk)
        got = bytearray()
        while len(got) < len(chunk):
            got += ipd(net, timeout=15)[1]
        assert bytes(got) == chunk
    assert faults(net)["tcp_retransmits"] > 0
    net.ctl("fault", "clear")
    c.close()
    net.expect(b"CLOSED\r\n")


# ---- a link freezing -------------------------------------------------------------------------

def test_freeze_without_keepalive_and_thaw(net, srv):
    """A frozen link: the peer's bytes do not arrive and ours do not leave,
    nothing is reported; after the thaw both flow, in order."""
    ok(net, "AT+CIPMUX=1")
    start(net, srv.port, link=1)
    c = srv.accept()
    assert net.ctl("fault", "freeze", "1")["sockets"] == 1
    assert faults(net)["frozen"] == 1
    c.send(b"held")
    prompt(net, "AT+CIPSEND=1,4")
    net.write(b"back")
    net.expect(b"\r\nRecv 4 bytes\r\n")
    net.quiet(0.5)  # no +IPD, no SEND OK, no CLOSED
    c.nothing(0.1)
    net.ctl("fault", "thaw", "1")
    assert c.recv_exact(4) == b"back"
    got = net.read_until(lambda b: len(b) if b.count(b"\r\n") >= 3 and b"+IPD" in b
                         and b"SEND OK" in b else None, what="SEND OK and +IPD")
    assert b"\r\nSEND OK\r\n" in got and b"+IPD,1,4:held" in got, esc(got)
    c.close()
    net.expect(b"1,CLOSED\r\n")


def test_freeze_keepalive_notices(net, srv):
    """A frozen link with TCP keep-alive (AT+CIPSTART's <keep_alive> 1 s:
    idle 1 s, 3 probes 1 s apart) dies 4 s into the silence: CLOSED, as the
    real module reports a dead keep-alive; the peer, whose network never
    failed, sees nothing until the module's reset."""
    start(net, srv.port, extra=",1")
    c = srv.accept()
    net.ctl("fault", "freeze", "0")
    t = time.monotonic()
    net.quiet(2.0)
    net.expect(b"CLOSED\r\n", timeout=6)
    assert time.monotonic() - t >= 3.5
    assert faults(net)["frozen"] == 0
    ok(net, "AT+CIPSTATE?")
    with pytest.raises((ConnectionResetError, AssertionError)):
        c.recv_eof(timeout=2)  # RST (ConnectionResetError) or an EOF
    c.close()


def test_freeze_ssl_link(net):
    """The same over an SSL link: the fault layer sits under TLS, so the
    link's endpoints name the frozen TCP connection; the peer's record
    never arrives and the keep-alive (1 s) ends the link with CLOSED."""
    with TlsServer() as tls:
        start(net, tls.port, typ="SSL", extra=",1")
        c = tls.accept()
        c.send(b"before")
        assert ipd(net) == (None, b"before", None, None)
        assert net.ctl("fault", "freeze", "0")["sockets"] == 1
        c.send(b"after")
        net.quiet(2.0)
        net.expect(b"CLOSED\r\n", timeout=6)
        c.close()


def _mqtt_packet(conn):
    """One MQTT control packet off the peer socket: (type, body)."""
    head = conn.recv_exact(1)[0]
    n, shift = 0, 0
    while True:
        b = conn.recv_exact(1)[0]
        n |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            break
    return head >> 4, conn.recv_exact(n) if n else b""


def test_freeze_mqtt_keepalive(net, srv):
    """The MQTT connection frozen: the module's PINGREQ never reaches the
    broker (played here: CONNACK, then PINGRESP to every PINGREQ), no
    PINGRESP comes back, and one keep-alive period later the module
    reports +MQTTDISCONNECTED:0."""
    ok(net, 'AT+MQTTUSERCFG=0,1,"espat-fault","","",0,0,""')
    ok(net, 'AT+MQTTCONNCFG=0,1,0,"","",0,0')
    net.write(f'AT+MQTTCONN=0,"127.0.0.1",{srv.port},0\r\n')
    b = srv.accept()
    assert _mqtt_packet(b)[0] == 1  # CONNECT
    b.send(b"\x20\x02\x00\x00")  # CONNACK, accepted
    net.expect(b'+MQTTCONNECTED:0,1,"127.0.0.1","%d","",0\r\n' % srv.port + OK)
    assert _mqtt_packet(b) == (12, b"")  # a PINGREQ after 1 s
    b.send(b"\xd0\x00")
    assert net.ctl("fault", "freeze", "mqtt")["sockets"] == 1
    b.nothing(1.5)  # the next PINGREQ (due 1 s after the last) never comes
    net.expect(b"+MQTTDISCONNECTED:0\r\n", timeout=6)
    b.close()


# ---- every link dropping, the AP leaving -------------------------------------------------------

def test_drop_all(net, srv):
    """Every TCP connection (dialled or accepted) is reset at once: each
    link prints CLOSED, the peers see the reset, the server still listens."""
    ok(net, "AT+CIPMUX=1")
    start(net, srv.port, link=0)
    a = srv.accept()
    start(net, srv.port, link=3)
    b = srv.accept()
    port = free_port()
    ok(net, f"AT+CIPSERVER=1,{port}")
    inbound = Conn.connect(port)
    net.expect(b"1,CONNECT\r\n")
    assert net.ctl("fault", "drop")["sockets"] == 3
    got = net.read_until(lambda buf: len(buf) if buf.count(b"CLOSED") == 3 else None,
                         what="three CLOSED")
    assert sorted(got.split(b"\r\n")[:-1]) == [b"0,CLOSED", b"1,CLOSED", b"3,CLOSED"], esc(got)
    for peer in (a, b, inbound):
        with pytest.raises(ConnectionResetError):
            peer.recv_eof()
        peer.close()
    again = Conn.connect(port)  # the server still listens
    net.expect(b"0,CONNECT\r\n")
    again.close()
    net.expect(b"0,CLOSED\r\n")
    ok(net, "AT+CIPSERVER=0,1")


def test_ap_leaves(net, srv):
    """The AP leaving (`ap down`): WIFI DISCONNECT and the link's CLOSED at
    once (#62), AT+CIPSTART answers no ip; back up, the module reconnects
    by itself (AT+CWRECONNCFG's default) and links work again."""
    start(net, srv.port)
    c = srv.accept()
    net.ctl("ap", "down", "espat")
    net.expect(b"WIFI DISCONNECT\r\n")
    net.expect(b"CLOSED\r\n")
    assert net.cmd(f'AT+CIPSTART="TCP","127.0.0.1",{srv.port}') == b"no ip\r\n" + ERROR
    c.close()
    net.ctl("ap", "up", "espat")
    net.expect(b"WIFI CONNECTED\r\nWIFI GOT IP\r\n", timeout=10)
    start(net, srv.port)
    srv.accept().close()
    net.expect(b"CLOSED\r\n")
