#!/usr/bin/python3
"""WebSocket echo round trips through the module, each a ratio against a
python3-websockets client doing the same round trips against the same echo
server in the same run:

- module: AT+WSSEND=0,<n>,2 / '>' / <n> bytes / SEND OK, then the echo read
  off the AT port as +WS_DATA:0,<n>,<data> CR LF; one binary frame in flight.
- reference: websockets.connect (asyncio; Debian's 10.x has no sync client)
  sending the same <n> bytes and awaiting the echo, one message in flight.

The echo server is python3-websockets on 127.0.0.1 in its own process (so
neither side shares its interpreter), without compression or pings. The module
runs with --no-pace, joined to tests/worlds/tcpip.ini's host network, its link
opened once with AT+WSCFG (buffer 4096, pings every 7200 s) and AT+WSOPEN. Sizes
16 and 2048 bytes; each run is BENCH_WS_N (default 500) round trips or
BENCH_S seconds (default 4), whichever comes first; each figure is the best of
BENCH_ROUNDS (default 3) rounds, module and reference alternating so both see
the same machine load. Prints numbers; asserts nothing (but says when an echo
differs from what was sent).
"""
import asyncio
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

import websockets

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_tcpip  # noqa: E402
from bench_tcpip import open_pty  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ESPAT = os.environ.get("ESPAT_BIN", os.path.join(ROOT, "build", "espat"))
WORLD = os.path.join(ROOT, "tests", "worlds", "tcpip.ini")
N = int(os.environ.get("BENCH_WS_N", "500"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
LIMIT_S = float(os.environ.get("BENCH_S", "4"))
SIZES = (16, 2048)
BUFFER = 4096  # AT+WSCFG <buffer_size>: a 2048-byte echo is one +WS_DATA
WARMUP = 20

SERVER = r'''
import asyncio, websockets
async def echo(ws, path=None):
    try:
        async for msg in ws:
            await ws.send(msg)
    except websockets.ConnectionClosed:
        pass
async def main():
    srv = await websockets.serve(echo, "127.0.0.1", 0, max_size=None,
                                 compression=None, ping_interval=None)
    print(srv.sockets[0].getsockname()[1], flush=True)
    await asyncio.Future()
asyncio.run(main())
'''
DATA_HEAD = re.compile(rb"\+WS_DATA:0,(\d+),")


# ---- plumbing -------------------------------------------------------------------

class Reader(bench_tcpip.Reader):
    """bench_tcpip's AT port reader, plus the echo's parse."""

    def send_and_echo(self, timeout=5.0):
        """After the data of an AT+WSSEND: consumes its SEND OK and the echo's
        +WS_DATA:0,<n>,<data> CR LF, in whichever order they come (the data is
        binary, so the parse goes record by record, never by searching).
        Returns the echoed data."""
        end = time.monotonic() + timeout
        sent, echo = False, None
        while not sent or echo is None:
            b = self.buf.lstrip(b"\r\n")
            if b.startswith(b"SEND OK\r\n"):
                self.buf, sent = b[9:], True
                continue
            m = DATA_HEAD.match(b)
            if m and len(b) >= m.end() + int(m.group(1)) + 2:
                stop = m.end() + int(m.group(1))
                echo, self.buf = b[m.end():stop], b[stop + 2:]
                continue
            if len(b) >= 24 and not m:  # a whole header would have matched by now
                raise ValueError(f"unexpected on the AT port: {b[:60]!r}")
            self.more(end)
        return echo


# ---- the echo server ----------------------------------------------------------------

class Server:
    def __init__(self):
        self.proc = subprocess.Popen([sys.executable, "-c", SERVER], stdout=subprocess.PIPE)
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError("the echo server did not start")
        self.port = int(line)
        self.uri = f"ws://127.0.0.1:{self.port}/"

    def close(self):
        self.proc.terminate()
        self.proc.wait(5)


# ---- the module ---------------------------------------------------------------------

class Espat:
    def __init__(self, uri):
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
        self.r.cmd(f"AT+WSCFG=0,7200,7200,{BUFFER}")
        self.r.cmd(f'AT+WSOPEN=0,"{uri}"', timeout=10)

    def roundtrips(self, payload, n):
        """Up to n round trips of payload (stopping at the time limit).
        Returns (round trips, seconds, echoes that differed)."""
        head = b"AT+WSSEND=0,%d,2\r\n" % len(payload)
        done = bad = 0
        t0 = time.perf_counter()
        while done < n and time.perf_counter() - t0 < LIMIT_S:
            os.write(self.fd, head)
            self.r.until(b"\r\nOK\r\n>")
            os.write(self.fd, payload)
            bad += self.r.send_and_echo() != payload
            done += 1
        return done, time.perf_counter() - t0, bad

    def close(self):
        try:
            self.r.cmd("AT+WSCLOSE=0", timeout=5)
        finally:
            self.proc.terminate()
            self.proc.wait(5)
            os.close(self.fd)
            shutil.rmtree(self.dir, ignore_errors=True)


# ---- the reference ------------------------------------------------------------------

class Reference:
    """A websockets client on its own event loop, driven one run at a time."""

    def __init__(self, uri):
        self.loop = asyncio.new_event_loop()
        self.ws = self.loop.run_until_complete(self._connect(uri))

    @staticmethod
    async def _connect(uri):
        # inside a coroutine: 10.x's connect() binds to the running loop
        return await websockets.connect(uri, max_size=None, compression=None,
                                        ping_interval=None)

    def roundtrips(self, payload, n):
        return self.loop.run_until_complete(self._roundtrips(payload, n))

    async def _roundtrips(self, payload, n):
        done = bad = 0
        t0 = time.perf_counter()
        while done < n and time.perf_counter() - t0 < LIMIT_S:
            await self.ws.send(payload)
            bad += await asyncio.wait_for(self.ws.recv(), 5) != payload
            done += 1
        return done, time.perf_counter() - t0, bad

    def close(self):
        self.loop.run_until_complete(self.ws.close())
        self.loop.close()


# ---- the runs -----------------------------------------------------------------------

def best(results):
    """(round trips, seconds, bad) triples -> the best rate in round trips/s."""
    return max(n / dt for n, dt, _ in results)


def main():
    srv = Server()
    e = ref = None
    try:
        e = Espat(srv.uri)
        ref = Reference(srv.uri)
        payloads = {n: os.urandom(n) for n in SIZES}
        runs = {(who, n): [] for who in ("espat", "ref") for n in SIZES}
        for n, p in payloads.items():
            e.roundtrips(p, WARMUP)
            ref.roundtrips(p, WARMUP)
        for _ in range(ROUNDS):
            for n, p in payloads.items():
                runs["espat", n].append(e.roundtrips(p, N))
                runs["ref", n].append(ref.roundtrips(p, N))
    finally:
        for side in (ref, e, srv):
            if side is not None:
                side.close()
    for n in SIZES:
        mine, theirs = best(runs["espat", n]), best(runs["ref", n])
        label = f"WS echo {n} B:"
        print(f"{label:<18} espat {mine:8.0f} rt/s {1e6 / mine:8.1f} us   "
              f"websockets {theirs:8.0f} rt/s {1e6 / theirs:8.1f} us   "
              f"ratio {theirs / mine:5.2f}x (module time / reference time)")
    bad = {k: sum(b for _, _, b in v) for k, v in runs.items()}
    if any(bad.values()):
        print("echoes that differed: " + ", ".join(
            f"{who} {n} B {b}" for (who, n), b in bad.items() if b))
    done = {k: sum(c for c, _, _ in v) / len(v) for k, v in runs.items()}
    print(f"(best of {ROUNDS}; round trips per run: "
          + ", ".join(f"{who} {n} B {c:.0f}" for (who, n), c in done.items())
          + f"; limit {N} or {LIMIT_S:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
