"""The driver, user and signaling commands (guide 3.9, 3.11, 3.12) over the
real pty, with the simulated devices of tests/worlds/periph.ini and the
control socket: devices attached and read back through `espat ctl`, the
PWM channels and fades and the PLCP preamble in `ctl state`, the host wake
as a GPIO level (`ctl gpio`) and as a byte on the AT port before a real
report, AT+USEROTA against a local HTTP and HTTPS server, and the guide's
chapter-3 examples of these sections (conformance corpus)."""
import http.server
import os
import ssl
import subprocess
import threading

import pytest

from conftest import ESPAT, READY, prompt, wait_for
from pki import make_ca, make_leaf
from test_conformance import _lines, run_entries, section_blocks

WORLD = "tests/worlds/periph.ini"
OK = b"\r\nOK\r\n"
JOINED = b"WIFI CONNECTED\r\nWIFI GOT IP\r\n"
# an app image: the magic, then at 32 an app descriptor naming v3.6.0.0
IMAGE = (b"\xe9" + bytes(31) + bytes.fromhex("3254cdab") + bytes(12)
         + b"v3.6.0.0".ljust(32, b"\0") + bytes(range(256)) * 400)


class FirmwareServer:
    """Serves IMAGE at /fw/... over HTTP and HTTPS on 127.0.0.1."""

    def __init__(self, tls_dir):
        self.seen = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                outer.seen.append(self.path)
                body, status = (IMAGE, 200) if self.path.startswith("/fw/") else (b"no", 404)
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        # a CA the module does not know: AT+USEROTA checks nothing
        leaf = make_leaf(tls_dir, make_ca(tls_dir, "fw-ca"), "fw", "fw.test",
                         sans=["127.0.0.1"])
        self.tls = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(leaf.cert, leaf.key)
        self.tls.socket = ctx.wrap_socket(self.tls.socket, server_side=True)
        for srv in (self.httpd, self.tls):
            threading.Thread(target=srv.serve_forever, daemon=True).start()

    def url(self, tls=False, length=None):
        """A URL of the image, padded in its path to length bytes."""
        port = (self.tls if tls else self.httpd).server_address[1]
        base = f"{'https' if tls else 'http'}://127.0.0.1:{port}/fw/"
        name = "esp-at.bin"
        if length is not None:
            name = "x" * (length - len(base) - len(name)) + name
        return base + name

    def close(self):
        for srv in (self.httpd, self.tls):
            srv.shutdown()
            srv.server_close()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    s = FirmwareServer(str(tmp_path_factory.mktemp("fw")))
    yield s
    s.close()


@pytest.fixture
def dut(make_dut):
    d = make_dut(world=WORLD)
    assert d.cmd("ATE0") == b"ATE0\r\n" + OK
    return d


def periph(d):
    return d.ctl("state")["state"]["periph"]


def join(d):
    assert d.cmd('AT+CWJAP="espat","espatpass"') == JOINED + OK


# ---- I2C and SPI devices through ctl --------------------------------------------------

def test_i2c_devices_through_ctl(dut):
    assert dut.cmd("AT+DRVI2CINIT=0,4,5,400000") == OK
    # nobody at 0x60 yet: a NACK is ERROR, and the next command works
    assert dut.cmd("AT+DRVI2CRD=0,0x60,1") == b"\r\nERROR\r\n"
    dev = dut.ctl("i2c", "add", "temp", "addr=0x60", "type=sensor", "data=00aa55")["device"]
    assert dev == {"label": "temp", "addr": 0x60, "ten_bit": False, "type": "sensor",
                   "size": 256, "ptr": 0, "writes": 0, "reads": 0}
    assert dut.cmd("AT+DRVI2CWRBYTES=0,0x60,1,1") == OK
    assert dut.cmd("AT+DRVI2CRD=0,0x60,2") == b"+DRVI2CRD:aa55\r\n" + OK
    # the sensor's reading changes under the module
    dut.ctl("i2c", "write", "temp", "1", "0102")
    assert dut.cmd("AT+DRVI2CWRBYTES=0,0x60,1,1") == OK
    assert dut.cmd("AT+DRVI2CRD=0,0x60,2") == b"+DRVI2CRD:0102\r\n" + OK
    # what the module writes, ctl reads back
    prompt(dut, "AT+DRVI2CWRDATA=0,0x50,7")
    dut.write(b"\x00\x10hello")
    assert dut.answer() == OK
    assert dut.ctl("i2c", "read", "eeprom", "16", "5")["data"] == b"hello".hex()
    dut.ctl("i2c", "rm", "temp")
    assert dut.cmd("AT+DRVI2CRD=0,0x60,1") == b"\r\nERROR\r\n"
    # ctl refuses what the bus would not take, and changes nothing
    dut.ctl("i2c", "add", "dup", "addr=0x50", expect_ok=False)
    dut.ctl("i2c", "add", "bad", "addr=0x400", expect_ok=False)
    assert [d["label"] for d in periph(dut)["i2c"]["devices"]] == ["eeprom", "sensor", "far"]
    st = periph(dut)["i2c"]
    assert (st["open"], st["clock"], st["scl"], st["sda"]) == (True, 400000, 4, 5)


def test_spi_and_adc_through_ctl(dut):
    assert dut.cmd("AT+DRVSPICONFGPIO=7,2,6,10") == OK
    assert dut.cmd("AT+DRVSPIINIT=1000000,0,8,24,1") == OK
    assert dut.cmd("AT+DRVSPIRD=4,0x03,1,0x000002,3") == b"+DRVSPIRD:456789ab\r\n" + OK
    prompt(dut, "AT+DRVSPIWR=3,0x02,1,0x000100,3")
    dut.write(b"abc")
    assert dut.answer() == OK
    assert dut.ctl("spi", "read", "256", "3")["data"] == b"abc".hex()
    dut.ctl("spi", "rm")
    assert dut.cmd("AT+DRVSPIRD=2,0x03,1,0x000100,3") == b"+DRVSPIRD:ffff\r\n" + OK
    assert periph(dut)["spi"]["device"] is None
    # ADC1: 1250 mV at 11 dB (0..2500 mV) is half scale
    assert dut.cmd("AT+DRVADC=1,3") == b"+DRVADC:2048\r\n" + OK
    dut.ctl("adc", "1", "2500")
    assert dut.cmd("AT+DRVADC=1,3") == b"+DRVADC:4095\r\n" + OK
    dut.ctl("adc", "1", "3301", expect_ok=False)
    assert periph(dut)["adc_mv"] == [375, 2500, 0, 3300, 0]


# ---- PWM, PLCP ------------------------------------------------------------------------

def test_pwm_state_and_fade(dut):
    assert dut.cmd("AT+SYSLOG=1") == OK
    # the LEDC limit users meet as a bare ERROR: here with its code
    assert dut.cmd("AT+DRVPWMINIT=10000,14,17") == b"ERR CODE:0x01070000\r\n\r\nERROR\r\n"
    assert dut.cmd("AT+DRVPWMINIT=5000,13,17,16") == OK
    assert dut.cmd("AT+DRVPWMDUTY=4096,100") == OK
    pwm = periph(dut)["pwm"]
    assert (pwm["on"], pwm["freq"], pwm["res"]) == (True, 5000, 13)
    assert [(c["gpio"], c["duty"], c["fading"]) for c in pwm["channels"]] == \
        [(17, 4096, False), (16, 100, False)]
    assert dut.cmd("AT+DRVPWMFADE=0,300") == OK
    ch = periph(dut)["pwm"]["channels"][0]
    assert ch["fading"] and ch["target"] == 0 and 0 < ch["fade_left_ms"] <= 300
    wait_for(lambda: periph(dut)["pwm"]["channels"][0]["duty"] == 0, "the fade's end")
    assert periph(dut)["pwm"]["channels"][0]["fading"] is False


def test_plcp_in_state(dut):
    assert dut.ctl("state")["state"]["plcp"] == {"manual": False, "preamble": "short"}
    assert dut.cmd("AT+FACTPLCP=1,1") == OK
    assert dut.ctl("state")["state"]["plcp"] == {"manual": True, "preamble": "long"}
    assert dut.cmd("AT+FACTPLCP=0,1") == OK
    assert dut.ctl("state")["state"]["plcp"] == {"manual": False, "preamble": "short"}


# ---- waking the host ---------------------------------------------------------------------

def test_wake_gpio_before_a_report(dut):
    join(dut)
    assert dut.cmd("AT+USERWKMCUCFG=1,1,18,1,60000,1") == OK
    assert dut.ctl("gpio", "18")["gpio"] == {"pin": 18, "level": 0, "edges": 0}
    assert dut.cmd("AT+USERMCUSLEEP=1") == OK
    # a real report: the AP goes away; the pin rises, the report waits
    dut.ctl("ap", "down", "espat")
    wait_for(lambda: dut.ctl("gpio", "18")["gpio"]["level"] == 1, "the wake pin high")
    assert periph(dut)["wake"]["waking"] is True
    dut.quiet(0.05)
    # the host wakes and says so: the report comes before the OK
    assert dut.cmd("AT+USERMCUSLEEP=0") == b"WIFI DISCONNECT\r\n" + OK
    assert dut.ctl("gpio", "18")["gpio"] == {"pin": 18, "level": 0, "edges": 2}
    w = periph(dut)["wake"]
    assert (w["enabled"], w["mode"], w["number"], w["waking"], w["wakes"]) == \
        (True, "gpio", 18, False, 1)


def test_wake_uart_byte(dut):
    join(dut)
    # no linkage: every report is preceded by the wake byte, then 30 ms
    assert dut.cmd("AT+USERWKMCUCFG=1,2,1,0x5a,30,0") == OK
    dut.ctl("ap", "down", "espat")
    dut.expect(b"\x5aWIFI DISCONNECT\r\n")
    assert dut.cmd("AT+USERWKMCUCFG=0") == OK
    dut.ctl("ap", "up", "espat")
    join(dut)


# ---- AT+USEROTA -------------------------------------------------------------------------

def userota(d, url):
    prompt(d, f"AT+USEROTA={len(url)}")
    d.write(url.encode())
    d.expect(b"\r\nRecv %d bytes\r\n" % len(url))
    return d.answer(timeout=30)


@pytest.mark.parametrize("tls", [False, True], ids=["http", "https"])
def test_userota(dut, server, tls):
    join(dut)
    url = server.url(tls)
    assert userota(dut, url) == OK
    dut.expect(READY)
    dut.expect(JOINED)
    with open(os.path.join(dut.data_dir, "ota_1.bin"), "rb") as f:
        assert f.read() == IMAGE
    assert server.seen[-1] == "/fw/esp-at.bin"
    assert dut.cmd("ATE0") == b"ATE0\r\n" + OK
    assert dut.cmd("AT+GMR").startswith(b"AT version:3.6.0.0(")
    # a second image before anything else: the slot after the boot slot is
    # the other one again
    assert userota(dut, url) == OK
    dut.expect(READY)


def test_userota_failures(dut, server):
    assert dut.cmd("AT+SYSLOG=1") == OK
    offline = userota(dut, server.url())
    assert offline == b"ERR CODE:0x010a0000\r\n\r\nERROR\r\n"
    join(dut)
    missing = server.url().replace("/fw/", "/nothing/")
    assert userota(dut, missing) == b"ERR CODE:0x010a0000\r\n\r\nERROR\r\n"
    assert dut.cmd("AT+USEROTA=8193") == b"ERR CODE:0x01070000\r\n\r\nERROR\r\n"
    assert not os.path.exists(os.path.join(dut.data_dir, "ota_1.bin"))
    assert dut.cmd("AT") == OK


# ---- the guide's examples (3.11, 3.12) ---------------------------------------------------

SECTIONS = ["3.11.2 AT+DRVADC", "3.11.3 AT+DRVPWMINIT", "3.11.4 AT+DRVPWMDUTY",
            "3.11.5 AT+DRVPWMFADE", "3.11.6 AT+DRVI2CINIT", "3.11.7 AT+DRVI2CRD",
            "3.11.8 AT+DRVI2CWRDATA", "3.11.9 AT+DRVI2CWRBYTES", "3.11.11 AT+DRVSPIINIT",
            "3.11.12 AT+DRVSPIRD", "3.11.13 AT+DRVSPIWR", "3.12.2 AT+USERRAM",
            "3.12.3 AT+USEROTA", "3.12.4 AT+USERWKMCUCFG", "3.12.5 AT+USERMCUSLEEP",
            "3.12.6 AT+USERDOCS"]

PWM = "AT+DRVPWMINIT=5000,13,17,16,18,19"
I2C = "AT+DRVI2CINIT=0,4,5,100000"
SPI_PINS = "AT+DRVSPICONFGPIO=7,2,6,10"
# section -> commands sent (after ATE0) before its examples: what each needs
SETUP = {
    "3.11.4 AT+DRVPWMDUTY": [PWM], "3.11.5 AT+DRVPWMFADE": [PWM],
    "3.11.7 AT+DRVI2CRD": [I2C], "3.11.8 AT+DRVI2CWRDATA": [I2C], "3.11.9 AT+DRVI2CWRBYTES": [I2C],
    "3.11.11 AT+DRVSPIINIT": [SPI_PINS],
    "3.11.12 AT+DRVSPIRD": [SPI_PINS, "AT+DRVSPIINIT=102400,0,0,0,0"],
    "3.11.13 AT+DRVSPIWR": [SPI_PINS, "AT+DRVSPIINIT=102400,0,0,0,0"],
    "3.12.3 AT+USEROTA": ['AT+CWJAP="espat","espatpass"'],
}

GPIO_C3 = ("the ESP32-C3 has GPIO0..21: the example's GPIO25/26 are an ESP32's, so "
           "i2c_set_pin() refuses them (COMPAT #214)")
SPIRD = ("the example prints +DRVI2CREAD (a copy error): the read prints +DRVSPIRD "
         "(COMPAT #219)")
# id -> (why the answer differs from the example, or is tighter than its
# format; the lines espat answers; bytes after a '>' and their answer)
ANSWERS = {
    "ex344": (None, ["+DRVADC:2048", "OK"]),
    "ex345": (None, ["OK"]), "ex346": (None, ["OK"]),
    "ex347": (None, ["OK"]), "ex348": (None, ["OK"]),
    "ex349": (None, ["OK"]), "ex350": (None, ["OK"]),
    "ex351": (GPIO_C3, ["ERROR"]), "ex352": (None, ["OK"]),
    "ex353": ("the world's sensor at 0x34: register 0 holds 00", ["+DRVI2CRD:00", "OK"]),
    "ex354": ("the world's 10-bit device 0x2FF: its first byte is a5", ["+DRVI2CRD:a5", "OK"]),
    "ex355": (None, ["OK"]),
    "ex356": ("the sensor's registers 0x27 and 0x28 hold ff 5a", ["+DRVI2CRD:ff5a", "OK"]),
    "ex357": (None, ["OK", ">"], b"\x10123456789", ["OK"]),
    "ex358": (None, ["OK"]), "ex359": (None, ["OK"]), "ex360": (None, ["OK"]),
    "ex361": ("AT+DRVSPICONFGPIO first (guide 3.11.11 note); 102400 Hz is no divisor of "
              "80 MHz, the driver takes the nearest (COMPAT #218)", ["OK"]),
    "ex362": (None, ["OK"]),
    "ex363": (SPIRD + "; no command the world's SPI memory knows: MISO high",
              ["+DRVSPIRD:ffff", "OK"]),
    "ex364": (SPIRD + "; the world's SPI memory answers READ (0x03) at 0x1000, which wraps "
              "to 0 in its 4 KiB", ["+DRVSPIRD:0123", "OK"]),
    "ex365": (None, ["OK", ">"], b"\x55\xaa", ["OK"]),
    "ex366": (None, ["OK"]),
    "ex367": ("only a read prints +USERRAM (the format's first line): malloc answers OK",
              ["OK"]),
    "ex368": ("a write prompts (OK, '>', COMPAT #225), takes <size> bytes, then OK",
              ["OK", ">"], bytes(range(250)) * 2, ["OK"]),
    "ex369": ("bytes 100..163 of what ex368 wrote", None),
    "ex370": ("release prints nothing but OK", ["OK"]),
    "ex371": (None, ["OK", ">"], "URL36", ["Recv 36 bytes", "OK"]),
    "ex372": (None, ["OK"]), "ex373": (None, ["OK"]), "ex374": (None, ["OK"]),
    "ex375": (None, ['+USERDOCS:"https://docs.espressif.com/projects/esp-at/en/latest/'
                     'esp32c3/index.html"',
                     '+USERDOCS:"https://docs.espressif.com/projects/esp-at/zh_CN/latest/'
                     'esp32c3/index.html"', "OK"]),
}


def _ex369():
    data = (bytes(range(250)) * 2)[100:164]
    return [("+USERRAM:64," + data.decode("latin-1"))] + ["OK"]


def test_chapter3_examples(make_dut, server):
    blocks = section_blocks(SECTIONS)
    ids = {e["id"] for _, entries in blocks for e in entries}
    assert ids == set(ANSWERS), f"corpus entries without an answer: {ids ^ set(ANSWERS)}"
    different = {k: v[0] for k, v in ANSWERS.items() if v[0]}
    for section, entries in blocks:
        d = make_dut(world=WORLD)
        assert d.cmd("ATE0") == b"ATE0\r\n" + OK
        for line in SETUP.get(section, []):
            assert d.cmd(line).endswith(OK), f"{section}: setup {line}"

        def run(e, d=d):
            spec = ANSWERS[e["id"]]
            want = _ex369() if e["id"] == "ex369" else spec[1]
            d.write(e["send"].encode())
            if want[-1] == ">":
                got = _lines(d.expect_re(rb".*?>").group(0))
            else:
                got = _lines(d.answer())
            if got != want:
                return f"{e['id']} {e['send'].strip()}: want {want}, got {got}"
            if len(spec) > 2:
                data = server.url(length=36).encode() if spec[2] == "URL36" else spec[2]
                d.write(data)
                after = _lines(d.answer(timeout=30))
                if after != spec[3]:
                    return f"{e['id']} data: want {spec[3]}, got {after}"
            return None

        run_entries(entries, different, run)
        d.stop()


# ---- the host's buses (posix/periph_linux.c) on plain files -----------------------------

def test_host_buses_on_files(make_dut, tmp_path):
    """--adc-iio and --pwm-chip on directories laid out as the kernel's
    sysfs; --i2c on /dev/null, which takes no I2C_RDWR; no --spi."""
    iio, pwm = tmp_path / "iio", tmp_path / "pwmchip0"
    iio.mkdir()
    (iio / "in_voltage2_raw").write_text("2048\n")
    (iio / "in_voltage_scale").write_text("0.5\n")
    (pwm / "pwm0").mkdir(parents=True)
    for name in ("export", "pwm0/period", "pwm0/duty_cycle", "pwm0/enable"):
        (pwm / name).write_text("")
    d = make_dut(args=("--adc-iio", str(iio), "--pwm-chip", str(pwm), "--i2c", "/dev/null"))
    assert d.cmd("ATE0") == b"ATE0\r\n" + OK
    # 2048 x 0.5 mV = 1024 mV at 11 dB (2500 mV full scale)
    assert d.cmd("AT+DRVADC=2,3") == b"+DRVADC:1677\r\n" + OK
    assert d.cmd("AT+DRVADC=1,3") == b"\r\nERROR\r\n"  # no in_voltage1_raw
    assert d.cmd("AT+DRVPWMINIT=5000,13,17") == OK
    assert d.cmd("AT+DRVPWMDUTY=4096") == OK
    assert (pwm / "export").read_text() == "0"
    assert (pwm / "pwm0" / "period").read_text() == "200000"
    assert (pwm / "pwm0" / "duty_cycle").read_text() == "100000"
    assert (pwm / "pwm0" / "enable").read_text() == "1"
    assert d.cmd("AT+DRVI2CINIT=0,4,5,100000") == OK
    assert d.cmd("AT+DRVI2CRD=0,0x50,1") == b"\r\nERROR\r\n"
    assert d.cmd("AT+DRVSPICONFGPIO=7,2,6,10") == OK
    assert d.cmd("AT+DRVSPIINIT=1000000,0,0,0,0") == b"\r\nERROR\r\n"  # not mapped
    assert d.cmd("AT") == OK


def test_host_bus_option_needs_a_path(tmp_path):
    for opt in ("--i2c", "--spi", "--adc-iio", "--pwm-chip"):
        p = subprocess.run([ESPAT, "--no-pace", "--data-dir", str(tmp_path / "d"), opt, ""],
                           stdin=subprocess.DEVNULL, capture_output=True, timeout=5)
        assert p.returncode == 2
        assert p.stderr.decode() == f"espat: {opt} needs a path\n"
