"""The TLS filter (src/posix/tls_openssl*.c) over the Linux net port,
against real peers on loopback: Python's ssl module, `openssl s_server` and
`openssl s_client`. It runs tests/tools/net_check with --tls (the filter
layered over the port, as the app wires it); its steps and output lines are
described at the top of net_check.c, and NetCheck comes from
test_net_posix.py. The tool is $ESPAT_BUILD/tests/net_check (default
build/): point ESPAT_BUILD at an ASan build to run the same scenarios under
the sanitizers.

Covered: a client that verifies nothing; verification against a CA bundle
(right CA, wrong CA, a name that does not match, an expired certificate, a
certificate checked at the module's clock rather than the host's); client
certificates (with a chain) asked for by the server, given or not; SNI and
ALPN as the server sees them; PSK in TLS 1.2 and 1.3, matching or not;
either version forced on the server, an older one refused; bad options
(malformed PEM, a key that is not the certificate's, an encrypted key, UDP);
the server side with Python and s_client peers, client certificates
verified, handshakes that fail or never come; 1 MB each way with CRCs,
a pause from inside data(); close_notify, a FIN without it, a reset and a
broken record; plain sockets passing through the filter untouched.

Every scenario is bounded (net_check's --timeout, socket timeouts on the
peers). Nothing waits a fixed time for something to happen: peers wait for
net_check's output lines, net_check waits for callbacks. The fixed
stretches left are net_check's "sleep" steps that keep a socket paused,
which is what they test.
"""
import datetime
import os
import socket
import ssl
import struct
import subprocess
import threading
import zlib
from types import SimpleNamespace
from typing import NamedTuple

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from conftest import wait_for
from peers import Openssl
from pki import days_ago, make_ca, make_leaf
from test_net_posix import (NET_CHECK, PEER_TIMEOUT, NetCheck, echo, field, free_port, line,
                            pattern, server)  # server: the fixture, for tls_server

MB = 1 << 20
PSK = "00112233445566778899aabbccddeeff"
PSK_ID = "espat"


@pytest.fixture(scope="module", autouse=True)
def _tool():
    if not os.path.exists(NET_CHECK):
        pytest.fail(f"{NET_CHECK} is missing: build it with make all")


def tls_check(*steps, timeout=10.0, opts=()):
    """net_check --tls with these steps, to its end; its output lines."""
    with NetCheck(*steps, timeout=timeout, opts=("--tls", *opts)) as nc:
        return nc.finish()


def crc(b):
    return f"{zlib.crc32(b):08x}"


# ---- certificates -------------------------------------------------------------


def make_intermediate(d, root, name):
    """A CA signed by root (a Pair), as <name>.crt / <name>.key in d."""
    with open(root.cert, "rb") as f:
        root_cert = x509.load_pem_x509_certificate(f.read())
    with open(root.key, "rb") as f:
        root_key = serialization.load_pem_private_key(f.read(), password=None)
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"{name} Intermediate")])
    cert = (x509.CertificateBuilder()
            .subject_name(subject).issuer_name(root_cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(days_ago(1)).not_valid_after(days_ago(-365))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(
                digital_signature=False, content_commitment=False, key_encipherment=False,
                data_encipherment=False, key_agreement=False, key_cert_sign=True,
                crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                           critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                root_key.public_key()), critical=False)
            .sign(root_key, hashes.SHA256()))
    pair = SimpleNamespace(cert=os.path.join(d, name + ".crt"), key=os.path.join(d, name + ".key"))
    with open(pair.cert, "wb") as f:
        f.write(cert.public_bytes(serialization.Encoding.PEM))
    with open(pair.key, "wb") as f:
        f.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()))
    return pair


def concat(d, name, *paths):
    out = os.path.join(d, name)
    with open(out, "wb") as f:
        for p in paths:
            with open(p, "rb") as g:
                f.write(g.read())
    return out


def epoch(t):
    return int(t.replace(tzinfo=datetime.timezone.utc).timestamp())


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    """One test PKI for the module (EC keys: quick to make and to use)."""
    d = str(tmp_path_factory.mktemp("pki"))
    ca = make_ca(d, "ca", not_before=days_ago(365), key_type="ec")  # valid for "expired" too
    evil = make_ca(d, "evil", key_type="ec")
    inter = make_intermediate(d, ca, "inter")
    old_start, old_end = days_ago(60), days_ago(30)
    p = SimpleNamespace(
        dir=d, ca=ca, evil=evil,
        server=make_leaf(d, ca, "server", "localhost", sans=["localhost", "127.0.0.1"],
                         key_type="ec"),
        expired=make_leaf(d, ca, "expired", "localhost", sans=["localhost"],
                          not_before=old_start, not_after=old_end, key_type="ec"),
        expired_mid=epoch(old_start) + (epoch(old_end) - epoch(old_start)) // 2,
        client=make_leaf(d, ca, "client", "espat-client", server=False, key_type="ec"),
        evil_client=make_leaf(d, evil, "evil-client", "intruder", server=False, key_type="ec"),
        chained=make_leaf(d, inter, "chained", "espat-chained", server=False, key_type="ec"),
    )
    p.chain = concat(d, "chained-chain.crt", p.chained.cert, inter.cert)
    p.bundle = concat(d, "bundle.crt", evil.cert, ca.cert)  # the right CA second
    p.garbage = os.path.join(d, "garbage.pem")
    with open(p.garbage, "wb") as f:
        f.write(b"-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n"
                b"-----END CERTIFICATE-----\n")
    with open(p.server.key, "rb") as f:
        key = serialization.load_pem_private_key(f.read(), password=None)
    p.locked_key = os.path.join(d, "locked.key")
    with open(p.locked_key, "wb") as f:
        f.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                  serialization.BestAvailableEncryption(b"secret")))
    return p


def opts(**kw):
    """tls-set steps for the options given (cert, key, ca, name, sni, alpn,
    psk, id, now)."""
    steps = ["tls-on"]
    for k, v in kw.items():
        steps += ["tls-set", k, str(v)]
    return steps


# ---- Python TLS peers ---------------------------------------------------------


def strict(ctx):
    """Python (as Debian builds it) ignores a FIN without close_notify; our
    peers tell the two apart."""
    ctx.options &= ~ssl.OP_IGNORE_UNEXPECTED_EOF
    return ctx


def server_ctx(pair, version=None, client_ca=None, alpn=None):
    ctx = strict(ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER))
    ctx.load_cert_chain(pair.cert, pair.key)
    if version is not None:
        ctx.minimum_version = ctx.maximum_version = version
    if client_ca is not None:
        ctx.verify_mode = ssl.CERT_REQUIRED
        ctx.load_verify_locations(client_ca)
    if alpn is not None:
        ctx.set_alpn_protocols(alpn)
    return ctx


def client_ctx(ca, cert=None, version=None):
    ctx = strict(ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT))
    ctx.load_verify_locations(ca)
    if cert is not None:
        ctx.load_cert_chain(cert.cert, cert.key)
    if version is not None:
        ctx.minimum_version = ctx.maximum_version = version
    return ctx


class Refused(NamedTuple):
    """A handler result: the client's handshake failed (err: why)."""
    err: Exception


def tls_serve(server, ctx, handler):
    """A TLS server on 127.0.0.1 (Python's ssl over test_net_posix's
    Server, made by its server fixture): handler(conn) runs per connection
    after the handshake; a failed handshake is the result Refused(err).
    What each handshake showed (SNI, ALPN, version, the client's
    certificate) is in srv.sni and srv.hello."""
    sni, hello = [], []
    ctx.sni_callback = lambda sock, name, c: sni.append(name)

    def one(c):
        try:
            s = ctx.wrap_socket(c, server_side=True, suppress_ragged_eofs=False)
        except (ssl.SSLError, OSError) as e:
            return Refused(e)
        with s:
            peer = s.getpeercert()
            hello.append(SimpleNamespace(
                version=s.version(), alpn=s.selected_alpn_protocol(),
                peer=dict(x[0] for x in peer["subject"]) if peer else None))
            return handler(s)

    srv = server(one)
    srv.sni, srv.hello = sni, hello
    return srv


@pytest.fixture
def tls_server(server):
    return lambda ctx, handler=lambda s: None: tls_serve(server, ctx, handler)


def refused(srv):
    """The server's first connection failed its handshake."""
    r = srv.wait()[0]
    assert isinstance(r, Refused), r
    return r


def read_exact(s, n):
    data = bytearray()
    while len(data) < n:
        d = s.recv(min(1 << 20, n - len(data)))
        if not d:
            raise AssertionError(f"EOF after {len(data)} of {n} bytes")
        data += d
    return bytes(data)


def end_kind(s):
    """How the peer ended: "notify" (close_notify), "fin" (TCP FIN without
    close_notify), "reset", or "alert" (a fatal alert). A reset that comes
    while Python waits may look like an EOF to it: "fin"."""
    try:
        while s.recv(65536):
            pass
        return "notify"
    except ssl.SSLEOFError:
        return "fin"
    except ConnectionResetError:
        return "reset"
    except ssl.SSLError as e:
        # Python 3.11 leaves OpenSSL 3's unexpected EOF a plain SSLError
        return "fin" if e.reason == "UNEXPECTED_EOF_WHILE_READING" else "alert"


# ---- client: verification ---------------------------------------------------------


def test_no_verify_echo_1mb(pki, tls_server):
    srv = tls_server(server_ctx(pki.server), echo)
    out = tls_check(*opts(), "tcp", srv.addr, "wait-connected", "send-pattern", MB,
                    "wait-drained", "recv", MB, "endpoints", "close")
    assert line(out, "connected") == "connected OK"
    assert line(out, "recv") == f"recv {MB} crc={crc(pattern(MB))} pattern=ok"
    assert field(line(out, "endpoints"), "remote") == srv.addr
    assert srv.wait() == [MB]
    assert srv.hello[0].version == "TLSv1.3"
    assert srv.sni == [None]  # no SNI unless asked for


@pytest.mark.parametrize("ca,name", [("ca", "localhost"), ("bundle", "localhost"),
                                     ("ca", "127.0.0.1"), ("ca", None)])
def test_verify_ok(pki, tls_server, ca, name):
    srv = tls_server(server_ctx(pki.server), echo)
    kw = {"ca": pki.ca.cert if ca == "ca" else pki.bundle}
    if name is not None:
        kw["name"] = name
    out = tls_check(*opts(**kw), "tcp", srv.addr, "wait-connected", "send", "hi", "recv", 2,
                    "close")
    assert line(out, "connected") == "connected OK"
    assert srv.wait() == [2]


def test_verify_wrong_ca(pki, tls_server):
    srv = tls_server(server_ctx(pki.server))
    out = tls_check(*opts(ca=pki.evil.cert, name="localhost"), "tcp", srv.addr,
                    "wait-connected", "send", "x", "close")
    assert line(out, "connected") == "connected ECERT"
    assert line(out, "send") == "send ETLS"  # the socket is dead
    refused(srv)  # our alert ended the server's handshake


def test_verify_name_mismatch(pki, tls_server):
    srv = tls_server(server_ctx(pki.server))
    out = tls_check(*opts(ca=pki.ca.cert, name="other.example"), "tcp", srv.addr,
                    "wait-connected", "close")
    assert line(out, "connected") == "connected ECERT"


def test_verify_expired(pki, tls_server):
    srv = tls_server(server_ctx(pki.expired))
    out = tls_check(*opts(ca=pki.ca.cert), "tcp", srv.addr, "wait-connected", "close")
    assert line(out, "connected") == "connected ECERT"


def test_validity_at_the_module_clock(pki, tls_server):
    """The module's clock, not the host's: an expired certificate is fine
    when the module's clock is within its validity, a valid one is not yet
    valid when the module's clock reads 1970 (no SNTP yet)."""
    srv = tls_server(server_ctx(pki.expired))
    out = tls_check(*opts(ca=pki.ca.cert, now=pki.expired_mid), "tcp", srv.addr,
                    "wait-connected", "close")
    assert line(out, "connected") == "connected OK"
    srv2 = tls_server(server_ctx(pki.server))
    out = tls_check(*opts(ca=pki.ca.cert, now=0), "tcp", srv2.addr, "wait-connected", "close")
    assert line(out, "connected") == "connected ECERT"
    # without a CA nothing is checked, the clock included
    out = tls_check(*opts(now=0), "tcp", srv2.addr, "wait-connected", "close")
    assert line(out, "connected") == "connected OK"


# ---- client: its certificate, SNI, ALPN -------------------------------------------


@pytest.mark.parametrize("cert", ["client", "chain"])
def test_client_cert_given(pki, tls_server, cert):
    srv = tls_server(server_ctx(pki.server, client_ca=pki.ca.cert), echo)
    pair = pki.client.cert if cert == "client" else pki.chain
    key = pki.client.key if cert == "client" else pki.chained.key
    out = tls_check(*opts(cert=pair, key=key, ca=pki.ca.cert), "tcp", srv.addr,
                    "wait-connected", "send", "hello", "recv", 5, "close")
    assert line(out, "connected") == "connected OK"
    assert line(out, "recv").startswith("recv 5 ")
    srv.wait()
    assert srv.hello[0].peer["commonName"] == ("espat-client" if cert == "client"
                                               else "espat-chained")


def test_client_cert_missing_tls13(pki, tls_server):
    """TLS 1.3: the server checks the client's certificate after the
    client's handshake finished, so the refusal is an alert on the open
    connection: connected OK, then closed ETLS."""
    srv = tls_server(server_ctx(pki.server, client_ca=pki.ca.cert))
    out = tls_check(*opts(ca=pki.ca.cert), "tcp", srv.addr, "wait-connected", "wait-closed",
                    "close")
    assert line(out, "connected") == "connected OK"
    assert line(out, "closed") == "closed ETLS rx=0"
    refused(srv)


@pytest.mark.parametrize("given", [None, "evil"])
def test_client_cert_refused_tls12(pki, tls_server, given):
    """TLS 1.2: the refusal ends the handshake: connected ETLS (not ECERT:
    it is the server that did not accept us)."""
    srv = tls_server(server_ctx(pki.server, ssl.TLSVersion.TLSv1_2, client_ca=pki.ca.cert))
    kw = {"cert": pki.evil_client.cert, "key": pki.evil_client.key} if given else {}
    out = tls_check(*opts(ca=pki.ca.cert, **kw), "tcp", srv.addr, "wait-connected", "close")
    assert line(out, "connected") == "connected ETLS"
    refused(srv)


def test_sni_and_alpn(pki, tls_server):
    srv = tls_server(server_ctx(pki.server, alpn=["http/1.1", "h2"]), echo)
    out = tls_check(*opts(sni="espat.example", alpn="x-espat,http/1.1"), "tcp", srv.addr,
                    "wait-connected", "send", "x", "recv", 1, "close")
    assert line(out, "connected") == "connected OK"
    srv.wait()
    assert srv.sni == ["espat.example"]
    assert srv.hello[0].alpn == "http/1.1"


@pytest.mark.parametrize("version", [ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3])
def test_server_forces_version(pki, tls_server, version):
    srv = tls_server(server_ctx(pki.server, version), echo)
    out = tls_check(*opts(ca=pki.ca.cert, name="localhost"), "tcp", srv.addr,
                    "wait-connected", "send-pattern", 100000, "recv", 100000, "close")
    assert line(out, "connected") == "connected OK"
    assert line(out, "recv") == f"recv 100000 crc={crc(pattern(100000))} pattern=ok"
    srv.wait()
    assert srv.hello[0].version == {ssl.TLSVersion.TLSv1_2: "TLSv1.2",
                                    ssl.TLSVersion.TLSv1_3: "TLSv1.3"}[version]


def test_tls11_server_refused(pki):
    port = free_port()
    srv = Openssl(["s_server", "-quiet", "-accept", f"127.0.0.1:{port}", "-cert",
                   pki.server.cert, "-key", pki.server.key, "-tls1_1", "-cipher",
                   "DEFAULT@SECLEVEL=0"], listen_port=port)
    try:
        out = tls_check(*opts(), "tcp", f"127.0.0.1:{port}", "wait-connected", "close")
    finally:
        srv.close()
    assert line(out, "connected") == "connected ETLS"


# ---- client: PSK --------------------------------------------------------------------


@pytest.mark.parametrize("version", ["-tls1_2", "-tls1_3", None])
@pytest.mark.parametrize("key,ok", [(PSK, True), ("ff" * 16, False)])
def test_psk(version, key, ok):
    port = free_port()
    args = ["s_server", "-quiet", "-rev", "-accept", f"127.0.0.1:{port}", "-nocert", "-psk",
            PSK, "-psk_identity", PSK_ID, "-naccept", "1"] + ([version] if version else [])
    srv = Openssl(args, listen_port=port)
    try:
        steps = [*opts(psk=key, id=PSK_ID), "tcp", f"127.0.0.1:{port}", "wait-connected"]
        if ok:
            steps += ["send", "espat\n", "recv", 6]
        out = tls_check(*steps, "close")
    finally:
        srv.close()
    assert line(out, "connected") == ("connected OK" if ok else "connected ETLS")
    if ok:
        assert line(out, "recv").startswith("recv 6 ")


# ---- client: options the filter refuses -----------------------------------------


@pytest.mark.parametrize("what", ["garbage-ca", "cert-without-key", "foreign-key",
                                  "locked-key", "garbage-cert", "udp"])
def test_bad_options(pki, what):
    addr = f"127.0.0.1:{free_port()}"
    kw, op = {}, ["tcp", addr]
    if what == "garbage-ca":
        kw = {"ca": pki.garbage}
    elif what == "cert-without-key":
        kw = {"cert": pki.client.cert}
    elif what == "foreign-key":
        kw = {"cert": pki.client.cert, "key": pki.server.key}
    elif what == "locked-key":  # never a password prompt on the terminal
        kw = {"cert": pki.server.cert, "key": pki.locked_key}
    elif what == "garbage-cert":
        kw = {"cert": pki.garbage, "key": pki.server.key}
    else:
        op = ["udp", addr, 0]
    out = tls_check(*opts(**kw), *op)
    assert line(out, "open") == "open EINVAL"


@pytest.mark.parametrize("what", ["no-cert", "garbage-cert", "garbage-ca"])
def test_bad_server_options(pki, what):
    kw = {"no-cert": {},
          "garbage-cert": {"cert": pki.garbage, "key": pki.server.key},
          "garbage-ca": {"cert": pki.server.cert, "key": pki.server.key,
                         "ca": pki.garbage}}[what]
    out = tls_check(*opts(**kw), "listen", 0, "v4")
    assert line(out, "listen") == "listen EINVAL"


# ---- client: the stream ---------------------------------------------------------------


def test_send_before_connected(pki, tls_server):
    """Plaintext sent before the handshake ended goes out after it."""
    srv = tls_server(server_ctx(pki.server), echo)
    out = tls_check(*opts(), "tcp", srv.addr, "send", "early", "queued", "wait-connected",
                    "wait-drained", "recv", 5, "close")
    assert line(out, "queued") == "queued 5"
    assert line(out, "connected") == "connected OK"
    assert line(out, "recv") == f"recv 5 crc={crc(b'early')} pattern=bad@0"


def test_1mb_each_way_with_pause(pki, tls_server):
    """The server reads 1 MB, then sends 1 MB; the client pauses from inside
    the first data(), holding ciphertext it has not decrypted yet, and
    resumes after a stretch in which nothing may be delivered. (One TLS
    socket is never read and written from two Python threads at once:
    OpenSSL's SSL objects are not thread-safe, and Python's ssl crashes.)"""
    got = {}

    def read_then_send(s):
        got["in"] = read_exact(s, MB)
        s.sendall(pattern(MB))
        return end_kind(s)

    srv = tls_server(server_ctx(pki.server), read_then_send)
    out = tls_check(*opts(), "tcp", srv.addr, "wait-connected", "send-pattern", MB,
                    "pause-in-data", "wait-paused-in-data", "sleep", 300, "resume", "recv", MB,
                    "wait-drained", "close", timeout=30)
    assert line(out, "paused-in-data") == "paused-in-data rx=16384"
    assert line(out, "recv") == f"recv {MB} crc={crc(pattern(MB))} pattern=ok"
    assert srv.wait() == ["notify"]
    assert got["in"] == pattern(MB)


def test_peer_close_notify_while_paused(pki, tls_server):
    """Everything the peer sent comes before closed(0), even when the peer
    closed while the owner was paused."""
    def send_and_close(s):
        s.sendall(pattern(300000))
        s.unwrap()  # close_notify
        return True

    srv = tls_server(server_ctx(pki.server), send_and_close)
    out = tls_check(*opts(), "tcp", srv.addr, "wait-connected", "pause-in-data",
                    "wait-paused-in-data", "sleep", 300, "resume", "wait-closed", "close")
    assert line(out, "closed") == "closed OK rx=300000"
    srv.wait()


def test_peer_fin_without_close_notify(pki, tls_server):
    def send_and_fin(s):
        s.sendall(b"bye")
        socket.socket.shutdown(s, socket.SHUT_RDWR)  # no close_notify
        return True

    srv = tls_server(server_ctx(pki.server), send_and_fin)
    out = tls_check(*opts(), "tcp", srv.addr, "wait-connected", "wait-closed", "close")
    assert line(out, "closed") == "closed OK rx=3"


def test_peer_reset(pki, tls_server):
    def reset(s):
        s.recv(16)  # the client's byte: the connection is up
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        return True

    srv = tls_server(server_ctx(pki.server), reset)
    out = tls_check(*opts(), "tcp", srv.addr, "wait-connected", "send", "x", "wait-closed",
                    "close")
    assert line(out, "closed").startswith("closed ERESET")


def test_broken_record(pki, tls_server):
    def garbage(s):
        s.sendall(b"fine")
        # an application-data record whose tag cannot verify
        os.write(s.fileno(), b"\x17\x03\x03\x00\x20" + bytes(32))
        return end_kind(s)

    srv = tls_server(server_ctx(pki.server), garbage)
    out = tls_check(*opts(), "tcp", srv.addr, "wait-connected", "wait-closed", "send", "x",
                    "close")
    assert line(out, "closed") == "closed ETLS rx=4"
    assert line(out, "send") == "send ETLS"
    assert srv.wait() == ["alert"]  # bad_record_mac


@pytest.mark.parametrize("how,seen", [("close", {"notify"}), ("abort", {"reset", "fin"})])
def test_our_close(pki, tls_server, how, seen):
    srv = tls_server(server_ctx(pki.server), end_kind)
    out = tls_check(*opts(), "tcp", srv.addr, "wait-connected", how)
    assert line(out, how) == how
    assert srv.wait()[0] in seen


def test_close_inside_data(pki, tls_server):
    def talk(s):
        s.sendall(b"a" * 1000)  # one record: nothing left unread at the close
        return end_kind(s)

    srv = tls_server(server_ctx(pki.server), talk)
    out = tls_check(*opts(), "tcp", srv.addr, "wait-connected", "close-in-data",
                    "wait-closed-in-data", "sleep", 200)
    assert line(out, "closed-in-data").startswith("closed-in-data after ")
    assert srv.wait() == ["notify"]


def test_connect_refused_passes_through():
    out = tls_check(*opts(), "tcp", f"127.0.0.1:{free_port()}", "wait-connected", "close")
    assert line(out, "connected") == "connected EREFUSED"


def test_handshake_timeout_client():
    """A server that accepts and never answers the ClientHello."""
    ls = socket.socket()
    ls.bind(("127.0.0.1", 0))
    ls.listen(1)
    try:
        out = tls_check(*opts(), "tcp", f"127.0.0.1:{ls.getsockname()[1]}", "wait-connected",
                        "close", opts=("--handshake-ms", "300"))
    finally:
        ls.close()
    assert line(out, "connected") == "connected ETIMEDOUT"


# ---- plain sockets through the filter -----------------------------------------------


def test_plain_tcp_and_udp_pass_through():
    got = {}

    ls = socket.socket()
    ls.bind(("127.0.0.1", 0))
    ls.listen(1)
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.bind(("127.0.0.1", 0))
    u.settimeout(PEER_TIMEOUT)

    def peer():
        c, _ = ls.accept()
        c.settimeout(PEER_TIMEOUT)
        got["tcp"] = c.recv(100)
        c.sendall(b"plain!")
        c.close()
        d, a = u.recvfrom(100)
        u.sendto(d.upper(), a)

    t = threading.Thread(target=peer)
    t.start()
    try:
        out = tls_check("tcp", f"127.0.0.1:{ls.getsockname()[1]}", "wait-connected", "send",
                        "hello", "recv", 6, "wait-closed", "close",
                        "udp", f"127.0.0.1:{u.getsockname()[1]}", 0, "send", "dgram", "dgram",
                        "close")
    finally:
        t.join(PEER_TIMEOUT)
        ls.close()
        u.close()
    assert got["tcp"] == b"hello"
    assert line(out, "closed") == "closed OK rx=6"
    assert field(line(out, "dgram"), "text") == "DGRAM"


# ---- server ------------------------------------------------------------------------------


def with_peer(nc, peer):
    """Runs net_check to its end with peer(nc) in a thread beside it; its
    output lines."""
    with nc:
        t = threading.Thread(target=peer, args=(nc,))
        t.start()
        out = nc.finish()
        t.join(PEER_TIMEOUT)
    assert not t.is_alive(), "the peer did not finish"
    return out


def listen_port(nc):
    return int(field(nc.wait_line("listen"), "local").rsplit(":", 1)[1])


def accept_queue(port):
    """Connections waiting in the accept queue of the listener on port (the
    rx_queue of its row in /proc/net/tcp)."""
    with open("/proc/net/tcp") as f:
        for row in f.readlines()[1:]:
            r = row.split()
            if int(r[1].rsplit(":", 1)[1], 16) == port and r[3] == "0A":
                return int(r[4].split(":")[1], 16)
    raise AssertionError(f"nothing listens on {port}")


def connect_tls(port, ctx, host="localhost"):
    raw = socket.create_connection(("127.0.0.1", port), timeout=PEER_TIMEOUT)
    return ctx.wrap_socket(raw, server_hostname=host, suppress_ragged_eofs=False)


@pytest.mark.parametrize("version", [None, ssl.TLSVersion.TLSv1_2])
def test_server_1mb_each_way(pki, version):
    result = {}

    def client(nc):
        s = connect_tls(listen_port(nc), client_ctx(pki.ca.cert, version=version))
        result["version"] = s.version()
        s.sendall(pattern(MB))
        result["got"] = read_exact(s, MB)
        result["end"] = end_kind(s)
        s.close()

    nc = NetCheck(*opts(cert=pki.server.cert, key=pki.server.key), "listen", 0, "v4",
                  "accept", "pause-in-data", "wait-paused-in-data", "sleep", 300, "resume",
                  "recv", MB, "send-pattern", MB, "wait-drained", "close", timeout=30,
                  opts=("--tls",))
    out = with_peer(nc, client)
    assert line(out, "recv") == f"recv {MB} crc={crc(pattern(MB))} pattern=ok"
    assert result["got"] == pattern(MB)
    assert result["end"] == "notify"
    assert result["version"] == ("TLSv1.2" if version else "TLSv1.3")


@pytest.mark.parametrize("end", ["notify", "fin"])
def test_server_peer_ends(pki, end):
    def client(nc):
        s = connect_tls(listen_port(nc), client_ctx(pki.ca.cert))
        s.sendall(b"0123456789")
        nc.wait_line("accepted")
        if end == "notify":
            s.unwrap()
        else:
            socket.socket.shutdown(s, socket.SHUT_RDWR)
        s.close()

    nc = NetCheck(*opts(cert=pki.server.cert, key=pki.server.key), "listen", 0, "v4",
                  "accept", "wait-closed", "close", opts=("--tls",))
    out = with_peer(nc, client)
    assert line(out, "closed") == "closed OK rx=10"


def test_server_s_client(pki):
    port = free_port()
    nc = NetCheck(*opts(cert=pki.server.cert, key=pki.server.key), "listen", port, "v4",
                  "accept", "recv", 5, "send", "pong\n", "wait-drained", "close",
                  opts=("--tls",))
    with nc:
        nc.wait_line("listen")
        cl = Openssl(["s_client", "-quiet", "-connect", f"127.0.0.1:{port}", "-CAfile",
                      pki.ca.cert, "-verify_return_error", "-servername", "localhost"])
        try:
            cl.send(b"ping\n")
            out = nc.finish()
            assert cl.recv_exact(5) == b"pong\n"
            cl.proc.wait(PEER_TIMEOUT)  # our close_notify ends it
        finally:
            cl.close()
    assert line(out, "recv") == f"recv 5 crc={crc(b'ping' + bytes([10]))} pattern=bad@0"


def test_server_verifies_client_certs(pki):
    """With a CA, only a client whose certificate verifies is accepted;
    the others are dropped without a word to the owner."""
    outcome = {}

    def clients(nc):
        port = listen_port(nc)
        for name, cert in (("none", None), ("evil", pki.evil_client), ("chain", None)):
            if name == "chain":
                ctx = client_ctx(pki.ca.cert)
                ctx.load_cert_chain(pki.chain, pki.chained.key)
            else:
                ctx = client_ctx(pki.ca.cert, cert)
            try:
                s = connect_tls(port, ctx)
                s.sendall(b"x")  # TLS 1.3: the refusal comes after the handshake
                outcome[name] = end_kind(s)
                s.close()
            except (ssl.SSLError, OSError) as e:
                outcome[name] = type(e).__name__
        s = connect_tls(port, client_ctx(pki.ca.cert, pki.client))
        outcome["good_port"] = s.getsockname()[1]
        s.sendall(b"hello")
        outcome["good"] = end_kind(s)
        s.close()

    nc = NetCheck(*opts(cert=pki.server.cert, key=pki.server.key, ca=pki.ca.cert), "listen", 0,
                  "v4", "accept", "recv", 1, "close", "use", 0, "accept", "recv", 5, "close",
                  opts=("--tls",))
    out = with_peer(nc, clients)
    accepted = [l for l in out if l.startswith("accepted")]
    assert len(accepted) == 2
    # the chained client first, then the good one; neither of the others
    assert field(accepted[1], "from") == f"127.0.0.1:{outcome['good_port']}"
    assert outcome["none"] != "notify" and outcome["evil"] != "notify", outcome
    assert outcome["chain"] == "notify" and outcome["good"] == "notify", outcome


def test_server_handshake_timeout(pki):
    """A peer that connects and says nothing is dropped after the bound;
    the listener goes on."""
    result = {}

    def clients(nc):
        port = listen_port(nc)
        silent = socket.create_connection(("127.0.0.1", port), timeout=PEER_TIMEOUT)
        result["silent"] = silent.recv(100)  # b"": the filter closed it
        silent.close()
        s = connect_tls(port, client_ctx(pki.ca.cert))
        result["port"] = s.getsockname()[1]
        s.sendall(b"ok")
        result["end"] = end_kind(s)

    nc = NetCheck(*opts(cert=pki.server.cert, key=pki.server.key), "listen", 0, "v4",
                  "accept", "recv", 2, "close", opts=("--tls", "--handshake-ms", "300"))
    out = with_peer(nc, clients)
    assert result["silent"] == b""
    assert field(line(out, "accepted"), "from") == f"127.0.0.1:{result['port']}"
    assert result["end"] == "notify"


def test_server_closed_with_peers_in_handshake(pki):
    """Closing a TLS listener drops its peers still in the handshake."""
    result = {}

    def silent(nc):
        port = listen_port(nc)
        c = socket.create_connection(("127.0.0.1", port), timeout=PEER_TIMEOUT)
        wait_for(lambda: accept_queue(port) == 0, "the filter's accept")
        nc.go()
        try:
            result["silent"] = c.recv(100)
        except ConnectionResetError:
            result["silent"] = "reset"
        c.close()

    nc = NetCheck(*opts(cert=pki.server.cert, key=pki.server.key), "listen", 0, "v4",
                  "await", "close", opts=("--tls",))
    out = with_peer(nc, silent)
    assert line(out, "close") == "close"
    assert result["silent"] == "reset"
