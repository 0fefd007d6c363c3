"""A phone-side BluFi client for the end-to-end tests, written from
Espressif's published BluFi protocol (ESP-IDF "BluFi" guide; the example's
security: DH key negotiation, MD5 of the shared secret as the AES-128 key,
AES-CFB128 with the frame's sequence number as the first IV byte, CRC16 over
sequence, length and clear data). It plays the EspBlufi app against the
module through the scripted central of `espat ctl ble peer ...`: it
connects, exchanges MTUs, subscribes to 0xFF02's notifications and writes
frames to 0xFF01, as the app does over a real GATT link.

It is a second, independent implementation of the frame format (the module's
is src/proto/blufi.c), so a test passes only when the two agree."""
import hashlib
import secrets

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from conftest import wait_for

# the BluFi service's handles on the module (src/cmd/ble_blufi.h)
H_P2E = 3  # 0xFF01, written by the phone
H_E2P = 5  # 0xFF02, notified by the module
H_CCCD = 6

CTRL, DATA = 0, 1
# control subtypes
C_ACK, C_SEC_MODE, C_OPMODE, C_CONN_AP, C_GET_STATUS, C_GET_VERSION = 0, 1, 2, 3, 5, 7
C_DISCONN_BLE, C_GET_WIFI_LIST = 8, 9
# data subtypes
D_NEG, D_STA_BSSID, D_STA_SSID, D_STA_PASSWD = 0, 1, 2, 3
D_WIFI_REP, D_VERSION, D_WIFI_LIST, D_ERROR, D_CUSTOM = 0x0F, 0x10, 0x11, 0x12, 0x13
D_END_REASON, D_END_RSSI = 0x15, 0x16
FC_ENC, FC_CHECK, FC_E2P, FC_ACK, FC_FRAG = 0x01, 0x02, 0x04, 0x08, 0x10

# RFC 2409's second Oakley group (a 1024-bit safe prime), generator 2: what
# the EspBlufi app offers
DH_P = int(
    "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B139B22"
    "514A08798E3404DDEF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245E485B576625E7EC6"
    "F44C42E9A637ED6B0BFF5CB6F406B7EDEE386BFB5A899FA5AE9F24117C4B1FE649286651ECE65381"
    "FFFFFFFFFFFFFFFF", 16)
DH_G = 2


def typ(kind, sub):
    return kind | (sub << 2)


def crc16(data):
    """CCITT polynomial, MSB first, 0xFFFF in and out (esp_crc16_be(0, ...))."""
    crc = 0xFFFF
    for b in data:
        crc ^= b << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) & 0xFFFF if crc & 0x8000 else (crc << 1) & 0xFFFF
    return crc ^ 0xFFFF


def cfb(key, seq, data, encrypt):
    c = Cipher(algorithms.AES(key), modes.CFB(bytes([seq]) + bytes(15)))
    op = c.encryptor() if encrypt else c.decryptor()
    return op.update(data) + op.finalize()


class Phone:
    def __init__(self, dut, label="phone", addr="60:51:42:fe:98:b1"):
        self.dut, self.label, self.addr = dut, label, addr
        self.mtu = 23
        self.key = None
        self.send_seq = 0
        self.recv_seq = 0
        self.frag = b""  # a message from the module being gathered
        self.inbox = []  # whole messages from the module: (type, data)
        self.frames = []  # every frame from the module: (type, fc, seq)
        dut.ctl("ble", "peer", "add", label, f"addr={addr}", "name=phone")

    # ---- the link ------------------------------------------------------------

    def connect(self, mtu=None):
        """Connects to the module's BluFi advertising, exchanges MTUs and
        turns notifications on, as the app does before anything else."""
        self.dut.ctl("ble", "peer", "connect", self.label)
        self.send_seq = self.recv_seq = 0
        self.key = None
        if mtu:
            self.dut.ctl("ble", "peer", "mtu", self.label, str(mtu))
            self.mtu = mtu
        else:
            self.mtu = 23
        self.dut.ctl("ble", "peer", "subscribe", self.label, str(H_CCCD), "notify")

    def disconnect(self):
        self.dut.ctl("ble", "peer", "disconnect", self.label)

    # ---- frames out ------------------------------------------------------------

    def send(self, kind, sub, data=b"", encrypt=False, checksum=False, ack=False):
        """One message, in fragments when it does not fit one ATT write."""
        room = self.mtu - 3 - 4 - (2 if checksum else 0)
        left = data
        while True:
            fc = (FC_CHECK if checksum else 0) | (FC_ACK if ack else 0)
            if len(left) > room:
                piece = len(left).to_bytes(2, "little") + left[:room - 2]
                left = left[room - 2:]
                fc |= FC_FRAG
            else:
                piece, left = left, b""
            self.write_frame(typ(kind, sub), fc, piece, encrypt)
            if not left:
                return

    def write_frame(self, t, fc, clear, encrypt=False, seq=None):
        seq = self.send_seq if seq is None else seq
        self.send_seq = (seq + 1) & 0xFF
        body = clear
        if encrypt:
            body = cfb(self.key, seq, clear, True)
            fc |= FC_ENC
        frame = bytes([t, fc, seq, len(clear)]) + body
        if fc & FC_CHECK:
            frame += crc16(bytes([seq, len(clear)]) + clear).to_bytes(2, "little")
        self.write_raw(frame)

    def write_raw(self, frame):
        self.dut.ctl("ble", "peer", "write", self.label, str(H_P2E), frame.hex())

    # ---- frames in -----------------------------------------------------------

    def poll(self):
        """Takes the notifications the module sent so far."""
        for n in self.dut.ctl("ble", "peer", "received", self.label)["received"]:
            assert n["op"] == "notify" and n["handle"] == H_E2P, n
            self.frame_in(bytes.fromhex(n["value"]))
        return self.inbox

    def frame_in(self, f):
        t, fc, seq, n = f[0], f[1], f[2], f[3]
        assert fc & FC_E2P, f"direction bit missing: {f.hex()}"
        assert seq == self.recv_seq, f"sequence {seq}, expected {self.recv_seq}"
        self.recv_seq = (seq + 1) & 0xFF
        assert len(f) == 4 + n + (2 if fc & FC_CHECK else 0), f.hex()
        data = f[4:4 + n]
        if fc & FC_ENC:
            data = cfb(self.key, seq, data, False)
        if fc & FC_CHECK:
            want = int.from_bytes(f[4 + n:], "little")
            assert crc16(bytes([seq, n]) + data) == want, f"checksum of {f.hex()}"
        self.frames.append((t, fc, seq))
        if fc & FC_FRAG:
            if not self.frag:
                self.total = int.from_bytes(data[:2], "little")
            self.frag += data[2:]
            return
        msg = self.frag + data
        if self.frag:
            assert len(msg) == self.total, (len(msg), self.total)
        self.frag = b""
        self.inbox.append((t, msg))

    def wait(self, kind, sub, timeout=10):
        """The next message of that type from the module (others stay)."""
        t = typ(kind, sub)

        def got():
            self.poll()
            return next((m for m in self.inbox if m[0] == t), None)
        m = wait_for(got, f"BluFi message {kind}/{sub:#x}", timeout)
        self.inbox.remove(m)
        return m[1]

    # ---- what the app does ---------------------------------------------------

    def negotiate(self):
        """DH as ESP-IDF's example security reads it: the parameters' length,
        then P, G and the phone's public key; the module answers its public
        key; both hash the shared secret with MD5 into the AES key. Then the
        security mode: data frames checksummed and encrypted."""
        x = secrets.randbelow(DH_P - 3) + 2
        mine = pow(DH_G, x, DH_P)
        plen = (DH_P.bit_length() + 7) // 8
        params = b""
        for v, ln in ((DH_P, plen), (DH_G, 1), (mine, plen)):
            params += ln.to_bytes(2, "big") + v.to_bytes(ln, "big")
        self.send(DATA, D_NEG, b"\x00" + len(params).to_bytes(2, "big"))
        self.send(DATA, D_NEG, b"\x01" + params)
        theirs = int.from_bytes(self.wait(DATA, D_NEG), "big")
        assert 1 < theirs < DH_P - 1
        k = pow(theirs, x, DH_P)
        self.key = hashlib.md5(k.to_bytes((k.bit_length() + 7) // 8, "big")).digest()
        self.send(CTRL, C_SEC_MODE, bytes([0x03]), checksum=True)

    def configure_sta(self, ssid, password):
        """Station mode, SSID and password (encrypted, checksummed), then
        the request to connect."""
        self.send(CTRL, C_OPMODE, b"\x01", checksum=True)
        self.send(DATA, D_STA_SSID, ssid, encrypt=True, checksum=True)
        self.send(DATA, D_STA_PASSWD, password, encrypt=True, checksum=True)
        self.send(CTRL, C_CONN_AP, checksum=True)

    def wifi_report(self, timeout=20):
        """The next Wi-Fi connection state report, decoded: opmode, station
        state, softAP stations and the extras by subtype."""
        r = self.wait(DATA, D_WIFI_REP, timeout)
        extras, i = {}, 3
        while i < len(r):
            extras[r[i]] = r[i + 2:i + 2 + r[i + 1]]
            i += 2 + r[i + 1]
        return r[0], r[1], r[2], extras

    def custom(self, data):
        self.send(DATA, D_CUSTOM, data, encrypt=True, checksum=True)
