"""docs/COMMANDS.md says exactly what the command table holds: every row marked
"supported" is listed by AT+CMD?, and every command AT+CMD? lists is marked supported."""
import os, re, select, subprocess, tempfile, termios, time, tty

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ESPAT = os.environ.get("ESPAT_BIN", os.path.join(ROOT, "build", "espat"))


def _read_until(fd, token, timeout=5.0):
    buf, deadline = b"", time.monotonic() + timeout
    while token not in buf:
        left = deadline - time.monotonic()
        assert left > 0, f"timeout waiting for {token!r}: {buf[-200:]!r}"
        if select.select([fd], [], [], left)[0]:
            buf += os.read(fd, 65536)
    return buf


def test_commands_md_matches_cmd_query():
    with tempfile.TemporaryDirectory() as data:
        p = subprocess.Popen([ESPAT, "--no-pace", "--data-dir", data],
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        try:
            name = p.stdout.readline().decode().strip()
            fd = os.open(name, os.O_RDWR | os.O_NOCTTY)
            tty.setraw(fd, termios.TCSANOW)  # TCSAFLUSH would drop "ready"
            _read_until(fd, b"ready\r\n")
            os.write(fd, b"AT+CMD?\r\n")
            out = _read_until(fd, b"\r\nOK\r\n").decode()
            os.close(fd)
        finally:
            p.terminate()
            p.wait(timeout=5)
    listed = set(re.findall(r'^\+CMD:\d+,"(AT[^"]*)",[01],[01],[01],[01]\r$', out, re.M))
    assert listed, out
    # the ESP32-C3 part: the v1.5 part is test_v15.py's
    doc = open(os.path.join(ROOT, "docs", "COMMANDS.md")).read().split("\n# ESP8266 v1.5")[0]
    supported = set(re.findall(r"^\| `(AT[^`]*)` \| supported \|", doc, re.M))
    # the table row of ATE is the command "ATE" (sent as ATE0 / ATE1)
    assert listed == supported, (sorted(listed - supported), sorted(supported - listed))
