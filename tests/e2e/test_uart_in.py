"""The UART's input side (issue 20): with pacing on, the module takes the
host's bytes at the configured rate; while it cannot take them (passthrough
into a socket whose peer does not read), RTS flow control holds the host
back and nothing is lost, and without flow control what its RX buffer
(ESP-AT's 2048-byte ring plus the chip's 128-byte FIFO, COMPAT #240) cannot
hold is lost, as on the real module: counted and logged, and the module
keeps answering. Bounded: 4 MB at 5 Mbaud (8 s of line time; the loopback
socket's own buffers take about 3 MB before the module has to hold).

The rates themselves are measured by bench/bench_uart_in.py, not here."""
import re
import threading

from conftest import (GUARD, TCPIP_WORLD as WORLD, guarded_plus, join, joined, ok, pattern, prompt,
                      read_thread, sha, silence, start, wait_for, write_thread)
from peers import TcpServer

TOTAL = 4 * 1000 * 1000
BAUD = 5000000
LOST = re.compile(r"UART RX overflow ended: (\d+) bytes lost")


def passthrough_at(make_dut, flow, srv):
    d = make_dut(pace=True, world=WORLD, args=("--log-level", "debug"))
    join(d)
    ok(d, f"AT+UART_CUR={BAUD},8,1,0,{flow}")
    start(d, srv.port)
    ok(d, "AT+CIPMODE=1")
    prompt(d, "AT+CIPSEND")
    return d, srv.accept()


def log(d):
    """All of the module's stderr (Dut.stderr() keeps only its tail)."""
    with open(d.stderr_path, encoding="utf-8", errors="replace") as f:
        return f.read()


def drain_thread(conn, box):
    """Reads everything the peer gets until EOF (or a reset) into box."""
    def run():
        conn.sock.settimeout(30)
        try:
            while chunk := conn.sock.recv(1 << 20):
                box.extend(chunk)
        except OSError:
            pass
    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t


def gaps(got, data):
    """got is data with some runs left out (every run kept whole and in
    order): returns the lengths of the runs left out."""
    out, i, j = [], 0, 0
    while i < len(got):
        if got[i] == data[j]:
            k = 0
            while i + k < len(got) and j + k < len(data) and got[i + k] == data[j + k]:
                k += 1
            i, j = i + k, j + k
            continue
        at = data.find(got[i:i + 64], j)  # random data: 64 bytes find their place
        assert at > j, f"byte {i} at the peer is nowhere after byte {j} of the data"
        out.append(at - j)
        j = at
    return out + ([len(data) - j] if j < len(data) else [])


def test_without_flow_control_the_overflow_is_lost_counted_and_survived(make_dut):
    data = pattern(TOTAL, seed=21)
    with TcpServer(rcvbuf=4096) as srv:
        d, c = passthrough_at(make_dut, 0, srv)
        # the peer does not read: the module's socket fills, it stops
        # taking input, and the line goes on delivering at 5 Mbaud
        joined(write_thread(d, data), 30)
        wait_for(lambda: "UART RX overflow:" in log(d), "the overflow to be logged")
        got = bytearray()
        reader = drain_thread(c, got)

        def reported():
            err = log(d)
            return sum(int(n) for n in LOST.findall(err)), err.count("UART RX overflow:")

        def settled():
            lost, began = reported()
            ended = len(LOST.findall(log(d)))
            return began == ended and len(got) == TOTAL - lost
        wait_for(settled, lambda: f"the peer to get all but the reported loss "
                 f"({len(got)} bytes, {reported()})")
        # the only bytes missing are the runs the log reported lost: the
        # rest arrived whole, in order, none invented
        lost = gaps(bytes(got), data)
        assert 0 < sum(lost) == reported()[0]
        guarded_plus(d)
        ok(d, "AT")
        ok(d, "AT+CIPCLOSE", b"CLOSED\r\n")
        reader.join(10)


def test_with_rts_flow_control_the_host_is_held_back_and_nothing_is_lost(make_dut):
    data = pattern(TOTAL, seed=22)
    with TcpServer(rcvbuf=4096) as srv:
        d, c = passthrough_at(make_dut, 3, srv)
        writer = write_thread(d, data)
        # the peer reads only once the module's buffer is full and RTS
        # holds the host's writes back in the pty
        wait_for(lambda: "RTS holds the host back" in log(d), "the module to hold the host",
                 timeout=20)
        reader = read_thread(c, TOTAL)
        joined(writer, 30)
        joined(reader, 30)
        assert sha(reader.data) == sha(data)
        assert "UART RX overflow" not in log(d)
        guarded_plus(d)
        ok(d, "AT")


def test_plus_guard_times_hold_with_paced_input(make_dut):
    """The +++ guard (20 ms of silence each side) on input taken at 115200:
    +++ next to data is data, a guarded +++ leaves passthrough."""
    with TcpServer() as srv:
        d = make_dut(pace=True, world=WORLD)
        join(d)
        start(d, srv.port)
        ok(d, "AT+CIPMODE=1")
        prompt(d, "AT+CIPSEND")
        c = srv.accept()
        d.write(b"x+++")
        assert c.recv_exact(4) == b"x+++"
        silence(GUARD)
        d.write(b"+++y")
        assert c.recv_exact(4) == b"+++y"
        guarded_plus(d)
        d.quiet(0.05)
        c.nothing()
        ok(d, "AT")
