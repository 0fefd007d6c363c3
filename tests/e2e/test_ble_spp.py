"""BLE SPP over the real pty with a scripted peer, both ways, 20 kB each with a
checksum: as the client (tx = C304 by Write Requests, rx = C306 indications)
and as the server (tx = C306 indications, rx = C304 writes); +++ leaves
[000:8088-8200, 15510-15585]. Decided behaviour: docs/COMPAT.md #436-#438."""
import hashlib
import random

from conftest import PROMPT, guarded_plus, read_n, wait_for

OK = b"\r\nOK\r\n"
ERROR = b"\r\nERROR\r\n"
SRV = "24:0a:c4:d6:e4:46"
PHONE = "7c:df:a1:b3:8d:de"
N = 20 * 1024


def fnv1a(data):
    h = 2166136261
    for b in data:
        h = ((h ^ b) * 16777619) & 0xFFFFFFFF
    return f"{h:08x}"


def payload(seed):
    """N bytes without '+' (so no +++ can form) from a fixed seed."""
    rnd = random.Random(seed)
    return bytes(rnd.choice([b for b in range(256) if b != 0x2B]) for _ in range(N))


def peer_gatt(d, label):
    return next(p for p in d.ctl("ble", "peers")["peers"] if p["label"] == label)["gatt"]


def test_spp_client_both_ways(make_dut):
    d = make_dut()
    d.cmd("ATE0")
    d.ctl("ble", "peer", "add", "srv", f"addr={SRV}", "interval=50", "gatt=default")
    assert d.cmd("AT+BLEINIT=1") == OK
    assert d.cmd(f'AT+BLECONN=0,"{SRV}"') == f'+BLECONN:0,"{SRV}"\r\n'.encode() + OK
    assert d.cmd("AT+BLECFGMTU=0,517") == OK
    d.expect(b"+BLECFGMTU:0,517\r\n")
    assert d.cmd("AT+BLESPPCFG=1,3,5,3,7") == OK
    assert d.cmd("AT+BLESPPCFG?") == b"+BLESPPCFG:3,5,3,7,1\r\n" + OK
    assert d.cmd("AT+BLESPP") == ERROR  # no discovery yet
    assert d.cmd("AT+BLEGATTCPRIMSRV=0").endswith(OK)
    assert d.cmd("AT+BLEGATTCCHAR=0,3").endswith(OK)
    d.write(b"AT+BLESPP\r\n")
    d.expect(PROMPT)
    # module -> peer: Write Requests of at most 512 bytes
    up = payload(1)
    d.write(up)
    wait_for(lambda: peer_gatt(d, "srv")["written_bytes"] == N,
             lambda: f"the peer got {peer_gatt(d, 'srv')['written_bytes']} of {N} bytes",
             timeout=30)
    assert peer_gatt(d, "srv")["written_fnv1a"] == fnv1a(up)
    # peer -> module: indications of ATT_MTU - 3 = 514 bytes, raw on the UART
    down = payload(2)
    for i in range(0, N, 514):
        d.ctl("ble", "peer", "indicate", "srv", "29", down[i:i + 514].hex())
    got = read_n(d, N)
    assert hashlib.sha256(got).digest() == hashlib.sha256(down).digest()
    guarded_plus(d)
    assert d.cmd("AT") == OK
    d.ctl("ble", "peer", "indicate", "srv", "29", b"x".hex())
    d.expect(b"+INDICATE:0,3,7,1,x\r\n")


def test_spp_server_both_ways(make_dut):
    d = make_dut()
    d.cmd("ATE0")
    d.ctl("ble", "peer", "add", "phone", f"addr={PHONE}", "mtu=247")
    for line in ("AT+BLEINIT=2", "AT+BLEGATTSSRVCRE", "AT+BLEGATTSSRVSTART", "AT+BLEADVSTART"):
        assert d.cmd(line) == OK, line
    d.ctl("ble", "peer", "connect", "phone")
    d.expect(f'+BLECONN:0,"{PHONE}"\r\n'.encode())
    d.ctl("ble", "peer", "mtu", "phone", "247")
    d.expect(b"+BLECFGMTU:0,247\r\n")
    assert d.cmd("AT+BLESPPCFG=1,1,7,1,5") == OK
    assert d.cmd("AT+BLESPP") == ERROR  # the client has not enabled indications [000:8179]
    d.ctl("ble", "peer", "subscribe", "phone", "30", "indicate")
    d.expect(b"+WRITE:0,1,7,1,2,\x02\x00\r\n")
    d.write(b"AT+BLESPP\r\n")
    d.expect(PROMPT)
    # peer -> module: writes to C304 (value handle 24), raw on the UART, no +WRITE
    down = payload(3)
    for i in range(0, N, 244):
        d.ctl("ble", "peer", "write", "phone", "24", down[i:i + 244].hex())
    got = read_n(d, N)
    assert hashlib.sha256(got).digest() == hashlib.sha256(down).digest()
    # module -> peer: indications of ATT_MTU - 3 = 244 bytes, each confirmed
    up = payload(4)
    d.write(up)

    def peer():
        return next(p for p in d.ctl("ble", "peers")["peers"] if p["label"] == "phone")
    wait_for(lambda: peer()["received_bytes"] == N,
             lambda: f"the phone got {peer()['received_bytes']} of {N} bytes", timeout=30)
    assert peer()["received_fnv1a"] == fnv1a(up)
    guarded_plus(d)
    assert d.cmd("AT") == OK
