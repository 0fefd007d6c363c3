#!/usr/bin/python3
"""UART rates with pacing on, each as a ratio to the configured line rate.

For each baud rate (115200, 921600, 5000000; 8N1, RTS/CTS on so that nothing
is lost), a passthrough link to a local TCP peer:
- input: the host writes BENCH_UART_S seconds' worth of line time to the pty
  at once; the time until the peer has every byte, against N * 10 / baud.
- output, the reference measured in the same run: the peer sends the same
  amount; the time until the host has read every byte.

A ratio of 1.000x means exactly the configured rate; above 1 is faster than
the line allows. Passthrough packs input into packets every 20 ms
(AT+CIPTRANSINTVL), which costs the input side ~20 ms of its N seconds.
Prints numbers; asserts nothing.
"""
import os
import subprocess
import sys
import tempfile
import threading
import time
import shutil

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_tcpip import ESPAT, WORLD, Reader, accept, listener, open_pty  # noqa: E402

SECONDS = float(os.environ.get("BENCH_UART_S", "2"))
BAUDS = [int(b) for b in os.environ.get("BENCH_UART_BAUDS", "115200,921600,5000000").split(",")]


def start():
    d = tempfile.mkdtemp(prefix="espat-bench-uart-")
    link = os.path.join(d, "tty")
    p = subprocess.Popen([ESPAT, "--pty", link, "--data-dir", os.path.join(d, "data"),
                          "--world", WORLD], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    p.stdout.readline()
    fd = open_pty(link)
    r = Reader(fd)
    r.until(b"ready\r\n")
    r.cmd("ATE0")
    r.cmd("AT+CWMODE=1")
    r.cmd('AT+CWJAP="espat","espatpass"', timeout=10)
    return d, p, fd, r


def recv_all(c, n):
    got = 0
    buf = bytearray(1 << 16)
    while got < n:
        k = c.recv_into(buf)
        if k == 0:
            raise EOFError(f"peer: EOF after {got} of {n} bytes")
        got += k


def one(fd, r, lsock, baud):
    r.cmd(f"AT+UART_CUR={baud},8,1,0,3")
    port = lsock.getsockname()[1]
    r.cmd(f'AT+CIPSTART="TCP","127.0.0.1",{port}', timeout=10)
    c = accept(lsock)
    r.cmd("AT+CIPMODE=1")
    r.cmd("AT+CIPSEND", token=b">")
    n = int(baud / 10 * SECONDS)
    ideal = n * 10 / baud
    data = os.urandom(n)
    # input: write it all at once, from a thread (the pty holds some back)
    t0 = time.perf_counter()
    w = threading.Thread(target=write_all, args=(fd, data), daemon=True)
    w.start()
    recv_all(c, n)
    t_in = time.perf_counter() - t0
    w.join(10)
    # output: the same amount the other way
    t0 = time.perf_counter()
    threading.Thread(target=c.sendall, args=(data,), daemon=True).start()
    got = 0
    while got < n:
        r.more(time.monotonic() + 10)
        got += len(r.buf)
        r.buf = b""
    t_out = time.perf_counter() - t0
    time.sleep(0.05)  # the +++ guard is silence
    os.write(fd, b"+++")
    time.sleep(0.05)
    r.cmd("AT+CIPCLOSE", token=b"\r\nOK\r\n")
    c.close()
    r.cmd("AT+CIPMODE=0")
    r.buf = b""
    return n, ideal / t_in, ideal / t_out


def write_all(fd, data):
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def main():
    d, p, fd, r = start()
    lsock = listener()
    try:
        print(f"UART rates with pacing on, 8N1, RTS/CTS, {SECONDS:g} s of line time each "
              f"(ratio to the configured rate; 1.000x is exact)")
        for baud in BAUDS:
            n, rin, rout = one(fd, r, lsock, baud)
            print(f"  {baud:>8} baud, {n:>8} bytes: input {rin:.3f}x   output (reference) "
                  f"{rout:.3f}x")
    finally:
        p.terminate()
        p.wait(5)
        os.close(fd)
        lsock.close()
        shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    main()
