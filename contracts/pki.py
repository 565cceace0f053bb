"""The system's own certificate authority and time-stamp authority, and the signatories' keys.

Pure functions over bytes and keys: nothing here touches the database. Every key is RSA-3072, which
pyHanko, poppler's ``pdfsig`` (NSS) and Adobe all validate, and which pyHanko's in-process time-stamp
authority requires (``DummyTimeStamper`` signs with RSA only).

A signatory's private key is stored only as PKCS#8 encrypted with a key derived from their own password
(``BestAvailableEncryption``), so that nobody else, administrators included, can sign in their name.
The CA's and the TSA's keys are encrypted with ``settings.CONTRACT_CA_KEY_PASSPHRASE``.
"""

from __future__ import annotations

import datetime
import urllib.request
from dataclasses import dataclass

from asn1crypto import keys as asn1_keys
from asn1crypto import tsp
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID, ObjectIdentifier
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext as _
from pyhanko.sign.timestamps import TimeStamper
from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper
from pyhanko_certvalidator.registry import SimpleCertificateStore

KEY_SIZE = 3072
# Adobe's "Authentic Documents" and Microsoft's "Document Signing" key purposes, with e-mail protection:
# what document-signing certificates from public CAs carry. pyHanko accepts any extended key usage for a
# signer by default and requires the nonRepudiation key usage, which these certificates have.
ADOBE_AUTHENTIC_DOCUMENTS = ObjectIdentifier("1.2.840.113583.1.1.5")
MICROSOFT_DOCUMENT_SIGNING = ObjectIdentifier("1.3.6.1.4.1.311.10.3.12")
SIGNER_KEY_PURPOSES = [ExtendedKeyUsageOID.EMAIL_PROTECTION, ADOBE_AUTHENTIC_DOCUMENTS, MICROSOFT_DOCUMENT_SIGNING]
PKCS12_MAX_BYTES = 100 * 1024


class CertificateError(Exception):
    """A key or certificate that cannot be used; the message is fit to show the person who supplied it."""


class WrongPassword(CertificateError):
    pass


class CertificateDoesNotNameSignatory(CertificateError):
    pass


class CertificateNotValidAtTime(CertificateError):
    pass


@dataclass(frozen=True)
class SigningIdentity:
    """A private key, its certificate, and the certificates between it and its root."""

    private_key: rsa.RSAPrivateKey
    certificate: x509.Certificate
    chain: tuple[x509.Certificate, ...] = ()


def ca_passphrase() -> bytes:
    passphrase = getattr(settings, "CONTRACT_CA_KEY_PASSPHRASE", None)
    if not passphrase:
        raise ImproperlyConfigured("Set CONTRACT_CA_KEY_PASSPHRASE: it encrypts the contract CA's private key.")
    return passphrase.encode() if isinstance(passphrase, str) else passphrase


def _new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=KEY_SIZE)


def _name(common_name: str, organisation: str, email: str | None = None) -> x509.Name:
    attributes = [
        x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation),
    ]
    if email:
        attributes.append(x509.NameAttribute(NameOID.EMAIL_ADDRESS, email))
    return x509.Name(attributes)


def _validity(builder: x509.CertificateBuilder, valid_days: int) -> x509.CertificateBuilder:
    now = datetime.datetime.now(datetime.UTC)
    # A little slack backwards for clocks that run slightly behind ours.
    return builder.not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(
        now + datetime.timedelta(days=valid_days)
    )


def _encrypt(private_key, password: bytes) -> bytes:
    return private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(password),
    )


def _password_bytes(password: str | bytes) -> bytes:
    return password.encode() if isinstance(password, str) else password


def load_certificate(pem_or_der: bytes) -> x509.Certificate:
    if pem_or_der.lstrip().startswith(b"-----BEGIN"):
        return x509.load_pem_x509_certificate(pem_or_der)
    return x509.load_der_x509_certificate(pem_or_der)


def certificate_pem(certificate: x509.Certificate) -> bytes:
    return certificate.public_bytes(serialization.Encoding.PEM)


def create_ca(
    common_name: str, organisation: str, valid_days: int, *, passphrase: bytes | None = None
) -> tuple[bytes, bytes]:
    """Return the new CA's certificate and its private key encrypted with the CA passphrase (both PEM)."""
    key = _new_key()
    name = _name(common_name, organisation)
    public_key = key.public_key()
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
    )
    certificate = _validity(builder, valid_days).sign(key, hashes.SHA256())
    return certificate_pem(certificate), _encrypt(key, passphrase or ca_passphrase())


def load_authority_key(encrypted_pem: bytes, *, passphrase: bytes | None = None) -> rsa.RSAPrivateKey:
    """Unlock the CA's or the TSA's private key with the CA passphrase."""
    try:
        return serialization.load_pem_private_key(encrypted_pem, password=passphrase or ca_passphrase())
    except (ValueError, TypeError) as error:
        raise WrongPassword("The CA key could not be decrypted: check CONTRACT_CA_KEY_PASSPHRASE.") from error


def _issue(
    ca_cert: x509.Certificate,
    ca_key,
    *,
    subject: x509.Name,
    public_key,
    valid_days: int,
    key_usage: x509.KeyUsage,
    key_purposes: list[ObjectIdentifier],
    key_purposes_critical: bool,
    email: str | None = None,
) -> bytes:
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(ca_cert.subject)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(key_usage, critical=True)
        .add_extension(x509.ExtendedKeyUsage(key_purposes), critical=key_purposes_critical)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(
                ca_cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
            ),
            critical=False,
        )
    )
    if email:
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.RFC822Name(email)]), critical=False)
    valid_days = min(valid_days, (ca_cert.not_valid_after_utc - datetime.datetime.now(datetime.UTC)).days)
    return certificate_pem(_validity(builder, valid_days).sign(ca_key, hashes.SHA256()))


def issue_signer_certificate(
    ca_cert: x509.Certificate,
    ca_key,
    *,
    common_name: str,
    email: str,
    organisation: str,
    public_key,
    valid_days: int,
) -> bytes:
    """Return a PEM certificate for a signatory: nonRepudiation and digitalSignature, document signing."""
    return _issue(
        ca_cert,
        ca_key,
        subject=_name(common_name, organisation, email),
        public_key=public_key,
        valid_days=valid_days,
        key_usage=x509.KeyUsage(
            digital_signature=True,
            content_commitment=True,
            key_encipherment=False,
            data_encipherment=False,
            key_agreement=False,
            key_cert_sign=False,
            crl_sign=False,
            encipher_only=False,
            decipher_only=False,
        ),
        key_purposes=SIGNER_KEY_PURPOSES,
        key_purposes_critical=False,
        email=email,
    )


def issue_time_stamping_certificate(
    ca_cert: x509.Certificate, ca_key, *, common_name: str, organisation: str, public_key, valid_days: int
) -> bytes:
    """Return a PEM certificate for the time-stamp authority (RFC 3161: timeStamping, critical, alone)."""
    return _issue(
        ca_cert,
        ca_key,
        subject=_name(common_name, organisation),
        public_key=public_key,
        valid_days=valid_days,
        key_usage=x509.KeyUsage(
            digital_signature=True,
            content_commitment=True,
            key_encipherment=False,
            data_encipherment=False,
            key_agreement=False,
            key_cert_sign=False,
            crl_sign=False,
            encipher_only=False,
            decipher_only=False,
        ),
        key_purposes=[ExtendedKeyUsageOID.TIME_STAMPING],
        key_purposes_critical=True,
    )


def create_time_stamp_authority(
    ca_cert: x509.Certificate,
    ca_key,
    *,
    common_name: str,
    organisation: str,
    valid_days: int,
    passphrase: bytes | None = None,
) -> tuple[bytes, bytes]:
    """Return the TSA's certificate and its private key encrypted with the CA passphrase (both PEM)."""
    key = _new_key()
    certificate = issue_time_stamping_certificate(
        ca_cert,
        ca_key,
        common_name=common_name,
        organisation=organisation,
        public_key=key.public_key(),
        valid_days=valid_days,
    )
    return certificate, _encrypt(key, passphrase or ca_passphrase())


def generate_signer_key(password: str | bytes) -> tuple[rsa.RSAPublicKey, bytes]:
    """Return a new key pair's public half and its private half encrypted under the signer's password."""
    if not password:
        raise WrongPassword(_("A password is needed to protect the signing key."))
    key = _new_key()
    return key.public_key(), _encrypt(key, _password_bytes(password))


def load_signer_key(encrypted_pem: bytes, password: str | bytes) -> rsa.RSAPrivateKey:
    if not password:
        raise WrongPassword(_("Enter your password to unlock your signing key."))
    try:
        return serialization.load_pem_private_key(encrypted_pem, password=_password_bytes(password))
    except (ValueError, TypeError) as error:
        raise WrongPassword(_("The password is wrong: your signing key could not be unlocked.")) from error


def reencrypt_signer_key(encrypted_pem: bytes, old_password: str | bytes, new_password: str | bytes) -> bytes:
    """For a password change: the same key, encrypted under the new password."""
    if not new_password:
        raise WrongPassword(_("A password is needed to protect the signing key."))
    return _encrypt(load_signer_key(encrypted_pem, old_password), _password_bytes(new_password))


def certificate_emails(certificate: x509.Certificate) -> set[str]:
    """The e-mail addresses a certificate names, in its subject alternative name or its subject."""
    emails = {attribute.value for attribute in certificate.subject.get_attributes_for_oid(NameOID.EMAIL_ADDRESS)}
    try:
        alternative_names = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        pass
    else:
        emails.update(alternative_names.get_values_for_type(x509.RFC822Name))
    return {str(email).strip().lower() for email in emails}


def certificate_common_name(certificate: x509.Certificate) -> str:
    names = certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(names[0].value) if names else certificate.subject.rfc4514_string()


def load_pkcs12(data: bytes, password: str | bytes, *, expected_email: str, at: datetime.datetime) -> SigningIdentity:
    """Open a signatory's own PKCS#12 file, for one signature: refuse it unless it names them and is valid at ``at``."""
    if len(data) > PKCS12_MAX_BYTES:
        raise CertificateError(_("This file is too large to be a PKCS#12 certificate file."))
    try:
        private_key, certificate, additional = pkcs12.load_key_and_certificates(data, _password_bytes(password))
    except (ValueError, TypeError) as error:
        raise WrongPassword(
            _(
                "The PKCS#12 file could not be opened: the password is wrong "
                "or the file is not a PKCS#12 (.p12/.pfx) file."
            )
        ) from error
    if private_key is None or certificate is None:
        raise CertificateError(_("The PKCS#12 file must contain both your private key and your certificate."))
    if not isinstance(private_key, rsa.RSAPrivateKey):
        raise CertificateError(_("Only RSA keys are accepted for signing contracts."))
    if certificate.public_key().public_numbers() != private_key.public_key().public_numbers():
        raise CertificateError(_("The certificate in the PKCS#12 file does not belong to its private key."))
    expected = expected_email.strip().lower()
    if expected not in certificate_emails(certificate):
        raise CertificateDoesNotNameSignatory(
            _("The certificate is issued to %(holder)s (%(emails)s), not to the signatory %(signatory)s.")
            % {
                "holder": certificate_common_name(certificate),
                "emails": ", ".join(sorted(certificate_emails(certificate))) or _("no e-mail address"),
                "signatory": expected_email,
            }
        )
    if at < certificate.not_valid_before_utc:
        raise CertificateNotValidAtTime(
            _("The certificate is not valid before %(start)s UTC.")
            % {"start": f"{certificate.not_valid_before_utc:%Y-%m-%d %H:%M}"}
        )
    if at > certificate.not_valid_after_utc:
        raise CertificateNotValidAtTime(
            _("The certificate expired on %(end)s UTC.") % {"end": f"{certificate.not_valid_after_utc:%Y-%m-%d}"}
        )
    return SigningIdentity(private_key, certificate, tuple(additional or ()))


# asn1crypto forms, which pyHanko works with.


def to_asn1_certificate(certificate: x509.Certificate) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(certificate.public_bytes(serialization.Encoding.DER))


def to_asn1_private_key(private_key) -> asn1_keys.PrivateKeyInfo:
    return asn1_keys.PrivateKeyInfo.load(
        private_key.private_bytes(
            serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )


def internal_timestamper(
    tsa_cert: x509.Certificate, tsa_key: rsa.RSAPrivateKey, chain: list[x509.Certificate] | tuple = ()
) -> TimeStamper:
    """The demo's RFC 3161 time-stamp authority, run in-process with the TSA key issued by the internal CA."""
    return DummyTimeStamper(
        tsa_cert=to_asn1_certificate(tsa_cert),
        tsa_key=to_asn1_private_key(tsa_key),
        certs_to_embed=SimpleCertificateStore.from_certs([to_asn1_certificate(c) for c in chain]),
    )


class HttpTimeStamper(TimeStamper):
    """An external RFC 3161 time-stamp authority reached over HTTP(S).

    pyHanko's own ``HTTPTimeStamper`` needs the ``requests`` package, which this project does not install;
    this one posts the request with the standard library.
    """

    def __init__(self, url: str, *, timeout: float = 10, headers: dict[str, str] | None = None):
        if not url.startswith(("https://", "http://")):
            raise ImproperlyConfigured(f"The time-stamp authority URL must be http(s), not {url!r}.")
        super().__init__()
        self.url = url
        self.timeout = timeout
        self.headers = headers or {}

    def request_tsa_response(self, req: tsp.TimeStampReq) -> tsp.TimeStampResp:
        request = urllib.request.Request(  # noqa: S310 - the scheme is checked in __init__
            self.url,
            data=req.dump(),
            headers={"Content-Type": "application/timestamp-query", **self.headers},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
            if response.headers.get_content_type() != "application/timestamp-reply":
                raise CertificateError("The time-stamp authority did not answer with a time-stamp reply.")
            return tsp.TimeStampResp.load(response.read())

    async def async_request_tsa_response(self, req: tsp.TimeStampReq) -> tsp.TimeStampResp:
        import asyncio

        return await asyncio.to_thread(self.request_tsa_response, req)
