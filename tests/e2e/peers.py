"""Real network peers on the host's loopback for the TCP/IP tests: a TCP
server that accepts in the background, TCP connections with deadlines, and
UDP peers. Every wait has a deadline; nothing sleeps a fixed time.

    srv = TcpServer()                  # listens on 127.0.0.1:srv.port
    ... AT+CIPSTART="TCP","127.0.0.1",<srv.port> ...
    c = srv.accept()                   # a Conn
    c.send(b"hi"); c.recv_exact(4)
    c.reset()                          # RST (SO_LINGER 0)
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


def free_port():
    """A TCP port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
