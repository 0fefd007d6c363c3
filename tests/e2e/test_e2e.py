"""The process and its port: ready at start, clean exit on signals, bad
command lines, data dirs as devices, and AT+UART_CUR/AT+UART_DEF reaching
the pty's termios.

Waits are on output (dut.expect) or polled with a deadline (wait_for: the
pty's speed); the one fixed stretch is the idle second whose CPU use is
measured (silence)."""
import os
import signal
import subprocess
import termios
import time

import pytest

from conftest import DEADLINE, ESPAT, READY

POLL = 0.005  # how often wait_for looks again


def silence(seconds):
    """Lets seconds pass with nothing said to the module, where that
    stretch is itself what is measured (the CPU an idle module uses).
    Never use it to wait for something to happen: wait on the thing
    (dut.expect, wait_for)."""
    time.sleep(seconds)


def wait_for(cond, what, timeout=DEADLINE):
    """Polls cond() until it is true; returns its value. For states with no
    event to block on (the pty's termios); the short sleep is the polling
    interval, not a wait of its own. what (a string or a callable giving
    one) names the state in the timeout's message."""
    end = time.monotonic() + timeout
    while not (v := cond()):
        if time.monotonic() > end:
            raise AssertionError(f"timeout ({timeout}s) waiting for "
                                 f"{what() if callable(what) else what}")
        time.sleep(POLL)
    return v


def test_ready_first_thing(make_dut):
    d = make_dut(start=False)
    t0 = time.monotonic()
    d.start(wait_ready=False)
    d.expect(READY)  # the very first bytes
    took = time.monotonic() - t0
    assert took < 2.0, f"ready after {took:.3f}s"
    assert d.cmd("AT") == b"AT\r\n\r\nOK\r\n"


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP],
                         ids=["TERM", "INT", "HUP"])
def test_signal_clean_exit(make_dut, sig):
    d = make_dut()
    assert d.cmd("AT+SYSMSG=3") .endswith(b"\r\nOK\r\n")
    assert os.path.islink(d.link)
    d._close_fd()
    d.proc.send_signal(sig)
    rc = d.proc.wait(timeout=5)
    assert rc == 0, f"exit status {rc}: {d.stderr()}"
    assert not os.path.lexists(d.link), "the pty symlink is still there"
    assert "ERROR" not in d.stderr() and "Sanitizer" not in d.stderr(), d.stderr()
    d.proc.stdout.close()
    d._stderr.close()
    d.proc = None
    # the settings written before are intact
    d.start()
    d.cmd("ATE0")
    assert d.cmd("AT+SYSMSG?") == b"+SYSMSG:3\r\n\r\nOK\r\n"


BAD_ARGS = [
    ["--bogus"],
    ["--baud", "79"],
    ["--baud", "5000001"],
    ["--baud", "115200x"],
    ["--baud"],
    ["--pty"],
    ["--chip", "esp8266x"],
    ["--stdio", "--pty", "{tmp}/x"],
    ["--pty", "{tmp}/no/such/dir/tty"],
    ["--pty", "{tmp}/regular-file"],
    ["--data-dir", "{tmp}/regular-file"],
    ["--trace", "{tmp}/no/such/dir/trace"],
    ["--tcp", "nonsense:port"],
    ["extra-argument"],
]


@pytest.mark.parametrize("args", BAD_ARGS, ids=[" ".join(a) for a in BAD_ARGS])
def test_bad_options(tmp_path, args):
    (tmp_path / "regular-file").write_text("x")
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    cmd = [ESPAT, "--no-pace", "--data-dir", str(tmp_path / "data")] + args
    if "--data-dir" in args:
        cmd = [ESPAT, "--no-pace"] + args
    try:
        p = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, timeout=5)
    except subprocess.TimeoutExpired:
        pytest.fail(f"espat {' '.join(args)} did not exit")
    assert p.returncode != 0
    err = p.stderr.decode(errors="replace")
    assert err.count("\n") == 1 and err.startswith("espat: "), repr(err)
    assert p.stdout == b""


def test_help_and_version():
    for opt in ("--help", "--version"):
        p = subprocess.run([ESPAT, opt], capture_output=True, timeout=5)
        assert p.returncode == 0 and p.stdout, opt


def test_one_espat_per_data_dir(make_dut, tmp_path):
    a = make_dut(data_dir=tmp_path / "shared")
    p = subprocess.run([ESPAT, "--no-pace", "--data-dir", str(tmp_path / "shared"),
                        "--pty", str(tmp_path / "tty2")], capture_output=True, timeout=5)
    assert p.returncode != 0
    assert p.stderr.decode().startswith("espat: ")
    assert a.cmd("AT") == b"AT\r\n\r\nOK\r\n"


def test_two_data_dirs_are_two_devices(make_dut, tmp_path):
    a = make_dut(data_dir=tmp_path / "a")
    b = make_dut(data_dir=tmp_path / "b")
    for d in (a, b):
        d.cmd("ATE0")
    assert a.cmd("AT+UART_DEF=57600,8,1,0,0").endswith(b"\r\nOK\r\n")
    assert a.cmd("AT+SYSMSG=1") == b"\r\nOK\r\n"
    assert b.cmd("AT+UART_DEF=230400,8,1,0,0").endswith(b"\r\nOK\r\n")
    assert b.cmd("AT+SYSMSG=6") == b"\r\nOK\r\n"
    for d in (a, b):
        d.restart(cut=False)
        d.cmd("ATE0")
    assert a.cmd("AT+UART_DEF?") == b"+UART_DEF:57600,8,1,0,0\r\n\r\nOK\r\n"
    assert a.cmd("AT+SYSMSG?") == b"+SYSMSG:1\r\n\r\nOK\r\n"
    assert b.cmd("AT+UART_DEF?") == b"+UART_DEF:230400,8,1,0,0\r\n\r\nOK\r\n"
    assert b.cmd("AT+SYSMSG?") == b"+SYSMSG:6\r\n\r\nOK\r\n"
    # AT+RESTORE on one leaves the other alone
    assert a.cmd("AT+RESTORE") == b"\r\nOK\r\n"
    a.expect(READY)
    a.cmd("ATE0")
    assert a.cmd("AT+SYSMSG?") == b"+SYSMSG:0\r\n\r\nOK\r\n"
    assert b.cmd("AT+SYSMSG?") == b"+SYSMSG:6\r\n\r\nOK\r\n"


def _await_baud(d, want, timeout=2.0):
    """OK goes out at the old rate first (COMPAT #19): the new speed comes
    a moment after it."""
    wait_for(lambda: d.baud() == want, lambda: f"pty speed {want} (is {d.baud()})", timeout)


def test_uart_cur_sets_pty_baud(dut):
    dut.cmd("ATE0")
    assert dut.baud() == termios.B115200
    assert dut.cmd("AT+UART_CUR=921600,8,1,0,0") == b"\r\nOK\r\n"
    _await_baud(dut, termios.B921600)
    assert dut.cmd("AT+UART_CUR?") == b"+UART_CUR:921600,8,1,0,0\r\n\r\nOK\r\n"
    assert dut.cmd("AT+UART_CUR=9600,8,1,0,0") == b"\r\nOK\r\n"
    _await_baud(dut, termios.B9600)
    # a refused change leaves the port alone
    assert dut.cmd("AT+UART_CUR=79,8,1,0,0") == b"\r\nERROR\r\n"
    assert dut.baud() == termios.B9600
    # not saved: a restart brings the default back
    dut.restart(cut=False)
    assert dut.baud() == termios.B115200


def test_uart_def_applies_now_and_after_restart(dut):
    """COMPAT #19: AT+UART_DEF is saved and applied at once, OK first."""
    dut.cmd("ATE0")
    assert dut.cmd("AT+UART_DEF=460800,8,1,0,0") == b"\r\nOK\r\n"
    _await_baud(dut, termios.B460800)
    dut.restart(cut=False)
    assert dut.baud() == termios.B460800
    dut.cmd("ATE0")
    assert dut.cmd("AT+UART_CUR?") == b"+UART_CUR:460800,8,1,0,0\r\n\r\nOK\r\n"


def test_restart_keeps_the_pty(dut):
    """AT+RST restarts the firmware, not the process: same pty, ready again."""
    device = dut.device
    assert dut.cmd("AT+RST") == b"AT+RST\r\n\r\nOK\r\n"
    dut.expect(READY, timeout=3)
    assert dut.cmd("AT") == b"AT\r\n\r\nOK\r\n"
    assert os.path.realpath(dut.link) == device


def _cpu_ticks(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime


def test_idle_no_busy_polling(dut):
    """Idle with the host attached, and with the host gone (the pty's slave
    closed: a hang-up the loop must not spin on); the host comes back."""
    pid = dut.proc.pid
    for attached in (True, False):
        if not attached:
            dut._close_fd()
        t0 = _cpu_ticks(pid)
        silence(1.0)
        used = _cpu_ticks(pid) - t0
        assert used <= 1, f"{used} CPU ticks in 1 s idle (host attached: {attached})"
    assert dut.alive()
    dut.fd = os.open(dut.link, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
    import tty
    tty.setraw(dut.fd, termios.TCSANOW)
    assert dut.cmd("AT") == b"AT\r\n\r\nOK\r\n"


def test_output_is_paced(make_dut):
    """Without --no-pace, output leaves at the UART rate: ~10 bit times per
    byte at 8N1, so at 9600 baud AT+CMD? (well over 1000 bytes) takes
    longer than a second, at 115200 a small fraction."""
    d = make_dut(pace=True)
    d.cmd("ATE0")
    t0 = time.monotonic()
    fast = d.cmd("AT+CMD?", timeout=10)
    t_fast = time.monotonic() - t0
    assert d.cmd("AT+UART_CUR=9600,8,1,0,0") == b"\r\nOK\r\n"
    t0 = time.monotonic()
    slow = d.cmd("AT+CMD?", timeout=30)
    t_slow = time.monotonic() - t0
    assert slow == fast
    floor = len(slow) * 10 / 9600
    assert t_slow >= floor * 0.9, f"{len(slow)} bytes at 9600 baud in {t_slow:.3f}s"
    assert t_slow < floor * 3 + 1, f"{len(slow)} bytes at 9600 baud took {t_slow:.3f}s"
    assert t_fast < t_slow / 4, (t_fast, t_slow)


def test_unchanged_setting_writes_nothing(dut):
    """Guide 3.14: "if the command is configured with the same parameter value,
    flash will not be written". The store file is not rewritten (same inode,
    same mtime) for a repeated value, and is for a new one."""
    dut.cmd("ATE0")
    assert dut.cmd("AT+SYSMSG=3") == b"\r\nOK\r\n"
    db = os.path.join(dut.data_dir, "nvs.db")
    before = os.stat(db)
    for _ in range(3):
        assert dut.cmd("AT+SYSMSG=3") == b"\r\nOK\r\n"
    after = os.stat(db)
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    assert dut.cmd("AT+SYSMSG=1") == b"\r\nOK\r\n"
    assert os.stat(db).st_ino != before.st_ino
