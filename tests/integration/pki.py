"""A throw-away certificate authority for the TLS tests (python3-cryptography): a CA and server
certificates for an IP address, valid, expired or for another address, as PEM files."""

import datetime
import ipaddress

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


class Pki:
    """A CA and the certificates the test needs, written as PEM files into `directory`."""

    def __init__(self, directory, name):
        self.dir = directory
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
        now = datetime.datetime.now(datetime.timezone.utc)
        self.cert = (x509.CertificateBuilder().subject_name(self.name).issuer_name(self.name)
                     .public_key(self.key.public_key()).serial_number(x509.random_serial_number())
                     .not_valid_before(now - datetime.timedelta(days=1))
                     .not_valid_after(now + datetime.timedelta(days=30))
                     .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
                     .sign(self.key, hashes.SHA256()))
        self.ca_file = self.write(f"{name}.pem", self.cert.public_bytes(serialization.Encoding.PEM))

    def write(self, file_name, data, mode=0o644):
        path = self.dir / file_name
        path.write_bytes(data)
        path.chmod(mode)
        return path

    def issue(self, file_name, ip="127.0.0.1", not_before=None, not_after=None):
        """A server certificate for `ip` (an IP subjectAltName); returns (cert file, key file)."""
        now = datetime.datetime.now(datetime.timezone.utc)
        key = ec.generate_private_key(ec.SECP256R1())
        cert = (x509.CertificateBuilder()
                .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "galeratopd")]))
                .issuer_name(self.name).public_key(key.public_key()).serial_number(x509.random_serial_number())
                .not_valid_before(not_before or now - datetime.timedelta(days=1))
                .not_valid_after(not_after or now + datetime.timedelta(days=30))
                .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(ip))]), critical=False)
                .sign(self.key, hashes.SHA256()))
        key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption())
        return (self.write(f"{file_name}.crt", cert.public_bytes(serialization.Encoding.PEM)),
                self.write(f"{file_name}.key", key_pem, 0o600))
