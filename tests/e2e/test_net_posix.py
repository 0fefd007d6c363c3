"""The Linux net port (src/posix/net_posix.c) against real peers on
loopback, through tests/tools/net_check (its steps and output lines are
described at the top of net_check.c).

The tool is $ESPAT_BUILD/tests/net_check (default build/): point
ESPAT_BUILD at an ASan build to run the same scenarios under the
sanitizers. Every scenario is bounded: net_check has its own --timeout and
the peers here use socket timeouts.

Nothing waits a fixed time for something to happen. The test and the tool
wait on each other: a peer waits for a line net_check printed (NetCheck.
wait_line: "listen OK", "sent", "pause"...), net_check's "await" step waits
for the test's go (NetCheck.go) once a peer has seen what it needed (the
kernel's ack of its bytes, a keepalive timer in ss). The fixed stretches
that are left are the point of their test: net_check's "sleep" steps that
keep a socket paused or watch for callbacks that must not come, and peers
that are slow on purpose (silence()).
"""
import fcntl
import os
import shutil
import socket
import struct
import subprocess
import tempfile
import termios
import threading
import time
import zlib

import pytest

from conftest import DEADLINE

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.environ.get("ESPAT_BUILD") or os.path.join(REPO, "build")
NET_CHECK = os.path.join(BUILD, "tests", "net_check")
PEER_TIMEOUT = 15.0  # seconds a peer thread may block on any one call
POLL = 0.01  # how often wait_for looks again


@pytest.fixture(scope="module", autouse=True)
def _tool():
    if not os.path.exists(NET_CHECK):
        pytest.fail(f"{NET_CHECK} is missing: build it with make BUILD={BUILD} all")


def silence(seconds):
    """Lets seconds pass, where that stretch of time is itself what is
    tested: a peer that reads or sends in spaced-out pieces on purpose.
    Never use it to wait for something to happen: wait on the thing
    (NetCheck.wait_line, NetCheck.go for an "await" step, a socket call
    with a timeout, wait_for)."""
    time.sleep(seconds)


def wait_for(cond, what, timeout=DEADLINE):
    """Polls cond() until it is true; returns its value. For states with no
    event to block on (a socket's unacknowledged bytes, ss's timers, a DNS
    server coming up); the short sleep is the polling interval, not a wait
    of its own."""
    end = time.monotonic() + timeout
    while not (v := cond()):
        if time.monotonic() > end:
            raise AssertionError(f"timeout ({timeout}s) waiting for {what}")
        time.sleep(POLL)
    return v


class NetCheck:
    """One net_check run, started by `with NetCheck(*steps) as nc:` (killed
    at the end of the block if it is still running). Peers may wait for
    its output lines as they come (wait_line) and let its "await" steps go
    on (go); finish() waits for its exit and returns its checked output.
    Made before it starts, so that peer handlers can refer to it."""

    def __init__(self, *steps, timeout=10.0, opts=()):
        self.args = [NET_CHECK, "--timeout", str(int(timeout * 1000)), *opts, *map(str, steps)]
        self.timeout = timeout
        self.lines = []
        self.p = None
        self._eof = False
        self._cv = threading.Condition()
        self._in_lock = threading.Lock()
        self._reader = None
        self._err = None

    def __enter__(self):
        self._err = tempfile.TemporaryFile()
        self.p = subprocess.Popen(self.args, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=self._err)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        return self

    def __exit__(self, *exc):
        if self.p is not None and self.p.returncode is None:
            self.p.kill()
            self._reap()
        self._err.close()

    def _read(self):
        for raw in self.p.stdout:
            with self._cv:
                self.lines.append(raw.decode(errors="replace").rstrip("\n"))
                self._cv.notify_all()
        with self._cv:
            self._eof = True
            self._cv.notify_all()

    def _reap(self):
        _, status, ru = os.wait4(self.p.pid, 0)
        self.p.returncode = os.waitstatus_to_exitcode(status)
        self._reader.join(DEADLINE)
        self.p.stdout.close()
        with self._in_lock:
            try:
                self.p.stdin.close()
            except BrokenPipeError:
                pass
        return ru

    def wait_line(self, word, timeout=PEER_TIMEOUT):
        """The first output line that is word or starts with word and a
        space, once net_check has printed it."""
        end = time.monotonic() + timeout
        with self._cv:
            while True:
                for l in self.lines:
                    if l == word or l.startswith(word + " "):
                        return l
                left = end - time.monotonic()
                if self._eof or left <= 0:
                    raise AssertionError(f"net_check printed no {word!r} line: {self.lines}")
                self._cv.wait(left)

    def go(self):
        """Lets net_check's next "await" step end (or the one after, when
        it is not there yet: each go is counted)."""
        with self._in_lock:
            try:
                self.p.stdin.write(b"go\n")
                self.p.stdin.flush()
            except (BrokenPipeError, ValueError):  # it exited, or finish() ran: it says why
                pass

    def finish(self, usage=None):
        """Waits for the exit; returns the output lines (without "exit 0").
        With usage (a dict), also the CPU seconds it used, as
        usage["cpu"]. Peers may still call go() meanwhile; an "await"
        that gets none ends at net_check's --timeout ("TIMEOUT await")."""
        limit = self.timeout + 10
        with self._cv:
            done = self._cv.wait_for(lambda: self._eof, limit)
        if not done:
            self.p.kill()
        ru = self._reap()
        assert done, f"{self.args}: still running after {limit} s"
        lines = list(self.lines)
        self._err.seek(0)
        err = self._err.read().decode(errors="replace")
        if usage is not None:
            usage["cpu"] = ru.ru_utime + ru.ru_stime
        assert self.p.returncode == 0, (f"{self.args}\nstdout:\n" + "\n".join(lines) +
                                        f"\nstderr:\n{err}")
        assert lines[-1] == "exit 0"
        assert not any(l.startswith("BUG") for l in lines), lines
        assert "ERROR: AddressSanitizer" not in err and "runtime error" not in err, err
        return lines[:-1]


def net_check(*steps, timeout=10.0, opts=(), usage=None):
    """Runs net_check to its end; returns its output lines (without "exit
    0"). With usage (a dict), also the CPU seconds it used, as
    usage["cpu"]."""
    with NetCheck(*steps, timeout=timeout, opts=opts) as nc:
        return nc.finish(usage)


def unacked(c):
    """Bytes sent on socket c that the other end's kernel has not
    acknowledged yet (SIOCOUTQ): 0 once all of them sit in its receive
    buffer."""
    return struct.unpack("i", fcntl.ioctl(c.fileno(), termios.TIOCOUTQ, b"\0\0\0\0"))[0]


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
        self.port = self.sock.getsockname()[1]
        self.addr = f"[{host}]:{self.port}" if ":" in host else f"{host}:{self.port}"
        self.handler = handler
        self.results, self.errors = [], []
        self.accepted = 0
        self._cv = threading.Condition()
        self._stop = False
        self._threads = []
        self._t = threading.Thread(target=self._run, daemon=True)
        self._t.start()

    def _run(self):
        while not self._stop:
            try:
                c, _ = self.sock.accept()
            except OSError:  # close() shut the socket down
                return
            with self._cv:
                self.accepted += 1
                self._cv.notify_all()
            c.settimeout(PEER_TIMEOUT)
            t = threading.Thread(target=self._one, args=(c,), daemon=True)
            t.start()
            self._threads.append(t)

    def _one(self, c):
        try:
            r = self.handler(c)
            with self._cv:
                self.results.append(r)
        except Exception as e:  # reported by wait()
            with self._cv:
                self.errors.append(e)
        finally:
            c.close()
            with self._cv:
                self._cv.notify_all()

    def wait(self, n=1, timeout=PEER_TIMEOUT):
        """The first n handler results, once they are in."""
        with self._cv:
            self._cv.wait_for(lambda: len(self.results) + len(self.errors) >= n, timeout)
        assert not self.errors, self.errors
        assert len(self.results) >= n, "handler did not finish"
        return self.results

    def wait_accepted(self, n=1, timeout=PEER_TIMEOUT):
        """Returns once n connections have been accepted."""
        with self._cv:
            ok = self._cv.wait_for(lambda: self.accepted >= n, timeout)
        assert ok, f"{self.accepted} of {n} connections accepted in {timeout}s"

    def close(self):
        self._stop = True
        try:
            self.sock.shutdown(socket.SHUT_RDWR)  # wakes the accept()
        except OSError:
            pass
        self._t.join(2)
        assert not self._t.is_alive(), "the accept thread did not end"
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
        nc.wait_line("sent")  # nothing read until the module's send has queued the rest
        data = bytearray()
        while True:
            d = c.recv(256 * 1024)
            if not d:
                break
            data += d
            silence(0.002)  # a slow reader: the queue drains over many writable events
        return len(data), zlib.crc32(data)

    srv = server(slow)
    nc = NetCheck("tcp", srv.addr, "wait-connected", "send-pattern", n, "wait-drained",
                  "queued", "close", timeout=30)
    with nc:
        out = nc.finish()
    sent = line(out, "sent")
    assert int(field(sent, "queued")) > 0, "the kernel took everything: nothing was queued"
    drained = line(out, "drained")
    assert field(drained, "queued") == "0"
    assert line(out, "queued") == "queued 0"
    assert srv.wait() == [(n, zlib.crc32(pattern(n)))]


def test_graceful_close_flushes_queue_in_background(server):
    n = 16 * 1024 * 1024

    def slow(c):
        nc.wait_line("close")  # nothing read until close() has returned
        data = read_all(c)
        return len(data), zlib.crc32(data)

    srv = server(slow)
    # close right after send: the queue is flushed after close() returned,
    # then FIN ends the peer's read loop; net_check runs its loop (await)
    # until the peer has had it all.
    nc = NetCheck("tcp", srv.addr, "wait-connected", "send-pattern", n, "close", "await",
                  timeout=30)
    with nc:
        got = srv.wait(timeout=20)
        nc.go()
        out = nc.finish()
    assert int(field(line(out, "sent"), "queued")) > 0
    assert got == [(n, zlib.crc32(pattern(n)))]


def test_abort_resets(server):
    def wait_reset(c):
        try:
            d = c.recv(16)
            return "eof" if d == b"" else d
        except ConnectionResetError:
            return "reset"

    srv = server(wait_reset)
    with NetCheck("tcp", srv.addr, "wait-connected", "await", "abort") as nc:
        srv.wait_accepted()  # the abort comes to a connection the peer holds
        nc.go()
        nc.finish()
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
        nc.wait_line("pause")  # data, then the reset, come to a paused socket
        c.sendall(b"abc")
        wait_for(lambda: unacked(c) == 0, "the module's kernel to take abc")
        c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        return True

    srv = server(hello_reset)
    usage = {}
    nc = NetCheck("tcp", srv.addr, "wait-connected", "pause", "sleep", 1200, "resume",
                  "wait-closed", "close")
    with nc:
        out = nc.finish(usage)
    assert srv.wait() == [True]
    assert line(out, "closed").startswith("closed ERESET")
    assert usage["cpu"] < 0.5, "the paused socket with a reset kept the loop busy"


def test_graceful_close_of_paused_socket_with_unread_input_sends_fin(server):
    def send_then_read(c):
        nc.wait_line("pause")  # the bytes stay unread
        c.sendall(b"z" * 100000)
        wait_for(lambda: unacked(c) == 0, "the module's kernel to take all the bytes")
        nc.go()  # close now, with all of them unread
        try:
            return "eof" if c.recv(16) == b"" else "data"
        except ConnectionResetError:
            return "reset"

    srv = server(send_then_read)
    nc = NetCheck("tcp", srv.addr, "wait-connected", "pause", "await", "close")
    with nc:
        nc.finish()
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
    done = threading.Event()
    # The peer reads nothing until net_check has exited: the flush stays
    # in flight.
    srv = server(lambda c: done.wait(PEER_TIMEOUT))
    port = free_port()
    # The steps after "wait-accepted" start work and exit at once, without
    # running the loop again.
    nc = NetCheck("tcp", srv.addr, "wait-connected", "send-pattern", 16 * 1024 * 1024,
                  "close", "listen", port, "v4", "wait-accepted", "resolve-bg", "espat.test",
                  "127.0.0.99", "ping-bg", "127.0.0.1", 1000, "ping-bg", "192.0.2.254",
                  1000, "udp", "127.0.0.1:9", 0, "send", "x")
    t, _ = connect_when_listening(nc, "127.0.0.1", port, b"x")
    try:
        with nc:
            out = nc.finish()
    finally:
        done.set()
    t.join(PEER_TIMEOUT)
    assert int(field(line(out, "sent"), "queued")) > 0
    assert line(out, "pending") == "pending 1"
    assert line(out, "resolve-bg") == "resolve-bg started"
    assert [l for l in out if l.startswith("ping-bg")] == ["ping-bg started"] * 2


def test_close_inside_data_callback(server):
    def chatter(c):
        for _ in range(50):
            try:
                c.sendall(b"x" * 1000)
            except OSError:
                break
            silence(0.005)  # spaced out: data keeps coming after the close
        return True

    srv = server(chatter)
    # 400 ms after the close for callbacks that must not come (BUG lines)
    out = net_check("tcp", srv.addr, "wait-connected", "close-in-data", "wait-closed-in-data",
                    "sleep", 400)
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
    nc = NetCheck("tcp", srv.addr, "wait-connected", "tcpopt", 5, 1, 1000, 10, "await",
                  "tcpopt", -1, 0, 0, 0, "await", "send", "still-works", "recv", 11, "close")

    def timers(keepalive):
        text = ss_timers(srv.port)
        return text if text.strip() and ("timer:(keepalive" in text) == keepalive else None

    def watch():
        # keepalive 10 s shows as a keepalive timer; linger off again
        # (and keepalive off) removes it. net_check goes on to the next
        # tcpopt once the timer has been seen, and to the end once it is
        # gone (or, at once, when one of them does not show in time).
        goes = 0
        try:
            for key, keepalive in (("on", True), ("off", False)):
                seen[key] = wait_for(lambda: timers(keepalive), f"keepalive {key} in ss",
                                     timeout=8)
                nc.go()
                goes += 1
        except AssertionError:
            pass
        finally:
            for _ in range(2 - goes):
                nc.go()

    t = threading.Thread(target=watch, daemon=True)
    with nc:
        t.start()
        out = nc.finish()
    t.join(10)
    assert [l for l in out if l.startswith("tcpopt")] == ["tcpopt OK", "tcpopt OK"]
    assert "on" in seen, "no keepalive timer while SO_KEEPALIVE was on"
    assert "off" in seen, "the keepalive timer stayed after keepalive was turned off"


def test_close_with_linger_timeout_does_not_block(server):
    n = 16 * 1024 * 1024

    done = threading.Event()

    def never_reads(c):
        return done.wait(PEER_TIMEOUT)  # holds the connection until net_check is through

    srv = server(never_reads)
    t0 = time.monotonic()
    try:
        out = net_check("tcp", srv.addr, "wait-connected", "tcpopt", 30, 0, 0, 0,
                        "send-pattern", n, "abort", "tcp", srv.addr, "wait-connected", "close")
    finally:
        done.set()
    assert time.monotonic() - t0 < 5
    assert line(out, "tcpopt") == "tcpopt OK"


def test_fds_unchanged_after_1000_cycles(server):
    srv = server(lambda c: True, backlog=128)
    out = net_check("cycles", 1000, srv.addr, timeout=60)
    cyc = line(out, "cycles")
    assert field(cyc, "before") == field(cyc, "after"), cyc


# ---- listener -------------------------------------------------------------


def connect_when_listening(nc, host, port, send, sent=None):
    """A client thread: connects once nc (a NetCheck) has printed its
    "listen OK" line, sends, calls sent(sock) if given, reads until EOF.
    Returns (thread, result dict)."""
    res = {}

    def run():
        if not nc.wait_line("listen").startswith("listen OK"):
            return
        fam = socket.AF_INET6 if ":" in host else socket.AF_INET
        with socket.socket(fam, socket.SOCK_STREAM) as s:
            s.settimeout(PEER_TIMEOUT)
            s.connect((host, port))
            res["local"] = s.getsockname()[1]
            try:
                s.sendall(send)
                if sent is not None:
                    sent(s)
                res["got"] = read_all(s)
            except ConnectionResetError:
                res["got"] = "reset"

    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t, res


@pytest.mark.parametrize("host,fam", [("127.0.0.1", "v4"), ("::1", "v6")])
def test_listener_accepts(host, fam):
    port = free_port(host=host)
    nc = NetCheck("listen", port, fam, "accept", "recv", 3, "send", "hi", "endpoints", "close")
    t, res = connect_when_listening(nc, host, port, b"abc")
    with nc:
        out = nc.finish()
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
    # The port has accepted the peer and its bytes have arrived (the
    # peer's go) while the loop ran; nothing is read before "accept"
    # attaches and resumes: all 11 bytes come to the accepted socket's
    # callbacks.
    nc = NetCheck("listen", port, "v4", "wait-accepted", "await", "accept", "recv", 11,
                  "close")

    def sent(s):
        wait_for(lambda: unacked(s) == 0, "the module's kernel to take the early bytes")
        nc.go()

    t, res = connect_when_listening(nc, "127.0.0.1", port, b"early bytes", sent)
    with nc:
        out = nc.finish()
    t.join(PEER_TIMEOUT)
    assert line(out, "pending") == "pending 1"
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

        def answers():  # (each query waits up to 0.3 s for its answer)
            if p.poll() is not None:
                return True
            try:
                return dns_query(addr, "espat.test")
            except OSError:
                return None

        try:
            wait_for(answers, f"dnsmasq to answer on {addr}", timeout=5)
        except AssertionError:
            pass  # still running: the tests say what is wrong
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
