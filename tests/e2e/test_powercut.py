"""Flash crash safety: settings are written while the process is killed
with SIGKILL at random moments (often in the middle of a write). After each
cut the module must start on the same data dir, and every setting must read
back as its old or its new value, never anything else.

POWERCUT_TRIALS (default 100; the full target is 1000:
`POWERCUT_TRIALS=1000 /usr/bin/python3 -m pytest -q tests/e2e/test_powercut.py`)
and POWERCUT_SEED (default 7) tune it.

Waits are on output with deadlines; the only fixed stretches are the
point, through silence(): the +++ guard and the random moment of a cut."""
import os
import random
import time

from conftest import READY, note

TRIALS = int(os.environ.get("POWERCUT_TRIALS", "100"))
SEED = int(os.environ.get("POWERCUT_SEED", "7"))

BAUDS = [9600, 19200, 38400, 57600, 74880, 115200, 230400, 460800, 921600, 2000000]


GUARD = 0.06  # comfortably more than the 20 ms +++ guard (COMPAT #58)


def silence(seconds):
    """Lets seconds pass with nothing said to the module, where that
    stretch is itself the point: the silence around +++, and the random
    moment after a settings command at which the power is cut. Below
    10 ms it spins (sleep is too coarse to land inside a write). Never use
    it to wait for something to happen: wait on the output (d.expect,
    d.read_until)."""
    if seconds >= 0.01:
        time.sleep(seconds)
        return
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass


def _command_mode(d):
    """Leaves passthrough if the module came up in it (a saved
    AT+SAVETRANSLINK, COMPAT #79), then AT answers OK. A guarded +++ does
    that in passthrough (+QUITT under AT+SYSMSG bit0) and is an ERROR line
    in command mode, so it is sent either way: no waiting to find out which
    mode it is in. Returns the output up to AT's OK."""
    silence(GUARD)
    d.write(b"+++")
    silence(GUARD)
    d.write(b"\r\nAT\r\n")  # CR LF ends the +++ line in command mode
    out = b""
    for _ in range(5):
        out += d.answer()
        if out.endswith(b"\r\nOK\r\n"):
            return out
        if out.endswith(b"busy p...\r\n"):  # AT came while the +++ line's ERROR went out
            d.write(b"AT\r\n")
    raise AssertionError(f"AT got no OK after +++: {out!r}")


def _read_settings(d):
    d.cmd("ATE0")
    uart = d.cmd("AT+UART_DEF?")
    msg = d.cmd("AT+SYSMSG?")
    assert uart.startswith(b"+UART_DEF:") and uart.endswith(b"\r\n\r\nOK\r\n"), uart
    assert msg.startswith(b"+SYSMSG:") and msg.endswith(b"\r\n\r\nOK\r\n"), msg
    baud = int(uart[len(b"+UART_DEF:"):].split(b",")[0])
    assert uart == b"+UART_DEF:%d,8,1,0,0\r\n\r\nOK\r\n" % baud, uart
    return baud, int(msg[len(b"+SYSMSG:"):].split(b"\r")[0])


def test_powercut(make_dut, tmp_path):
    rng = random.Random(SEED)
    d = make_dut(data_dir=tmp_path / "flash")
    cur = {"uart": 115200, "sysmsg": 0}
    translink = 0
    cuts_in_flight = 0
    outcome = {"old": 0, "new": 0}  # of the setting cut in flight
    for trial in range(TRIALS):
        new = {"uart": rng.choice([b for b in BAUDS if b != cur["uart"]]),
               "sysmsg": rng.choice([m for m in range(8) if m != cur["sysmsg"]])}
        translink = 1 - translink
        link = (b'AT+SAVETRANSLINK=1,"192.0.2.1",%d,"TCP"' % rng.randrange(1, 65536)
                if translink else b"AT+SAVETRANSLINK=0")
        ops = [("uart", b"AT+UART_DEF=%d,8,1,0,0" % new["uart"]),
               ("sysmsg", b"AT+SYSMSG=%d" % new["sysmsg"]),
               ("link", link)]
        rng.shuffle(ops)
        done = rng.randrange(0, len(ops) + 1)  # this many finish with OK
        d.cmd("ATE0")
        for key, line in ops[:done]:
            assert d.cmd(line) == b"\r\nOK\r\n", (trial, line)
        possible = {k: {cur[k]} for k in cur}
        for key, _ in ops[:done]:
            if key in cur:
                possible[key] = {new[key]}
        flying = None
        if done < len(ops):
            key, line = ops[done]
            flying = key if key in cur else None
            d.write(line + b"\r\n")
            if key in cur:
                possible[key].add(new[key])
            silence(rng.choice([0, 0, 0.0002, 0.0005, 0.001, 0.002, 0.004]))
            cuts_in_flight += 1
        d.kill9()

        d.start(wait_ready=False)
        d.expect(READY)
        _command_mode(d)
        baud, msg = _read_settings(d)
        assert baud in possible["uart"], (trial, baud, possible)
        assert msg in possible["sysmsg"], (trial, msg, possible)
        if flying:
            outcome["new" if (baud, msg)[flying == "sysmsg"] == new[flying] else "old"] += 1
        cur = {"uart": baud, "sysmsg": msg}
    note(f"powercut: {TRIALS} cuts, {cuts_in_flight} with a write in flight; the setting in "
         f"flight read back old {outcome['old']} times, new {outcome['new']} times")
    assert cuts_in_flight > TRIALS // 2
    if TRIALS >= 50:  # the cuts land both before and after the write
        assert outcome["old"] and outcome["new"], outcome
