"""Bluetooth LE across the shared air (docs/internals/air.md "Bluetooth LE"):
a hub and two modules, A (the guide's "server", AT+BLEINIT=2) and B (its
"client", AT+BLEINIT=1), each on its own pty and data dir, do what two
ESP32-C3 boards do in the guide's chapter 4.3: B hears A's advertising in
AT+BLESCAN, connects, both print +BLECONN; connection parameter updates
and the MTU exchange show on both sides; B's ATT requests read and write
A's GATT server (+READ / +WRITE on A) and A's notifications reach B;
AT+BLEDISCONN on either side ends the link on both; a module killed with
-9 ends the other's link at its supervision timeout, not at once.

Until the GATT client commands land (AT+BLEGATTC*), B's ATT requests are
sent with `espat ctl ble att MAC HEX` (through the module's BLE port, the
same exit its GATT client uses) and what B received is read from `espat
ctl state` (air.ble.links[].received). Decided behaviour: docs/COMPAT.md
#420-#424, #292-#293.

The hub and both modules live for the whole file (module scope): the
tests on them run in order and each leaves the pair unlinked and quiet;
the tests that kill or cut a module, or the hub, make their own trio.
Two tests speak the protocol themselves: one plays the hub to a module
(its BLE frames on the wire, one ATT PDU per connection event), one plays
two modules to a real hub (its routing). Nothing waits on time, only on
output and the control socket's state."""
import re
import signal
import socket
import struct

import pytest

from conftest import DEADLINE, READY, Dut, start_hub, stop_hub, wait_for
from test_air import HDR, FakeHub

OK = b"\r\nOK\r\n"
ERROR = b"\r\nERROR\r\n"
QUIET_WORLD = "[world]\nscan_channel_ms = 10\n"
ADV_A = "0201060a09457370726573736966030302a0"  # the guide's [000:14491]
RSP_A = "0a0941697220536572766572"
ADV_B = "02010605094169722d42"


def stop_all(duts, hub, log):
    errors = []
    for d in duts:
        if d.proc is not None:
            alive = d.alive()
            rc = d.stop()
            if alive and rc != 0:
                errors.append(f"espat exited with {rc} on SIGTERM: {d.stderr()}")
    stop_hub(hub, log)
    assert not errors, errors


def make_trio(tmp):
    """A hub and two modules on it; echo off, BLE up in the guide's roles."""
    world = tmp / "quiet.ini"
    world.write_text(QUIET_WORLD)
    sock = str(tmp / "air.sock")
    hub, log = start_hub(sock, tmp / "hub.log")
    duts = []
    for name in ("a", "b"):
        d = Dut(tmp / f"data-{name}", tmp / f"run-{name}", ["--air", sock], False,
                str(world))
        duts.append(d)
        d.start()
        assert d.cmd("ATE0") == b"ATE0\r\n" + OK
    a, b = duts
    assert a.cmd("AT+BLEINIT=2") == OK
    assert b.cmd("AT+BLEINIT=1") == OK
    return a, b, hub, log


def addr_of(d):
    m = re.search(rb'\+BLEADDR:"([0-9a-f:]{17})"', d.cmd("AT+BLEADDR?"))
    assert m
    return m.group(1).decode()


def ble_state(d):
    return d.ctl("state")["state"]["air"]["ble"]


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    a, b, hub, log = make_trio(tmp_path_factory.mktemp("bleair"))
    a.addr, b.addr = addr_of(a), addr_of(b)
    assert a.addr != b.addr
    # A serves the guide's default table [000:14127-14147]
    assert a.cmd("AT+BLEGATTSSRVCRE") == OK
    assert a.cmd("AT+BLEGATTSSRVSTART") == OK
    yield a, b
    stop_all((a, b), hub, log)


def advertise(d, adv, rsp=None):
    assert d.cmd(f'AT+BLEADVDATA="{adv}"') == OK
    if rsp:
        assert d.cmd(f'AT+BLESCANRSPDATA="{rsp}"') == OK
    assert d.cmd("AT+BLEADVSTART") == OK


def heard_by(d, addr):
    """Waits until d's air client holds the set advertised at addr."""
    def seen():
        return [x for x in ble_state(d)["advertisers"] if x["addr"] == addr]
    return wait_for(seen, f"{addr}'s advertising heard")[0]


def connect(central, peripheral):
    """central AT+BLECONN to peripheral's advertising: both print +BLECONN."""
    heard_by(central, peripheral.addr)
    got = central.cmd(f'AT+BLECONN=0,"{peripheral.addr}"')
    assert got == f'+BLECONN:0,"{peripheral.addr}"\r\n'.encode() + OK, got
    peripheral.expect(f'+BLECONN:0,"{central.addr}"\r\n'.encode())


def disconnect(closer, other):
    assert closer.cmd("AT+BLEDISCONN=0") == OK
    closer.expect(f'+BLEDISCONN:0,"{other.addr}"\r\n'.encode())
    other.expect(f'+BLEDISCONN:0,"{closer.addr}"\r\n'.encode())
    for d in (closer, other):
        assert d.cmd("AT+BLECONN?") == OK
        wait_for(lambda d=d: ble_state(d)["links"] == [], "the air link forgotten")


def test_scan_each_other(pair):
    """Each hears the other's set in AT+BLESCAN: address, RSSI -40, adv
    data and (active scan) scan response, as often as its interval says."""
    a, b = pair
    advertise(a, ADV_A, RSP_A)
    seen = heard_by(b, a.addr)
    assert (seen["adv"], seen["rsp"], seen["interval_ms"]) == (ADV_A, RSP_A, 20)
    assert b.cmd("AT+BLESCANPARAM=1,0,0,160,160") == OK  # active, always listening
    assert b.cmd("AT+BLESCAN=1,1") == OK
    out = b.expect_re(rb"(.*?)\+BLESCANDONE\r\n").group(1)
    line = f'+BLESCAN:"{a.addr}",-40,{ADV_A},{RSP_A},0\r\n'.encode()
    # A's factory interval is 32 x 0.625 = 20 ms: 50 events in the second
    assert out.count(line) in (50, 51), out
    assert out.replace(line, b"") == b"", out
    # a passive scan gets no scan response
    assert b.cmd("AT+BLESCANPARAM=0,0,0,160,160") == OK
    assert b.cmd("AT+BLESCAN=1,1") == OK
    out = b.expect_re(rb"(.*?)\+BLESCANDONE\r\n").group(1)
    assert f'+BLESCAN:"{a.addr}",-40,{ADV_A},,0\r\n'.encode() in out
    # and the other way round; B's interval is 100 ms
    assert b.cmd("AT+BLEADVPARAM=160,160,0,0,7") == OK
    advertise(b, ADV_B)
    heard_by(a, b.addr)
    assert a.cmd("AT+BLESCANPARAM=1,0,0,160,160") == OK
    assert a.cmd("AT+BLESCAN=1,1") == OK
    out = a.expect_re(rb"(.*?)\+BLESCANDONE\r\n").group(1)
    assert out.count(f'+BLESCAN:"{b.addr}",-40,{ADV_B},,0\r\n'.encode()) in (10, 11), out
    # a stopped set is heard no more
    assert b.cmd("AT+BLEADVSTOP") == OK
    wait_for(lambda: ble_state(a)["advertisers"] == [], "B's advertising gone from A")
    assert a.cmd("AT+BLESCAN=1,1") == OK
    out = a.expect_re(rb"(.*?)\+BLESCANDONE\r\n").group(1)
    assert b.addr.encode() not in out
    assert a.cmd("AT+BLEADVSTOP") == OK
    wait_for(lambda: ble_state(b)["advertisers"] == [], "A's advertising gone from B")


def test_connect_params_mtu_disconnect(pair):
    """B connects to A (the guide's 4.3.2): +BLECONN on both, A stops
    advertising; B's parameter update and MTU exchange are reported on both
    sides; AT+BLEDISCONN on B ends it on both."""
    a, b = pair
    advertise(a, ADV_A)
    connect(b, a)
    # the advertiser stopped: nobody hears it any more
    wait_for(lambda: ble_state(b)["advertisers"] == [], "A's advertising gone")
    assert a.cmd("AT+BLECONN?") == f'+BLECONN:0,"{b.addr}"\r\n'.encode() + OK
    assert b.cmd("AT+BLECONN?") == f'+BLECONN:0,"{a.addr}"\r\n'.encode() + OK
    # the guide's AT+BLECONNPARAM example; A did not ask: min/max 0 there
    assert b.cmd("AT+BLECONNPARAM=0,12,14,1,500") == OK
    b.expect(b"+BLECONNPARAM:0,12,14,12,1,500\r\n")
    a.expect(b"+BLECONNPARAM:0,0,0,12,1,500\r\n")
    assert a.cmd("AT+BLECONNPARAM?") == b"+BLECONNPARAM:0,0,0,12,1,500\r\n" + OK
    assert [l["interval"] for l in ble_state(a)["links"]] == [12]
    # and A's own update: B prints it with 0,0 (#423)
    assert a.cmd("AT+BLECONNPARAM=0,40,40,0,600") == OK
    a.expect(b"+BLECONNPARAM:0,40,40,40,0,600\r\n")
    b.expect(b"+BLECONNPARAM:0,0,0,40,0,600\r\n")
    assert b.cmd("AT+BLECONNPARAM?") == b"+BLECONNPARAM:0,12,14,40,0,600\r\n" + OK
    # the MTU exchange: B asks 300, A offers 517
    assert a.cmd("AT+BLECFGMTU=0,300") == ERROR  # the server does not start one
    assert b.cmd("AT+BLECFGMTU=0,300") == OK
    b.expect(b"+BLECFGMTU:0,300\r\n")
    a.expect(b"+BLECFGMTU:0,300\r\n")
    assert a.cmd("AT+BLECFGMTU?") == b"+BLECFGMTU:0,300\r\n" + OK
    assert b.cmd("AT+BLECFGMTU?") == b"+BLECFGMTU:0,300\r\n" + OK
    disconnect(b, a)


def att_received(d, addr, want):
    """Waits until d's link with addr has received the ATT PDU want (hex)."""
    def got():
        links = [l for l in ble_state(d)["links"] if l["addr"] == addr]
        return links and want in links[0]["received"]
    wait_for(got, lambda: f"ATT {want} at {d.addr}: {ble_state(d)['links']}")


def test_gatt_server_over_att(pair):
    """B's ATT requests reach A's GATT server through the air: a read
    prints +READ on A and its value comes back to B; a write prints +WRITE;
    B subscribes through the CCCD and A's AT+BLEGATTSNTFY reaches B."""
    a, b = pair
    advertise(a, ADV_A)
    connect(b, a)
    # Read Request, handle 12 (0xC300, value "0"; the GATT and GAP services take 1-9)
    assert b.ctl("ble", "att", a.addr, "0a0c00")["conn_index"] == 0
    a.expect(f'+READ:0,"{b.addr}"\r\n'.encode())
    att_received(b, a.addr, "0b30")
    # Write Request, handle 18 (0xC302, writable): service 1, characteristic 3
    b.ctl("ble", "att", a.addr, "121200" + "39")
    a.expect(b"+WRITE:0,1,3,,1,9\r\n")
    att_received(b, a.addr, "13")
    # a read of a write-only value: ATT's error, nothing on A's UART
    b.ctl("ble", "att", a.addr, "0a1200")
    att_received(b, a.addr, "010a120002")
    # notifications: B sets the CCCD of characteristic 6 (0xC305, handle 27)
    assert a.cmd("AT+BLEGATTSNTFY=0,1,6,3") == ERROR  # not subscribed yet
    b.ctl("ble", "att", a.addr, "121b000100")
    a.expect(b"+WRITE:0,1,6,1,2,\x01\x00\r\n")
    att_received(b, a.addr, "13")
    a.write("AT+BLEGATTSNTFY=0,1,6,3\r\n")
    a.expect(b">")
    a.write("abc")
    a.expect(OK)
    att_received(b, a.addr, "1b1a00616263")
    # indications: characteristic 7 (0xC306), its CCCD at handle 30
    b.ctl("ble", "att", a.addr, "121e000200")
    a.expect(b"+WRITE:0,1,7,1,2,\x02\x00\r\n")
    a.write("AT+BLEGATTSIND=0,1,7,2\r\n")
    a.expect(b">")
    a.write("hi")
    a.expect(OK)
    att_received(b, a.addr, "1d1d006869")
    # a request the link's MTU cannot carry is refused before it leaves
    b.ctl("ble", "att", a.addr, "12" + "00" * 30, expect_ok=False)
    b.ctl("ble", "att", "00:00:00:00:00:01", "0a0c00", expect_ok=False)  # no such link
    disconnect(a, b)


def test_connect_the_other_way(pair):
    """A (the server) connects to B's advertising: roles at the link layer
    are whoever advertises; A's AT+BLEDISCONN ends it on both."""
    a, b = pair
    advertise(b, ADV_B)
    connect(a, b)
    assert ble_state(a)["links"][0]["initiator"] is True
    assert ble_state(b)["links"][0]["initiator"] is False
    # the guide's 4.3.3: the peripheral's AT+BLECONN on that link is OK (#425)
    assert b.cmd(f'AT+BLECONN=0,"{a.addr}"') == OK
    assert b.cmd("AT+BLECONN?") == f'+BLECONN:0,"{a.addr}"\r\n'.encode() + OK
    disconnect(a, b)


def test_deinit_ends_the_link_on_the_other_side(pair):
    """AT+BLEINIT=0 on A while linked: A prints nothing (#408), B prints
    +BLEDISCONN at once (A's stack terminates the link, #424)."""
    a, b = pair
    advertise(a, ADV_A)
    connect(b, a)
    assert a.cmd("AT+BLEINIT=0") == OK
    b.expect(f'+BLEDISCONN:0,"{a.addr}"\r\n'.encode())
    assert b.cmd("AT+BLECONN?") == OK
    assert a.cmd("AT+BLECONN?") == OK
    wait_for(lambda: ble_state(b)["links"] == [] and ble_state(a)["links"] == [],
             "the air link forgotten on both")
    # A again as it was: the services went with the stack
    assert a.cmd("AT+BLEINIT=2") == OK
    assert a.cmd("AT+BLEGATTSSRVCRE") == OK
    assert a.cmd("AT+BLEGATTSSRVSTART") == OK


def test_connect_to_nobody_times_out(pair):
    """AT+BLECONN to an address nobody advertises: +BLECONN:0,-1 at the
    timeout, as with the world's peers; the air is not asked."""
    a, b = pair
    got = b.cmd('AT+BLECONN=0,"24:0a:c4:00:00:01",0,3', timeout=DEADLINE + 3)
    assert got == b"+BLECONN:0,-1\r\n" + ERROR
    assert ble_state(b)["links"] == []


def test_kill9_ends_the_link_by_supervision_timeout(tmp_path):
    """A killed with -9 while linked (and advertising again): its set goes
    from B's air at once; B's link stays up until its supervision timeout
    (5 s) runs out, then +BLEDISCONN, as a real link to a board that lost
    power."""
    a, b, hub, log = make_trio(tmp_path)
    try:
        a.addr, b.addr = addr_of(a), addr_of(b)
        advertise(a, ADV_A)
        connect(b, a)
        advertise(a, ADV_A)  # a peripheral may advertise on with a link up
        heard_by(b, a.addr)
        a.kill9()
        wait_for(lambda: ble_state(b)["advertisers"] == [] and ble_state(b)["links"] == [],
                 "the hub telling B that A left")
        # the hub has spoken, the link is still up: the timer runs
        assert b.cmd("AT+BLECONN?") == f'+BLECONN:0,"{a.addr}"\r\n'.encode() + OK
        b.expect(f'+BLEDISCONN:0,"{a.addr}"\r\n'.encode(), timeout=DEADLINE + 5)
        assert b.cmd("AT+BLECONN?") == OK
    finally:
        stop_all((a, b), hub, log)


def test_power_cut_ends_the_link_by_supervision_timeout(tmp_path):
    """`espat ctl power-cut` on B (the central) while linked: A's link ends
    at its supervision timeout; B boots with BLE off and no link."""
    a, b, hub, log = make_trio(tmp_path)
    try:
        a.addr, b.addr = addr_of(a), addr_of(b)
        advertise(a, ADV_A)
        connect(b, a)
        b.ctl("power-cut")
        b.expect(READY)
        wait_for(lambda: ble_state(a)["links"] == [], "the hub telling A that B's link is lost")
        assert a.cmd("AT+BLECONN?") == f'+BLECONN:0,"{b.addr}"\r\n'.encode() + OK
        a.expect(f'+BLEDISCONN:0,"{b.addr}"\r\n'.encode(), timeout=DEADLINE + 5)
        assert b.cmd("ATE0") == b"ATE0\r\n" + OK
        assert b.cmd("AT+BLEINIT?") == b"+BLEINIT:0\r\n" + OK
        assert b.cmd("AT+BLECONN?") == OK
    finally:
        stop_all((a, b), hub, log)


def mac_bytes(addr):
    return bytes(int(x, 16) for x in addr.split(":"))


def adv_record(adv, rsp=b"", interval=100, adv_type=0, addr_type=0):
    """BLE_ADV's payload (proto/air.h): addr_type, adv_type, channel map,
    interval (ms, 4 bytes), then length + data for adv and scan response."""
    return (struct.pack(">BBBI", addr_type, adv_type, 7, interval) + bytes([len(adv)]) + adv +
            bytes([len(rsp)]) + rsp)


def test_ble_on_the_wire(make_dut, tmp_path):
    """The module's side of the BLE messages, with the test playing the hub:
    its advertising set goes out as BLE_ADV (and an empty one once
    connected); a BLE_CONN to it is answered BLE_CONN_ANS and printed
    +BLECONN; a BLE_ATT read is answered BLE_ATT with the value (+READ);
    BLE_PARAM and BLE_DISCONN from the other end are printed; its own
    AT+BLECONN goes out as BLE_CONN with its address, and a refusal ends the
    link."""
    hub = FakeHub(str(tmp_path / "fake.sock"))
    seen = []

    def frame(typ, what):
        def got():
            seen.extend(hub.frames())
            hits = [f for f in seen if f[0] == typ]
            if hits:
                seen.remove(hits[0])
                return hits[0]
            return None
        return wait_for(got, what)

    try:
        d = make_dut(args=["--air", str(tmp_path / "fake.sock")], start=False)
        d.start(wait_ready=False)
        hub.accept()
        frame(0x01, "HELLO")
        hub.send(0x02, peer=5)  # WELCOME: the module is 5
        d.expect(READY)
        assert d.cmd("ATE0") == b"ATE0\r\n" + OK
        assert d.cmd("AT+BLEINIT=2") == OK
        me = addr_of(d)
        assert d.cmd("AT+BLEGATTSSRVCRE") == OK
        assert d.cmd("AT+BLEGATTSSRVSTART") == OK
        advertise(d, ADV_A)
        f = frame(0x80, "BLE_ADV")
        assert f[5] == mac_bytes(me)
        assert f[4] == adv_record(bytes.fromhex(ADV_A), interval=20)
        # module 9 connects from 24:0a:c4:03:a7:4e (the guide's client)
        peer = "24:0a:c4:03:a7:4e"
        hub.send(0x81, peer=9, cid=1, mac=mac_bytes(me), payload=mac_bytes(peer) + b"\0")
        d.expect(f'+BLECONN:0,"{peer}"\r\n'.encode())
        f = frame(0x82, "BLE_CONN_ANS")
        assert f[1:4] == (0, 9, 1)
        assert frame(0x80, "the stopped set")[4] == b""
        # a Read Request of handle 12: +READ, and the response on the link
        hub.send(0x83, peer=9, cid=1, payload=bytes.fromhex("0a0c00"))
        d.expect(f'+READ:0,"{peer}"\r\n'.encode())
        f = frame(0x83, "BLE_ATT")
        assert f[2:5] == (9, 1, bytes.fromhex("0b30"))
        # the other end's parameter update (1 s interval) and MTU exchange
        hub.send(0x84, code=0, peer=9, cid=1, payload=struct.pack(">HHH", 800, 0, 500))
        d.expect(b"+BLECONNPARAM:0,0,0,800,0,500\r\n")
        hub.send(0x84, code=1, peer=9, cid=1, payload=struct.pack(">H", 247))
        d.expect(b"+BLECFGMTU:0,247\r\n")
        # with 2 s connection events, PDUs wait for theirs, one per event (#424)
        hub.send(0x84, code=0, peer=9, cid=1, payload=struct.pack(">HHH", 1600, 0, 3200))
        d.expect(b"+BLECONNPARAM:0,0,0,1600,0,3200\r\n")
        hub.send(0x83, peer=9, cid=1, payload=bytes.fromhex("0a0c00"))
        hub.send(0x83, peer=9, cid=1, payload=bytes.fromhex("0a0c00"))
        wait_for(lambda: ble_state(d)["links"][0]["queued"] == 2, "two PDUs waiting")
        d._read_some(0)
        assert d.buf == b""  # neither handed to the server yet
        d.expect(f'+READ:0,"{peer}"\r\n'.encode(), timeout=DEADLINE + 2)
        assert ble_state(d)["links"][0]["queued"] == 1
        d.expect(f'+READ:0,"{peer}"\r\n'.encode(), timeout=DEADLINE + 2)
        assert frame(0x83, "the first answer")[4] == bytes.fromhex("0b30")
        assert frame(0x83, "the second answer")[4] == bytes.fromhex("0b30")
        # malformed parameters are ignored; the link goes on
        hub.send(0x84, code=0, peer=9, cid=1, payload=b"\1")
        hub.send(0x85, code=0x13, peer=9, cid=1)
        d.expect(f'+BLEDISCONN:0,"{peer}"\r\n'.encode())
        # the module as initiator: BLE_CONN carries its address
        other = "24:0a:c4:d6:e4:46"
        hub.send(0x80, peer=9, mac=mac_bytes(other), payload=adv_record(b"\x02\x01\x06"))
        wait_for(lambda: ble_state(d)["advertisers"], "module 9's set")
        got = d.cmd(f'AT+BLECONN=0,"{other}"')
        assert got == f'+BLECONN:0,"{other}"\r\n'.encode() + OK
        f = frame(0x81, "BLE_CONN")
        assert f[2] == 5 and f[5] == mac_bytes(other) and f[4] == mac_bytes(me) + b"\0"
        # refused (the set went in between): the link ends at once (#422)
        hub.send(0x82, code=1, peer=5, cid=f[3])
        d.expect(f'+BLEDISCONN:0,"{other}"\r\n'.encode())
        assert d.cmd("AT+BLECONN?") == OK
        assert ble_state(d)["links"] == []
    finally:
        hub.close()


class HubClient:
    """A module's end of a real hub's socket, spoken by the test."""

    def __init__(self, path, name):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(path)
        self.sock.setblocking(False)
        self.buf, self.got = b"", []
        self.send(0x01, code=1, payload=name.encode())  # HELLO
        self.id = self.wait(0x02, "WELCOME")[2]

    def send(self, typ, code=0, peer=0, cid=0, mac=b"\0" * 6, payload=b""):
        h = HDR.pack(typ, code, 0, peer, cid, 0, 0, 0, 0, mac)
        self.sock.sendall(struct.pack(">I", len(h) + len(payload)) + h + payload)

    def wait(self, typ, what):
        """The first frame of type typ not yet taken: (type, code, peer, cid,
        payload, mac)."""
        def got():
            try:
                while chunk := self.sock.recv(65536):
                    self.buf += chunk
            except BlockingIOError:
                pass
            while len(self.buf) >= 4 and len(self.buf) >= 4 + struct.unpack(">I", self.buf[:4])[0]:
                n = struct.unpack(">I", self.buf[:4])[0]
                f = HDR.unpack(self.buf[4:4 + HDR.size])
                self.got.append((f[0], f[1], f[3], f[4], self.buf[4 + HDR.size:4 + n], f[9]))
                self.buf = self.buf[4 + n:]
            hits = [f for f in self.got if f[0] == typ]
            if hits:
                self.got.remove(hits[0])
            return hits[0] if hits else None
        return wait_for(got, what)


def test_hub_routes_ble(tmp_path):
    """The hub as two modules see it: a newcomer hears the sets already on
    the air; BLE_CONN reaches the module advertising that address (nobody
    there: refused by the hub); a link's frames go to its other end; a
    module that leaves has its set withdrawn and its links ended 0x08."""
    sock = str(tmp_path / "air.sock")
    hub, log = start_hub(sock, tmp_path / "hub.log")
    try:
        a = HubClient(sock, "a")
        a_mac = mac_bytes("24:0a:c4:d6:e4:46")
        rec = adv_record(bytes.fromhex(ADV_A), interval=50)
        a.send(0x80, mac=a_mac, payload=rec)
        b = HubClient(sock, "b")
        f = b.wait(0x80, "A's set, for the newcomer")
        assert (f[2], f[4], f[5]) == (a.id, rec, a_mac)
        # nobody advertises there: the hub answers
        b.send(0x81, cid=1, mac=mac_bytes("24:0a:c4:00:00:09"), payload=b"\1" * 6 + b"\0")
        assert b.wait(0x82, "the hub's refusal")[1:4] == (1, b.id, 1)
        # to A's set: A gets it with B's id; A accepts; ATT both ways
        b.send(0x81, cid=2, mac=a_mac, payload=b"\2" * 6 + b"\0")
        f = a.wait(0x81, "BLE_CONN at A")
        assert (f[2], f[3], f[4]) == (b.id, 2, b"\2" * 6 + b"\0")
        a.send(0x82, peer=b.id, cid=2)
        assert b.wait(0x82, "A's answer")[1:4] == (0, b.id, 2)
        b.send(0x83, peer=b.id, cid=2, payload=b"\x0a\x03\x00")
        assert a.wait(0x83, "B's request")[4] == b"\x0a\x03\x00"
        a.send(0x83, peer=b.id, cid=2, payload=b"\x0b\x30")
        assert b.wait(0x83, "A's response")[4] == b"\x0b\x30"
        # a frame of a link that does not exist goes nowhere
        a.send(0x83, peer=b.id, cid=7, payload=b"\x0b\x31")
        # A goes (its socket closes): B hears the set withdrawn and the link lost
        a.sock.close()
        f = b.wait(0x85, "the link ended")
        assert f[1:4] == (0x08, b.id, 2)
        assert b.wait(0x80, "A's set withdrawn")[4] == b""
        assert not [f for f in b.got if f[0] == 0x83]
        b.sock.close()
    finally:
        hub.send_signal(signal.SIGTERM)
        assert hub.wait(timeout=DEADLINE) == 0
        log.close()


def test_hub_gone_links_end_by_timeout(tmp_path):
    """The hub goes away with a link up: for each module the other one
    vanished; both print +BLEDISCONN at their supervision timeout and go
    on alone (#291)."""
    a, b, hub, log = make_trio(tmp_path)
    try:
        a.addr, b.addr = addr_of(a), addr_of(b)
        advertise(a, ADV_A)
        connect(b, a)
        hub.send_signal(signal.SIGTERM)
        assert hub.wait(timeout=DEADLINE) == 0
        for d, other in ((a, b), (b, a)):
            wait_for(lambda d=d: not d.ctl("state")["state"]["air"]["connected"], "the hub gone")
            assert d.cmd("AT+BLECONN?") == f'+BLECONN:0,"{other.addr}"\r\n'.encode() + OK
        for d, other in ((a, b), (b, a)):
            d.expect(f'+BLEDISCONN:0,"{other.addr}"\r\n'.encode(), timeout=DEADLINE + 5)
            assert ble_state(d) == {"advertising": False, "advertisers": [], "links": []}
    finally:
        stop_all((a, b), hub, log)


def test_pairing_across_the_air(pair):
    """The guide's 4.3.4 between two modules: the server KeyboardOnly, the
    client KeyboardDisplay, Secure Connections with MITM and bonding; the
    client's AT+BLEENC, the server's +BLESECREQ and AT+BLEENCRSP, the key
    shown on the client and typed on the server, the keys and
    +BLEAUTHCMPL:0,0 on both in the guide's order; both bonded. Then a
    wrong key: Confirm Value Failed, +BLEAUTHCMPL:0,1 on both."""
    a, b = pair
    advertise(a, "020106")
    connect(b, a)
    assert a.cmd("AT+BLESECPARAM=13,2,16,3,3") == OK
    assert b.cmd("AT+BLESECPARAM=13,4,16,3,3") == OK

    def start():
        assert b.cmd("AT+BLEENC=0,3") == OK
        a.expect(b"+BLESECREQ:0\r\n")
        assert a.cmd("AT+BLEENCRSP=0,1") == OK
        key = b.expect_re(rb"\+BLESECNTFYKEY:0,(\d{6})\r\n").group(1).decode()
        a.expect(b"+BLESECKEYREQ:0\r\n")
        return key

    key = start()
    assert a.cmd(f"AT+BLEKEYREPLY=0,{key}") == OK
    a.expect(b"+BLESECKEYTYPE:0,16\r\n+BLESECKEYTYPE:0,1\r\n+BLESECKEYTYPE:0,32\r\n"
             b"+BLESECKEYTYPE:0,2\r\n+BLEAUTHCMPL:0,0\r\n")
    b.expect(b"+BLESECKEYTYPE:0,2\r\n+BLESECKEYTYPE:0,16\r\n+BLESECKEYTYPE:0,1\r\n"
             b"+BLESECKEYTYPE:0,32\r\n+BLEAUTHCMPL:0,0\r\n")
    assert a.cmd("AT+BLEENCDEV?") == f'+BLEENCDEV:0,"{b.addr}"\r\n'.encode() + OK
    assert b.cmd("AT+BLEENCDEV?") == f'+BLEENCDEV:0,"{a.addr}"\r\n'.encode() + OK
    # bonded: AT+BLEENC encrypts with the bond's key, no pairing (COMPAT #475)
    assert b.cmd("AT+BLEENC=0,3") == OK
    a.expect(b"+BLEAUTHCMPL:0,0\r\n")
    b.expect(b"+BLEAUTHCMPL:0,0\r\n")
    # the server forgot its bond: the client's key is refused on both
    # sides; the client keeps its stale bond until its host clears it
    assert a.cmd("AT+BLEENCCLEAR") == OK
    assert b.cmd("AT+BLEENC=0,3") == OK
    a.expect(b"+BLEAUTHCMPL:0,1\r\n")
    b.expect(b"+BLEAUTHCMPL:0,1\r\n")
    assert b.cmd("AT+BLEENCDEV?") == f'+BLEENCDEV:0,"{a.addr}"\r\n'.encode() + OK
    assert b.cmd("AT+BLEENCCLEAR=0") == OK

    key = start()
    assert a.cmd(f"AT+BLEKEYREPLY=0,{(int(key) + 1) % 1000000}") == OK
    a.expect(b"+BLEAUTHCMPL:0,1\r\n")
    b.expect(b"+BLEAUTHCMPL:0,1\r\n")
    for d in (a, b):
        assert d.cmd("AT+BLEENCCLEAR") == OK
        assert d.cmd("AT+BLEENCDEV?") == OK
    disconnect(b, a)


def test_periodic_train_across_the_air(pair):
    """A's periodic train (the guide's sequence [000:8989-8993]) travels with
    its extended set: B, scanning, syncs to A and prints +BLESYNC with A's
    data, at RSSI -40 (#420), until AT+BLESYNCSTOP."""
    a, b = pair
    assert a.cmd('AT+BLEPERIODICDATA="1122334455"') == OK
    assert a.cmd("AT+BLEADVPARAM=32,32,5,0,7,0") == OK
    assert a.cmd("AT+BLEADVSTART") == OK
    assert a.cmd("AT+BLEPERIODICSTART") == OK
    wait_for(lambda: [x for x in ble_state(b)["advertisers"]
                      if x["addr"] == a.addr and x["adv_type"] == 5], "A's extended set heard")
    assert b.cmd('AT+BLESCAN=1,0,1,"00:00:00:00:00:01"') == OK  # a scan that lists nobody
    assert b.cmd(f'AT+BLESYNCSTART="{a.addr}"') == OK
    line = f'+BLESYNC:"{a.addr}",-40,1122334455\r\n'.encode()
    got = b.expect_re(rb"((?:\+BLESYNC:[^\r]*\r\n){3})").group(1)
    assert got == line * 3, got
    out = b.cmd("AT+BLESYNCSTOP")
    assert out.endswith(OK) and out[:-len(OK)].replace(line, b"") == b"", out
    assert b.cmd("AT+BLESCAN=0") == OK
    b.quiet(0.2)
    assert a.cmd("AT+BLEPERIODICSTOP") == OK
    assert a.cmd("AT+BLEADVSTOP") == OK
    assert a.cmd("AT+BLEADVPARAM=32,64,0,0,7,0") == OK  # back to ADV_IND for the others


def test_hid_host_is_another_module(pair):
    """A as a HID device (AT+BLEHIDINIT=1), B its host through the GATT
    client: B discovers the HID service, is refused the keyboard report's
    CCCD until it pairs (Just Works), subscribes, and AT+BLEHIDKB on A
    prints B's +NOTIFY with the 8-byte report."""
    a, b = pair
    assert a.cmd("AT+BLEINIT=0") == OK
    assert a.cmd("AT+BLEHIDINIT=1") == OK
    heard_by(b, a.addr)
    got = b.cmd(f'AT+BLECONN=0,"{a.addr}"')
    assert got == f'+BLECONN:0,"{a.addr}"\r\n'.encode() + OK, got
    a.expect(f'+BLECONN:0,"{b.addr}"\r\n'.encode())
    assert b.cmd("AT+BLEGATTCPRIMSRV=0") == (
        b"+BLEGATTCPRIMSRV:0,1,0x1801,1\r\n+BLEGATTCPRIMSRV:0,2,0x1800,1\r\n"
        b"+BLEGATTCPRIMSRV:0,3,0x1812,1\r\n+BLEGATTCPRIMSRV:0,4,0x180F,1\r\n"
        b"+BLEGATTCPRIMSRV:0,5,0x180A,1\r\n" + OK)
    chars = b.cmd("AT+BLEGATTCCHAR=0,3")
    assert b'+BLEGATTCCHAR:"char",0,3,5,0x2A4D,0x12\r\n' in chars, chars
    assert b'+BLEGATTCCHAR:"desc",0,3,5,1,0x2902\r\n' in chars, chars

    def subscribe():
        b.write(b"AT+BLEGATTCWR=0,3,5,1,2\r\n")
        b.expect(b">")
        b.write(b"\x01\x00")
        return b.answer()
    assert subscribe().endswith(ERROR)  # Insufficient Authentication: not paired
    for d in (a, b):  # bonding, no IO: Just Works
        assert d.cmd("AT+BLESECPARAM=1,3,16,3,3") == OK
    assert b.cmd("AT+BLEENC=0,1") == OK
    a.expect(b"+BLESECREQ:0\r\n")
    assert a.cmd("AT+BLEENCRSP=0,1") == OK
    a.expect_re(rb"(\+BLESECKEYTYPE:0,\d+\r\n)+\+BLEAUTHCMPL:0,0\r\n")
    b.expect_re(rb"(\+BLESECKEYTYPE:0,\d+\r\n)+\+BLEAUTHCMPL:0,0\r\n")
    assert subscribe() == OK
    assert a.cmd("AT+BLEHIDKB=2,4,0,0,0,0,0") == OK
    b.expect(b"+NOTIFY:0,3,5,8,\x02\x00\x04\x00\x00\x00\x00\x00\r\n")
    for d in (a, b):
        assert d.cmd("AT+BLEENCCLEAR") == OK
    disconnect(b, a)
    assert a.cmd("AT+BLEHIDINIT=0") == OK
    assert a.cmd("AT+BLEINIT=2") == OK
    assert a.cmd("AT+BLEGATTSSRVCRE") == OK
    assert a.cmd("AT+BLEGATTSSRVSTART") == OK


def test_scan_response_only_from_scannable_sets(pair):
    """An active scan hears A's scan response while A advertises ADV_IND,
    and none while A advertises ADV_NONCONN_IND (type 3), which takes no
    SCAN_REQ (COMPAT #405)."""
    a, b = pair
    assert a.cmd(f'AT+BLEADVDATA="{ADV_A}"') == OK
    assert a.cmd(f'AT+BLESCANRSPDATA="{RSP_A}"') == OK
    for adv_type, rsp in ((0, RSP_A), (3, "")):
        assert a.cmd(f"AT+BLEADVPARAM=32,32,{adv_type},0,7,0") == OK
        assert a.cmd("AT+BLEADVSTART") == OK
        wait_for(lambda: [x for x in ble_state(b)["advertisers"]
                          if x["addr"] == a.addr and x["adv_type"] == adv_type],
                 "A's set heard")
        assert b.cmd("AT+BLESCANPARAM=1,0,0,100,50") == OK  # active
        assert b.cmd(f'AT+BLESCAN=1,1,1,"{a.addr}"') == OK
        got = b.read_until(lambda x: len(x) if x.endswith(b"+BLESCANDONE\r\n") else None, 5)
        line = f'+BLESCAN:"{a.addr}",-40,{ADV_A},{rsp},0\r\n'.encode()
        assert got.replace(line, b"") == b"+BLESCANDONE\r\n" and line in got, got
        assert a.cmd("AT+BLEADVSTOP") == OK
    assert a.cmd("AT+BLEADVPARAM=32,64,0,0,7,0") == OK


def test_phy_on_both_ends(pair):
    """AT+BLESETPHY on B: both ends' AT+BLEREADPHY show it (COMPAT #483)."""
    a, b = pair
    advertise(a, ADV_A)
    connect(b, a)
    assert a.cmd("AT+BLEREADPHY=0") == f'+BLEREADPHY:"{b.addr}",1,1\r\n'.encode() + OK
    assert b.cmd("AT+BLESETPHY=0,2") == f'+BLESETPHY:"{a.addr}",2,2\r\n'.encode() + OK
    wait_for(lambda: a.cmd("AT+BLEREADPHY=0") == f'+BLEREADPHY:"{b.addr}",2,2\r\n'.encode() + OK,
             "A on 2M")
    disconnect(b, a)
    assert b.cmd("AT+BLEREADPHY=0") == b"+BLEREADPHY:-1\r\n" + OK
