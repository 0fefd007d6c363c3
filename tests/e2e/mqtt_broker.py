"""Real MQTT brokers on the host's loopback for the MQTT tests (test_mqtt.py)
and the MQTT benchmark (bench/bench_mqtt.py): Debian's mosquitto 2.0, and
paho-mqtt 1.6 as the client on the other side of every message.

    pki = make_pki()                      # throwaway CA, broker and client certificates
    b = Broker(["tcp", "tls", "wss"], pki=pki)
    b.start()                             # listening on 127.0.0.1:b.ports["tcp"], ...
    with Paho(b.ports["tcp"]) as p:
        p.subscribe("t"); p.publish("t", b"x", qos=1); p.recv()
    b.wait_log("Sending PUBACK to cid")   # the broker's own log (log_type all)
    b.kill(); b.start()                   # a crash, and back on the same ports
    b.close(); pki.close()

Listeners (LISTENERS names them; each gets a free port on 127.0.0.1):

| name       | what                                                            |
|------------|-----------------------------------------------------------------|
| tcp        | MQTT over TCP, anonymous                                        |
| auth       | MQTT over TCP, users from the password file only (USERS)        |
| tls        | MQTT over TLS, no client certificate asked                      |
| tls_client | MQTT over TLS, a client certificate required (CN -> username)   |
| tls_rogue  | MQTT over TLS with a certificate from a CA nobody trusts        |
| ws         | MQTT over WebSocket                                             |
| wss        | MQTT over secure WebSocket, no client certificate asked         |
| wss_client | MQTT over secure WebSocket, a client certificate required       |

The PKI (make_pki): a throwaway root signs the broker's certificate (names
localhost, 127.0.0.1 and SNI_NAME) and a client certificate (CLIENT_CN).
The broker accepts client certificates from that root and from the
project's factory root (pki/factory), so a module with its factory
mqtt_cert is accepted too. A second root, trusted by no one, signs the
certificate of tls_rogue.

Privileges: mosquitto started as root drops to the user "mosquitto" and
reads its files as that user, so every file it reads lives in a directory
of our own under /tmp with mode 0755, the files 0644 (throwaway keys). Its
log goes to a file we opened (its stderr), so it needs no write access.

It stops by itself: it runs under coreutils' `timeout` (LIFETIME seconds),
and that wrapper gets SIGTERM when the test process dies (PR_SET_PDEATHSIG;
mosquitto's own would be cleared when it drops privileges); `timeout`
passes the signal on. Every wait here has a deadline.
"""
import ctypes
import os
import queue
import shutil
import signal
import ssl
import subprocess
import tempfile
import threading

import paho.mqtt.client as mqtt

import pki as pkilib
from conftest import wait_for
from peers import free_ports, listening

DEADLINE = 5.0
LIFETIME = 1800  # seconds a broker may live at most (a whole test module runs far less)
LISTENERS = ("tcp", "auth", "tls", "tls_client", "tls_rogue", "ws", "wss", "wss_client")
TLS = {"tls", "tls_client", "tls_rogue", "wss", "wss_client"}
WEBSOCKETS = {"ws", "wss", "wss_client"}
CLIENT_CERT = {"tls_client", "wss_client"}
USERS = {"espressif": "123456789"}  # the guide's chapter-4 credentials (4.4.1)
CLIENT_CN = "espat-mqtt-test-client"
# The host of the guide's AT+MQTTSNI example (3.5.8): in the broker's
# certificate too, so that a module which checks the name against its SNI
# setting, rather than against the host it dials, is also satisfied.
SNI_NAME = "my_specific_prefix.iot.my_aws_region.amazonaws.com"


def open_dir(prefix):
    """A new directory under /tmp that the mosquitto user can read (0755)."""
    d = tempfile.mkdtemp(prefix=prefix)
    os.chmod(d, 0o755)
    return d


def _readable(d):
    for root, dirs, files in os.walk(d):
        for n in dirs:
            os.chmod(os.path.join(root, n), 0o755)
        for n in files:
            os.chmod(os.path.join(root, n), 0o644)


class MqttPki:
    """Paths (pki.Pair) of the throwaway PKI: ca, server (the broker's),
    client (CN=CLIENT_CN), rogue_ca, rogue_server; trust: the CA file the
    broker checks client certificates with (ca + the factory root)."""

    def __init__(self):
        self.dir = open_dir("espat-mqtt-pki-")
        self.ca = pkilib.make_ca(self.dir, "ca", cn="espat MQTT Test CA")
        self.server = pkilib.make_leaf(self.dir, self.ca, "server", "espat-mqtt-broker",
                                       sans=["localhost", "127.0.0.1", "DNS:" + SNI_NAME])
        self.client = pkilib.make_leaf(self.dir, self.ca, "client", CLIENT_CN, server=False)
        self.rogue_ca = pkilib.make_ca(self.dir, "rogue", cn="espat MQTT Rogue CA")
        self.rogue_server = pkilib.make_leaf(self.dir, self.rogue_ca, "rogue_server",
                                             "espat-mqtt-rogue", sans=["localhost", "127.0.0.1"])
        self.trust = os.path.join(self.dir, "trust.crt")
        with open(self.trust, "wb") as out:
            for path in (self.ca.cert, pkilib.factory_ca().cert):
                with open(path, "rb") as f:
                    out.write(f.read())
        _readable(self.dir)

    def read(self, pair_name, part):
        """The PEM bytes of one file: read("client", "key")."""
        with open(getattr(getattr(self, pair_name), part), "rb") as f:
            return f.read()

    def close(self):
        shutil.rmtree(self.dir, ignore_errors=True)


def make_pki():
    return MqttPki()


def _pdeathsig():
    """In the child before exec: SIGTERM when the parent dies."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


class Broker:
    """One mosquitto process with the listeners named (a subset of
    LISTENERS), each on its own port (ports[name]), which stay the same
    across kill() and start(). verbose: log_type all (every packet, for
    tests that read the log); off for benchmarks, whose log says only
    errors and subscriptions. extra: more lines for the configuration's
    global part (e.g. "max_queued_messages 0")."""

    def __init__(self, listeners=LISTENERS, pki=None, users=None, verbose=True, extra=(),
                 lifetime=LIFETIME):
        unknown = set(listeners) - set(LISTENERS)
        assert not unknown, f"unknown listeners {unknown}"
        assert pki is not None or not (set(listeners) & TLS), "TLS listeners need a pki"
        self.listeners = list(listeners)
        self.pki = pki
        self.users = dict(USERS if users is None else users)
        self.verbose = verbose
        self.extra = list(extra)
        self.lifetime = lifetime
        self.dir = open_dir("espat-mqtt-broker-")
        self.conf = os.path.join(self.dir, "mosquitto.conf")
        self.passwd = os.path.join(self.dir, "passwd")
        self.log_path = os.path.join(self.dir, "broker.log")
        self.ports = dict(zip(self.listeners, free_ports(len(self.listeners))))
        self.proc = None
        self._log = None
        self._write_conf()

    # ---- configuration -------------------------------------------------------------

    def _write_conf(self):
        lines = ["per_listener_settings true", "persistence false", "log_dest stderr",
                 "log_timestamp true", "connection_messages true"] + self.extra
        lines += ["log_type all"] if self.verbose else [
            "log_type error", "log_type warning", "log_type subscribe"]  # "<id> <qos> <topic>"
        for name in self.listeners:
            lines += ["", f"listener {self.ports[name]} 127.0.0.1"]
            if name in WEBSOCKETS:
                lines.append("protocol websockets")
            if name == "auth":
                lines += ["allow_anonymous false", f"password_file {self.passwd}"]
            else:
                lines.append("allow_anonymous true")
            if name in TLS:
                server = self.pki.rogue_server if name == "tls_rogue" else self.pki.server
                lines += [f"cafile {self.pki.trust}", f"certfile {server.cert}",
                          f"keyfile {server.key}"]
            if name in CLIENT_CERT:
                lines += ["require_certificate true", "use_identity_as_username true"]
        with open(self.conf, "w") as f:
            f.write("\n".join(lines) + "\n")
        if "auth" in self.listeners:
            open(self.passwd, "w").close()
            for user, password in self.users.items():
                subprocess.run(["mosquitto_passwd", "-b", self.passwd, user, password],
                               check=True, capture_output=True, timeout=DEADLINE)
        _readable(self.dir)

    # ---- process -------------------------------------------------------------------

    def start(self, timeout=DEADLINE):
        """Starts mosquitto (a fresh log each time) and waits until every
        listener listens."""
        assert self.proc is None, "already running"
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(
            ["timeout", "-k", "5", str(self.lifetime), "mosquitto", "-c", self.conf],
            stdin=subprocess.DEVNULL, stdout=self._log, stderr=self._log,
            preexec_fn=_pdeathsig)
        def up():
            if self.proc.poll() is not None:
                raise AssertionError(f"mosquitto ended: {self.log()}")
            return all(listening(p) for p in self.ports.values())
        try:
            wait_for(up, lambda: f"mosquitto listening on {self.ports}: {self.log()}", timeout)
        except AssertionError:
            self.close()
            raise
        return self

    def _mosquitto_pid(self):
        """The mosquitto process under the timeout wrapper."""
        path = f"/proc/{self.proc.pid}/task/{self.proc.pid}/children"

        def child():
            with open(path) as f:
                kids = f.read().split()
            return int(kids[0]) if kids else None
        return wait_for(child, "mosquitto's process under timeout")

    def kill(self):
        """A crash: SIGKILL to mosquitto; its clients' connections drop
        without a word."""
        os.kill(self._mosquitto_pid(), signal.SIGKILL)
        self._reap()

    def stop(self):
        """SIGTERM (through the wrapper), SIGKILL if it lingers."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
        self._reap()

    def _reap(self):
        if self.proc is None:
            return
        try:
            self.proc.wait(timeout=DEADLINE)
        except subprocess.TimeoutExpired:
            self.proc.kill()  # the wrapper; it can no longer pass a signal on
            self.proc.wait()
        self.proc = None
        if self._log is not None:
            self._log.close()
            self._log = None
        for p in self.ports.values():  # a port still held would make start() lie
            wait_for(lambda: not listening(p), f"port {p} to close after mosquitto ended")

    def close(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    # ---- its log -------------------------------------------------------------------

    def log(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode(errors="replace")
        except OSError:
            return ""

    def wait_log(self, text, count=1, timeout=DEADLINE):
        """Waits until text occurs count times in the log (of this run);
        returns the log. Polled: the log is a file."""
        return wait_for(lambda: (log := self.log()).count(text) >= count and log,
                        lambda: f"broker log: {text!r} x{count}:\n{self.log()[-3000:]}",
                        timeout)


class Paho:
    """A paho-mqtt client (MQTT 3.1.1) with deadlines: connect on
    construction, messages that arrive queue up for recv().

    transport "tcp" or "websockets" (path ws_path); tls: (ca, cert, key)
    paths, cert/key None for no client certificate. will: (topic, payload,
    qos, retain)."""

    def __init__(self, port, client_id="", transport="tcp", ws_path="/mqtt", tls=None,
                 username=None, password=None, will=None, keepalive=30, clean=True,
                 host="127.0.0.1"):
        self.messages = queue.Queue()
        self.c = mqtt.Client(client_id=client_id, clean_session=clean, transport=transport)
        if transport == "websockets":
            self.c.ws_set_options(path=ws_path)
        if tls is not None:
            ca, cert, key = tls
            ctx = ssl.create_default_context(cafile=ca)
            if cert is not None:
                ctx.load_cert_chain(cert, key)
            self.c.tls_set_context(ctx)
        if username is not None:
            self.c.username_pw_set(username, password)
        if will is not None:
            self.c.will_set(*will)
        self._connected = threading.Event()
        self._rc = None
        self._acks = {}
        self._lock = threading.Lock()
        self.c.on_connect = self._on_connect
        self.c.on_message = lambda c, u, m: self.messages.put(m)
        self.c.on_subscribe = self._on_ack
        self.c.on_unsubscribe = lambda c, u, mid: self._on_ack(c, u, mid, None)
        self.c.connect(host, port, keepalive)
        self.c.loop_start()
        if not self._connected.wait(DEADLINE):
            self.close()
            raise AssertionError(f"paho: no CONNACK from 127.0.0.1:{port} in {DEADLINE}s")
        if self._rc != 0:
            self.close()
            raise AssertionError(f"paho: broker refused: {mqtt.connack_string(self._rc)}")

    def _on_connect(self, c, u, flags, rc):
        self._rc = rc
        self._connected.set()

    def _event(self, mid):
        with self._lock:
            return self._acks.setdefault(mid, threading.Event())

    def _on_ack(self, c, u, mid, granted):
        self._event(mid).set()

    def _wait_ack(self, mid, what):
        if not self._event(mid).wait(DEADLINE):
            raise AssertionError(f"paho: no {what} in {DEADLINE}s")

    def subscribe(self, topic, qos=2):
        """Subscribes and waits for the SUBACK."""
        rc, mid = self.c.subscribe(topic, qos)
        assert rc == mqtt.MQTT_ERR_SUCCESS, rc
        self._wait_ack(mid, f"SUBACK for {topic!r}")

    def unsubscribe(self, topic):
        rc, mid = self.c.unsubscribe(topic)
        assert rc == mqtt.MQTT_ERR_SUCCESS, rc
        self._wait_ack(mid, f"UNSUBACK for {topic!r}")

    def publish(self, topic, payload, qos=0, retain=False, timeout=DEADLINE):
        """Publishes and waits until it is out (QoS 0) or acknowledged."""
        info = self.c.publish(topic, payload, qos, retain)
        info.wait_for_publish(timeout)
        assert info.is_published(), f"paho: publish to {topic!r} not done in {timeout}s"

    def recv(self, timeout=DEADLINE):
        """The next message (a paho MQTTMessage: topic, payload, qos, retain)."""
        try:
            return self.messages.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"paho: no message within {timeout}s") from None

    def nothing(self, seconds=0.2):
        """No message arrives for a while."""
        try:
            m = self.messages.get(timeout=seconds)
        except queue.Empty:
            return
        raise AssertionError(f"paho: unexpected message on {m.topic!r}: {m.payload[:80]!r}")

    def close(self):
        self.c.disconnect()
        self.c.loop_stop()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
