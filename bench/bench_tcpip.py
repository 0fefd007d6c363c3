#!/usr/bin/python3
"""TCP/IP throughput, each a ratio against socat bridging a pty to the same kind
of TCP peer in the same run (`socat -b 8192 pty,raw,echo=0,link=X tcp:127.0.0.1:PORT`,
what a user would reach for instead of passthrough):

- passthrough UART->TCP: bytes written to the AT port after AT+CIPMODE=1 / AT+CIPSEND until
  the peer has them all, against socat pty->TCP. Target (DESIGN.md): at least 0.9x.
- passthrough TCP->UART: bytes the peer sends until they are all read from the AT port,
  against socat TCP->pty. Target: at least 0.9x.
- AT+CIPSEND: repeated AT+CIPSEND=2048 / '>' / 2048 bytes / SEND OK, against socat pty->TCP.
- +IPD receive: the peer sends, the host parses \\r\\n+IPD,<n>:<data> off the AT port, against
  socat TCP->pty.
- passthrough UART->SSL and SSL->UART: the same two passthrough runs over an SSL link
  (AT+CIPSSLCCONF=0, AT+CIPSTART="SSL") to a TLS peer (Python ssl with the factory server
  certificate, pki/factory), against socat bridging a pty to the same kind of peer
  (`socat ... openssl:127.0.0.1:PORT,verify=0`). They move BENCH_SSL_MB MiB (default 32).

All with --no-pace, the module joined to tests/worlds/tcpip.ini's host network. Each run moves
BENCH_MB MiB (default 64) or stops after BENCH_S seconds (default 10), whichever comes first;
each figure is the best of BENCH_ROUNDS (default 3) rounds, espat and socat alternating so both
see the same machine load. Prints numbers; asserts nothing.
"""
import os
import re
import select
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import termios
import threading
import time
import tty

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ESPAT = os.environ.get("ESPAT_BIN", os.path.join(ROOT, "build", "espat"))
WORLD = os.path.join(ROOT, "tests", "worlds", "tcpip.ini")
MB = int(os.environ.get("BENCH_MB", "64"))
LIMIT_S = float(os.environ.get("BENCH_S", "10"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
SSL_MB = int(os.environ.get("BENCH_SSL_MB", "32"))
FACTORY = os.path.join(ROOT, "pki", "factory")
CHUNK = 65536
PAYLOAD = os.urandom(1 << 20)


# ---- plumbing -------------------------------------------------------------------

def open_pty(path, deadline=5.0):
    end = time.monotonic() + deadline
    while not os.path.exists(path):
        if time.monotonic() > end:
            raise TimeoutError(f"{path} did not appear")
        time.sleep(0.005)
    fd = os.open(path, os.O_RDWR | os.O_NOCTTY)
    tty.setraw(fd, termios.TCSANOW)
    return fd


class Reader:
    """Buffered reads from the AT port with deadlines."""

    def __init__(self, fd):
        self.fd, self.buf = fd, b""

    def more(self, end):
        """Reads what arrives before the monotonic time end."""
        left = end - time.monotonic()
        if left <= 0:
            raise TimeoutError(f"AT port silent; have {self.buf[-120:]!r}")
        if select.select([self.fd], [], [], left)[0]:
            self.buf += os.read(self.fd, 65536)

    def until(self, token, timeout=5.0):
        end = time.monotonic() + timeout
        while token not in self.buf:
            self.more(end)
        i = self.buf.index(token) + len(token)
        out, self.buf = self.buf[:i], self.buf[i:]
        return out

    def cmd(self, line, token=b"\r\nOK\r\n", timeout=5.0):
        os.write(self.fd, line.encode() + b"\r\n")
        return self.until(token, timeout)


def listener():
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", 0))
    s.listen(4)
    return s


def accept(lsock, timeout=5.0):
    lsock.settimeout(timeout)
    c, _ = lsock.accept()
    c.settimeout(None)
    return c


class TlsListener:
    """A TCP listener on 127.0.0.1 whose connections become TLS server
    sockets (the factory server certificate; no client certificate asked)."""

    def __init__(self):
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ctx.load_cert_chain(os.path.join(FACTORY, "server_cert", "server_cert.crt"),
                                 os.path.join(FACTORY, "server_key", "server.key"))
        self.lsock = listener()
        self.port = self.lsock.getsockname()[1]

    def accept(self, timeout=5.0):
        """The next connection, its handshake done (blocking, bounded)."""
        c = accept(self.lsock, timeout)
        c.settimeout(timeout)
        s = self.ctx.wrap_socket(c, server_side=True)
        s.settimeout(None)
        return s

    def close(self):
        self.lsock.close()


def budget():
    return MB << 20


# ---- the two directions, measured the same way for espat and socat -----------------

def uart_to_tcp(fd, sock, total):
    """Writes up to total bytes into the pty; the peer reads them. Stops
    writing at the time limit. Returns (bytes, seconds) once the peer has
    everything written."""
    got = [0]
    written = [0]
    done_writing = threading.Event()

    def sink():
        buf = bytearray(1 << 20)
        while True:
            n = sock.recv_into(buf)
            if n == 0:
                return
            got[0] += n
            if done_writing.is_set() and got[0] >= written[0]:
                return

    t = threading.Thread(target=sink, daemon=True)
    os.set_blocking(fd, True)
    t0 = time.perf_counter()
    t.start()
    view = memoryview(PAYLOAD)
    while written[0] < total and time.perf_counter() - t0 < LIMIT_S:
        off = written[0] % len(PAYLOAD)
        n = os.write(fd, view[off:off + min(CHUNK, total - written[0], len(PAYLOAD) - off)])
        written[0] += n
    done_writing.set()
    t.join(30)
    dt = time.perf_counter() - t0
    if t.is_alive():
        raise TimeoutError(f"peer got {got[0]} of {written[0]} bytes")
    return written[0], dt


def tcp_to_uart(fd, sock, total, parse_ipd=False):
    """The peer sends up to total bytes (stopping at the time limit); reads
    them from the pty (raw, or as +IPD messages). Returns (payload bytes,
    seconds)."""
    sent = [0]
    stop = threading.Event()

    def source():
        view = memoryview(PAYLOAD)
        try:
            while sent[0] < total and not stop.is_set():
                off = sent[0] % len(PAYLOAD)
                n = sock.send(view[off:off + min(CHUNK, total - sent[0], len(PAYLOAD) - off)])
                sent[0] += n
        finally:
            stop.set()

    os.set_blocking(fd, True)
    t = threading.Thread(target=source, daemon=True)
    t0 = time.perf_counter()
    t.start()
    got = 0
    buf = b""
    hdr = re.compile(rb"\r\n\+IPD,(\d+):")
    while True:
        if time.perf_counter() - t0 > LIMIT_S:
            stop.set()
        if stop.is_set() and got >= sent[0]:
            break
        r, _, _ = select.select([fd], [], [], 1.0)
        if not r:
            if stop.is_set() and time.perf_counter() - t0 > LIMIT_S + 10:
                raise TimeoutError(f"read {got} of {sent[0]} bytes")
            continue
        data = os.read(fd, 1 << 20)
        if not parse_ipd:
            got += len(data)
            continue
        buf += data
        while True:  # whole +IPD messages off the front of buf
            m = hdr.match(buf)
            if not m:
                if len(buf) > 32 and not buf.startswith(b"\r\n+IPD,"):
                    raise ValueError(f"not +IPD: {buf[:40]!r}")
                break
            n = int(m.group(1))
            if len(buf) < m.end() + n:
                break
            got += n
            buf = buf[m.end() + n:]
    dt = time.perf_counter() - t0
    t.join(5)
    return got, dt


# ---- espat --------------------------------------------------------------------------

class Espat:
    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="espat-bench-")
        link = os.path.join(self.dir, "tty")
        self.proc = subprocess.Popen([ESPAT, "--no-pace", "--pty", link, "--data-dir",
                                      os.path.join(self.dir, "data"), "--world", WORLD],
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        self.proc.stdout.readline()
        self.fd = open_pty(link)
        self.r = Reader(self.fd)
        self.r.until(b"ready\r\n")
        self.r.cmd("ATE0")
        self.r.cmd("AT+CWMODE=1")
        self.r.cmd('AT+CWJAP="espat","espatpass"')
        self.lsock = listener()
        self.tls = TlsListener()

    def connect(self):
        port = self.lsock.getsockname()[1]
        self.r.cmd(f'AT+CIPSTART="TCP","127.0.0.1",{port}')
        return accept(self.lsock)

    def connect_ssl(self):
        """An SSL link to the TLS peer, the module verifying nothing."""
        self.r.cmd("AT+CIPSSLCCONF=0")
        os.write(self.fd, f'AT+CIPSTART="SSL","127.0.0.1",{self.tls.port}\r\n'.encode())
        c = self.tls.accept()
        self.r.until(b"\r\nOK\r\n")
        return c

    def passthrough(self, tls=False):
        c = self.connect_ssl() if tls else self.connect()
        self.r.cmd("AT+CIPMODE=1")
        self.r.cmd("AT+CIPSEND", token=b">")
        return c

    def leave(self, c):
        time.sleep(0.05)
        os.write(self.fd, b"+++")
        time.sleep(0.05)
        self.r.buf = b""
        c.close()
        self.r.cmd("AT+CIPMODE=0", token=b"\r\nOK\r\n")
        # the link's CLOSED may come before or after: drain it
        end = time.monotonic() + 1
        while time.monotonic() < end and select.select([self.fd], [], [], 0.05)[0]:
            os.read(self.fd, 65536)
        self.r.buf = b""

    def cipsend(self, total):
        c = self.connect()
        got = [0]

        def sink():
            buf = bytearray(1 << 16)
            while True:
                n = c.recv_into(buf)
                if n == 0:
                    return
                got[0] += n
        t = threading.Thread(target=sink, daemon=True)
        t.start()
        block = PAYLOAD[:2048]
        sent = 0
        t0 = time.perf_counter()
        while sent < total and time.perf_counter() - t0 < LIMIT_S:
            os.write(self.fd, b"AT+CIPSEND=2048\r\n")
            self.r.until(b"\r\nOK\r\n>")
            os.write(self.fd, block)
            self.r.until(b"SEND OK\r\n")
            sent += 2048
        end = time.monotonic() + 10
        while got[0] < sent and time.monotonic() < end:
            time.sleep(0.001)
        dt = time.perf_counter() - t0
        self.r.cmd("AT+CIPCLOSE", token=b"\r\nOK\r\n")
        c.close()
        return sent, dt

    def ipd(self, total):
        c = self.connect()
        self.r.buf = b""
        n, dt = tcp_to_uart(self.fd, c, total, parse_ipd=True)
        c.close()
        self.r.until(b"CLOSED\r\n")
        return n, dt

    def close(self):
        self.proc.terminate()
        self.proc.wait(5)
        os.close(self.fd)
        self.lsock.close()
        self.tls.close()
        shutil.rmtree(self.dir, ignore_errors=True)


# ---- socat ----------------------------------------------------------------------------

class Socat:
    """socat bridging a fresh pty to a fresh TCP peer, or with tls=True to a
    fresh TLS peer (socat's openssl address, verifying nothing)."""

    def __init__(self, tls=False):
        self.dir = tempfile.mkdtemp(prefix="socat-bench-")
        self.tls = TlsListener() if tls else None
        self.lsock = self.tls.lsock if tls else listener()
        link = os.path.join(self.dir, "tty")
        port = self.lsock.getsockname()[1]
        far = f"openssl:127.0.0.1:{port},verify=0" if tls else f"tcp:127.0.0.1:{port}"
        self.proc = subprocess.Popen(["socat", "-b", "8192", f"pty,raw,echo=0,link={link}", far],
                                     stderr=subprocess.DEVNULL)
        self.peer = self.tls.accept() if tls else accept(self.lsock)
        self.fd = open_pty(link)

    def close(self):
        self.proc.terminate()
        self.proc.wait(5)
        os.close(self.fd)
        self.peer.close()
        self.lsock.close()
        shutil.rmtree(self.dir, ignore_errors=True)


def with_socat(fn, tls=False):
    s = Socat(tls)
    try:
        return fn(s)
    finally:
        s.close()


# ---- the runs ---------------------------------------------------------------------------

def best(results):
    """(bytes, seconds) pairs -> the best rate in MB/s (10^6 bytes)."""
    return max(n / dt for n, dt in results) / 1e6


def median(results):
    rates = sorted(n / dt for n, dt in results)
    return rates[len(rates) // 2] / 1e6


def main():
    if not shutil.which("socat"):
        print("bench_tcpip: socat not found (apt-get install socat)")
        return 1
    total = budget()
    ssl_total = SSL_MB << 20
    e = Espat()
    runs = {k: [] for k in ("pt_up", "pt_down", "socat_up", "socat_down", "cipsend", "ipd",
                            "ssl_up", "ssl_down", "socat_ssl_up", "socat_ssl_down")}
    try:
        for _ in range(ROUNDS):
            c = e.passthrough()
            runs["pt_up"].append(uart_to_tcp(e.fd, c, total))
            runs["pt_down"].append(tcp_to_uart(e.fd, c, total))
            e.leave(c)
            runs["socat_up"].append(with_socat(lambda s: uart_to_tcp(s.fd, s.peer, total)))
            runs["socat_down"].append(with_socat(lambda s: tcp_to_uart(s.fd, s.peer, total)))
            runs["cipsend"].append(e.cipsend(total))
            runs["ipd"].append(e.ipd(total))
            c = e.passthrough(tls=True)
            runs["ssl_up"].append(uart_to_tcp(e.fd, c, ssl_total))
            runs["ssl_down"].append(tcp_to_uart(e.fd, c, ssl_total))
            e.leave(c)
            runs["socat_ssl_up"].append(
                with_socat(lambda s: uart_to_tcp(s.fd, s.peer, ssl_total), tls=True))
            runs["socat_ssl_down"].append(
                with_socat(lambda s: tcp_to_uart(s.fd, s.peer, ssl_total), tls=True))
    finally:
        e.close()
    def row(label, mine, ref, extra=""):
        espat, socat = best(runs[mine]), best(runs[ref])
        print(f"{label + ':':<22} espat {espat:8.1f} MB/s   socat {socat:8.1f} MB/s   "
              f"ratio {espat / socat:5.2f}x" + (f"   {extra}" if extra else ""))

    row("passthrough UART->TCP", "pt_up", "socat_up", "(target >= 0.90x)")
    row("passthrough TCP->UART", "pt_down", "socat_down", "(target >= 0.90x)")
    row("AT+CIPSEND 2048 B", "cipsend", "socat_up",
        f"({best(runs['cipsend']) * 1e6 / 2048:.0f} sends/s)")
    row("+IPD receive", "ipd", "socat_down")
    row("passthrough UART->SSL", "ssl_up", "socat_ssl_up")
    row("passthrough SSL->UART", "ssl_down", "socat_ssl_down")
    print("medians:               " + ", ".join(
        f"{k} {median(v):.1f}" for k, v in runs.items()) + " MB/s")
    moved = {k: sum(n for n, _ in v) / len(v) / (1 << 20) for k, v in runs.items()}
    print(f"(best of {ROUNDS}; MiB moved per run: "
          + ", ".join(f"{k} {v:.0f}" for k, v in moved.items())
          + f"; limit {MB} MiB ({SSL_MB} over SSL) or {LIMIT_S:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
