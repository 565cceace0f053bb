"""The contract workflow through the services: a final award becomes a draft contract, is frozen into a
deterministic bilingual PDF, signed by the contractor's authorised signatory and countersigned by an officer
of the agency, after which it is in force — and independent validators accept the signed PDF."""

from __future__ import annotations

import datetime
import hashlib
import shutil
import subprocess
import sys
from decimal import Decimal
from io import BytesIO, StringIO
from pathlib import Path
from types import SimpleNamespace

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone
from pypdf import PdfReader

from accounts.roles import Role
from audit.models import AuditEvent
from contracts import pki, services
from contracts.models import (
    RISK_CATEGORIES,
    Contract,
    ContractSignature,
    ContractStatus,
    ContractVersion,
    DocumentKind,
    RenderStatus,
    SignerKey,
)
from contracts.signing import signature_field_names, validation_report
from contracts.tasks import render_contract_pdf, render_version_pdf
from core.exceptions import ActionRefused
from procurement.models import (
    Addendum,
    Bid,
    BidConsortiumMember,
    BidEnvelope,
    BidVersion,
    Recommendation,
    TenderDocument,
)
from procurement.models.bids import BidStatus, EnvelopeKind, EnvelopeState
from procurement.models.evaluation import RecommendationStatus
from procurement.models.tenders import AddendumStatus, TenderStatus
from tests.accounts.factories import UserFactory
from tests.procurement.tender_factories import TenderFactory, pdf_upload, set_status, with_document
from tests.vendors.factories import VendorFactory, member, verified_vendor

pytestmark = pytest.mark.django_db

PASSPHRASE = "contracts-test-ca-passphrase"
PASSWORD = "correct-horse-battery"  # the UserFactory's password
PYHANKO_CLI = Path(sys.executable).with_name("pyhanko")
ENVELOPES = {EnvelopeKind.TECHNICAL: b"sealed technical envelope", EnvelopeKind.FINANCIAL: b"sealed financial envelope"}


@pytest.fixture(scope="module")
def authority_dir(tmp_path_factory) -> Path:
    """The internal CA and TSA, created once for the module by the management command's own code path."""
    directory = tmp_path_factory.mktemp("contract-ca")
    return directory


@pytest.fixture(autouse=True)
def _ca_and_media(settings, tmp_path, authority_dir):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.CONTRACT_CA_CERT_FILE = authority_dir / "contract-ca.pem"
    settings.CONTRACT_CA_KEY_PASSPHRASE = PASSPHRASE
    settings.CONTRACT_TSA_URL = ""
    if not settings.CONTRACT_CA_CERT_FILE.exists():
        call_command("contracts_ca_init", stdout=StringIO())


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def final_award():
    """The minimum rows of a final award, as the evaluation services leave them: an awarded tender with a
    document and an issued addendum, a final recommendation of the winning bid (leading a consortium), its
    two sealed envelopes, the financial one opened with the price."""
    tender = TenderFactory()
    officer = tender.created_by
    with_document(tender, title="Terms of reference")
    addendum = Addendum.objects.create(
        tender=tender,
        number=1,
        summary_en="A new annex.",
        summary_ar="ملحق جديد.",
        status=AddendumStatus.ISSUED,
        created_by=officer,
        issued_at=timezone.now(),
    )
    upload = pdf_upload("annex.pdf")
    annex = TenderDocument(
        tender=tender,
        addendum=addendum,
        title="Bill of quantities",
        original_name=upload.name,
        content_type="application/pdf",
        size=upload.size,
        sha256="a" * 64,
        uploaded_by=officer,
    )
    annex.file.save("upload", upload, save=False)
    annex.save()
    vendor, signatory = verified_vendor()
    partner = VendorFactory()
    bid = Bid.objects.create(tender=tender, vendor=vendor, status=BidStatus.AWARDED, version=1, created_by=signatory)
    BidConsortiumMember.objects.create(bid=bid, vendor=partner, share=Decimal("30"))
    version = BidVersion.objects.create(bid=bid, number=1, submitted_at=timezone.now(), submitted_by=signatory)
    for kind, content in ENVELOPES.items():
        envelope = BidEnvelope(
            version=version,
            bid=bid,
            kind=kind,
            sha256=_sha(content),
            size=len(content),
            state=EnvelopeState.OPENED,
            content={"total_price": "1250000.00"} if kind == EnvelopeKind.FINANCIAL else {},
        )
        envelope.sealed.save("sealed", ContentFile(content), save=False)
        envelope.save()
    recommendation = Recommendation.objects.create(
        tender=tender,
        bid=bid,
        status=RecommendationStatus.FINAL,
        reasons="Best combined score.",
        recommended_by=officer,
    )
    set_status(tender, TenderStatus.AWARDED)
    return SimpleNamespace(
        tender=tender,
        officer=officer,
        vendor=vendor,
        signatory=signatory,
        partner=partner,
        bid=bid,
        recommendation=recommendation,
        documents=[d.sha256 for d in tender.documents.order_by("uploaded_at", "id")],
    )


TERMS = {
    "start_date": datetime.date(2027, 1, 1),
    "end_date": datetime.date(2052, 12, 31),
    "payment_mechanism": "availability",
    "penalty_rate": Decimal("0.05"),
    "penalty_cap": Decimal("10"),
}


def drafted(award):
    contract = services.contract_create_from_award(actor=award.officer, tender=award.tender)
    allocation = dict.fromkeys(RISK_CATEGORIES, "private")
    allocation.update({"landAvailability": "public", "changeInLaw": "public", "forceMajeure": "shared"})
    services.contract_update_draft(
        actor=award.officer, contract=contract, data={**TERMS, "risk_allocation": allocation}
    )
    services.contract_kpi_add(
        actor=award.officer,
        contract=contract,
        name_en="Network availability",
        name_ar="إتاحة الشبكة",
        target="99.5",
        unit="%",
        frequency="monthly",
    )
    services.contract_milestone_add(
        actor=award.officer,
        contract=contract,
        title_en="Commercial operation",
        title_ar="بدء التشغيل التجاري",
        due_date=datetime.date(2029, 6, 30),
        payment_amount="250000.00",
    )
    contract.refresh_from_db()
    return contract


def frozen(award, django_capture_on_commit_callbacks):
    contract = drafted(award)
    with django_capture_on_commit_callbacks(execute=True):
        version = services.contract_freeze(actor=award.officer, contract=contract)
    version.refresh_from_db()
    contract.refresh_from_db()
    return contract, version


def read(field_file) -> bytes:
    field_file.open("rb")
    try:
        return field_file.read()
    finally:
        field_file.close()


@pytest.fixture
def award():
    return final_award()


@pytest.fixture
def awaiting(award, django_capture_on_commit_callbacks):
    contract, version = frozen(award, django_capture_on_commit_callbacks)
    award.agency_signer = UserFactory(
        agency=award.tender.agency, roles=[Role.PROCUREMENT_OFFICER], full_name="Omar Khalil", preferred_language="en"
    )
    services.signer_key_issue(user=award.signatory, password=PASSWORD)
    services.signer_key_issue(user=award.agency_signer, password=PASSWORD)
    award.contract, award.version = contract, version
    return award


def ca_pem() -> bytes:
    return services.authority_paths()["ca_cert"].read_bytes()


# From the award to the draft -----------------------------------------------------------------------


def test_contract_is_drafted_from_the_final_award_with_parties_price_and_document_hashes(award):
    contract = services.contract_create_from_award(actor=award.officer, tender=award.tender)
    assert contract.status == ContractStatus.DRAFT
    assert (contract.recommendation, contract.bid, contract.vendor) == (
        award.recommendation,
        award.bid,
        award.vendor,
    )
    assert (contract.agency_id, contract.phase_id) == (award.tender.agency_id, award.tender.phase_id)
    assert contract.value == Decimal("1250000.00") and contract.currency == award.tender.currency
    assert [m["vendor_id"] for m in contract.consortium] == [award.partner.pk]
    documents = list(contract.documents.values_list("kind", "sha256"))
    assert documents == [
        (DocumentKind.TENDER_DOCUMENT, award.documents[0]),
        (DocumentKind.ADDENDUM, "a" * 64),
        (DocumentKind.BID_ENVELOPE, _sha(ENVELOPES[EnvelopeKind.FINANCIAL])),
        (DocumentKind.BID_ENVELOPE, _sha(ENVELOPES[EnvelopeKind.TECHNICAL])),
    ]
    event = AuditEvent.objects.get(action="contract.created")
    assert event.payload["documents"][0]["sha256"] == award.documents[0]
    with pytest.raises(ActionRefused, match="already has a contract"):
        services.contract_create_from_award(actor=award.officer, tender=award.tender)


def test_contract_only_from_a_final_award_and_by_an_officer_of_the_agency(award):
    stranger = UserFactory(roles=[Role.PROCUREMENT_OFFICER], preferred_language="en")
    with pytest.raises(PermissionDenied):
        services.contract_create_from_award(actor=stranger, tender=award.tender)
    with pytest.raises(PermissionDenied):
        services.contract_create_from_award(actor=award.signatory, tender=award.tender)
    set_status(award.tender, TenderStatus.STANDSTILL)
    with pytest.raises(ActionRefused, match="only from a final award"):
        services.contract_create_from_award(actor=award.officer, tender=award.tender)
    assert not Contract.objects.exists()


def test_draft_edits_are_checked_and_the_freeze_needs_complete_terms(award):
    contract = services.contract_create_from_award(actor=award.officer, tender=award.tender)
    with pytest.raises(ValidationError):
        services.contract_update_draft(
            actor=award.officer, contract=contract, data={"risk_allocation": {"meteorites": "public"}}
        )
    with pytest.raises(ValidationError):
        services.contract_update_draft(actor=award.officer, contract=contract, data={"status": "active"})
    with pytest.raises(ValidationError):
        services.contract_update_draft(
            actor=award.officer,
            contract=contract,
            data={"start_date": datetime.date(2030, 1, 1), "end_date": datetime.date(2029, 1, 1)},
        )
    with pytest.raises(ActionRefused, match="start and end dates"):
        services.contract_freeze(actor=award.officer, contract=contract)
    contract.refresh_from_db()
    assert contract.status == ContractStatus.DRAFT and contract.start_date is None


# Freezing and rendering ----------------------------------------------------------------------------


def test_freezing_renders_a_deterministic_bilingual_pdf_with_two_empty_signature_fields(
    award, django_capture_on_commit_callbacks
):
    contract, version = frozen(award, django_capture_on_commit_callbacks)
    assert contract.status == ContractStatus.AWAITING_SIGNATURES
    assert version.status == RenderStatus.RENDERED, version.error
    pdf = read(version.pdf)
    assert _sha(pdf) == version.pdf_sha256
    assert render_version_pdf(ContractVersion.objects.get(pk=version.pk)) == pdf  # the same bytes again
    assert signature_field_names(pdf) == {"vendor": False, "agency": False}
    rendered = AuditEvent.objects.get(action="contract.pdf_rendered")
    assert rendered.payload["sha256"] == version.pdf_sha256
    text = " ".join(" ".join(page.extract_text() for page in PdfReader(BytesIO(pdf)).pages).split())
    for english in ("Public-private partnership contract", "Network availability", "Risk allocation", "Signatures"):
        assert english in text
    compact = text.replace(" ", "")  # the digests wrap inside their table cells
    assert award.documents[0] in compact and _sha(ENVELOPES[EnvelopeKind.TECHNICAL]) in compact
    # Arabic comes out as letters (not presentation forms), whole words, in reading order.
    for arabic in ("عقد شراكة بين القطاعين العام والخاص", "إتاحة الشبكة", "التوقيعات", "البنود باللغة العربية"):
        assert arabic in text
    # Nothing can change once frozen.
    with pytest.raises(ActionRefused, match="only a draft"):
        services.contract_update_draft(actor=award.officer, contract=contract, data={"value": Decimal("1")})
    # The task is idempotent.
    assert render_contract_pdf.call(version.pk) == version.pdf_sha256


# Signing -------------------------------------------------------------------------------------------


def test_vendor_signs_then_agency_countersigns_and_validators_accept_it(awaiting, tmp_path):
    a = awaiting
    first = services.contract_sign(actor=a.signatory, contract=a.contract, password=PASSWORD)
    a.contract.refresh_from_db()
    assert a.contract.status == ContractStatus.AWAITING_SIGNATURES
    assert first.party == "vendor" and first.sha256 == _sha(read(first.pdf))
    second = services.contract_sign(actor=a.agency_signer, contract=a.contract, password=PASSWORD)
    a.contract.refresh_from_db()
    assert a.contract.status == ContractStatus.ACTIVE and a.contract.activated_at is not None
    final = read(second.pdf)
    assert final.startswith(read(first.pdf)) and read(first.pdf).startswith(read(a.version.pdf))
    assert signature_field_names(final) == {"vendor": True, "agency": True}
    signed = AuditEvent.objects.filter(action="contract.signed").order_by("sequence")
    assert [e.payload["sha256"] for e in signed] == [first.sha256, second.sha256]
    assert AuditEvent.objects.filter(action="contract.activated").exists()
    a.contract.tender.refresh_from_db()
    assert a.contract.tender.status == "contracted"  # the tender's process ends in the contract
    assert AuditEvent.objects.filter(action="tender.contracted", tender_id=a.contract.tender_id).exists()

    report = validation_report(final, [pki.load_certificate(ca_pem())])
    assert report.ok, report.problems
    assert [s.signer_email for s in report] == [a.signatory.email, a.agency_signer.email]
    assert all(s.timestamp_ok for s in report)

    path = tmp_path / "contract.pdf"
    path.write_bytes(final)
    ca_file = tmp_path / "ca.pem"
    ca_file.write_bytes(ca_pem())
    result = subprocess.run(  # noqa: S603
        [str(PYHANKO_CLI), "sign", "validate", "--pretty-print", "--trust", str(ca_file), str(path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    out = StringIO()
    call_command("verify_signatures", str(path), "--trust", str(ca_file), stdout=out)  # raises unless exit 0
    assert "Document: OK" in out.getvalue()
    if shutil.which("pdfsig"):  # poppler (NSS): checks each signature's integrity independently of pyHanko
        poppler = subprocess.run(  # noqa: S603
            [shutil.which("pdfsig"), str(path)], capture_output=True, text=True, check=False, timeout=60
        )
        assert poppler.stdout.count("Signature Validation: Signature is Valid.") == 2, poppler.stdout + poppler.stderr


def test_agency_cannot_sign_first_and_nobody_signs_twice(awaiting):
    a = awaiting
    with pytest.raises(ActionRefused, match="contractor signs first"):
        services.contract_sign(actor=a.agency_signer, contract=a.contract, password=PASSWORD)
    services.contract_sign(actor=a.signatory, contract=a.contract, password=PASSWORD)
    with pytest.raises(ActionRefused, match="already signed for your party"):
        services.contract_sign(actor=a.signatory, contract=a.contract, password=PASSWORD)
    assert ContractSignature.objects.count() == 1
    reasons = list(
        AuditEvent.objects.filter(action="contract.sign_refused").order_by("sequence").values_list("payload", flat=True)
    )
    assert [r["reason"] for r in reasons] == ["order", "already_signed"]


def test_wrong_password_or_wrong_signer_is_refused_and_nothing_is_saved(awaiting):
    a = awaiting
    with pytest.raises(ActionRefused, match="password is wrong"):
        services.contract_sign(actor=a.signatory, contract=a.contract, password="not my password")
    # A member of the contractor who is not its administrator, and an officer of another agency.
    employee = member(a.vendor, administrator=False)
    outsider = UserFactory(roles=[Role.PROCUREMENT_OFFICER], preferred_language="en")
    other_vendor_admin = verified_vendor()[1]
    for stranger in (employee, outsider, other_vendor_admin):
        with pytest.raises(PermissionDenied):
            services.contract_sign(actor=stranger, contract=a.contract, password=PASSWORD)
    assert not ContractSignature.objects.exists()
    a.contract.refresh_from_db()
    assert a.contract.status == ContractStatus.AWAITING_SIGNATURES


def test_signing_a_contract_that_is_not_awaiting_signatures_is_refused(award):
    contract = drafted(award)
    services.signer_key_issue(user=award.signatory, password=PASSWORD)
    with pytest.raises(ActionRefused, match="not awaiting signatures"):
        services.contract_sign(actor=award.signatory, contract=contract, password=PASSWORD)
    assert not ContractSignature.objects.exists()


def test_own_pkcs12_signs_once_and_must_name_the_signatory(awaiting):
    a = awaiting
    key = SignerKey.objects.get(user=a.signatory, retired_at__isnull=True)
    private_key = pki.load_signer_key(key.encrypted_private_key_pem.encode(), PASSWORD)
    certificate = pki.load_certificate(key.certificate_pem.encode())
    ca_cert = pki.load_certificate(ca_pem())
    bundle = pkcs12.serialize_key_and_certificates(
        b"own", private_key, certificate, [ca_cert], serialization.BestAvailableEncryption(b"p12 password")
    )
    SignerKey.objects.filter(user=a.signatory).update(retired_at=timezone.now())  # the stored key plays no part
    with pytest.raises(ActionRefused, match="p12|PKCS#12"):
        services.contract_sign(
            actor=a.signatory, contract=a.contract, password=PASSWORD, pkcs12=bundle, pkcs12_password="wrong"
        )
    signature = services.contract_sign(
        actor=a.signatory, contract=a.contract, password=PASSWORD, pkcs12=bundle, pkcs12_password="p12 password"
    )
    assert signature.own_certificate
    assert validation_report(read(signature.pdf), [ca_cert])[0].signer_email == a.signatory.email
    # The agency's officer cannot countersign with a certificate that names someone else.
    with pytest.raises(ActionRefused, match="not to the signatory"):
        services.contract_sign(
            actor=a.agency_signer,
            contract=a.contract,
            password=PASSWORD,
            pkcs12=bundle,
            pkcs12_password="p12 password",
        )
    assert ContractSignature.objects.count() == 1


def test_signer_key_is_encrypted_under_the_users_password(award):
    with pytest.raises(ActionRefused, match="password is wrong"):
        services.signer_key_issue(user=award.signatory, password="guess")
    first = services.signer_key_issue(user=award.signatory, password=PASSWORD)
    assert "ENCRYPTED PRIVATE KEY" in first.encrypted_private_key_pem
    second = services.signer_key_issue(user=award.signatory, password=PASSWORD)
    first.refresh_from_db()
    assert first.retired_at is not None and second.retired_at is None
    assert pki.certificate_emails(pki.load_certificate(second.certificate_pem.encode())) == {award.signatory.email}


def test_ca_init_refuses_to_overwrite_without_force():
    with pytest.raises(CommandError, match="already exists"):
        call_command("contracts_ca_init", stdout=StringIO())


def _foreign_bundle(tmp_path, signatory) -> tuple[bytes, Path]:
    """A PKCS#12 naming the signatory, from a certificate authority the system does not know (yet)."""
    ca_pem_bytes, ca_key_pem = pki.create_ca("Foreign Trust Services Root", "Foreign Trust Services", 3650)
    ca_cert = pki.load_certificate(ca_pem_bytes)
    ca_key = pki.load_authority_key(ca_key_pem)
    public_key, encrypted = pki.generate_signer_key("own key password")
    certificate = pki.load_certificate(
        pki.issue_signer_certificate(
            ca_cert,
            ca_key,
            common_name="Own Certificate Holder",
            email=signatory.email,
            organisation="Contractor",
            public_key=public_key,
            valid_days=365,
        )
    )
    private_key = pki.load_signer_key(encrypted, "own key password")
    bundle = pkcs12.serialize_key_and_certificates(
        b"own", private_key, certificate, [ca_cert], serialization.BestAvailableEncryption(b"p12 password")
    )
    root = tmp_path / "foreign-root.pem"
    root.write_bytes(ca_pem_bytes)
    return bundle, root


def test_own_pkcs12_must_chain_to_a_trusted_root(awaiting, settings, tmp_path):
    a = awaiting
    bundle, root = _foreign_bundle(tmp_path, a.signatory)
    settings.CONTRACT_TRUSTED_ROOTS = []
    with pytest.raises(ActionRefused, match="does not lead to a certificate authority this system trusts"):
        services.contract_sign(
            actor=a.signatory, contract=a.contract, password=PASSWORD, pkcs12=bundle, pkcs12_password="p12 password"
        )
    assert not ContractSignature.objects.exists()
    refused = AuditEvent.objects.get(action="contract.sign_refused")
    assert refused.payload["reason"] == "UntrustedCertificate"
    # Once the operator trusts that root, the same file signs, and the verifier reports it trusted.
    settings.CONTRACT_TRUSTED_ROOTS = [str(root)]
    signature = services.contract_sign(
        actor=a.signatory, contract=a.contract, password=PASSWORD, pkcs12=bundle, pkcs12_password="p12 password"
    )
    from contracts.trust import trust_roots

    report = validation_report(read(signature.pdf), trust_roots())
    assert report.ok, report.problems
    assert report[0].trusted and report[0].signer_email == a.signatory.email


def test_a_key_certified_by_a_replaced_ca_no_longer_signs(awaiting):
    a = awaiting
    call_command("contracts_ca_init", force=True, stdout=StringIO())  # a new CA: the old keys are not its own
    try:
        with pytest.raises(ActionRefused, match="no longer in use"):
            services.contract_sign(actor=a.signatory, contract=a.contract, password=PASSWORD)
        assert not ContractSignature.objects.exists()
        services.signer_key_issue(user=a.signatory, password=PASSWORD)
        signature = services.contract_sign(actor=a.signatory, contract=a.contract, password=PASSWORD)
        assert validation_report(read(signature.pdf), [pki.load_certificate(ca_pem())]).ok
    finally:
        # The module's other tests share the CA directory: leave a CA in place (a fresh one is fine).
        assert services.authority_paths()["ca_cert"].exists()
