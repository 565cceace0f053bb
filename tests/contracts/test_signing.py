"""Contract signatures: the internal CA and TSA, signatories' keys, PAdES signing, and the validation report.

The signed PDF must hold not only in our own report but in independent validators: pyHanko's command line
and poppler's ``pdfsig`` (NSS).
"""

from __future__ import annotations

import datetime
import shutil
import subprocess
import sys
from dataclasses import dataclass
from io import BytesIO, StringIO
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.core.management.base import CommandError
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

from contracts import pki
from contracts.signing import (
    SignatureField,
    SigningRefused,
    UnreadablePdf,
    add_signature_fields,
    sign_pdf,
    signature_field_names,
    validation_report,
)
from core.pdf import load_weasyprint

PASSPHRASE = b"test-ca-passphrase"
PYHANKO_CLI = Path(sys.executable).with_name("pyhanko")
ARABIC = "عقد شراكة بين القطاعين العام والخاص"


@dataclass(frozen=True)
class Authority:
    ca_cert: x509.Certificate
    ca_key: object
    ca_pem: bytes
    tsa_cert: x509.Certificate
    tsa_key: object

    def timestamper(self):
        return pki.internal_timestamper(self.tsa_cert, self.tsa_key, [self.ca_cert])


@dataclass(frozen=True)
class Signatory:
    email: str
    password: str
    encrypted_key: bytes
    certificate: x509.Certificate


@pytest.fixture(scope="module")
def authority() -> Authority:
    ca_pem, ca_key_pem = pki.create_ca("PPP Contracts CA", "PPP Programme", 3650, passphrase=PASSPHRASE)
    ca_cert = pki.load_certificate(ca_pem)
    ca_key = pki.load_authority_key(ca_key_pem, passphrase=PASSPHRASE)
    tsa_pem, tsa_key_pem = pki.create_time_stamp_authority(
        ca_cert,
        ca_key,
        common_name="PPP Time-Stamp Authority",
        organisation="PPP Programme",
        valid_days=3650,
        passphrase=PASSPHRASE,
    )
    return Authority(
        ca_cert,
        ca_key,
        ca_pem,
        pki.load_certificate(tsa_pem),
        pki.load_authority_key(tsa_key_pem, passphrase=PASSPHRASE),
    )


def _signatory(authority: Authority, *, common_name: str, email: str, organisation: str) -> Signatory:
    password = f"{email} password"
    public_key, encrypted_key = pki.generate_signer_key(password)
    certificate_pem = pki.issue_signer_certificate(
        authority.ca_cert,
        authority.ca_key,
        common_name=common_name,
        email=email,
        organisation=organisation,
        public_key=public_key,
        valid_days=730,
    )
    return Signatory(email, password, encrypted_key, pki.load_certificate(certificate_pem))


@pytest.fixture(scope="module")
def vendor_signatory(authority) -> Signatory:
    return _signatory(authority, common_name="Layla Haddad", email="layla@vendor.example", organisation="Vendor Ltd")


@pytest.fixture(scope="module")
def agency_officer(authority) -> Signatory:
    return _signatory(
        authority, common_name="Omar Khalil", email="omar@agency.example.gov", organisation="Ministry of Communications"
    )


@pytest.fixture(scope="module")
def contract_pdf() -> bytes:
    html = f"""<html><head><style>@page {{ size: A4; margin: 2cm }}</style></head><body>
      <h1>Public-private partnership contract</h1>
      <p lang="ar" dir="rtl">{ARABIC}</p>
      <p style="break-before: page">Signatures / التوقيعات</p>
    </body></html>"""
    rendered = load_weasyprint().HTML(string=html).write_pdf()
    return add_signature_fields(
        rendered,
        [SignatureField("vendor", 1, (57, 100, 277, 170)), SignatureField("agency", 1, (318, 100, 538, 170))],
    )


def _sign(pdf: bytes, authority: Authority, signatory: Signatory, field_name: str) -> bytes:
    return sign_pdf(
        pdf,
        field_name=field_name,
        signer_key=pki.load_signer_key(signatory.encrypted_key, signatory.password),
        signer_cert=signatory.certificate,
        chain=[authority.ca_cert],
        timestamper=authority.timestamper(),
        reason="Contract signature",
        location="Amman",
        name=pki.certificate_common_name(signatory.certificate),
    )


@pytest.fixture(scope="module")
def signed_pdf(contract_pdf, authority, vendor_signatory, agency_officer) -> bytes:
    by_vendor = _sign(contract_pdf, authority, vendor_signatory, "vendor")
    return _sign(by_vendor, authority, agency_officer, "agency")


@pytest.fixture
def ca_file(authority, tmp_path) -> Path:
    path = tmp_path / "ca.pem"
    path.write_bytes(authority.ca_pem)
    return path


def _write(tmp_path, pdf: bytes, name="contract.pdf") -> Path:
    path = tmp_path / name
    path.write_bytes(pdf)
    return path


# The authority's certificates


def test_ca_and_signer_certificates_carry_the_extensions_validators_need(authority, vendor_signatory):
    ca = authority.ca_cert
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).critical
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert ca.extensions.get_extension_for_class(x509.KeyUsage).value.key_cert_sign
    signer = vendor_signatory.certificate
    usage = signer.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.digital_signature and usage.content_commitment and not usage.key_cert_sign
    assert pki.ADOBE_AUTHENTIC_DOCUMENTS in signer.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert pki.certificate_emails(signer) == {"layla@vendor.example"}
    authority_key_id = signer.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value.key_identifier
    assert authority_key_id == ca.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest
    time_stamping = authority.tsa_cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage)
    assert time_stamping.critical and list(time_stamping.value) == [x509.oid.ExtendedKeyUsageOID.TIME_STAMPING]


def test_the_ca_key_is_stored_encrypted_under_the_configured_passphrase(settings):
    settings.CONTRACT_CA_KEY_PASSPHRASE = "from-settings"
    _, key_pem = pki.create_ca("Test CA", "Test", 1)
    assert b"ENCRYPTED PRIVATE KEY" in key_pem
    assert pki.load_authority_key(key_pem) is not None
    settings.CONTRACT_CA_KEY_PASSPHRASE = "another"
    with pytest.raises(pki.WrongPassword, match="CONTRACT_CA_KEY_PASSPHRASE"):
        pki.load_authority_key(key_pem)


def test_an_external_time_stamp_authority_must_be_reached_over_http():
    assert pki.HttpTimeStamper("https://tsa.example/tsr").url == "https://tsa.example/tsr"
    with pytest.raises(ImproperlyConfigured, match="must be http"):
        pki.HttpTimeStamper("file:///etc/passwd")


# Signatories' keys


def test_a_signing_key_unlocks_only_with_its_owners_password(vendor_signatory):
    assert b"ENCRYPTED PRIVATE KEY" in vendor_signatory.encrypted_key
    key = pki.load_signer_key(vendor_signatory.encrypted_key, vendor_signatory.password)
    assert key.public_key().public_numbers() == vendor_signatory.certificate.public_key().public_numbers()
    with pytest.raises(pki.WrongPassword, match="password is wrong"):
        pki.load_signer_key(vendor_signatory.encrypted_key, "not my password")
    with pytest.raises(pki.WrongPassword):
        pki.load_signer_key(vendor_signatory.encrypted_key, "")


def test_a_password_change_reencrypts_the_same_key(vendor_signatory):
    rewrapped = pki.reencrypt_signer_key(vendor_signatory.encrypted_key, vendor_signatory.password, "new password")
    key = pki.load_signer_key(rewrapped, "new password")
    assert key.public_key().public_numbers() == vendor_signatory.certificate.public_key().public_numbers()
    with pytest.raises(pki.WrongPassword):
        pki.load_signer_key(rewrapped, vendor_signatory.password)


# A signatory's own certificate (PKCS#12)


@pytest.fixture(scope="module")
def own_pkcs12(authority, vendor_signatory) -> bytes:
    key = pki.load_signer_key(vendor_signatory.encrypted_key, vendor_signatory.password)
    return pkcs12.serialize_key_and_certificates(
        b"layla",
        key,
        vendor_signatory.certificate,
        [authority.ca_cert],
        serialization.BestAvailableEncryption(b"p12 password"),
    )


def test_own_pkcs12_certificate_opens_for_its_holder(own_pkcs12, vendor_signatory, authority):
    identity = pki.load_pkcs12(
        own_pkcs12, "p12 password", expected_email="Layla@Vendor.example", at=datetime.datetime.now(datetime.UTC)
    )
    assert identity.certificate == vendor_signatory.certificate
    assert identity.chain == (authority.ca_cert,)


def test_own_pkcs12_with_the_wrong_password_is_refused(own_pkcs12):
    with pytest.raises(pki.WrongPassword, match="password is wrong"):
        pki.load_pkcs12(
            own_pkcs12, "guess", expected_email="layla@vendor.example", at=datetime.datetime.now(datetime.UTC)
        )
    with pytest.raises(pki.WrongPassword, match="not a PKCS#12"):
        pki.load_pkcs12(
            b"%PDF-1.7 not a certificate",
            "p12 password",
            expected_email="layla@vendor.example",
            at=datetime.datetime.now(datetime.UTC),
        )


def test_own_pkcs12_naming_someone_else_is_refused(own_pkcs12):
    with pytest.raises(pki.CertificateDoesNotNameSignatory, match="not to the signatory omar@agency.example.gov"):
        pki.load_pkcs12(
            own_pkcs12, "p12 password", expected_email="omar@agency.example.gov", at=datetime.datetime.now(datetime.UTC)
        )


def test_own_pkcs12_outside_its_validity_is_refused(own_pkcs12):
    now = datetime.datetime.now(datetime.UTC)
    with pytest.raises(pki.CertificateNotValidAtTime, match="expired on"):
        pki.load_pkcs12(
            own_pkcs12, "p12 password", expected_email="layla@vendor.example", at=now + datetime.timedelta(days=800)
        )
    with pytest.raises(pki.CertificateNotValidAtTime, match="not valid before"):
        pki.load_pkcs12(
            own_pkcs12, "p12 password", expected_email="layla@vendor.example", at=now - datetime.timedelta(days=1)
        )


# Signing


def test_signature_fields_are_added_deterministically(contract_pdf):
    assert signature_field_names(contract_pdf) == {"vendor": False, "agency": False}
    rendered_again = contract_pdf[: contract_pdf.rindex(b"%%EOF", 0, len(contract_pdf) - 6) + 6]
    fields = [SignatureField("vendor", 1, (57, 100, 277, 170))]
    assert add_signature_fields(rendered_again, fields) == add_signature_fields(rendered_again, fields)


def test_signature_fields_with_a_fixed_date_are_identical_seconds_apart(contract_pdf):
    """pyHanko dates an incremental update by the clock; with ``modified_at`` two renderings a while apart
    (here: the clock moved by a day) are still byte-identical."""
    import datetime
    from unittest import mock

    fields = [SignatureField("extra", 1, (57, 200, 277, 270))]
    frozen = datetime.datetime(2026, 11, 1, 9, 30, tzinfo=datetime.UTC)
    first = add_signature_fields(contract_pdf, fields, modified_at=frozen)
    later = datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=1)

    class Tomorrow(datetime.datetime):
        @classmethod
        def now(cls, tz=None):
            return later.astimezone(tz)

    with mock.patch("pyhanko.pdf_utils.metadata.info.datetime", Tomorrow):
        second = add_signature_fields(contract_pdf, fields, modified_at=frozen)
        undated = add_signature_fields(contract_pdf, fields)
    assert first == second
    assert undated != first  # the clock really moved: without the fixed date the bytes differ


def test_both_signatures_are_intact_valid_trusted_and_timestamped(signed_pdf, authority):
    report = validation_report(signed_pdf, [authority.ca_cert])
    assert report.ok, report.problems
    vendor, agency = report
    assert (vendor.field, vendor.signer_name, vendor.signer_email) == ("vendor", "Layla Haddad", "layla@vendor.example")
    assert (agency.field, agency.signer_email) == ("agency", "omar@agency.example.gov")
    for signature in report:
        assert signature.intact and signature.valid and signature.trusted and signature.ok
        assert signature.timestamp_ok
        assert abs(signature.timestamp_time - datetime.datetime.now(datetime.UTC)) < datetime.timedelta(minutes=5)
        assert signature.signing_time is not None
    # The vendor's signature covers its own revision; the agency's signature after it only filled a form field.
    assert vendor.coverage == "ENTIRE_REVISION"
    assert vendor.modification_level == "FORM_FILLING" and vendor.modifications_permitted
    assert agency.coverage == "ENTIRE_FILE" and agency.modification_level == "NONE"


def test_a_signature_is_an_incremental_update(contract_pdf, signed_pdf):
    assert signed_pdf.startswith(contract_pdf)
    assert signed_pdf.count(b"%%EOF") == contract_pdf.count(b"%%EOF") + 2


def test_signing_an_already_signed_field_is_refused(signed_pdf, authority, vendor_signatory):
    with pytest.raises(SigningRefused, match="already signed"):
        _sign(signed_pdf, authority, vendor_signatory, "vendor")
    with pytest.raises(SigningRefused, match="no signature field named “witness”"):
        _sign(signed_pdf, authority, vendor_signatory, "witness")


def test_a_certificate_from_another_authority_is_not_trusted(signed_pdf):
    other_ca_pem, _ = pki.create_ca("Someone else's CA", "Elsewhere", 30, passphrase=PASSPHRASE)
    report = validation_report(signed_pdf, [pki.load_certificate(other_ca_pem)])
    assert not report.ok
    assert all(signature.intact and signature.valid and not signature.trusted for signature in report)
    assert "does not chain to a trusted root" in report.problems[0]


def test_an_unsigned_or_non_pdf_document_is_not_ok(contract_pdf, authority):
    assert not validation_report(contract_pdf, [authority.ca_cert]).ok
    with pytest.raises(UnreadablePdf):
        validation_report(b"PK\x03\x04 a zip file", [authority.ca_cert])


# Tampering


def _flip_one_signed_byte(pdf: bytes) -> bytes:
    position = pdf.index(b"WeasyPrint")  # the /Producer entry of the first revision: covered by both signatures
    return pdf[:position] + b"V" + pdf[position + 1 :]


def _append_page_content(pdf: bytes) -> bytes:
    """An incremental update that draws a box over page 1, as someone altering the signed terms would."""
    writer = IncrementalPdfFileWriter(BytesIO(pdf), strict=False)
    stream = writer.add_object(generic.StreamObject(stream_data=b"q 1 0 0 rg 100 600 300 80 re f Q"))
    writer.add_stream_to_page(0, stream)
    output = BytesIO()
    writer.write(output)
    return output.getvalue()


@pytest.mark.parametrize("tamper", [_flip_one_signed_byte, _append_page_content])
def test_tampering_makes_the_report_and_the_command_fail(tamper, signed_pdf, authority, ca_file, tmp_path):
    tampered = tamper(signed_pdf)
    report = validation_report(tampered, [authority.ca_cert])
    assert not report.ok
    assert report.problems
    out = StringIO()
    with pytest.raises(CommandError) as error:
        call_command("verify_signatures", str(_write(tmp_path, tampered)), "--trust", str(ca_file), stdout=out)
    assert error.value.returncode == 1
    assert "Document: NOT OK" in out.getvalue()


def test_flipping_a_byte_breaks_the_digest(signed_pdf, authority):
    report = validation_report(_flip_one_signed_byte(signed_pdf), [authority.ca_cert])
    assert [signature.intact for signature in report] == [False, False]
    assert "changed after signing" in report[0].problem


def test_new_page_content_after_the_last_signature_is_not_permitted(signed_pdf, authority):
    report = validation_report(_append_page_content(signed_pdf), [authority.ca_cert])
    agency = report[1]
    assert agency.intact and agency.valid and agency.trusted
    assert agency.coverage == "ENTIRE_REVISION"
    assert agency.modification_level == "OTHER" and agency.modifications_permitted is False
    assert "does not permit" in agency.problem


# The command


def test_verify_signatures_prints_the_report_and_succeeds(signed_pdf, ca_file, tmp_path):
    out = StringIO()
    call_command("verify_signatures", str(_write(tmp_path, signed_pdf)), "--trust", str(ca_file), stdout=out)
    text = out.getvalue()
    assert "field vendor" in text and "Layla Haddad <layla@vendor.example>" in text
    assert "field agency" in text and "Omar Khalil <omar@agency.example.gov>" in text
    assert text.count("Result:               OK") == 2
    assert "Document: OK" in text


def test_verify_signatures_trusts_the_configured_ca_by_default(signed_pdf, ca_file, tmp_path, settings):
    path = _write(tmp_path, signed_pdf)
    settings.CONTRACT_CA_CERT_FILE = None
    with pytest.raises(CommandError) as error:
        call_command("verify_signatures", str(path), stdout=StringIO(), stderr=StringIO())
    assert error.value.returncode == 1
    settings.CONTRACT_CA_CERT_FILE = str(ca_file)
    call_command("verify_signatures", str(path), stdout=StringIO())


def test_verify_signatures_exit_status_from_the_shell(signed_pdf, ca_file, tmp_path):
    good, bad = _write(tmp_path, signed_pdf), _write(tmp_path, _flip_one_signed_byte(signed_pdf), "bad.pdf")
    manage = Path(__file__).resolve().parents[2] / "manage.py"
    env = {"PATH": "/usr/bin:/bin", "DJANGO_SETTINGS_MODULE": "config.settings.test"}
    for path, status in ((good, 0), (bad, 1)):
        result = subprocess.run(  # noqa: S603
            [sys.executable, str(manage), "verify_signatures", str(path), "--trust", str(ca_file)],
            capture_output=True,
            text=True,
            env=env,
            check=False,
        )
        assert result.returncode == status, result.stdout + result.stderr


# Independent validators


def test_pyhanko_command_line_validates_every_signature(signed_pdf, ca_file, tmp_path):
    if not PYHANKO_CLI.exists():
        pytest.fail("pyHanko's command line is missing: install the pyhanko-cli package (a dev dependency).")
    result = subprocess.run(  # noqa: S603
        [str(PYHANKO_CLI), "sign", "validate", "--trust", str(ca_file), "--trust-replace", "--pretty-print"]
        + [str(_write(tmp_path, signed_pdf))],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("The signature is judged VALID") == 2, result.stdout
    assert result.stdout.count("The signer's certificate is trusted.") == 2
    assert result.stdout.count("The signature is cryptographically sound.") == 2
    assert result.stdout.count("The TSA certificate is trusted.") == 2


def test_pyhanko_command_line_rejects_new_page_content(signed_pdf, ca_file, tmp_path):
    result = subprocess.run(  # noqa: S603
        [str(PYHANKO_CLI), "sign", "validate", "--trust", str(ca_file), "--trust-replace", "--pretty-print"]
        + [str(_write(tmp_path, _append_page_content(signed_pdf)))],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0
    assert "The signature is judged INVALID" in result.stdout, result.stdout


needs_pdfsig = pytest.mark.skipif(
    shutil.which("pdfsig") is None, reason="poppler's pdfsig is not installed: apt-get install poppler-utils"
)


def _pdfsig(path: Path, *options: str) -> subprocess.CompletedProcess:
    # No -no-ocsp: with it, poppler 22.12 reports "Unknown issue with Certificate" even for a trusted chain. Our
    # certificates name no OCSP responder, so nothing is fetched anyway.
    return subprocess.run(  # noqa: S603
        [shutil.which("pdfsig"), *options, str(path)], capture_output=True, text=True, check=False, timeout=60
    )


@needs_pdfsig
def test_poppler_pdfsig_reports_every_signature_valid(signed_pdf, tmp_path):
    result = _pdfsig(_write(tmp_path, signed_pdf))
    assert result.stdout.count("Signature Validation: Signature is Valid.") == 2, result.stdout + result.stderr
    assert "Signature Field Name: vendor" in result.stdout and "Signature Field Name: agency" in result.stdout
    assert result.stdout.count("Signature Type: ETSI.CAdES.detached") == 2  # PAdES


@needs_pdfsig
@pytest.mark.skipif(
    shutil.which("certutil") is None, reason="NSS's certutil is not installed: apt-get install libnss3-tools"
)
def test_poppler_pdfsig_trusts_the_signers_when_it_trusts_the_ca(signed_pdf, ca_file, tmp_path):
    database = tmp_path / "nssdb"
    database.mkdir()
    for command in (
        [shutil.which("certutil"), "-N", "-d", f"sql:{database}", "--empty-password"],
        [
            shutil.which("certutil"),
            "-A",
            "-d",
            f"sql:{database}",
            "-n",
            "PPP Contracts CA",
            "-t",
            "C,C,C",
            "-a",
            "-i",
            str(ca_file),
        ],
    ):
        subprocess.run(command, check=True, capture_output=True, timeout=60)  # noqa: S603
    result = _pdfsig(_write(tmp_path, signed_pdf), "-nssdir", f"sql:{database}")
    assert result.stdout.count("Signature Validation: Signature is Valid.") == 2, result.stdout + result.stderr
    assert result.stdout.count("Certificate Validation: Certificate is Trusted.") == 2, result.stdout


@needs_pdfsig
def test_poppler_pdfsig_sees_a_flipped_byte(signed_pdf, tmp_path):
    result = _pdfsig(_write(tmp_path, _flip_one_signed_byte(signed_pdf)))
    assert "Signature Field Name: vendor" in result.stdout, result.stdout + result.stderr
    assert "Signature is Valid." not in result.stdout, result.stdout
