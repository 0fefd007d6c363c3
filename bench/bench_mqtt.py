#!/usr/bin/python3
"""MQTT through the module, each figure a ratio against mosquitto's own command-line
clients doing the same against the same broker (mosquitto on 127.0.0.1, MQTT over TCP)
in the same run:

- publish: AT+MQTTPUBRAW=0,"bench/up",<size>,<qos>,0 / '>' / the bytes / +MQTTPUB:OK in a
  loop, against `mosquitto_pub -f FILE --repeat N` publishing as many messages of the same
  size at the same QoS (each publish waits for the last to complete, as the module's does).
- receive: `mosquitto_pub -f FILE --repeat N` publishes N messages to a topic the module
  subscribes at the same QoS; the host parses +MQTTSUBRECV:0,"<topic>",<len>,<data> off the
  AT port until it has all N, against `mosquitto_sub -C N` subscribed to the same. Timed from
  the start of the publisher (mosquitto_pub rather than paho-mqtt: Python's publishing rate,
  not the subscriber's, would be measured at small sizes).

QoS 0 and 1, message sizes BENCH_MQTT_SIZES (default "64,16384" bytes). A run stops after
BENCH_MQTT_N messages (default 2000) or BENCH_S seconds (default 5), whichever comes first;
mosquitto_pub then publishes as many as the module did; mosquitto_sub, which runs before the
module's receive run (one cut short can leave the broker busy for a while), gets N. A receive
run cut short (the time limit, or output that stops parsing as +MQTTSUBRECV: lost bytes,
reported) ends with AT+MQTTCLEAN and a new connection. Each figure is the best of
BENCH_ROUNDS (default 3) rounds, espat and mosquitto alternating so both see the same machine
load. The module runs with --no-pace, joined to tests/worlds/tcpip.ini's host network;
mosquitto runs with max_queued_messages 0 (no QoS 1 message dropped for a slow subscriber).
mosquitto_pub's and mosquitto_sub's times include starting the process and connecting (a few
ms). Prints numbers; asserts nothing.
"""
import os
import re
import select
import shutil
import subprocess
import sys
import tempfile
import time

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
        line = b'AT+MQTTPUBRAW=0,"bench/up",%d,%d,0\r\n' % (len(payload), qos)
        sent = 0
        t0 = time.perf_counter()
        while sent < n and time.perf_counter() - t0 < LIMIT_S:
            write_all(self.fd, line)
            self.r.until(b"\r\nOK\r\n>")
            write_all(self.fd, payload)
            self.r.until(b"\r\n+MQTTPUB:OK\r\n")
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
                for qos in (0, 1):
                    k = (size, qos)
                    n, dt = m.publish(payload, qos, N)
                    runs.setdefault(("pub", k), []).append((n, dt))
                    runs.setdefault(("pub_ref", k), []).append(
                        mosquitto_publish(port, path, qos, n))
                    topic = f"bench/down/{rnd}/{size}/{qos}"
                    # the reference first: a module's run cut short may leave the broker busy
                    ref = mosquitto_receive(broker, topic + "/ref", path, qos, N)
                    n, dt = m.receive(port, topic, path, qos, N)
                    runs.setdefault(("recv", k), []).append((n, dt))
                    runs.setdefault(("recv_ref", k), []).append(ref)
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

    for size in SIZES:
        for qos in (0, 1):
            row("publish", "pub", "pub_ref", size, qos, "mosquitto_pub")
            row("receive", "recv", "recv_ref", size, qos, "mosquitto_sub")
    moved = {f"{what}/{k[0]}B/q{k[1]}": sum(n for n, _ in v) / len(v)
             for (what, k), v in runs.items() if not what.endswith("_ref")}
    print(f"(best of {ROUNDS}; messages per espat run: "
          + ", ".join(f"{k} {v:.0f}" for k, v in moved.items())
          + f"; limit {N} messages or {LIMIT_S:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
