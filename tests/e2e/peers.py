"""Real network peers on the host's loopback for the TCP/IP tests: a TCP
server that accepts in the background, TCP connections with deadlines, and
UDP peers. Every wait has a deadline; nothing sleeps a fixed time.

    srv = TcpServer()                  # listens on 127.0.0.1:srv.port
    ... AT+CIPSTART="TCP","127.0.0.1",<srv.port> ...
    c = srv.accept()                   # a Conn
    c.send(b"hi"); c.recv_exact(4)
    c.reset()                          # RST (SO_LINGER 0)
    c.held_back()                      # the module stopped taking our bytes

Some states have no event to block on; they are read from the kernel's
tables for the test to poll: a TCP window closed on one side
(Conn.held_back, Conn.holding_back), a connect refused (refused_connects).
"""
import queue
import socket
import struct
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
