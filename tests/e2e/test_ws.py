"""The WebSocket commands (AT+WS*) against real servers on loopback, started
here with python3-websockets: an echo server (ws and wss), a server that
sends fragmented, binary, ping and close frames, one that dies, one that
requires a client certificate (the guide's 4.8.2); binary-safe data both
ways, messages larger than <buffer_size>, close codes, the AP going away
through the world, and the guide's chapter-4 WebSocket examples (4.8.1,
4.8.2) and chapter-3 ones (3.8) replayed from the conformance corpus."""
import asyncio
import json
import os
import ssl
import subprocess
import threading
import time

import pytest
import websockets

from conftest import DEADLINE, OK, SHARED, esc, join, ok, wait_for
from peers import free_port
import pki

ERROR = b"\r\nERROR\r\n"
SEND_OK = b"\r\nSEND OK\r\n"
WORLD = "tests/worlds/tcpip.ini"
SERVER_CERT = pki.factory("server_cert", "server_cert.crt")
SERVER_KEY = pki.factory("server_key", "server.key")
ROOT = pki.factory("server_ca", "server_ca.crt")
EVERY = bytes(range(256))


# ---- the servers ------------------------------------------------------------------

class Servers:
    """One asyncio loop in a thread serving every endpoint: ws on .port,
    wss (self-signed) on .tls_port, wss with client certificates (the
    factory PKI, as the guide's 4.8.2 server) on .mutual_port. Paths:
    /echo echoes; /script runs the commands it receives (see _script);
    anything records the upgrade request's headers in .heads."""

    def __init__(self, tmp):
        self.heads = []
        self.got = []  # messages /script received
        cert, key = os.path.join(tmp, "ws.crt"), os.path.join(tmp, "ws.key")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                        "-subj", "/CN=localhost", "-keyout", key, "-out", cert],
                       check=True, capture_output=True, timeout=60)
        self.self_signed = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.self_signed.load_cert_chain(cert, key)
        self.mutual = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.mutual.load_cert_chain(SERVER_CERT, SERVER_KEY)
        self.mutual.verify_mode = ssl.CERT_REQUIRED
        self.mutual.load_verify_locations(ROOT)
        self.port, self.tls_port, self.mutual_port = free_port(), free_port(), free_port()
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        assert self.ready.wait(10), "the WebSocket servers did not start"

    def _run(self):
        asyncio.set_event_loop(self.loop)
        kw = dict(max_size=None, compression=None, ping_interval=None)
        self.servers = [self.loop.run_until_complete(websockets.serve(
            self._handle, "127.0.0.1", port, ssl=ctx, **kw))
            for port, ctx in ((self.port, None), (self.tls_port, self.self_signed),
                              (self.mutual_port, self.mutual))]
        self.ready.set()
        self.loop.run_forever()

    async def _handle(self, ws, path=None):
        path = path or ws.path
        self.heads.append((path, list(ws.request_headers.raw_items())))
        try:
            if path.startswith("/script"):
                await self._script(ws)
            else:
                async for msg in ws:
                    await ws.send(msg)
        except websockets.ConnectionClosed:
            pass

    async def _script(self, ws):
        """Each text message is a command: "frag" sends a text message in
        three fragments, "bin" the 256 byte values, "big:N" N bytes of a
        pattern, "ping" a ping, "close:CODE" a close with CODE and "bye",
        "die" drops the connection without a close; "hold" stops reading
        (so pings go unanswered); anything else is recorded."""
        async for msg in ws:
            if msg == "frag":
                await ws.send(["ab", "cd", "ef"])
            elif msg == "bin":
                await ws.send(EVERY)
            elif isinstance(msg, str) and msg.startswith("big:"):
                await ws.send(pattern(int(msg[4:])))
            elif msg == "ping":
                await ws.ping(b"hi")
                await ws.send("pinged")
            elif isinstance(msg, str) and msg.startswith("close:"):
                await ws.close(int(msg[6:]), "bye")
            elif msg == "die":
                ws.transport.abort()
                return
            else:
                self.got.append(msg)

    def close(self):
        async def stop():
            for s in self.servers:
                s.close()
                await s.wait_closed()
        asyncio.run_coroutine_threadsafe(stop(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)


def pattern(n):
    return bytes((i * 7 + (i >> 8)) & 0xFF for i in range(n))


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    s = Servers(str(tmp_path_factory.mktemp("ws")))
    yield s
    s.close()


@pytest.fixture
def dut(make_dut):
    d = make_dut(world=WORLD)
    join(d)
    ok(d, "AT+SYSLOG=1")
    return d


# ---- helpers ------------------------------------------------------------------------

def wsopen(dut, link, uri, extra=""):
    got = dut.cmd(f'AT+WSOPEN={link},"{uri}"{extra}', timeout=DEADLINE * 2)
    assert got == b"+WS_CONNECTED:%d\r\n" % link + OK, esc(got)


def send_prompt(dut, line):
    """line answers OK and the prompt."""
    dut.write(line.encode() + b"\r\n")
    dut.expect(OK + b">")


def wsdata(dut, link, timeout=DEADLINE):
    """The next +WS_DATA:<link>,<len>,<data> and CR LF: its data."""
    m = dut.expect_re(rb"\+WS_DATA:%d,(\d+)," % link, timeout)
    n = int(m.group(1))
    data = dut.read_until(lambda b: n + 2 if len(b) >= n + 2 else None, timeout, f"{n} bytes")
    assert data.endswith(b"\r\n")
    return data[:-2]


def send(dut, link, data, opcode=None):
    if isinstance(data, str):
        data = data.encode()
    extra = "" if opcode is None else f",{opcode}"
    send_prompt(dut, f"AT+WSSEND={link},{len(data)}{extra}")
    dut.write(data)
    dut.expect(SEND_OK)


# ---- tests --------------------------------------------------------------------------

def test_echo_text_and_every_byte(dut, srv):
    wsopen(dut, 0, f"ws://127.0.0.1:{srv.port}/echo")
    assert dut.cmd("AT+WSOPEN?") == b'+WSOPEN:0,2,"ws://127.0.0.1:%d/echo"\r\n' % srv.port + OK
    send(dut, 0, "test")
    dut.expect(b"+WS_DATA:0,4,test\r\n")
    send(dut, 0, EVERY * 3, opcode=2)  # binary, CR LF and +++ inside
    assert wsdata(dut, 0) == EVERY * 3
    send(dut, 0, b"+++\r\nAT\r\n")
    assert wsdata(dut, 0) == b"+++\r\nAT\r\n"
    assert dut.cmd("AT+WSCLOSE=0", timeout=DEADLINE * 2) == b"+WS_CLOSED:0\r\n" + OK
    assert dut.cmd("AT+WSOPEN?") == OK


def test_large_messages_both_ways(dut, srv):
    ok(dut, "AT+WSCFG=1,10,120,8192")
    wsopen(dut, 1, f"ws://localhost:{srv.port}/echo")
    data = pattern(8182)
    send(dut, 1, data, opcode=2)
    assert wsdata(dut, 1) == data
    assert dut.cmd("AT+WSSEND=1,8183") == b"ERR CODE:0x01070001\r\n" + ERROR
    ok(dut, "AT+WSCLOSE=1", b"+WS_CLOSED:1\r\n")
    # a message larger than <buffer_size>: pieces of 1024 bytes
    ok(dut, "AT+WSCFG=1,10,120")
    wsopen(dut, 1, f"ws://127.0.0.1:{srv.port}/script")
    send(dut, 1, "big:100000")
    pieces = []
    while sum(map(len, pieces)) < 100000:
        pieces.append(wsdata(dut, 1))
    assert [len(p) for p in pieces] == [1024] * 97 + [672]
    assert b"".join(pieces) == pattern(100000)
    ok(dut, "AT+WSCLOSE=1", b"+WS_CLOSED:1\r\n")


def test_fragments_binary_ping_close(dut, srv):
    wsopen(dut, 2, f"ws://127.0.0.1:{srv.port}/script")
    send(dut, 2, "frag")
    # websockets ends a fragmented message with an empty final fragment; the
    # module reassembles the message (COMPAT #144)
    dut.expect(b"+WS_DATA:2,6,abcdef\r\n")
    send(dut, 2, "bin")
    assert wsdata(dut, 2) == EVERY
    send(dut, 2, "ping")  # answered by the module, not shown
    dut.expect(b"+WS_DATA:2,6,pinged\r\n")
    send(dut, 2, "close:4001")
    dut.expect(b"+WS_CLOSED:2\r\n")
    assert dut.cmd("AT+WSOPEN?") == OK
    dut.quiet(0.3)


def test_close_frame_with_code_from_the_host(dut, srv):
    wsopen(dut, 0, f"ws://127.0.0.1:{srv.port}/echo")
    send(dut, 0, b"\x0f\xa1later", opcode=8)  # 4001 "later"
    dut.expect(b"+WS_CLOSED:0\r\n")
    assert dut.cmd("AT+WSOPEN?") == OK


def test_server_dies_then_reconnects(dut, srv):
    ok(dut, "AT+WSCFG=0,1,3")
    wsopen(dut, 0, f"ws://127.0.0.1:{srv.port}/script")
    send(dut, 0, "die")
    dut.expect(b"+WS_DISCONNECTED:0\r\n", timeout=DEADLINE)
    assert dut.cmd("AT+WSOPEN?") == b'+WSOPEN:0,3,"ws://127.0.0.1:%d/script"\r\n' % srv.port + OK
    assert dut.cmd("AT+WSSEND=0,1") == b"ERR CODE:0x010a0000\r\n" + ERROR
    # esp_websocket_client's 10 s reconnect wait
    dut.expect(b"+WS_CONNECTED:0\r\n", timeout=15)
    send(dut, 0, "still here")
    ok(dut, "AT+WSCLOSE=0", b"+WS_CLOSED:0\r\n")


def test_nothing_listens_and_bad_uris(dut, srv):
    port = free_port()
    assert dut.cmd(f'AT+WSOPEN=0,"ws://127.0.0.1:{port}/"') == b"ERR CODE:0x010a0000\r\n" + ERROR
    for uri in ("http://127.0.0.1/", "ws://", "ws://a b/", "wss://[::1/"):
        got = dut.cmd(f'AT+WSOPEN=0,"{uri}"')
        assert got.endswith(ERROR), (uri, got)
    assert dut.cmd("AT+WSOPEN?") == OK
    ok(dut, "AT")


def test_headers_subprotocol_auth(dut, srv):
    send_prompt(dut, "AT+WSHEAD=49")
    dut.write(b"AUTHORIZATION: Basic QTIzMzIyMDE5OTk6MTIzNDU2Nzg=")
    dut.expect(OK)
    assert dut.cmd("AT+WSHEAD?") == (
        b'+WSHEAD:0,"AUTHORIZATION: Basic QTIzMzIyMDE5OTk6MTIzNDU2Nzg="\r\n' + OK)
    n = len(srv.heads)
    wsopen(dut, 0, f"ws://127.0.0.1:{srv.port}/echo?x=1", ',"chat",5000,"Bearer tok"')
    # the server's handler records the request in its own thread, after the 101
    wait_for(lambda: len(srv.heads) > n, "the upgrade request", DEADLINE)
    path, h = srv.heads[n]
    assert path == "/echo?x=1"
    assert ("AUTHORIZATION", "Basic QTIzMzIyMDE5OTk6MTIzNDU2Nzg=") in h
    assert ("Authorization", "Bearer tok") in h
    assert ("Sec-WebSocket-Protocol", "chat") in h
    ok(dut, "AT+WSHEAD=0")
    assert dut.cmd("AT+WSHEAD?") == OK
    ok(dut, "AT+WSCLOSE=0", b"+WS_CLOSED:0\r\n")


def test_wss_self_signed(dut, srv):
    wsopen(dut, 1, f"wss://127.0.0.1:{srv.tls_port}/echo")
    data = (EVERY * 4)[:1014]  # <buffer_size> - 10
    send(dut, 1, data, opcode=2)
    assert wsdata(dut, 1) == data
    ok(dut, "AT+WSCLOSE=1", b"+WS_CLOSED:1\r\n")
    # verifying the server (auth 2) refuses a certificate no CA of ours signed
    ok(dut, f"AT+SYSTIMESTAMP={int(time.time())}")
    ok(dut, "AT+WSCFG=1,10,120,1024,2,0,0")
    got = dut.cmd(f'AT+WSOPEN=1,"wss://127.0.0.1:{srv.tls_port}/echo"', timeout=DEADLINE * 2)
    assert got == b"ERR CODE:0x010a0000\r\n" + ERROR


def test_ap_goes_down(dut, srv):
    wsopen(dut, 0, f"ws://127.0.0.1:{srv.port}/echo")
    dut.ctl("ap", "down", "espat")
    dut.expect(b"WIFI DISCONNECT\r\n+WS_DISCONNECTED:0\r\n")
    assert dut.cmd("AT+WSSEND=0,1").endswith(ERROR)
    ok(dut, "AT+WSCLOSE=0", b"+WS_CLOSED:0\r\n")


# ---- the guide's chapter-4 examples (examples.json: 4.8.1, 4.8.2) -------------------

CH4 = os.path.join(SHARED, "conformance", "examples.json")


def _scenario(sid):
    with open(CH4) as f:
        return next(s for s in json.load(f) if s["id"] == sid)


def _lines(raw):
    return [l for l in raw.decode("latin-1").split("\r\n") if l]


@pytest.mark.parametrize("sid", ["4.8.1-websocket-tcp", "4.8.2-websocket-tls-mutual"])
def test_chapter4_examples(sid, make_dut, srv):
    sc = _scenario(sid)
    port = srv.port if sid.startswith("4.8.1") else srv.mutual_port
    env = {"espressif": "espat", "1234567890": "espatpass", "192.168.200.249": "127.0.0.1",
           "8765": str(port), "8766": str(port)}

    def subst(text):
        for k, v in env.items():
            text = text.replace(k, v)
        return text

    d = make_dut(world=WORLD)
    ok(d, "ATE0", b"ATE0\r\n")
    pending = None
    for step in sc["steps"]:
        if "send" in step:
            text = step["send"]
            if "CIPSNTP" in text:  # the host's clock instead of an SNTP server
                pending = "skip"
                continue
            pending = None
            if text.endswith("\r\n"):
                if text.startswith("AT+WSOPEN"):
                    ok(d, f"AT+SYSTIMESTAMP={int(time.time())}")
                d.write(subst(text).encode())
                pending = "cmd"
            else:
                d.write(subst(text).encode())
                pending = "data"
        elif "expect" in step:
            if pending == "skip":
                continue
            want = [subst(l) for l in step["expect"]]
            if want[-1] == ">":
                got = d.read_until(lambda b: b.find(b">") + 1 or None, DEADLINE, ">")
            else:
                got = d.answer(timeout=DEADLINE * 2)
            assert _lines(got) == want, (step, esc(got))
        elif "expect_async" in step:
            for line in step["expect_async"]:
                d.expect(subst(line).encode() + b"\r\n", timeout=DEADLINE)
    ok(d, "AT+WSCLOSE=0", b"+WS_CLOSED:0\r\n")


# ---- the guide's chapter-3 examples (command_examples.json: 3.8) -------------------
#
# The Example blocks of 3.8.2 AT+WSCFG, 3.8.3 AT+WSHEAD, 3.8.4 AT+WSOPEN and
# 3.8.6 AT+WSCLOSE, each on a fresh module that first joins the host's
# network (echo off), in the corpus's order (3.8.3 opens its connection
# with the header it set). The examples' server, demo.piesocket.com, is the
# wss echo server here: it takes any path and query, and records the
# upgrade request (srv.heads). An entry's lines must equal its `expect`, or
# match a variant of its `expect_format` (<...> a wildcard); the data typed
# after '>' (`send_data`) must be answered as the form's later variants say
# ("When the data length reaches..."). CH3_CHECKS are checked besides.
# CH3_SETUP and CH3_DIFFERENT list every section and entry not run as
# written, with the reason, noted at the end of the run.

from conftest import note  # noqa: E402
from test_conformance import (_matches_format, check_send_data, run_entries,  # noqa: E402
                              section_blocks)

CH3_SECTIONS = ("3.8.2 AT+WSCFG", "3.8.3 AT+WSHEAD", "3.8.4 AT+WSOPEN", "3.8.6 AT+WSCLOSE")
CH3_JOIN = ("the examples presume a module on a network: it joins the AP that leads to the "
            "host first (AT+CWMODE=1, AT+CWJAP), then ATE0")
PIESOCKET = "wss://demo.piesocket.com"
PIESOCKET_URI = ("demo.piesocket.com is the fixture's wss echo server on 127.0.0.1 at its port "
                 "(self-signed: the module checks no certificate by default, COMPAT #151); the "
                 "path and query stay the example's")
CH3_PATH = "/v3/channel_123?api_key=VCXCEuvhGcBDP7XhiJJUDvR1e1D3eiVjgZ9VRiaV&notify_self"

# section -> (commands sent first, each with the lines it answers; reason).
# {wss} is the fixture's wss server.
CH3_SETUP = {
    "3.8.6 AT+WSCLOSE": ([(f'AT+WSOPEN=0,"{{wss}}{CH3_PATH}"', ["+WS_CONNECTED:0", "OK"])],
                         "the example closes link 0, which it presumes open (a fresh module's "
                         "link 0 is free and AT+WSCLOSE=0 answers ERROR, COMPAT #148): the "
                         "test opens it first, as ex340 does"),
}

# id -> (reason, change): "expect" (the lines espat answers).
CH3_DIFFERENT = {
    "ex339": (PIESOCKET_URI, {}),
    "ex340": (PIESOCKET_URI, {}),
    "ex341": ("the format shows only OK; the module prints +WS_CLOSED:0 (a message of 3.15) "
              "before it, since the close waits for the closing handshake, whose report comes "
              "first (COMPAT #148)", {"expect": ["+WS_CLOSED:0", "OK"]}),
}

AUTH_HEAD = ("AUTHORIZATION", "Basic QTIzMzIyMDE5OTk6MTIzNDU2Nzg=")  # ex338's header


def _upgrade(srv, n, path, head=None):
    """Whether the first upgrade request after the nth asked for path (with
    head among its headers, if given). The server's thread records it when
    it has answered: give it a moment."""
    try:
        wait_for(lambda: len(srv.heads) > n, "the upgrade request", 1.0)
    except AssertionError:
        return False
    return srv.heads[n][0] == path and (head is None or head in srv.heads[n][1])


# id -> (what, check(srv, how many upgrades the server had before the entry))
CH3_CHECKS = {
    "ex339": ("the server got the example's path and query, and ex338's header",
              lambda srv, n: _upgrade(srv, n, CH3_PATH, AUTH_HEAD)),
    "ex340": ("the server got the example's path and query",
              lambda srv, n: _upgrade(srv, n, CH3_PATH)),
}


def _ch3_blocks():
    return section_blocks(CH3_SECTIONS)


def _ch3_answer(d, last):
    if last == ">":
        return _lines(d.read_until(lambda b: b.find(b">") + 1 or None, DEADLINE, ">"))
    return _lines(d.answer(timeout=DEADLINE * 2))


def _ch3_run(d, e, srv):
    """Runs one entry; returns an error text, or None."""
    wss = f"wss://127.0.0.1:{srv.tls_port}"
    send = e["send"].replace(PIESOCKET, wss)
    assert send == e["send"] or e["id"] in CH3_DIFFERENT, \
        f"{e['id']} goes to {send!r}: CH3_DIFFERENT should say why"
    diff = CH3_DIFFERENT.get(e["id"], (None, {}))[1]
    fmts = [v["lines"] for v in e.get("expect_format", [])]
    exact = "expect" in diff or "expect" in e
    wants = [diff.get("expect") or e["expect"]] if exact else fmts
    n = len(srv.heads)
    d.write(send.encode("latin-1"))
    got = _ch3_answer(d, wants[0][-1])
    if not any(got == w if exact else _matches_format(got, w) for w in wants):
        return f"{e['id']} {send!r}: want one of {wants}, got {got}"
    if e["id"] in CH3_CHECKS and not CH3_CHECKS[e["id"]][1](srv, n):
        return f"{e['id']} {send!r}: {CH3_CHECKS[e['id']][0]}: no, got {srv.heads[n:]}"
    if "send_data" in e:
        return check_send_data(d, e)
    return None


@pytest.mark.parametrize("block", _ch3_blocks(), ids=[s.split()[0] for s, _ in _ch3_blocks()])
def test_chapter3_examples(block, make_dut, srv):
    section, entries = block
    assert entries, f"no examples of {section} in the corpus"
    note(f"conformance: setup 3.8: {CH3_JOIN}")
    d = make_dut(world=WORLD)
    join(d)
    if section in CH3_SETUP:
        cmds, why = CH3_SETUP[section]
        note(f"conformance: setup {section}: {[c for c, _ in cmds]}: {why}")
        for c, want in cmds:
            c = c.replace("{wss}", f"wss://127.0.0.1:{srv.tls_port}")
            assert _lines(d.cmd(c, timeout=DEADLINE * 2)) == want, c
    run_entries(entries, CH3_DIFFERENT, lambda e: _ch3_run(d, e, srv))


def test_chapter3_tables_name_real_entries():
    ids = {e["id"] for _, es in _ch3_blocks() for e in es}
    assert set(CH3_DIFFERENT) <= ids, set(CH3_DIFFERENT) - ids
    assert set(CH3_CHECKS) <= ids, set(CH3_CHECKS) - ids
    assert set(CH3_SETUP) <= {s for s, _ in _ch3_blocks()}, set(CH3_SETUP)
    assert all(es for _, es in _ch3_blocks()), "a section without examples"
