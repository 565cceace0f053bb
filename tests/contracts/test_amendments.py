"""Amendments (change orders) through the services: drafted by an officer, approved by someone else, frozen
into their own bilingual PDF that names the signed contract by its SHA-256, signed by both parties like the
contract, and then in force — the contract's current terms are the original plus the amendments in force."""

from __future__ import annotations

import datetime
import hashlib
import subprocess
import sys
from decimal import Decimal
from io import StringIO
from pathlib import Path

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from pypdf import PdfReader

from accounts.roles import Role
from audit.models import AuditEvent
from contracts import amendments, pki, services
from contracts.models import AmendmentStatus, ContractAmendment, ContractStatus, ContractVersion, RenderStatus
from contracts.signing import signature_field_names, validation_report
from contracts.tasks import render_version_pdf
from core.exceptions import ActionRefused
from tests.accounts.factories import UserFactory
from tests.contracts.test_contracts import PASSPHRASE, PASSWORD, final_award, frozen, read

pytestmark = pytest.mark.django_db

PYHANKO_CLI = Path(sys.executable).with_name("pyhanko")
REASON = "The regulator added two districts to the service area."


@pytest.fixture(scope="module")
def authority_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("contract-ca")


@pytest.fixture(autouse=True)
def _ca_and_media(settings, tmp_path, authority_dir):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.CONTRACT_CA_CERT_FILE = authority_dir / "contract-ca.pem"
    settings.CONTRACT_CA_KEY_PASSPHRASE = PASSPHRASE
    settings.CONTRACT_TSA_URL = ""
    settings.CONTRACT_AMENDMENT_MAX_PERCENT = 25
    if not settings.CONTRACT_CA_CERT_FILE.exists():
        call_command("contracts_ca_init", stdout=StringIO())


@pytest.fixture
def active(django_capture_on_commit_callbacks):
    """An active contract (value 1,250,000; one KPI; one milestone), signed by both parties."""
    award = final_award()
    contract, version = frozen(award, django_capture_on_commit_callbacks)
    award.agency_signer = UserFactory(
        agency=award.tender.agency, roles=[Role.PROCUREMENT_OFFICER], full_name="Omar Khalil", preferred_language="en"
    )
    award.approver = UserFactory(agency=award.tender.agency, roles=[Role.APPROVER], full_name="Huda Saleh")
    services.signer_key_issue(user=award.signatory, password=PASSWORD)
    services.signer_key_issue(user=award.agency_signer, password=PASSWORD)
    services.contract_sign(actor=award.signatory, contract=contract, password=PASSWORD)
    signature = services.contract_sign(actor=award.agency_signer, contract=contract, password=PASSWORD)
    contract.refresh_from_db()
    assert contract.status == ContractStatus.ACTIVE
    award.contract, award.version, award.contract_sha256 = contract, version, signature.sha256
    return award


def _approved(a, django_capture_on_commit_callbacks, **changes) -> tuple[ContractAmendment, ContractVersion]:
    amendment = amendments.amendment_create(actor=a.officer, contract=a.contract, reason=REASON, **changes)
    amendments.amendment_submit(actor=a.officer, amendment=amendment)
    with django_capture_on_commit_callbacks(execute=True):
        version = amendments.amendment_approve(actor=a.approver, amendment=amendment)
    version.refresh_from_db()
    amendment.refresh_from_db()
    return amendment, version


def _sign_both(a, contract=None):
    contract = contract or a.contract
    services.contract_sign(actor=a.signatory, contract=contract, password=PASSWORD)
    return services.contract_sign(actor=a.agency_signer, contract=contract, password=PASSWORD)


def test_an_amendment_goes_from_draft_to_in_force_and_changes_the_contracts_current_terms(
    active, django_capture_on_commit_callbacks, tmp_path
):
    a = active
    contract = a.contract
    milestone = contract.milestones.get()
    kpi = contract.kpis.get()
    amendment = amendments.amendment_create(
        actor=a.officer,
        contract=contract,
        reason=REASON,
        new_value="1400000.00",
        new_end_date=datetime.date(2053, 12, 31),
    )
    assert amendment.number == 1 and amendment.status == AmendmentStatus.DRAFT
    amendments.amendment_change_milestone(
        actor=a.officer,
        amendment=amendment,
        milestone_id=milestone.pk,
        due_date=datetime.date(2029, 12, 31),
        payment_amount="300000",
    )
    amendments.amendment_change_milestone(
        actor=a.officer,
        amendment=amendment,
        title_en="Extension to the new districts",
        title_ar="التوسع إلى الأحياء الجديدة",
        due_date=datetime.date(2031, 6, 30),
        payment_amount="150000",
    )
    amendments.amendment_change_kpi(
        actor=a.officer, amendment=amendment, kpi_id=kpi.pk, target="99.9", frequency="monthly"
    )
    amendments.amendment_submit(actor=a.officer, amendment=amendment)
    amendment.refresh_from_db()
    assert amendment.status == AmendmentStatus.PENDING_APPROVAL
    with django_capture_on_commit_callbacks(execute=True):
        version = amendments.amendment_approve(actor=a.approver, amendment=amendment)
    version.refresh_from_db()
    amendment.refresh_from_db()
    assert amendment.status == AmendmentStatus.AWAITING_SIGNATURES and amendment.approved_by == a.approver
    assert version.number == 2 and version.amendment == amendment and version.status == RenderStatus.RENDERED

    # Its own PDF, naming the signed contract by its SHA-256, with the changes, in both languages.
    pdf = read(version.pdf)
    assert hashlib.sha256(pdf).hexdigest() == version.pdf_sha256
    text = "\n".join(page.extract_text() for page in PdfReader(version.pdf.path).pages)
    assert a.contract_sha256 in text.replace("\n", "")
    assert "Amendment 1 to contract" in text and "1400000.00" in text and "2053-12-31" in text
    assert "Extension to the new districts" in text
    assert "التعديل" in text or "لیدعتلا" in text  # Arabic present (extraction order may be visual)
    assert signature_field_names(pdf) == {"vendor": False, "agency": False}
    assert render_version_pdf(version) == pdf  # the same frozen amendment renders to the same bytes
    rendered = AuditEvent.objects.filter(action="contract.pdf_rendered").order_by("-sequence").first()
    assert rendered.payload["sha256"] == version.pdf_sha256

    # Until both parties sign, the contract's terms do not move.
    services.contract_sign(actor=a.signatory, contract=contract, password=PASSWORD)
    contract.refresh_from_db()
    assert contract.value == Decimal("1250000.00")
    second = services.contract_sign(actor=a.agency_signer, contract=contract, password=PASSWORD)
    amendment.refresh_from_db()
    contract.refresh_from_db()
    assert amendment.status == AmendmentStatus.IN_FORCE and amendment.in_force_at is not None
    assert contract.status == ContractStatus.ACTIVE
    assert contract.value == Decimal("1400000.00") and contract.end_date == datetime.date(2053, 12, 31)
    milestone.refresh_from_db()
    kpi.refresh_from_db()
    assert milestone.due_date == datetime.date(2029, 12, 31) and milestone.payment_amount == Decimal("300000")
    assert milestone.amendment == amendment
    assert contract.milestones.count() == 2
    assert kpi.target == Decimal("99.9") and kpi.frequency == "monthly"
    event = AuditEvent.objects.get(action="contract.amendment_in_force")
    assert event.payload["before"]["value"] == "1250000.00" and event.payload["after"]["value"] == "1400000.00"
    assert event.payload["sha256"] == second.sha256
    # The original version is untouched and still verifies; the amendment's signed PDF verifies too.
    assert services.signed_pdf(contract) is not None
    ca = pki.load_certificate(services.authority_paths()["ca_cert"].read_bytes())
    assert validation_report(services.signed_pdf(contract), [ca]).ok
    signed_amendment = read(second.pdf)
    report = validation_report(signed_amendment, [ca])
    assert report.ok, report.problems
    assert [s.signer_email for s in report] == [a.signatory.email, a.agency_signer.email]
    path = tmp_path / "amendment.pdf"
    path.write_bytes(signed_amendment)
    result = subprocess.run(  # noqa: S603
        [
            str(PYHANKO_CLI),
            "sign",
            "validate",
            "--pretty-print",
            "--trust",
            str(services.authority_paths()["ca_cert"]),
            str(path),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_approver_must_not_be_the_drafter(active):
    a = active
    both = UserFactory(agency=a.tender.agency, roles=[Role.PROCUREMENT_OFFICER, Role.APPROVER])
    amendment = amendments.amendment_create(actor=both, contract=a.contract, reason=REASON, new_value="1300000")
    amendments.amendment_submit(actor=both, amendment=amendment)
    with pytest.raises(ActionRefused, match="another approver"):
        amendments.amendment_approve(actor=both, amendment=amendment)
    with pytest.raises(ActionRefused, match="another approver"):
        amendments.amendment_return(actor=both, amendment=amendment, reason="I changed my mind about it.")
    amendment.refresh_from_db()
    assert amendment.status == AmendmentStatus.PENDING_APPROVAL
    assert not ContractVersion.objects.filter(amendment=amendment).exists()


def test_who_may_draft_and_who_may_approve(active, other_officer):
    a = active
    for outsider in (a.signatory, other_officer, a.approver):
        with pytest.raises(PermissionDenied):
            amendments.amendment_create(actor=outsider, contract=a.contract, reason=REASON, new_value="1300000")
    amendment = amendments.amendment_create(actor=a.officer, contract=a.contract, reason=REASON, new_value="1300000")
    amendments.amendment_submit(actor=a.officer, amendment=amendment)
    other_approver = UserFactory(agency=other_officer.agency, roles=[Role.APPROVER])
    for outsider in (a.officer, a.signatory, other_approver):
        with pytest.raises(PermissionDenied):
            amendments.amendment_approve(actor=outsider, amendment=amendment)
    assert not AuditEvent.objects.filter(action="contract.amendment_approved").exists()


def test_the_value_may_move_at_most_the_configured_percentage_over_all_amendments(
    active, settings, django_capture_on_commit_callbacks
):
    a = active
    settings.CONTRACT_AMENDMENT_MAX_PERCENT = 20
    with pytest.raises(ValidationError) as refused:
        amendments.amendment_create(actor=a.officer, contract=a.contract, reason=REASON, new_value="1500000.01")
    assert "at most 20%" in str(refused.value) and "1000000.00 and 1500000.00" in str(refused.value)
    assert not ContractAmendment.objects.exists()
    first, _version = _approved(a, django_capture_on_commit_callbacks, new_value="1450000.00")  # +16%
    _sign_both(a)
    a.contract.refresh_from_db()
    assert a.contract.value == Decimal("1450000.00")
    # Cumulative: measured from the value as first signed, not from the current one.
    with pytest.raises(ValidationError, match="at most 20%"):
        amendments.amendment_create(actor=a.officer, contract=a.contract, reason=REASON, new_value="1520000")
    second = amendments.amendment_create(actor=a.officer, contract=a.contract, reason=REASON, new_value="1500000")
    assert second.number == 2
    # A limit lowered after drafting is enforced when it goes forward.
    settings.CONTRACT_AMENDMENT_MAX_PERCENT = 10
    with pytest.raises(ActionRefused, match="at most 10%"):
        amendments.amendment_submit(actor=a.officer, amendment=second)
    second.refresh_from_db()
    assert second.status == AmendmentStatus.DRAFT


def test_an_amendment_must_change_something_and_keep_the_schedule_within_value_and_term(active):
    a = active
    amendment = amendments.amendment_create(actor=a.officer, contract=a.contract, reason=REASON)
    with pytest.raises(ActionRefused, match="changes nothing"):
        amendments.amendment_submit(actor=a.officer, amendment=amendment)
    amendments.amendment_change_milestone(
        actor=a.officer,
        amendment=amendment,
        title_en="Huge payment",
        title_ar="دفعة ضخمة",
        due_date=datetime.date(2060, 1, 1),
        payment_amount="1100000",
    )
    with pytest.raises(ActionRefused) as refused:
        amendments.amendment_submit(actor=a.officer, amendment=amendment)
    assert "exceed the contract's value" in refused.value.message
    assert "outside the contract term" in refused.value.message
    with pytest.raises(ValidationError):
        amendments.amendment_update(
            actor=a.officer, amendment=amendment, reason=REASON, new_end_date=datetime.date(2026, 1, 1)
        )
    with pytest.raises(ValidationError):
        amendments.amendment_update(actor=a.officer, amendment=amendment, reason="short")
    with pytest.raises(ValidationError):
        amendments.amendment_change_milestone(
            actor=a.officer, amendment=amendment, milestone_id=999999, due_date=datetime.date(2030, 1, 1)
        )
    amendment.refresh_from_db()
    assert amendment.reason == REASON and len(amendment.changes["milestones"]) == 1
    amendments.amendment_remove_change(actor=a.officer, amendment=amendment, kind="milestones", index=0)
    amendment.refresh_from_db()
    assert amendment.changes["milestones"] == []


def test_only_an_active_contract_is_amended_and_one_amendment_at_a_time(active, django_capture_on_commit_callbacks):
    a = active
    amendments.amendment_create(actor=a.officer, contract=a.contract, reason=REASON, new_value="1300000")
    with pytest.raises(ActionRefused, match="already under way"):
        amendments.amendment_create(actor=a.officer, contract=a.contract, reason=REASON, new_value="1310000")
    award = final_award()
    contract, _version = frozen(award, django_capture_on_commit_callbacks)  # awaiting signatures
    with pytest.raises(ActionRefused, match="only a contract in force"):
        amendments.amendment_create(actor=award.officer, contract=contract, reason=REASON, new_value="1300000")


def test_return_withdraw_and_the_states_each_action_needs(active, django_capture_on_commit_callbacks):
    a = active
    amendment = amendments.amendment_create(actor=a.officer, contract=a.contract, reason=REASON, new_value="1300000")
    with pytest.raises(ActionRefused):  # not submitted yet
        amendments.amendment_approve(actor=a.approver, amendment=amendment)
    amendments.amendment_submit(actor=a.officer, amendment=amendment)
    with pytest.raises(ValidationError):
        amendments.amendment_return(actor=a.approver, amendment=amendment, reason="no")
    amendments.amendment_return(actor=a.approver, amendment=amendment, reason="Attach the regulator's decision.")
    amendment.refresh_from_db()
    assert amendment.status == AmendmentStatus.DRAFT and "regulator" in amendment.return_reason
    amendments.amendment_withdraw(actor=a.officer, amendment=amendment)
    amendment.refresh_from_db()
    assert amendment.status == AmendmentStatus.WITHDRAWN
    with pytest.raises(ActionRefused):
        amendments.amendment_update(actor=a.officer, amendment=amendment, reason=REASON, new_value="1290000")
    # Once a party has signed, it can no longer be withdrawn.
    second, _version = _approved(a, django_capture_on_commit_callbacks, new_value="1350000")
    services.contract_sign(actor=a.signatory, contract=a.contract, password=PASSWORD)
    with pytest.raises(ActionRefused, match="already signed"):
        amendments.amendment_withdraw(actor=a.officer, amendment=second)
    actions = set(AuditEvent.objects.filter(action__startswith="contract.amendment_").values_list("action", flat=True))
    assert {"contract.amendment_drafted", "contract.amendment_returned", "contract.amendment_withdrawn"} <= actions


def test_signing_an_amendment_follows_the_contracts_rules(active, django_capture_on_commit_callbacks):
    a = active
    with pytest.raises(ActionRefused, match="not awaiting signatures"):
        services.contract_sign(actor=a.signatory, contract=a.contract, password=PASSWORD)
    _amendment, version = _approved(a, django_capture_on_commit_callbacks, new_value="1300000")
    with pytest.raises(ActionRefused, match="contractor signs first"):
        services.contract_sign(actor=a.agency_signer, contract=a.contract, password=PASSWORD)
    with pytest.raises(ActionRefused):
        services.contract_sign(actor=a.signatory, contract=a.contract, password="wrong password")
    assert not version.signatures.exists()
    services.contract_sign(actor=a.signatory, contract=a.contract, password=PASSWORD)
    with pytest.raises(ActionRefused, match="already signed"):
        services.contract_sign(actor=a.signatory, contract=a.contract, password=PASSWORD)
    assert version.signatures.count() == 1
    refused = AuditEvent.objects.filter(action="contract.sign_refused").values_list("payload", flat=True)
    assert {p["reason"] for p in refused} >= {"state", "order", "already_signed"}


def test_earlier_amendments_in_force_are_named_in_the_next_ones_pdf(active, django_capture_on_commit_callbacks):
    a = active
    _approved(a, django_capture_on_commit_callbacks, new_value="1300000")
    first_signed = _sign_both(a)
    _second, version = _approved(a, django_capture_on_commit_callbacks, new_end_date=datetime.date(2054, 6, 30))
    assert version.terms["contract_sha256"] == a.contract_sha256
    assert version.terms["earlier_amendments"] == [{"number": 1, "sha256": first_signed.sha256}]
    assert version.terms["value"] is None and version.terms["end_date"]["after"] == "2054-06-30"


def test_the_people_concerned_are_told_at_each_step(active, django_capture_on_commit_callbacks):
    from notifications.models import Notification

    a = active
    # The contract itself: the signatory was told it awaited them, the officers that the contractor had signed,
    # both parties that it is in force.
    assert Notification.objects.filter(kind="contract.ready_to_sign", recipient=a.signatory).exists()
    assert Notification.objects.filter(kind="contract.countersign", recipient=a.officer).exists()
    in_force = Notification.objects.filter(kind="contract.in_force")
    assert {a.signatory, a.officer} <= {n.recipient for n in in_force}
    amendment = amendments.amendment_create(actor=a.officer, contract=a.contract, reason=REASON, new_value="1300000")
    amendments.amendment_submit(actor=a.officer, amendment=amendment)
    (asked,) = Notification.objects.filter(kind="contract.amendment_submitted")
    assert asked.recipient == a.approver
    assert asked.link.endswith(f"/contracts/{a.contract.pk}/amendments/1/")
    assert "Amendment 1 to contract" in asked.subject
    with django_capture_on_commit_callbacks(execute=True):
        amendments.amendment_approve(actor=a.approver, amendment=amendment)
    ready = Notification.objects.get(kind="contract.amendment_ready_to_sign")
    assert ready.recipient == a.signatory and ready.link == asked.link
    _sign_both(a)
    told = {n.recipient for n in Notification.objects.filter(kind="contract.amendment_in_force")}
    assert {a.signatory, a.officer} <= told


def test_an_amendment_in_force_waives_a_milestone_and_the_contract_can_then_complete(
    active, django_capture_on_commit_callbacks
):
    from contracts.models import MilestoneStatus

    a = active
    milestone = a.contract.milestones.get()
    amendment = amendments.amendment_create(actor=a.officer, contract=a.contract, reason=REASON)
    with pytest.raises(ValidationError):
        amendments.amendment_change_milestone(actor=a.officer, amendment=amendment, waive=True)
    amendments.amendment_change_milestone(actor=a.officer, amendment=amendment, milestone_id=milestone.pk, waive=True)
    amendment.refresh_from_db()
    terms = amendments.resulting_terms(a.contract, amendment)
    assert terms["milestones"][0]["after"]["waived"] is True and terms["schedule"] == []
    amendments.amendment_submit(actor=a.officer, amendment=amendment)
    with django_capture_on_commit_callbacks(execute=True):
        version = amendments.amendment_approve(actor=a.approver, amendment=amendment)
    version.refresh_from_db()
    text = "\n".join(page.extract_text() for page in PdfReader(version.pdf.path).pages)
    assert "Waived" in text
    _sign_both(a)
    milestone.refresh_from_db()
    assert milestone.status == MilestoneStatus.WAIVED and milestone.amendment == amendment
    assert services.completion_problem(a.contract, now=datetime.datetime(2053, 1, 2, tzinfo=datetime.UTC)) == ""
