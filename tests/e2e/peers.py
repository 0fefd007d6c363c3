"""Real network peers on the host's loopback for the TCP/IP tests: a TCP
server that accepts in the background, TCP connections with deadlines, UDP
peers, openssl s_server / s_client, and SNTP and DNS servers. Every wait
has a deadline; nothing sleeps a fixed time.

    srv = TcpServer()                  # listens on 127.0.0.1:srv.port
    ... AT+CIPSTART="TCP","127.0.0.1",<srv.port> ...
    c = srv.accept()                   # a Conn
    c.send(b"hi"); c.recv_exact(4)
    c.reset()                          # RST (SO_LINGER 0)
    c.held_back()                      # the module stopped taking our bytes

    ntp = SntpServer("127.0.0.123")    # SNTP on port 123 (needs root)
    dns = DnsServer("127.0.0.130", {"pool.ntp.org": "127.0.0.123"})  # port 53
    srv = Openssl(["s_server", "-quiet", "-cert", crt, "-key", key, "-port", "4433"],
                  listen_port=4433)    # the guide's PC: openssl s_server / s_client
    srv.recv_exact(4); srv.send(b"test")

Some states have no event to block on; they are read from the kernel's
tables for the test to poll: a TCP window closed on one side
(Conn.held_back, Conn.holding_back), a connect refused (refused_connects),
a listener up (listening).
"""
import os
import queue
import select
import socket
import struct
import subprocess
import threading
import time

DEADLINE = 5.0


class Conn:
    """One TCP connection, blocking with deadlines."""

    def __init__(self, sock):
        self.sock = sock
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    @classmethod
    def connect(cls, port, host="127.0.0.1", timeout=DEADLINE):
        return cls(socket.create_connection((host, port), timeout=timeout))

    def send(self, data):
        self.sock.settimeout(DEADLINE)
        self.sock.sendall(data)

    def recv_exact(self, n, timeout=DEADLINE):
        """Exactly n bytes, or AssertionError at the deadline or on EOF."""
        buf = bytearray()
        end = time.monotonic() + timeout
        while len(buf) < n:
            left = end - time.monotonic()
            if left <= 0:
                raise AssertionError(f"peer got {len(buf)} of {n} bytes in {timeout}s: "
                                     f"{bytes(buf[-80:])!r}")
            self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(min(n - len(buf), 1 << 20))
            except socket.timeout:
                continue
            if not chunk:
                raise AssertionError(f"peer: EOF after {len(buf)} of {n} bytes")
            buf += chunk
        return bytes(buf)

    def recv_eof(self, timeout=DEADLINE):
        """Reads until the module closes; returns what came before. Raises
        ConnectionResetError if the module reset the connection."""
        buf = bytearray()
        end = time.monotonic() + timeout
        while True:
            left = end - time.monotonic()
            if left <= 0:
                raise AssertionError(f"peer: no EOF within {timeout}s")
            self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                continue
            if not chunk:
                return bytes(buf)
            buf += chunk

    def nothing(self, seconds=0.1):
        """Asserts that no byte arrives for a while (the connection stays)."""
        self.sock.settimeout(seconds)
        try:
            chunk = self.sock.recv(65536, socket.MSG_PEEK)
        except socket.timeout:
            return
        raise AssertionError(f"peer: unexpected {chunk!r}")

    def held_back(self):
        """Whether our sends wait on the module's closed receive window:
        the module stopped reading this connection and its socket's buffer
        is full, so the kernel probes the zero window (IPv4)."""
        return tcp_timer(self.sock.getsockname()[1], self.sock.getpeername()[1]) == 4

    def holding_back(self):
        """Whether the module's sends on this connection wait on our closed
        receive window: we do not read and our buffer is full (IPv4)."""
        return tcp_timer(self.sock.getpeername()[1], self.sock.getsockname()[1]) == 4

    def reset(self):
        """Closes with an RST instead of a FIN."""
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.sock.close()

    def close(self):
        self.sock.close()


class TcpServer:
    """A listener on 127.0.0.1 whose accepted connections wait in a queue.
    rcvbuf: SO_RCVBUF of accepted sockets (small: the module's sends back
    up sooner)."""

    def __init__(self, rcvbuf=None, port=0, host="127.0.0.1"):
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.lsock = socket.socket(family, socket.SOCK_STREAM)
        self.lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if rcvbuf:
            self.lsock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.lsock.bind((host, port))
        self.lsock.listen(64)
        self.port = self.lsock.getsockname()[1]
        self.conns = queue.Queue()
        self.closed = False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while True:
            try:
                s, _ = self.lsock.accept()
            except OSError:
                return
            self.conns.put(Conn(s))

    def accept(self, timeout=DEADLINE):
        try:
            return self.conns.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"no connection to port {self.port} within {timeout}s")

    def no_accept(self, seconds=0.1):
        try:
            c = self.conns.get(timeout=seconds)
        except queue.Empty:
            return
        raise AssertionError(f"unexpected connection from {c.sock.getpeername()}")

    def close(self):
        self.closed = True
        try:
            self.lsock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.lsock.close()
        while not self.conns.empty():
            self.conns.get().close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class UdpPeer:
    """A UDP socket on 127.0.0.1."""

    def __init__(self, port=0, host="127.0.0.1"):
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.sock = socket.socket(family, socket.SOCK_DGRAM)
        self.sock.bind((host, port))
        self.port = self.sock.getsockname()[1]

    def sendto(self, data, port, host=None):
        if host is None:
            host = "::1" if self.sock.family == socket.AF_INET6 else "127.0.0.1"
        self.sock.sendto(data, (host, port))

    def recv(self, timeout=DEADLINE):
        """One datagram and its sender (ip, port)."""
        self.sock.settimeout(timeout)
        try:
            return self.sock.recvfrom(65536)
        except socket.timeout:
            raise AssertionError(f"UDP peer {self.port}: no datagram within {timeout}s")

    def nothing(self, seconds=0.1):
        self.sock.settimeout(seconds)
        try:
            data, addr = self.sock.recvfrom(65536)
        except socket.timeout:
            return
        raise AssertionError(f"UDP peer {self.port}: unexpected {data!r} from {addr}")

    def close(self):
        self.sock.close()


def tcp_timer(local_port, remote_port):
    """The timer the kernel runs on the established IPv4 socket from
    local_port to remote_port on this host (the tr column of
    /proc/net/tcp): 0 none, 1 retransmit, 2 keep-alive, 4 zero-window
    probe (its sends wait for the other end's window to open)."""
    with open("/proc/net/tcp") as f:
        rows = [line.split() for line in f.readlines()[1:]]
    for r in rows:
        loc, rem, st, timer = r[1], r[2], r[3], r[5]
        if (int(loc.split(":")[1], 16) == local_port and int(rem.split(":")[1], 16) == remote_port
                and st == "01"):
            return int(timer.split(":")[0], 16)
    raise AssertionError(f"no established socket {local_port} -> {remote_port}")


def refused_connects():
    """How many TCP connects failed in their handshake in this network
    namespace (AttemptFails of /proc/net/snmp): it grows when the module's
    connect to a closed port is refused. Namespace-wide, so anything else
    failing a connect meanwhile counts too."""
    with open("/proc/net/snmp") as f:
        names, values = [line.split() for line in f if line.startswith("Tcp:")][:2]
    return int(values[names.index("AttemptFails")])


def free_port():
    """A TCP port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def free_ports(n):
    """n distinct TCP ports nothing listens on: bound all at once, then
    released (free_port() called n times may hand out one port twice)."""
    socks = [socket.socket() for _ in range(n)]
    try:
        for s in socks:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def established(port):
    """Whether a TCP connection to 127.0.0.1:port is established (state 01
    of /proc/net/tcp, the remote address column)."""
    want = f"0100007F:{port:04X}"
    with open("/proc/net/tcp") as f:
        return any(cols[2] == want and cols[3] == "01"
                   for cols in (line.split() for line in list(f)[1:]))


def listening(port):
    """Whether some TCP socket on this host listens on port (IPv4 or IPv6;
    state 0A of /proc/net/tcp[6])."""
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as f:
                rows = [line.split() for line in f.readlines()[1:]]
        except FileNotFoundError:
            continue
        if any(int(r[1].rsplit(":", 1)[1], 16) == port and r[3] == "0A" for r in rows):
            return True
    return False


class Openssl:
    """An `openssl s_server` or `s_client` process, as the guide's PC runs
    them: what it reads from the TLS peer is its stdout, what we write to
    its stdin it sends. Pass -quiet in args so that stdout holds nothing
    but the data. listen_port: for s_server, wait until it listens (it
    prints nothing then under -quiet); the kernel's table is polled, there
    being no event to block on."""

    def __init__(self, args, listen_port=None, timeout=DEADLINE):
        self.args = ["openssl"] + list(args)
        self.proc = subprocess.Popen(self.args, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE)
        self.errbuf = bytearray()
        threading.Thread(target=self._drain_stderr, daemon=True).start()
        self.buf = bytearray()
        if listen_port is not None:
            end = time.monotonic() + timeout
            while not listening(listen_port):
                if self.proc.poll() is not None or time.monotonic() > end:
                    raise AssertionError(f"{self.args[1]} does not listen on {listen_port}: "
                                         f"{self.log()}")
                time.sleep(0.01)  # the polling interval

    def _drain_stderr(self):
        for chunk in iter(lambda: self.proc.stderr.read1(4096), b""):
            self.errbuf += chunk

    def log(self):
        """What the process said on stderr (its handshake and verify
        messages, errors), and its exit status if it ended."""
        rc = self.proc.poll()
        return (f"[{' '.join(self.args)}] " + ("" if rc is None else f"exit {rc}: ")
                + self.errbuf.decode(errors="replace")[-1500:])

    def send(self, data):
        self.proc.stdin.write(data)
        self.proc.stdin.flush()

    def recv_exact(self, n, timeout=DEADLINE):
        """Exactly the next n bytes it received, or AssertionError at the
        deadline or when it exits first."""
        fd = self.proc.stdout.fileno()
        end = time.monotonic() + timeout
        while len(self.buf) < n:
            left = end - time.monotonic()
            if left <= 0:
                raise AssertionError(f"{self.args[1]} got {bytes(self.buf)!r}, want {n} bytes "
                                     f"in {timeout}s: {self.log()}")
            if select.select([fd], [], [], left)[0]:
                chunk = os.read(fd, 65536)
                if not chunk:
                    raise AssertionError(f"{self.args[1]} ended after {bytes(self.buf)!r}: "
                                         f"{self.log()}")
                self.buf += chunk
        out, self.buf = bytes(self.buf[:n]), self.buf[n:]
        return out

    def close(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=DEADLINE)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        for f in (self.proc.stdin, self.proc.stdout):
            try:
                f.close()
            except OSError:  # stdin: the process is gone (EPIPE)
                pass


class _UdpService:
    """A UDP server on host:port in a thread, answering each request with
    what reply(request) returns (None: no answer). Binding fails with
    OSError (a port below 1024 needs root, or the address is taken)."""

    def __init__(self, host, port):
        self.host = host
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            self.sock.bind((host, port))
        except OSError:
            self.sock.close()
            raise
        self.sock.settimeout(0.2)  # how often the thread looks at stop
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while not self.stop.is_set():
            try:
                req, peer = self.sock.recvfrom(512)
            except socket.timeout:
                continue
            except OSError:
                return
            rep = self.reply(req)
            if rep is not None:
                self.sock.sendto(rep, peer)

    def close(self):
        self.stop.set()
        self.sock.close()
        self.thread.join(timeout=2)


NTP_OFFSET = 2208988800  # 1900 to 1970


class SntpServer(_UdpService):
    """An SNTP server on host:123 answering every client request with the
    time `t` (Unix seconds, fraction 0; None: the host's clock at the
    request), stratum 2, originate echoed."""

    def __init__(self, host, t=None):
        self.t = t
        self.requests = 0
        super().__init__(host, 123)

    def reply(self, req):
        if len(req) < 48 or req[0] & 7 != 3:
            return None
        self.requests += 1
        t = int(time.time()) if self.t is None else self.t
        ts = struct.pack("!II", (t + NTP_OFFSET) & 0xFFFFFFFF, 0)
        return struct.pack("!BBbb", 0x24, 2, 6, -20) + bytes(8) + b"LOCL" + ts + req[40:48] \
            + ts + ts


class DnsServer(_UdpService):
    """A DNS server on host:53 that knows the A records in `names` (name ->
    dotted IPv4): a known name gets its address for an A question and an
    empty NOERROR answer for any other (so no IPv6 address); other names
    NXDOMAIN."""

    def __init__(self, host, names):
        self.names = {k.lower().rstrip("."): socket.inet_aton(v) for k, v in names.items()}
        self.queries = []  # (name, qtype) in the order asked
        super().__init__(host, 53)

    def reply(self, req):
        if len(req) < 17:
            return None
        labels, i = [], 12
        while i < len(req) and req[i]:
            n = req[i]
            labels.append(req[i + 1:i + 1 + n].decode("latin-1"))
            i += 1 + n
        if i + 5 > len(req):
            return None
        qtype, qclass = struct.unpack("!HH", req[i + 1:i + 5])
        name = ".".join(labels).lower()
        self.queries.append((name, qtype))
        ip = self.names.get(name)
        answers = []
        if ip is not None and qtype == 1 and qclass == 1:
            answers.append(struct.pack("!HHHIH", 0xC00C, 1, 1, 60, 4) + ip)
        flags = 0x8180 | (0 if ip is not None else 3)
        hdr = req[:2] + struct.pack("!HHHHH", flags, 1, len(answers), 0, 0)
        return hdr + req[12:i + 5] + b"".join(answers)


def bind_somewhere(make, hosts):
    """make(host) on the first of hosts where it can bind (another test run
    may hold a port on one); re-raises the last OSError if none can."""
    err = None
    for h in hosts:
        try:
            return make(h)
        except OSError as e:
            err = e
    raise err
