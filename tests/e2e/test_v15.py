"""The ESP8266 v1.5 dialect over a real pty (--chip esp8266): the data dir
remembers its chip, the v1.5 answers over the host's network (a real TCP
peer), and docs/COMMANDS.md's v1.5 table against the module's own table
(`espat ctl commands`: v1.5 has no AT+CMD)."""
import os
import queue
import re
import socket
import ssl
import subprocess
import threading

import pki

from conftest import (BOOT_V15, ERROR, ESPAT, OK, PROMPT, REPO, TCPIP_WORLD, esc,
                      guarded_plus)
from peers import free_port

V15 = ("--chip", "esp8266")


def v15(make_dut, **kw):
    d = make_dut(args=V15, world=TCPIP_WORLD, **kw)
    assert d.cmd("ATE0") == b"ATE0\r\n" + OK
    return d


def join(d):
    got = d.cmd('AT+CWJAP_CUR="espat","espatpass"', timeout=20)
    assert got == b"WiFi CONNECTED\r\nWiFi GOT IP\r\n" + OK, esc(got)


def test_data_dir_remembers_its_chip(make_dut, tmp_path):
    data = tmp_path / "dev"
    d = make_dut(data_dir=data, args=V15)
    assert (data / "chip").read_text() == "esp8266\n"
    assert (data / "chip").stat().st_mode & 0o777 == 0o600
    assert d.cmd("AT+GMR").startswith(b"AT+GMR\r\nAT version:1.1.0.0(")
    assert d.stop() == 0
    # the other chip is a usage error, with a clear message
    p = subprocess.run([ESPAT, "--chip", "esp32c3", "--no-pace", "--data-dir", str(data)],
                       capture_output=True, timeout=10)
    assert p.returncode == 2
    assert b"holds an esp8266 module; start it with --chip esp8266" in p.stderr, p.stderr
    # without --chip the dir's chip is used: the v1.5 boot text
    d2 = make_dut(data_dir=data)
    d2.write(b"AT+RST\r\n")
    d2.expect(b"AT+RST\r\n" + OK + BOOT_V15)


def test_old_c3_dir_is_refused_as_esp8266(make_dut, tmp_path):
    data = tmp_path / "c3"
    d = make_dut(data_dir=data)
    assert (data / "chip").read_text() == "esp32c3\n"
    assert d.stop() == 0
    os.remove(data / "chip")  # a dir made before chips were remembered (COMPAT #303)
    p = subprocess.run([ESPAT, "--chip", "esp8266", "--no-pace", "--data-dir", str(data)],
                       capture_output=True, timeout=10)
    assert p.returncode == 2 and b"holds an esp32c3 module" in p.stderr, p.stderr


def test_chip_file_symlink_refused(make_dut, tmp_path):
    data = tmp_path / "evil"
    data.mkdir()
    victim = tmp_path / "victim"
    victim.write_text("esp8266\n")
    os.symlink(victim, data / "chip")
    p = subprocess.run([ESPAT, "--chip", "esp8266", "--no-pace", "--data-dir", str(data)],
                       capture_output=True, timeout=10)
    assert p.returncode == 2, p.stderr
    assert victim.read_text() == "esp8266\n"


def test_tcp_link_v15(make_dut):
    d = v15(make_dut)
    assert d.cmd("AT+CIPSTATUS") == b"STATUS:5\r\n" + OK
    join(d)
    assert d.cmd("AT+CIPSTATUS") == b"STATUS:2\r\n" + OK
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    port = srv.getsockname()[1]
    try:
        got = d.cmd(f'AT+CIPSTART="TCP","127.0.0.1",{port}')
        assert got == b"CONNECT\r\n" + OK, esc(got)
        peer, _ = srv.accept()
        # already connected: v1.5's words
        got = d.cmd(f'AT+CIPSTART="TCP","127.0.0.1",{port}')
        assert got == b"ALREADY CONNECT\r\n" + ERROR, esc(got)
        got = d.cmd("AT+CIPSTATUS")
        assert re.fullmatch(rb'STATUS:3\r\n\+CIPSTATUS:0,"TCP","127\.0\.0\.1",%d,\d+,0\r\n'
                            % port + re.escape(OK), got), esc(got)
        # 2048 bytes at most per send
        assert d.cmd("AT+CIPSEND=2049") == ERROR
        d.write(b"AT+CIPSEND=2048\r\n")
        d.expect(PROMPT)
        d.write(b"x" * 2048)
        d.expect(b"\r\nRecv 2048 bytes\r\n\r\nSEND OK\r\n")
        data = b""
        while len(data) < 2048:
            data += peer.recv(4096)
        assert data == b"x" * 2048
        # +IPD as v1.5 documents it
        peer.sendall(b"hello")
        d.expect(b"\r\n+IPD,5:hello")
        # Link is builded: no mux change with a link open
        assert d.cmd("AT+CIPMUX=1") == b"Link is builded\r\n" + ERROR
        assert d.cmd("AT+CIPCLOSE") == b"CLOSED\r\n" + OK
        assert d.cmd("AT+CIPSTATUS") == b"STATUS:4\r\n" + OK
        peer.close()
    finally:
        srv.close()
    # the v1.5 set has no AT+CIPSTATE or AT+CIPDOMAIN
    assert d.cmd("AT+CIPSTATE?") == ERROR
    assert d.cmd('AT+CIPDOMAIN="localhost"') == ERROR
    assert d.cmd("AT+CIPSSLSIZE=4096") == OK
    assert d.cmd("AT+CIPSSLSIZE=1024") == ERROR
    assert d.cmd("AT+CWQAP") == OK
    d.expect(b"WiFi DISCONNECT\r\n")


def _listener():
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    srv.settimeout(10)
    return srv, srv.getsockname()[1]


def _recv(peer, n):
    peer.settimeout(10)
    data = b""
    while len(data) < n:
        chunk = peer.recv(4096)
        assert chunk, data
        data += chunk
    return data


def test_sendbuf_segments(make_dut):
    """AT+CIPSENDBUF writes numbered segments and reports each sent one;
    AT+CIPBUFSTATUS, AT+CIPCHECKSEQ and AT+CIPBUFRESET follow them."""
    d = v15(make_dut)
    # no link: ERROR
    assert d.cmd("AT+CIPSENDBUF=4") == ERROR
    assert d.cmd("AT+CIPBUFSTATUS") == ERROR
    assert d.cmd("AT+CIPBUFRESET") == ERROR
    join(d)
    srv, port = _listener()
    try:
        assert d.cmd(f'AT+CIPSTART="TCP","127.0.0.1",{port}') == b"CONNECT\r\n" + OK
        peer, _ = srv.accept()
        assert d.cmd("AT+CIPBUFSTATUS") == b"1,0,0,5840,8\r\n" + OK
        d.write(b"AT+CIPSENDBUF=5\r\n")
        d.expect(b"1,0\r\n" + PROMPT)
        d.write(b"hello")
        d.expect(b"1,SEND OK\r\n")
        assert _recv(peer, 5) == b"hello"
        # back to back, without waiting
        d.write(b"AT+CIPSENDBUF=3\r\n")
        d.expect(b"2,1\r\n" + PROMPT)
        d.write(b"abc")
        d.expect(b"2,SEND OK\r\n")
        assert _recv(peer, 3) == b"abc"
        assert d.cmd("AT+CIPCHECKSEQ=2") == b"2,TRUE\r\n" + OK
        assert d.cmd("AT+CIPCHECKSEQ=3") == ERROR
        assert d.cmd("AT+CIPBUFSTATUS") == b"3,2,2,5840,8\r\n" + OK
        assert d.cmd("AT+CIPSENDBUF=2049") == ERROR
        # +++ before <length>: nothing is sent, no segment
        d.write(b"AT+CIPSENDBUF=10\r\n")
        d.expect(b"3,2\r\n" + PROMPT)
        d.write(b"xy")
        guarded_plus(d)
        assert d.cmd("AT+CIPBUFSTATUS") == b"3,2,2,5840,8\r\n" + OK
        assert d.cmd("AT+CIPBUFRESET") == OK
        assert d.cmd("AT+CIPBUFSTATUS") == b"1,0,0,5840,8\r\n" + OK
        assert d.cmd("AT+CIPCHECKSEQ=1") == ERROR
        assert d.cmd("AT+CIPCLOSE") == b"CLOSED\r\n" + OK
        peer.close()
        # multiple connections: the link ID comes first, and in the report
        assert d.cmd("AT+CIPMUX=1") == OK
        assert d.cmd(f'AT+CIPSTART=3,"TCP","127.0.0.1",{port}') == b"3,CONNECT\r\n" + OK
        peer, _ = srv.accept()
        d.write(b"AT+CIPSENDBUF=3,4\r\n")
        d.expect(b"1,0\r\n" + PROMPT)
        d.write(b"mux!")
        d.expect(b"3,1,SEND OK\r\n")
        assert _recv(peer, 4) == b"mux!"
        assert d.cmd("AT+CIPBUFSTATUS=3") == b"2,1,1,5840,8\r\n" + OK
        assert d.cmd("AT+CIPCHECKSEQ=3,1") == b"3,1,TRUE\r\n" + OK
        assert d.cmd("AT+CIPBUFSTATUS") == ERROR
        assert d.cmd("AT+CIPBUFSTATUS=2") == ERROR  # no link 2
        assert d.cmd("AT+CIPBUFRESET") == ERROR
        assert d.cmd("AT+CIPBUFRESET=3") == OK
        assert d.cmd("AT+CIPCLOSE=3") == b"3,CLOSED\r\n" + OK
        peer.close()
    finally:
        srv.close()


def test_ping_mdns(make_dut):
    d = v15(make_dut)
    # not joined: ERROR only, no +PING:TIMEOUT line in v1.5
    assert d.cmd('AT+PING="127.0.0.1"') == ERROR
    join(d)
    got = d.cmd('AT+PING="127.0.0.1"')
    assert re.fullmatch(rb"\+\d+\r\n" + re.escape(OK), got), esc(got)
    assert d.cmd('AT+MDNS=1,"espressif","iot",8080') == OK
    assert d.cmd("AT+MDNS=0") == OK
    assert d.cmd('AT+MDNS=1,"esp.ressif","iot",8080') == ERROR
    assert d.cmd('AT+MDNS=1,"espressif","iot"') == ERROR


def test_savetranslink_passthrough_at_boot(make_dut):
    d = v15(make_dut)
    join(d)  # saved by AT+CWJAP_DEF below for the boot
    assert d.cmd('AT+CWJAP_DEF="espat","espatpass"', timeout=20).endswith(OK)
    srv, port = _listener()
    try:
        assert d.cmd(f'AT+SAVETRANSLINK=1,"127.0.0.1",{port},"TCP"') == OK
        assert d.cmd(f'AT+SAVETRANSLINK=1,"127.0.0.1",{port},"SSL"') == ERROR
        d.write(b"AT+RST\r\n")
        d.expect(OK)
        d.expect(BOOT_V15)
        peer, _ = srv.accept()
        d.write(b"through")
        assert _recv(peer, 7) == b"through"
        guarded_plus(d)
        # echo is on again after the boot
        assert d.cmd("AT+SAVETRANSLINK=0") == b"AT+SAVETRANSLINK=0\r\n" + OK
        peer.close()
    finally:
        srv.close()


def test_commands_md_v15_table(make_dut):
    d = make_dut(args=V15)
    st = d.ctl("state")["state"]
    # no MQTT, no driver or signaling commands on this chip
    assert st["mqtt"] is None and st["periph"] is None and st["plcp"] is None
    reply = d.ctl("commands")
    listed = {c["name"] for c in reply["commands"]}
    doc = open(os.path.join(REPO, "docs", "COMMANDS.md")).read()
    part = doc.split("\n# ESP8266 v1.5", 1)
    assert len(part) == 2, "docs/COMMANDS.md has no '# ESP8266 v1.5' part"
    supported = set(re.findall(r"^\| `(AT[^`]*)` \| supported \|", part[1], re.M))
    assert listed == supported, (sorted(listed - supported), sorted(supported - listed))


def _tls_listener():
    """A TLS server on a free loopback port with the factory server
    certificate; accepted and handshaken connections arrive in the queue."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(pki.factory("server_cert", "server_cert.crt"),
                        pki.factory("server_key", "server.key"))
    srv, port = _listener()
    conns = queue.Queue()

    def run():
        while True:
            try:
                raw, _ = srv.accept()
            except OSError:
                return
            try:
                s = ctx.wrap_socket(raw, server_side=True)
            except OSError:
                raw.close()
                continue
            conns.put(s)

    threading.Thread(target=run, daemon=True).start()
    return srv, port, conns


def test_tcpip_examples(make_dut):
    """The v1.5 TCP/IP examples against local peers: UDP with <mode> 2,
    AT+CIPSENDEX, AT+CIPDINFO, a server with AT+CIPSTO, AT+CIFSR, and SSL:
    one link at most, never passthrough."""
    d = v15(make_dut)
    join(d)
    got = d.cmd("AT+CIFSR")
    assert re.fullmatch(rb'\+CIFSR:STAIP,"192\.168\.3\.\d+"\r\n\+CIFSR:STAMAC,"[0-9a-f:]{17}"\r\n'
                        + re.escape(OK), got), esc(got)
    # UDP, the seed's form: local port and <mode> 2
    peer = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    peer.bind(("127.0.0.1", 0))
    peer.settimeout(10)
    pport = peer.getsockname()[1]
    lport = free_port()
    try:
        got = d.cmd(f'AT+CIPSTART="UDP","127.0.0.1",{pport},{lport},2')
        assert got == b"CONNECT\r\n" + OK, esc(got)
        d.write(b"AT+CIPSENDEX=10\r\n")
        d.expect(PROMPT)
        d.write(b"ping\\0")
        d.expect(b"\r\nRecv 4 bytes\r\n\r\nSEND OK\r\n")
        data, addr = peer.recvfrom(100)
        assert data == b"ping" and addr[1] == lport
        peer.sendto(b"pong", ("127.0.0.1", lport))
        d.expect(b"\r\n+IPD,4:pong")
        assert d.cmd("AT+CIPDINFO=1") == OK
        peer.sendto(b"more", ("127.0.0.1", lport))
        d.expect(b'\r\n+IPD,4,"127.0.0.1",%d:more' % pport)
        assert d.cmd("AT+CIPDINFO=0") == OK
        assert d.cmd("AT+CIPCLOSE") == b"CLOSED\r\n" + OK
    finally:
        peer.close()
    # a server: AT+CIPMUX=1, AT+CIPSERVER=1,<port>, AT+CIPSTO=10
    port = free_port()
    assert d.cmd("AT+CIPMUX=1") == OK
    assert d.cmd(f"AT+CIPSERVER=1,{port}") == OK
    assert d.cmd("AT+CIPSTO=10") == OK
    assert d.cmd("AT+CIPSTO?") == b"+CIPSTO:10\r\n" + OK
    assert d.cmd("AT+CIPSERVER?") == ERROR  # v1.5 has no query
    c = socket.create_connection(("127.0.0.1", port), timeout=10)
    try:
        d.expect(b"0,CONNECT\r\n")
        c.sendall(b"hi")
        d.expect(b"\r\n+IPD,0,2:hi")
        d.write(b"AT+CIPSEND=0,3\r\n")
        d.expect(PROMPT)
        d.write(b"yes")
        d.expect(b"\r\nRecv 3 bytes\r\n\r\nSEND OK\r\n")
        assert _recv(c, 3) == b"yes"
        assert d.cmd("AT+CIPCLOSE=0") == b"0,CLOSED\r\n" + OK
    finally:
        c.close()
    assert d.cmd("AT+CIPSERVER=0") == OK
    # SSL: AT+CIPSSLSIZE first (the seed's example), then one SSL link
    srv, sport, conns = _tls_listener()
    try:
        assert d.cmd("AT+CIPSSLSIZE=4096") == OK
        got = d.cmd(f'AT+CIPSTART=0,"SSL","127.0.0.1",{sport}', timeout=15)
        assert got == b"0,CONNECT\r\n" + OK, esc(got)
        tls = conns.get(timeout=10)
        got = d.cmd(f'AT+CIPSTART=1,"SSL","127.0.0.1",{sport}')
        assert got == ERROR, esc(got)
        tls.sendall(b"secure")
        d.expect(b"\r\n+IPD,0,6:secure")
        assert d.cmd("AT+CIPCLOSE=0") == b"0,CLOSED\r\n" + OK
        tls.close()
        # single connection: no passthrough over SSL
        assert d.cmd("AT+CIPMUX=0") == OK
        got = d.cmd(f'AT+CIPSTART="SSL","127.0.0.1",{sport}', timeout=15)
        assert got == b"CONNECT\r\n" + OK, esc(got)
        tls = conns.get(timeout=10)
        assert d.cmd("AT+CIPMODE=1") == OK
        assert d.cmd("AT+CIPSEND") == ERROR
        assert d.cmd("AT+CIPMODE=0") == OK
        assert d.cmd("AT+CIPCLOSE") == b"CLOSED\r\n" + OK
        tls.close()
    finally:
        srv.close()
