"""The demo's signed contracts hold in independent validators, not only in our own report.

``manage.py seed_demo`` is run once for the module, with the contract CA and the media written under a temporary
directory. For every contract in force, each version that both parties signed (the contract itself and, later,
its amendments) is taken as it stood after its last signature, and checked with pyHanko's command line
(``pyhanko sign validate``, trusting only the published CA certificate) and with poppler's ``pdfsig`` (an NSS
database that trusts the CA). The test data is rolled back afterwards; the files stay in the temporary directory.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import transaction
from django.test.utils import override_settings

from contracts.models import Contract, ContractStatus, SignatureParty
from procurement import sealing

PYHANKO = shutil.which("pyhanko", path=str(Path(sys.executable).parent)) or shutil.which("pyhanko")
PDFSIG = shutil.which("pdfsig")
CERTUTIL = shutil.which("certutil")
BOTH_PARTIES = {SignatureParty.VENDOR, SignatureParty.AGENCY}

pytestmark = [pytest.mark.django_db]


@dataclass(frozen=True)
class SignedVersion:
    """A contract version as it stood after its last signature, and what the validators must find in it."""

    label: str
    path: Path
    fields: tuple[str, ...]  # in signing order
    signers: tuple[str, ...]  # the signers' e-mail addresses, in the same order


@dataclass(frozen=True)
class Demo:
    ca_cert: Path
    versions: tuple[SignedVersion, ...]


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker, tmp_path_factory) -> Demo:
    """Run the demo once; keep the CA certificate and every fully signed PDF of the contracts in force."""
    root = tmp_path_factory.mktemp("demo-contract-validators")
    ca_cert = root / "keys" / "contract-ca.pem"
    signed_dir = root / "signed"
    signed_dir.mkdir()
    versions: list[SignedVersion] = []
    with (
        django_db_blocker.unblock(),
        override_settings(
            MEDIA_ROOT=root / "media",
            CONTRACT_CA_CERT_FILE=ca_cert,
            CONTRACT_CA_KEY_PASSPHRASE="demo-validators-contract-ca-passphrase",
            CONTRACT_TSA_URL="",
        ),
        pytest.MonkeyPatch.context() as patch,
    ):
        # As in tests/test_seed_demo.py: a cheap key-derivation cost, and stand-ins for the bid receipts' and
        # evaluation reports' PDFs. The contract's own PDF is rendered and signed for real.
        patch.setattr(sealing, "SCRYPT_N", 2**10)
        patch.setattr("procurement.tasks._receipt_pdf", lambda receipt: b"%PDF-1.4\n%%EOF\n")
        patch.setattr("procurement.tasks._evaluation_report_pdf", lambda recommendation: b"%PDF-1.4\n%%EOF\n")
        with transaction.atomic():
            call_command("seed_demo", stdout=StringIO())
            contracts = Contract.objects.filter(status=ContractStatus.ACTIVE).order_by("pk")
            for contract in contracts:
                for version in contract.versions.order_by("number"):
                    signatures = list(version.signatures.select_related("signer").order_by("signed_at", "id"))
                    if {signature.party for signature in signatures} != BOTH_PARTIES:
                        continue
                    label = f"{contract.reference} v{version.number}"
                    path = signed_dir / f"{contract.reference}-v{version.number}.pdf"
                    with signatures[-1].pdf.open("rb") as handle:
                        path.write_bytes(handle.read())
                    versions.append(
                        SignedVersion(
                            label,
                            path,
                            tuple(signature.field_name for signature in signatures),
                            tuple(signature.signer.email for signature in signatures),
                        )
                    )
            transaction.set_rollback(True)
    assert ca_cert.is_file(), "seed_demo did not publish the contract CA's certificate"
    assert versions, "the demo has no contract in force signed by both parties"
    return Demo(ca_cert, tuple(versions))


def _run(*command: str) -> subprocess.CompletedProcess:
    return subprocess.run(command, capture_output=True, text=True, check=False, timeout=120)  # noqa: S603


def _per_field(output: str, heading: str) -> dict[str, str]:
    """Split a validator's report into one section per signature, keyed by the signature field's name, which
    ``heading`` (a regular expression with one group) captures."""
    parts = re.split(heading, output, flags=re.MULTILINE)
    sections = {parts[i]: parts[i + 1] for i in range(1, len(parts) - 1, 2)}
    assert len(sections) == (len(parts) - 1) // 2, f"a field is reported twice:\n{output}"
    return sections


@pytest.mark.skipif(PYHANKO is None, reason="pyHanko's command line is not installed: pip install pyhanko-cli")
def test_pyhanko_validates_every_signature_of_the_demo_contracts(demo):
    for version in demo.versions:
        # `pyhanko sign validate` has no option to pick one field: it validates every signature in the file,
        # reports each under a "Field N: <name>" heading, and exits non-zero if any one of them fails.
        # --trust-replace: the published CA is the only trust root (not combined with the system's).
        result = _run(
            PYHANKO,
            "sign",
            "validate",
            "--trust",
            str(demo.ca_cert),
            "--trust-replace",
            "--pretty-print",
            str(version.path),
        )
        report = f"{version.label}\n{result.stdout}{result.stderr}"
        assert result.returncode == 0, report
        sections = _per_field(result.stdout, r"^Field \d+: (.+?)\s*$")
        assert sorted(sections) == sorted(version.fields), report
        for field, signer in zip(version.fields, version.signers, strict=True):
            text = sections[field]
            where = f"{version.label}, field {field}\n{text}"
            assert f"Email Address: {signer}" in text, where
            assert "The signer's certificate is trusted." in text, where
            assert "The signature is cryptographically sound." in text, where
            assert "The timestamp token is cryptographically sound." in text, where
            assert "The TSA certificate is trusted." in text, where
            assert "The signature is judged VALID." in text, where
            assert "INVALID" not in text, where
        assert "The signature covers the entire file." in sections[version.fields[-1]], report


@pytest.mark.skipif(PDFSIG is None, reason="poppler's pdfsig is not installed: apt-get install poppler-utils")
@pytest.mark.skipif(CERTUTIL is None, reason="NSS's certutil is not installed: apt-get install libnss3-tools")
def test_pdfsig_with_the_ca_trusted_validates_every_signature_of_the_demo_contracts(demo, tmp_path):
    database = tmp_path / "nssdb"
    database.mkdir()
    for command in (
        (CERTUTIL, "-N", "--empty-password", "-d", f"sql:{database}"),
        (CERTUTIL, "-A", "-n", "ca", "-t", "CT,C,C", "-a", "-i", str(demo.ca_cert), "-d", f"sql:{database}"),
    ):
        result = _run(*command)
        assert result.returncode == 0, result.stdout + result.stderr
    for version in demo.versions:
        result = _run(PDFSIG, "-nssdir", f"sql:{database}", str(version.path))
        report = f"{version.label}\n{result.stdout}{result.stderr}"
        assert result.returncode == 0, report
        sections = _per_field(result.stdout, r"^Signature #\d+:\s*\n\s*- Signature Field Name: (.+?)\s*$")
        assert sorted(sections) == sorted(version.fields), report
        assert result.stdout.count("Signature Validation: Signature is Valid.") == len(version.fields), report
        assert result.stdout.count("Certificate Validation: Certificate is Trusted.") == len(version.fields), report
        for field, signer in zip(version.fields, version.signers, strict=True):
            text = sections[field]
            where = f"{version.label}, field {field}\n{text}"
            assert re.search(rf"Distinguished Name: (.*,)?E={re.escape(signer)}(,|$)", text, re.MULTILINE), where
            assert "Signature Type: ETSI.CAdES.detached" in text, where  # PAdES
            assert "Signature Validation: Signature is Valid." in text, where
            assert "Certificate Validation: Certificate is Trusted." in text, where
        assert "- Total document signed" in sections[version.fields[-1]], report
