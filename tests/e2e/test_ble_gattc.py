"""The GATT client over the real pty against a scripted peripheral that serves
the default table (`espat ctl ble peer add ... gatt=default`): the guide's
chapter-4 client lines [000:14259-14392, 14712-14868], and indications that
wait for their confirmation. Decided behaviour: docs/COMPAT.md #430-#439."""

OK = b"\r\nOK\r\n"
ERROR = b"\r\nERROR\r\n"
SRV = "24:0a:c4:d6:e4:46"

PRIM = (b"+BLEGATTCPRIMSRV:0,1,0x1801,1\r\n"
        b"+BLEGATTCPRIMSRV:0,2,0x1800,1\r\n"
        b"+BLEGATTCPRIMSRV:0,3,0xA002,1\r\n"
        b"+BLEGATTCPRIMSRV:0,4,0xA003,1\r\n" + OK)

CHARS = (b'+BLEGATTCCHAR:"char",0,3,1,0xC300,0x02\r\n'
         b'+BLEGATTCCHAR:"desc",0,3,1,1,0x2901\r\n'
         b'+BLEGATTCCHAR:"char",0,3,2,0xC301,0x02\r\n'
         b'+BLEGATTCCHAR:"desc",0,3,2,1,0x2901\r\n'
         b'+BLEGATTCCHAR:"char",0,3,3,0xC302,0x08\r\n'
         b'+BLEGATTCCHAR:"desc",0,3,3,1,0x2901\r\n'
         b'+BLEGATTCCHAR:"char",0,3,4,0xC303,0x04\r\n'
         b'+BLEGATTCCHAR:"desc",0,3,4,1,0x2901\r\n'
         b'+BLEGATTCCHAR:"char",0,3,5,0xC304,0x08\r\n'
         b'+BLEGATTCCHAR:"char",0,3,6,0xC305,0x10\r\n'
         b'+BLEGATTCCHAR:"desc",0,3,6,1,0x2902\r\n'
         b'+BLEGATTCCHAR:"char",0,3,7,0xC306,0x20\r\n'
         b'+BLEGATTCCHAR:"desc",0,3,7,1,0x2902\r\n'
         b'+BLEGATTCCHAR:"char",0,3,8,0xC307,0x02\r\n'
         b'+BLEGATTCCHAR:"desc",0,3,8,1,0x2901\r\n' + OK)


def connected(d, *peer_args):
    d.cmd("ATE0")
    d.ctl("ble", "peer", "add", "srv", f"addr={SRV}", "name=srv", "interval=50", *peer_args)
    assert d.cmd("AT+BLEINIT=1") == OK
    assert d.cmd(f'AT+BLECONN=0,"{SRV}"') == f'+BLECONN:0,"{SRV}"\r\n'.encode() + OK


def write(d, line, data):
    d.write(line + "\r\n")
    d.expect(b">")
    d.write(data)
    return d.answer()


def test_client_chapter4(make_dut):
    """Steps 6-11 of the two-module scenario with the scripted server: services,
    characteristics, a read, a write (which the peer stores), the CCCD writes,
    then the peer's notification and indication as +NOTIFY / +INDICATE."""
    d = make_dut()
    connected(d, "gatt=default")
    assert d.cmd("AT+BLEGATTCPRIMSRV=0") == PRIM
    assert d.cmd("AT+BLEGATTCCHAR=0,3") == CHARS
    assert d.cmd("AT+BLEGATTCRD=0,3,1") == b"+BLEGATTCRD:0,1,0\r\n" + OK
    assert d.cmd("AT+BLEGATTCRD=0,3,3") == ERROR  # C302 is not readable
    assert write(d, "AT+BLEGATTCWR=0,3,3,,1", b"9") == OK
    gatt = d.ctl("ble", "peers")["peers"][0]["gatt"]
    assert gatt["written_bytes"] == 1
    assert write(d, "AT+BLEGATTCWR=0,3,1,,1", b"9") == ERROR  # C300 is not writable
    # the GAP Device Name (service 2), found by a quiet discovery
    assert d.cmd("AT+BLEGATTCRD=0,2,1") == b"+BLEGATTCRD:0,3,srv\r\n" + OK
    # notifications are refused until the module subscribes
    d.ctl("ble", "peer", "notify", "srv", "26", "31", expect_ok=False)
    assert write(d, "AT+BLEGATTCWR=0,3,6,1,2", b"\x01\x00") == OK
    assert write(d, "AT+BLEGATTCWR=0,3,7,1,2", b"\x02\x00") == OK
    d.ctl("ble", "peer", "notify", "srv", "26", b"1234567890".hex())
    d.expect(b"+NOTIFY:0,3,6,10,1234567890\r\n")
    # the module confirms each indication, so the next one may come
    d.ctl("ble", "peer", "indicate", "srv", "29", b"abc".hex())
    d.expect(b"+INDICATE:0,3,7,3,abc\r\n")
    d.ctl("ble", "peer", "indicate", "srv", "29", b"de".hex())
    d.expect(b"+INDICATE:0,3,7,2,de\r\n")
    # a dropped link ends the discovery cache
    d.ctl("ble", "peer", "disconnect", "srv")
    d.expect(f'+BLEDISCONN:0,"{SRV}"\r\n'.encode())
    assert d.cmd("AT+BLEGATTCRD=0,3,1") == ERROR


def test_client_custom_table_and_mtu(make_dut):
    """A peer's own table in gatts_data.csv rows (the guide's customization
    example [000:21105-21109]); after AT+BLECFGMTU a long value comes in
    fewer Read Blob rounds but the same bytes."""
    d = make_dut()
    rows = ("0,16,0x2800,0x01,2,2,FF01;1,16,0x2803,0x01,1,1,0A;"
            "2,16,0xC300,0x11,64,64," + "41" * 64 + ";3,16,0x2902,0x11,2,2,0000")
    d.ctl("ble", "peer", "add", "bad", "addr=24:0a:c4:00:00:01", "gatt=0,16,0x2800",
          expect_ok=False)
    connected(d, f"gatt={rows}")
    assert d.cmd("AT+BLEGATTCPRIMSRV=0") == (b"+BLEGATTCPRIMSRV:0,1,0x1801,1\r\n"
                                               b"+BLEGATTCPRIMSRV:0,2,0x1800,1\r\n"
                                               b"+BLEGATTCPRIMSRV:0,3,0xFF01,1\r\n" + OK)
    assert d.cmd("AT+BLEGATTCCHAR=0,3") == (b'+BLEGATTCCHAR:"char",0,3,1,0xC300,0x0A\r\n'
                                            b'+BLEGATTCCHAR:"desc",0,3,1,1,0x2902\r\n' + OK)
    assert d.cmd("AT+BLEGATTCRD=0,3,1") == b"+BLEGATTCRD:0,64," + b"A" * 64 + b"\r\n" + OK
    # at most ATT_MTU - 3 = 20 bytes on a 23-byte link: refused before the prompt
    assert d.cmd("AT+BLEGATTCWR=0,3,1,,21") == ERROR
    assert write(d, "AT+BLEGATTCWR=0,3,1,,20", b"x" * 20) == OK
    assert d.cmd("AT+BLECFGMTU=0,100") == OK
    d.expect(b"+BLECFGMTU:0,100\r\n")
    assert write(d, "AT+BLEGATTCWR=0,3,1,,64", b"y" * 64) == OK
    assert d.cmd("AT+BLEGATTCRD=0,3,1") == b"+BLEGATTCRD:0,64," + b"y" * 64 + b"\r\n" + OK


def test_client_included_service(make_dut):
    """AT+BLEGATTCINCLSRV on a peer whose primary service 0xFF01 includes the
    secondary service 0xFF02 (an Include declaration, Vol 3 Part G 3.2)."""
    d = make_dut()
    rows = ("0,16,0x2800,0x01,2,2,FF01;1,16,0x2802,0x01,6,6,0C000E0002FF;"
            "2,16,0x2801,0x01,2,2,FF02;3,16,0x2803,0x01,1,1,02;4,16,0xC300,0x01,1,1,30")
    connected(d, f"gatt={rows}")
    assert d.cmd("AT+BLEGATTCPRIMSRV=0").endswith(b"+BLEGATTCPRIMSRV:0,3,0xFF01,1\r\n" + OK)
    assert d.cmd("AT+BLEGATTCINCLSRV=0,3") == b"+BLEGATTCINCLSRV:0,3,0xFF01,1,0xFF02,0\r\n" + OK
    assert d.cmd("AT+BLEGATTCINCLSRV=0,1") == OK  # the GATT service includes nothing
    assert d.cmd("AT+BLEGATTCINCLSRV=0,4") == ERROR  # no such service


def test_server_indication_waits_for_confirmation(make_dut):
    """The module's server keeps one indication outstanding (ATT): with a peer
    that never confirms, the next AT+BLEGATTSIND is ERROR (COMPAT #430) while
    notifications still go; a confirming peer takes one after another."""
    for confirm, second in (("0", ERROR), ("1", OK)):
        d = make_dut()
        d.cmd("ATE0")
        d.ctl("ble", "peer", "add", "phone", "addr=7c:df:a1:b3:8d:de", f"confirm={confirm}")
        for line in ("AT+BLEINIT=2", "AT+BLEGATTSSRVCRE", "AT+BLEGATTSSRVSTART",
                     "AT+BLEADVSTART"):
            assert d.cmd(line) == OK, line
        d.ctl("ble", "peer", "connect", "phone")
        d.expect(b'+BLECONN:0,"7c:df:a1:b3:8d:de"\r\n')
        d.ctl("ble", "peer", "subscribe", "phone", "30", "indicate")
        d.expect(b"+WRITE:0,1,7,1,2,\x02\x00\r\n")
        d.ctl("ble", "peer", "subscribe", "phone", "27", "notify")
        d.expect(b"+WRITE:0,1,6,1,2,\x01\x00\r\n")
        assert write(d, "AT+BLEGATTSIND=0,1,7,2", b"hi") == OK
        if second == ERROR:
            assert d.cmd("AT+BLEGATTSIND=0,1,7,2") == ERROR
        else:
            assert write(d, "AT+BLEGATTSIND=0,1,7,2", b"ho") == OK
        assert write(d, "AT+BLEGATTSNTFY=0,1,6,2", b"no") == OK
        got = d.ctl("ble", "peer", "received", "phone")["received"]
        ops = [g["op"] for g in got]
        assert ops == (["indicate", "notify"] if second == ERROR
                       else ["indicate", "indicate", "notify"]), got
        d.stop()
