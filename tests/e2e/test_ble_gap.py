"""The rest of BLE GAP over the real pty (docs/internals/ble.md): the
advertising data AT+BLEADVDATAEX builds as a scanning phone receives it
(`espat ctl ble air`), the BLE settings AT+SYSSTORE governs across a power
cut, AT+CIPMODE=1 refused while BLE is on, peers from a world file and
periodic advertising. Decided behaviour: docs/COMPAT.md #450-#459."""
import subprocess

from conftest import DEADLINE, ESPAT

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


BLE_WORLD = "tests/worlds/ble.ini"


def test_world_file_peers_scanned(make_dut):
    """The [ble LABEL] sections of a world file are scripted peers from the
    start: AT+BLESCAN hears them with their data, interval and RSSI (the
    phone's from its distance)."""
    d = make_dut(world=BLE_WORLD)
    d.cmd("ATE0")
    peers = {p["label"]: p for p in d.ctl("ble", "peers")["peers"]}
    assert sorted(peers) == ["beacon", "phone", "tag"]
    assert peers["phone"]["rssi"] == -60 and peers["tag"]["rssi"] == -71
    assert d.cmd("AT+BLEINIT=1") == OK
    assert d.cmd("AT+BLESCANPARAM=1,0,0,160,160") == OK  # active, always listening
    beacon = b'+BLESCAN:"24:0a:c4:09:34:23",-51,,,0\r\n'  # extended, no data: the train has it
    assert d.cmd("AT+BLESCAN=1,1") == OK
    out = d.expect_re(rb"(.*?)\+BLESCANDONE\r\n").group(0)
    out = out.replace(beacon, b"")
    phone = b'+BLESCAN:"24:0a:c4:d6:e4:46",-60,02010606095069786' b"56c,,0\r\n"
    tag = b'+BLESCAN:"c1:22:33:44:55:66",-71,0201060302a0,0409746167,1\r\n'
    assert out.count(phone) in (10, 11), out  # every 100 ms for a second
    assert out.count(tag) in (4, 5), out  # every 250 ms
    assert out.replace(phone, b"").replace(tag, b"") == b"+BLESCANDONE\r\n", out
    # the name filter finds the phone by the name its world entry gave it
    assert d.cmd('AT+BLESCAN=1,1,2,"Pixel"') == OK
    out = d.expect_re(rb"(.*?)\+BLESCANDONE\r\n").group(0)
    assert out.replace(phone, b"") == b"+BLESCANDONE\r\n" and phone in out


def test_world_file_ble_errors(tmp_path):
    """A bad [ble ...] section stops espat at start, naming the line."""
    bad = tmp_path / "bad.ini"
    bad.write_text("[ble x]\naddr = 24:0a:c4:d6:e4:46\ndist = 0\n")
    r = subprocess.run([ESPAT, "--data-dir", str(tmp_path / "d"), "--world", str(bad)],
                       capture_output=True, text=True, timeout=DEADLINE)
    assert r.returncode == 2 and r.stdout == ""
    assert r.stderr.startswith(f"espat: {bad}:3: "), r.stderr
    assert "dist" in r.stderr and r.stderr.count("\n") == 1


def test_periodic_advertising_and_sync(make_dut):
    """The guide's sequence [000:8989-8993] puts a periodic train on the air
    (`espat ctl ble air`); a module scanning syncs to the world's periodic
    advertiser and prints +BLESYNC for its events until AT+BLESYNCSTOP."""
    d = make_dut(world=BLE_WORLD)
    d.cmd("ATE0")
    assert d.cmd("AT+BLEINIT=2") == OK
    assert d.cmd('AT+BLEPERIODICDATA="1122334455"') == OK
    assert d.cmd("AT+BLEADVPARAM=32,32,5,0,7,0") == OK
    assert d.cmd("AT+BLEADVSTART") == OK
    assert d.ctl("ble", "air")["advertising"]["periodic"] is None
    assert d.cmd("AT+BLEPERIODICSTART") == OK
    per = d.ctl("ble", "air")["advertising"]["periodic"]
    assert per["data"] == "1122334455" and per["interval_ms"] == 80
    assert d.cmd("AT+BLEPERIODICSTOP") == OK
    assert d.ctl("ble", "air")["advertising"]["periodic"] is None

    s = make_dut(world=BLE_WORLD)
    s.cmd("ATE0")
    assert s.cmd("AT+BLEINIT=1") == OK
    assert s.cmd('AT+BLESYNCSTART="24:0a:c4:09:34:23"') == ERROR  # no scan yet
    assert s.cmd('AT+BLESCAN=1,0,1,"00:00:00:00:00:01"') == OK  # a scan that hears nobody
    assert s.cmd('AT+BLESYNCSTART="24:0a:c4:09:34:23"') == OK
    line = b'+BLESYNC:"24:0a:c4:09:34:23",-51,1122334455\r\n'
    got = s.expect_re(rb"((?:\+BLESYNC:[^\r]*\r\n){5})").group(1)
    assert got == line * 5, got
    out = s.cmd("AT+BLESYNCSTOP")  # events of the train may come before the OK
    assert out.endswith(OK) and out[:-len(OK)].replace(line, b"") == b"", out
    s.quiet(0.3)  # three train events' time: the sync is over
    assert s.cmd("AT+BLESCAN=0") == OK
