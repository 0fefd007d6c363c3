"""The rest of BLE GAP over the real pty (docs/internals/ble.md): the
advertising data AT+BLEADVDATAEX builds as a scanning phone receives it
(`espat ctl ble air`), the BLE settings AT+SYSSTORE governs across a power
cut, AT+CIPMODE=1 refused while BLE is on, peers from a world file and
periodic advertising. Decided behaviour: docs/COMPAT.md #450-#459."""
OK = b"\r\nOK\r\n"
ERROR = b"\r\nERROR\r\n"


def test_advdataex_on_the_air(make_dut):
    """The guide's example [000:7110] goes on the air as flags, name,
    manufacturer data, TX power and the 16-bit UUID; AT+BLEADVDATA then
    overwrites it, at once."""
    d = make_dut()
    d.cmd("ATE0")
    assert d.cmd("AT+BLEINIT=2") == OK
    assert d.cmd('AT+BLEADVDATAEX="ESP-AT","A002","0102030405",1') == OK
    assert d.ctl("ble", "air")["advertising"] is None  # set, not started
    assert d.cmd("AT+BLEADVSTART") == OK
    adv = d.ctl("ble", "air")["advertising"]
    assert adv["adv"] == "020106" "07094553502d4154" "06ff0102030405" "020a09" "030302a0"
    assert adv["adv_type"] == 0
    assert d.cmd("AT+BLEADVDATAEX?") == b'+BLEADVDATAEX:"ESP-AT","A002","0102030405",1\r\n' + OK
    assert d.cmd('AT+BLEADVDATA="0201060a09457370726573736966"') == OK
    assert d.ctl("ble", "air")["advertising"]["adv"] == "0201060a09457370726573736966"
    assert d.cmd("AT+BLEADVDATAEX?") == ERROR


def test_settings_across_power_cut(make_dut):
    """AT+SYSSTORE=1: the BLE settings survive a power cut (kill -9);
    AT+SYSSTORE=0: they do not, but AT+BLEADDR does."""
    d = make_dut()
    d.cmd("ATE0")
    assert d.cmd("AT+BLEINIT=2") == OK
    assert d.cmd('AT+BLENAME="kept"') == OK
    assert d.cmd('AT+BLEADVDATAEX="kept","180F","",1') == OK
    assert d.cmd("AT+BLESCANPARAM=0,0,0,100,50") == OK
    assert d.cmd("AT+SYSSTORE=0") == OK
    assert d.cmd('AT+BLENAME="lost"') == OK
    assert d.cmd('AT+BLEADVDATA="0201"') == OK
    assert d.cmd("AT+BLESCANPARAM=1,0,0,300,30") == OK
    assert d.cmd('AT+BLEADDR=1,"c1:22:33:44:55:66"') == OK
    d.restart()
    d.cmd("ATE0")
    assert d.cmd("AT+SYSSTORE?") == b"+SYSSTORE:1\r\n" + OK  # not saved: factory mode again
    assert d.cmd("AT+BLEINIT=2") == OK
    assert d.cmd("AT+BLENAME?") == b"+BLENAME:kept\r\n" + OK
    assert d.cmd("AT+BLESCANPARAM?") == b"+BLESCANPARAM:0,0,0,100,50\r\n" + OK
    assert d.cmd("AT+BLEADVDATAEX?") == b'+BLEADVDATAEX:"kept","180F","",1\r\n' + OK
    assert d.cmd("AT+BLEADVPARAM=32,64,0,1,7") == OK  # the random address was saved
    assert d.cmd("AT+BLEADVSTART") == OK
    adv = d.ctl("ble", "air")["advertising"]
    assert adv["addr"] == "c1:22:33:44:55:66"
    assert adv["adv"] == "020106" "05096b657074" "020a09" "03030f18"


def test_cipmode_refused_while_ble_on(make_dut):
    d = make_dut()
    d.cmd("ATE0")
    assert d.cmd("AT+BLEINIT=2") == OK
    assert d.cmd("AT+CIPMODE=1") == ERROR
    assert d.cmd("AT+CIPMODE?") == b"+CIPMODE:0\r\n" + OK
    assert d.cmd("AT+BLEINIT=0") == OK
    assert d.cmd("AT+CIPMODE=1") == OK
