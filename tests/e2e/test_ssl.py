"""SSL links over the real pty against real TLS peers on the host's loopback
(guide 3.3.26-3.3.31 and the "SSL" forms of AT+CIPSTART, AT+CIPSERVER and
AT+SAVETRANSLINK): every authentication mode against a server holding the
factory PKI (pki/factory), the ways a handshake fails (unknown CA, wrong
name, expired, the module's clock still in 1970, no client certificate, PSK
mismatch), a running link ended by a fatal alert, a close_notify or a bare
FIN, SNI and ALPN as the server sees them, TLS 1.2 and 1.3, PSK, per-link
settings in multiple-connection mode and their persistence, bad arguments,
missing and replaced PKI in the manufacturing NVS, the module's SSL server
(with and without client certificates, over IPv6 too), and the data paths
of test_tcpip over TLS: passive receive, AT+CIPSENDL, passthrough with +++,
AT+SAVETRANSLINK after a power cut.

Peers: Python's ssl module (TlsServer, tls_client; BioTls drives a session
by hand to send a fatal alert) and the openssl CLI (Openssl: s_server,
s_client). The server side of every handshake is checked too: the SNI and
ALPN protocols the module's ClientHello carried (read without consuming it),
the certificate it presented, the alert it sent when it refused ours.
Throwaway PKI comes from pki.py. Certificates are checked against the
module's clock, which reads 1970 after power-on: tests that verify the
server set it first with AT+SYSTIMESTAMP (set_clock).

Under TLS 1.3 a server's refusal of a missing client certificate comes after
the client's handshake, so after CONNECT (COMPAT #89).

Waits have deadlines (on the pty, on a peer, on a child's output); the only
fixed pauses are the +++ guard times, through silence().
"""
import os
import queue
import re
import socket
import ssl
import subprocess
import threading
import time

import pytest

import pki
from conftest import (DEADLINE, ERROR, OK, READY, esc, every_byte, guarded_plus, ipd,
                      ipd_stream, joined, note, ok, pattern, prompt, push_thread, read_n,
                      read_thread, rss_kib, send, sha, start, wait_for, write_thread)
from peers import Conn, TcpServer, free_port

SERVER_CERT = pki.factory("server_cert", "server_cert.crt")
SERVER_KEY = pki.factory("server_key", "server.key")
ROOT = pki.factory("server_ca", "server_ca.crt")  # the factory root: server_ca == client_ca_00
CLIENT_CERT = [pki.factory("client_cert", "client_cert_0%d.crt" % i) for i in (0, 1)]
CLIENT_KEY = [pki.factory("client_key", "client_key_0%d.key" % i) for i in (0, 1)]

EXEC_FAIL = b"ERR CODE:0x010a0000\r\n" + ERROR  # an SSL link that failed, under AT+SYSLOG=1
TLS12, TLS13 = ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3
VERSIONS = {TLS12: "TLSv1.2", TLS13: "TLSv1.3"}


# ---- the module ----------------------------------------------------------------

def set_clock(dut):
    """The module's wall clock to the host's now (it reads 1970 after
    power-on, and certificates are checked against it)."""
    ok(dut, f"AT+SYSTIMESTAMP={int(time.time())}")


def fails(dut, line, before=b""):
    """line is answered ERROR with ERR CODE 0x010a0000 (AT+SYSLOG=1), and
    the module answers the next command."""
    got = dut.cmd(line)
    assert got == before + EXEC_FAIL, f"{line}: \"{esc(got)}\""
    ok(dut, "AT")


def bad(dut, line):
    """line is answered ERROR (a bad argument) and the module answers the
    next command."""
    got = dut.cmd(line)
    assert got.endswith(ERROR) and b"OK" not in got, f"{line}: \"{esc(got)}\""
    ok(dut, "AT")


def query(dut, cmd):
    """The lines of a query's answer, without the OK."""
    got = dut.cmd(f"AT+{cmd}?")
    assert got.endswith(OK), esc(got)
    return got[:-len(OK)].decode("latin-1").splitlines()


def mfg_write(dut, ns, key, data):
    """Stores data (bytes) as a binary value in the manufacturing NVS, as a
    host replacing the PKI does: AT+SYSMFG=2,<ns>,<key>,8,<len>, >, data."""
    prompt(dut, f'AT+SYSMFG=2,"{ns}","{key}",8,{len(data)}')
    dut.write(data)
    dut.expect(OK)


def read_file(path):
    with open(path, "rb") as f:
        return f.read()


def warned(dut, pattern):
    """The module's last line on stderr is a warning that matches pattern
    (a regex over what follows "espat: warn: "): why its last SSL link
    failed, which the AT port does not say (COMPAT #94)."""
    lines = dut.stderr().splitlines()
    assert lines and lines[-1].startswith("espat: warn: "), lines[-3:]
    assert re.fullmatch(pattern, lines[-1][len("espat: warn: "):]), lines[-1]


@pytest.fixture
def logged(net):
    """A joined module with AT+SYSLOG=1: ERROR comes with its ERR CODE."""
    ok(net, "AT+SYSLOG=1")
    return net


# ---- TLS peers (Python's ssl module) -----------------------------------------------

def client_hello(sock):
    """What the peer's ClientHello offers, read without consuming it (MSG_PEEK):
    (server name or None, [ALPN protocols in order]). sock has a timeout."""
    head = sock.recv(5, socket.MSG_PEEK | socket.MSG_WAITALL)
    assert len(head) == 5 and head[0] == 22, f"not a TLS handshake record: {head!r}"
    n = 5 + int.from_bytes(head[3:5], "big")
    rec = sock.recv(n, socket.MSG_PEEK | socket.MSG_WAITALL)
    assert len(rec) == n and rec[5] == 1, "not a ClientHello"
    p = 9 + 2 + 32  # record and handshake headers, version, random
    p += 1 + rec[p]  # session id
    p += 2 + int.from_bytes(rec[p:p + 2], "big")  # cipher suites
    p += 1 + rec[p]  # compression methods
    end = p + 2 + int.from_bytes(rec[p:p + 2], "big")
    p += 2
    sni, alpn = None, []
    while p + 4 <= end:
        typ, ln = int.from_bytes(rec[p:p + 2], "big"), int.from_bytes(rec[p + 2:p + 4], "big")
        body = rec[p + 4:p + 4 + ln]
        if typ == 0:  # server_name: list length, type 0 (host_name), length, name
            sni = body[5:5 + int.from_bytes(body[3:5], "big")].decode()
        elif typ == 16:  # ALPN: list length, then length-prefixed names
            q = 2
            while q < len(body):
                alpn.append(body[q + 1:q + 1 + body[q]].decode())
                q += 1 + body[q]
        p += 4 + ln
    return sni, alpn


class TlsConn(Conn):
    """A TLS connection (an ssl.SSLSocket made with suppress_ragged_eofs
    off) with Conn's deadlines. recv_eof returns b"" only after the other
    side's close_notify (a bare FIN raises ssl.SSLEOFError, an RST
    ConnectionResetError). hello: (SNI, ALPN list) of the module's ClientHello,
    for connections a TlsServer accepted."""

    def __init__(self, sock, hello=None):
        super().__init__(sock)
        self.hello = hello

    @property
    def sni(self):
        """The server name the server's sni_callback saw (None: no SNI)."""
        return getattr(self.sock, "sni_seen", None)

    @property
    def alpn(self):
        return self.sock.selected_alpn_protocol()

    @property
    def version(self):
        return self.sock.version()

    def peer_cn(self):
        """The commonName of the certificate the other side presented."""
        cert = self.sock.getpeercert()
        if not cert:
            return None
        return dict(x[0] for x in cert["subject"])["commonName"]

    def nothing(self, seconds=0.1):
        """Nothing arrives for a while (a TLS socket cannot peek: what comes
        is consumed, and fails the test)."""
        self.sock.settimeout(seconds)
        try:
            chunk = self.sock.recv(65536)
        except socket.timeout:
            return
        raise AssertionError(f"peer: unexpected {chunk!r}")

    def close_notify(self):
        """Sends close_notify, waits (with a deadline) for the module's reply
        or its FIN, and closes."""
        self.sock.settimeout(DEADLINE)
        try:
            self.sock.unwrap().close()
        except (ssl.SSLError, OSError):
            self.sock.close()


def server_context(cert=SERVER_CERT, key=SERVER_KEY, client_ca=None, version=None, alpn=None,
                   client_cert=ssl.CERT_REQUIRED):
    """A server context: our certificate; with client_ca, a client
    certificate verified with it (required, or ssl.CERT_OPTIONAL: asked
    for); one TLS version; ALPN protocols in our order of preference."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    if client_ca:
        ctx.verify_mode = client_cert
        ctx.load_verify_locations(client_ca)
    if version:
        ctx.minimum_version = ctx.maximum_version = version
    if alpn:
        ctx.set_alpn_protocols(alpn)
    return ctx


class TlsServer(TcpServer):
    """A TLS server on loopback (Python's ssl): each connection's handshake
    runs in the background; sessions wait in the accept() queue as TlsConns,
    failed handshakes in failures (the exception), one at a time.

        with TlsServer(client_ca=ROOT, version=TLS12, alpn=["h2"]) as srv:
            ... AT+CIPSTART="SSL","127.0.0.1",<srv.port> ...
            c = srv.accept(); c.sni, c.alpn, c.hello, c.peer_cn()

    greeting: bytes sent the moment a handshake is over (a server that
    speaks first). The rest are server_context()'s arguments.
    """

    def __init__(self, host="127.0.0.1", greeting=None, **context):
        self.greeting = greeting
        self.ctx = server_context(**context)
        self.ctx.sni_callback = self._sni
        self.failures = queue.Queue()
        super().__init__(host=host)

    @staticmethod
    def _sni(sslsock, name, ctx):
        sslsock.sni_seen = name

    def _run(self):
        while True:
            try:
                raw, _ = self.lsock.accept()
            except OSError:
                return
            try:
                raw.settimeout(DEADLINE)
                hello = client_hello(raw)
                s = self.ctx.wrap_socket(raw, server_side=True, do_handshake_on_connect=False,
                                         suppress_ragged_eofs=False)
                s.do_handshake()
                if self.greeting:
                    s.sendall(self.greeting)
            except (OSError, AssertionError) as e:  # ssl.SSLError is an OSError
                self.failures.put(e)
                raw.close()
                continue
            self.conns.put(TlsConn(s, hello))

    def failure(self, timeout=DEADLINE):
        """The next failed handshake's error, as text."""
        try:
            return str(self.failures.get(timeout=timeout))
        except queue.Empty:
            raise AssertionError(f"no failed handshake on port {self.port} within {timeout}s")


def server_heard(srv, alert):
    """The module refused srv's certificate: srv's next handshake failed on
    the module's alert (alert: OpenSSL's words, e.g. "unknown ca")."""
    why = srv.failure()
    assert alert in why, why


def tls_client(port, host="127.0.0.1", cert=None, key=None, ca=ROOT, version=None):
    """A TLS client of the module's server that verifies it (ca, name
    localhost) and presents cert when given; returns a TlsConn after the
    handshake."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(ca)
    if cert:
        ctx.load_cert_chain(cert, key)
    if version:
        ctx.minimum_version = ctx.maximum_version = version
    raw = socket.create_connection((host, port), timeout=DEADLINE)
    try:
        return TlsConn(ctx.wrap_socket(raw, server_hostname="localhost",
                                       suppress_ragged_eofs=False))
    except BaseException:
        raw.close()
        raise


class BioTls:
    """The server end of a TLS session driven by hand over a raw Conn
    (memory BIOs), for what an SSLSocket cannot do: send a fatal alert in
    the middle of a running session."""

    def __init__(self, conn, ctx):
        self.conn, self.inc, self.out = conn, ssl.MemoryBIO(), ssl.MemoryBIO()
        self.obj = ctx.wrap_bio(self.inc, self.out, server_side=True)
        end = time.monotonic() + DEADLINE
        while True:
            try:
                self.obj.do_handshake()
                break
            except ssl.SSLWantReadError:
                self._flush()
                left = end - time.monotonic()
                assert left > 0, "BioTls: no handshake within the deadline"
                self.conn.sock.settimeout(left)
                data = self.conn.sock.recv(65536)
                assert data, "BioTls: EOF in the handshake"
                self.inc.write(data)
        self._flush()

    def _flush(self):
        data = self.out.read()
        if data:
            self.conn.send(data)

    def send(self, data):
        self.obj.write(data)
        self._flush()

    def fatal_alert(self):
        """Feeds our end a record it cannot decrypt, as if the module had
        sent it: OpenSSL fails the session and writes a fatal
        bad_record_mac alert, encrypted, which goes to the module."""
        self.inc.write(b"\x17\x03\x03\x00\x20" + bytes(32))
        with pytest.raises(ssl.SSLError):
            self.obj.read(1)
        alert = self.out.read()
        assert alert, "OpenSSL wrote no alert"
        self.conn.send(alert)


# ---- TLS peers (the openssl CLI) ---------------------------------------------------

class Openssl:
    """An openssl s_server or s_client child; its stdout and stderr gather
    in self.out (a thread reads them), its stdin is what it sends.

    s_server and s_client take command letters (Q, q, R, ...) at the start
    of what they read from stdin: data sent here must not begin with one.
    """

    def __init__(self, args):
        self.p = subprocess.Popen(["openssl", *args], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        self.out = b""
        self.cv = threading.Condition()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    @classmethod
    def server(cls, *args, host="127.0.0.1"):
        """openssl s_server on a free port of host; port in .port."""
        acc = f"[{host}]:0" if ":" in host else f"{host}:0"
        s = cls(["s_server", "-accept", acc, *args])
        s.port = int(s.wait_for(rb"ACCEPT \[?[0-9a-f.:]+\]?:(\d+)\n").group(1))
        return s

    @classmethod
    def client(cls, port, *args, host="127.0.0.1"):
        """openssl s_client to host:port, verifying the factory root and the
        name localhost, kept open when its stdin ends."""
        hp = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
        return cls(["s_client", "-connect", hp, "-CAfile", ROOT, "-verify_return_error",
                    "-verify_hostname", "localhost", "-servername", "localhost", "-ign_eof",
                    *args])

    def _read(self):
        fd = self.p.stdout.fileno()
        while True:
            chunk = os.read(fd, 65536)
            with self.cv:
                if not chunk:
                    self.done = True
                    self.cv.notify_all()
                    return
                self.out += chunk
                self.cv.notify_all()

    def wait_for(self, pattern, timeout=DEADLINE):
        """Waits until pattern (bytes regex) matches the output; returns the
        match. Fails at the deadline or when the child ends first."""
        rx = re.compile(pattern)
        end = time.monotonic() + timeout
        with self.cv:
            while not (m := rx.search(self.out)):
                left = end - time.monotonic()
                if left <= 0 or getattr(self, "done", False):
                    raise AssertionError(f"openssl: no /{pattern!r}/ in {self.out[-1500:]!r}")
                self.cv.wait(left)
            return m

    def send(self, data):
        self.p.stdin.write(data)
        self.p.stdin.flush()

    def close(self):
        if self.p.poll() is None:
            self.p.kill()
        self.p.wait()
        self.reader.join(DEADLINE)
        for f in (self.p.stdin, self.p.stdout):
            try:
                f.close()
            except OSError:
                pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def has_ipv6_loopback():
    try:
        with socket.socket(socket.AF_INET6) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


def exchange(dut, c, link=None):
    """Data both ways over an up link, byte for byte: every byte value to
    the peer (AT+CIPSEND), and bytes that look like output to the module
    (+IPD)."""
    up = every_byte(8)
    send(dut, up, link=link)
    assert c.recv_exact(len(up)) == up
    down = b"from the peer\r\n\r\nOK\r\n" + every_byte(12)  # 3092 bytes: two +IPD
    c.send(down)
    assert ipd_stream(dut, len(down), link=link) == down


# ---- every authentication mode ---------------------------------------------------------

@pytest.mark.parametrize("auth", [0, 1, 2, 3])
def test_every_auth_mode_with_the_factory_pki(net, auth):
    """auth 0 trusts anyone; 1 presents client_cert.0 to a server that
    requires it (verified with server_ca); 2 verifies the factory server
    (module clock set); 3 both. Data both ways; AT+CIPCLOSE sends
    close_notify."""
    set_clock(net)
    ok(net, f"AT+CIPSSLCCONF={auth},0,0")
    ok(net, "AT+CIPSSLCCONF?", b"+CIPSSLCCONF:0,%d,0,0\r\n" % auth)
    own = auth in (1, 3)
    with TlsServer(client_ca=ROOT if own else None) as srv:
        start(net, srv.port, typ="SSL", host="localhost")
        c = srv.accept()
        assert c.peer_cn() == ("espat-client-00" if own else None)
        local = c.sock.getpeername()[1]
        ok(net, "AT+CIPSTATE?", b'+CIPSTATE:0,"SSL","127.0.0.1",%d,%d,0\r\n' % (srv.port, local))
        exchange(net, c)
        ok(net, "AT+CIPCLOSE", b"CLOSED\r\n")
        assert c.recv_eof() == b"", "no close_notify before the FIN"
        ok(net, "AT")


def test_auth1_presents_the_certificate_pki_number_names(net):
    ok(net, "AT+CIPSSLCCONF=1,1,0")
    with TlsServer(client_ca=ROOT) as srv:
        start(net, srv.port, typ="SSL")
        c = srv.accept()
        assert c.peer_cn() == "espat-client-01"
        exchange(net, c)


def test_auth2_by_address_checks_no_name(net):
    """Verifying a server reached by its address: the chain and dates are
    checked, the name is not (there is none to check against)."""
    set_clock(net)
    ok(net, "AT+CIPSSLCCONF=2")
    with TlsServer() as srv:
        start(net, srv.port, typ="SSL")
        exchange(net, srv.accept())


def test_cipsendex_over_ssl(net):
    with TlsServer() as srv:
        start(net, srv.port, typ="SSL")
        c = srv.accept()
        prompt(net, "AT+CIPSENDEX=20")
        net.write(b"ab\\\\0c\\0")
        net.expect(b"\r\nRecv 5 bytes\r\n\r\nSEND OK\r\n")
        assert c.recv_exact(5) == b"ab\\0c"


@pytest.mark.parametrize("version", [TLS12, TLS13], ids=VERSIONS.get)
def test_a_server_that_speaks_first_is_heard_after_connect(net, version):
    """Data right behind the handshake (in the segment that ends it, under
    TLS 1.3) comes as +IPD after CONNECT and OK, never before or lost."""
    with TlsServer(version=version, greeting=b"220 espat test server\r\n") as srv:
        start(net, srv.port, typ="SSL")
        assert ipd(net)[1] == b"220 espat test server\r\n"
        exchange(net, srv.accept())


def test_cipstartex_ssl_takes_the_lowest_free_id(net):
    ok(net, "AT+CIPMUX=1")
    with TlsServer() as srv:
        start(net, srv.port, link=0, typ="SSL")
        c0 = srv.accept()
        ok(net, f'AT+CIPSTARTEX="SSL","127.0.0.1",{srv.port}', b"1,CONNECT\r\n")
        c1 = srv.accept()
        exchange(net, c1, link=1)
        exchange(net, c0, link=0)
        ok(net, "AT+CIPCLOSE=5", b"0,CLOSED\r\n1,CLOSED\r\n")
        assert (c0.recv_eof(), c1.recv_eof()) == (b"", b"")  # each with close_notify


def test_ipd_to_a_slow_host_loses_nothing_over_ssl(net):
    """The host does not read the pty: the module stops reading the TLS
    stream (TCP holds the peer back; nothing piles up in the module) and
    delivers it all later. The total is well above what the kernel's
    buffers on both sides take in before the window closes."""
    total = 12 * 1024 * 1024
    data = pattern(total, seed=23)
    with TlsServer() as srv:
        start(net, srv.port, typ="SSL")
        c = srv.accept()
        sender, progress = push_thread(c.sock, data)
        wait_for(c.held_back, "the module to stop reading the peer")
        assert progress[0] < total, "nothing held the peer back"
        assert rss_kib(net) < 96 * 1024, f"espat holds {rss_kib(net)} KiB"
        assert sha(ipd_stream(net, total, timeout=20)) == sha(data)
        sender.join(DEADLINE)
        assert not sender.is_alive()


# ---- handshakes that fail ------------------------------------------------------------------

def test_fails_server_from_an_unknown_ca(logged, tmp_path):
    ca = pki.make_ca(tmp_path, "evil", key_type="ec")
    leaf = pki.make_leaf(tmp_path, ca, "srv", "espat-server", sans=["localhost", "127.0.0.1"],
                         key_type="ec")
    set_clock(logged)
    ok(logged, "AT+CIPSSLCCONF=2")
    with TlsServer(cert=leaf.cert, key=leaf.key) as srv:
        fails(logged, f'AT+CIPSTART="SSL","localhost",{srv.port}')
        server_heard(srv, "unknown ca")
        warned(logged, rf"tls: SSL connection to localhost \(127\.0\.0\.1:{srv.port}\) failed: "
                       r"the server's certificate \(issued by 'evil Test CA'\) does not chain "
                       r"to the module's CA \(client_ca: .*\)")
        ok(logged, "AT+CIPSSLCCONF=0")  # the same server, not verified
        start(logged, srv.port, typ="SSL", host="localhost")
        exchange(logged, srv.accept())


def test_fails_common_name_that_the_server_lacks(logged):
    set_clock(logged)
    ok(logged, "AT+CIPSSLCCONF=2")
    ok(logged, 'AT+CIPSSLCCN="other.example"')
    ok(logged, "AT+CIPSSLCCN?", b'+CIPSSLCCN:0,"other.example"\r\n')
    with TlsServer() as srv:
        fails(logged, f'AT+CIPSTART="SSL","127.0.0.1",{srv.port}')
        server_heard(srv, "bad certificate")
        names = "localhost, espat.local, 127.0.0.1, ::1"  # the factory server certificate's
        warned(logged, rf"tls: SSL connection to 127\.0\.0\.1:{srv.port} failed: the server's "
                       rf"certificate is not for 'other\.example' \(it is for {names}\); set "
                       r"AT\+CIPSSLCCN to a name it holds, or connect by one")
        fails(logged, f'AT+CIPSTART="SSL","localhost",{srv.port}')  # CCN wins over the host
        server_heard(srv, "bad certificate")
        warned(logged, rf"tls: SSL connection to localhost \(127\.0\.0\.1:{srv.port}\) failed: "
                       r"the server's certificate is not for 'other\.example' .*")
        ok(logged, 'AT+CIPSSLCCN="espat.local"')  # a name the factory certificate holds
        start(logged, srv.port, typ="SSL")
        srv.accept()
        ok(logged, "AT+CIPCLOSE", b"CLOSED\r\n")
        ok(logged, 'AT+CIPSSLCCN=""')
        start(logged, srv.port, typ="SSL")
        exchange(logged, srv.accept())


def test_fails_host_name_that_the_certificate_lacks(logged, tmp_path):
    """A certificate for other.example only: reached as localhost it fails;
    by address (no name to check) or with AT+CIPSSLCCN="other.example" it
    passes."""
    leaf = pki.make_leaf(tmp_path, pki.factory_ca(), "srv", "other.example",
                         sans=["other.example"], key_type="ec")
    set_clock(logged)
    ok(logged, "AT+CIPSSLCCONF=2")
    with TlsServer(cert=leaf.cert, key=leaf.key) as srv:
        fails(logged, f'AT+CIPSTART="SSL","localhost",{srv.port}')
        server_heard(srv, "bad certificate")
        start(logged, srv.port, typ="SSL")
        srv.accept()
        ok(logged, "AT+CIPCLOSE", b"CLOSED\r\n")
        ok(logged, 'AT+CIPSSLCCN="other.example"')
        start(logged, srv.port, typ="SSL", host="localhost")
        exchange(logged, srv.accept())


def test_fails_expired_certificate(logged, tmp_path):
    leaf = pki.make_leaf(tmp_path, pki.factory_ca(), "old", "espat-server", sans=["localhost"],
                         not_before=pki.days_ago(30), not_after=pki.days_ago(1), key_type="ec")
    set_clock(logged)
    ok(logged, "AT+CIPSSLCCONF=2")
    with TlsServer(cert=leaf.cert, key=leaf.key) as srv:
        fails(logged, f'AT+CIPSTART="SSL","localhost",{srv.port}')
        server_heard(srv, "certificate expired")


def test_fails_while_the_clock_reads_1970(logged):
    """The factory server certificate is valid from 2024: a module whose
    clock was never set finds it not yet valid, as a real one does."""
    m = re.fullmatch(rb"\+SYSTIMESTAMP:(\d+)\r\n" + OK, logged.cmd("AT+SYSTIMESTAMP?"))
    assert m and int(m.group(1)) < 86400
    ok(logged, "AT+CIPSSLCCONF=2")
    with TlsServer() as srv:
        fails(logged, f'AT+CIPSTART="SSL","localhost",{srv.port}')
        server_heard(srv, "bad certificate")
        warned(logged, rf"tls: SSL connection to localhost \(127\.0\.0\.1:{srv.port}\) failed: "
                       r"the module's clock is not set \(it reads 1970-01-01 00:00:\d\d UTC\) "
                       r"and the server's certificate is valid only from 2024-01-01 00:00:00 UTC; "
                       r"set it with AT\+SYSTIMESTAMP or SNTP \(AT\+CIPSNTPCFG\)")
        set_clock(logged)
        start(logged, srv.port, typ="SSL", host="localhost")
        exchange(logged, srv.accept())


@pytest.mark.parametrize("version", [TLS12, TLS13], ids=VERSIONS.get)
def test_fails_without_the_client_certificate_the_server_requires(logged, version):
    """auth 0 to a server that requires a client certificate. TLS 1.2: the
    handshake fails, ERROR. TLS 1.3: the client's side of the handshake ends
    before the server has judged its (empty) certificate, so AT+CIPSTART
    answers CONNECT OK and the refusal closes the link (COMPAT #89)."""
    with TlsServer(client_ca=ROOT, version=version) as srv:
        if version == TLS12:
            fails(logged, f'AT+CIPSTART="SSL","127.0.0.1",{srv.port}')
        else:
            ok(logged, f'AT+CIPSTART="SSL","127.0.0.1",{srv.port}', b"CONNECT\r\n")
            logged.expect(b"CLOSED\r\n")
            assert logged.cmd("AT+CIPSTATE?") == b"\r\nOK\r\n"
        assert re.search(r"did not return a certificate|certificate required", srv.failure())
        srv.no_accept()


@pytest.mark.parametrize("flag", ["-tls1_2", "-tls1_3"])
def test_fails_psk_mismatch(logged, flag):
    ok(logged, 'AT+CIPSSLCPSK="not the key","espat"')
    with Openssl.server("-nocert", "-psk", "6b6579", "-psk_identity", "espat", flag) as s:
        fails(logged, f'AT+CIPSTART="SSL","127.0.0.1",{s.port}')
        s.wait_for(rb"ERROR\n")  # s_server's end of the failed handshake


def test_fails_when_the_handshake_never_ends(logged):
    """A server that takes the connection and says nothing: AT+CIPSTART's
    <timeout> (ms) covers the handshake too."""
    with TcpServer() as srv:
        t0 = time.monotonic()
        fails(logged, f'AT+CIPSTART="SSL","127.0.0.1",{srv.port},,,500')
        assert 0.4 <= time.monotonic() - t0 <= 3
        c = srv.accept()
        c.recv_exact(5)  # the ClientHello's record header
        try:
            c.recv_eof()  # given up: closed
        except ConnectionResetError:
            pass


def test_fails_on_a_refused_port_and_a_peer_that_is_not_tls(logged):
    port = free_port()
    fails(logged, f'AT+CIPSTART="SSL","127.0.0.1",{port}')
    warned(logged, rf"net: connect to 127\.0\.0\.1:{port} failed: Connection refused .*")
    with TcpServer() as srv:
        done = threading.Event()

        def answer_plain():
            c = srv.accept()
            c.send(b"HTTP/1.1 400 Bad Request\r\n\r\n")
            c.close()
            done.set()
        t = threading.Thread(target=answer_plain, daemon=True)
        t.start()
        fails(logged, f'AT+CIPSTART="SSL","127.0.0.1",{srv.port}')
        assert done.wait(DEADLINE)
        warned(logged, rf"tls: SSL connection to 127\.0\.0\.1:{srv.port} failed: the handshake "
                       r"failed: .+")
    ok(logged, "AT+CIPSTATE?")


# ---- a running link -----------------------------------------------------------------

@pytest.mark.parametrize("version", [TLS12, TLS13], ids=VERSIONS.get)
def test_fatal_alert_closes_the_link(net, version):
    with TcpServer() as srv:
        net.write(f'AT+CIPSTART="SSL","127.0.0.1",{srv.port}\r\n')  # the handshake is ours
        b = BioTls(srv.accept(), server_context(version=version))
        net.expect(b"CONNECT\r\n" + OK)
        b.send(b"before")
        assert ipd(net)[1] == b"before"
        b.fatal_alert()
        net.expect(b"CLOSED\r\n")
        ok(net, "AT+CIPSTATE?")
        ok(net, "AT")


def test_broken_record_closes_the_link(net):
    """Bytes in the clear in the middle of the session."""
    with TlsServer() as srv:
        start(net, srv.port, typ="SSL")
        c = srv.accept()
        c.send(b"fine")
        assert ipd(net)[1] == b"fine"
        os.write(c.sock.fileno(), b"\x17\x03\x03\x00\x05plain")  # under the TLS layer
        net.expect(b"CLOSED\r\n")
        ok(net, "AT")


def test_peer_close_notify_closes_the_link(net):
    with TlsServer() as srv:
        start(net, srv.port, typ="SSL")
        c = srv.accept()
        c.send(b"last words")
        assert ipd(net)[1] == b"last words"
        c.close_notify()
        net.expect(b"CLOSED\r\n")
        ok(net, "AT+CIPSTATE?")


@pytest.mark.parametrize("how", ["fin", "rst"])
def test_peer_gone_without_close_notify_closes_the_link(net, how):
    with TlsServer() as srv:
        start(net, srv.port, typ="SSL")
        c = srv.accept()
        if how == "fin":
            c.close()
        else:
            c.reset()
        net.expect(b"CLOSED\r\n")
        ok(net, "AT")


def test_openssl_server_closes_the_link(net):
    """s_server's q: the connection ends without close_notify."""
    with Openssl.server("-cert", SERVER_CERT, "-key", SERVER_KEY) as s:
        start(net, s.port, typ="SSL")
        s.wait_for(rb"CIPHER is ")
        s.send(b"hello from s_server\n")
        assert ipd(net)[1] == b"hello from s_server\n"
        send(net, b"hello from the module\n")
        s.wait_for(rb"hello from the module\n")
        s.send(b"q\n")
        net.expect(b"CLOSED\r\n")
        ok(net, "AT")


# ---- SNI and ALPN, as the server sees them -------------------------------------------------

def test_sni_is_the_host_name_and_none_for_an_address(net):
    with TlsServer() as srv:
        start(net, srv.port, typ="SSL", host="localhost")
        c = srv.accept()
        assert c.hello == ("localhost", [])
        assert c.sni == "localhost"
        ok(net, "AT+CIPCLOSE", b"CLOSED\r\n")
        start(net, srv.port, typ="SSL", host="127.0.0.1")
        c = srv.accept()
        assert c.hello == (None, [])
        assert c.sni is None


def test_csni_overrides_the_server_name(net):
    ok(net, "AT+CIPSSLCSNI?", b'+CIPSSLCSNI:0,""\r\n')
    ok(net, 'AT+CIPSSLCSNI="espat.local"')
    ok(net, "AT+CIPSSLCSNI?", b'+CIPSSLCSNI:0,"espat.local"\r\n')
    set_clock(net)
    ok(net, "AT+CIPSSLCCONF=2")
    with TlsServer() as srv:
        start(net, srv.port, typ="SSL", host="127.0.0.1")
        c = srv.accept()
        assert (c.hello[0], c.sni) == ("espat.local", "espat.local")
        ok(net, "AT+CIPCLOSE", b"CLOSED\r\n")
        start(net, srv.port, typ="SSL", host="localhost")
        assert srv.accept().sni == "espat.local"


def test_alpn_offered_in_order_and_the_server_picks(net):
    ok(net, "AT+CIPSSLCALPN?", b"+CIPSSLCALPN:0\r\n")
    ok(net, 'AT+CIPSSLCALPN=3,"spdy/1","http/1.1","h2"')
    ok(net, "AT+CIPSSLCALPN?", b'+CIPSSLCALPN:0,"spdy/1","http/1.1","h2"\r\n')
    with TlsServer(alpn=["x-none", "h2", "http/1.1"]) as srv:  # the server's preference
        start(net, srv.port, typ="SSL")
        c = srv.accept()
        assert c.hello[1] == ["spdy/1", "http/1.1", "h2"]
        assert c.alpn == "h2"
        exchange(net, c)
    with TlsServer(alpn=["x-none"]) as srv:  # nothing in common: no ALPN, still a session
        ok(net, "AT+CIPCLOSE", b"CLOSED\r\n")
        start(net, srv.port, typ="SSL")
        c = srv.accept()
        assert c.alpn is None
        exchange(net, c)
        ok(net, "AT+CIPCLOSE", b"CLOSED\r\n")
        ok(net, "AT+CIPSSLCALPN=0")
        ok(net, "AT+CIPSSLCALPN?", b"+CIPSSLCALPN:0\r\n")
        start(net, srv.port, typ="SSL")
        assert srv.accept().hello[1] == []


# ---- TLS versions and PSK ------------------------------------------------------------------

@pytest.mark.parametrize("version", [TLS12, TLS13], ids=VERSIONS.get)
def test_tls_version_forced_by_a_python_server(net, version):
    with TlsServer(version=version) as srv:
        start(net, srv.port, typ="SSL")
        c = srv.accept()
        assert c.version == VERSIONS[version]
        exchange(net, c)


@pytest.mark.parametrize("flag,cipher", [("-tls1_2", rb"ECDHE-[A-Z0-9-]+"),
                                         ("-tls1_3", rb"TLS_[A-Z0-9_]+")])
def test_tls_version_forced_by_openssl_s_server(net, flag, cipher):
    set_clock(net)
    ok(net, "AT+CIPSSLCCONF=3,0,0")
    with Openssl.server("-cert", SERVER_CERT, "-key", SERVER_KEY, "-Verify", "1", "-CAfile",
                        ROOT, "-verify_return_error", flag) as s:
        start(net, s.port, typ="SSL", host="localhost")
        s.wait_for(rb"CIPHER is " + cipher + rb"\n")
        s.wait_for(rb"subject=O = espat, CN = espat-client-00")
        send(net, b"over " + flag.encode() + b"\n")
        s.wait_for(rb"over " + flag.encode() + rb"\n")
        s.send(b"back\n")
        assert ipd(net)[1] == b"back\n"


PSK = bytes(range(0x30, 0x40))  # 16 bytes, printable: AT+CIPSSLCPSK can carry them


@pytest.mark.parametrize("flag", ["-tls1_2", "-tls1_3"])
@pytest.mark.parametrize("form", ["CPSK", "CPSKHEX"])
def test_psk_with_openssl_s_server(net, form, flag):
    """A server with no certificate at all (-nocert), so only a PSK can
    succeed: the key and the identity, which is the module's <hint>
    (s_server warns when the identity is not the one it expects; under
    TLS 1.3 it does not find the key without it)."""
    key = PSK.decode() if form == "CPSK" else PSK.hex()
    ok(net, f'AT+CIPSSL{form}="{key}","espat-id"')
    ok(net, "AT+CIPSSLCPSK?", b'+CIPSSLCPSK:0,"%s","espat-id"\r\n' % PSK)
    ok(net, "AT+CIPSSLCPSKHEX?", b'+CIPSSLCPSKHEX:0,"%s","espat-id"\r\n' % PSK.hex().encode())
    with Openssl.server("-nocert", "-psk", PSK.hex(), "-psk_identity", "espat-id", flag) as s:
        start(net, s.port, typ="SSL")
        cipher = s.wait_for(rb"CIPHER is (\S+)\n").group(1)
        assert (b"PSK" if flag == "-tls1_2" else b"TLS_") in cipher
        assert b"PSK warning" not in s.out
        send(net, b"psk data\n")
        s.wait_for(rb"psk data\n")
        s.send(b"psk back\n")
        assert ipd(net)[1] == b"psk back\n"


def test_psk_cleared_with_empty_strings(net):
    """AT+CIPSSLCPSK="","" takes the key away: a certificate server over
    TLS 1.2 is reached as before it was set."""
    ok(net, 'AT+CIPSSLCPSK="key","id"')
    ok(net, 'AT+CIPSSLCPSK="",""')
    ok(net, "AT+CIPSSLCPSKHEX?", b'+CIPSSLCPSKHEX:0,"",""\r\n')
    with TlsServer(version=TLS12) as srv:
        start(net, srv.port, typ="SSL")
        c = srv.accept()
        assert "PSK" not in c.sock.cipher()[0]
        exchange(net, c)


def test_psk_set_still_reaches_a_certificate_server_over_tls12(net):
    """docs/internals/tls.md: with a key set, the PSK suites are offered
    besides the usual ones, not instead of them."""
    ok(net, 'AT+CIPSSLCPSK="key","id"')
    with TlsServer(version=TLS12) as srv:
        start(net, srv.port, typ="SSL")
        exchange(net, srv.accept())


# ---- settings: per link, all links, persistence, bad input -------------------------------------

def test_mux_settings_per_link_and_for_all_links(net):
    ok(net, "AT+CIPMUX=1")
    ok(net, "AT+CIPSSLCCONF=5,2,0,1")
    ok(net, "AT+CIPSSLCCONF=3,1,1,0")
    assert query(net, "CIPSSLCCONF") == [f"+CIPSSLCCONF:{i},{'1,1,0' if i == 3 else '2,0,1'}"
                                         for i in range(5)]
    ok(net, 'AT+CIPSSLCCN=5,"all.example"')
    ok(net, 'AT+CIPSSLCCN=0,"zero.example"')
    assert query(net, "CIPSSLCCN") == ['+CIPSSLCCN:0,"zero.example"'] + \
        [f'+CIPSSLCCN:{i},"all.example"' for i in range(1, 5)]
    ok(net, 'AT+CIPSSLCSNI=5,"all.example"')
    ok(net, 'AT+CIPSSLCSNI=1,"one.example"')
    assert query(net, "CIPSSLCSNI") == [
        f'+CIPSSLCSNI:{i},"{"one" if i == 1 else "all"}.example"' for i in range(5)]
    ok(net, 'AT+CIPSSLCALPN=2,2,"h2","http/1.1"')
    assert query(net, "CIPSSLCALPN") == [
        f'+CIPSSLCALPN:{i}' + (',"h2","http/1.1"' if i == 2 else "") for i in range(5)]
    ok(net, 'AT+CIPSSLCPSK=4,"key","id4"')
    ok(net, 'AT+CIPSSLCPSKHEX=5,"00ff","all"')
    ok(net, 'AT+CIPSSLCPSKHEX=4,"6b6579","id4"')
    assert query(net, "CIPSSLCPSKHEX") == [
        f'+CIPSSLCPSKHEX:{i},' + ('"6b6579","id4"' if i == 4 else '"00ff","all"')
        for i in range(5)]
    assert query(net, "CIPSSLCPSK")[4] == '+CIPSSLCPSK:4,"key","id4"'
    # single mode: link 0's settings, no link ID in the command
    ok(net, "AT+CIPMUX=0")
    assert query(net, "CIPSSLCCONF") == ["+CIPSSLCCONF:0,2,0,1"]
    assert query(net, "CIPSSLCSNI") == ['+CIPSSLCSNI:0,"all.example"']
    ok(net, 'AT+CIPSSLCSNI="single.example"')
    ok(net, "AT+CIPMUX=1")
    assert query(net, "CIPSSLCSNI")[:2] == ['+CIPSSLCSNI:0,"single.example"',
                                            '+CIPSSLCSNI:1,"one.example"']


def test_mux_links_use_their_own_settings(net):
    ok(net, "AT+CIPMUX=1")
    ok(net, 'AT+CIPSSLCSNI=5,"all.example"')
    ok(net, 'AT+CIPSSLCSNI=1,"one.example"')
    ok(net, 'AT+CIPSSLCALPN=2,1,"h2"')
    ok(net, "AT+CIPSSLCCONF=3,1,1,0")
    want = {1: ("one.example", None, None), 2: ("all.example", "h2", None),
            3: ("all.example", None, "espat-client-01")}
    with TlsServer(client_ca=ROOT, client_cert=ssl.CERT_OPTIONAL, alpn=["h2"]) as srv:
        conns = {}
        for i in want:
            start(net, srv.port, link=i, typ="SSL")
            c = conns[i] = srv.accept()
            assert (c.sni, c.alpn, c.peer_cn()) == want[i], i
        for i, c in conns.items():
            send(net, b"to %d" % i, link=i)
            assert c.recv_exact(4) == b"to %d" % i
            c.send(b"from %d" % i)
            assert ipd(net)[:2] == (i, b"from %d" % i)


SSL_QUERIES = ["CIPSSLCCONF", "CIPSSLCCN", "CIPSSLCSNI", "CIPSSLCALPN", "CIPSSLCPSK",
               "CIPSSLCPSKHEX"]


def ssl_settings(dut):
    """Every SSL setting of every link ID, as the queries print them."""
    return {c: query(dut, c) for c in SSL_QUERIES}


def restart(dut):
    """AT+RST; echo off again; multiple connections (not saved) for the
    queries to list every link ID."""
    assert dut.cmd("AT+RST") == OK
    dut.expect(READY)
    assert dut.cmd("ATE0") == b"ATE0\r\n" + OK
    ok(dut, "AT+CIPMUX=1")


def change_every_setting(dut, tag):
    ok(dut, f"AT+CIPSSLCCONF=5,{tag % 4},{tag % 2},{tag % 2}")
    ok(dut, f'AT+CIPSSLCCN=5,"cn{tag}.example"')
    ok(dut, f'AT+CIPSSLCSNI=5,"sni{tag}.example"')
    ok(dut, f'AT+CIPSSLCALPN=5,2,"h{tag}","mqtt"')
    ok(dut, f'AT+CIPSSLCPSK=5,"key{tag}","id{tag}"')
    ok(dut, f'AT+CIPSSLCSNI={tag % 5},"only{tag}.example"')  # one link differs
    ok(dut, f'AT+CIPSSLCCN={tag % 5},"a,b\\"c{tag}"')  # saved escaped, printed raw


def test_settings_survive_a_restart_under_sysstore_1_only(dut):
    assert dut.cmd("ATE0") == b"ATE0\r\n" + OK
    ok(dut, "AT+CIPMUX=1")
    defaults = ssl_settings(dut)
    assert defaults["CIPSSLCCONF"] == [f"+CIPSSLCCONF:{i},0,0,0" for i in range(5)]
    assert defaults["CIPSSLCPSK"] == [f'+CIPSSLCPSK:{i},"",""' for i in range(5)]
    ok(dut, "AT+SYSSTORE?", b"+SYSSTORE:1\r\n")
    change_every_setting(dut, 3)
    saved = ssl_settings(dut)
    assert saved["CIPSSLCCONF"][0] == "+CIPSSLCCONF:0,3,1,1"
    assert saved["CIPSSLCSNI"][3] == '+CIPSSLCSNI:3,"only3.example"'
    assert saved["CIPSSLCALPN"][1] == '+CIPSSLCALPN:1,"h3","mqtt"'
    assert saved["CIPSSLCPSKHEX"][4] == '+CIPSSLCPSKHEX:4,"6b657933","id3"'
    assert saved["CIPSSLCCN"][3] == '+CIPSSLCCN:3,"a,b"c3"'
    restart(dut)
    assert ssl_settings(dut) == saved
    ok(dut, "AT+SYSSTORE=0")
    change_every_setting(dut, 6)
    changed = ssl_settings(dut)
    assert changed != saved and changed["CIPSSLCCN"][0] == '+CIPSSLCCN:0,"cn6.example"'
    restart(dut)
    assert ssl_settings(dut) == saved
    # AT+RESTORE erases them
    assert dut.cmd("AT+RESTORE") == OK
    dut.expect(READY)
    assert dut.cmd("ATE0") == b"ATE0\r\n" + OK
    ok(dut, "AT+CIPMUX=1")
    assert ssl_settings(dut) == defaults


def test_bad_arguments_leave_the_settings_alone(net):
    ok(net, "AT+CIPSSLCCONF=2,0,0")
    ok(net, 'AT+CIPSSLCCN="good.example"')
    ok(net, 'AT+CIPSSLCPSK="key","id"')
    before = ssl_settings(net)
    for line in ["AT+CIPSSLCCONF=4", "AT+CIPSSLCCONF=-1", "AT+CIPSSLCCONF=1,256,0",
                 "AT+CIPSSLCCONF=1,0,0,0", 'AT+CIPSSLCCONF="1"',
                 'AT+CIPSSLCALPN=2,"h2"', 'AT+CIPSSLCALPN=1,"h2","mqtt"',
                 'AT+CIPSSLCALPN=6,"a","b","c","d","e","f"', 'AT+CIPSSLCALPN=1,""',
                 'AT+CIPSSLCPSKHEX="abc","id"', 'AT+CIPSSLCPSKHEX="zz","id"',
                 f'AT+CIPSSLCPSKHEX="{"00" * 33}","id"',
                 f'AT+CIPSSLCPSK="{"k" * 33}","id"', f'AT+CIPSSLCPSK="key","{"i" * 33}"',
                 'AT+CIPSSLCPSK="key"',
                 f'AT+CIPSSLCCN="{"c" * 65}"', f'AT+CIPSSLCSNI="{"s" * 65}"',
                 'AT+CIPSSLCCN=1', 'AT+CIPSSLCCN="a","b"']:
        bad(net, line)
    assert ssl_settings(net) == before
    # the limits themselves are fine
    ok(net, f'AT+CIPSSLCCN="{"c" * 64}"')
    ok(net, f'AT+CIPSSLCSNI="{"s" * 64}"')
    ok(net, f'AT+CIPSSLCPSK="{"k" * 32}","{"i" * 32}"')
    ok(net, f'AT+CIPSSLCPSKHEX="{"ab" * 32}","id"')
    ok(net, 'AT+CIPSSLCALPN=5,"a","b","c","d","e"')
    # link IDs in multiple-connection mode
    ok(net, "AT+CIPMUX=1")
    before = ssl_settings(net)
    for line in ["AT+CIPSSLCCONF=6,0", "AT+CIPSSLCCONF=-1,0", 'AT+CIPSSLCCN=6,"x"',
                 'AT+CIPSSLCSNI=6,"x"', 'AT+CIPSSLCALPN=6,1,"h2"', 'AT+CIPSSLCPSK=6,"k","i"',
                 'AT+CIPSSLCPSKHEX=6,"00","i"', 'AT+CIPSSLCCN="no link id"',
                 "AT+CIPSSLCCONF=0,4"]:
        bad(net, line)
    assert ssl_settings(net) == before


# ---- PKI in the manufacturing NVS ---------------------------------------------------------

def test_missing_client_pki_at_cipsslcconf(logged):
    ok(logged, "AT+SYSMFG=0,\"client_key\",\"client_key.1\"")
    fails(logged, "AT+CIPSSLCCONF=1,1,0", b"NO PRVT_KEY FOUND\r\n")
    ok(logged, "AT+SYSMFG=0,\"client_cert\",\"client_cert.1\"")
    fails(logged, "AT+CIPSSLCCONF=1,1,0", b"NO CERT FOUND\r\n")
    fails(logged, "AT+CIPSSLCCONF=3,1,0", b"NO CERT FOUND\r\n")
    ok(logged, "AT+CIPSSLCCONF=2,1,1")  # verifying needs no client certificate
    ok(logged, "AT+SYSMFG=0,\"client_ca\"")
    fails(logged, "AT+CIPSSLCCONF=2,0,0", b"NO CA FOUND\r\n")
    ok(logged, "AT+CIPSSLCCONF?", b"+CIPSSLCCONF:0,2,1,1\r\n")  # unchanged by the failures
    ok(logged, "AT+CIPSSLCCONF=1,0,0")
    ok(logged, "AT+CIPMUX=1")
    fails(logged, "AT+CIPSSLCCONF=5,3,0,0", b"NO CA FOUND\r\n")


def test_missing_client_pki_at_cipstart(logged):
    ok(logged, "AT+CIPMUX=1")
    ok(logged, "AT+CIPSSLCCONF=5,3,0,0")  # while the PKI is there
    ok(logged, "AT+CIPMUX=0")
    ok(logged, "AT+SYSMFG=0,\"client_ca\",\"client_ca.0\"")
    with TlsServer() as srv:
        fails(logged, f'AT+CIPSTART="SSL","127.0.0.1",{srv.port}', b"NO CA FOUND\r\n")
        ok(logged, "AT+SYSMFG=0,\"client_cert\"")
        fails(logged, f'AT+CIPSTART="SSL","127.0.0.1",{srv.port}', b"NO CERT FOUND\r\n")
        ok(logged, "AT+CIPMUX=1")
        fails(logged, f'AT+CIPSTARTEX="SSL","127.0.0.1",{srv.port}', b"NO CERT FOUND\r\n")
        srv.no_accept()  # no connection was tried
        ok(logged, "AT+CIPSSLCCONF=0,0")  # link 0 needs nothing now; link 1 still does
        start(logged, srv.port, link=0, typ="SSL")
        fails(logged, f'AT+CIPSTART=1,"SSL","127.0.0.1",{srv.port}', b"NO CERT FOUND\r\n")


def test_missing_server_pki_at_cipserver(logged):
    ok(logged, "AT+CIPMUX=1")
    port = free_port()
    ok(logged, "AT+SYSMFG=0,\"server_ca\"")
    fails(logged, f'AT+CIPSERVER=1,{port},"SSL",1', b"NO CA FOUND\r\n")
    ok(logged, "AT+CIPSERVER?", b"+CIPSERVER:0\r\n")
    ok(logged, f'AT+CIPSERVER=1,{port},"SSL"')  # not verifying clients: no CA needed
    ok(logged, "AT+CIPSERVER=0")
    ok(logged, "AT+SYSMFG=0,\"server_key\"")
    fails(logged, f'AT+CIPSERVER=1,{port},"SSL"', b"NO PRVT_KEY FOUND\r\n")
    ok(logged, "AT+SYSMFG=0,\"server_cert\"")
    fails(logged, f'AT+CIPSERVER=1,{port},"SSL"', b"NO CERT FOUND\r\n")
    ok(logged, f"AT+CIPSERVER=1,{port}")  # a TCP server needs none of it


def test_replaced_pki_written_with_sysmfg(net, tmp_path):
    """A host's own PKI through AT+SYSMFG=2: a CA as client_ca.1, a client
    certificate and key as client_cert.1/client_key.1, a server certificate
    and key for the module's server; each then used."""
    mine = pki.make_ca(tmp_path, "mine", key_type="ec")
    srv_leaf = pki.make_leaf(tmp_path, mine, "srv", "my-server", sans=["localhost", "127.0.0.1"],
                             key_type="ec")
    cli_leaf = pki.make_leaf(tmp_path, mine, "cli", "my-client", server=False, key_type="ec")
    mfg_write(net, "client_ca", "client_ca.1", read_file(mine.cert))
    mfg_write(net, "client_cert", "client_cert.1", read_file(cli_leaf.cert))
    mfg_write(net, "client_key", "client_key.1", read_file(cli_leaf.key))
    set_clock(net)
    ok(net, "AT+SYSLOG=1")
    with TlsServer(cert=srv_leaf.cert, key=srv_leaf.key) as srv:
        ok(net, "AT+CIPSSLCCONF=2,0,0")  # the factory root does not know this server
        fails(net, f'AT+CIPSTART="SSL","localhost",{srv.port}')
        server_heard(srv, "unknown ca")
        ok(net, "AT+CIPSSLCCONF=2,0,1")
        start(net, srv.port, typ="SSL", host="localhost")
        exchange(net, srv.accept())
        ok(net, "AT+CIPCLOSE", b"CLOSED\r\n")
    with TlsServer(cert=srv_leaf.cert, key=srv_leaf.key, client_ca=mine.cert) as srv:
        ok(net, "AT+CIPSSLCCONF=3,1,1")
        start(net, srv.port, typ="SSL", host="localhost")
        c = srv.accept()
        assert c.peer_cn() == "my-client"
        exchange(net, c)
        ok(net, "AT+CIPCLOSE", b"CLOSED\r\n")
    # the module's server
    mfg_write(net, "server_cert", "server_cert", read_file(srv_leaf.cert))
    mfg_write(net, "server_key", "server_key", read_file(srv_leaf.key))
    ok(net, "AT+CIPMUX=1")
    port = free_port()
    ok(net, f'AT+CIPSERVER=1,{port},"SSL"')
    c = tls_client(port, ca=mine.cert)
    net.expect(b"0,CONNECT\r\n")
    assert c.peer_cn() == "my-server"
    exchange(net, c, link=0)


def test_unparsable_pki_fails_the_connect(logged):
    """PKI that is there but is no PEM passes the presence checks and fails
    the connect or the server with a plain ERROR."""
    junk = b"-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n"
    mfg_write(logged, "client_ca", "client_ca.1", junk)
    mfg_write(logged, "client_key", "client_key.1", b"\x00\xff" * 40)
    ok(logged, "AT+CIPSSLCCONF=2,0,1")
    with TlsServer(client_ca=ROOT) as srv:
        fails(logged, f'AT+CIPSTART="SSL","127.0.0.1",{srv.port}')
        ok(logged, "AT+CIPSSLCCONF=1,1,0")
        fails(logged, f'AT+CIPSTART="SSL","127.0.0.1",{srv.port}')
        ok(logged, "AT+CIPSSLCCONF=1,0,0")
        start(logged, srv.port, typ="SSL")
        exchange(logged, srv.accept())
        ok(logged, "AT+CIPCLOSE", b"CLOSED\r\n")
    ok(logged, "AT+CIPMUX=1")
    mfg_write(logged, "server_cert", "server_cert", junk)
    fails(logged, f'AT+CIPSERVER=1,{free_port()},"SSL"')
    ok(logged, "AT+CIPSERVER?", b"+CIPSERVER:0\r\n")


# ---- the module's SSL server ----------------------------------------------------------------

def ssl_server(dut, ca_enable=None, typ="SSL"):
    """AT+CIPMUX=1, AT+CIPSERVER=1,<free port>,"SSL"[,<CA enable>];
    returns the port."""
    ok(dut, "AT+CIPMUX=1")
    port = free_port()
    ca = "" if ca_enable is None else f",{ca_enable}"
    ok(dut, f'AT+CIPSERVER=1,{port},"{typ}"{ca}')
    ok(dut, "AT+CIPSERVER?", b'+CIPSERVER:1,%d,"%s",%d\r\n' % (port, typ.encode(),
                                                                ca_enable or 0))
    return port


@pytest.mark.parametrize("version", [TLS12, TLS13], ids=VERSIONS.get)
def test_ssl_server_with_a_python_client(net, version):
    port = ssl_server(net)
    c = tls_client(port, version=version)
    net.expect(b"0,CONNECT\r\n")
    assert c.peer_cn() == "espat-server" and c.version == VERSIONS[version]
    m = re.fullmatch(rb'\+CIPSTATE:0,"SSL","127\.0\.0\.1",(\d+),%d,1\r\n' % port + OK,
                     net.cmd("AT+CIPSTATE?"))
    assert m and int(m.group(1)) == c.sock.getsockname()[1]
    exchange(net, c, link=0)
    c2 = tls_client(port)
    net.expect(b"1,CONNECT\r\n")
    c2.send(b"second")
    assert ipd(net)[:2] == (1, b"second")
    c2.close_notify()
    net.expect(b"1,CLOSED\r\n")
    ok(net, "AT+CIPCLOSE=0", b"0,CLOSED\r\n")
    assert c.recv_eof() == b""


def test_ssl_server_with_openssl_s_client(net):
    port = ssl_server(net)
    with Openssl.client(port) as cli:
        net.expect(b"0,CONNECT\r\n")
        cli.wait_for(rb"Verify return code: 0 \(ok\)")
        cli.send(b"hello from s_client\n")
        assert ipd(net)[:2] == (0, b"hello from s_client\n")
        send(net, b"hello from the module\n", link=0)
        cli.wait_for(rb"hello from the module\n")


def refused_by_the_module(port, **client):
    """A client the module's server refuses: its handshake fails or, under
    TLS 1.3 (where the client's side of the handshake ends first), its
    first read does."""
    try:
        c = tls_client(port, **client)
    except (ssl.SSLError, ConnectionError):
        return
    with pytest.raises((ssl.SSLError, ConnectionError)):
        c.recv_eof()


def test_ssl_server_requires_client_certificates(logged):
    set_clock(logged)
    port = ssl_server(logged, ca_enable=1)
    c = tls_client(port, cert=CLIENT_CERT[1], key=CLIENT_KEY[1])
    logged.expect(b"0,CONNECT\r\n")
    exchange(logged, c, link=0)
    # without one: the client is refused and vanishes, no CONNECT
    for version in (TLS12, TLS13):
        refused_by_the_module(port, version=version)
    with Openssl.client(port) as cli:
        cli.wait_for(rb"alert|error")
    ok(logged, "AT")
    assert logged.buf == b"", esc(logged.buf)
    m = re.findall(rb"\+CIPSTATE:(\d),", logged.cmd("AT+CIPSTATE?"))
    assert m == [b"0"]
    c.send(b"still here")
    assert ipd(logged)[:2] == (0, b"still here")


def test_ssl_server_checks_client_certificates_against_the_module_clock(net):
    """A server started while the clock reads 1970 refuses client_cert_01
    (valid from 2024); once AT+SYSTIMESTAMP sets the clock it takes it."""
    port = ssl_server(net, ca_enable=1)
    for version in (TLS12, TLS13):
        refused_by_the_module(port, cert=CLIENT_CERT[1], key=CLIENT_KEY[1], version=version)
    ok(net, "AT")
    set_clock(net)
    tls_client(port, cert=CLIENT_CERT[1], key=CLIENT_KEY[1])
    net.expect(b"0,CONNECT\r\n")


def test_ssl_server_closing_its_clients_sends_close_notify(net):
    port = ssl_server(net)
    a = tls_client(port)
    net.expect(b"0,CONNECT\r\n")
    b = tls_client(port)
    net.expect(b"1,CONNECT\r\n")
    ok(net, "AT+CIPSERVER=0,1", b"0,CLOSED\r\n1,CLOSED\r\n")
    assert (a.recv_eof(), b.recv_eof()) == (b"", b"")
    with pytest.raises(OSError):
        tls_client(port)


def test_ssl_server_connection_limit_and_idle_timeout(net):
    """AT+CIPSERVERMAXCONN counts SSL clients once their handshake is over:
    one more is reset with "Have 1 Connections". AT+CIPSTO closes an idle
    one with close_notify."""
    ok(net, "AT+CIPMUX=1")
    ok(net, "AT+CIPSERVERMAXCONN=1")
    ok(net, "AT+CIPSTO=1")
    port = ssl_server(net)
    a = tls_client(port)
    net.expect(b"0,CONNECT\r\n")
    try:
        b = tls_client(port)
        with pytest.raises((ssl.SSLError, ConnectionError)):
            b.recv_eof()
    except (ssl.SSLError, ConnectionError):
        pass  # reset before our side of the handshake ended
    net.expect(b"Have 1 Connections\r\n")
    net.expect(b"0,CLOSED\r\n", timeout=3)  # idle for AT+CIPSTO's second
    assert a.recv_eof() == b""


def test_ssl_server_ignores_clients_that_are_not_tls(net):
    port = ssl_server(net)
    c = Conn.connect(port)
    c.send(b"GET / HTTP/1.0\r\n\r\n")
    try:
        c.recv_eof()  # the module answers with an alert, or nothing, and closes
    except ConnectionResetError:
        pass
    ok(net, "AT")
    assert net.buf == b""
    c2 = tls_client(port)
    net.expect(b"0,CONNECT\r\n")  # the first ID is still free
    exchange(net, c2, link=0)


def test_sslv6_server_and_client(net):
    if not has_ipv6_loopback():
        note("test_ssl: SSLv6 skipped, the host has no ::1")
        pytest.skip("the host has no ::1")
    ok(net, "AT+CIPV6=1")
    port = ssl_server(net, typ="SSLv6")
    c = tls_client(port, host="::1")
    net.expect(b"0,CONNECT\r\n")
    exchange(net, c, link=0)
    with TlsServer(host="::1") as srv:
        start(net, srv.port, link=1, typ="SSLv6", host="::1")
        s = srv.accept()
        state = net.cmd("AT+CIPSTATE?")
        assert b'+CIPSTATE:1,"SSLv6","::1",%d,' % srv.port in state, esc(state)
        exchange(net, s, link=1)


# ---- the data paths of TCP, over TLS -----------------------------------------------------------

def test_passive_receive_over_ssl(net):
    with TlsServer() as srv:
        start(net, srv.port, typ="SSL")
        c = srv.accept()
        ok(net, "AT+CIPRECVTYPE=1")
        c.send(b"hello")
        net.expect(b"+IPD,5\r\n")  # plaintext bytes, not record bytes
        ok(net, "AT+CIPRECVLEN?", b"+CIPRECVLEN:5\r\n")
        ok(net, "AT+CIPRECVDATA=3", b"+CIPRECVDATA:3,hel\r\n")
        ok(net, "AT+CIPRECVDATA=10", b"+CIPRECVDATA:2,lo\r\n")
        data = pattern(20 * 1024, seed=21)
        c.send(data)
        got = bytearray()
        net.expect_re(rb"\+IPD,\d+\r\n")
        rx = re.compile(rb"(?:\+IPD,\d+\r\n)*(?:\+CIPRECVDATA:(\d+),|\r\nERROR\r\n)")
        while len(got) < len(data):
            net.write(b"AT+CIPRECVDATA=2048\r\n")
            m = net.expect_re(rx)
            if m.group(1) is None:  # all read: the next notice says more came
                net.expect_re(rb"\+IPD,\d+\r\n")
                continue
            n = int(m.group(1))
            assert 0 < n <= 2048
            got += read_n(net, n)
            net.expect(b"\r\n" + OK)
        assert sha(got) == sha(data)
        ok(net, "AT+CIPRECVLEN?", b"+CIPRECVLEN:0\r\n")


def test_cipsendl_a_megabyte_over_ssl(net):
    total = 1024 * 1024 + 77
    data = pattern(total, seed=22)
    with TlsServer() as srv:
        start(net, srv.port, typ="SSL")
        c = srv.accept()
        reader = read_thread(c, total)
        prompt(net, f"AT+CIPSENDL={total}")
        writer = write_thread(net, data)
        last = None
        rx = re.compile(rb"\+CIPSEND:(\d+),(\d+)\r\n|\r\nSEND OK\r\n")
        while (m := net.expect_re(rx, timeout=20)).group(1) is not None:
            last = (int(m.group(1)), int(m.group(2)))
        joined(writer)
        joined(reader)
        assert sha(reader.data) == sha(data), "the peer got other bytes"
        assert last == (total, total)
        ok(net, "AT")


def test_passthrough_over_ssl(net):
    with TlsServer() as srv:
        start(net, srv.port, typ="SSL")
        c = srv.accept()
        ok(net, "AT+CIPMODE=1")
        prompt(net, "AT+CIPSEND")
        up = every_byte(64) + b"+++" + every_byte(64)  # a +++ inside data is data
        net.write(up)
        assert sha(c.recv_exact(len(up))) == sha(up)
        down = every_byte(300)
        c.send(down)
        assert sha(read_n(net, len(down))) == sha(down)
        guarded_plus(net)
        net.quiet(0.05)
        ok(net, "AT")
        ok(net, "AT+CIPMODE=0")
        c.send(b"normal")
        assert ipd(net)[1] == b"normal"


def test_passthrough_over_ssl_reconnects(net):
    """In passthrough a lost SSL link is opened again, with a new handshake;
    bytes typed meanwhile go out on the new session."""
    ok(net, "AT+CIPRECONNINTV=1")
    with TlsServer() as srv:
        start(net, srv.port, typ="SSL", host="localhost")
        ok(net, "AT+CIPMODE=1")
        prompt(net, "AT+CIPSEND")
        c = srv.accept()
        net.write(b"first")
        assert c.recv_exact(5) == b"first"
        c.close_notify()
        c = srv.accept()
        assert c.sni == "localhost"
        net.write(b"second")
        assert c.recv_exact(6) == b"second"
        c.send(b"down")
        assert read_n(net, 4) == b"down"
        guarded_plus(net)
        ok(net, "AT")


def test_savetranslink_ssl_after_power_cut(net):
    """The boot link uses link 0's saved SSL settings, loaded before it
    opens: its client certificate (auth 1, pki 1) and its SNI."""
    ok(net, "AT+CIPSSLCCONF=1,1,0")
    ok(net, 'AT+CIPSSLCSNI="boot.example"')
    with TlsServer(client_ca=ROOT) as srv:
        ok(net, f'AT+SAVETRANSLINK=1,"localhost",{srv.port},"SSL"')
        net.ctl("power-cut")
        net.expect(READY)
        c = srv.accept()
        assert (c.sni, c.peer_cn()) == ("boot.example", "espat-client-01")
        c.send(b"from peer\r\n")
        assert read_n(net, 11) == b"from peer\r\n"
        net.write(b"AT\r\n")  # data, not a command
        assert c.recv_exact(4) == b"AT\r\n"
        guarded_plus(net)
        assert net.cmd("ATE0") == b"ATE0\r\n" + OK
        m = re.fullmatch(rb'\+CIPSTATE:0,"SSL","127\.0\.0\.1",%d,\d+,0\r\n' % srv.port + OK,
                         net.cmd("AT+CIPSTATE?"))
        assert m
        ok(net, "AT+SAVETRANSLINK=0")

