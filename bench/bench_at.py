#!/usr/bin/python3
"""Engine benchmarks, each a ratio against a reference measured in the same run.

- AT round trip: `AT\\r\\n` -> `\\r\\nOK\\r\\n` over the pty with --no-pace, against a trivial
  pty echo (bench/pty_echo.c) doing the same 4-byte request / 6-byte answer exchange.
  Target (DESIGN.md): within 1.5x.
- Start to ready: spawn -> `ready` read from the pty, against spawning pty_echo and reading its
  pty name. Target: under 50 ms absolute.
- Idle CPU: CPU time espat uses in IDLE_S seconds of nothing. Target: under 0.1% of a core.

Prints numbers; asserts nothing (these machines are shared and noisy).
"""
import os, select, subprocess, sys, tempfile, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ESPAT = os.environ.get("ESPAT_BIN", os.path.join(ROOT, "build", "espat"))
ECHO = os.path.join(ROOT, "build", "bench", "pty_echo")
N = int(os.environ.get("BENCH_N", "2000"))
IDLE_S = float(os.environ.get("IDLE_S", "5"))


def open_pty(name):
    import termios, tty  # noqa: E401
    fd = os.open(name, os.O_RDWR | os.O_NOCTTY)
    tty.setraw(fd, termios.TCSANOW)
    return fd


def read_until(fd, token, deadline):
    buf = b""
    while token not in buf:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError(f"waiting for {token!r}, got {buf[-80:]!r}")
        r, _, _ = select.select([fd], [], [], left)
        if r:
            buf += os.read(fd, 4096)
    return buf


def spawn(argv):
    t0 = time.monotonic()
    p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    name = p.stdout.readline().decode().strip()
    return p, name, t0


def roundtrips(fd, req, answer, n):
    t0 = time.perf_counter()
    for _ in range(n):
        os.write(fd, req)
        read_until(fd, answer, time.monotonic() + 5)
    return (time.perf_counter() - t0) / n


def main():
    data = tempfile.mkdtemp(prefix="espat-bench-")
    p, name, t0 = spawn([ESPAT, "--no-pace", "--data-dir", data])
    fd = open_pty(name)
    read_until(fd, b"ready\r\n", time.monotonic() + 5)
    t_ready = time.monotonic() - t0
    os.write(fd, b"ATE0\r\n")
    read_until(fd, b"OK\r\n", time.monotonic() + 5)

    e, ename, t1 = spawn([ECHO])
    t_echo_start = time.monotonic() - t1
    efd = open_pty(ename)

    # warm up, then alternate rounds so both see the same machine load
    roundtrips(fd, b"AT\r\n", b"OK\r\n", 100)
    roundtrips(efd, b"AT\r\n", b"AT\r\n", 100)
    at, echo = [], []
    for _ in range(5):
        at.append(roundtrips(fd, b"AT\r\n", b"OK\r\n", N // 5))
        echo.append(roundtrips(efd, b"AT\r\n", b"AT\r\n", N // 5))
    at_us, echo_us = min(at) * 1e6, min(echo) * 1e6

    stat0 = open(f"/proc/{p.pid}/stat").read().split()
    time.sleep(IDLE_S)
    stat1 = open(f"/proc/{p.pid}/stat").read().split()
    ticks = (int(stat1[13]) + int(stat1[14])) - (int(stat0[13]) + int(stat0[14]))
    idle_pct = ticks / os.sysconf("SC_CLK_TCK") / IDLE_S * 100

    for proc in (p, e):
        proc.terminate()
        proc.wait(timeout=5)
    os.close(fd)
    os.close(efd)

    print(f"AT round trip:   espat {at_us:8.1f} us   pty echo {echo_us:8.1f} us   ratio {at_us / echo_us:5.2f}x   (target <= 1.50x)")
    print(f"start to ready:  espat {t_ready * 1e3:8.1f} ms   echo start {t_echo_start * 1e3:6.1f} ms   ratio {t_ready / t_echo_start:5.2f}x   (target < 50 ms)")
    print(f"idle CPU:        espat {idle_pct:8.3f} % of a core over {IDLE_S:.0f} s   (target < 0.1 %)")


if __name__ == "__main__":
    sys.exit(main())
