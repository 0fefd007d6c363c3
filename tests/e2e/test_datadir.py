"""The data dir is a boundary (COMPAT #200-209): a symlink planted at any name
the module uses in it is refused with a message, never followed out of the
data dir (the victim is neither written nor read), and the files holding
passwords and keys are private (0600 files, 0700 directories)."""
import os
import stat
import subprocess

import pytest

from conftest import DEADLINE, ESPAT, OK

VICTIM = b"victim: must stay as it is\n" * 8
OLD = 1_000_000_000  # the victim's mtime, far in the past


def populate(make_dut, data):
    """Runs a module once on data so that every store exists (the settings
    NVS holds a saved Wi-Fi password), then stops it."""
    d = make_dut(data_dir=data)
    d.cmd("ATE0")
    assert d.cmd("AT+SYSSTORE=1") == OK
    assert d.cmd("AT+CWMODE=1") == OK
    assert d.cmd('AT+CWJAP="espat","espatpass"', timeout=20).endswith(OK)
    assert d.stop() == 0
    return d


def make_victim(path):
    with open(path, "wb") as f:
        f.write(VICTIM)
    os.chmod(path, 0o644)
    os.utime(path, (OLD, OLD))
    return path


def assert_untouched(path):
    st = os.lstat(path)
    with open(path, "rb") as f:
        assert f.read() == VICTIM, f"{path} was written"
    assert st.st_mtime == OLD, f"{path} was modified"
    assert stat.S_IMODE(st.st_mode) == 0o644, f"{path} mode changed"


def plant(data, name, target):
    """Replaces data/name (file or directory) with a symlink to target."""
    p = os.path.join(data, name)
    if os.path.isdir(p) and not os.path.islink(p):
        for f in os.listdir(p):
            os.unlink(os.path.join(p, f))
        os.rmdir(p)
    elif os.path.lexists(p):
        os.unlink(p)
    os.symlink(target, p)


def run_refused(data):
    """Starts espat on data; it must refuse to start (exit 2). Its stderr."""
    p = subprocess.run([ESPAT, "--stdio", "--no-pace", "--data-dir", str(data)],
                       stdin=subprocess.DEVNULL, capture_output=True, timeout=DEADLINE)
    err = p.stderr.decode(errors="replace")
    assert p.returncode == 2, (p.returncode, err)
    assert b"ready" not in p.stdout
    return err


# Every name the module opens in the data dir at start (from running it once
# and walking the dir, plus the temporaries of the atomic replace).
AT_START = [".lock", "nvs.db", "mfg_nvs.db", "efuse.bin", "flash", "flash/fatfs.bin",
            "flash/mfg_nvs.bin", "nvs.db.tmp", "mfg_nvs.db.tmp"]


@pytest.mark.parametrize("name", AT_START)
@pytest.mark.parametrize("dangling", [False, True], ids=["victim", "dangling"])
def test_symlink_at_start_is_refused(make_dut, tmp_path, name, dangling):
    data = tmp_path / "data"
    populate(make_dut, data)
    victim = tmp_path / "victim"
    if name == "flash":
        os.mkdir(victim)
        for f in ("fatfs.bin", "mfg_nvs.bin"):
            make_victim(victim / f)
    elif not dangling:
        make_victim(victim)
    plant(data, name, victim)
    err = run_refused(data)
    assert name.split("/")[-1] in err and "symbolic link" in err, err
    assert os.path.islink(data / name), "the planted link was replaced"
    if name == "flash":
        for f in ("fatfs.bin", "mfg_nvs.bin"):
            assert_untouched(victim / f)
    elif dangling:
        assert not os.path.lexists(victim), "created through a dangling link"
    else:
        assert_untouched(victim)


def test_new_efuse_through_symlink_is_refused(tmp_path):
    """efuse.bin is created on the first start: a link there is not followed."""
    data = tmp_path / "data"
    os.mkdir(data)
    victim = make_victim(tmp_path / "victim")
    os.symlink(victim, data / "efuse.bin")
    err = run_refused(data)
    assert "efuse.bin" in err and "symbolic link" in err, err
    assert_untouched(victim)


def test_fifo_and_hard_link_refused(make_dut, tmp_path):
    data = tmp_path / "data"
    populate(make_dut, data)
    os.unlink(data / "nvs.db")
    os.mkfifo(data / "nvs.db")
    err = run_refused(data)  # and does not hang on the FIFO
    assert "nvs.db: not a regular file" in err, err
    os.unlink(data / "nvs.db")
    # a hard link would make the in-place partition writes reach the victim
    victim = make_victim(tmp_path / "victim")
    os.unlink(data / "flash" / "fatfs.bin")
    os.link(victim, data / "flash" / "fatfs.bin")
    err = run_refused(data)
    assert "fatfs.bin: has other hard links" in err, err
    assert_untouched(victim)


def test_ctl_socket_symlink_refused(make_dut, tmp_path):
    data = tmp_path / "data"
    populate(make_dut, data)
    victim = make_victim(tmp_path / "victim")
    os.symlink(victim, data / "ctl.sock")
    err = run_refused(data)
    assert "ctl.sock: exists and is not a socket" in err, err
    assert_untouched(victim)


def prompt_write(d, cmd, data):
    d.write(cmd + "\r\n")
    d.expect_re(rb"(?:\r\nOK\r\n)?>")
    d.write(data)
    return d.answer()


def test_symlinks_planted_while_running(make_dut, tmp_path):
    """Links planted after start: the stores' writes (settings, manufacturing
    NVS) refuse them with ERROR and a message; the partitions stay the files
    opened at start; OTA images go through files_dir (O_NOFOLLOW)."""
    data = tmp_path / "data"
    populate(make_dut, data)
    d = make_dut(data_dir=data)
    d.cmd("ATE0")
    victims = {}
    names = ["nvs.db", "mfg_nvs.db.tmp", "flash/fatfs.bin", "flash/mfg_nvs.bin",
             ".ota_0.bin.tmp", ".ota_1.bin.tmp"]
    for i, name in enumerate(names):
        victims[name] = make_victim(tmp_path / f"victim{i}")
        plant(data, name, victims[name])
    # settings NVS: a saved Wi-Fi password goes to nvs.db (now a link); how
    # the command answers a failed save is the settings' business
    d.cmd('AT+CWJAP="espat","espatpass"', timeout=20)
    # manufacturing NVS: its temporary is a link
    got = prompt_write(d, 'AT+SYSMFG=2,"client_ca","client_ca.9",8,4', b"abcd")
    assert got.endswith(b"ERROR\r\n"), got
    # partitions: erase, write and read go to the files opened at start
    assert d.cmd('AT+SYSFLASH=0,"fatfs",0,4096', timeout=10) == OK
    assert prompt_write(d, 'AT+SYSFLASH=1,"fatfs",0,4', b"\x01\x02\x03\x04").endswith(OK)
    got = d.cmd('AT+SYSFLASH=2,"fatfs",0,22')
    assert b"victim" not in got and b"\x01\x02\x03\x04" in got, got
    assert d.cmd('AT+SYSFLASH=0,"mfg_nvs",0,4096', timeout=10) == OK
    assert d.stop() == 0
    err = d.stderr()
    assert "nvs.db: cannot write: a symbolic link" in err, err
    assert "mfg_nvs.db: cannot write: a symbolic link" in err, err
    for name, v in victims.items():
        assert os.path.islink(data / name), name
        assert_untouched(v)


def mode(p):
    return stat.S_IMODE(os.lstat(p).st_mode)


def test_modes_private(make_dut, tmp_path):
    data = tmp_path / "new" / "data"
    d = make_dut(data_dir=data)
    d.cmd("ATE0")
    assert d.cmd("AT+SYSSTORE=1") == OK
    assert d.cmd("AT+CWMODE=1") == OK
    assert d.cmd('AT+CWJAP="espat","espatpass"', timeout=20).endswith(OK)
    assert mode(data / "ctl.sock") == 0o600
    assert d.stop() == 0
    assert mode(data) == 0o700 and mode(data.parent) == 0o700
    assert mode(data / "flash") == 0o700
    files = [".lock", "nvs.db", "mfg_nvs.db", "efuse.bin", "flash/fatfs.bin",
             "flash/mfg_nvs.bin"]
    for f in files:
        assert mode(data / f) == 0o600, f
    # found wider (an older espat made them 0644): narrowed when opened
    for f in files:
        os.chmod(data / f, 0o644)
    d.start()
    assert d.stop() == 0
    for f in files:
        assert mode(data / f) == 0o600, f


def test_user_path_may_be_a_symlink(make_dut, tmp_path):
    """The path the user gives is trusted, symlinks on the way included."""
    real = tmp_path / "real"
    os.mkdir(real)
    os.symlink(real, tmp_path / "via")
    d = make_dut(data_dir=tmp_path / "via")
    d.cmd("ATE0")
    assert d.stop() == 0
    assert (real / "flash" / "fatfs.bin").is_file()
