"""Throwaway test PKI for the end-to-end tests (python3-cryptography).

The committed factory PKI (pki/factory, see pki/README.md) covers the happy
paths; this module makes the unhappy ones in a test's tmp dir: a CA the
module does not trust, an expired or not-yet-valid server certificate, a
certificate for the wrong name, a client certificate from an unknown CA.

    ca = make_ca(tmp_path, "evil")
    srv = make_leaf(tmp_path, ca, "srv", "evil-server", sans=["localhost"])
    old = make_leaf(tmp_path, factory_ca(), "old", "espat-server",
                    sans=["localhost"], not_after=days_ago(1))
    subprocess.run(["openssl", "s_server", "-cert", srv.cert, "-key", srv.key, ...])

Every function writes PEM files (certificates, unencrypted PKCS#8 keys) and
returns their paths as a Pair; nothing is cached, nothing is global.
"""
import datetime
import ipaddress
import os
from typing import NamedTuple

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FACTORY = os.path.join(REPO, "pki", "factory")


class Pair(NamedTuple):
    """Paths of a certificate and its private key (PEM files)."""
    cert: str
    key: str


def days_ago(n):
    """The UTC time n days before now (negative n: in the future)."""
    return datetime.datetime.utcnow() - datetime.timedelta(days=n)


def factory(ns, name):
    """Path of a file of the factory PKI, e.g. factory("server_cert",
    "server_cert.crt")."""
    return os.path.join(FACTORY, ns, name)


def factory_ca():
    """The factory root (the file behind client_ca_00, server_ca, mqtt_ca)
    with its committed private key, usable as make_leaf's ca: leaves it
    signs are trusted wherever the factory PKI is."""
    return Pair(factory("server_ca", "server_ca.crt"),
                os.path.join(REPO, "pki", "factory_ca.key"))


def _utc(t):
    """cryptography 38 wants naive UTC datetimes; accept aware ones too."""
    if t.tzinfo is not None:
        t = t.astimezone(datetime.timezone.utc).replace(tzinfo=None)
    return t


def _new_key(key_type):
    if key_type == "rsa":
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    if key_type == "ec":
        return ec.generate_private_key(ec.SECP256R1())
    raise ValueError("key_type must be 'rsa' or 'ec', not %r" % (key_type,))


def _write(d, name, cert, key):
    os.makedirs(d, exist_ok=True)
    pair = Pair(os.path.join(str(d), name + ".crt"), os.path.join(str(d), name + ".key"))
    with open(pair.cert, "wb") as f:
        f.write(cert.public_bytes(serialization.Encoding.PEM))
    with open(pair.key, "wb") as f:
        f.write(key.private_bytes(serialization.Encoding.PEM,
                                  serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()))
    return pair


def _san(s):
    """"DNS:x", "IP:x", or a bare name or address (guessed)."""
    if s.startswith("DNS:"):
        return x509.DNSName(s[4:])
    if s.startswith("IP:"):
        return x509.IPAddress(ipaddress.ip_address(s[3:]))
    try:
        return x509.IPAddress(ipaddress.ip_address(s))
    except ValueError:
        return x509.DNSName(s)


def make_ca(dir, name, cn=None, not_before=None, not_after=None, key_type="rsa"):
    """Makes a self-signed root CA in dir as <name>.crt / <name>.key and
    returns their paths (a Pair, usable as make_leaf's ca).

    cn defaults to "<name> Test CA" (O=espat-test). Validity defaults to
    from a day ago to ten years ahead. The CA has basicConstraints critical
    CA:TRUE and keyUsage keyCertSign, cRLSign, like the factory root.
    key_type is "rsa" (2048 bits, the default) or "ec" (P-256, faster).
    """
    key = _new_key(key_type)
    subject = x509.Name([
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "espat-test"),
        x509.NameAttribute(NameOID.COMMON_NAME, cn or "%s Test CA" % name),
    ])
    ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
    cert = (x509.CertificateBuilder()
            .subject_name(subject).issuer_name(subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(_utc(not_before or days_ago(1)))
            .not_valid_after(_utc(not_after or days_ago(-3650)))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(
                digital_signature=False, content_commitment=False, key_encipherment=False,
                data_encipherment=False, key_agreement=False, key_cert_sign=True,
                crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(ski, critical=False)
            .sign(key, hashes.SHA256()))
    return _write(dir, name, cert, key)


def make_leaf(dir, ca, name, cn, sans=(), not_before=None, not_after=None, server=True,
              key_type="rsa"):
    """Makes a leaf certificate signed by ca (a Pair from make_ca or
    factory_ca()) in dir as <name>.crt / <name>.key and returns their
    paths (a Pair).

    cn is the subject's commonName (O=espat-test). sans lists
    subjectAltName entries: "DNS:name", "IP:addr", or a bare name or
    address (an address becomes an IP entry). Validity defaults to from a
    day ago to a year ahead; pass datetimes (naive ones are UTC) for an
    expired (not_after=days_ago(1)) or not-yet-valid certificate.
    server=True gives extendedKeyUsage serverAuth, server=False clientAuth.
    key_type is "rsa" (2048 bits, the default) or "ec" (P-256).
    """
    with open(ca.cert, "rb") as f:
        ca_cert = x509.load_pem_x509_certificate(f.read())
    with open(ca.key, "rb") as f:
        ca_key = serialization.load_pem_private_key(f.read(), password=None)
    key = _new_key(key_type)
    subject = x509.Name([
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "espat-test"),
        x509.NameAttribute(NameOID.COMMON_NAME, cn),
    ])
    usage = ExtendedKeyUsageOID.SERVER_AUTH if server else ExtendedKeyUsageOID.CLIENT_AUTH
    b = (x509.CertificateBuilder()
         .subject_name(subject).issuer_name(ca_cert.subject)
         .public_key(key.public_key())
         .serial_number(x509.random_serial_number())
         .not_valid_before(_utc(not_before or days_ago(1)))
         .not_valid_after(_utc(not_after or days_ago(-365)))
         .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
         .add_extension(x509.KeyUsage(
             digital_signature=True, content_commitment=False,
             key_encipherment=key_type == "rsa", data_encipherment=False,
             key_agreement=False, key_cert_sign=False, crl_sign=False,
             encipher_only=False, decipher_only=False), critical=True)
         .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
         .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                        critical=False)
         .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
             ca_key.public_key()), critical=False))
    if sans:
        b = b.add_extension(x509.SubjectAlternativeName([_san(s) for s in sans]),
                            critical=False)
    return _write(dir, name, b.sign(ca_key, hashes.SHA256()), key)
