"""The contract pages: who may see a contract, the officers' draft actions, signing through the web, its
verification report, and the public verifier."""

from __future__ import annotations

import hashlib
from decimal import Decimal
from io import StringIO
from pathlib import Path
from types import SimpleNamespace

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone, translation

from accounts.roles import Role
from contracts import pki, services
from contracts.models import RISK_CATEGORIES, Contract, ContractSignature, ContractStatus, RenderStatus, SignerKey
from procurement.models import Bid, BidConsortiumMember, BidEnvelope, BidVersion, Recommendation
from procurement.models.bids import BidStatus, EnvelopeKind, EnvelopeState
from procurement.models.evaluation import RecommendationStatus
from procurement.models.tenders import TenderStatus
from tests.accounts.factories import UserFactory
from tests.html_checks import check_page
from tests.procurement.tender_factories import TenderFactory, set_status, with_document
from tests.vendors.factories import VendorFactory, member, verified_vendor

pytestmark = pytest.mark.django_db

PASSPHRASE = "contracts-test-ca-passphrase"
PASSWORD = "correct-horse-battery"  # the UserFactory's password
ENVELOPES = {EnvelopeKind.TECHNICAL: b"sealed technical envelope", EnvelopeKind.FINANCIAL: b"sealed financial envelope"}


# Fixtures (after tests/contracts/test_contracts.py) ---------------------------------------------------


@pytest.fixture(scope="module")
def authority_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("contract-ca")


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


@pytest.fixture
def award():
    """An awarded tender with a document, and the final recommendation of a bid leading a consortium."""
    tender = TenderFactory()
    officer = tender.created_by
    with_document(tender, title="Terms of reference")
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
    Recommendation.objects.create(
        tender=tender, bid=bid, status=RecommendationStatus.FINAL, reasons="Best score.", recommended_by=officer
    )
    set_status(tender, TenderStatus.AWARDED)
    agency_signer = UserFactory(
        agency=tender.agency, roles=[Role.PROCUREMENT_OFFICER], full_name="Omar Khalil", preferred_language="en"
    )
    return SimpleNamespace(
        tender=tender, officer=officer, vendor=vendor, signatory=signatory, agency_signer=agency_signer
    )


def url(name: str, *args) -> str:
    """The English address (whatever language an earlier Arabic request left active)."""
    with translation.override("en"):
        return reverse(f"contracts:{name}", args=args)


def arabic(address: str) -> str:
    return address.replace("/en/", "/ar/", 1)


def terms_post(**changes) -> dict:
    data = {
        "title_en": "Fibre network concession",
        "title_ar": "امتياز شبكة الألياف",
        "value": "1250000.00",
        "currency": "JOD",
        "start_date": "2027-01-01",
        "end_date": "2052-12-31",
        "payment_mechanism": "availability",
        "penalty_rate": "0.05",
        "penalty_cap": "10",
    }
    data.update({f"risk_{code}": "private" for code in RISK_CATEGORIES})
    data.update(changes)
    return data


def drafted_via_views(client, award) -> Contract:
    """Create the contract from the award and complete its draft, all through the officer's pages."""
    client.force_login(award.officer)
    response = client.post(url("contract_create", award.tender.pk))
    contract = Contract.objects.get(tender=award.tender)
    assert response.status_code == 302 and response["Location"] == url("contract_detail", contract.pk)
    currency = award.tender.currency
    assert client.post(url("contract_edit", contract.pk), terms_post(currency=currency)).status_code == 302
    kpi = {"kpi-name_en": "Availability", "kpi-name_ar": "الإتاحة", "kpi-target": "99.5", "kpi-unit": "%"}
    kpi["kpi-frequency"] = "monthly"
    assert client.post(url("contract_kpi_add", contract.pk), kpi).status_code == 302
    milestone = {
        "milestone-title_en": "Commercial operation",
        "milestone-title_ar": "بدء التشغيل التجاري",
        "milestone-due_date": "2029-06-30",
        "milestone-payment_amount": "250000.00",
    }
    assert client.post(url("contract_milestone_add", contract.pk), milestone).status_code == 302
    contract.refresh_from_db()
    return contract


def frozen_via_views(client, award, django_capture_on_commit_callbacks) -> Contract:
    contract = drafted_via_views(client, award)
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(url("contract_freeze", contract.pk)).status_code == 302
    contract.refresh_from_db()
    assert contract.status == ContractStatus.AWAITING_SIGNATURES
    assert contract.versions.get().status == RenderStatus.RENDERED
    return contract


def sign_via_views(client, user, contract, password=PASSWORD):
    client.force_login(user)
    if not SignerKey.objects.filter(user=user, retired_at__isnull=True).exists():
        response = client.post(url("signer_key_create", contract.pk), {"key-password": password})
        assert response.status_code == 302, response.content.decode()
    return client.post(url("contract_sign", contract.pk), {"password": password})


# Tests -----------------------------------------------------------------------------------------------


def test_create_freeze_and_sign_through_the_pages(client, award, django_capture_on_commit_callbacks):
    contract = frozen_via_views(client, award, django_capture_on_commit_callbacks)
    detail = client.get(url("contract_detail", contract.pk))
    html = detail.content.decode()
    assert "Download (unsigned)" in html and "Not signed yet." in html and 'http-equiv="refresh"' not in html

    response = sign_via_views(client, award.signatory, contract)
    assert response.status_code == 302, response.content.decode()
    response = sign_via_views(client, award.agency_signer, contract)
    assert response.status_code == 302, response.content.decode()
    contract.refresh_from_db()
    assert contract.status == ContractStatus.ACTIVE
    assert ContractSignature.objects.filter(version__contract=contract).count() == 2

    page = client.get(url("contract_detail", contract.pk))
    html = page.content.decode()
    assert "Every signature is valid" in html
    assert award.signatory.email in html and award.agency_signer.email in html
    assert html.count("<strong>NO</strong>") == 0
    last = ContractSignature.objects.get(party="agency")
    download = client.get(url("signature_pdf", contract.pk, last.pk))
    assert download.status_code == 200 and download["Content-Type"] == "application/pdf"
    assert _sha(b"".join(download.streaming_content)) == last.sha256


def test_detail_renders_in_english_and_arabic_for_each_reader(client, award, django_capture_on_commit_callbacks):
    contract = drafted_via_views(client, award)
    auditor = UserFactory(roles=[Role.AUDITOR], preferred_language="en")
    employee = member(award.vendor, administrator=False)
    for reader in (award.officer, award.signatory, employee, auditor):
        client.force_login(reader)
        for address in (url("contract_detail", contract.pk), arabic(url("contract_detail", contract.pk))):
            page = client.get(address)
            assert page.status_code == 200, (reader, address)
            report = check_page(page.content)
            assert not report.unlabelled_controls and not report.duplicate_ids and not report.dangling_references
    client.force_login(award.officer)
    english = client.get(url("contract_detail", contract.pk)).content.decode()
    assert "Fibre network concession" in english and "Availability" in english and "Freeze for signature" in english
    report = check_page(client.get(arabic(url("contract_detail", contract.pk))).content)
    assert (report.lang, report.dir) == ("ar", "rtl")
    assert "امتياز شبكة الألياف" in client.get(arabic(url("contract_detail", contract.pk))).content.decode()
    # Readers who are not officers see no draft forms.
    client.force_login(auditor)
    assert "Freeze for signature" not in client.get(url("contract_detail", contract.pk)).content.decode()


def test_being_prepared_note_refreshes_while_rendering(client, award):
    contract = drafted_via_views(client, award)
    client.post(url("contract_freeze", contract.pk))  # the render task is not run (no on_commit here)
    assert contract.versions.get().status == RenderStatus.RENDERING
    html = client.get(url("contract_detail", contract.pk)).content.decode()
    assert 'http-equiv="refresh"' in html and "being prepared" in html


def test_strangers_get_403(client, award, django_capture_on_commit_callbacks):
    contract = frozen_via_views(client, award, django_capture_on_commit_callbacks)
    version = contract.versions.get()
    other_vendor_admin = verified_vendor()[1]
    other_officer = UserFactory(roles=[Role.PROCUREMENT_OFFICER], preferred_language="en")
    employee = member(award.vendor, administrator=False)
    for stranger in (other_vendor_admin, other_officer):
        client.force_login(stranger)
        assert client.get(url("contract_detail", contract.pk)).status_code == 403
        assert client.get(url("version_pdf", contract.pk, version.number)).status_code == 403
        assert client.get(url("contract_sign", contract.pk)).status_code == 403
        assert client.post(url("contract_sign", contract.pk), {"password": PASSWORD}).status_code == 403
    client.force_login(other_officer)
    assert client.post(url("contract_create", award.tender.pk)).status_code == 403
    assert client.post(url("contract_edit", contract.pk), terms_post()).status_code == 403
    client.force_login(employee)  # sees the contract, but is not the contractor's signatory
    assert client.get(url("contract_detail", contract.pk)).status_code == 200
    assert client.get(url("contract_sign", contract.pk)).status_code == 403
    assert not ContractSignature.objects.exists()
    client.logout()
    assert client.get(url("contract_detail", contract.pk)).status_code == 302  # to the sign-in page


def test_refusals_are_explained_and_what_was_typed_is_kept(client, award):
    contract = drafted_via_views(client, award)
    bad = terms_post(currency=award.tender.currency, start_date="2030-01-01", end_date="2029-01-01")
    page = client.post(url("contract_edit", contract.pk), bad)
    assert page.status_code == 400
    html = page.content.decode()
    assert 'class="error-summary"' in html and 'value="2030-01-01"' in html
    contract.refresh_from_db()
    assert str(contract.start_date) == "2027-01-01"
    page = client.post(url("contract_kpi_add", contract.pk), {"kpi-name_en": "Uptime", "kpi-target": "lots"})
    assert page.status_code == 400 and 'value="Uptime"' in page.content.decode()
    # A second contract for the same award: a clear message on the tender page.
    response = client.post(url("contract_create", award.tender.pk), follow=True)
    assert "already has a contract" in response.content.decode()
    # Freezing an incomplete draft: the readiness problems as a message, and the draft stays a draft.
    contract.milestones.all().delete()
    response = client.post(url("contract_freeze", contract.pk), follow=True)
    assert "Add at least one milestone." in response.content.decode()
    contract.refresh_from_db()
    assert contract.status == ContractStatus.DRAFT and not contract.versions.exists()


def test_signing_refusals_are_shown_on_the_form(client, award, django_capture_on_commit_callbacks):
    contract = frozen_via_views(client, award, django_capture_on_commit_callbacks)
    client.force_login(award.signatory)
    page = client.get(url("contract_sign", contract.pk))
    assert page.status_code == 200 and "Get a signing certificate" in page.content.decode()
    assert (check_page(page.content).unlabelled_controls, check_page(page.content).duplicate_ids) == ([], [])
    assert check_page(client.get(arabic(url("contract_sign", contract.pk))).content).dir == "rtl"
    wrong = client.post(url("signer_key_create", contract.pk), {"key-password": "guess"})
    assert wrong.status_code == 400 and "password is wrong" in wrong.content.decode()
    client.post(url("signer_key_create", contract.pk), {"key-password": PASSWORD})
    page = client.get(url("contract_sign", contract.pk)).content.decode()
    assert "Get a signing certificate" not in page and award.signatory.email in page
    wrong = client.post(url("contract_sign", contract.pk), {"password": "not my password"})
    assert wrong.status_code == 400 and "password is wrong" in wrong.content.decode()
    early = sign_via_views(client, award.agency_signer, contract)
    assert early.status_code == 400 and "contractor signs first" in early.content.decode()
    assert not ContractSignature.objects.exists()


def test_public_verifier(client, award, django_capture_on_commit_callbacks):
    contract = frozen_via_views(client, award, django_capture_on_commit_callbacks)
    sign_via_views(client, award.signatory, contract)
    signed = ContractSignature.objects.get()
    signed.pdf.open("rb")
    pdf = signed.pdf.read()
    signed.pdf.close()
    client.logout()
    stored_before = sorted(p.name for p in Path(signed.pdf.path).parent.iterdir())
    for address in (url("verify"), arabic(url("verify"))):
        page = client.get(address)
        assert page.status_code == 200 and not check_page(page.content).unlabelled_controls
    page = client.post(url("verify"), {"pdf": SimpleUploadedFile("contract.pdf", pdf, "application/pdf")})
    html = page.content.decode()
    assert page.status_code == 200 and "Every signature is valid" in html and award.signatory.email in html
    assert sorted(p.name for p in Path(signed.pdf.path).parent.iterdir()) == stored_before  # nothing stored
    # One flipped byte inside the signed content.
    index = pdf.index(b"stream") + 20
    tampered = pdf[:index] + bytes([pdf[index] ^ 0x01]) + pdf[index + 1 :]
    page = client.post(url("verify"), {"pdf": SimpleUploadedFile("contract.pdf", tampered, "application/pdf")})
    assert "does NOT verify" in page.content.decode()
    page = client.post(url("verify"), {"pdf": SimpleUploadedFile("notes.pdf", b"hello, world", "application/pdf")})
    assert page.status_code == 400 and "This file is not a PDF." in page.content.decode()
    page = client.post(arabic(url("verify")), {"pdf": SimpleUploadedFile("notes.pdf", b"hello", "application/pdf")})
    assert page.status_code == 400 and check_page(page.content).dir == "rtl"


def test_verifier_refuses_a_file_over_the_limit(client, settings):
    settings.UPLOAD_MAX_BYTES = 1024
    big = SimpleUploadedFile("big.pdf", b"%PDF-1.7\n" + b"0" * 2048, "application/pdf")
    page = client.post(url("verify"), {"pdf": big})
    assert page.status_code == 400 and "too large" in page.content.decode()


def test_signing_with_an_uploaded_pkcs12(client, award, django_capture_on_commit_callbacks):
    contract = frozen_via_views(client, award, django_capture_on_commit_callbacks)
    key = services.signer_key_issue(user=award.signatory, password=PASSWORD)
    private_key = pki.load_signer_key(key.encrypted_private_key_pem.encode(), PASSWORD)
    certificate = pki.load_certificate(key.certificate_pem.encode())
    ca_cert = pki.load_certificate(services.authority_paths()["ca_cert"].read_bytes())
    bundle = pkcs12.serialize_key_and_certificates(
        b"own", private_key, certificate, [ca_cert], serialization.BestAvailableEncryption(b"p12 password")
    )
    SignerKey.objects.filter(user=award.signatory).update(retired_at=timezone.now())
    client.force_login(award.signatory)

    def post(p12_password):
        upload = SimpleUploadedFile("me.p12", bundle, "application/x-pkcs12")
        data = {"password": PASSWORD, "pkcs12": upload, "pkcs12_password": p12_password}
        return client.post(url("contract_sign", contract.pk), data)

    wrong = post("wrong")
    assert wrong.status_code == 400 and 'class="error-summary"' in wrong.content.decode()
    assert post("p12 password").status_code == 302
    assert ContractSignature.objects.get().own_certificate


def test_the_tender_page_offers_the_contract_to_its_officers(client, award):
    with translation.override("en"):
        tender_page = reverse("procurement:tender_detail", args=[award.tender.pk])
    client.force_login(award.officer)
    assert "Create the contract" in client.get(tender_page).content.decode()
    contract = drafted_via_views(client, award)
    page = client.get(tender_page).content.decode()
    assert "Create the contract" not in page and url("contract_detail", contract.pk) in page
