"""Bluetooth LE pairing and bonding (guide 3.4.33-3.4.40) between the
module and a scripted phone (`espat ctl ble peer security|pair|passkey|
confirm`), both running a real Security Manager: the guide's 4.3.7 (the
module asks, the phone shows a passkey, the module types it), passkey
entry the other way, numeric comparison, Just Works, a wrong passkey, a
refused request, bonds listed, kept across a power cut, cleared one by one
and all. Decided behaviour: docs/COMPAT.md #470-#479."""
import re

from conftest import wait_for

OK = b"\r\nOK\r\n"
ERROR = b"\r\nERROR\r\n"
PHONE = "60:51:42:fe:98:aa"


def peer(d):
    return d.ctl("ble", "peers")["peers"][0]["pairing"]


def connected_phone(d, *security):
    """The module advertising as a server, a phone with the given SMP
    features connected to it as conn_index 0."""
    d.cmd("ATE0")
    assert d.cmd("AT+BLEINIT=2") == OK
    assert d.cmd("AT+BLEADVSTART") == OK
    d.ctl("ble", "peer", "add", "phone", f"addr={PHONE}", "name=phone", "interval=20")
    if security:
        d.ctl("ble", "peer", "security", "phone", *security)
    assert d.ctl("ble", "peer", "connect", "phone")["conn_index"] == 0
    d.expect(f'+BLECONN:0,"{PHONE}"\r\n'.encode())


def test_guide_437_module_types_the_phones_key(make_dut):
    """4.3.7: AT+BLESECPARAM=13,2,16,3,3 (KeyboardOnly), AT+BLEENC=0,3; the
    phone (KeyboardDisplay) answers the Security Request with its Pairing
    Request and shows a passkey; the module asks for it (+BLESECKEYREQ),
    AT+BLEKEYREPLY, then the keys and +BLEAUTHCMPL:0,0 on the module, and
    the phone is bonded."""
    d = make_dut()
    connected_phone(d)
    assert d.cmd("AT+BLESECPARAM=13,2,16,3,3") == OK
    assert d.cmd("AT+BLESECPARAM?") == b"+BLESECPARAM:13,2,16,3,3,0\r\n" + OK
    assert d.cmd("AT+BLEENC=0,3") == OK
    d.expect(b"+BLESECKEYREQ:0\r\n")
    # the phone shows its key once the module's public key reached it
    key = wait_for(lambda: peer(d)["shown"], "the phone's passkey")
    assert 0 <= key <= 999999
    assert d.cmd(f"AT+BLEKEYREPLY=0,{key}") == OK
    d.expect(b"+BLESECKEYTYPE:0,16\r\n+BLESECKEYTYPE:0,1\r\n+BLESECKEYTYPE:0,32\r\n"
             b"+BLESECKEYTYPE:0,2\r\n+BLEAUTHCMPL:0,0\r\n")
    wait_for(lambda: peer(d)["result"] == 0, "the phone's pairing to end")
    assert peer(d)["keys"] == [2, 16, 1, 32]
    assert d.cmd("AT+BLEENCDEV?") == f'+BLEENCDEV:0,"{PHONE}"\r\n'.encode() + OK
    # the bond is in flash: a power cut keeps it
    d.ctl("power-cut")
    d.cmd("ATE0")
    assert d.cmd("AT+BLEINIT=2") == OK
    assert d.cmd("AT+BLEENCDEV?") == f'+BLEENCDEV:0,"{PHONE}"\r\n'.encode() + OK
    assert d.cmd("AT+BLEENCCLEAR=1") == ERROR  # no such bond
    assert d.cmd("AT+BLEENCCLEAR=0") == OK
    assert d.cmd("AT+BLEENCDEV?") == OK


def test_phone_asks_module_shows_and_wrong_key(make_dut):
    """The phone (KeyboardOnly) starts: +BLESECREQ on the module, which
    accepts with AT+BLEENCRSP and, as DisplayOnly responder, shows the key
    (+BLESECNTFYKEY); the phone types it. Then a second pairing where the
    phone types a wrong key: Confirm Value Failed, +BLEAUTHCMPL:0,1."""
    d = make_dut()
    connected_phone(d, "io=2", "auth=13")
    assert d.cmd("AT+BLESECPARAM=13,0,16,3,3") == OK
    d.ctl("ble", "peer", "pair", "phone")
    d.expect(b"+BLESECREQ:0\r\n")
    assert d.cmd("AT+BLEENCRSP=0,1") == OK
    m = d.expect_re(rb"\+BLESECNTFYKEY:0,(\d{6})\r\n")
    key = int(m.group(1))
    wait_for(lambda: peer(d)["waiting"] == "passkey", "the phone to ask for the key")
    d.ctl("ble", "peer", "passkey", "phone", str(key))
    d.expect_re(rb"(\+BLESECKEYTYPE:0,\d+\r\n)+\+BLEAUTHCMPL:0,0\r\n")
    wait_for(lambda: peer(d)["result"] == 0, "the phone's pairing to end")

    d.ctl("ble", "peer", "pair", "phone")
    d.expect(b"+BLESECREQ:0\r\n")
    assert d.cmd("AT+BLEENCRSP=0,1") == OK
    m = d.expect_re(rb"\+BLESECNTFYKEY:0,(\d{6})\r\n")
    wrong = (int(m.group(1)) + 1) % 1000000
    wait_for(lambda: peer(d)["waiting"] == "passkey", "the phone to ask for the key")
    d.ctl("ble", "peer", "passkey", "phone", str(wrong))
    d.expect(b"+BLEAUTHCMPL:0,1\r\n")
    wait_for(lambda: peer(d)["result"] == 4, "Confirm Value Failed on the phone")
    # the refused request: the phone hears Pairing Not Supported
    d.ctl("ble", "peer", "pair", "phone")
    d.expect(b"+BLESECREQ:0\r\n")
    assert d.cmd("AT+BLEENCRSP=0,0") == OK
    d.expect(b"+BLEAUTHCMPL:0,1\r\n")
    wait_for(lambda: peer(d)["result"] == 5, "Pairing Not Supported on the phone")
    assert d.cmd("AT+BLEENCRSP=0,1") == ERROR  # nothing asked now


def test_numeric_comparison_and_just_works(make_dut):
    """DisplayYesNo on both sides with Secure Connections: both show the same
    six digits; the module confirms with AT+BLECONFREPLY. Then Just Works
    (NoInputNoOutput, no MITM): no questions, +BLEAUTHCMPL:0,0."""
    d = make_dut()
    connected_phone(d, "io=1", "auth=13")
    assert d.cmd("AT+BLESECPARAM=13,1,16,3,3") == OK
    assert d.cmd("AT+BLEENC=0,3") == OK
    m = d.expect_re(rb"\+BLESECNTFYKEY:0,(\d{6})\r\n")
    wait_for(lambda: peer(d)["waiting"] == "confirm", "the phone's comparison")
    assert peer(d)["compare"] == int(m.group(1))
    d.ctl("ble", "peer", "confirm", "phone", "1")
    assert d.cmd("AT+BLECONFREPLY=0,1") == OK
    d.expect_re(rb"(\+BLESECKEYTYPE:0,\d+\r\n)+\+BLEAUTHCMPL:0,0\r\n")
    assert d.cmd("AT+BLECONFREPLY=0,1") == ERROR  # nothing asked now

    d.ctl("ble", "peer", "security", "phone", "io=3", "auth=1")
    assert d.cmd("AT+BLESECPARAM=1,3,16,3,3") == OK
    assert d.cmd("AT+BLEENC=0,1") == OK
    got = d.expect_re(rb"(\+BLESECKEYTYPE:0,\d+\r\n)*\+BLEAUTHCMPL:0,0\r\n").group(0)
    assert b"BLESECKEYREQ" not in got and b"NTFYKEY" not in got


def test_secparam_and_setkey(make_dut):
    """The parameters' ranges and defaults, the static key (-1 until set),
    and the commands that need a link or a question pending."""
    d = make_dut()
    d.cmd("ATE0")
    assert d.cmd("AT+BLESECPARAM?") == ERROR  # BLE not initialized
    assert d.cmd("AT+BLEINIT=1") == OK
    assert d.cmd("AT+BLESECPARAM?") == b"+BLESECPARAM:13,3,16,3,3,0\r\n" + OK
    for bad in ("2,0,16,3,3", "13,5,16,3,3", "13,0,6,3,3", "13,0,17,3,3", "13,0,16,16,3",
                "13,0,16,3,3,2", "13,0,16,3"):
        assert d.cmd(f"AT+BLESECPARAM={bad}") == ERROR, bad
    assert d.cmd("AT+BLESECPARAM=1,4,16,3,3,1") == OK
    assert d.cmd("AT+BLESECPARAM?") == b"+BLESECPARAM:1,4,16,3,3,1\r\n" + OK
    assert d.cmd("AT+BLESETKEY?") == b"+BLESETKEY:-1\r\n" + OK
    assert d.cmd("AT+BLESETKEY=1000000") == ERROR
    assert d.cmd("AT+BLESETKEY=123456") == OK
    assert d.cmd("AT+BLESETKEY?") == b"+BLESETKEY:123456\r\n" + OK
    assert d.cmd("AT+BLEENC=0,3") == ERROR  # no link
    assert d.cmd("AT+BLEKEYREPLY=0,123456") == ERROR
    assert d.cmd("AT+BLEENCCLEAR") == OK
    assert d.cmd("AT+BLEENCDEV?") == OK


def test_static_key_is_the_displayed_one(make_dut):
    """AT+BLESETKEY: the module, displaying, shows the static key; a phone
    that types it pairs."""
    d = make_dut()
    connected_phone(d, "io=2", "auth=13")
    assert d.cmd("AT+BLESECPARAM=13,0,16,3,3") == OK
    assert d.cmd("AT+BLESETKEY=123456") == OK
    assert d.cmd("AT+BLEENC=0,3") == OK
    d.expect(b"+BLESECNTFYKEY:0,123456\r\n")
    wait_for(lambda: peer(d)["waiting"] == "passkey", "the phone to ask for the key")
    d.ctl("ble", "peer", "passkey", "phone", "123456")
    d.expect_re(rb"(\+BLESECKEYTYPE:0,\d+\r\n)+\+BLEAUTHCMPL:0,0\r\n")


def test_bond_used_again_and_forgotten_bonds(make_dut):
    """A bond (Just Works, legacy, both bonding) is used when the phone comes
    back: the module's AT+BLEENC asks for security and the phone encrypts
    with the bond's key, no pairing, +BLEAUTHCMPL:0,0 alone. When the module
    forgot the bond, the phone's key is refused (+BLEAUTHCMPL:0,1) and the
    phone pairs again, as phones do; when the phone forgot it, it pairs
    again at once and the module's bond is replaced (COMPAT #475)."""
    d = make_dut()
    connected_phone(d, "io=3", "auth=1")
    assert d.cmd("AT+BLESECPARAM=1,3,16,3,3") == OK
    keys = rb"(\+BLESECKEYTYPE:0,\d+\r\n)+\+BLEAUTHCMPL:0,0\r\n"

    def enc(want):
        assert d.cmd("AT+BLEENC=0,1") == OK
        return d.expect_re(want).group(0)

    def reconnect():
        d.ctl("ble", "peer", "disconnect", "phone")
        d.expect(f'+BLEDISCONN:0,"{PHONE}"\r\n'.encode())
        assert d.cmd("AT+BLEADVSTART") == OK
        d.ctl("ble", "peer", "connect", "phone")
        d.expect(f'+BLECONN:0,"{PHONE}"\r\n'.encode())

    enc(keys)
    wait_for(lambda: peer(d)["bonded"], "the phone's bond")
    assert d.cmd("AT+BLEENCDEV?") == f'+BLEENCDEV:0,"{PHONE}"\r\n'.encode() + OK
    reconnect()
    assert enc(rb"\+BLEAUTHCMPL:0,0\r\n") == b"+BLEAUTHCMPL:0,0\r\n"  # the bond's key
    wait_for(lambda: peer(d)["encrypted"] == 0, "the phone's encryption")
    # the module forgets: refused, then the phone pairs again
    assert d.cmd("AT+BLEENCCLEAR") == OK
    reconnect()
    assert enc(rb"\+BLEAUTHCMPL:0,1\r\n") == b"+BLEAUTHCMPL:0,1\r\n"
    d.expect_re(keys)
    assert d.cmd("AT+BLEENCDEV?") == f'+BLEENCDEV:0,"{PHONE}"\r\n'.encode() + OK
    # the phone forgets: it pairs at once; one bond, replaced
    d.ctl("ble", "peer", "forget", "phone")
    reconnect()
    enc(keys)
    assert d.cmd("AT+BLEENCDEV?") == f'+BLEENCDEV:0,"{PHONE}"\r\n'.encode() + OK
