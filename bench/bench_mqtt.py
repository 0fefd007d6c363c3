#!/usr/bin/python3
"""MQTT through the module, each figure a ratio measured in the same run against the same
broker (mosquitto on 127.0.0.1, MQTT over TCP): against mosquitto's own command-line clients
doing the same, and for publishing against the bound the AT protocol itself sets. Targets
(DESIGN.md): receive at least 0.9x mosquitto_sub; AT+MQTTPUB at least 0.9x that bound.

- publish, AT+MQTTPUB: AT+MQTTPUB=0,"bench/up","<data>",<qos>,0 / OK in a loop, the data
  printable (letters and digits: no '"', ',' or '\\' to escape), for the sizes in
  BENCH_MQTT_SIZES that fit (at most STR_MAX = 113 bytes; see the bound). The bound: one
  command per AT round trip, the rate of plain round trips of a line as long as the publish's
  on the same module, AT+MQTTSNI=0,"<padding>" / OK. AT+MQTTSNI because it answers OK while
  connected without touching the network (it only stores the name, used at the next TLS
  connect; the link here is plain TCP), takes one quoted string, so its line can be padded to
  any length up to its 128-byte limit (hence 113 = 128 - 15 bytes of data), and is parsed by
  the same parameter code as AT+MQTTPUB. `AT` itself takes no padding; a query or an unknown
  command would answer differently. At QoS 1 each AT+MQTTPUB also waits for the broker's
  PUBACK before its OK (as esp-at's does), which the bound does not. Reported beside it:
  `mosquitto_pub -f FILE --repeat N` with the same printable data (not bound by an AT port).
- publish, AT+MQTTPUBRAW: AT+MQTTPUBRAW=0,"bench/up",<size>,<qos>,0 / '>' / the bytes /
  +MQTTPUB:OK in a loop, against `mosquitto_pub -f FILE --repeat N` publishing as many
  messages of the same size at the same QoS (each publish waits for the last to complete, as
  the module's does). Its bound is two AT round trips per message: half the rate of
  AT+MQTTSNI round trips of a line as long as its command line (the data's own transfer time
  not counted, so at large sizes the bound is loose).
- receive: `mosquitto_pub -f FILE --repeat N` publishes N messages to a topic the module
  subscribes at the same QoS; the host parses +MQTTSUBRECV:0,"<topic>",<len>,<data> off the
  AT port until it has all N, against `mosquitto_sub -C N` subscribed to the same, twice: its
  output to /dev/null, and its output into a pty that this process reads until all N
  messages' bytes (payload and newline each) arrived, counting them, not parsing: the
  transport the module's AT port crosses, which caps throughput (bench_http.py does the same
  for curl). Timed from the start of the publisher (mosquitto_pub rather than paho-mqtt:
  Python's publishing rate, not the subscriber's, would be measured at small sizes).

QoS 0 and 1, message sizes BENCH_MQTT_SIZES (default "64,16384" bytes). A run stops after
BENCH_MQTT_N messages (default 2000) or BENCH_S seconds (default 5), whichever comes first;
mosquitto_pub then publishes as many as the module did; mosquitto_sub, which runs before the
module's receive run (one cut short can leave the broker busy for a while), gets N. A receive
run cut short (the time limit, or output that stops parsing as +MQTTSUBRECV: lost bytes,
reported) ends with AT+MQTTCLEAN and a new connection. Each figure is the best of
BENCH_ROUNDS (default 3) rounds, espat, its bound and mosquitto alternating so all see the
same machine load. The module runs with --no-pace, joined to tests/worlds/tcpip.ini's host
network; mosquitto runs with max_queued_messages 0 (no QoS 1 message dropped for a slow
subscriber). mosquitto_pub's times include starting the process and connecting (a few ms), and
so do the receive runs', timed from its start; mosquitto_sub's to /dev/null also its exit.
Prints numbers; asserts nothing.
"""
import os
import random
import re
import select
import shutil
import string
import subprocess
import sys
import tempfile
import termios
import time
import tty

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))

from bench_tcpip import ESPAT, WORLD, Reader, open_pty  # noqa: E402
from mqtt_broker import Broker  # noqa: E402

SIZES = [int(s) for s in os.environ.get("BENCH_MQTT_SIZES", "64,16384").split(",")]
N = int(os.environ.get("BENCH_MQTT_N", "2000"))
LIMIT_S = float(os.environ.get("BENCH_S", "5"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
DRAIN_S = 30.0  # at most, for output still coming after a run cut short
SUBRECV = re.compile(rb'\+MQTTSUBRECV:0,"[^"]*",(\d+),')
HEAD = b"+MQTTSUBRECV:0,"
OK = b"\r\nOK\r\n"
SNI = 'AT+MQTTSNI=0,"{}"'  # the bound's command, padded to a given length
SNI_MAX = 128  # ESPAT_MQTT_SNI_MAX
STR_MAX = SNI_MAX - (len('AT+MQTTPUB=0,"bench/up","",0,0') - len(SNI.format("")))  # 113
PRINTABLE = (string.ascii_letters + string.digits).encode()


def pub_line(data, qos):
    return b'AT+MQTTPUB=0,"bench/up","%s",%d,0\r\n' % (data, qos)


def pubraw_line(size, qos):
    return b'AT+MQTTPUBRAW=0,"bench/up",%d,%d,0\r\n' % (size, qos)


def sni_line(length):
    """An AT+MQTTSNI command line of length bytes, CR LF included."""
    pad = length - len(SNI.format("")) - 2
    assert 0 <= pad <= SNI_MAX, length
    return (SNI.format("x" * pad) + "\r\n").encode()


def write_all(fd, data):
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


class Module:
    """espat on a pty, joined, its MQTT client connected to the broker."""

    def __init__(self, port):
        self.dir = tempfile.mkdtemp(prefix="espat-bench-mqtt-")
        link = os.path.join(self.dir, "tty")
        self.proc = subprocess.Popen([ESPAT, "--no-pace", "--pty", link, "--data-dir",
                                      os.path.join(self.dir, "data"), "--world", WORLD],
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        self.proc.stdout.readline()
        self.fd = open_pty(link)
        os.set_blocking(self.fd, True)
        self.r = Reader(self.fd)
        self.r.until(b"ready\r\n")
        self.r.cmd("ATE0")
        self.r.cmd("AT+CWMODE=1")
        self.r.cmd('AT+CWJAP="espat","espatpass"')
        self.port = port
        self.connect()

    def connect(self):
        self.r.cmd('AT+MQTTUSERCFG=0,1,"espat-bench","","",0,0,""')
        self.r.cmd(f'AT+MQTTCONN=0,"127.0.0.1",{self.port},0', timeout=15)

    def publish(self, payload, qos, n):
        """AT+MQTTPUBRAW n times (or until the time limit): (messages, seconds)."""
        line = pubraw_line(len(payload), qos)
        sent = 0
        t0 = time.perf_counter()
        while sent < n and time.perf_counter() - t0 < LIMIT_S:
            write_all(self.fd, line)
            self.r.until(b"\r\nOK\r\n>")
            write_all(self.fd, payload)
            self.r.until(b"\r\n+MQTTPUB:OK\r\n")
            sent += 1
        return sent, time.perf_counter() - t0

    def round_trips(self, line, n):
        """line, answered OK, n times (or until the time limit): (round trips, seconds).
        AT+MQTTPUB (one per message) and the bound's AT+MQTTSNI alike."""
        sent = 0
        t0 = time.perf_counter()
        while sent < n and time.perf_counter() - t0 < LIMIT_S:
            write_all(self.fd, line)
            self.r.until(OK)
            sent += 1
        return sent, time.perf_counter() - t0

    def receive(self, port, topic, path, qos, n):
        """n messages (the file at path) published to topic, which the module
        has subscribed: (messages parsed off the AT port, seconds)."""
        self.r.cmd(f'AT+MQTTSUB=0,"{topic}",{qos}')
        self.r.buf = b""
        size = os.path.getsize(path)
        with Source(port, topic, path, qos, n):
            got, buf, pos = 0, bytearray(), 0  # buf[pos:] is not parsed yet
            t0 = time.perf_counter()
            while got < n and time.perf_counter() - t0 < LIMIT_S:
                if not select.select([self.fd], [], [], 0.2)[0]:
                    continue
                buf += os.read(self.fd, 1 << 20)
                while m := SUBRECV.match(buf, pos):  # whole reports at pos
                    end = m.end() + int(m.group(1)) + 2
                    if len(buf) < end:
                        break
                    got += 1
                    pos = end
                del buf[:pos]
                pos = 0
                if buf and not HEAD.startswith(bytes(buf[:len(HEAD)])):
                    print(f"bench_mqtt: receive {size} B QoS {qos}: after {got} "
                          f"messages the AT port's output is not +MQTTSUBRECV: "
                          f"{bytes(buf[:24])!r} (lost bytes?); the run stops there")
                    break
            dt = time.perf_counter() - t0
        if got < n:  # cut short: a clean session drops what the broker still holds for us
            self.drain()
            self.r.cmd("AT+MQTTCLEAN=0", timeout=DRAIN_S)
            self.drain()
            self.connect()
        else:
            self.r.cmd(f'AT+MQTTUNSUB=0,"{topic}"', timeout=DRAIN_S)
        self.drain()
        return got, dt

    def drain(self):
        """Reads until the module has been quiet for 0.5 s (bounded)."""
        end = time.monotonic() + DRAIN_S
        while time.monotonic() < end and select.select([self.fd], [], [], 0.5)[0]:
            os.read(self.fd, 1 << 20)
        self.r.buf = b""

    def close(self):
        self.proc.terminate()
        self.proc.wait(5)
        os.close(self.fd)
        shutil.rmtree(self.dir, ignore_errors=True)


def pub_args(port, topic, path, qos, n):
    return ["mosquitto_pub", "-p", str(port), "-t", topic, "-q", str(qos), "-f", path,
            "--repeat", str(n)]


class Source:
    """mosquitto_pub publishing n messages in the background while the
    with-block runs; ended at its end if it has not finished."""

    def __init__(self, port, topic, path, qos, n):
        self.proc = subprocess.Popen(pub_args(port, topic, path, qos, n),
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()


def mosquitto_publish(port, path, qos, n):
    t0 = time.perf_counter()
    subprocess.run(pub_args(port, "bench/up", path, qos, n), check=True,
                   timeout=LIMIT_S + DRAIN_S)
    return n, time.perf_counter() - t0


def mosquitto_receive(broker, topic, path, qos, n):
    port = broker.ports["tcp"]
    sub = subprocess.Popen(["mosquitto_sub", "-p", str(port), "-i", "bench-sink", "-t", topic,
                            "-q", str(qos), "-C", str(n)], stdout=subprocess.DEVNULL)
    try:
        broker.wait_log(f"bench-sink {qos} {topic}")
        t0 = time.perf_counter()
        with Source(port, topic, path, qos, n):
            sub.wait(LIMIT_S + DRAIN_S)
            dt = time.perf_counter() - t0
        return n, dt
    finally:
        if sub.poll() is None:
            sub.kill()
            sub.wait()


def mosquitto_receive_pty(broker, topic, path, qos, n):
    """mosquitto_sub -C n writing into a pty this process reads, until n
    messages' bytes (each payload and a newline) arrived: (messages, seconds)."""
    port = broker.ports["tcp"]
    size = os.path.getsize(path)
    want = n * (size + 1)
    master, slave = os.openpty()
    tty.setraw(slave, termios.TCSANOW)
    sub = subprocess.Popen(["mosquitto_sub", "-p", str(port), "-i", "bench-sink-pty", "-t",
                            topic, "-q", str(qos), "-C", str(n)], stdout=slave)
    os.close(slave)
    got = 0
    try:
        broker.wait_log(f"bench-sink-pty {qos} {topic}")
        t0 = time.perf_counter()
        with Source(port, topic, path, qos, n):
            end = t0 + LIMIT_S + DRAIN_S
            while got < want and time.perf_counter() < end:
                if not select.select([master], [], [], 0.2)[0]:
                    continue
                try:
                    chunk = os.read(master, 1 << 20)
                except OSError:  # EIO: mosquitto_sub is gone and its output drained
                    break
                if not chunk:
                    break
                got += len(chunk)
            dt = time.perf_counter() - t0
        if got < want:
            print(f"bench_mqtt: mosquitto_sub into a pty, {size} B QoS {qos}: {got} of "
                  f"{want} bytes")
            sub.kill()
        return got // (size + 1), dt
    finally:
        try:
            sub.wait(5)  # it exits by itself after n messages
        except subprocess.TimeoutExpired:
            sub.kill()
            sub.wait()
        os.close(master)


def best(results):
    """(messages, seconds) pairs -> the best rate in messages/s."""
    return max(n / dt for n, dt in results)


def main():
    for tool in ("mosquitto", "mosquitto_pub", "mosquitto_sub"):
        if not shutil.which(tool):
            print(f"bench_mqtt: {tool} not found (scripts/deps.sh installs mosquitto and "
                  "mosquitto-clients)")
            return 1
    broker = Broker(["tcp"], verbose=False, extra=["max_queued_messages 0"])
    broker.start()
    port = broker.ports["tcp"]
    tmp = tempfile.mkdtemp(prefix="bench-mqtt-")
    runs = {}
    m = None
    try:
        m = Module(port)
        for rnd in range(ROUNDS):
            for size in SIZES:
                payload = os.urandom(size)
                path = os.path.join(tmp, f"{size}.bin")
                with open(path, "wb") as f:
                    f.write(payload)
                text = bytes(random.choice(PRINTABLE) for _ in range(size))
                text_path = os.path.join(tmp, f"{size}.txt")
                with open(text_path, "wb") as f:
                    f.write(text)
                for qos in (0, 1):
                    k = (size, qos)
                    n, dt = m.publish(payload, qos, N)
                    runs.setdefault(("pub", k), []).append((n, dt))
                    # the bound: two round trips per message, half the rate of single ones
                    n2, dt = m.round_trips(sni_line(len(pubraw_line(size, qos))), 2 * N)
                    runs.setdefault(("pub_bound", k), []).append((n2 / 2, dt))
                    runs.setdefault(("pub_ref", k), []).append(
                        mosquitto_publish(port, path, qos, n))
                    if size <= STR_MAX:
                        line = pub_line(text, qos)
                        n, dt = m.round_trips(line, N)
                        runs.setdefault(("pubs", k), []).append((n, dt))
                        runs.setdefault(("pubs_bound", k), []).append(
                            m.round_trips(sni_line(len(line)), N))
                        runs.setdefault(("pubs_ref", k), []).append(
                            mosquitto_publish(port, text_path, qos, n))
                    topic = f"bench/down/{rnd}/{size}/{qos}"
                    # the references first: a module's run cut short may leave the broker busy
                    ref = mosquitto_receive(broker, topic + "/ref", path, qos, N)
                    ref_pty = mosquitto_receive_pty(broker, topic + "/pty", path, qos, N)
                    n, dt = m.receive(port, topic, path, qos, N)
                    runs.setdefault(("recv", k), []).append((n, dt))
                    runs.setdefault(("recv_ref", k), []).append(ref)
                    runs.setdefault(("recv_pty", k), []).append(ref_pty)
    finally:
        if m is not None:
            m.close()
        broker.close()
        shutil.rmtree(tmp, ignore_errors=True)

    def row(label, mine, ref, size, qos, ref_name):
        k = (size, qos)
        e, r = best(runs[(mine, k)]), best(runs[(ref, k)])
        print(f"{label} QoS {qos} {size:>6} B: espat {e:8.0f} msg/s {e * size / 1e6:7.2f} MB/s   "
              f"{ref_name} {r:8.0f} msg/s {r * size / 1e6:7.2f} MB/s   ratio {e / r:5.2f}x")

    def beside(label, mine, ref, size, qos, note=""):
        k = (size, qos)
        e, r = best(runs[(mine, k)]), best(runs[(ref, k)])
        print(f"  {label:<44} {r:8.0f} msg/s {r * size / 1e6:7.2f} MB/s   ratio {e / r:5.2f}x"
              + note)

    for size in SIZES:
        for qos in (0, 1):
            k = (size, qos)
            row("publish", "pub", "pub_ref", size, qos, "mosquitto_pub")
            beside(f"AT+MQTTPUBRAW's bound: 2 round trips ({len(pubraw_line(size, qos))} B)",
                   "pub", "pub_bound", size, qos, " (the data's transfer not counted)")
            if ("pubs", k) in runs:
                e, b = best(runs[("pubs", k)]), best(runs[("pubs_bound", k)])
                r = best(runs[("pubs_ref", k)])
                print(f"publish QoS {qos} {size:>6} B AT+MQTTPUB: espat {e:8.0f} msg/s   "
                      f"bound (AT+MQTTSNI, {len(pub_line(b'', qos)) + size} B line) {b:8.0f}/s   "
                      f"ratio {e / b:5.2f}x (target >= 0.9x)   "
                      f"mosquitto_pub {r:8.0f} msg/s ({e / r:5.2f}x)")
            else:
                print(f"publish QoS {qos} {size:>6} B AT+MQTTPUB: not run (over {STR_MAX} B "
                      "of data, the bound's line would not fit)")
            row("receive", "recv", "recv_ref", size, qos, "mosquitto_sub")
            beside("same transport: mosquitto_sub into a pty", "recv", "recv_pty", size, qos,
                   " (target >= 0.9x)")
    moved = {f"{what}/{k[0]}B/q{k[1]}": sum(n for n, _ in v) / len(v)
             for (what, k), v in runs.items()
             if not what.endswith(("_ref", "_bound", "_pty"))}
    print(f"(best of {ROUNDS}; messages per espat run: "
          + ", ".join(f"{k} {v:.0f}" for k, v in moved.items())
          + f"; limit {N} messages or {LIMIT_S:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
