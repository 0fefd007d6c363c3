"""The file system (guide 3.7, AT+FS / AT+FSMOUNT) over the real pty, with the
fatfs partition (DATA_DIR/flash/fatfs.bin) checked by the host's own FAT
tools: mtools reads what the module wrote and writes what the module reads
(long names included), and fsck.fat -n accepts the image, also after a power
cut in the middle of a long write. Images are touched by the tools only while
the module has the volume unmounted (AT+FSMOUNT=0), as a real flash would be
reprogrammed only with the chip off."""
import os
import shutil
import subprocess

import pytest

from conftest import OK, READY, pattern, wait_for

pytestmark = pytest.mark.skipif(not (shutil.which("mdir") and shutil.which("fsck.fat")),
                                reason="mtools/dosfstools missing (scripts/deps.sh)")


def image(dut):
    return os.path.join(dut.data_dir, "flash", "fatfs.bin")


def tool(*argv, data=None):
    r = subprocess.run(argv, input=data, capture_output=True, timeout=30,
                       env=dict(os.environ, MTOOLS_SKIP_CHECK="1"))
    assert r.returncode == 0, f"{argv}: {r.stdout!r} {r.stderr!r}"
    return r.stdout


def fsck(dut):
    out = tool("fsck.fat", "-n", image(dut))
    assert b"differ" not in out and b"Reclaimed" not in out, out


def listing(dut):
    out = dut.cmd('AT+FS=0,4,"."')
    assert out.startswith(b"+FS:\r\n.\r\n..\r\n") and out.endswith(OK), out
    return out[len(b"+FS:\r\n.\r\n..\r\n"):-len(OK)].decode().split("\r\n")[:-1]


def write(dut, name, data, off=0):
    dut.write(f'AT+FS=0,1,"{name}",{off},{len(data)}\r\n')
    dut.expect(b">")
    dut.write(data)
    assert dut.answer() == OK


def read(dut, name, off, n):
    out = dut.cmd(f'AT+FS=0,2,"{name}",{off},{n}')
    head, _, rest = out.partition(b",")
    assert head.startswith(b"+FS:"), out
    got = int(head[4:])
    assert rest[got:] == b"\r\n" + OK, out
    return rest[:got]


@pytest.fixture
def fsdut(make_dut):
    d = make_dut()
    assert d.cmd("ATE0") == b"ATE0\r\n" + OK
    return d


def test_module_writes_tools_read(fsdut):
    d = fsdut
    assert listing(d) == []  # a blank partition is formatted on first use
    body = pattern(10000, 3)
    write(d, "HELLO.TXT", b"hello, fat\n")
    write(d, "a long file name.bin", body)
    write(d, "a long file name.bin", b"XYZ", off=20)  # overwrite inside
    body = body[:20] + b"XYZ" + body[23:]
    assert d.cmd('AT+FS=0,3,"a long file name.bin"') == b"+FS:10000\r\n" + OK
    assert read(d, "hello.txt", 7, 100) == b"fat\n"  # past the end: only what there is
    assert sorted(listing(d)) == ["HELLO.TXT", "a long file name.bin"]
    assert d.cmd("AT+FSMOUNT=0") == OK
    fsck(d)
    out = tool("mdir", "-i", image(d), "-b", "::")
    assert sorted(out.decode().splitlines()) == ["::/HELLO.TXT", "::/a long file name.bin"]
    assert tool("mcopy", "-i", image(d), "::HELLO.TXT", "-") == b"hello, fat\n"
    assert tool("mcopy", "-i", image(d), "::a long file name.bin", "-") == body
    # delete, then the tools see it gone
    assert d.cmd('AT+FS=0,0,"HELLO.TXT"') == OK
    assert d.cmd('AT+FS=0,3,"HELLO.TXT"').endswith(b"ERROR\r\n")
    assert d.cmd("AT+FSMOUNT=0") == OK
    fsck(d)
    assert b"HELLO" not in tool("mdir", "-i", image(d), "-b", "::")


def test_tools_write_module_reads(fsdut, tmp_path):
    d = fsdut
    assert d.cmd("AT+FSMOUNT=1") == OK  # formats the blank partition
    assert d.cmd("AT+FSMOUNT=0") == OK
    src = tmp_path / "page.html"
    body = pattern(6000, 9)
    src.write_bytes(body)
    tool("mcopy", "-i", image(d), str(src), "::index page with long name.html")
    (tmp_path / "s.txt").write_bytes(b"short")
    tool("mcopy", "-i", image(d), str(tmp_path / "s.txt"), "::S.TXT")
    assert sorted(listing(d)) == ["S.TXT", "index page with long name.html"]
    assert read(d, "index page with long name.html", 0, 6000) == body
    assert read(d, "s.txt", 0, 100) == b"short"
    write(d, "index page with long name.html", b"!", off=6000)  # extend theirs
    assert d.cmd("AT+FSMOUNT=0") == OK
    fsck(d)
    assert tool("mcopy", "-i", image(d), "::index page with long name.html", "-") == body + b"!"


def test_bad_names_and_errors(fsdut):
    d = fsdut
    err = b"ERROR\r\n"
    for name in ["../etc/passwd", "a/b", "..", ".", "/etc/hostname", ""]:
        assert d.cmd(f'AT+FS=0,3,"{name}"').endswith(err), name
        assert d.cmd(f'AT+FS=0,1,"{name}",0,1').endswith(err), name
    assert d.cmd('AT+FS=0,2,"missing",0,10').endswith(err)
    assert d.cmd('AT+FS=0,0,"missing"').endswith(err)
    assert d.cmd('AT+FS=1,4,"."').endswith(err)
    assert d.cmd('AT+FS=0,2,"x"').endswith(err)  # read needs offset and length
    assert d.cmd("AT+FSMOUNT=2").endswith(err)


def test_full_partition(fsdut):
    d = fsdut
    write(d, "big", pattern(80 * 1024, 1))
    d.write('AT+FS=0,1,"more",0,8192\r\n')
    d.expect(b">")
    d.write(pattern(8192, 2))
    assert d.answer().endswith(b"ERROR\r\n")
    assert d.cmd('AT+FS=0,3,"more"').endswith(b"ERROR\r\n")  # nothing half-written
    assert d.cmd("AT+FSMOUNT=0") == OK
    fsck(d)


def test_power_cut_during_long_write(fsdut):
    d = fsdut
    keep = pattern(5000, 7)
    write(d, "keep.bin", keep)
    d.write('AT+FS=0,1,"keep.bin",2000,60000\r\n')
    d.expect(b">")
    d.write(pattern(30000, 8))  # half the data, then the power goes
    d.ctl("power-cut")
    d.expect(READY)
    fsck(d)
    assert tool("mcopy", "-i", image(d), "::keep.bin", "-") == keep
    # data the pty still held reaches the new life as junk lines: wait until
    # a plain AT is answered OK again, then drop what is left
    def answers():
        d.buf = b""
        d.write("\r\nAT\r\n")
        try:
            return d.answer(timeout=1).endswith(OK)
        except AssertionError:
            return False
    wait_for(answers, "the module answering after the power cut")
    while d._read_some(0.2):
        pass
    d.buf = b""
    assert d.cmd("ATE0").endswith(OK)
    assert read(d, "keep.bin", 0, 9999) == keep
