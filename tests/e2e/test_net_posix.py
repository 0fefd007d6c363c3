"""The Linux net port (src/posix/net_posix.c) against real peers on
loopback, through tests/tools/net_check (its steps and output lines are
described at the top of net_check.c).

The tool is $ESPAT_BUILD/tests/net_check (default build/): point
ESPAT_BUILD at an ASan build to run the same scenarios under the
sanitizers. Every scenario is bounded: net_check has its own --timeout and
the peers here use socket timeouts.
"""
import os
import shutil
import socket
import struct
import subprocess
import tempfile
import threading
import time
import zlib

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.environ.get("ESPAT_BUILD") or os.path.join(REPO, "build")
NET_CHECK = os.path.join(BUILD, "tests", "net_check")
PEER_TIMEOUT = 15.0  # seconds a peer thread may block on any one call


@pytest.fixture(scope="module", autouse=True)
def _tool():
    if not os.path.exists(NET_CHECK):
        pytest.fail(f"{NET_CHECK} is missing: build it with make BUILD={BUILD} all")


def net_check(*steps, timeout=10.0, opts=(), usage=None):
    """Runs net_check; returns its output lines (without "exit 0"). With
    usage (a dict), also the CPU seconds it used, as usage["cpu"]."""
    args = [NET_CHECK, "--timeout", str(int(timeout * 1000)), *opts, *map(str, steps)]
    with tempfile.TemporaryFile() as fo, tempfile.TemporaryFile() as fe:
        p = subprocess.Popen(args, stdout=fo, stderr=fe)
        end = time.monotonic() + timeout + 10
        while True:
            pid, status, ru = os.wait4(p.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() > end:
                p.kill()
                p.wait()
                raise AssertionError(f"{args}: still running after {timeout + 10} s")
            time.sleep(0.01)
        p.returncode = os.waitstatus_to_exitcode(status)
        fo.seek(0)
        fe.seek(0)
        lines = fo.read().decode(errors="replace").splitlines()
        err = fe.read().decode(errors="replace")
    if usage is not None:
        usage["cpu"] = ru.ru_utime + ru.ru_stime
    assert p.returncode == 0, f"{args}\nstdout:\n" + "\n".join(lines) + f"\nstderr:\n{err}"
    assert lines[-1] == "exit 0"
    assert not any(l.startswith("BUG") for l in lines), lines
    assert "ERROR: AddressSanitizer" not in err and "runtime error" not in err, err
    return lines[:-1]


def line(lines, prefix):
    """The one line starting with prefix."""
    found = [l for l in lines if l.startswith(prefix)]
    assert len(found) == 1, f"{prefix!r} in {lines}"
    return found[0]


def field(text, name):
    for tok in text.split():
        if tok.startswith(name + "="):
            return tok[len(name) + 1:]
    raise AssertionError(f"{name}= not in {text!r}")


def pattern(n):
    """Byte k is k & 0xff: every byte value, in order."""
    return (bytes(range(256)) * (n // 256 + 1))[:n]


def free_port(kind=socket.SOCK_STREAM, host="127.0.0.1"):
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(fam, kind) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


class Server:
    """A TCP server on loopback running handler(conn) per connection in a
    thread; handler results and exceptions are collected."""

    def __init__(self, handler, host="127.0.0.1", backlog=64):
        fam = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.sock = socket.socket(fam, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((host, 0))
        self.sock.listen(backlog)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.addr = f"[{host}]:{self.port}" if ":" in host else f"{host}:{self.port}"
        self.handler = handler
        self.results, self.errors = [], []
        self.accepted = 0
        self._stop = False
        self._threads = []
        self._t = threading.Thread(target=self._run, daemon=True)
        self._t.start()

    def _run(self):
        while not self._stop:
            try:
                c, _ = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            self.accepted += 1
            c.settimeout(PEER_TIMEOUT)
            t = threading.Thread(target=self._one, args=(c,), daemon=True)
            t.start()
            self._threads.append(t)

    def _one(self, c):
        try:
            self.results.append(self.handler(c))
        except Exception as e:  # reported by wait()
            self.errors.append(e)
        finally:
            c.close()

    def wait(self, n=1, timeout=PEER_TIMEOUT):
        """The first n handler results, once they are in."""
        end = time.monotonic() + timeout
        while len(self.results) + len(self.errors) < n and time.monotonic() < end:
            time.sleep(0.01)
        assert not self.errors, self.errors
        assert len(self.results) >= n, "handler did not finish"
        return self.results

    def close(self):
        self._stop = True
        self._t.join(2)
        self.sock.close()


@pytest.fixture
def server():
    made = []

    def make(handler, **kw):
        s = Server(handler, **kw)
        made.append(s)
        return s

    yield make
    for s in made:
        s.close()


def read_all(c):
    data = bytearray()
    while True:
        d = c.recv(1 << 20)
        if not d:
            return bytes(data)
        data += d


def echo(c):
    n = 0
    while True:
        d = c.recv(65536)
        if not d:
            return n
        c.sendall(d)
        n += len(d)


# ---- TCP ----------------------------------------------------------------


def test_connect_echo_binary(server):
    srv = server(echo)
    n = 256 * 4099  # every byte value, many times, not a multiple of a buffer
    out = net_check("tcp", srv.addr, "wait-connected", "send-pattern", n, "wait-drained",
                    "recv", n, "endpoints", "close")
    assert line(out, "connected") == "connected OK"
    assert line(out, "recv") == f"recv {n} crc={zlib.crc32(pattern(n)):08x} pattern=ok"
    ep = line(out, "endpoints")
    assert field(ep, "remote") == srv.addr
    assert field(ep, "local").startswith("127.0.0.1:")
    assert srv.wait() == [n]  # the graceful close ended the peer's loop


def test_connect_echo_v6(server):
    srv = server(echo, host="::1")
    out = net_check("tcp", srv.addr, "wait-connected", "send", "hello-v6", "recv", 8,
                    "endpoints", "close")
    assert line(out, "connected") == "connected OK"
    assert field(line(out, "endpoints"), "remote") == srv.addr


def test_connect_refused():
    port = free_port()
    out = net_check("tcp", f"127.0.0.1:{port}", "wait-connected", "send", "x", "close")
    assert line(out, "connected") == "connected EREFUSED"
    assert line(out, "send") != "send OK"  # the socket is dead


def test_open_with_bad_address():
    assert line(net_check("tcp", "127.0.0.1:0"), "open") == "open EINVAL"


def test_local_port_in_use(server):
    srv = server(echo)
    out = net_check("tcp-from", srv.port, srv.addr)
    assert line(out, "open") == "open EADDRINUSE"


def test_peer_closes_after_data(server):
    def hello_bye(c):
        c.sendall(b"hello")
        return True

    srv = server(hello_bye)
    out = net_check("tcp", srv.addr, "wait-connected", "recv", 5, "wait-closed", "close")
    assert line(out, "closed") == "closed OK rx=5"


def test_peer_reset(server):
    def reset(c):
        c.recv(16)  # wait for the module's byte, so the connection is up
        c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        return True

    srv = server(reset)
    out = net_check("tcp", srv.addr, "wait-connected", "send", "x", "wait-closed", "close")
    assert line(out, "closed").startswith("closed ERESET")


def test_send_more_than_socket_buffers_to_slow_reader(server):
    n = 24 * 1024 * 1024

    def slow(c):
        time.sleep(1.0)  # let the module's queue fill
        data = bytearray()
        while True:
            d = c.recv(256 * 1024)
            if not d:
                break
            data += d
            time.sleep(0.002)
        return len(data), zlib.crc32(data)

    srv = server(slow)
    out = net_check("tcp", srv.addr, "wait-connected", "send-pattern", n, "wait-drained",
                    "queued", "close", timeout=30)
    sent = line(out, "sent")
    assert int(field(sent, "queued")) > 0, "the kernel took everything: nothing was queued"
    drained = line(out, "drained")
    assert field(drained, "queued") == "0"
    assert line(out, "queued") == "queued 0"
    assert srv.wait() == [(n, zlib.crc32(pattern(n)))]


def test_graceful_close_flushes_queue_in_background(server):
    n = 16 * 1024 * 1024

    def slow(c):
        time.sleep(0.5)
        data = read_all(c)
        return len(data), zlib.crc32(data)

    srv = server(slow)
    # close right after send: the queue is flushed after close() returned,
    # then FIN ends the peer's read loop.
    out = net_check("tcp", srv.addr, "wait-connected", "send-pattern", n, "close",
                    "sleep", 5000, timeout=30)
    assert int(field(line(out, "sent"), "queued")) > 0
    assert srv.wait(timeout=20) == [(n, zlib.crc32(pattern(n)))]


def test_abort_resets(server):
    def wait_reset(c):
        try:
            d = c.recv(16)
            return "eof" if d == b"" else d
        except ConnectionResetError:
            return "reset"

    srv = server(wait_reset)
    net_check("tcp", srv.addr, "wait-connected", "sleep", 100, "abort")
    assert srv.wait() == ["reset"]


def test_pause_stalls_peer_and_resume_delivers_all(server):
    n = 8 * 1024 * 1024
    progress = []

    def sender(c):
        data = pattern(n)
        sent = 0
        t0 = time.monotonic()
        while sent < n:
            sent += c.send(data[sent:sent + 65536])
            progress.append((time.monotonic() - t0, sent))
        c.shutdown(socket.SHUT_WR)
        c.recv(1)  # until the module closes
        return sent

    srv = server(sender)
    out = net_check("tcp", srv.addr, "wait-connected", "pause", "sleep", 2000, "resume",
                    "recv", n, "wait-closed", "close", timeout=30)
    assert line(out, "recv") == f"recv {n} crc={zlib.crc32(pattern(n)):08x} pattern=ok"
    assert line(out, "closed") == f"closed OK rx={n}"
    assert srv.wait() == [n]
    # Paused from the connect until 2 s later: in between, the peer's
    # sends were stuck on a full window.
    def sent_at(t):
        return max([s for (tt, s) in progress if tt <= t] or [0])

    assert sent_at(0.8) == sent_at(1.6) < n


def test_paused_socket_learns_of_eof_when_resumed(server):
    def hello_bye(c):
        c.sendall(b"hello")
        return True

    srv = server(hello_bye)
    usage = {}
    out = net_check("tcp", srv.addr, "wait-connected", "pause", "sleep", 1000, "resume",
                    "recv", 5, "wait-closed", "close", usage=usage)
    assert line(out, "closed") == "closed OK rx=5"
    assert usage["cpu"] < 0.5, "the paused socket at EOF kept the loop busy"


def test_paused_socket_reset_by_peer_does_not_spin(server):
    def hello_reset(c):
        c.sendall(b"abc")
        time.sleep(0.2)
        c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        return True

    srv = server(hello_reset)
    usage = {}
    out = net_check("tcp", srv.addr, "wait-connected", "pause", "sleep", 1200, "resume",
                    "wait-closed", "close", usage=usage)
    assert line(out, "closed").startswith("closed ERESET")
    assert usage["cpu"] < 0.5, "the paused socket with a reset kept the loop busy"


def test_graceful_close_of_paused_socket_with_unread_input_sends_fin(server):
    def send_then_read(c):
        c.sendall(b"z" * 100000)
        try:
            return "eof" if c.recv(16) == b"" else "data"
        except ConnectionResetError:
            return "reset"

    srv = server(send_then_read)
    net_check("tcp", srv.addr, "wait-connected", "pause", "sleep", 300, "close")
    assert srv.wait() == ["eof"]


def test_send_while_connecting_then_drained(server):
    srv = server(echo)
    out = net_check("tcp", srv.addr, "send", "early", "wait-connected", "wait-drained", "recv", 5,
                    "close")
    assert line(out, "connected") == "connected OK"
    assert line(out, "drained").startswith("drained 1 ")
    assert line(out, "recv").startswith("recv 5 ")


def test_free_with_work_in_flight(server):
    """Exits with a graceful close still flushing, an accepted socket never
    taken, a DNS request and a ping in flight: everything is freed (ASan
    would report leaks) and no callback runs (net_check checks)."""
    srv = server(lambda c: time.sleep(2) or True)
    port = free_port()
    t, _ = connect_when_listening("127.0.0.1", port, b"x")
    # The steps after "sleep" start work and exit at once, without
    # running the loop again.
    out = net_check("tcp", srv.addr, "wait-connected", "send-pattern", 16 * 1024 * 1024,
                    "close", "listen", port, "v4", "sleep", 300, "resolve-bg", "espat.test",
                    "127.0.0.99", "ping-bg", "127.0.0.1", 1000, "ping-bg", "192.0.2.254",
                    1000, "udp", "127.0.0.1:9", 0, "send", "x")
    t.join(PEER_TIMEOUT)
    assert line(out, "resolve-bg") == "resolve-bg started"
    assert [l for l in out if l.startswith("ping-bg")] == ["ping-bg started"] * 2


def test_close_inside_data_callback(server):
    def chatter(c):
        for _ in range(50):
            try:
                c.sendall(b"x" * 1000)
            except OSError:
                break
            time.sleep(0.005)
        return True

    srv = server(chatter)
    out = net_check("tcp", srv.addr, "wait-connected", "close-in-data", "sleep", 400)
    assert line(out, "closed-in-data").startswith("closed-in-data after")


def test_close_before_result_runs_no_callback():
    port = free_port()
    out = net_check("close-early", f"127.0.0.1:{port}")
    assert line(out, "close-early") == "close-early ok"


def ss_timers(port):
    """The kernel's view (ss -o) of established sockets to port."""
    p = subprocess.run(["ss", "-tnoH", "state", "established", f"dport = :{port}"],
                       capture_output=True, text=True, timeout=10)
    return p.stdout


def test_tcpopt(server):
    if shutil.which("ss") is None:
        pytest.skip("ss (iproute2) is not installed")
    srv = server(echo)
    seen = {}

    def watch():
        # keepalive 10 s shows as a keepalive timer; linger off again
        # (and keepalive off) removes it.
        end = time.monotonic() + 8
        while time.monotonic() < end and "off" not in seen:
            text = ss_timers(srv.port)
            if "timer:(keepalive" in text:
                seen["on"] = text
            elif "on" in seen and text.strip():
                seen["off"] = text
            time.sleep(0.05)

    t = threading.Thread(target=watch, daemon=True)
    t.start()
    out = net_check("tcp", srv.addr, "wait-connected", "tcpopt", 5, 1, 1000, 10, "sleep", 1500,
                    "tcpopt", -1, 0, 0, 0, "sleep", 1500, "send", "still-works", "recv", 11,
                    "close")
    t.join(10)
    assert [l for l in out if l.startswith("tcpopt")] == ["tcpopt OK", "tcpopt OK"]
    assert "on" in seen, "no keepalive timer while SO_KEEPALIVE was on"
    assert "off" in seen, "the keepalive timer stayed after keepalive was turned off"


def test_close_with_linger_timeout_does_not_block(server):
    n = 16 * 1024 * 1024

    def never_reads(c):
        time.sleep(3)
        return True

    srv = server(never_reads)
    t0 = time.monotonic()
    out = net_check("tcp", srv.addr, "wait-connected", "tcpopt", 30, 0, 0, 0,
                    "send-pattern", n, "abort", "tcp", srv.addr, "wait-connected", "close")
    assert time.monotonic() - t0 < 5
    assert line(out, "tcpopt") == "tcpopt OK"


def test_fds_unchanged_after_1000_cycles(server):
    srv = server(lambda c: True, backlog=128)
    out = net_check("cycles", 1000, srv.addr, timeout=60)
    cyc = line(out, "cycles")
    assert field(cyc, "before") == field(cyc, "after"), cyc


# ---- listener -------------------------------------------------------------


def connect_when_listening(host, port, send, timeout=5.0):
    """A client thread: connects once the listener is up, sends, reads
    until EOF. Returns (thread, result dict)."""
    res = {}

    def run():
        end = time.monotonic() + timeout
        fam = socket.AF_INET6 if ":" in host else socket.AF_INET
        while time.monotonic() < end:
            s = socket.socket(fam, socket.SOCK_STREAM)
            s.settimeout(PEER_TIMEOUT)
            try:
                s.connect((host, port))
            except (ConnectionRefusedError, socket.timeout):
                s.close()
                time.sleep(0.02)
                continue
            res["local"] = s.getsockname()[1]
            try:
                s.sendall(send)
                res["got"] = read_all(s)
            except ConnectionResetError:
                res["got"] = "reset"
            s.close()
            return

    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t, res


@pytest.mark.parametrize("host,fam", [("127.0.0.1", "v4"), ("::1", "v6")])
def test_listener_accepts(host, fam):
    port = free_port(host=host)
    t, res = connect_when_listening(host, port, b"abc")
    out = net_check("listen", port, fam, "accept", "recv", 3, "send", "hi", "endpoints",
                    "close")
    t.join(PEER_TIMEOUT)
    assert res.get("got") == b"hi"
    local = field(line(out, "listen"), "local")
    assert local == (f"[{host}]:{port}" if fam == "v6" else f"{host}:{port}")
    acc = line(out, "accepted")
    assert field(acc, "from").endswith(f":{res['local']}")
    assert line(out, "recv").startswith("recv 3 ")


def test_listen_port_in_use(server):
    srv = server(echo)
    assert line(net_check("listen", srv.port, "v4"), "listen") == "listen EADDRINUSE"


def test_accepted_socket_stays_paused_until_resumed():
    port = free_port()
    t, res = connect_when_listening("127.0.0.1", port, b"early bytes")
    # Nothing is read before "accept" attaches and resumes: all 11 bytes
    # come to the accepted socket's callbacks.
    out = net_check("listen", port, "v4", "sleep", 500, "accept", "recv", 11, "close")
    t.join(PEER_TIMEOUT)
    assert line(out, "recv").startswith("recv 11 ")


# ---- UDP ------------------------------------------------------------------


class UdpPeer:
    """A UDP socket answering every datagram with b"re:" + datagram."""

    def __init__(self, host="127.0.0.1"):
        fam = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.sock = socket.socket(fam, socket.SOCK_DGRAM)
        self.sock.bind((host, 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.addr = f"[{host}]:{self.port}" if ":" in host else f"{host}:{self.port}"
        self.got = []
        self._stop = False
        self._t = threading.Thread(target=self._run, daemon=True)
        self._t.start()

    def _run(self):
        while not self._stop:
            try:
                d, a = self.sock.recvfrom(65536)
            except socket.timeout:
                continue
            except OSError:
                return
            self.got.append((d, a))
            self.sock.sendto(b"re:" + d, a)

    def close(self):
        self._stop = True
        self._t.join(2)
        self.sock.close()


@pytest.fixture
def udp_peer():
    made = []

    def make(**kw):
        p = UdpPeer(**kw)
        made.append(p)
        return p

    yield make
    for p in made:
        p.close()


def test_udp_both_directions(udp_peer):
    peer = udp_peer()
    lport = free_port(socket.SOCK_DGRAM)
    out = net_check("udp", peer.addr, lport, "send", "one", "dgram", "send", "two", "dgram",
                    "endpoints", "close")
    dg = [l for l in out if l.startswith("dgram")]
    assert dg == [f"dgram from={peer.addr} len=6 text=re:one",
                  f"dgram from={peer.addr} len=6 text=re:two"]
    assert [(d, a[1]) for d, a in peer.got] == [(b"one", lport), (b"two", lport)]
    ep = line(out, "endpoints")
    assert field(ep, "local") == f"0.0.0.0:{lport}"
    assert field(ep, "remote") == peer.addr


def test_udp_without_default_destination(udp_peer):
    peer = udp_peer()
    out = net_check("udp", "0.0.0.0:0", 0, "send", "nowhere", "sendto", peer.addr, "there",
                    "dgram", "close")
    sends = [l for l in out if l.startswith("send")]
    assert sends == ["send EINVAL", "send OK"]
    assert line(out, "dgram") == f"dgram from={peer.addr} len=8 text=re:there"


def test_udp_v6_socket_reports_v4_peer_as_v4(udp_peer):
    peer = udp_peer()
    out = net_check("udp", "[::]:0", 0, "sendto", peer.addr, "mapped", "dgram", "close")
    assert line(out, "dgram") == f"dgram from={peer.addr} len=9 text=re:mapped"


def test_udp_datagram_boundaries_kept(udp_peer):
    peer = udp_peer()
    steps = []
    for i in range(20):
        steps += ["send", f"d{i}"]
    for _ in range(20):
        steps.append("dgram")
    out = net_check("udp", peer.addr, 0, *steps, "close")
    got = sorted(l.split("text=")[1] for l in out if l.startswith("dgram"))
    assert got == sorted(f"re:d{i}" for i in range(20))


def lo_multicast():
    """Turns on multicast on lo (root); False when it cannot be."""
    with open("/sys/class/net/lo/flags") as f:
        if int(f.read(), 16) & 0x1000:  # IFF_MULTICAST
            return True
    ip = shutil.which("ip")
    if os.geteuid() != 0 or ip is None:
        return False
    return subprocess.run([ip, "link", "set", "lo", "multicast", "on"]).returncode == 0


def test_udp_multicast_on_loopback():
    if not lo_multicast():
        pytest.skip("lo is not multicast-capable and this user cannot change it")
    group = "224.0.0.251"
    port = free_port(socket.SOCK_DGRAM, "0.0.0.0")
    back_port = free_port(socket.SOCK_DGRAM, "0.0.0.0")
    # A member on the host, on lo, like python3-zeroconf on the same host.
    member = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    member.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    member.bind(("", back_port))
    member.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP,
                      socket.inet_aton(group) + socket.inet_aton("127.0.0.1"))
    member.settimeout(PEER_TIMEOUT)
    stop = threading.Event()
    sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sender.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton("127.0.0.1"))
    sender.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_LOOP, 1)

    def keep_sending():
        while not stop.wait(0.05):
            sender.sendto(b"to-group", (group, port))

    t = threading.Thread(target=keep_sending, daemon=True)
    t.start()
    try:
        out = net_check("mcast", group, port, "dgram", "sendto", f"{group}:{back_port}",
                        "from-module", "close")
        d, a = member.recvfrom(1024)
    finally:
        stop.set()
        t.join(2)
        sender.close()
        member.close()
    dg = line(out, "dgram")
    assert field(dg, "text") == "to-group" and field(dg, "from").startswith("127.0.0.1:")
    assert d == b"from-module" and a[1] == port


def test_udp_local_port_in_use():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("0.0.0.0", 0))
        out = net_check("udp", "127.0.0.1:9", s.getsockname()[1])
    assert line(out, "open") == "open EADDRINUSE"


def test_udp_multicast_rejects_unicast_group():
    assert line(net_check("mcast", "10.0.0.1", 0), "open") == "open EINVAL"


# ---- DNS ------------------------------------------------------------------


def dns_query(server, name, qtype=1, timeout=0.3):
    pkt = struct.pack(">HHHHHH", 0x4242, 0x0100, 1, 0, 0, 0)
    pkt += b"".join(bytes([len(p)]) + p.encode() for p in name.split(".")) + b"\0"
    pkt += struct.pack(">HH", qtype, 1)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(timeout)
        s.sendto(pkt, (server, 53))
        return s.recv(512)


@pytest.fixture(scope="module")
def dnsmasq():
    """dnsmasq serving espat.test on 127.0.0.2:53 (or the next free
    loopback address, when another test holds that one)."""
    exe = shutil.which("dnsmasq") or "/usr/sbin/dnsmasq"
    if not os.path.exists(exe):
        pytest.skip("dnsmasq is not installed")
    if os.geteuid() != 0:
        pytest.skip("port 53 needs root")
    for last in range(2, 12):
        addr = f"127.0.0.{last}"
        p = subprocess.Popen(
            [exe, "--no-daemon", "--port=53", f"--listen-address={addr}", "--bind-interfaces",
             "--no-resolv", "--no-hosts", "--address=/espat.test/10.1.2.3",
             "--local=/test/", "--host-record=v4only.test,10.1.2.4",
             "--host-record=v6only.test,fd00:1::6", "--host-record=both.test,10.1.2.5,fd00:1::5",
             "--conf-file=/dev/null", "--pid-file="],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        end = time.monotonic() + 5
        while time.monotonic() < end and p.poll() is None:
            try:
                dns_query(addr, "espat.test")
                break
            except OSError:
                time.sleep(0.05)
        if p.poll() is None:
            yield addr
            p.terminate()
            p.wait(5)
            return
        p.wait()
    pytest.skip("no loopback address with a free port 53 for dnsmasq")


def test_resolve_host_config_localhost():
    out = net_check("resolve", "localhost", "v4", 3000, "-")
    assert line(out, "resolve").startswith("resolve OK 127.0.0.1 ")


def test_resolve_numeric_without_dns():
    out = net_check("resolve", "10.9.8.7", "any", 0, "-", "resolve", "fe80::1", "any", 0, "-",
                    "resolve", "10.9.8.7", "v6", 0, "-")
    res = [l.rsplit(" ms=", 1)[0] for l in out if l.startswith("resolve")]
    assert res == ["resolve OK 10.9.8.7", "resolve OK fe80::1", "resolve ENOTFOUND"]


def test_resolve_bad_names():
    out = net_check("resolve", "", "any", 0, "-", "resolve", "a" * 254, "any", 0, "-")
    assert [l for l in out if l.startswith("resolve")] == ["resolve EINVAL (at once)"] * 2


def test_resolve_with_server(dnsmasq):
    s = dnsmasq
    cases = [
        ("espat.test", "any", "OK 10.1.2.3"),
        ("www.espat.test", "v4", "OK 10.1.2.3"),
        ("both.test", "any", "OK 10.1.2.5"),
        ("both.test", "v6", "OK fd00:1::5"),
        ("v6only.test", "any", "OK fd00:1::6"),   # PREFER_V4 falls back to IPv6
        ("v6only.test", "v4", "ENOTFOUND"),
        ("v4only.test", "v6", "ENOTFOUND"),       # NODATA
        ("nosuchname.test", "any", "ENOTFOUND"),  # NXDOMAIN
        ("unknown.example", "any", "EDNS"),       # REFUSED: dnsmasq has no upstream
    ]
    steps = []
    for name, fam, _ in cases:
        steps += ["resolve", name, fam, 3000, s]
    out = net_check(*steps, timeout=30)
    got = [l.rsplit(" ms=", 1)[0] for l in out if l.startswith("resolve")]
    assert got == [f"resolve {want}" for _, _, want in cases]


def test_resolve_second_server_answers(dnsmasq):
    # 127.0.0.99 has no DNS server (port unreachable): c-ares moves on.
    out = net_check("resolve", "espat.test", "any", 3000, f"127.0.0.99,{dnsmasq}")
    assert line(out, "resolve").startswith("resolve OK 10.1.2.3 ")


def test_resolve_silent_server_times_out():
    # A server that takes the query and never answers.
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    for last in range(20, 40):
        try:
            s.bind((f"127.0.0.{last}", 53))
            break
        except PermissionError:
            pytest.skip("port 53 needs root")
        except OSError:
            continue
    else:
        pytest.skip("no loopback address with a free port 53")
    try:
        out = net_check("resolve", "espat.test", "any", 600, s.getsockname()[0])
    finally:
        s.close()
    res = line(out, "resolve")
    assert res.startswith("resolve EDNS ")
    assert 550 <= int(field(res, "ms")) <= 1500


def test_resolve_cancel(dnsmasq):
    out = net_check("resolve-cancel", "localhost", "resolve-cancel", "espat.test")
    assert [l for l in out if l.startswith("resolve-cancel")] == ["resolve-cancel ok"] * 2


# ---- ping -----------------------------------------------------------------


def silent_address():
    """An address nothing answers (no echo reply, no ICMP error), judged
    by the host's own ping; None when none of the candidates is silent."""
    exe = shutil.which("ping")
    if exe is None:
        return None
    for a in ("192.0.2.1", "192.0.2.254", "198.51.100.1", "203.0.113.1", "10.255.255.1"):
        p = subprocess.run([exe, "-n", "-c", "1", "-W", "1", a], capture_output=True,
                           text=True, timeout=10)
        if p.returncode != 0 and "errors" not in p.stdout and "Unreachable" not in p.stdout:
            return a
    return None


@pytest.mark.parametrize("method", [None, "tcp"])
@pytest.mark.parametrize("ip", ["127.0.0.1", "::1"])
def test_ping_loopback(ip, method):
    opts = ("--ping-method", method) if method else ()
    res = line(net_check("ping", ip, 1000, opts=opts), "ping")
    assert res.startswith("ping OK rtt=")
    assert 1 <= int(field(res, "rtt")) <= 1000


def test_ping_datagram_socket():
    """The unprivileged ICMP socket, allowed for this test by widening
    net.ipv4.ping_group_range to our group when we may (root)."""
    path = "/proc/sys/net/ipv4/ping_group_range"
    with open(path) as f:
        old = f.read().split()
    gid = os.getgid()
    if not int(old[0]) <= gid <= int(old[1]):
        if os.geteuid() != 0:
            pytest.skip("ping_group_range excludes our group and we cannot change it")
        with open(path, "w") as f:
            f.write(f"{gid} {gid}")
    try:
        out = net_check("ping", "127.0.0.1", 1000, "ping", "::1", 1000,
                        opts=("--ping-method", "dgram"))
    finally:
        if not int(old[0]) <= gid <= int(old[1]):
            with open(path, "w") as f:
                f.write(" ".join(old))
    assert [l.split(" rtt=")[0] for l in out if l.startswith("ping")] == ["ping OK"] * 2


@pytest.mark.parametrize("method", [None, "tcp"])
def test_ping_silent_address_times_out(method):
    a = silent_address()
    if a is None:
        pytest.skip("every candidate address answers here")
    opts = ("--ping-method", method) if method else ()
    res = line(net_check("ping", a, 300, opts=opts), "ping")
    assert res.startswith("ping ETIMEDOUT ")
    assert 250 <= int(field(res, "ms")) <= 1500
