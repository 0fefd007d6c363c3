"""--mfg-raw DIR: PKI files in esp-at's raw_data layout flashed into the
manufacturing NVS at start (src/posix/mfg_raw.c), named as mfg_nvs.py names
them, read back with AT+SYSMFG."""
import os
import subprocess

from conftest import ESPAT, DEADLINE


def sysmfg_read(dut, ns, key):
    """The value of one key, through AT+SYSMFG's read form."""
    out = dut.cmd(f'AT+SYSMFG=1,"{ns}","{key}"')
    head = f'+SYSMFG:"{ns}","{key}",8,'.encode()
    assert out.startswith(head), out
    rest = out[len(head):]
    length, _, data = rest.partition(b",")
    return data[:int(length)]


def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


def test_raw_dir_replaces_namespaces(make_dut, tmp_path):
    raw = tmp_path / "raw"
    write(raw / "client_ca" / "client_ca_00.crt", b"CA zero\n")
    write(raw / "client_ca" / "client_ca_01.crt", b"CA one\n")
    write(raw / "client_ca" / "notes.txt", b"not a PKI file\n")
    write(raw / "server_key" / "server.key", b"KEY\n")
    d = make_dut(args=["--mfg-raw", str(raw)])
    d.cmd("ATE0")
    # two files: <ns>.<index> in name order; one file: the namespace itself
    out = d.cmd('AT+SYSMFG=1,"client_ca"')
    assert out == (b'+SYSMFG:"client_ca","client_ca.0",8\r\n'
                   b'+SYSMFG:"client_ca","client_ca.1",8\r\n\r\nOK\r\n')
    assert sysmfg_read(d, "client_ca", "client_ca.1") == b"CA one\n"
    assert d.cmd('AT+SYSMFG=1,"server_key"') == (
        b'+SYSMFG:"server_key","server_key",8\r\n\r\nOK\r\n')
    # namespaces the directory does not hold keep the factory's
    assert sysmfg_read(d, "client_cert", "client_cert.0").startswith(
        b"-----BEGIN CERTIFICATE-----")
    # and the factory_param of a new device was seeded before
    assert b"MINI-1" in d.cmd('AT+SYSMFG=1,"factory_param","module_name"')


def test_bad_raw_dir_refused(tmp_path):
    cases = {
        "missing": tmp_path / "nope",
        "long namespace": tmp_path / "long",
        "empty file": tmp_path / "empty",
    }
    write(cases["long namespace"] / ("n" * 16) / "a.crt", b"x")
    write(cases["empty file"] / "client_ca" / "a.crt", b"")
    for what, raw in cases.items():
        data = tmp_path / f"data-{what.replace(' ', '-')}"
        p = subprocess.run([ESPAT, "--stdio", "--data-dir", str(data), "--mfg-raw", str(raw)],
                           stdin=subprocess.DEVNULL, capture_output=True, timeout=DEADLINE)
        assert p.returncode == 2, (what, p.returncode, p.stderr)
        assert p.stderr.startswith(b"espat: --mfg-raw "), (what, p.stderr)
