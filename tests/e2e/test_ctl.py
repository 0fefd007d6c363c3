"""The control interface (docs/internals/ctl.md): the socket, every command's
reply, errors that leave the module running, the `espat ctl` client's exit
codes, --world at start, and a power cut."""
import json
import os
import socket
import stat
import subprocess
import time

import pytest

from conftest import DEADLINE, ESPAT, READY, ctl_request
from test_transcripts import play

TRANSCRIPT_RUN = os.path.join(os.path.dirname(ESPAT), "tests", "transcript_run")

WORLD = """\
[world]
scan_channel_ms = 50

[ap lab]
ssid = "Lab\\x01\\\\"
security = wpa2
password = "labpass123"
channel = 3
rssi = -55
"""


def _cli(*args, cwd=None):
    """Runs `espat ctl ARGS...`; returns (status, stdout, stderr)."""
    r = subprocess.run([ESPAT, "ctl", *args], capture_output=True, text=True, cwd=cwd,
                       timeout=DEADLINE)
    return r.returncode, r.stdout, r.stderr


def _raw(path, data, timeout=DEADLINE):
    """Sends raw bytes to the socket; returns the reply line (parsed)."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(timeout)
        s.connect(path)
        try:
            s.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server answered early and stopped reading
        buf = b""
        while not buf.endswith(b"\n"):
            try:
                chunk = s.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            buf += chunk
    assert buf.endswith(b"\n"), buf
    assert buf.count(b"\n") == 1, buf
    return json.loads(buf)


def _ap(dut, label):
    aps = {a["label"]: a for a in dut.ctl("state")["state"]["aps"]}
    return aps.get(label)


def _alive(dut):
    assert dut.cmd("AT") == b"AT\r\n\r\nOK\r\n"


# ---- the socket --------------------------------------------------------------


def test_socket_is_private(dut):
    st = os.lstat(dut.ctl_path)
    assert stat.S_ISSOCK(st.st_mode)
    assert stat.S_IMODE(st.st_mode) == 0o600


def test_socket_removed_at_exit_and_stale_one_replaced(make_dut):
    d = make_dut()
    path = d.ctl_path
    d.kill9()  # leaves a stale socket behind
    assert os.path.exists(path)
    d.start()
    assert d.ctl("state")["ok"] is True
    assert d.stop() == 0
    assert not os.path.exists(path)


def test_ctl_option_and_non_socket_refused(make_dut, tmp_path):
    sock = str(tmp_path / "c.sock")
    d = make_dut(args=["--ctl", sock])
    assert d.ctl_path == sock and d.ctl("state")["ok"] is True
    assert not os.path.exists(os.path.join(d.data_dir, "ctl.sock"))
    plain = tmp_path / "plain"
    plain.write_text("x")
    r = subprocess.run([ESPAT, "--data-dir", str(tmp_path / "other"), "--ctl", str(plain)],
                       capture_output=True, text=True, timeout=DEADLINE)
    assert r.returncode == 2
    assert "not a socket" in r.stderr and r.stderr.startswith("espat: ")
    assert plain.read_text() == "x"


# ---- state and the world --------------------------------------------------------


def test_state_shape(dut):
    r = dut.ctl("state")
    assert set(r) == {"ok", "state"}
    st = r["state"]
    for key in ("uptime_ms", "boots", "mode", "station", "softap", "links", "aps"):
        assert key in st, key
    assert st["links"] == []
    assert st["mode"] == 1
    sta = st["station"]
    assert sta["state"] == 0 and sta["ssid"] is None and sta["ip"] == "0.0.0.0"
    for key in ("bssid", "channel", "rssi", "gateway", "netmask", "dhcp"):
        assert key in sta, key
    sap = st["softap"]
    for key in ("ssid", "channel", "ecn", "ip", "stations"):
        assert key in sap, key
    assert sap["stations"] == [] and sap["ip"] == "192.168.4.1"
    labels = [a["label"] for a in st["aps"]]
    assert "espat" in labels
    ap = _ap(dut, "espat")
    for key in ("ssid", "bssid", "channel", "rssi", "security", "up", "hidden", "wps",
                "network"):
        assert key in ap, key
    assert ap["network"] == "host" and ap["up"] is True
    assert dut.ctl("ap", "list")["aps"] == st["aps"]
    assert {"usage", "help"} <= set(dut.ctl("help")["commands"][0])


def test_ap_round_trips(dut):
    r = dut.ctl("ap", "add", "lab2", "ssid=Lab Two", "security=wpa2", "password=secret123",
                "channel=9", "rssi=-61")
    assert r["ap"]["label"] == "lab2" and r["ap"]["ssid"] == "Lab Two"
    ap = _ap(dut, "lab2")
    assert (ap["channel"], ap["rssi"], ap["security"], ap["up"]) == (9, -61, "wpa2", True)
    dut.ctl("ap", "set", "lab2", "rssi=-80", "hidden=yes")
    ap = _ap(dut, "lab2")
    assert ap["rssi"] == -80 and ap["hidden"] is True
    dut.ctl("ap", "down", "lab2")
    assert _ap(dut, "lab2")["up"] is False
    dut.ctl("ap", "up", "lab2")
    assert _ap(dut, "lab2")["up"] is True
    dut.ctl("ap", "rm", "lab2")
    assert _ap(dut, "lab2") is None
    _alive(dut)


def test_failed_set_changes_nothing(dut):
    before = _ap(dut, "espat")
    r = dut.ctl("ap", "set", "espat", "rssi=-30", "channel=99", expect_ok=False)
    assert "channel" in r["error"]
    assert _ap(dut, "espat") == before
    # settings that do not fit together: WPA2 with a 3-byte password
    dut.ctl("ap", "set", "espat", "password=abc", expect_ok=False)
    assert _ap(dut, "espat") == before
    r = dut.ctl("ap", "add", "bad", "rssi=5", expect_ok=False)
    assert _ap(dut, "bad") is None


def test_byte_strings_round_trip(dut):
    # \x01 and a backslash in an SSID: shown escaped, accepted back the same way
    dut.ctl("ap", "add", "odd", "ssid=a\\x01b\\\\c\"d")
    shown = _ap(dut, "odd")["ssid"]
    assert shown == 'a\\x01b\\\\c\\"d'
    dut.ctl("ap", "set", "odd", "ssid=" + shown)
    assert _ap(dut, "odd")["ssid"] == shown
    dut.ctl("ap", "set", "odd", 'ssid="quoted \\x41"')
    assert _ap(dut, "odd")["ssid"] == "quoted A"


@pytest.mark.parametrize("args,words", [
    (["bogus"], ["unknown command", "bogus"]),
    ([], ["no command"]),
    (["ap"], ["ap", "list"]),
    (["ap", "frob", "x"], ["unknown subcommand", "frob"]),
    (["ap", "set", "nope", "rssi=-40"], ["no AP", "nope"]),
    (["ap", "set", "espat", "colour=red"], ["unknown key", "colour"]),
    (["ap", "set", "espat", "rssi"], ["key=value"]),
    (["ap", "add", "espat"], ["duplicate"]),
    (["ap", "rm", "nope"], ["no AP"]),
    (["state", "extra"], ["usage: state"]),
    (["sta", "join", "nonsense"], ["MAC"]),
    (["sta", "leave", "12:34:56:78:9a:bc"], ["sta leave"]),
    (["deauth"], ["not associated"]),
    (["wps", "nope"], ["no AP"]),
    (["smartconfig", "x", "y", "type=zigbee"], ["esptouch"]),
])
def test_errors_are_clear_and_harmless(dut, args, words):
    r = dut.ctl(*args, expect_ok=False)
    assert set(r) == {"ok", "error"}
    for w in words:
        assert w in r["error"], (w, r["error"])
    _alive(dut)


def test_softap_station_join_and_leave(dut):
    assert dut.cmd("AT+CWMODE=3") == b"AT+CWMODE=3\r\n\r\nOK\r\n"
    dut.ctl("sta", "join", "12:34:56:78:9a:bc")
    dut.expect(b'+STA_CONNECTED:"12:34:56:78:9a:bc"\r\n')
    dut.expect(b'+DIST_STA_IP:"12:34:56:78:9a:bc","192.168.4.2"\r\n')
    stations = dut.ctl("state")["state"]["softap"]["stations"]
    assert stations == [{"mac": "12:34:56:78:9a:bc", "ip": "192.168.4.2"}]
    dut.ctl("sta", "leave", "12:34:56:78:9a:bc")
    dut.expect(b'+STA_DISCONNECTED:"12:34:56:78:9a:bc"\r\n')
    assert dut.ctl("state")["state"]["softap"]["stations"] == []


def test_smartconfig_and_wps_set_the_world(dut):
    r = dut.ctl("smartconfig", "espat", "espatpass", "type=airkiss", "bssid=1e:2a:8a:4e:15:97")
    sc = r["smartconfig"]
    assert sc["active"] is True and sc["type"] == "airkiss" and sc["ssid"] == "espat"
    assert dut.ctl("smartconfig", "stop")["smartconfig"] == {"active": False}
    dut.ctl("wps", "espat")
    r = dut.ctl("wps", "home", expect_ok=False)
    assert "WPS" in r["error"]


def test_station_state_after_join(dut):
    out = dut.cmd('AT+CWJAP="espat","espatpass"', timeout=20)
    assert out.endswith(b"\r\nOK\r\n"), out
    sta = dut.ctl("state")["state"]["station"]
    assert sta["state"] == 2 and sta["ssid"] == "espat" and sta["ap"] == "espat"
    assert sta["channel"] == 6 and sta["ip"].startswith("192.168.3.")
    assert sta["gateway"] == "192.168.3.1" and sta["netmask"] == "255.255.255.0"
    dut.ctl("ap", "set", "espat", "rssi=-77")
    assert dut.ctl("state")["state"]["station"]["rssi"] == -77


# ---- the raw protocol --------------------------------------------------------------


def test_malformed_requests_get_an_error(dut):
    for data, word in [(b"not json\n", "not JSON"), (b'{"a":1}\n', "array of strings"),
                       (b'["state", 1]\n', "array of strings"), (b"\n", "not JSON"),
                       (b'["st\\u0000ate"]\n', "not JSON")]:
        r = _raw(dut.ctl_path, data)
        assert r["ok"] is False and word in r["error"], (data, r)
    big = b'["' + b"x" * (70 * 1024) + b'"]\n'
    r = _raw(dut.ctl_path, big)
    assert r["ok"] is False and "longer than" in r["error"]
    # a request without its newline, ended by the client's shutdown
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(DEADLINE)
        s.connect(dut.ctl_path)
        s.sendall(b'["state"]')
        s.shutdown(socket.SHUT_WR)
        assert json.loads(s.makefile("rb").readline())["ok"] is True
    assert dut.ctl("state")["ok"] is True
    _alive(dut)


def test_silent_client_does_not_stall_the_module(dut):
    # connections that send nothing, and one that never reads its reply
    idle = [socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) for _ in range(3)]
    for s in idle:
        s.connect(dut.ctl_path)
    slow = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    slow.connect(dut.ctl_path)
    slow.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1024)
    slow.sendall(b'["state"]\n')
    try:
        t0 = time.monotonic()
        _alive(dut)
        assert dut.ctl("state")["ok"] is True
        assert time.monotonic() - t0 < 2
    finally:
        for s in idle + [slow]:
            s.close()
    _alive(dut)


# ---- the client ------------------------------------------------------------------------


def test_client_exit_codes(dut, tmp_path):
    rc, out, err = _cli("--data-dir", dut.data_dir, "state")
    assert rc == 0 and json.loads(out)["ok"] is True and err == ""
    rc, out, err = _cli("--ctl", dut.ctl_path, "ap", "set", "nope", "rssi=-1")
    assert rc == 1 and json.loads(out)["ok"] is False
    assert err.startswith("espat ctl: ") and "nope" in err
    rc, out, err = _cli("--data-dir", dut.data_dir)
    assert rc == 2 and "no command" in err and out == ""
    rc, out, err = _cli("--frob", "state")
    assert rc == 2 and "unknown option" in err
    rc, out, err = _cli("--ctl", str(tmp_path / "none.sock"), "state")
    assert rc == 2 and "cannot connect" in err and out == ""
    rc, out, err = _cli("--help")
    assert rc == 0 and "power-cut" in out and "smartconfig" in out
    # the default socket: ./espat-data/ctl.sock
    rc, out, err = _cli("state", cwd=str(tmp_path))
    assert rc == 2 and "espat-data/ctl.sock" in err


def test_client_options_after_the_command(dut, tmp_path):
    """`espat ctl state --data-dir DIR` works as the README shows it; after
    the command only -- words are options (a negative number is an
    argument), and after a lone -- none are."""
    rc, out, err = _cli("state", "--data-dir", dut.data_dir)
    assert rc == 0 and json.loads(out)["ok"] is True and err == ""
    rc, out, err = _cli("state", "--ctl", dut.ctl_path)
    assert rc == 0 and json.loads(out)["ok"] is True
    rc, out, err = _cli("ap", "set", "espat", "rssi=-61", "--data-dir", dut.data_dir)
    assert rc == 0 and json.loads(out)["ap"]["rssi"] == -61
    rc, out, err = _cli("--data-dir", dut.data_dir, "ap", "set", "espat", "-x")
    assert rc == 1 and "key=value" in err  # -x went to the command, which refused it
    rc, out, err = _cli("--data-dir", dut.data_dir, "state", "--", "--data-dir")
    assert rc == 2 and "usage: state" in err  # after --, a word of the command's
    rc, out, err = _cli("state", "--data-dir", dut.data_dir, "--data-dir", dut.data_dir)
    assert rc == 2 and "given twice" in err
    rc, out, err = _cli("state", "--frob", "--data-dir", dut.data_dir)
    assert rc == 2 and "unknown option --frob" in err and out == ""
    rc, out, err = _cli("state", "--data-dir")
    assert rc == 2 and "needs a value" in err
    rc, out, err = _cli("state", "--help")
    assert rc == 0 and "Options may also follow the command" in out


@pytest.mark.parametrize("args,words", [
    (["state", "extra"], "usage: state"),
    (["stat"], "unknown command 'stat'"),
    (["ap"], "ap: which one?"),
    (["ap", "frob"], "unknown subcommand 'frob'"),
    (["link", "reset"], "usage: link reset ID"),
])
def test_client_usage_errors_exit_2(dut, tmp_path, args, words):
    """A usage error is exit 2 wherever it is found, as --help says: the
    client checks the command before it sends, so it needs no module."""
    for where in (["--data-dir", dut.data_dir], ["--ctl", str(tmp_path / "none.sock")]):
        rc, out, err = _cli(*args, *where)
        assert rc == 2 and out == "" and err == f"espat ctl: {err[11:]}", (args, err)
        assert words in err, (args, err)


# ---- --world ----------------------------------------------------------------------------


def test_world_file(make_dut, tmp_path):
    w = tmp_path / "w.ini"
    w.write_text(WORLD)
    d = make_dut(world=str(w))
    aps = d.ctl("state")["state"]["aps"]
    assert [a["label"] for a in aps] == ["lab"]
    assert aps[0]["ssid"] == "Lab\\x01\\\\" and aps[0]["channel"] == 3


def test_bad_world_refused_at_start(tmp_path):
    w = tmp_path / "bad.ini"
    w.write_text("[ap a]\nssid = \"x\"\nrssi = loud\n")
    r = subprocess.run([ESPAT, "--data-dir", str(tmp_path / "d"), "--world", str(w)],
                       capture_output=True, text=True, timeout=DEADLINE)
    assert r.returncode == 2 and r.stdout == ""
    assert r.stderr.startswith(f"espat: {w}:3: "), r.stderr
    assert "rssi" in r.stderr and r.stderr.count("\n") == 1
    r = subprocess.run([ESPAT, "--data-dir", str(tmp_path / "d"), "--world",
                        str(tmp_path / "missing.ini")],
                       capture_output=True, text=True, timeout=DEADLINE)
    assert r.returncode == 2 and r.stderr.startswith("espat: ") and "missing.ini" in r.stderr
    assert not os.path.exists(tmp_path / "d"), "nothing is created for a bad world"


# ---- power cut ----------------------------------------------------------------------------


def test_power_cut(dut):
    assert dut.cmd("ATE0") == b"ATE0\r\n\r\nOK\r\n"
    assert dut.cmd("AT+UART_DEF=230400,8,1,0,0") == b"\r\nOK\r\n"
    assert dut.ctl("power-cut") == {"ok": True}
    dut.expect(READY)
    # ATE is not saved, AT+UART_DEF is
    assert dut.cmd("AT") == b"AT\r\n\r\nOK\r\n"
    assert dut.cmd("AT+UART_DEF?") == b"AT+UART_DEF?\r\n+UART_DEF:230400,8,1,0,0\r\n\r\nOK\r\n"
    assert dut.ctl("state")["state"]["boots"] == 0
    dut.ctl("power-cut")
    dut.expect(READY)
    _alive(dut)


# ---- transcripts with @ lines, in both runners ----------------------------------------------


TRANSCRIPT = """\
! world {world}
> AT+CWMODE=3\\r\\n
< AT+CWMODE=3\\r\\n\\r\\nOK\\r\\n
@ sta join 12:34:56:78:9a:bc
< +STA_CONNECTED:"12:34:56:78:9a:bc"\\r\\n
~ 300
< +DIST_STA_IP:"12:34:56:78:9a:bc","192.168.4.2"\\r\\n
@ sta leave 12:34:56:78:9a:bc
< +STA_DISCONNECTED:"12:34:56:78:9a:bc"\\r\\n
@! sta leave 12:34:56:78:9a:bc
# the default world's AP is not in this world
@! ap set espat rssi=-40
@ ap set lab "ssid=Lab 2" rssi=-30
@ ap add x "ssid=\\"y\\""
@! bogus
@ power-cut
< \\r\\nready\\r\\n
> AT\\r\\n
< AT\\r\\n\\r\\nOK\\r\\n
"""


def _transcript(tmp_path, body):
    w = tmp_path / "w.ini"
    w.write_text(WORLD)
    t = tmp_path / "ctl.t"
    t.write_text(body.format(world=w))
    return str(t)


def test_transcript_ctl_lines_in_process(tmp_path):
    t = _transcript(tmp_path, TRANSCRIPT)
    r = subprocess.run([TRANSCRIPT_RUN, t], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "3 runs passed" in r.stdout
    bad = _transcript(tmp_path, TRANSCRIPT.replace("@! bogus", "@ bogus"))
    r = subprocess.run([TRANSCRIPT_RUN, bad], capture_output=True, text=True, timeout=60)
    assert r.returncode == 1 and "unknown command" in r.stdout, r.stdout


def test_transcript_ctl_lines_over_pty(tmp_path, make_dut):
    play(_transcript(tmp_path, TRANSCRIPT), make_dut)


def test_transcript_ctl_failure_over_pty(tmp_path, make_dut):
    with pytest.raises(AssertionError, match="ctl.t:15: ctl bogus"):
        play(_transcript(tmp_path, TRANSCRIPT.replace("@! bogus", "@ bogus")), make_dut)
