"""Shared fixtures for the end-to-end tests: an espat process on a pty with
its own data dir, and helpers to talk to it with deadlines (never fixed
sleeps).

    def test_x(dut):                 # a fresh module, ready, pacing off
        assert dut.cmd("AT") == b"AT\\r\\n\\r\\nOK\\r\\n"

    def test_y(make_dut, tmp_path):  # more modules, or a chosen data dir
        a = make_dut(data_dir=tmp_path / "a")

    def test_z(make_dut):            # a world file, the control socket
        d = make_dut(world="tests/worlds/x.ini")
        d.ctl("ap", "down", "home")  # the parsed reply; raises on "ok":false

    def test_w(net):                 # joined to the host's network (tests/worlds/tcpip.ini)
        start(net, port)             # AT+CIPSTART, CONNECT, OK; then send(), ipd(), ...

The binary is $ESPAT_BIN, or build/espat of this repository.
"""
import hashlib
import json
import os
import random
import re
import select
import signal
import socket
import subprocess
import termios
import threading
import time
import tty

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ESPAT = os.environ.get("ESPAT_BIN") or os.path.join(REPO, "build", "espat")
SHARED = os.path.join(REPO, "..", "shared")

READY = b"\r\nready\r\n"
# What an ESP8266 v1.5 module prints at every boot (the dialect's boot text).
BOOT_V15 = b"\r\n ets Jan  8 2013,rst cause:2, boot mode:(3,6)\r\n\r\nready\r\n"
# How a command's answer ends: a final result code or a busy report.
FINAL = re.compile(rb"\r\n(?:OK|ERROR|SEND OK|SEND FAIL|SET OK)\r\n|busy p\.\.\.\r\n")
DEADLINE = 5.0  # seconds any single expectation may take


_NOTES = []


def note(text):
    """Records a line for the end-of-run summary (skips and known
    differences that the lead carries into docs/COMPAT.md)."""
    if text not in _NOTES:
        _NOTES.append(text)


def pytest_terminal_summary(terminalreporter):
    if _NOTES:
        terminalreporter.section("espat notes")
        for n in _NOTES:
            terminalreporter.write_line(n)


class CtlError(AssertionError):
    """A control command answered "ok":false when it should not have (or
    the other way round)."""


def ctl_request(path, args, timeout=DEADLINE):
    """Sends one control request (a list of strings) to the socket at path;
    returns the parsed reply object."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(timeout)
        s.connect(path)
        s.sendall(json.dumps(list(args)).encode() + b"\n")
        buf = b""
        while not buf.endswith(b"\n"):
            chunk = s.recv(65536)
            if not chunk:
                break
            buf += chunk
    assert buf.endswith(b"\n"), f"ctl {args}: reply without a newline: {buf!r}"
    return json.loads(buf)


def esc(b):
    """Bytes as a readable Python-style literal (for messages)."""
    return repr(bytes(b))[2:-1]


class Dut:
    """One espat process on a pty, talked to through the pty's slave side.

    Output read but not yet consumed by an expectation stays in self.buf.
    """

    def __init__(self, data_dir, run_dir, args=(), pace=False, world=None):
        self.data_dir = str(data_dir)
        self.run_dir = str(run_dir)
        self.args = list(args)
        self.pace = pace
        # --world FILE: relative paths are taken from the repository root
        self.world = None if world is None else os.path.join(REPO, str(world))
        self.ctl_path = os.path.join(self.data_dir, "ctl.sock")
        if "--ctl" in self.args:
            self.ctl_path = self.args[self.args.index("--ctl") + 1]
        self.link = os.path.join(self.run_dir, "tty")
        self.stderr_path = os.path.join(self.run_dir, "stderr.log")
        self.proc = None
        self.fd = None
        self.device = None
        self.buf = b""
        self.preexec = None  # run in the child before exec: resource limits

    # ---- process ---------------------------------------------------------

    def start(self, wait_ready=True):
        """Starts espat, opens its pty and (by default) consumes ready."""
        if not os.access(ESPAT, os.X_OK):
            pytest.fail(f"{ESPAT} not found or not executable: run `make` first")
        os.makedirs(self.run_dir, exist_ok=True)
        cmd = [ESPAT, "--pty", self.link, "--data-dir", self.data_dir]
        if not self.pace:
            cmd.append("--no-pace")
        if self.world is not None:
            cmd += ["--world", self.world]
        cmd += self.args
        self._stderr = open(self.stderr_path, "ab")
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=self._stderr,
                                     stdin=subprocess.DEVNULL, preexec_fn=self.preexec)
        line = self._read_stdout_line(DEADLINE)
        self.device = line.decode().strip()
        assert self.device.startswith("/dev/"), f"espat printed {line!r} ({self.stderr()})"
        self.fd = os.open(self.link, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
        # TCSANOW: TCSAFLUSH (tty.setraw's default) would discard ready
        tty.setraw(self.fd, termios.TCSANOW)
        self.buf = b""
        if wait_ready:
            self.expect(self.boot_text())
        return self

    def boot_text(self):
        """What this module prints at boot: its chip's (DIR/chip, else --chip)."""
        try:
            with open(os.path.join(self.data_dir, "chip")) as f:
                chip = f.read().strip()
        except OSError:
            chip = "esp8266" if "esp8266" in self.args else "esp32c3"
        return BOOT_V15 if chip == "esp8266" else READY

    def _read_stdout_line(self, timeout):
        out, end = b"", time.monotonic() + timeout
        fd = self.proc.stdout.fileno()
        while not out.endswith(b"\n"):
            left = end - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                raise AssertionError(f"espat printed no port name in {timeout}s: {out!r} "
                                     f"({self.stderr()})")
            b = os.read(fd, 1)
            if not b:
                raise AssertionError(f"espat exited ({self.proc.wait()}): {self.stderr()}")
            out += b
        return out

    def stderr(self):
        try:
            with open(self.stderr_path, "rb") as f:
                return f.read().decode(errors="replace").strip()[-2000:]
        except OSError:
            return ""

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def _close_fd(self):
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None

    def stop(self, timeout=5.0):
        """SIGTERM, wait; returns the exit status."""
        self._close_fd()
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait()
            raise AssertionError(f"espat did not exit within {timeout}s of SIGTERM")
        finally:
            self.proc.stdout.close()
            self._stderr.close()
        self.proc = None
        return rc

    def kill9(self):
        """Power cut: SIGKILL, no chance to clean up."""
        self._close_fd()
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            self.proc.stdout.close()
            self._stderr.close()
            self.proc = None

    def restart(self, cut=True):
        """A power cycle on the same data dir (SIGKILL unless cut=False)."""
        if cut:
            self.kill9()
        else:
            rc = self.stop()
            assert rc == 0, f"espat exited with {rc} on SIGTERM: {self.stderr()}"
        return self.start()

    # ---- control socket -----------------------------------------------------

    def ctl(self, *args, expect_ok=True):
        """Runs a control command (as `espat ctl ARGS...`); returns the parsed
        reply. expect_ok=True raises CtlError on "ok":false, False raises on
        "ok":true, None checks nothing."""
        reply = ctl_request(self.ctl_path, args)
        if expect_ok is not None and reply.get("ok") is not expect_ok:
            raise CtlError(f"ctl {' '.join(args)}: {json.dumps(reply)}")
        return reply

    # ---- bytes -------------------------------------------------------------

    def write(self, data):
        if isinstance(data, str):
            data = data.encode()
        view = memoryview(data)
        end = time.monotonic() + DEADLINE
        while view:
            try:
                n = os.write(self.fd, view)
                view = view[n:]
            except BlockingIOError:
                if time.monotonic() > end:
                    raise AssertionError("the pty did not take our input")
                select.select([], [self.fd], [], 0.05)

    def _read_some(self, timeout):
        """Reads what is available within timeout into self.buf."""
        if timeout > 0 and not select.select([self.fd], [], [], timeout)[0]:
            return False
        try:
            data = os.read(self.fd, 65536)
        except BlockingIOError:
            return False
        except OSError:  # EIO: the master side is gone
            if not self.alive():
                raise AssertionError(f"espat died (status {self.proc.poll()}): {self.stderr()}")
            return False
        self.buf += data
        return bool(data)

    def read_until(self, test, timeout=DEADLINE, what="output"):
        """Reads until test(buf) returns an end offset (or None to go on);
        returns and consumes buf[:end]."""
        end_t = time.monotonic() + timeout
        while True:
            end = test(self.buf)
            if end is not None:
                out, self.buf = self.buf[:end], self.buf[end:]
                return out
            left = end_t - time.monotonic()
            if left <= 0:
                raise AssertionError(f"timeout ({timeout}s) waiting for {what}; got "
                                     f"\"{esc(self.buf[-600:])}\"")
            if not self.alive():
                self._read_some(0.05)
                if test(self.buf) is None:
                    raise AssertionError(f"espat died (status {self.proc.poll()}) waiting for "
                                         f"{what}: {self.stderr()}")
            self._read_some(min(left, 0.5))

    def expect(self, want, timeout=DEADLINE):
        """Reads exactly the bytes want (which must come next)."""
        def test(buf):
            n = min(len(buf), len(want))
            if buf[:n] != want[:n]:
                raise AssertionError(f"want \"{esc(want)}\"\n got \"{esc(buf)}\"")
            return len(want) if len(buf) >= len(want) else None
        return self.read_until(test, timeout, f"\"{esc(want)}\"")

    def expect_re(self, pattern, timeout=DEADLINE):
        """Reads until the buffer starts with a full match of pattern (bytes
        regex); returns the match object."""
        rx = re.compile(pattern, re.S) if isinstance(pattern, bytes) else pattern
        box = []

        def test(buf):
            m = rx.match(buf)
            if m:
                box.append(m)
                return m.end()
            return None
        self.read_until(test, timeout, f"/{esc(rx.pattern)}/")
        return box[0]

    def answer(self, timeout=DEADLINE):
        """Reads up to and including the next final result (or busy p...)."""
        def test(buf):
            m = FINAL.search(buf)
            return m.end() if m else None
        return self.read_until(test, timeout, "a final result")

    def cmd(self, line, timeout=DEADLINE):
        """Sends one command line (CR LF added unless present) and returns
        everything up to its final result."""
        if isinstance(line, str):
            line = line.encode()
        if not line.endswith(b"\n"):
            line += b"\r\n"
        self.write(line)
        return self.answer(timeout)

    def quiet(self, seconds=0.1):
        """Asserts that nothing (more) arrives for a while."""
        end = time.monotonic() + seconds
        while (left := end - time.monotonic()) > 0:
            self._read_some(left)
        assert self.buf == b"", f"unexpected output \"{esc(self.buf)}\""

    def baud(self):
        """The pty's current output speed as a termios constant (B115200...)."""
        return termios.tcgetattr(self.fd)[5]


@pytest.fixture
def make_dut(tmp_path):
    """Factory: make_dut(data_dir=None, args=(), start=True, pace=False,
    world=None) -> Dut. world: a world file, relative to the repository root
    or absolute. Every module still running at the end is stopped and must
    exit cleanly."""
    duts = []

    def make(data_dir=None, args=(), start=True, pace=False, world=None):
        i = len(duts)
        run_dir = tmp_path / f"run{i}"
        d = Dut(data_dir or (tmp_path / f"data{i}"), run_dir, args, pace, world)
        duts.append(d)
        if start:
            d.start()
        return d

    yield make
    errors = []
    for d in duts:
        if d.proc is not None:
            alive = d.alive()
            rc = d.stop()
            if alive and rc != 0:
                errors.append(f"espat exited with {rc} on SIGTERM: {d.stderr()}")
    assert not errors, errors


@pytest.fixture
def dut(make_dut):
    """A fresh module on a pty with a fresh data dir, ready consumed."""
    return make_dut()


# ---- links: helpers of the TCP/IP and SSL tests (test_tcpip, test_ssl) ----------
# A module joined to the host's network (net), AT helpers for links, +IPD,
# threads that write to the pty and read a peer, timing (silence, wait_for).

TCPIP_WORLD = "tests/worlds/tcpip.ini"  # the default world's way out, quick joins
OK = b"\r\nOK\r\n"
ERROR = b"\r\nERROR\r\n"
PROMPT = b"\r\nOK\r\n>"
GUARD = 0.06  # comfortably more than the 20 ms +++ guard
POLL = 0.01  # how often wait_for looks again


def start_hub(path, log_path):
    """`espat air --socket PATH` (docs/internals/air.md): the process and its
    log file, once the socket is there."""
    log = open(log_path, "wb")
    p = subprocess.Popen([ESPAT, "air", "--socket", path], stdin=subprocess.DEVNULL,
                         stdout=log, stderr=log)
    wait_for(lambda: os.path.exists(path) or p.poll() is not None, "the hub's socket")
    assert p.poll() is None, open(log_path, "rb").read()
    return p, log


def stop_hub(p, log):
    """SIGTERM: the hub exits 0."""
    p.send_signal(signal.SIGTERM)
    assert p.wait(timeout=DEADLINE) == 0
    log.close()


@pytest.fixture
def air_hub(tmp_path):
    """A hub of its own in the test's tmp dir (a few ms to start); its
    socket's path. It must leave no socket behind."""
    path = str(tmp_path / "air.sock")
    p, log = start_hub(path, tmp_path / "hub.log")
    yield path
    stop_hub(p, log)
    assert not os.path.exists(path), "the hub leaves its socket behind"


def silence(seconds):
    """Lets seconds pass with nothing said, where that stretch of time is
    itself what is tested: the silence around +++ (the 20 ms guard), an
    idle link the AT+CIPSTO timer must not close yet, a peer or a reader
    that is slow on purpose. Never use it to wait for something to happen:
    wait on the thing (dut.expect, a recv with a deadline, wait_for)."""
    time.sleep(seconds)


def wait_for(cond, what, timeout=DEADLINE):
    """Polls cond() until it is true; returns its value. For states with no
    event to block on (the control socket's state, /proc); the short sleep
    is the polling interval, not a wait of its own. what (a string or a
    callable giving one) names the state in the timeout's message."""
    end = time.monotonic() + timeout
    while not (v := cond()):
        if time.monotonic() > end:
            raise AssertionError(f"timeout ({timeout}s) waiting for "
                                 f"{what() if callable(what) else what}")
        time.sleep(POLL)
    return v


def links(dut):
    """The module's open links, as the control socket reports them."""
    return dut.ctl("state")["state"]["links"]


def buffered(dut, link):
    """Bytes the module holds for link in passive receive mode."""
    return next((l["buffered"] for l in links(dut) if l["id"] == link), 0)


def push_thread(sock, data, chunk=65536, timeout=30):
    """Sends data on a peer's socket from a thread, as fast as the module
    lets it (flow-control tests). Returns (thread, progress): progress[0]
    counts the bytes the kernel took so far. A send error just stops the
    thread; the test fails on the missing bytes."""
    progress = [0]

    def push():
        view = memoryview(data)
        sock.settimeout(timeout)
        try:
            while view:
                n = sock.send(view[:chunk])
                view = view[n:]
                progress[0] += n
        except OSError:
            pass
    t = threading.Thread(target=push, daemon=True)
    t.start()
    return t, progress


def rss_kib(dut):
    """The module process's resident memory (KiB)."""
    with open(f"/proc/{dut.proc.pid}/status") as f:
        return int(re.search(r"VmRSS:\s+(\d+)", f.read()).group(1))


def join(dut):
    assert dut.cmd("ATE0") == b"ATE0\r\n" + OK
    assert dut.cmd("AT+CWMODE=1") == OK
    assert dut.cmd('AT+CWJAP="espat","espatpass"') == b"WIFI CONNECTED\r\nWIFI GOT IP\r\n" + OK


@pytest.fixture
def net(make_dut):
    """A module joined to the network that leads to the host, echo off."""
    d = make_dut(world=TCPIP_WORLD)
    join(d)
    return d


def ok(dut, line, before=b""):
    got = dut.cmd(line)
    assert got == before + OK, f"{line}: \"{esc(got)}\""


def start(dut, port, link=None, typ="TCP", extra="", host="127.0.0.1"):
    ids = "" if link is None else f"{link},"
    want = b"CONNECT\r\n" if link is None else b"%d,CONNECT\r\n" % link
    ok(dut, f'AT+CIPSTART={ids}"{typ}","{host}",{port}{extra}', want)


def prompt(dut, line):
    """A command answered OK and the > prompt (data entry or passthrough)."""
    dut.write(line + "\r\n")
    dut.expect(PROMPT)


def send(dut, data, link=None, to=None):
    """AT+CIPSEND of data; to=(host, port) for UDP's per-send remote."""
    args = ("" if link is None else f"{link},") + str(len(data))
    if to:
        args += f',"{to[0]}",{to[1]}'
    prompt(dut, f"AT+CIPSEND={args}")
    dut.write(data)
    dut.expect(b"\r\nRecv %d bytes\r\n\r\nSEND OK\r\n" % len(data))


IPD = re.compile(rb'\r\n\+IPD,(?:(\d),)?(\d+)(?:,"([^"]*)",(\d+))?:')


def read_n(dut, n, timeout=DEADLINE):
    return dut.read_until(lambda b: n if len(b) >= n else None, timeout, f"{n} raw bytes")


def ipd(dut, timeout=DEADLINE):
    """The next active +IPD: (link or None, data, remote ip, remote port)."""
    m = dut.expect_re(IPD, timeout)
    data = read_n(dut, int(m.group(2)), timeout)
    link = None if m.group(1) is None else int(m.group(1))
    port = None if m.group(4) is None else int(m.group(4))
    ip = None if m.group(3) is None else m.group(3).decode()
    return link, data, ip, port


def ipd_stream(dut, total, link=None, timeout=DEADLINE):
    """+IPD messages until total bytes came; checks each is <= 2920."""
    buf = bytearray()
    while len(buf) < total:
        lk, data, _, _ = ipd(dut, timeout)
        assert lk == link
        assert 0 < len(data) <= 2920
        buf += data
    assert len(buf) == total
    return bytes(buf)


def write_thread(dut, data, chunk=65536, timeout=30.0):
    """Writes data to the pty from a thread (the module may stop reading
    for a while: back-pressure); returns the thread. Errors land in
    thread.error."""
    def run():
        view = memoryview(data)
        end = time.monotonic() + timeout
        try:
            while view:
                if time.monotonic() > end:
                    raise AssertionError(f"the pty took {len(data) - len(view)} of {len(data)} "
                                         f"bytes in {timeout}s")
                select.select([], [dut.fd], [], 0.1)
                try:
                    n = os.write(dut.fd, view[:chunk])
                    view = view[n:]
                except BlockingIOError:
                    pass
        except BaseException as e:  # noqa: BLE001 (reported by the test)
            t.error = e
    t = threading.Thread(target=run, daemon=True)
    t.error = None
    t.start()
    return t


def read_thread(conn, total, late=False, piece=65536, pause=0.0, timeout=30.0):
    """Reads total bytes from a peer connection in a thread, slowly if
    asked; thread.data holds them at the end. late: the reader starts only
    once the module's sends wait on it (its buffer is full)."""
    def run():
        try:
            if late:
                wait_for(conn.holding_back, "the peer's buffer to fill (it reads late)")
            buf = bytearray()
            end = time.monotonic() + timeout
            while len(buf) < total:
                buf += conn.recv_exact(min(piece, total - len(buf)), end - time.monotonic())
                if pause:
                    silence(pause)  # a reader slow on purpose
            t.data = bytes(buf)
        except BaseException as e:  # noqa: BLE001
            t.error = e
    t = threading.Thread(target=run, daemon=True)
    t.data, t.error = None, None
    t.start()
    return t


def joined(t, timeout=30.0):
    t.join(timeout)
    assert not t.is_alive(), "helper thread did not finish"
    if t.error:
        raise t.error


def pattern(n, seed=1):
    return random.Random(seed).randbytes(n)


def sha(b):
    return hashlib.sha256(b).hexdigest()


def every_byte(repeat):
    return bytes(range(256)) * repeat


def guarded_plus(dut):
    """+++ alone with silence before and after it (leaves data modes): the
    guard is timing, with nothing to observe until after it."""
    silence(GUARD)
    dut.write(b"+++")
    silence(GUARD)
