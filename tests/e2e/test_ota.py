"""OTA over the real pty against a local update server: AT+CIUPDATE (blocking
and not, HTTP and HTTPS), AT+CIPFWVER, the restart into the new firmware,
AT+SYSROLLBACK back and forth, failures, and the guide's AT+CIUPDATE
examples (conformance corpus, 3.3.24).

The server models Espressif's (docs/internals/ota.md): a Python http.server
on 127.0.0.1 (plain, and TLS with a throw-away self-signed certificate),
named by the test's world file (ota_server / ota_ssl_server). It answers
only requests that carry the module's factory token."""
import http.server
import json
import os
import ssl
import subprocess
import threading
import urllib.parse

import pytest

from conftest import DEADLINE, READY, SHARED

TOKEN = "dbe740016d7d88ceff35f4318d57b8a81dc75db0"      # plain HTTP
SSL_TOKEN = "fae8808e653d27daab2e64a8b23f9ed8ecacd66c"  # TLS
SLOT = 0x1C0000  # an app slot: larger images are refused

OK = b"\r\nOK\r\n"
ERROR = b"\r\nERROR\r\n"
JOINED = b"WIFI CONNECTED\r\nWIFI GOT IP\r\n"


def states(*n):
    return b"".join(b"+CIPUPDATE:%d\r\n" % i for i in n)


def gmr(version):
    return (b"AT version:%s(3b13d04 - ESP32C3 - May  8 2024 08:21:54)\r\n"
            b"SDK version:v5.0.6-dirty\r\n"
            b"compile time(be332568):May  8 2024 08:51:33\r\n"
            b"Bin version:v%s(MINI-1)\r\n\r\nOK\r\n" % (version, version))


def image(tag, size=200_000):
    """An app image: the ESP image magic, then filler that names it."""
    body = (tag.encode() * (size // len(tag) + 1))[:size - 1]
    return b"\xe9" + body


class UpdateServer:
    """Espressif's OTA API, in memory: latest names the version the version
    query answers, images maps (version, firmware name) to bytes."""

    def __init__(self, tls_dir=None):
        self.latest = "v3.4.0.0"
        self.images = {}
        self.seen = []  # (path, Authorization header)
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def reply(self, status, body, ctype="application/json"):
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self):
                auth = self.headers.get("Authorization", "")
                outer.seen.append((self.path, auth))
                if auth not in ("token " + TOKEN, "token " + SSL_TOKEN):
                    return self.reply(403, b'{"status": 403, "message": "bad token"}')
                url = urllib.parse.urlsplit(self.path)
                q = urllib.parse.parse_qs(url.query)
                if url.path == "/v1/device/rom" and not q:
                    roms = [{"id": i, "version": v, "filename": n + ".bin"}
                            for i, (v, n) in enumerate(sorted(outer.images))]
                    return self.reply(200, json.dumps({"status": 200, "roms": roms}).encode())
                if url.path != "/v1/device/rom/":
                    return self.reply(404, b'{"status": 404}')
                if q.get("is_format_simple") == ["true"]:
                    return self.reply(200, json.dumps(
                        {"rom_version": outer.latest, "status": 200}).encode())
                if q.get("action") == ["download_rom"]:
                    name = q.get("filename", [""])[0]
                    key = (q.get("version", [""])[0], name[:-4] if name.endswith(".bin") else name)
                    if key in outer.images:
                        return self.reply(200, outer.images[key], "application/octet-stream")
                return self.reply(404, b'{"status": 404}')

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        self.tls = None
        if tls_dir is not None:
            key, crt = os.path.join(tls_dir, "key.pem"), os.path.join(tls_dir, "crt.pem")
            subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                            "-keyout", key, "-out", crt, "-days", "1", "-subj", "/CN=ota.test"],
                           check=True, capture_output=True)
            self.tls = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(crt, key)
            self.tls.socket = ctx.wrap_socket(self.tls.socket, server_side=True)
            self.tls_port = self.tls.server_address[1]
        for srv in (self.httpd, self.tls):
            if srv is not None:
                threading.Thread(target=srv.serve_forever, daemon=True).start()

    def close(self):
        for srv in (self.httpd, self.tls):
            if srv is not None:
                srv.shutdown()
                srv.server_close()


def world(tmp_path, plain, tls):
    text = f"""\
[world]
scan_channel_ms = 10
ota_server = "{plain}"
ota_ssl_server = "{tls}"

[ap lab]
ssid = "lab"
security = wpa2
password = "labpass123"
network = host
assoc_ms = 20
dhcp_ms = 20

[ap example]
ssid = "1234567890"
security = wpa2
password = "1234567890"
network = host
assoc_ms = 20
dhcp_ms = 20
"""
    path = tmp_path / "ota.ini"
    path.write_text(text)
    return str(path)


@pytest.fixture
def server(tmp_path):
    s = UpdateServer(tls_dir=str(tmp_path))
    s.images[("v3.4.0.0", "ota")] = image("v3.4.0.0")
    yield s
    s.close()


@pytest.fixture
def dut(make_dut, tmp_path, server):
    d = make_dut(world=world(tmp_path, f"http://127.0.0.1:{server.port}",
                             f"https://127.0.0.1:{server.tls_port}"))
    assert d.cmd("ATE0") == b"ATE0\r\n\r\nOK\r\n"
    return d


def join(d, ssid="lab", pwd="labpass123"):
    assert d.cmd(f'AT+CWJAP="{ssid}","{pwd}"') == JOINED + OK


def rebooted(d):
    """After a restart: ready, echo off again, the saved AP joined again."""
    d.expect(READY)
    d.expect(JOINED, timeout=DEADLINE)
    assert d.cmd("ATE0") == b"ATE0\r\n\r\nOK\r\n"


def test_blocking_update_restart_rollback(dut, server):
    join(dut)
    assert dut.cmd("AT+CIUPDATE?") == b"+CIUPDATE:0\r\n" + OK
    assert dut.cmd("AT+GMR") == gmr(b"3.3.0.0")
    assert dut.cmd("AT+CIUPDATE", timeout=30) == states(1, 2, 3, 4) + OK
    rebooted(dut)
    # the image went into the data dir, as the slot that is not booting
    with open(os.path.join(dut.data_dir, "ota_1.bin"), "rb") as f:
        assert f.read() == server.images[("v3.4.0.0", "ota")]
    assert [a for _, a in server.seen] == ["token " + TOKEN] * 2
    assert server.seen[0][0] == "/v1/device/rom/?is_format_simple=true"
    assert server.seen[1][0] == "/v1/device/rom/?action=download_rom&version=v3.4.0.0&filename=ota.bin"
    assert dut.cmd("AT+GMR") == gmr(b"3.4.0.0")
    # back, and forward again
    assert dut.cmd("AT+SYSROLLBACK") == OK
    rebooted(dut)
    assert dut.cmd("AT+GMR") == gmr(b"3.3.0.0")
    assert dut.cmd("AT+SYSROLLBACK") == OK
    rebooted(dut)
    assert dut.cmd("AT+GMR") == gmr(b"3.4.0.0")
    # a power cut keeps the boot slot
    dut.restart()
    dut.expect(JOINED)
    assert dut.cmd("ATE0") == b"ATE0\r\n\r\nOK\r\n"
    assert dut.cmd("AT+GMR") == gmr(b"3.4.0.0")


def test_nonblocking_tls(dut, server):
    join(dut)
    server.images[("v3.5.0.0", "ota")] = image("v3.5.0.0", 1_000_000)
    assert dut.cmd('AT+CIUPDATE=1,"v3.5.0.0","ota",1') == OK
    dut.expect(states(1, 4), timeout=30)
    assert server.seen[-1][1] == "token " + SSL_TOKEN
    assert dut.cmd("AT+GMR") == gmr(b"3.3.0.0")  # until the host restarts it
    assert dut.cmd("AT+CIUPDATE?") == b"+CIUPDATE:4\r\n" + OK
    assert dut.cmd("AT+RST") == OK
    rebooted(dut)
    assert dut.cmd("AT+GMR") == gmr(b"3.5.0.0")
    assert os.path.getsize(os.path.join(dut.data_dir, "ota_1.bin")) == 1_000_000


def test_cipfwver(dut, server):
    assert dut.cmd("AT+CIPFWVER?") == b"\r\nERROR\r\n"  # not joined
    join(dut)
    server.images[("v3.5.0.0", "ota")] = image("v3.5.0.0")
    assert dut.cmd("AT+CIPFWVER?") == b'+CIPFWVER:"v3.4.0.0"\r\n+CIPFWVER:"v3.5.0.0"\r\n' + OK
    assert server.seen[-1] == ("/v1/device/rom", "token " + SSL_TOKEN)


def test_failures(make_dut, tmp_path, server):
    d = make_dut(world=world(tmp_path, f"http://127.0.0.1:{server.port}",
                             f"https://127.0.0.1:{server.tls_port}"))
    assert d.cmd("ATE0") == b"ATE0\r\n\r\nOK\r\n"
    assert d.cmd("AT+SYSLOG=1") == OK
    exec_fail = b"ERR CODE:0x010a0000\r\n" + ERROR
    # offline: the server's name does not even resolve
    assert d.cmd("AT+CIUPDATE") == exec_fail
    assert d.cmd("AT+CIUPDATE=0,,,1") == OK
    d.expect(states(-1))
    join(d)
    # a version the server does not have
    assert d.cmd('AT+CIUPDATE=0,"v9.9.9.9"') == states(1) + exec_fail
    # an image too large for a slot, and one that is no app image
    server.latest = "v4.0.0.0"
    server.images[("v4.0.0.0", "ota")] = b"\xe9" + bytes(SLOT)
    assert d.cmd("AT+CIUPDATE", timeout=30) == states(1, 2, 3) + exec_fail
    server.images[("v4.0.0.0", "ota")] = b"PK\x03\x04 not an app"
    assert d.cmd("AT+CIUPDATE", timeout=30) == states(1, 2, 3) + exec_fail
    # bad metadata
    server.latest = ""
    assert d.cmd("AT+CIUPDATE") == states(1, 2) + exec_fail
    assert d.cmd("AT+CIUPDATE?") == b"+CIUPDATE:-1\r\n" + OK
    # the server gone: nothing listens on its port any more
    server.close()
    assert d.cmd("AT+CIUPDATE") == states(1) + exec_fail
    assert d.cmd("AT+CIUPDATE=0,,,1") == OK
    d.expect(states(1, -1))
    assert d.cmd("AT+GMR") == gmr(b"3.3.0.0")
    assert not os.path.exists(os.path.join(d.data_dir, "ota_1.bin"))
    assert [n for n in os.listdir(d.data_dir) if n.endswith(".tmp")] == []


# ---- the guide's examples (3.3.24) ---------------------------------------------

CORPUS = os.path.join(SHARED, "conformance", "command_examples.json")
NO_QUERY = ("with <version> given the module asks the server no version: esp-at's "
            "esp_at_upgrade_process() prints +CIPUPDATE:1 (server found) and 4 only")
# id -> (reason, the answer espat gives instead, or None when it matches)
DIFFERENT = {
    "ex139": (NO_QUERY, states(1, 4) + OK),
    "ex140": ("an ESP32-C3 AT partition table has no mqtt_ca partition (certificates live in "
              "mfg_nvs since v3.x): the server is found, then the update fails",
              states(1) + ERROR),
    "ex141": (NO_QUERY, OK + states(1, 4)),
    "ex144": (NO_QUERY, OK + states(1, 4)),
}


def test_guide_examples(dut, server):
    """Runs ex135-ex144 in order against the local server, which has every
    version the examples name; a non-blocking update is followed by AT+RST
    (the guide: restart manually), a blocking one restarts by itself."""
    try:
        with open(CORPUS) as f:
            entries = [e for e in json.load(f)["examples"]
                       if e["command_section"] == "3.3.24 AT+CIUPDATE"]
    except OSError:
        pytest.skip(f"conformance corpus not found: {CORPUS}")
    assert [e["id"] for e in entries] == ["ex%d" % i for i in range(135, 145)]
    for v in ("v1.2.0.0", "v2.2.0.0"):
        server.images[(v, "ota")] = image(v)
    server.images[("v2.2.0.0", "mqtt_ca")] = b"\xf1\xf1cert"
    for e in entries:
        send = e["send"].encode()
        if e["id"] == "ex136":
            assert dut.cmd(send) == JOINED + OK
            continue
        nonblocking = send.rstrip().endswith(b",1")
        want = b"".join(line.encode() + b"\r\n" if line != "OK" else OK for line in e["expect"])
        if nonblocking:  # the guide's non-blocking success: OK, then the states
            want = OK + states(1, 2, 3, 4)
        if e["id"] in DIFFERENT:
            want = DIFFERENT[e["id"]][1]
        if e["id"] == "ex135":
            assert dut.cmd(send) == OK
            continue
        dut.write(send)
        if want.endswith(ERROR) or want.endswith(OK):
            assert dut.answer(timeout=30) == want, e["id"]
        else:
            dut.expect(want, timeout=30)
        if want.endswith(ERROR):
            continue
        if nonblocking:
            assert dut.cmd("AT+RST") == OK
        rebooted(dut)
