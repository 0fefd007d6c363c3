"""TCP/IP over the real pty against real peers on the host's loopback
(guide 3.3): links in single and multiple connection mode, every +IPD
variant, sending (AT+CIPSEND/SENDEX/SENDL, binary, surplus bytes, +++),
UDP remote modes, passive receive and its flow control, the server,
passthrough both ways with the +++ guard times and AT+TRANSINTVL,
reconnects, passthrough from power-on (AT+SAVETRANSLINK), links dying with
the network, IPv6, DNS, socket options, and descriptors and memory over
many connections. Decisions pinned here: docs/COMPAT.md #53-#65, #93.

The module joins "espat" in tests/worlds/tcpip.ini (the default world's
way out with short timings). Framing decided in src/cmd/tcpip*.c: active
+IPD is `\\r\\n+IPD,...:<data>` with nothing after the data; the passive
notification is `+IPD,[<id>,]<len>\\r\\n`. Waits have deadlines: on output,
on a peer's socket, or polled (wait_for) on the control socket's state and
the kernel's socket tables. The only fixed pauses are where time itself is
the point, all through silence(): the +++ guards, an idle link under
AT+CIPSTO, a peer and a reader that are slow on purpose.
"""
import os
import re
import socket
import threading
import time

import pytest

from conftest import (DEADLINE, ERROR, GUARD, OK, READY, TCPIP_WORLD as WORLD,
                      buffered, esc, every_byte, guarded_plus, ipd, ipd_stream, joined,
                      links, ok, pattern, prompt, push_thread, read_n, read_thread, rss_kib, send, sha,
                      silence, start, wait_for, write_thread)
from peers import Conn, TcpServer, UdpPeer, free_port, refused_connects, tcp_timer


# ---- links ---------------------------------------------------------------------

def test_no_ip_before_joining(make_dut):
    dut = make_dut(world=WORLD)
    dut.cmd("ATE0")
    with TcpServer() as srv:
        assert dut.cmd(f'AT+CIPSTART="TCP","127.0.0.1",{srv.port}') == b"no ip\r\n" + ERROR
        srv.no_accept()


def test_single_link_send_receive_close(net):
    with TcpServer() as srv:
        start(net, srv.port)
        c = srv.accept()
        local = c.sock.getpeername()[1]
        ok(net, "AT+CIPSTATE?", b'+CIPSTATE:0,"TCP","127.0.0.1",%d,%d,0\r\n' % (srv.port, local))
        ok(net, "AT+CIPSTATUS", b'STATUS:3\r\n+CIPSTATUS:0,"TCP","127.0.0.1",%d,%d,0\r\n'
           % (srv.port, local))
        send(net, b"test")
        assert c.recv_exact(4) == b"test"
        c.send(b"hello")
        assert ipd(net) == (None, b"hello", None, None)
        assert net.cmd(f'AT+CIPSTART="TCP","127.0.0.1",{srv.port}') == \
            b"ALREADY CONNECTED\r\n" + ERROR
        ok(net, "AT+CIPCLOSE", b"CLOSED\r\n")
        assert c.recv_eof() == b""
        assert net.cmd("AT+CIPCLOSE") == ERROR
        ok(net, "AT+CIPSTATE?")
        ok(net, "AT+CIPSTATUS", b"STATUS:4\r\n")


def test_connect_to_closed_port(net):
    port = free_port()
    t = time.monotonic()
    assert net.cmd(f'AT+CIPSTART="TCP","127.0.0.1",{port}') == ERROR
    assert time.monotonic() - t < 2, "a refused connect fails at once"
    ok(net, "AT")
    ok(net, "AT+CIPSTATE?")
    ok(net, "AT+CIPMUX=1")
    assert net.cmd(f'AT+CIPSTART=2,"TCP","127.0.0.1",{port}') == ERROR
    with TcpServer() as srv:  # the link ID is free again
        start(net, srv.port, link=2)


def warnings(dut):
    """What the module warned on stderr, one entry per line, without the
    "espat: warn: " prefix."""
    p = "espat: warn: "
    return [line[len(p):] for line in dut.stderr().splitlines() if line.startswith(p)]


def test_failures_say_why_on_stderr(net):
    """The AT port says only ERROR, as the module does; stderr says why in
    one line at the default log level, once while the same failure repeats
    (COMPAT #94)."""
    port = free_port()
    assert net.cmd(f'AT+CIPSTART="TCP","127.0.0.1",{port}') == ERROR
    refused = (f"net: connect to 127.0.0.1:{port} failed: Connection refused "
               "(nothing listens on that port)")
    assert warnings(net) == [refused]
    assert net.cmd(f'AT+CIPSTART="TCP","127.0.0.1",{port}') == ERROR
    assert warnings(net) == [refused]  # the same failure again: said once
    assert net.cmd('AT+CIPSTART="TCP","no-such-host.invalid",80', timeout=15) == ERROR
    said = warnings(net)
    assert len(said) == 2 and said[0] == refused, said
    # NXDOMAIN from the host's resolver, or no resolver answering at all
    assert re.fullmatch(r"net: DNS: (no IPv4 address for|cannot resolve) 'no-such-host\.invalid' "
                        r"\(asked the host's resolver: .+\)", said[1]), said[1]


def test_five_links_and_a_sixth_refused(net):
    ok(net, "AT+CIPMUX=1")
    with TcpServer() as srv:
        conns = []
        for i in range(5):
            start(net, srv.port, link=i)
            conns.append(srv.accept())
        assert net.cmd(f'AT+CIPSTART=0,"TCP","127.0.0.1",{srv.port}') == \
            b"ALREADY CONNECTED\r\n" + ERROR
        assert net.cmd(f'AT+CIPSTARTEX="TCP","127.0.0.1",{srv.port}') == ERROR
        assert net.cmd(f'AT+CIPSTART=5,"TCP","127.0.0.1",{srv.port}') == ERROR
        srv.no_accept()
        state = net.cmd("AT+CIPSTATE?")
        assert [int(x) for x in re.findall(rb"\+CIPSTATE:(\d),", state)] == [0, 1, 2, 3, 4]
        links = net.ctl("state")["state"]["links"]
        assert [(l["id"], l["state"], l["remote_port"]) for l in links] == \
            [(i, "up", srv.port) for i in range(5)]
        # each link carries its own data both ways
        for i, c in enumerate(conns):
            send(net, b"to %d" % i, link=i)
        for i, c in enumerate(conns):
            assert c.recv_exact(4) == b"to %d" % i
        for i in (3, 0, 4, 1, 2):
            conns[i].send(b"from %d" % i)
            assert ipd(net) == (i, b"from %d" % i, None, None)
        ok(net, "AT+CIPCLOSE=2", b"2,CLOSED\r\n")
        assert conns[2].recv_eof() == b""
        ok(net, "AT+CIPCLOSE=5", b"0,CLOSED\r\n1,CLOSED\r\n3,CLOSED\r\n4,CLOSED\r\n")
        for i in (0, 1, 3, 4):
            assert conns[i].recv_eof() == b""
        ok(net, "AT+CIPSTATE?")


def test_cipstartex_assigns_the_lowest_free_id(net):
    with TcpServer() as srv:
        ok(net, f'AT+CIPSTARTEX="TCP","127.0.0.1",{srv.port}', b"CONNECT\r\n")  # single
        srv.accept()
        ok(net, "AT+CIPCLOSE", b"CLOSED\r\n")
        ok(net, "AT+CIPMUX=1")
        conns = []  # kept open: a dropped Conn would close its link
        for i in range(3):
            ok(net, f'AT+CIPSTARTEX="TCP","127.0.0.1",{srv.port}', b"%d,CONNECT\r\n" % i)
            conns.append(srv.accept())
        ok(net, "AT+CIPCLOSE=1", b"1,CLOSED\r\n")
        ok(net, f'AT+CIPSTARTEX="TCP","127.0.0.1",{srv.port}', b"1,CONNECT\r\n")
        conns.append(srv.accept())
        u = UdpPeer()
        ok(net, f'AT+CIPSTARTEX="UDP","127.0.0.1",{u.port}', b"3,CONNECT\r\n")
        send(net, b"udp", link=3)
        assert u.recv()[0] == b"udp"


@pytest.mark.parametrize("mux", [0, 1])
def test_peer_closes(net, mux):
    ok(net, f"AT+CIPMUX={mux}")
    link = 0 if mux else None
    closed = b"0,CLOSED\r\n" if mux else b"CLOSED\r\n"
    with TcpServer() as srv:
        start(net, srv.port, link=link)
        c = srv.accept()
        c.send(b"last words")
        c.close()
        assert ipd(net) == (link, b"last words", None, None)
        net.expect(closed)
        ok(net, "AT+CIPSTATE?")
        # RST instead of FIN
        start(net, srv.port, link=link)
        srv.accept().reset()
        net.expect(closed)
        # the network resets the link (control interface)
        start(net, srv.port, link=link)
        c = srv.accept()
        net.ctl("link", "reset", "0")
        net.expect(closed)
        with pytest.raises(ConnectionResetError):
            c.recv_eof()
        assert net.ctl("link", "reset", "0", expect_ok=False)["ok"] is False
        ok(net, "AT")


# ---- sending -------------------------------------------------------------------

def test_binary_every_byte_value_both_ways(net):
    with TcpServer() as srv:
        start(net, srv.port)
        c = srv.accept()
        up = every_byte(8)  # 2048 bytes, CR and LF among them
        send(net, up)
        assert sha(c.recv_exact(len(up))) == sha(up)
        fake = b"\r\n\r\nOK\r\n+++\r\n"  # looks like output, is data
        send(net, fake)
        assert c.recv_exact(len(fake)) == fake
        down = every_byte(40)[::-1]  # 10240 bytes: several +IPD
        c.send(down)
        assert sha(ipd_stream(net, len(down))) == sha(down)
        ok(net, "AT")


def test_ipd_to_a_slow_host_loses_nothing(net):
    total = 4 * 1024 * 1024
    data = pattern(total, seed=9)
    with TcpServer() as srv:
        start(net, srv.port)
        c = srv.accept()
        progress = [0]

        def push():
            for i in range(0, total, 65536):
                c.send(data[i:i + 65536])
                progress[0] = i + 65536
        sender = threading.Thread(target=push, daemon=True)
        sender.start()
        # the host does not read: the module stops reading the peer
        wait_for(c.held_back, "the module to stop reading the peer")
        assert progress[0] < total, "nothing held the peer back"
        assert rss_kib(net) < 64 * 1024, f"espat holds {rss_kib(net)} KiB"
        assert sha(ipd_stream(net, total, timeout=10)) == sha(data)
        sender.join(5)


def test_cipsend_length_limits(net):
    with TcpServer() as srv:
        start(net, srv.port)
        c = srv.accept()
        assert net.cmd("AT+CIPSEND=0") == ERROR
        assert net.cmd("AT+CIPSEND=8193") == ERROR
        assert net.cmd("AT+CIPSEND=99999999999") == ERROR
        big = pattern(8192)
        send(net, big)
        assert c.recv_exact(8192) == big


def test_cipsendex_escapes(net):
    with TcpServer() as srv:
        start(net, srv.port)
        c = srv.accept()
        # \0 ends the data; \\0 is a backslash and a 0; \x is x
        prompt(net, "AT+CIPSENDEX=20")
        net.write(b"ab\\\\0c\\de\\0")
        net.expect(b"\r\nRecv 7 bytes\r\n\r\nSEND OK\r\n")
        assert c.recv_exact(7) == b"ab\\0cde"
        # the length reached without a terminator
        prompt(net, "AT+CIPSENDEX=3")
        net.write(b"xyz")
        net.expect(b"\r\nRecv 3 bytes\r\n\r\nSEND OK\r\n")
        assert c.recv_exact(3) == b"xyz"
        c.nothing()
        ok(net, "AT")


def surplus(net):
    """AT+CIPSEND=4 with 8 bytes in one write; returns the output."""
    with TcpServer() as srv:
        start(net, srv.port)
        c = srv.accept()
        prompt(net, "AT+CIPSEND=4")
        net.write(b"testAT\r\n")  # one write: the surplus arrives while sending
        out = net.read_until(lambda b: len(b) if b"SEND OK\r\n" in b and b"busy" in b else None)
        assert c.recv_exact(4) == b"test"
        c.nothing()
        ok(net, "AT")
        return out


def test_surplus_bytes_after_data_are_busy(net):
    out = surplus(net)
    assert out == b"\r\nRecv 4 bytes\r\nbusy p...\r\n\r\nSEND OK\r\n", esc(out)


def test_surplus_busy_comes_before_send_ok(net):
    """The guide's 4.2.1 note: busy p..., the first n bytes sent, SEND OK
    (COMPAT #56)."""
    out = surplus(net)
    assert out.index(b"busy p...") < out.index(b"SEND OK"), esc(out)


def test_plus_cancels_cipsend(net):
    with TcpServer() as srv:
        start(net, srv.port)
        c = srv.accept()
        prompt(net, "AT+CIPSEND=10")
        net.write(b"abc")
        guarded_plus(net)
        net.expect(b"\r\nSEND Canceled\r\n")
        c.nothing()
        ok(net, "AT")
        # +++ that is part of the data does not cancel
        prompt(net, "AT+CIPSEND=5")
        net.write(b"a+++b")
        net.expect(b"\r\nRecv 5 bytes\r\n\r\nSEND OK\r\n")
        assert c.recv_exact(5) == b"a+++b"


def test_cipsendl_megabytes_to_a_slow_peer(net):
    total = 3 * 1024 * 1024 + 123  # not a multiple of the report size
    data = pattern(total, seed=7)
    with TcpServer(rcvbuf=8192) as srv:
        start(net, srv.port)
        c = srv.accept()
        ok(net, "AT+CIPSENDLCFG?", b"+CIPSENDLCFG:1024,2920\r\n")
        reader = read_thread(c, total, late=True, piece=32768, pause=0.001)
        prompt(net, f"AT+CIPSENDL={total}")
        writer = write_thread(net, data)
        reports = []
        rx = re.compile(rb"\+CIPSEND:(\d+),(\d+)\r\n|\r\nSEND OK\r\n")
        while True:
            m = net.expect_re(rx, timeout=20)
            if m.group(1) is None:
                break
            reports.append((int(m.group(1)), int(m.group(2))))
        joined(writer)
        joined(reader)
        assert sha(reader.data) == sha(data), "the peer got other bytes"
        sent = [s for s, _ in reports]
        assert sent == sorted(sent) and len(set(sent)) == len(sent)
        assert all(s % 1024 == 0 for s in sent[:-1])
        assert reports[-1] == (total, total)
        assert all(r >= s for s, r in reports)
        assert len(reports) >= total // 1024
        ok(net, "AT")


def test_cipsendl_cancel(net):
    with TcpServer() as srv:
        start(net, srv.port)
        c = srv.accept()
        prompt(net, "AT+CIPSENDL=100000")
        net.write(b"x" * 3000)
        assert c.recv_exact(2920) == b"x" * 2920  # whole packets go at once
        guarded_plus(net)
        out = net.read_until(lambda b: len(b) if b.endswith(b"\r\nSEND CANCELLED\r\n") else None)
        assert re.fullmatch(rb"(\+CIPSEND:\d+,\d+\r\n)*\r\nSEND CANCELLED\r\n", out), esc(out)
        ok(net, "AT")


# ---- +IPD --------------------------------------------------------------------------

@pytest.mark.parametrize("mux,dinfo", [(0, 0), (0, 1), (1, 0), (1, 1)])
def test_ipd_variants(net, mux, dinfo):
    ok(net, f"AT+CIPMUX={mux}")
    ok(net, f"AT+CIPDINFO={dinfo}")
    ok(net, "AT+CIPDINFO?", b"+CIPDINFO:%s\r\n" % (b"true" if dinfo else b"false"))
    link = 1 if mux else None
    with TcpServer() as srv:
        start(net, srv.port, link=link)
        c = srv.accept()
        c.send(b"a:b\r\nc")
        port = c.sock.getsockname()[1]
        want_hdr = b"\r\n+IPD," + (b"1," if mux else b"") + b"6"
        if dinfo:
            want_hdr += b',"127.0.0.1",%d' % port
        net.expect(want_hdr + b":a:b\r\nc")
        # UDP: the sender's address
        u = UdpPeer()
        ok(net, f'AT+CIPCLOSE{"=1" if mux else ""}', b"1,CLOSED\r\n" if mux else b"CLOSED\r\n")
        lport = free_port()
        start(net, u.port, link=link, typ="UDP", extra=f",{lport},0")
        other = UdpPeer()
        other.sendto(b"dgram", lport)
        hdr = b"\r\n+IPD," + (b"1," if mux else b"") + b"5"
        if dinfo:
            hdr += b',"127.0.0.1",%d' % other.port
        net.expect(hdr + b":dgram")


# ---- UDP -----------------------------------------------------------------------------

@pytest.mark.parametrize("mode", [0, 1, 2])
def test_udp_remote_modes(net, mode):
    a, b = UdpPeer(), UdpPeer()
    lport = free_port()
    ok(net, "AT+CIPMUX=1")
    start(net, a.port, link=4, typ="UDP", extra=f",{lport},{mode}")
    send(net, b"first", link=4)
    data, frm = a.recv()
    assert (data, frm) == (b"first", ("127.0.0.1", lport))
    b.sendto(b"from b", lport)
    assert ipd(net) == (4, b"from b", None, None)
    send(net, b"second", link=4)
    assert (a if mode == 0 else b).recv()[0] == b"second"
    a.sendto(b"from a", lport)
    assert ipd(net) == (4, b"from a", None, None)
    send(net, b"third", link=4)
    # 0: fixed to a; 1: moved once (to b) and stays; 2: follows each sender (a)
    want = {0: a, 1: b, 2: a}[mode]
    assert want.recv()[0] == b"third"
    (b if want is a else a).nothing()
    state = net.cmd("AT+CIPSTATE?")
    assert state == b'+CIPSTATE:4,"UDP","127.0.0.1",%d,%d,0\r\n' % (want.port, lport) + OK


def test_udp_modes_check_arguments(net):
    u = UdpPeer()
    assert net.cmd(f'AT+CIPSTART="UDP","127.0.0.1",{u.port},,2') == ERROR  # mode needs a port
    assert net.cmd(f'AT+CIPSTART="UDP","127.0.0.1",{u.port},{free_port()},3') == ERROR
    start(net, u.port, typ="UDP")  # local port chosen by the system
    m = re.fullmatch(rb'\+CIPSTATE:0,"UDP","127.0.0.1",%d,(\d+),0\r\n' % u.port + OK,
                     net.cmd("AT+CIPSTATE?"))
    assert m and int(m.group(1)) > 0
    send(net, b"x")
    assert u.recv() == (b"x", ("127.0.0.1", int(m.group(1))))


def test_udp_lwesp_form_without_local_port(net):
    """lwesp's UDP connect, `...,<port>,,0` (COMPAT #93): mode 0 with an
    empty local port is no local port; another mode still needs one."""
    u = UdpPeer()
    ok(net, "AT+SYSLOG=1")
    assert net.cmd(f'AT+CIPSTARTEX="UDP","127.0.0.1",{u.port},,1') == \
        b"ERR CODE:0x01070004\r\n" + ERROR
    start(net, u.port, typ="UDP", extra=",,0")
    m = re.fullmatch(rb'\+CIPSTATE:0,"UDP","127.0.0.1",%d,(\d+),0\r\n' % u.port + OK,
                     net.cmd("AT+CIPSTATE?"))
    assert m and int(m.group(1)) > 0
    send(net, b"lwesp")
    assert u.recv() == (b"lwesp", ("127.0.0.1", int(m.group(1))))
    u.sendto(b"back", int(m.group(1)))
    assert ipd(net) == (None, b"back", None, None)
    ok(net, "AT+CIPCLOSE", b"CLOSED\r\n")
    # multiple connections: AT+CIPSTARTEX picks the ID, AT+CIPSTART names it
    ok(net, "AT+CIPMUX=1")
    ok(net, f'AT+CIPSTARTEX="UDP","127.0.0.1",{u.port},,0', b"0,CONNECT\r\n")
    start(net, u.port, link=3, typ="UDP", extra=",,0")
    assert net.cmd(f'AT+CIPSTART=4,"UDP","127.0.0.1",{u.port},,2') == \
        b"ERR CODE:0x01070005\r\n" + ERROR
    send(net, b"three", link=3)
    assert u.recv()[0] == b"three"
    ok(net, "AT+CIPCLOSE=5", b"0,CLOSED\r\n3,CLOSED\r\n")


def test_udp_per_send_remote(net):
    a, b = UdpPeer(), UdpPeer()
    lport = free_port()
    start(net, a.port, typ="UDP", extra=f",{lport},2")
    send(net, b"test")
    assert a.recv()[0] == b"test"
    send(net, b"test", to=("127.0.0.1", b.port))  # guide 4.2.4
    assert b.recv() == (b"test", ("127.0.0.1", lport))
    a.nothing()
    send(net, b"again")  # the per-send remote was for that send only
    assert a.recv()[0] == b"again"
    with TcpServer() as srv:  # TCP has no per-send remote
        ok(net, "AT+CIPCLOSE", b"CLOSED\r\n")
        start(net, srv.port)
        assert net.cmd(f'AT+CIPSEND=4,"127.0.0.1",{b.port}') == ERROR


# ---- passive receive -------------------------------------------------------------------

def test_passive_receive(net):
    with TcpServer() as srv:
        start(net, srv.port)
        c = srv.accept()
        ok(net, "AT+CIPRECVTYPE=1")
        ok(net, "AT+CIPRECVTYPE?", b"+CIPRECVTYPE:1\r\n")
        c.send(b"test")
        net.expect(b"+IPD,4\r\n")
        c.send(b"more")  # no second notification until read
        net.quiet(0.1)
        ok(net, "AT+CIPRECVLEN?", b"+CIPRECVLEN:8\r\n")
        ok(net, "AT+CIPRECVDATA=3", b"+CIPRECVDATA:3,tes\r\n")
        ok(net, "AT+CIPDINFO=1")
        port = c.sock.getsockname()[1]
        ok(net, "AT+CIPRECVDATA=100", b'+CIPRECVDATA:5,"127.0.0.1",%d,tmore\r\n' % port)
        assert net.cmd("AT+CIPRECVDATA=1") == ERROR  # nothing buffered
        ok(net, "AT+CIPRECVLEN?", b"+CIPRECVLEN:0\r\n")
        c.send(b"\r\nOK\r\n")  # binary-safe: the length frames it
        net.expect(b"+IPD,6\r\n")
        net.write(b"AT+CIPRECVDATA=6\r\n")  # (cmd() would stop at the data's OK)
        net.expect(b'+CIPRECVDATA:6,"127.0.0.1",%d,\r\nOK\r\n\r\n' % port + OK)
        ok(net, "AT+CIPRECVTYPE=0")
        c.send(b"active")
        assert ipd(net) == (None, b"active", "127.0.0.1", port)
        assert net.cmd("AT+CIPRECVDATA=1") == ERROR  # not passive


def test_passive_multi_links_and_legacy_recvmode(net):
    ok(net, "AT+CIPMUX=1")
    ok(net, "AT+CIPRECVTYPE=1,1")
    ok(net, "AT+CIPRECVTYPE?", b"".join(b"+CIPRECVTYPE:%d,%d\r\n" % (i, i == 1)
                                        for i in range(5)))
    with TcpServer() as srv:
        start(net, srv.port, link=0)
        c0 = srv.accept()
        start(net, srv.port, link=1)
        c1 = srv.accept()
        c1.send(b"passive")
        net.expect(b"+IPD,1,7\r\n")
        c0.send(b"active")
        assert ipd(net) == (0, b"active", None, None)
        ok(net, "AT+CIPRECVLEN?", b"+CIPRECVLEN:0,7,,,\r\n")
        ok(net, "AT+CIPRECVDATA=1,7", b"+CIPRECVDATA:7,passive\r\n")
        assert net.cmd("AT+CIPRECVDATA=0,7") == ERROR
        # the legacy command sets every link
        ok(net, "AT+CIPRECVMODE=1")
        ok(net, "AT+CIPRECVMODE?", b"+CIPRECVMODE:1\r\n")
        c0.send(b"now passive")
        net.expect(b"+IPD,0,11\r\n")
        ok(net, "AT+CIPRECVDATA=0,100", b"+CIPRECVDATA:11,now passive\r\n")
        ok(net, "AT+CIPRECVMODE=0")
        c1.send(b"x")
        assert ipd(net) == (1, b"x", None, None)
        # with held data, turning active delivers it as +IPD
        ok(net, "AT+CIPRECVTYPE=0,1")
        c0.send(b"held")
        net.expect(b"+IPD,0,4\r\n")
        ok(net, "AT+CIPRECVTYPE=0,0", b"\r\n+IPD,0,4:held")


def test_passive_window_blocks_the_peer_and_loses_nothing(net):
    total = 2 * 1024 * 1024
    data = pattern(total, seed=3)
    ok(net, "AT+CIPMUX=1")
    ok(net, "AT+CIPRECVTYPE=5,1")
    with TcpServer() as srv:
        start(net, srv.port, link=2)
        c = srv.accept()
        c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 16384)
        sender, progress = push_thread(c.sock, data)
        net.expect_re(rb"\+IPD,2,\d+\r\n")
        # the window is full and the peer blocks: nothing more moves
        wait_for(lambda: buffered(net, 2) >= 5760 and c.held_back(),
                 "a full window on link 2 and the peer held back")
        assert progress[0] < total / 2, "the peer was not held back"
        m = re.fullmatch(rb"\+CIPRECVLEN:,,(\d+),,\r\n" + OK, net.cmd("AT+CIPRECVLEN?"))
        assert m, "AT+CIPRECVLEN? format"
        assert 5760 <= int(m.group(1)) <= 5760 + 65536
        got = bytearray()
        rx = re.compile(rb"(?:\+IPD,2,\d+\r\n)*(?:\+CIPRECVDATA:(\d+),|\r\nERROR\r\n)")
        while len(got) < total:
            net.write(b"AT+CIPRECVDATA=2,8192\r\n")
            m = net.expect_re(rx)
            if m.group(1) is None:  # read it all: the next notice says more came
                net.expect_re(rb"\+IPD,2,\d+\r\n")
                continue
            n = int(m.group(1))
            assert 0 < n <= 8192
            got += read_n(net, n)
            net.expect(b"\r\n" + OK)
        sender.join(5)
        assert not sender.is_alive()
        assert sha(got) == sha(data)


def test_passive_closed_withheld_until_read(net):
    ok(net, "AT+CIPMUX=1")
    ok(net, "AT+CIPRECVTYPE=3,1")
    with TcpServer() as srv:
        start(net, srv.port, link=3)
        c = srv.accept()
        c.send(b"goodbye")
        c.close()
        net.expect(b"+IPD,3,7\r\n")
        net.quiet(0.2)  # no 3,CLOSED while data waits
        ok(net, "AT+CIPRECVLEN?", b"+CIPRECVLEN:,,,7,\r\n")
        ok(net, "AT+CIPRECVDATA=3,4", b"+CIPRECVDATA:4,good\r\n")
        net.quiet(0.1)
        ok(net, "AT+CIPRECVDATA=3,4", b"+CIPRECVDATA:3,bye\r\n")
        net.expect(b"3,CLOSED\r\n")
        ok(net, "AT+CIPRECVLEN?", b"+CIPRECVLEN:,,,,\r\n")
        # AT+CIPCLOSE drops what is buffered
        start(net, srv.port, link=3)
        c = srv.accept()
        c.send(b"unread")
        c.close()
        net.expect(b"+IPD,3,6\r\n")
        ok(net, "AT+CIPCLOSE=3", b"3,CLOSED\r\n")


# ---- server ------------------------------------------------------------------------------

def test_server_connection_limit(net):
    port = free_port()
    assert net.cmd(f"AT+CIPSERVER=1,{port}") == ERROR  # needs multiple connections
    ok(net, "AT+CIPMUX=1")
    ok(net, "AT+CIPSERVERMAXCONN=2")
    ok(net, "AT+CIPSERVERMAXCONN?", b"+CIPSERVERMAXCONN:2\r\n")
    ok(net, f"AT+CIPSERVER=1,{port}")
    ok(net, "AT+CIPSERVER?", b'+CIPSERVER:1,%d,"TCP",0\r\n' % port)
    assert net.cmd(f"AT+CIPSERVER=1,{free_port()}") == ERROR  # one server
    assert net.cmd("AT+CIPSERVERMAXCONN=3") == ERROR  # set before creating the server
    assert net.cmd("AT+CIPMUX=0") == ERROR
    a = Conn.connect(port)
    net.expect(b"0,CONNECT\r\n")
    b = Conn.connect(port)
    net.expect(b"1,CONNECT\r\n")
    try:
        c = Conn.connect(port)
    except ConnectionResetError:
        c = None  # the reset came before connect() returned
    net.expect(b"Have 2 Connections\r\n")
    if c:
        with pytest.raises(ConnectionResetError):
            c.recv_eof()  # refused with a reset
    state = net.cmd("AT+CIPSTATE?")
    assert re.fullmatch(rb'(\+CIPSTATE:\d,"TCP","127.0.0.1",\d+,%d,1\r\n){2}' % port + OK, state)
    b.send(b"hi")
    assert ipd(net) == (1, b"hi", None, None)
    send(net, b"yo", link=0)
    assert a.recv_exact(2) == b"yo"
    a.close()
    net.expect(b"0,CLOSED\r\n")
    d = Conn.connect(port)
    net.expect(b"0,CONNECT\r\n")
    ok(net, "AT+CIPSERVER=0")  # clients stay
    with pytest.raises(OSError):
        Conn.connect(port, timeout=1)
    d.send(b"still")
    assert ipd(net) == (0, b"still", None, None)
    ok(net, f"AT+CIPSERVER=1,{port}")
    ok(net, "AT+CIPSERVER=0,1", b"0,CLOSED\r\n1,CLOSED\r\n")  # clients closed too
    assert d.recv_eof() == b""
    assert b.recv_eof() == b""


def test_server_idle_timeout(net):
    port = free_port()
    ok(net, "AT+CIPMUX=1")
    ok(net, "AT+CIPSTO?", b"+CIPSTO:180\r\n")
    ok(net, "AT+CIPSTO=1")
    ok(net, f"AT+CIPSERVER=1,{port}")
    t0 = time.monotonic()
    c = Conn.connect(port)
    net.expect(b"0,CONNECT\r\n")
    silence(0.5)  # idle, for half of AT+CIPSTO: the time is the point
    c.send(b"ping")  # traffic restarts the timer
    assert ipd(net)[1] == b"ping"
    t1 = time.monotonic()
    net.expect(b"0,CLOSED\r\n", timeout=3)
    idle = time.monotonic() - t1
    assert 0.8 <= idle <= 2.0, idle
    assert time.monotonic() - t0 >= 1.3
    assert c.recv_eof() == b""
    # client links the module opened are not timed out
    with TcpServer() as srv:
        start(net, srv.port, link=1)
        net.quiet(1.3)


# ---- passthrough ---------------------------------------------------------------------------

def enter_passthrough(dut, port):
    start(dut, port)
    ok(dut, "AT+CIPMODE=1")
    prompt(dut, "AT+CIPSEND")


def test_passthrough_both_ways(net):
    with TcpServer() as srv:
        start(net, srv.port)
        c = srv.accept()
        ok(net, "AT+CIPMODE=1")
        ok(net, "AT+CIPMODE?", b"+CIPMODE:1\r\n")
        assert net.cmd("AT+CIPSEND=4") == ERROR  # passthrough receiving mode
        c.send(b"raw before")  # receiving mode: raw, no +IPD
        assert read_n(net, 10) == b"raw before"
        prompt(net, "AT+CIPSEND")
        up = every_byte(64) + b"+++" + every_byte(64)  # 32 KiB; a +++ inside data is data
        net.write(up)
        assert sha(c.recv_exact(len(up))) == sha(up)
        down = every_byte(300)
        c.send(down)
        assert sha(read_n(net, len(down))) == sha(down)
        guarded_plus(net)
        net.quiet(0.05)
        ok(net, "AT")


def test_passthrough_large_both_directions(net):
    total = 4 * 1024 * 1024
    up, down = pattern(total, seed=11), pattern(total, seed=12)
    with TcpServer() as srv:
        enter_passthrough(net, srv.port)
        c = srv.accept()
        # both readers start late: each side's buffers fill and the module
        # must hold back the other side rather than lose or hoard bytes
        reader = read_thread(c, total, late=True)
        writer = write_thread(net, up)
        sender = threading.Thread(target=c.send, args=(down,), daemon=True)
        sender.start()
        wait_for(c.held_back, "the module to stop reading the peer")
        got = read_n(net, total, timeout=30)
        joined(writer)
        joined(reader)
        sender.join(5)
        assert sha(reader.data) == sha(up)
        assert sha(got) == sha(down)
        guarded_plus(net)
        ok(net, "AT")


def test_passthrough_plus_timing(net):
    with TcpServer() as srv:
        enter_passthrough(net, srv.port)
        c = srv.accept()
        # +++ right after other data (< 20 ms before it) is data
        net.write(b"x")
        net.write(b"+++")
        assert c.recv_exact(4) == b"x+++"  # (silence follows while the peer waits)
        # +++ followed by data within 20 ms is data
        silence(GUARD)
        net.write(b"+++")
        net.write(b"y")
        assert c.recv_exact(4) == b"+++y"
        # two + then a third later: not the escape
        silence(GUARD)
        net.write(b"++")
        silence(GUARD)
        net.write(b"+")
        silence(GUARD)
        net.write(b"z")
        assert c.recv_exact(4) == b"+++z"
        # guarded +++: leaves passthrough, silently (AT+SYSMSG bit0 clear)
        guarded_plus(net)
        net.quiet(0.05)
        c.nothing()
        ok(net, "AT")
        # the link stays; receiving mode delivers raw; AT+CIPSEND re-enters
        m = re.fullmatch(rb'\+CIPSTATE:0,"TCP","127.0.0.1",%d,\d+,0\r\n' % srv.port + OK,
                         net.cmd("AT+CIPSTATE?"))
        assert m
        c.send(b"back")
        assert read_n(net, 4) == b"back"
        prompt(net, "AT+CIPSEND")
        net.write(b"again")
        assert c.recv_exact(5) == b"again"
        guarded_plus(net)
        ok(net, "AT+SYSMSG=1")
        prompt(net, "AT+CIPSEND")
        guarded_plus(net)
        net.expect(b"+QUITT\r\n")
        ok(net, "AT+CIPMODE=0")
        c.send(b"normal")
        assert ipd(net) == (None, b"normal", None, None)


def test_passthrough_reconnects_to_the_peer(net):
    with TcpServer() as srv:
        port = srv.port
        ok(net, "AT+CIPRECONNINTV=3")
        ok(net, "AT+CIPRECONNINTV?", b"+CIPRECONNINTV:3\r\n")
        enter_passthrough(net, port)
        c = srv.accept()
        c.close()
        t0 = time.monotonic()
        c = srv.accept()
        dt = time.monotonic() - t0
        assert 0.25 <= dt <= 2, dt
        net.quiet(0.05)  # no CLOSED / CONNECT in passthrough
        net.write(b"after")
        assert c.recv_exact(5) == b"after"
        c.send(b"down")
        assert read_n(net, 4) == b"down"
        # the peer goes away for a while: bytes typed meanwhile wait
        c.close()
    refused = refused_connects()
    wait_for(lambda: all(l["state"] != "up" for l in links(net)) and refused_connects() > refused,
             "the link to drop and a reconnect to the closed port to be refused")
    net.write(b"queued")
    with TcpServer(port=port) as srv:
        c = srv.accept(timeout=3)
        assert c.recv_exact(6) == b"queued"
        guarded_plus(net)
        ok(net, "AT")
        c.close()
        net.expect(b"CLOSED\r\n")  # out of passthrough: no reconnect
        srv.no_accept(0.5)


def test_passthrough_udp(net):
    u = UdpPeer()
    lport = free_port()
    start(net, u.port, typ="UDP", extra=f",{lport},1")
    ok(net, "AT+CIPMODE=1")
    assert net.cmd("AT+CIPSEND") == ERROR  # UDP passthrough needs mode 0
    ok(net, "AT+CIPMODE=0")
    ok(net, "AT+CIPCLOSE", b"CLOSED\r\n")
    start(net, u.port, typ="UDP", extra=f",{lport},0")
    ok(net, "AT+CIPMODE=1")
    prompt(net, "AT+CIPSEND")
    net.write(b"test")
    assert u.recv() == (b"test", ("127.0.0.1", lport))
    u.sendto(b"dgram", lport)
    assert read_n(net, 5) == b"dgram"
    guarded_plus(net)
    ok(net, "AT")


def test_savetranslink_after_power_cut(net):
    with TcpServer() as srv:
        ok(net, f'AT+SAVETRANSLINK=1,"127.0.0.1",{srv.port},"TCP"')
        net.ctl("power-cut")
        net.expect(READY)
        c = srv.accept()
        net.quiet(0.1)  # Wi-Fi and CONNECT messages stay quiet in passthrough
        c.send(b"from peer\r\n")
        assert read_n(net, 11) == b"from peer\r\n"
        net.write(b"AT\r\n")  # data, not a command (the host has been silent since the boot)
        assert c.recv_exact(4) == b"AT\r\n"
        guarded_plus(net)
        assert net.cmd("ATE0") == b"ATE0\r\n" + OK  # a boot turns echo on
        ok(net, "AT+CIPMODE?", b"+CIPMODE:1\r\n")
        prompt(net, "AT+CIPSEND")
        net.write(b"again")
        assert c.recv_exact(5) == b"again"
        guarded_plus(net)
        # the peer goes away: the boot link reconnects only in passthrough
        ok(net, "AT+SAVETRANSLINK=0")
        net.ctl("power-cut")
        net.expect(READY + b"WIFI CONNECTED\r\nWIFI GOT IP\r\n")  # auto-connect, loud again
        srv.no_accept(0.3)
        assert net.cmd("ATE0") == b"ATE0\r\n" + OK
        ok(net, "AT+CIPMODE?", b"+CIPMODE:0\r\n")


# ---- addresses, status, DNS ----------------------------------------------------------------

def test_status_addresses_and_dns(make_dut):
    dut = make_dut(world=WORLD)
    dut.expect(b"")
    assert dut.cmd("ATE0") == b"ATE0\r\n" + OK
    ok(dut, "AT+CIPSTATUS", b"STATUS:1\r\n")
    assert dut.cmd('AT+CIPDOMAIN="localhost"') == ERROR  # no network yet
    ok(dut, "AT+CWMODE=1")
    ok(dut, 'AT+CWJAP="espat","espatpass"', b"WIFI CONNECTED\r\nWIFI GOT IP\r\n")
    ok(dut, "AT+CIPSTATUS", b"STATUS:2\r\n")
    m = re.fullmatch(rb'\+CIFSR:STAIP,"192\.168\.3\.112"\r\n'
                     rb'\+CIFSR:STAMAC,"([0-9a-f]{2}(?::[0-9a-f]{2}){5})"\r\n' + OK,
                     dut.cmd("AT+CIFSR"))
    assert m
    ok(dut, 'AT+CIPDOMAIN="localhost"', b'+CIPDOMAIN:"127.0.0.1"\r\n')
    ok(dut, 'AT+CIPDOMAIN="localhost",2', b'+CIPDOMAIN:"127.0.0.1"\r\n')
    assert dut.cmd('AT+CIPDOMAIN="no-such-host.invalid"', timeout=15) == ERROR
    with TcpServer() as srv:
        ok(dut, f'AT+CIPSTART="TCP","localhost",{srv.port}', b"CONNECT\r\n")
        c = srv.accept()
        assert re.fullmatch(rb'\+CIPSTATE:0,"TCP","127.0.0.1",%d,\d+,0\r\n' % srv.port + OK,
                            dut.cmd("AT+CIPSTATE?"))
        ok(dut, "AT+CWMODE=3")
        c.nothing()
    out = dut.cmd("AT+CIFSR")
    assert out.startswith(b'+CIFSR:APIP,"192.168.4.1"\r\n+CIFSR:APMAC,"'), esc(out)


def fds(dut):
    return len(os.listdir(f"/proc/{dut.proc.pid}/fd"))


def test_connect_close_cycles_keep_descriptors(net):
    with TcpServer() as srv:
        def cycle():
            start(net, srv.port)
            c = srv.accept()
            ok(net, "AT+CIPCLOSE", b"CLOSED\r\n")
            c.close()
        for _ in range(10):
            cycle()
        base, mem = fds(net), rss_kib(net)
        t0 = time.monotonic()
        for _ in range(1000):
            cycle()
        took = time.monotonic() - t0
        assert took < 30, f"1,000 cycles took {took:.1f}s"
        wait_for(lambda: fds(net) <= base, lambda: f"descriptors back to {base} (now {fds(net)})")
        assert fds(net) == base, f"descriptors grew from {base} to {fds(net)}"
        assert rss_kib(net) - mem < 512, f"memory grew from {mem} to {rss_kib(net)} KiB"


# ---- AT+CIPTCPOPT -------------------------------------------------------------------------

def test_tcpopt_linger_and_persistence(net):
    ok(net, "AT+CIPTCPOPT?", b"+CIPTCPOPT:0,-1,0,0,0\r\n")
    ok(net, "AT+CIPTCPOPT=0,1,2000,30")  # linger on, 0 s: close resets
    ok(net, "AT+CIPTCPOPT?", b"+CIPTCPOPT:0,0,1,2000,30\r\n")
    with TcpServer() as srv:
        start(net, srv.port)
        c = srv.accept()
        s = c.sock
        send(net, b"data")
        assert c.recv_exact(4) == b"data"
        ok(net, "AT+CIPCLOSE", b"CLOSED\r\n")
        with pytest.raises(ConnectionResetError):
            s.settimeout(DEADLINE)
            s.recv(10)
        assert net.cmd("AT+CIPTCPOPT=0,2") == ERROR
        assert net.cmd("AT+CIPTCPOPT=61") == ERROR
        # saved under AT+SYSSTORE=1 (the default) ...
        net.ctl("power-cut")
        net.expect(READY + b"WIFI CONNECTED\r\nWIFI GOT IP\r\n")  # auto-connect
        net.cmd("ATE0")
        ok(net, "AT+CIPTCPOPT?", b"+CIPTCPOPT:0,0,1,2000,30\r\n")
        # ... not under AT+SYSSTORE=0
        ok(net, "AT+SYSSTORE=0")
        ok(net, "AT+CIPTCPOPT=-1,0,0,0")
        ok(net, "AT+CIPTCPOPT?", b"+CIPTCPOPT:0,-1,0,0,0\r\n")
        net.ctl("power-cut")
        net.expect(READY + b"WIFI CONNECTED\r\nWIFI GOT IP\r\n")  # auto-connect
        net.cmd("ATE0")
        ok(net, "AT+CIPTCPOPT?", b"+CIPTCPOPT:0,0,1,2000,30\r\n")
        ok(net, "AT+CIPMUX=1")
        ok(net, "AT+CIPTCPOPT=5,-1,1,0,0")
        out = net.cmd("AT+CIPTCPOPT?")
        assert out == b"".join(b"+CIPTCPOPT:%d,-1,1,0,0\r\n" % i for i in range(5)) + OK


def keepalive_timer(local_port, remote_port):
    """Whether the kernel runs a keep-alive timer on the established
    socket 127.0.0.1:local_port -> remote_port (/proc/net/tcp's tr 2)."""
    return tcp_timer(local_port, remote_port) == 2


def test_keepalive_reaches_the_socket(net):
    ok(net, "AT+CIPMUX=1")
    with TcpServer() as srv:
        start(net, srv.port, link=0)
        c0 = srv.accept()
        start(net, srv.port, link=1, extra=",60")  # <keep_alive> of AT+CIPSTART
        c1 = srv.accept()
        ok(net, "AT+CIPTCPOPT=2,,,,30")  # AT+CIPTCPOPT's, before the link opens
        start(net, srv.port, link=2)
        c2 = srv.accept()
        port = srv.port
        assert not keepalive_timer(c0.sock.getpeername()[1], port)
        assert keepalive_timer(c1.sock.getpeername()[1], port)
        assert keepalive_timer(c2.sock.getpeername()[1], port)
        ok(net, "AT+CIPTCPOPT=0,,,,7200")  # applied to a live link too
        assert keepalive_timer(c0.sock.getpeername()[1], port)


def test_sndtimeo_bounds_a_blocked_send(net):
    ok(net, "AT+CIPTCPOPT=-1,0,200")
    with TcpServer(rcvbuf=4096) as srv:
        start(net, srv.port)
        c = srv.accept()  # never reads: the module's socket buffer fills
        block = pattern(8192)
        for _ in range(4000):
            prompt(net, "AT+CIPSEND=8192")
            net.write(block)
            t0 = time.monotonic()
            m = net.expect_re(rb"\r\nRecv 8192 bytes\r\n\r\n(SEND OK|SEND FAIL)\r\n", timeout=3)
            if m.group(1) == b"SEND FAIL":
                break
        else:
            raise AssertionError("the socket never filled")
        took = time.monotonic() - t0
        assert 0.15 <= took <= 1.5, took
        ok(net, "AT")
        c.close()


def test_cipsendl_link_lost_midway(net):
    """Guide 3.3.10: when the link drops, data entry goes on until <length>
    bytes came (or +++); the send then fails."""
    with TcpServer() as srv:
        start(net, srv.port)
        c = srv.accept()
        prompt(net, "AT+CIPSENDL=20000")
        net.write(b"x" * 5000)
        assert c.recv_exact(2920) == b"x" * 2920
        c.reset()
        net.expect_re(rb"(\+CIPSEND:\d+,\d+\r\n)*CLOSED\r\n")
        net.write(b"y" * 14999)
        net.quiet(0.1)  # one byte still due
        net.write(b"y")
        net.expect(b"\r\nSEND FAIL\r\n")
        ok(net, "AT")


def test_passive_udp_keeps_datagrams_apart(net):
    u = UdpPeer()
    lport = free_port()
    start(net, u.port, typ="UDP", extra=f",{lport},0")
    ok(net, "AT+CIPRECVTYPE=1")
    u.sendto(b"first", lport)
    net.expect(b"+IPD,5\r\n")
    u.sendto(b"second!", lport)
    end = time.monotonic() + DEADLINE
    while net.cmd("AT+CIPRECVLEN?") != b"+CIPRECVLEN:12\r\n" + OK:
        assert time.monotonic() < end, "the second datagram was not buffered"
    # one datagram per read; what a short read leaves of it is lost
    ok(net, "AT+CIPRECVDATA=3", b"+CIPRECVDATA:3,fir\r\n")
    ok(net, "AT+CIPRECVLEN?", b"+CIPRECVLEN:7\r\n")
    ok(net, "AT+CIPRECVDATA=100", b"+CIPRECVDATA:7,second!\r\n")
    assert net.cmd("AT+CIPRECVDATA=100") == ERROR


def test_passthrough_server_takes_the_next_client(net):
    """Guide 4.2.10 with the glossary: a server's passthrough link that is
    lost waits for the next client until +++."""
    port = free_port()
    ok(net, "AT+CIPMUX=1")
    assert net.cmd("AT+CIPMODE=1") == ERROR  # multiple connections, no 1-client server
    ok(net, "AT+CIPSERVERMAXCONN=1")
    ok(net, f"AT+CIPSERVER=1,{port}")
    a = Conn.connect(port)
    net.expect(b"0,CONNECT\r\n")
    ok(net, "AT+CIPMODE=1")
    prompt(net, "AT+CIPSEND")
    net.write(b"to a")
    assert a.recv_exact(4) == b"to a"
    a.send(b"from a")
    assert read_n(net, 6) == b"from a"
    a.close()
    b = Conn.connect(port)
    end = time.monotonic() + DEADLINE
    while True:  # b is accepted once a's link is gone
        net.write(b"ping")
        try:
            assert b.recv_exact(4, timeout=0.2) == b"ping"
            break
        except AssertionError:
            assert time.monotonic() < end, "the new client never got the passthrough"
    b.send(b"from b")
    assert read_n(net, 6) == b"from b"
    net.quiet(0.05)
    guarded_plus(net)
    ok(net, "AT+CIPMODE=0")
    assert net.cmd("AT+CIPMUX=0") == ERROR  # the server is still there


def test_reports_never_split_answers(net):
    """+IPD messages come between messages, never inside an answer, while
    the host keeps issuing commands."""
    total = 512 * 1024
    data = pattern(total, seed=5)
    ok(net, "AT+CIPMUX=1")
    with TcpServer() as srv:
        start(net, srv.port, link=0)
        c = srv.accept()
        local = c.sock.getpeername()[1]
        answer = b'+CIPSTATE:0,"TCP","127.0.0.1",%d,%d,0\r\n' % (srv.port, local)
        def trickle():
            for i in range(0, total, 2048):
                c.send(data[i:i + 2048])
                silence(0.0005)  # a peer that trickles on purpose, while commands run
        sender = threading.Thread(target=trickle, daemon=True)
        sender.start()
        got, answers, between = bytearray(), 0, 0
        ipd_rx = re.compile(rb"\r\n\+IPD,0,(\d+):")
        while answers < 300 or sender.is_alive():
            net.write(b"AT+CIPSTATE?\r\n")
            seen = {answer: False, OK: False}
            while not seen[OK]:
                m = ipd_rx.match(net.buf)
                if m and len(net.buf) >= m.end() + int(m.group(1)):
                    got += net.buf[m.end():m.end() + int(m.group(1))]
                    net.buf = net.buf[m.end() + int(m.group(1)):]
                    between += 1
                    continue
                for msg in seen:
                    if net.buf.startswith(msg):
                        assert not seen[msg]
                        seen[msg] = True
                        net.buf = net.buf[len(msg):]
                        break
                else:
                    assert any(p.startswith(net.buf[:len(p)]) for p in (answer, OK, b"\r\n+IPD,")) \
                        or ipd_rx.match(net.buf), f"broken output: \"{esc(net.buf[:80])}\""
                    net._read_some(0.5)
            assert seen[answer]
            answers += 1
        while len(got) < total:
            got += ipd(net)[1]
        sender.join(5)
        assert sha(got) == sha(data)
        assert between >= 20, f"only {between} +IPD came while commands ran"


def test_ipv6_links(net):
    with TcpServer(host="::1") as srv:
        assert net.cmd(f'AT+CIPSTART="TCPv6","::1",{srv.port}') == ERROR  # AT+CIPV6=0
        ok(net, "AT+CIPV6=1")
        assert net.cmd(f'AT+CIPSTART="TCP","::1",{srv.port}') == ERROR  # family mismatch
        ok(net, "AT+CIPMUX=1")
        ok(net, "AT+CIPDINFO=1")
        start(net, srv.port, link=0, typ="TCPv6", host="::1")
        c = srv.accept()
        local = c.sock.getpeername()[1]
        ok(net, "AT+CIPSTATE?", b'+CIPSTATE:0,"TCPv6","::1",%d,%d,0\r\n' % (srv.port, local))
        send(net, b"six", link=0)
        assert c.recv_exact(3) == b"six"
        c.send(b"v6")
        assert ipd(net) == (0, b"v6", "::1", c.sock.getsockname()[1])
        u = UdpPeer(host="::1")
        lport = free_port()
        start(net, u.port, link=1, typ="UDPv6", host="::1", extra=f",{lport},0")
        send(net, b"dgram", link=1)
        assert u.recv()[0] == b"dgram"
        u.sendto(b"back", lport)
        assert ipd(net) == (1, b"back", "::1", u.port)


def test_links_die_with_the_network(net):
    with TcpServer() as srv:
        start(net, srv.port)
        c = srv.accept()
        ok(net, "AT+CWQAP")
        net.expect(b"WIFI DISCONNECT\r\nCLOSED\r\n")
        try:
            c.recv_eof()  # the host socket is gone (how is not the simulation's point)
        except ConnectionResetError:
            pass
        assert net.cmd(f'AT+CIPSTART="TCP","127.0.0.1",{srv.port}') == b"no ip\r\n" + ERROR
        ok(net, 'AT+CWJAP="espat","espatpass"', b"WIFI CONNECTED\r\nWIFI GOT IP\r\n")
        ok(net, "AT+CIPMUX=1")
        conns = []
        for i in range(3):
            start(net, srv.port, link=i)
            conns.append(srv.accept())
        ok(net, "AT+CIPRECVTYPE=2,1")
        conns[2].send(b"kept")
        net.expect(b"+IPD,2,4\r\n")
        net.ctl("ap", "down", "espat")  # the AP vanishes
        net.expect(b"WIFI DISCONNECT\r\n0,CLOSED\r\n1,CLOSED\r\n")
        net.quiet(0.1)  # 2 holds unread data: its CLOSED waits
        ok(net, "AT+CIPRECVDATA=2,10", b"+CIPRECVDATA:4,kept\r\n")
        net.expect(b"2,CLOSED\r\n")


def test_passthrough_packets_follow_transintvl(net):
    with TcpServer() as srv:
        ok(net, "AT+TRANSINTVL=200")
        enter_passthrough(net, srv.port)
        c = srv.accept()
        t0 = time.monotonic()
        net.write(b"abc")
        assert c.recv_exact(3) == b"abc"
        waited = time.monotonic() - t0
        assert 0.15 <= waited <= 1.0, waited  # a short packet waits the interval
        t0 = time.monotonic()
        net.write(b"z" * 2920)  # a whole packet goes at once
        assert c.recv_exact(2920) == b"z" * 2920
        assert time.monotonic() - t0 < 0.15
        guarded_plus(net)
        ok(net, "AT+TRANSINTVL=0")
        prompt(net, "AT+CIPSEND")
        t0 = time.monotonic()
        net.write(b"now")
        assert c.recv_exact(3) == b"now"
        assert time.monotonic() - t0 < 0.1


def test_ipd_during_data_entry(net):
    with TcpServer() as srv:
        start(net, srv.port)
        c = srv.accept()
        prompt(net, "AT+CIPSEND=10")
        net.write(b"01234")
        c.send(b"hey")
        assert ipd(net) == (None, b"hey", None, None)  # a report may come while data is typed
        net.write(b"56789")
        net.expect(b"\r\nRecv 10 bytes\r\n\r\nSEND OK\r\n")
        assert c.recv_exact(10) == b"0123456789"


def test_bad_link_arguments(net):
    with TcpServer() as srv:
        assert net.cmd("AT+CIPSEND=4") == ERROR  # no link
        assert net.cmd(f'AT+CIPSTART="TCP","{"a" * 65}",{srv.port}') == ERROR  # host > 64
        assert net.cmd(f'AT+CIPSTART="FTP","127.0.0.1",{srv.port}') == ERROR
        assert net.cmd('AT+CIPSTART="TCP","127.0.0.1",0') == ERROR
        assert net.cmd('AT+CIPSTART="TCP","127.0.0.1",65536') == ERROR
        assert net.cmd(f'AT+CIPSTART="TCP","no-such-host.invalid",{srv.port}',
                       timeout=15) == ERROR
        ok(net, "AT+CIPMUX=1")
        assert net.cmd("AT+CIPSEND=1,4") == ERROR  # link 1 is not open
        assert net.cmd("AT+CIPSEND=5,4") == ERROR
        assert net.cmd("AT+CIPCLOSE=3") == ERROR
        assert net.cmd(f'AT+CIPSTART="TCP","127.0.0.1",{srv.port}') == ERROR  # needs an ID
        srv.no_accept()
        ok(net, "AT")


def udp_port_free(port):
    """Whether nothing on this host listens on UDP 127.0.0.1:port."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def test_cipdns(make_dut):
    dut = make_dut(world=WORLD)
    dut.cmd("ATE0")
    ok(dut, "AT+CIPDNS?", b'+CIPDNS:0,"208.67.222.222","8.8.8.8"\r\n')  # no network yet
    ok(dut, "AT+CWMODE=1")
    ok(dut, 'AT+CWJAP="espat","espatpass"', b"WIFI CONNECTED\r\nWIFI GOT IP\r\n")
    ok(dut, "AT+CIPDNS?", b'+CIPDNS:0,"192.168.3.1"\r\n')  # the DHCP-given router
    assert dut.cmd('AT+CIPDNS=1,"1.1.1.1","1.1.1.1"') == ERROR  # must differ
    assert dut.cmd('AT+CIPDNS=1,"not an ip"') == ERROR
    ok(dut, 'AT+CIPDNS=1,"192.168.3.1","8.8.4.4"')  # the router first: resolves via the host
    ok(dut, "AT+CIPDNS?", b'+CIPDNS:1,"192.168.3.1","8.8.4.4"\r\n')
    ok(dut, 'AT+CIPDOMAIN="localhost"', b'+CIPDOMAIN:"127.0.0.1"\r\n')
    # a server that answers nothing (a closed port on this host): the lookup fails
    ok(dut, 'AT+CIPDNS=1,"127.0.0.1"')
    if udp_port_free(53):
        assert dut.cmd('AT+CIPDOMAIN="localhost",1,2000', timeout=10) == ERROR
    dut.ctl("power-cut")  # saved under AT+SYSSTORE=1
    dut.expect(READY + b"WIFI CONNECTED\r\nWIFI GOT IP\r\n")
    dut.cmd("ATE0")
    ok(dut, "AT+CIPDNS?", b'+CIPDNS:1,"127.0.0.1"\r\n')
    ok(dut, "AT+CIPDNS=0")
    ok(dut, "AT+CIPDNS?", b'+CIPDNS:0,"192.168.3.1"\r\n')
    ok(dut, 'AT+CIPDOMAIN="localhost"', b'+CIPDOMAIN:"127.0.0.1"\r\n')
