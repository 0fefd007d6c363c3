"""The factory test PKI (pki/factory, pki/README.md) checked with the openssl
CLI: layout, the root, every leaf's chain, purpose, names, dates and key;
src/cmd/pki_factory.[ch] against the files (regenerated, and compiled and
dumped); a TLS handshake between openssl s_server and s_client using only
factory files, as the guide's client/server examples do; and the throwaway
PKI helpers of tests/e2e/pki.py.

Every check of the layout runs twice: on the committed PKI and on one that
scripts/gen_pki.sh makes afresh in a scratch copy of the scripts, so the
script itself stays correct. Nothing here needs espat.
"""
import os
import re
import select
import shutil
import subprocess
import time

import pytest

import pki

REPO = pki.REPO
PY = "/usr/bin/python3"
DEADLINE = 10.0

CA_SUBJECT = "subject=O = espat, CN = espat Factory Test CA"
NOT_BEFORE = "notBefore=Jan  1 00:00:00 2024 GMT"
NOT_AFTER = "notAfter=Jan  1 00:00:00 2124 GMT"

# namespace -> files, exactly esp-at's raw_data names
LAYOUT = {
    "client_ca": ["client_ca_00.crt", "client_ca_01.crt"],
    "client_cert": ["client_cert_00.crt", "client_cert_01.crt"],
    "client_key": ["client_key_00.key", "client_key_01.key"],
    "server_ca": ["server_ca.crt"],
    "server_cert": ["server_cert.crt"],
    "server_key": ["server.key"],
    "mqtt_ca": ["mqtt_ca.crt"],
    "mqtt_cert": ["mqtt_client.crt"],
    "mqtt_key": ["mqtt_client.key"],
}
CAS = ["client_ca/client_ca_00.crt", "client_ca/client_ca_01.crt",
       "server_ca/server_ca.crt", "mqtt_ca/mqtt_ca.crt"]
# cert, key, CN, purpose it must pass, purpose it must fail
LEAVES = [
    ("server_cert/server_cert.crt", "server_key/server.key", "espat-server",
     "sslserver", "sslclient"),
    ("client_cert/client_cert_00.crt", "client_key/client_key_00.key", "espat-client-00",
     "sslclient", "sslserver"),
    ("client_cert/client_cert_01.crt", "client_key/client_key_01.key", "espat-client-01",
     "sslclient", "sslserver"),
    ("mqtt_cert/mqtt_client.crt", "mqtt_key/mqtt_client.key", "espat-mqtt-client",
     "sslclient", "sslserver"),
]
# The table, in order: (namespace, key, file)
TABLE = [
    ("client_ca", "client_ca.0", "client_ca_00.crt"),
    ("client_ca", "client_ca.1", "client_ca_01.crt"),
    ("client_cert", "client_cert.0", "client_cert_00.crt"),
    ("client_cert", "client_cert.1", "client_cert_01.crt"),
    ("client_key", "client_key.0", "client_key_00.key"),
    ("client_key", "client_key.1", "client_key_01.key"),
    ("mqtt_ca", "mqtt_ca", "mqtt_ca.crt"),
    ("mqtt_cert", "mqtt_cert", "mqtt_client.crt"),
    ("mqtt_key", "mqtt_key", "mqtt_client.key"),
    ("server_ca", "server_ca", "server_ca.crt"),
    ("server_cert", "server_cert", "server_cert.crt"),
    ("server_key", "server_key", "server.key"),
]


def openssl(*args, check=True):
    r = subprocess.run(["openssl", *args], capture_output=True, text=True, timeout=DEADLINE)
    if check:
        assert r.returncode == 0, "openssl %s: %s%s" % (" ".join(args), r.stdout, r.stderr)
    return r


@pytest.fixture(scope="module")
def fresh_root(tmp_path_factory):
    """A scratch tree with a copy of the scripts, in which gen_pki.sh has
    generated pki/ and src/cmd/pki_factory.[ch]."""
    root = tmp_path_factory.mktemp("gen")
    shutil.copytree(os.path.join(REPO, "scripts"), root / "scripts")
    (root / "src" / "cmd").mkdir(parents=True)
    r = subprocess.run(["bash", str(root / "scripts" / "gen_pki.sh")], capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    return str(root)


@pytest.fixture(params=["committed", "fresh"])
def root(request):
    """The tree whose pki/ is under test: the repository, or fresh_root."""
    if request.param == "committed":
        return REPO
    return request.getfixturevalue("fresh_root")


def f(root, rel):
    return os.path.join(root, "pki", "factory", rel)


def test_layout(root):
    factory = os.path.join(root, "pki", "factory")
    assert sorted(os.listdir(factory)) == sorted(LAYOUT)
    for ns, files in LAYOUT.items():
        assert sorted(os.listdir(os.path.join(factory, ns))) == files
        for name in files:
            with open(os.path.join(factory, ns, name), "rb") as fh:
                data = fh.read()
            assert data.endswith(b"\n"), name
            first = data.split(b"\n", 1)[0]
            if name.endswith(".key"):
                assert first == b"-----BEGIN PRIVATE KEY-----", name  # PKCS#8, unencrypted
            else:
                assert first == b"-----BEGIN CERTIFICATE-----", name


def test_root_ca(root):
    blobs = set()
    for rel in CAS:
        with open(f(root, rel), "rb") as fh:
            blobs.add(fh.read())
    assert len(blobs) == 1, "client_ca_00/_01, server_ca and mqtt_ca must be the one root"
    ca = f(root, CAS[0])
    out = openssl("x509", "-in", ca, "-noout", "-subject", "-issuer", "-startdate", "-enddate",
                  "-ext", "basicConstraints,keyUsage").stdout
    assert CA_SUBJECT in out
    assert CA_SUBJECT.replace("subject=", "issuer=") in out
    assert NOT_BEFORE in out and NOT_AFTER in out
    assert re.search(r"Basic Constraints: critical\s+CA:TRUE\n", out), out
    assert re.search(r"Key Usage: critical\s+Certificate Sign, CRL Sign\n", out), out
    text = openssl("x509", "-in", ca, "-noout", "-text").stdout
    assert "Public-Key: (2048 bit)" in text and "sha256WithRSAEncryption" in text
    openssl("verify", "-CAfile", ca, ca)
    # pki/factory_ca.key is this root's key
    assert (openssl("x509", "-in", ca, "-noout", "-pubkey").stdout ==
            openssl("pkey", "-in", os.path.join(root, "pki", "factory_ca.key"),
                    "-pubout").stdout)


@pytest.mark.parametrize("cert,key,cn,good,bad", LEAVES, ids=[x[2] for x in LEAVES])
def test_leaf(root, cert, key, cn, good, bad):
    c, k = f(root, cert), f(root, key)
    out = openssl("x509", "-in", c, "-noout", "-subject", "-issuer", "-startdate", "-enddate",
                  "-ext", "basicConstraints,keyUsage,extendedKeyUsage,subjectAltName").stdout
    assert "subject=O = espat, CN = %s\n" % cn in out
    assert CA_SUBJECT.replace("subject=", "issuer=") in out
    assert NOT_BEFORE in out and NOT_AFTER in out
    assert re.search(r"Basic Constraints: critical\s+CA:FALSE\n", out), out
    assert re.search(r"Key Usage: critical\s+Digital Signature, Key Encipherment\n", out), out
    eku = "TLS Web Server Authentication" if good == "sslserver" else \
        "TLS Web Client Authentication"
    assert re.search(r"Extended Key Usage: \n\s+%s\n" % eku, out), out
    if good == "sslserver":
        assert ("DNS:localhost, DNS:espat.local, IP Address:127.0.0.1, "
                "IP Address:0:0:0:0:0:0:0:1") in out
    else:
        assert "Subject Alternative Name" not in out
    text = openssl("x509", "-in", c, "-noout", "-text").stdout
    assert "Public-Key: (2048 bit)" in text and "sha256WithRSAEncryption" in text
    # every CA file verifies every leaf; the purpose is enforced
    for ca in CAS:
        assert openssl("verify", "-CAfile", f(root, ca), c).stdout == "%s: OK\n" % c
    openssl("verify", "-CAfile", f(root, "server_ca/server_ca.crt"), "-purpose", good, c)
    r = openssl("verify", "-CAfile", f(root, "server_ca/server_ca.crt"), "-purpose", bad, c,
                check=False)
    assert r.returncode != 0 and "unsuitable certificate purpose" in r.stdout + r.stderr
    # the key is the certificate's
    assert (openssl("x509", "-in", c, "-noout", "-pubkey").stdout ==
            openssl("pkey", "-in", k, "-pubout").stdout)
    assert "Private-Key: (2048 bit" in openssl("pkey", "-in", k, "-noout", "-text").stdout


def test_server_name_checks(root):
    c, ca = f(root, "server_cert/server_cert.crt"), f(root, "client_ca/client_ca_00.crt")
    for host in ("localhost", "espat.local"):
        openssl("verify", "-CAfile", ca, "-verify_hostname", host, c)
    for ip in ("127.0.0.1", "::1"):
        openssl("verify", "-CAfile", ca, "-verify_ip", ip, c)
    r = openssl("verify", "-CAfile", ca, "-verify_hostname", "example.com", c, check=False)
    assert r.returncode != 0


def gen_table(root, out_dir):
    out_c, out_h = os.path.join(out_dir, "t.c"), os.path.join(out_dir, "t.h")
    subprocess.run([PY, os.path.join(REPO, "scripts", "gen_pki_table.py"),
                    os.path.join(root, "pki", "factory"), out_c, out_h],
                   check=True, timeout=DEADLINE)
    with open(out_c, "rb") as a, open(out_h, "rb") as b:
        return a.read(), b.read()


def test_table_regenerates_identically(root, tmp_path):
    c, h = gen_table(root, str(tmp_path))
    with open(os.path.join(root, "src", "cmd", "pki_factory.c"), "rb") as fh:
        assert fh.read() == c, "src/cmd/pki_factory.c differs: run scripts/gen_pki.sh --table-only"
    with open(os.path.join(root, "src", "cmd", "pki_factory.h"), "rb") as fh:
        assert fh.read() == h
    assert c.startswith(b"/* Generated by scripts/gen_pki.sh from pki/factory: do not edit. */\n")
    assert h.startswith(b"/* Generated by scripts/gen_pki.sh from pki/factory: do not edit. */\n")
    assert gen_table(root, str(tmp_path)) == (c, h)


DUMP_C = r"""
#include <stdio.h>
#include <string.h>
#include "cmd/pki_factory.h"

int main(void)
{
	for (size_t i = 0; i < espat_factory_pki_len; i++) {
		const struct espat_pki_entry *e = &espat_factory_pki[i];
		if (strlen(e->pem) != e->len)
			return 1;
		printf("%s %s %zu\n", e->ns, e->key, e->len);
		fwrite(e->pem, 1, e->len, stdout);
	}
	return 0;
}
"""


def test_table_compiles_to_the_files(root, tmp_path):
    """Builds the table with the Makefile's warnings and dumps it: the C
    strings are the files' bytes, under esp-at's mfg_nvs names."""
    with open(os.path.join(REPO, "Makefile")) as fh:
        mk = fh.read()
    warn = re.search(r"^WARN\s*:=\s*((?:.*\\\n)*.*)$", mk, re.M).group(1)
    warn = warn.replace("\\\n", " ").split()
    src = tmp_path / "dump.c"
    src.write_text(DUMP_C)
    exe = str(tmp_path / "dump")
    subprocess.run(["cc", "-std=c11", "-O0", *warn, "-D_GNU_SOURCE",
                    "-I", os.path.join(root, "src"), "-o", exe, str(src),
                    os.path.join(root, "src", "cmd", "pki_factory.c")],
                   check=True, timeout=60)
    out = subprocess.run([exe], check=True, capture_output=True, timeout=DEADLINE).stdout
    got = []
    while out:
        head, out = out.split(b"\n", 1)
        ns, key, n = head.decode().split(" ")
        got.append((ns, key, out[:int(n)]))
        out = out[int(n):]
    want = []
    for ns, key, name in TABLE:
        with open(f(root, os.path.join(ns, name)), "rb") as fh:
            want.append((ns, key, fh.read()))
    assert got == want


def test_gen_pki_refuses_to_overwrite(fresh_root):
    script = os.path.join(fresh_root, "scripts", "gen_pki.sh")
    before = os.stat(f(fresh_root, "server_key/server.key")).st_mtime_ns
    r = subprocess.run(["bash", script], capture_output=True, text=True, timeout=DEADLINE)
    assert r.returncode == 1 and "--force" in r.stderr
    assert os.stat(f(fresh_root, "server_key/server.key")).st_mtime_ns == before


# ---- openssl s_server <-> s_client with the factory files ---------------

class Proc:
    """A child whose merged stdout/stderr is collected with deadlines."""

    def __init__(self, args):
        self.p = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT)
        self.out = b""

    def wait_for(self, pattern, timeout=DEADLINE):
        """Reads until pattern (bytes regex) matches the output; returns
        the match. Fails at the deadline or when the child exits first."""
        end = time.monotonic() + timeout
        while True:
            m = re.search(pattern, self.out)
            if m:
                return m
            left = end - time.monotonic()
            assert left > 0, "no %r in %r" % (pattern, self.out)
            r, _, _ = select.select([self.p.stdout], [], [], left)
            if r:
                chunk = os.read(self.p.stdout.fileno(), 4096)
                assert chunk, "exited without %r: %r" % (pattern, self.out)
                self.out += chunk

    def finish(self, timeout=DEADLINE):
        """Waits for the exit (reading what is left); returns the code."""
        end = time.monotonic() + timeout
        while True:
            r, _, _ = select.select([self.p.stdout], [], [], max(0, end - time.monotonic()))
            assert r, "still running: %r" % self.out
            chunk = os.read(self.p.stdout.fileno(), 4096)
            if not chunk:
                return self.p.wait(timeout=max(0.1, end - time.monotonic()))
            self.out += chunk

    def send(self, data):
        self.p.stdin.write(data)
        self.p.stdin.flush()

    def close(self):
        if self.p.poll() is None:
            self.p.kill()
        self.p.wait()
        for s in (self.p.stdin, self.p.stdout):
            try:
                s.close()
            except OSError:
                pass


def s_server(cert, key, ca):
    """openssl s_server on a free loopback port requiring a client
    certificate that ca verifies; returns (Proc, port)."""
    p = Proc(["openssl", "s_server", "-accept", "127.0.0.1:0", "-naccept", "1",
              "-cert", cert, "-key", key, "-Verify", "1", "-CAfile", ca,
              "-verify_return_error"])
    return p, int(p.wait_for(rb"ACCEPT 127\.0\.0\.1:(\d+)\n").group(1))


def s_client(port, cert, key, ca, host="localhost"):
    args = ["openssl", "s_client", "-connect", "127.0.0.1:%d" % port, "-CAfile", ca,
            "-verify_return_error", "-verify_hostname", host, "-ign_eof"]
    if cert:
        args += ["-cert", cert, "-key", key]
    return Proc(args)


def test_tls_handshake_with_factory_files():
    """The guide's flows with factory files only: the PC server uses
    server_cert/server.key and verifies clients with server_ca; the PC
    client (as the module would) presents client_cert_00 and verifies the
    server with client_ca_00."""
    root = REPO
    srv, port = s_server(f(root, "server_cert/server_cert.crt"),
                         f(root, "server_key/server.key"), f(root, "server_ca/server_ca.crt"))
    cli = None
    try:
        cli = s_client(port, f(root, "client_cert/client_cert_00.crt"),
                       f(root, "client_key/client_key_00.key"),
                       f(root, "client_ca/client_ca_00.crt"))
        cli.wait_for(rb"Verify return code: 0 \(ok\)")
        cli.wait_for(rb"subject=O = espat, CN = espat-server")
        srv.wait_for(rb"subject=O = espat, CN = espat-client-00")
        cli.send(b"hello from the module\n")
        srv.wait_for(rb"hello from the module\n")
        srv.send(b"hello from the PC\n")
        cli.wait_for(rb"hello from the PC\n")
    finally:
        for p in (cli, srv):
            if p:
                p.close()


def test_tls_server_refuses_client_without_cert():
    srv, port = s_server(f(REPO, "server_cert/server_cert.crt"),
                         f(REPO, "server_key/server.key"), f(REPO, "server_ca/server_ca.crt"))
    cli = None
    try:
        cli = s_client(port, None, None, f(REPO, "client_ca/client_ca_00.crt"))
        srv.wait_for(rb"peer did not return a certificate|certificate required")
    finally:
        for p in (cli, srv):
            if p:
                p.close()


# ---- tests/e2e/pki.py ------------------------------------------------------

def test_helpers_make_verifiable_pki(tmp_path):
    ca = pki.make_ca(tmp_path, "ca")
    srv = pki.make_leaf(tmp_path, ca, "srv", "test-server", sans=["localhost", "IP:127.0.0.1"])
    cli = pki.make_leaf(tmp_path, ca, "cli", "test-client", server=False, key_type="ec")
    openssl("verify", "-CAfile", ca.cert, "-purpose", "sslserver", "-verify_hostname",
            "localhost", srv.cert)
    openssl("verify", "-CAfile", ca.cert, "-verify_ip", "127.0.0.1", srv.cert)
    openssl("verify", "-CAfile", ca.cert, "-purpose", "sslclient", cli.cert)
    for pair in (ca, srv, cli):
        with open(pair.key, "rb") as fh:
            assert fh.read().startswith(b"-----BEGIN PRIVATE KEY-----\n")
        assert (openssl("x509", "-in", pair.cert, "-noout", "-pubkey").stdout ==
                openssl("pkey", "-in", pair.key, "-pubout").stdout)


def test_helpers_make_the_failures(tmp_path):
    good = pki.make_ca(tmp_path, "good")
    evil = pki.make_ca(tmp_path, "evil", key_type="ec")
    cases = {
        "unknown CA": pki.make_leaf(tmp_path, evil, "a", "srv", sans=["localhost"]),
        "expired": pki.make_leaf(tmp_path, good, "b", "srv", sans=["localhost"],
                                 not_before=pki.days_ago(10), not_after=pki.days_ago(1)),
        "not yet valid": pki.make_leaf(tmp_path, good, "c", "srv", sans=["localhost"],
                                       not_before=pki.days_ago(-1)),
        "wrong name": pki.make_leaf(tmp_path, good, "d", "srv", sans=["other.example"]),
    }
    want = {"unknown CA": "unable to get local issuer certificate",
            "expired": "certificate has expired",
            "not yet valid": "certificate is not yet valid",
            "wrong name": "hostname mismatch"}
    for what, pair in cases.items():
        r = openssl("verify", "-CAfile", good.cert, "-verify_hostname", "localhost", pair.cert,
                    check=False)
        assert r.returncode != 0 and want[what] in r.stdout + r.stderr, (what, r)


def test_helpers_factory_ca_signs_trusted_leaves(tmp_path):
    leaf = pki.make_leaf(tmp_path, pki.factory_ca(), "x", "espat-server", sans=["localhost"],
                         key_type="ec")
    openssl("verify", "-CAfile", pki.factory("client_ca", "client_ca_00.crt"),
            "-verify_hostname", "localhost", leaf.cert)
