"""README.md's walkthrough, typed as a new user types it: its command lines
run as written (the module's ARGS, picocom, socat, nc, openssl s_server,
make install, espat ctl from the PATH), and every AT transcript it shows
compared with what a terminal shows of the module's bytes (CR LF as a line
break). Only /tmp paths and the example ports move, to the test's own
directory and free ports; `make run` is the binary under test started with
the README's ARGS, and `make install` installs that binary (make -o: never
rebuilt here).

The module runs paced (the README's user does not pass --no-pace) on the
default world, as `make run` starts it.
"""
import json
import os
import pty
import re
import shlex
import shutil
import subprocess
import termios
import time
import tty

import pytest

from conftest import DEADLINE, ESPAT, READY, REPO, esc, wait_for
from peers import free_ports, listening

README_PATH = os.path.join(REPO, "README.md")
with open(README_PATH) as _f:
    README = _f.read()

EXAMPLE_PORTS = (8080, 8081, 8443)


# ---- the README as data -----------------------------------------------------------------

def code_blocks(lang):
    """The fenced blocks of the README tagged lang ("" for untagged), as
    text (each line with its newline)."""
    blocks, cur, tag = [], None, None
    for line in README.splitlines(keepends=True):
        if line.startswith("```"):
            if cur is None:
                cur, tag = [], line[3:].strip()
            else:
                if tag == lang:
                    blocks.append("".join(cur))
                cur = None
        elif cur is not None:
            cur.append(line)
    return blocks


def sh_lines():
    """Every command line of the README's sh blocks, continuations joined,
    comments dropped."""
    out = []
    for block in code_blocks("sh"):
        for line in block.replace("\\\n", " ").splitlines():
            line = re.sub(r"\s+#.*$", "", line).strip()
            if line:
                out.append(re.sub(r"\s+", " ", line))
    return out


def sh(prefix):
    """The README's one sh line that starts with prefix."""
    found = [line for line in sh_lines() if line.startswith(prefix)]
    assert len(found) == 1, f"README: want one sh line starting {prefix!r}, got {found}"
    return found[0]


def inline(prefix):
    """The README's one inline code span that starts with prefix."""
    found = re.findall(r"`(" + re.escape(prefix) + r"[^`]*)`", README)
    assert len(set(found)) == 1, f"README: want one `{prefix}...`, got {found}"
    return found[0]


def transcript(first):
    """The untagged block whose first line starts with first."""
    found = [b for b in code_blocks("") if b.split("\n", 1)[0].startswith(first)]
    assert len(found) == 1, f"README: want one block starting {first!r}"
    return found[0]


def screen(data):
    """The module's bytes as a terminal shows them (CR LF breaks a line)."""
    return data.decode("latin-1").replace("\r\n", "\n")


class Moved:
    """The README's /tmp paths and example ports, moved to the test's."""

    def __init__(self, tmp_path):
        self.tmp = str(tmp_path)
        self.ports = dict(zip(EXAMPLE_PORTS, free_ports(len(EXAMPLE_PORTS))))

    def __call__(self, text):
        text = text.replace("/tmp/", self.tmp + "/")
        return re.sub(r"\b(%s)\b" % "|".join(map(str, EXAMPLE_PORTS)),
                      lambda m: str(self.ports[int(m.group(1))]), text)

    def port(self, p):
        return self.ports[p]


# ---- the module, as `make run ARGS=...` starts it -----------------------------------------

def readme_module(make_dut, moved):
    """The module the README starts (its ARGS: --pty and --data-dir)."""
    m = re.fullmatch(r'make run ARGS="([^"]*)"', sh("make run ARGS="))
    args = shlex.split(moved(m.group(1)))
    opts = dict(zip(args[::2], args[1::2]))
    assert sorted(opts) == ["--data-dir", "--pty"] and len(args) == 4, args
    d = make_dut(data_dir=opts["--data-dir"], start=False, pace=True)
    d.link = opts["--pty"]  # espat makes this symlink to its pty
    d.start()
    assert os.path.islink(d.link) and os.path.realpath(d.link) == d.device
    return d


def let_go(d):
    """Closes the test's own side of the pty so that a terminal program
    gets every byte."""
    d._close_fd()
    d.buf = b""


def take_back(d):
    d.fd = os.open(d.link, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
    tty.setraw(d.fd, termios.TCSANOW)
    d.buf = b""


def read_fd_until(fd, want, what, timeout=DEADLINE):
    """Reads fd (blocking reads guarded by select) until want is in what
    came; returns it all."""
    import select
    buf, end = b"", time.monotonic() + timeout
    while want not in buf:
        left = end - time.monotonic()
        assert left > 0, f"{what}: no \"{esc(want)}\" in {timeout}s; got \"{esc(buf[-400:])}\""
        if select.select([fd], [], [], left)[0]:
            try:
                chunk = os.read(fd, 65536)
            except OSError:  # EIO: the program exited
                chunk = b""
            assert chunk, f"{what}: ended before \"{esc(want)}\"; got \"{esc(buf[-400:])}\""
            buf += chunk
    return buf


def run_picocom(d, moved):
    """The README's picocom line on a terminal of its own: Enter after
    AT+GMR gives the README's answer; C-a C-x quits."""
    if shutil.which("picocom") is None:
        pytest.fail("picocom is not installed (scripts/deps.sh installs it)")
    argv = shlex.split(moved(sh("picocom ")))
    master, slave = pty.openpty()
    p = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, start_new_session=True)
    os.close(slave)
    try:
        read_fd_until(master, b"Terminal ready", "picocom")
        os.write(master, b"AT+GMR\r")  # Enter on a terminal is CR
        out = read_fd_until(master, b"\r\nOK\r\n", "picocom")
        assert transcript("AT+GMR") in screen(out), esc(out)
        os.write(master, b"\x01\x18")  # C-a C-x
        assert p.wait(DEADLINE) == 0
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
        os.close(master)


def run_socat(d, moved):
    """The README's socat line: a line typed on its stdin is an AT command."""
    argv = shlex.split(moved(inline("socat ")))
    p = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    try:
        p.stdin.write(b"AT\n")
        p.stdin.flush()
        out = read_fd_until(p.stdout.fileno(), b"OK\n", "socat")
        assert out.endswith(b"AT\n\nOK\n"), esc(out)
    finally:
        p.kill()
        p.wait()
        p.stdin.close()
        p.stdout.close()
        p.stderr.close()


def ctl(moved, line, env):
    """Runs an `espat ctl ...` line of the README (moved) from the PATH."""
    return subprocess.run(shlex.split(moved(line)), capture_output=True, text=True, env=env,
                          timeout=DEADLINE)


# ---- the tests ------------------------------------------------------------------------------

def test_inline_code_never_spans_lines():
    """Copied from the raw file, an inline command must be whole: no code
    span crosses a line break (a fenced block is fine)."""
    fenced = False
    for n, line in enumerate(README.splitlines(), 1):
        if line.startswith("```"):
            fenced = not fenced
        elif not fenced:
            assert line.count("`") % 2 == 0, f"README.md:{n}: a code span crosses the line"


def test_picocom_mapping_is_picocoms():
    """The README's picocom options exist in the installed picocom (its
    --help lists the mapping)."""
    if shutil.which("picocom") is None:
        pytest.fail("picocom is not installed (scripts/deps.sh installs it)")
    line = sh("picocom ")
    omap = re.search(r"--omap (\S+)", line).group(1)
    assert omap == "crcrlf"
    r = subprocess.run(["picocom", "--help"], capture_output=True, text=True, timeout=DEADLINE)
    assert re.search(r"^\s*crcrlf : map CR --> CR \+ LF$", r.stdout + r.stderr, re.M)


def test_the_walkthrough(make_dut, tmp_path):
    moved = Moved(tmp_path)
    d = readme_module(make_dut, moved)

    # ---- a terminal ----
    let_go(d)
    run_picocom(d, moved)
    run_socat(d, moved)
    take_back(d)

    def block(first, steps):
        """Runs steps (each returns the bytes it read) and checks that the
        screen shows the README's block starting with first."""
        got = b"".join(step() for step in steps)
        want = moved(transcript(first))
        assert screen(got) == want, f"README block {first!r}:\nwant {want!r}\n got {screen(got)!r}"

    def cmd(line, timeout=DEADLINE):
        return lambda: d.cmd(moved(line), timeout)

    block("AT+GMR", [cmd("AT+GMR")])

    # ---- joined to the default world's espat ----
    block('AT+CWJAP="espat","espatpass"', [cmd('AT+CWJAP="espat","espatpass"', timeout=15)])

    # ---- a link to nc -l ----
    nc = subprocess.Popen(shlex.split(moved(inline("nc -l "))), stdin=subprocess.PIPE,
                          stdout=subprocess.PIPE)
    try:
        wait_for(lambda: listening(moved.port(8080)), "nc to listen")

        def cipsend():
            d.write(b"AT+CIPSEND=5\r\n")
            out = d.expect(b"AT+CIPSEND=5\r\n\r\nOK\r\n>")
            d.write(b"hello")
            return out + d.expect(b"\r\nRecv 5 bytes\r\n\r\nSEND OK\r\n")

        def nc_says():
            assert read_fd_until(nc.stdout.fileno(), b"hello", "nc") == b"hello"
            nc.stdin.write(b"hi!\n")
            nc.stdin.flush()
            return d.expect(b"\r\n+IPD,4:hi!\n")
        block('AT+CIPSTART="TCP","127.0.0.1",8080',
              [cmd('AT+CIPSTART="TCP","127.0.0.1",8080'), cipsend, nc_says])

        # ---- a server ----
        def nc_connects():
            client = subprocess.Popen(shlex.split(moved(inline("nc 127.0.0.1 "))),
                                      stdin=subprocess.PIPE, stdout=subprocess.DEVNULL)
            nc_connects.client = client
            return d.expect(b"0,CONNECT\r\n")
        block("AT+CIPCLOSE", [cmd("AT+CIPCLOSE"), cmd("AT+CIPMUX=1"),
                              cmd("AT+CIPSERVER=1,8081"), nc_connects])
        nc_connects.client.kill()
        nc_connects.client.wait()
        nc_connects.client.stdin.close()
        d.expect(b"0,CLOSED\r\n")
    finally:
        nc.kill()
        nc.wait()
        nc.stdin.close()
        nc.stdout.close()

    # ---- SSL, both sides checking certificates ----
    server = subprocess.Popen(shlex.split(moved(sh("openssl s_server "))), cwd=REPO,
                              stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        wait_for(lambda: listening(moved.port(8443)), "openssl s_server to listen")
        # "this one after AT+RST": it joins again by itself
        d.write(b"AT+RST\r\n")
        d.expect_re(rb"AT\+RST\r\n\r\nOK\r\n.*" + re.escape(READY) +
                    rb"WIFI CONNECTED\r\nWIFI GOT IP\r\n", timeout=15)
        block("AT+SYSTIMESTAMP=", [cmd("AT+SYSTIMESTAMP=1763683200"),
                                   cmd("AT+CIPSSLCCONF=3,0,0"),
                                   cmd('AT+CIPSTART="SSL","localhost",8443', timeout=15)])
        d.cmd("AT+CIPCLOSE")
    finally:
        server.kill()
        server.wait()
        server.stdin.close()

    # ---- a failure says why on stderr ----
    assert not listening(moved.port(8080))
    assert d.cmd(moved('AT+CIPSTART="TCP","127.0.0.1",8080')).endswith(b"\r\nERROR\r\n")
    example = transcript("espat: warn: net: connect to").strip()
    lines = d.stderr().splitlines()
    assert moved(example) in lines, d.stderr()

    # ---- make install, then espat ctl from the PATH ----
    install = shlex.split(sh("make install "))
    assert install[:2] == ["make", "install"] and install[2].startswith("PREFIX=")
    if os.path.basename(ESPAT) != "espat":
        pytest.fail(f"ESPAT_BIN must be a binary named espat (make install), not {ESPAT}")
    build = os.path.dirname(os.path.abspath(ESPAT))
    prefix = tmp_path / "prefix"
    r = subprocess.run(["make", "-C", REPO, "-o", os.path.join(build, "espat"), f"BUILD={build}",
                        "install", f"PREFIX={prefix}"], capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    installed = prefix / "bin" / "espat"
    assert os.access(installed, os.X_OK)
    env = dict(os.environ, PATH=f"{prefix}/bin:{os.environ['PATH']}")
    assert shutil.which("espat", path=env["PATH"]) == str(installed)

    state_line = sh("espat ctl --data-dir /tmp/esp1 state")
    r = ctl(moved, state_line, env)
    assert r.returncode == 0 and r.stderr == "", r.stderr
    state = json.loads(r.stdout)["state"]
    assert state["station"]["ssid"] == "espat", state["station"]
    # the options may follow the command too
    r = ctl(moved, "espat ctl state --data-dir /tmp/esp1", env)
    assert r.returncode == 0 and json.loads(r.stdout)["ok"] is True, r.stderr
    r = ctl(moved, sh("espat ctl --data-dir /tmp/esp1 ap down "), env)
    assert r.returncode == 0, r.stderr
    d.expect(b"WIFI DISCONNECT\r\n")


def test_make_install_with_destdir(tmp_path):
    """DESTDIR stages $(PREFIX)/bin/espat under it."""
    build = os.path.dirname(os.path.abspath(ESPAT))
    r = subprocess.run(["make", "-C", REPO, "-o", os.path.join(build, "espat"), f"BUILD={build}",
                        "install", "PREFIX=/usr", f"DESTDIR={tmp_path}/stage"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    staged = tmp_path / "stage" / "usr" / "bin" / "espat"
    assert os.access(staged, os.X_OK)
    with open(staged, "rb") as a, open(ESPAT, "rb") as b:
        assert a.read() == b.read()
