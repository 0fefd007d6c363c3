#!/usr/bin/python3
"""The reliability figures (docs/RELIABILITY.md), each measured against a real
espat process over its pty, bounded in count and in time, printed as
numbers. `make soak` (scripts/soak.sh) runs them all; one runs alone as

    /usr/bin/python3 bench/soak.py FIGURE

FIGURE is one of:

- passthrough: SOAK_PT_MB MiB (default 1024) through passthrough each way, UART->TCP then
  TCP->UART, random bytes, sha256 on both ends compared.
- cycles: SOAK_CYCLES (default 10000) AT+CIPSTART / AT+CIPSEND of 64 bytes / AT+CIPCLOSE
  cycles to a local peer that checks the bytes; the module's descriptors (/proc/PID/fd) and
  RSS (/proc/PID/status VmRSS) at the start, after 100 warm-up cycles and at the end.
- links: 5 links (AT+CIPMUX=1) whose peers each send SOAK_LINK_MB MiB (default 4) at once
  while the host reads the AT port slowly (SOAK_READ_BPS bytes/s, default 2 MB/s, in 4 KiB
  reads); every link's +IPD payload must hash to what its peer sent.
- malformed: every command of the tables (tests/tools/schema_dump, cross-checked with
  AT+CMD?) fed the argument lists tests/e2e/schema_malformed.py generates from its schema to
  break it one way each (too many, too few, a required one left empty, wrong type, out of
  range, not a number, too long, broken quoting) plus its absent forms, and
  SOAK_MALFORMED_PER_CMD (default 40) random ones per command on top; each must get ERROR
  with the ERR CODE the schema predicts (AT+SYSLOG=1), and AT must answer OK every 50
  lines and at the end.
- fdlimit: the module started with RLIMIT_NOFILE a few descriptors above what it uses when
  idle; AT+CIPSTART on five links, a UDP link, a server and AT+PING must each be answered
  (OK or ERROR, never silence or a crash), at least one with ERROR; after the links close,
  a new AT+CIPSTART works again.

The 1,000 power cuts are tests/e2e/test_powercut.py with POWERCUT_TRIALS=1000 (soak.sh
runs it). Each figure prints "figure NAME: ..." lines and ends with "RESULT NAME ok|FAIL
...", exit status 0 or 1. Every wait has a deadline; SOAK_BUDGET_S (default 600) bounds a
figure.
"""
import hashlib
import os
import random
import re
import resource
import select
import socket
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "tests", "e2e"))
from bench_tcpip import ESPAT, WORLD, Espat, Reader, accept, listener, open_pty  # noqa: E402
import schema_malformed  # noqa: E402

BUDGET_S = float(os.environ.get("SOAK_BUDGET_S", "600"))
CHUNK = 1 << 16


def fds_rss(pid):
    """(open descriptors, VmRSS in KiB) of a process, from /proc."""
    n = len(os.listdir(f"/proc/{pid}/fd"))
    with open(f"/proc/{pid}/status") as f:
        rss = next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))
    return n, rss


def result(name, ok, text):
    print(f"RESULT {name} {'ok' if ok else 'FAIL'} {text}", flush=True)
    return 0 if ok else 1


def guard():
    """The +++ guard time: silence on the AT port is the point here."""
    time.sleep(0.06)


def leave_passthrough(e):
    guard()
    os.write(e.fd, b"+++")
    guard()
    e.r.buf = b""
    e.r.cmd("AT")


# ---- passthrough ------------------------------------------------------------------------

def pt_up(e, total, deadline):
    """total random bytes written to the AT port in passthrough; the peer
    hashes what it receives. Returns (sent sha, got sha, got bytes, s)."""
    c = e.passthrough()
    h_got = hashlib.sha256()
    got = [0]

    def sink():
        buf = bytearray(1 << 20)
        view = memoryview(buf)
        while got[0] < total:
            n = c.recv_into(buf)
            if n == 0:
                return
            h_got.update(view[:n])
            got[0] += n

    t = threading.Thread(target=sink, daemon=True)
    t.start()
    h_sent = hashlib.sha256()
    os.set_blocking(e.fd, True)
    t0 = time.monotonic()
    sent = 0
    while sent < total and time.monotonic() < deadline:
        block = os.urandom(min(CHUNK, total - sent))
        h_sent.update(block)
        view = memoryview(block)
        while view:
            n = os.write(e.fd, view)
            view = view[n:]
        sent += len(block)
    t.join(max(0.0, deadline - time.monotonic()))
    dt = time.monotonic() - t0
    leave_passthrough(e)
    c.close()
    e.r.cmd("AT+CIPMODE=0")
    return h_sent.hexdigest(), h_got.hexdigest(), sent, got[0], dt


def pt_down(e, total, deadline):
    """The peer sends total random bytes in passthrough; the host hashes
    what the AT port gives."""
    c = e.passthrough()
    h_sent = hashlib.sha256()
    sent = [0]

    def source():
        while sent[0] < total and time.monotonic() < deadline:
            block = os.urandom(min(CHUNK, total - sent[0]))
            h_sent.update(block)
            c.sendall(block)
            sent[0] += len(block)

    t = threading.Thread(target=source, daemon=True)
    t0 = time.monotonic()
    t.start()
    h_got = hashlib.sha256()
    got = 0
    while got < total and time.monotonic() < deadline:
        if select.select([e.fd], [], [], 1.0)[0]:
            data = os.read(e.fd, 1 << 20)
            h_got.update(data)
            got += len(data)
    dt = time.monotonic() - t0
    t.join(5)
    leave_passthrough(e)
    c.close()
    e.r.cmd("AT+CIPMODE=0")
    return h_sent.hexdigest(), h_got.hexdigest(), sent[0], got, dt


def fig_passthrough():
    total = int(os.environ.get("SOAK_PT_MB", "1024")) << 20
    e = Espat()
    ok = True
    try:
        deadline = time.monotonic() + BUDGET_S
        for label, fn in (("UART->TCP", pt_up), ("TCP->UART", pt_down)):
            hs, hg, sent, got, dt = fn(e, total, deadline)
            same = hs == hg and sent == got == total
            ok = ok and same
            print(f"figure passthrough: {label} {sent} bytes sent, {got} received in {dt:.1f} s "
                  f"({got / dt / 1e6:.1f} MB/s); sha256 sent {hs[:16]}, received {hg[:16]}: "
                  f"{'equal' if same else 'DIFFERENT'}", flush=True)
        alive = e.proc.poll() is None
    finally:
        e.close()
    return result("passthrough", ok and alive,
                  f"{total >> 20} MiB each way, checksums {'equal' if ok else 'DIFFER'}")


# ---- connect/send/close cycles -------------------------------------------------------------

def fig_cycles():
    n = int(os.environ.get("SOAK_CYCLES", "10000"))
    e = Espat()
    lsock = e.lsock
    port = lsock.getsockname()[1]
    pid = e.proc.pid
    marks = {"start": fds_rss(pid)}
    done = 0
    bad = None
    deadline = time.monotonic() + BUDGET_S
    payload = bytes(range(64))
    try:
        while done < n and time.monotonic() < deadline:
            out = e.r.cmd(f'AT+CIPSTART="TCP","127.0.0.1",{port}')
            if not out.endswith(b"CONNECT\r\n\r\nOK\r\n"):
                bad = f"cycle {done}: CIPSTART gave {out!r}"
                break
            c = accept(lsock)
            e.r.cmd("AT+CIPSEND=64", token=b">")
            os.write(e.fd, payload)
            e.r.until(b"SEND OK\r\n")
            got = b""
            c.settimeout(5)
            while len(got) < 64:
                chunk = c.recv(64 - len(got))
                if not chunk:
                    break
                got += chunk
            if got != payload:
                bad = f"cycle {done}: the peer got {got!r}"
                break
            out = e.r.cmd("AT+CIPCLOSE")
            if b"CLOSED" not in out:
                bad = f"cycle {done}: CIPCLOSE gave {out!r}"
                break
            c.close()
            done += 1
            if done == 100:
                marks["after 100"] = fds_rss(pid)
        marks["end"] = fds_rss(pid)
        alive = e.proc.poll() is None and e.r.cmd("AT").endswith(b"OK\r\n")
    finally:
        e.close()
    for k, (fds, rss) in marks.items():
        print(f"figure cycles: {k}: {fds} descriptors, RSS {rss} KiB", flush=True)
    warm = marks.get("after 100", marks["start"])
    end = marks["end"]
    flat = end[0] == warm[0] and end[1] <= warm[1] + 1024
    return result("cycles", bad is None and done == n and alive and flat,
                  f"{done} of {n} cycles; descriptors {warm[0]} -> {end[0]}, "
                  f"RSS {warm[1]} -> {end[1]} KiB (after 100 cycles -> end)"
                  + (f"; {bad}" if bad else ""))


# ---- 5 links, slow host --------------------------------------------------------------------

def fig_links():
    per = int(os.environ.get("SOAK_LINK_MB", "4")) << 20
    bps = float(os.environ.get("SOAK_READ_BPS", "2000000"))
    e = Espat()
    ok = False
    try:
        e.r.cmd("AT+CIPMUX=1")
        port = e.lsock.getsockname()[1]
        peers = []
        for link in range(5):
            e.r.cmd(f'AT+CIPSTART={link},"TCP","127.0.0.1",{port}')
            peers.append(accept(e.lsock))
        sent = [hashlib.sha256() for _ in range(5)]
        counts = [0] * 5
        deadline = time.monotonic() + BUDGET_S

        def source(i):
            c = peers[i]
            while counts[i] < per and time.monotonic() < deadline:
                block = os.urandom(min(CHUNK, per - counts[i]))
                sent[i].update(block)
                c.sendall(block)
                counts[i] += len(block)

        threads = [threading.Thread(target=source, args=(i,), daemon=True) for i in range(5)]
        t0 = time.monotonic()
        for t in threads:
            t.start()
        got = [hashlib.sha256() for _ in range(5)]
        gotn = [0] * 5
        hdr = re.compile(rb"\r\n\+IPD,(\d),(\d+):")
        buf = b""
        read = 0
        stray = b""
        while sum(gotn) < 5 * per and time.monotonic() < deadline:
            # the slow host: 4 KiB reads, paced to bps
            due = t0 + read / bps
            if due > time.monotonic():
                time.sleep(due - time.monotonic())
            if not select.select([e.fd], [], [], 1.0)[0]:
                continue
            data = os.read(e.fd, 4096)
            read += len(data)
            buf += data
            while True:
                m = hdr.search(buf)
                if not m:
                    break
                if m.start() > 0:
                    stray += buf[:m.start()]
                n = int(m.group(2))
                if len(buf) < m.end() + n:
                    break
                i = int(m.group(1))
                got[i].update(buf[m.end():m.end() + n])
                gotn[i] += n
                buf = buf[m.end() + n:]
        dt = time.monotonic() - t0
        for t in threads:
            t.join(5)
        same = [sent[i].hexdigest() == got[i].hexdigest() and gotn[i] == counts[i] == per
                for i in range(5)]
        for i in range(5):
            print(f"figure links: link {i}: peer sent {counts[i]} bytes, host got {gotn[i]} in "
                  f"+IPD; sha256 {'equal' if same[i] else 'DIFFERENT'}", flush=True)
        print(f"figure links: {read} bytes read off the AT port in {dt:.1f} s "
              f"({read / dt / 1e6:.2f} MB/s, reader paced at {bps / 1e6:.1f} MB/s); "
              f"bytes outside +IPD: {stray[:60]!r}", flush=True)
        for c in peers:
            c.close()
        ok = all(same) and e.proc.poll() is None
    finally:
        e.close()
    return result("links", ok, f"5 links x {per >> 20} MiB with a slow reader: "
                  + ("nothing lost" if ok else "LOST or corrupted"))


# ---- malformed argument lists from the schema ------------------------------------------

def fig_malformed():
    per_cmd = int(os.environ.get("SOAK_MALFORMED_PER_CMD", "40"))
    rng = random.Random(int(os.environ.get("SOAK_SEED", "1")))
    schema = schema_malformed.load()
    e = Espat()
    sent = answered = 0
    per_name = {}
    wrong = []
    err = re.compile(rb"ERR CODE:0x([0-9a-f]{8})\r\n\r\nERROR\r\n")
    try:
        e.r.cmd("AT+SYSLOG=1")
        listed = set(re.findall(r"\+CMD:\d+,\"([^\"]*)\"", e.r.cmd("AT+CMD?").decode()))
        ours = {"AT" + c["name"] for c in schema}
        if listed != ours:
            wrong.append(f"AT+CMD? and the tables differ: {sorted(listed ^ ours)[:10]}")
        deadline = time.monotonic() + BUDGET_S
        for name, line, want in schema_malformed.cases(schema, rng, per_cmd):
            if time.monotonic() > deadline or len(wrong) > 20:
                break
            sent += 1
            per_name[name] = per_name.get(name, 0) + 1
            os.write(e.fd, line.encode() + b"\r\n")
            try:
                out = e.r.until(b"\r\n", timeout=5)
                while not (out.endswith(b"ERROR\r\n") or out.endswith(b"OK\r\n")):
                    out += e.r.until(b"\r\n", timeout=5)
            except TimeoutError as x:
                wrong.append(f"{line!r}: no answer ({x})")
                break
            m = err.search(out)
            if m and int(m.group(1), 16) == want:
                answered += 1
            else:
                wrong.append(f"{line!r}: want 0x{want:08x}, got {out[-80:]!r}")
            if sent % 50 == 0 and not e.r.cmd("AT").endswith(b"\r\nOK\r\n"):
                wrong.append(f"after {line!r}: AT got no OK")
        alive = e.proc.poll() is None and e.r.cmd("AT").endswith(b"\r\nOK\r\n")
    finally:
        e.close()
    for w in wrong[:20]:
        print(f"figure malformed: wrong answer: {w}", flush=True)
    counts = sorted(per_name.values()) or [0]
    print(f"figure malformed: {len(per_name)} commands, {sent} lines, {answered} answered "
          f"ERROR with the predicted ERR CODE; lines per command {counts[0]}..{counts[-1]}",
          flush=True)
    return result("malformed", not wrong and alive and sent > 1000,
                  f"{sent} malformed argument lists over {len(per_name)} commands, "
                  f"{answered} ERROR with the predicted code, {len(wrong)} otherwise")


# ---- descriptor exhaustion ------------------------------------------------------------------

def spawn(limit=None):
    d = tempfile.mkdtemp(prefix="espat-soak-")
    link = os.path.join(d, "tty")

    def lower():
        if limit:
            resource.setrlimit(resource.RLIMIT_NOFILE, (limit, limit))

    p = subprocess.Popen([ESPAT, "--no-pace", "--pty", link, "--data-dir",
                          os.path.join(d, "data"), "--world", WORLD],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, preexec_fn=lower)
    p.stdout.readline()
    fd = open_pty(link)
    r = Reader(fd)
    r.until(b"ready\r\n")
    r.cmd("ATE0")
    r.cmd("AT+CWMODE=1")
    r.cmd('AT+CWJAP="espat","espatpass"')
    return p, fd, r, d


def answer(r, line, timeout=10):
    """OK or ERROR (with what came before), or None when nothing came."""
    os.write(r.fd, line.encode() + b"\r\n")
    end = time.monotonic() + timeout
    while not (r.buf.endswith(b"OK\r\n") or r.buf.endswith(b"ERROR\r\n")):
        try:
            r.more(end)
        except TimeoutError:
            return None
    out, r.buf = r.buf, b""
    return out


def fig_fdlimit():
    p, fd, r, d = spawn()
    idle, _ = fds_rss(p.pid)
    p.kill()
    p.wait()
    os.close(fd)
    headroom = int(os.environ.get("SOAK_FD_HEADROOM", "2"))
    limit = idle + headroom
    p, fd, r, d = spawn(limit)
    ls = listener()
    port = ls.getsockname()[1]
    answers = {}
    ok = recovered = False
    errors = 0
    try:
        answers["AT+CIPMUX=1"] = answer(r, "AT+CIPMUX=1")
        peers = []
        for link in range(5):
            line = f'AT+CIPSTART={link},"TCP","127.0.0.1",{port}'
            answers[line] = answer(r, line)
        ls.settimeout(0.5)
        try:
            while True:
                peers.append(ls.accept()[0])
        except OSError:
            pass
        for line in ('AT+CIPSTART=4,"UDP","127.0.0.1",9,1000,0',
                     "AT+CIPSERVER=1,3333", 'AT+PING="127.0.0.1"',
                     'AT+CIPDOMAIN="localhost"'):
            answers[line] = answer(r, line)
        for line, out in answers.items():
            short = None if out is None else out.strip().split(b"\r\n")[-1].decode()
            print(f"figure fdlimit: {line} -> {short}", flush=True)
        errors = sum(1 for out in answers.values() if out and out.endswith(b"ERROR\r\n"))
        silent = [line for line, out in answers.items() if out is None]
        # recovery: close everything, then a link opens again
        answer(r, "AT+CIPSERVER=0,1")
        answer(r, "AT+CIPCLOSE=5")
        for c in peers:
            c.close()
        again = answer(r, f'AT+CIPSTART=0,"TCP","127.0.0.1",{port}')
        recovered = again is not None and again.endswith(b"OK\r\n")
        alive = p.poll() is None
        ok = not silent and errors >= 1 and recovered and alive
        print(f"figure fdlimit: RLIMIT_NOFILE {limit} (idle use {idle}); {errors} ERROR answers, "
              f"{len(silent)} unanswered; after closing, AT+CIPSTART "
              f"{'works' if recovered else 'FAILS'}; module {'alive' if alive else 'DEAD'}",
              flush=True)
    finally:
        p.kill()
        p.wait()
        os.close(fd)
        ls.close()
    return result("fdlimit", ok, f"RLIMIT_NOFILE {limit}: {errors} ERROR answers, none silent, "
                  f"recovered: {recovered}")


FIGURES = {"passthrough": fig_passthrough, "cycles": fig_cycles, "links": fig_links,
           "malformed": fig_malformed, "fdlimit": fig_fdlimit}

if __name__ == "__main__":
    if len(sys.argv) != 2 or sys.argv[1] not in FIGURES:
        print(f"usage: soak.py {'|'.join(FIGURES)}")
        sys.exit(2)
    sys.exit(FIGURES[sys.argv[1]]())
