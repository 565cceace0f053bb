"""The contracts API: drafting from the award, freezing, signing and countersigning, amendments with their
four-eyes decision, and monitoring — through the same services as the web pages, with the same refusals."""

from __future__ import annotations

import datetime

import pytest

from accounts.roles import Role
from audit.models import AuditEvent
from contracts import monitoring, services
from contracts.models import (
    RISK_CATEGORIES,
    AmendmentStatus,
    Contract,
    ContractMilestone,
    ContractSignature,
    ContractStatus,
    MilestoneStatus,
    Payment,
    ProgressReport,
)
from core.exceptions import ActionRefused
from tests.accounts.factories import UserFactory
from tests.api.conftest import assert_problem, bearer
from tests.contracts.test_amendments import (  # noqa: F401
    PASSWORD,
    REASON,
    _ca_and_media,
    authority_dir,
)
from tests.contracts.test_contracts import TERMS, drafted, final_award, frozen
from tests.vendors.factories import verified_vendor

pytestmark = pytest.mark.django_db


def client_for(api_client, user):
    api_client.credentials(**bearer(user))
    return api_client


def names(response) -> list[str]:
    assert response.status_code == 200, response.content[:500]
    return [t["name"] for t in response.json()]


@pytest.fixture
def award():
    return final_award()


@pytest.fixture
def active(award, django_capture_on_commit_callbacks):
    """A contract in force (one KPI, one milestone), signed by both parties through the services."""
    contract, _version = frozen(award, django_capture_on_commit_callbacks)
    award.approver = UserFactory(agency=award.tender.agency, roles=[Role.APPROVER])
    for signer in (award.signatory, award.officer):
        services.signer_key_issue(user=signer, password=PASSWORD)
        services.contract_sign(actor=signer, contract=contract, password=PASSWORD)
    contract.refresh_from_db()
    assert contract.status == ContractStatus.ACTIVE
    award.contract = contract
    return award


def test_officer_drafts_freezes_vendor_signs_officer_countersigns(
    api_client, award, django_capture_on_commit_callbacks
):
    officer = client_for(api_client, award.officer)
    created = officer.post(f"/api/v1/tenders/{award.tender.pk}/contract/", {}, format="json")
    assert created.status_code == 201, created.content
    pk = created.json()["id"]
    assert created.json()["status"] == ContractStatus.DRAFT
    base = f"/api/v1/contracts/{pk}"

    allocation = dict.fromkeys(RISK_CATEGORIES, "private")
    terms = {key: str(value) for key, value in TERMS.items()}
    patched = officer.patch(f"{base}/terms/", {**terms, "risk_allocation": allocation}, format="json")
    assert patched.status_code == 200, patched.content
    kpi = {"name_en": "Availability", "name_ar": "الإتاحة", "target": "99.5", "unit": "%", "frequency": "monthly"}
    assert officer.post(f"{base}/kpis/", kpi, format="json").status_code == 201
    milestone = {"title_en": "Operation", "title_ar": "التشغيل", "due_date": "2029-06-30", "payment_amount": "100"}
    assert officer.post(f"{base}/milestones/", milestone, format="json").status_code == 201
    assert officer.get(f"{base}/milestones/").json()["results"][0]["title_en"] == "Operation"

    assert "freeze" in names(officer.get(f"{base}/transitions/"))
    with django_capture_on_commit_callbacks(execute=True):
        frozen = officer.post(f"{base}/transitions/freeze/", {}, format="json")
    assert frozen.status_code == 200, frozen.content
    body = officer.get(f"{base}/transitions/").json()
    assert "freeze" not in [t["name"] for t in body]

    # The contractor's authorised signatory: a key, then a wrong password (400, nothing signed), then signs.
    vendor = client_for(api_client, award.signatory)
    assert vendor.post(f"{base}/signing-key/", {"password": PASSWORD}, format="json").status_code == 201
    sign = [t for t in vendor.get(f"{base}/transitions/").json() if t["name"] == "sign"]
    assert sign and sign[0]["fields"] == ["password"]
    wrong = vendor.post(f"{base}/transitions/sign/", {"password": "not-my-password"}, format="json")
    body = assert_problem(wrong, 400, code="invalid")
    assert "password" in body["errors"]
    assert not ContractSignature.objects.exists()
    assert AuditEvent.objects.filter(action="contract.sign_refused", actor=award.signatory).exists()
    signed = vendor.post(f"{base}/transitions/sign/", {"password": PASSWORD}, format="json")
    assert signed.status_code == 200, signed.content
    (version,) = signed.json()["versions"]
    assert version["status"] == "rendered" and version["pdf_url"]
    (signature,) = version["signatures"]
    assert signature["party"] == "vendor"
    pdf = vendor.get(signature["pdf_url"])
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert b"".join(pdf.streaming_content).startswith(b"%PDF")

    officer = client_for(api_client, award.officer)
    assert officer.post(f"{base}/signing-key/", {"password": PASSWORD}, format="json").status_code == 201
    assert names(officer.get(f"{base}/transitions/")) == ["sign"]
    countersigned = officer.post(f"{base}/transitions/sign/", {"password": PASSWORD}, format="json")
    assert countersigned.status_code == 200, countersigned.content
    assert countersigned.json()["status"] == ContractStatus.ACTIVE
    assert len(countersigned.json()["versions"][0]["signatures"]) == 2


def test_others_do_not_see_the_contract_and_the_auditors_write_is_refused_and_logged(
    api_client, award, other_officer, auditor
):
    contract = drafted(award)
    base = f"/api/v1/contracts/{contract.pk}"
    other_vendor = verified_vendor()[1]
    for user in (other_officer, other_vendor):
        client = client_for(api_client, user)
        assert_problem(client.get(f"{base}/transitions/"), 404)
        assert_problem(client.post(f"{base}/transitions/freeze/", {}, format="json"), 404)
        assert_problem(client.get(f"{base}/payments/"), 404)
        assert_problem(client.post(f"{base}/milestones/", {}, format="json"), 404)
    assert_problem(client_for(api_client, other_officer).post(f"/api/v1/tenders/{award.tender.pk}/contract/"), 403)

    client = client_for(api_client, auditor)
    assert names(client.get(f"{base}/transitions/")) == []
    refused = client.post(f"{base}/transitions/freeze/", {}, format="json")
    assert_problem(refused, 403, code="permission_denied")
    event = AuditEvent.objects.filter(action="audit.change_refused").latest("sequence")
    assert event.actor_id == auditor.pk and event.payload["path"] == f"{base}/transitions/freeze/"
    contract.refresh_from_db()
    assert contract.status == ContractStatus.DRAFT


def test_refusals_are_problems_and_unknown_fields_or_transitions_are_refused(api_client, award):
    contract = drafted(award)
    base = f"/api/v1/contracts/{contract.pk}"
    officer = client_for(api_client, award.officer)
    assert_problem(officer.post(f"{base}/transitions/fly/", {}, format="json"), 404)
    body = assert_problem(officer.post(f"{base}/transitions/freeze/", {"force": True}, format="json"), 400)
    assert "force" in body["errors"]
    # Only an approver terminates (403); completing a draft is refused by its state machine (403: not the
    # officer's either) — and the draft is untouched.
    assert_problem(officer.post(f"{base}/transitions/terminate/", {"reason": "x" * 20}, format="json"), 403)
    approver = UserFactory(agency=award.tender.agency, roles=[Role.APPROVER])
    client = client_for(api_client, approver)
    assert "terminate" in names(client.get(f"{base}/transitions/"))
    body = assert_problem(client.post(f"{base}/transitions/terminate/", {"reason": "short"}, format="json"), 400)
    assert "reason" in body["errors"]
    assert_problem(client.post(f"{base}/transitions/complete/", {}, format="json"), 409)
    contract.refresh_from_db()
    assert contract.status == ContractStatus.DRAFT


def test_a_wrong_signing_password_is_its_own_refusal_a_400_on_the_password_field(
    api_client, award, django_capture_on_commit_callbacks
):
    """The service refuses a wrong password with ``WrongSigningPassword`` (an ``ActionRefused``); the API maps
    it by its type, in any language, while the other refusals of signing stay 409s."""
    contract, _version = frozen(award, django_capture_on_commit_callbacks)
    base = f"/api/v1/contracts/{contract.pk}"
    with pytest.raises(services.WrongSigningPassword) as refused:
        services.signer_key_issue(user=award.signatory, password="not-my-password")
    assert isinstance(refused.value, ActionRefused)
    vendor = client_for(api_client, award.signatory)
    key = vendor.post(f"{base}/signing-key/", {"password": "not-my-password"}, format="json", HTTP_ACCEPT_LANGUAGE="ar")
    body = assert_problem(key, 400, code="invalid")
    assert body["errors"]["password"] and "password is wrong" not in body["errors"]["password"][0]  # in Arabic
    assert vendor.post(f"{base}/signing-key/", {"password": PASSWORD}, format="json").status_code == 201
    wrong = vendor.post(f"{base}/transitions/sign/", {"password": "not-my-password"}, format="json")
    body = assert_problem(wrong, 400, code="invalid")
    assert body["errors"]["password"] == ["The password is wrong: enter the password you sign in with."]
    refusal = AuditEvent.objects.filter(action="contract.sign_refused", actor=award.signatory).get()
    assert refusal.payload["reason"] == "WrongPassword"
    # The agency may not sign first: a refusal of the action, not of the password.
    officer = client_for(api_client, award.officer)
    assert officer.post(f"{base}/signing-key/", {"password": PASSWORD}, format="json").status_code == 201
    early = officer.post(f"{base}/transitions/sign/", {"password": PASSWORD}, format="json")
    assert "contractor signs first" in assert_problem(early, 409)["detail"]
    assert not ContractSignature.objects.exists()


def test_a_replayed_request_with_the_same_idempotency_key_has_one_effect(api_client, award):
    officer = client_for(api_client, award.officer)
    url = f"/api/v1/tenders/{award.tender.pk}/contract/"
    first = officer.post(url, {}, format="json", HTTP_IDEMPOTENCY_KEY="draft-1")
    second = officer.post(url, {}, format="json", HTTP_IDEMPOTENCY_KEY="draft-1")
    assert first.status_code == second.status_code == 201
    assert second["Idempotent-Replayed"] == "true" and second.json()["id"] == first.json()["id"]
    assert Contract.objects.count() == 1
    assert AuditEvent.objects.filter(action="contract.created").count() == 1
    milestone = {"title_en": "Operation", "title_ar": "التشغيل", "due_date": "2029-06-30"}
    base = f"/api/v1/contracts/{first.json()['id']}"
    for _attempt in range(2):
        response = officer.post(f"{base}/milestones/", milestone, format="json", HTTP_IDEMPOTENCY_KEY="ms-1")
        assert response.status_code == 201
    assert ContractMilestone.objects.count() == 1
    # Without a key, the second draft from the same award is refused (409), not duplicated.
    assert_problem(officer.post(url, {}, format="json"), 409, code="action_refused")


def test_amendment_drafted_by_an_officer_and_approved_by_another_person(
    api_client, active, django_capture_on_commit_callbacks
):
    a = active
    base = f"/api/v1/contracts/{a.contract.pk}/amendments"
    officer = client_for(api_client, a.officer)
    created = officer.post(f"{base}/", {"reason": REASON, "new_value": "1400000.00"}, format="json")
    assert created.status_code == 201, created.content
    number = created.json()["number"]
    assert created.json()["status"] == AmendmentStatus.DRAFT
    assert names(officer.get(f"{base}/{number}/transitions/")) == ["submit", "withdraw"]
    submitted = officer.post(f"{base}/{number}/transitions/submit/", {}, format="json")
    assert submitted.status_code == 200 and submitted.json()["status"] == AmendmentStatus.PENDING_APPROVAL
    assert "approve" not in names(officer.get(f"{base}/{number}/transitions/"))
    assert_problem(officer.post(f"{base}/{number}/transitions/approve/", {}, format="json"), 403)

    approver = client_for(api_client, a.approver)
    assert names(approver.get(f"{base}/{number}/transitions/")) == ["approve", "return", "withdraw"]
    with django_capture_on_commit_callbacks(execute=True):
        approved = approver.post(f"{base}/{number}/transitions/approve/", {}, format="json")
    assert approved.status_code == 200, approved.content
    assert approved.json()["status"] == AmendmentStatus.AWAITING_SIGNATURES
    assert approved.json()["approved_by"] == a.approver.pk
    assert approver.get(f"{base}/").json()["results"][0]["number"] == number


def test_progress_report_by_the_contractor_accepted_by_the_officer_then_paid(
    api_client, active, django_assert_max_num_queries
):
    a = active
    base = f"/api/v1/contracts/{a.contract.pk}"
    milestone = a.contract.milestones.get()
    vendor = client_for(api_client, a.signatory)
    report = vendor.post(
        f"{base}/progress-reports/",
        {"milestone": milestone.pk, "narrative": "Commercial operation started.", "percent_complete": 100},
        format="json",
    )
    assert report.status_code == 201, report.content
    report_id = report.json()["id"]
    assert report.json()["decision"] == "pending"
    assert names(vendor.get(f"{base}/progress-reports/{report_id}/transitions/")) == []
    assert_problem(vendor.post(f"{base}/progress-reports/{report_id}/transitions/accept/", {}, format="json"), 403)

    officer = client_for(api_client, a.officer)
    transitions = f"{base}/progress-reports/{report_id}/transitions/"
    assert names(officer.get(transitions)) == ["accept", "reject"]
    accepted = officer.post(f"{transitions}accept/", {}, format="json")
    assert accepted.status_code == 200 and accepted.json()["decision"] == "accepted"
    milestone.refresh_from_db()
    assert milestone.status == MilestoneStatus.ACCEPTED

    today = monitoring.local_date(monitoring._now()).isoformat()
    paid = officer.post(
        f"{base}/payments/", {"milestone": milestone.pk, "paid_on": today, "reference": "TRF-1"}, format="json"
    )
    assert paid.status_code == 201, paid.content
    assert_problem(
        officer.post(f"{base}/payments/", {"milestone": 999999, "paid_on": today, "reference": "X"}, format="json"),
        400,
    )
    vendor = client_for(api_client, a.signatory)
    with django_assert_max_num_queries(12):
        listed = vendor.get(f"{base}/payments/")
    assert [p["reference"] for p in listed.json()["results"]] == ["TRF-1"]
    assert Payment.objects.count() == 1 and ProgressReport.objects.count() == 1


def test_kpi_measurement_submitted_by_the_contractor_and_confirmed_by_the_officer(api_client, active):
    a = active
    # The fixture's contract starts in the future; a past period needs an earlier start.
    Contract.objects.filter(pk=a.contract.pk).update(start_date=datetime.date(2020, 1, 1))
    kpi = a.contract.kpis.get()
    base = f"/api/v1/contracts/{a.contract.pk}/kpi-measurements"
    vendor = client_for(api_client, a.signatory)
    body = {"kpi": kpi.pk, "period_start": "2024-01-01", "period_end": "2024-01-31", "value": "99.9"}
    submitted = vendor.post(f"{base}/", body, format="json")
    assert submitted.status_code == 201, submitted.content
    assert submitted.json()["status"] == "submitted"
    duplicate = vendor.post(f"{base}/", body, format="json")
    assert "period_start" in assert_problem(duplicate, 400)["errors"]
    officer = client_for(api_client, a.officer)
    transitions = f"{base}/{submitted.json()['id']}/transitions/"
    assert names(officer.get(transitions)) == ["confirm", "reject"]
    confirmed = officer.post(f"{transitions}confirm/", {}, format="json")
    assert confirmed.status_code == 200 and confirmed.json()["status"] == "confirmed"


def test_amendment_changes_are_added_then_returned_with_a_reason_and_withdrawn(api_client, active):
    a = active
    milestone, kpi = a.contract.milestones.get(), a.contract.kpis.get()
    base = f"/api/v1/contracts/{a.contract.pk}/amendments"
    officer = client_for(api_client, a.officer)
    number = officer.post(f"{base}/", {"reason": REASON}, format="json").json()["number"]
    change = {"milestone_id": milestone.pk, "due_date": "2029-12-31", "payment_amount": "300"}
    changed = officer.post(f"{base}/{number}/milestone-changes/", change, format="json")
    assert changed.status_code == 200, changed.content
    assert len(changed.json()["changes"]["milestones"]) == 1
    changed = officer.post(f"{base}/{number}/kpi-changes/", {"kpi_id": kpi.pk, "target": "99.9"}, format="json")
    assert changed.status_code == 200 and len(changed.json()["changes"]["kpis"]) == 1
    assert_problem(officer.post(f"{base}/{number}/kpi-changes/", {"kpi_id": 0, "bogus": 1}, format="json"), 400)
    # A second amendment while one is under way is refused.
    assert_problem(officer.post(f"{base}/", {"reason": REASON}, format="json"), 409)
    assert officer.post(f"{base}/{number}/transitions/submit/", {}, format="json").status_code == 200

    approver = client_for(api_client, a.approver)
    assert_problem(approver.post(f"{base}/{number}/transitions/return/", {"reason": ""}, format="json"), 400)
    returned = approver.post(
        f"{base}/{number}/transitions/return/", {"reason": "Add the new districts."}, format="json"
    )
    assert returned.status_code == 200 and returned.json()["status"] == AmendmentStatus.DRAFT
    assert returned.json()["return_reason"] == "Add the new districts."
    officer = client_for(api_client, a.officer)
    withdrawn = officer.post(f"{base}/{number}/transitions/withdraw/", {}, format="json")
    assert withdrawn.status_code == 200 and withdrawn.json()["status"] == AmendmentStatus.WITHDRAWN
    assert names(officer.get(f"{base}/{number}/transitions/")) == []
    assert officer.get(f"{base}/{number}/").json()["status"] == AmendmentStatus.WITHDRAWN
    assert_problem(officer.get(f"{base}/99/"), 404)


@pytest.mark.parametrize(
    "path", ["milestones", "kpis", "amendments", "progress-reports", "kpi-measurements", "payments", "transitions"]
)
def test_lists_take_a_constant_number_of_queries(api_client, award, path, django_assert_max_num_queries):
    contract = drafted(award)
    for day in range(1, 6):
        services.contract_milestone_add(
            actor=award.officer,
            contract=contract,
            title_en=f"Step {day}",
            title_ar="خطوة",
            due_date=datetime.date(2030, 1, day),
        )
    client = client_for(api_client, award.officer)
    with django_assert_max_num_queries(12):
        response = client.get(f"/api/v1/contracts/{contract.pk}/{path}/")
    assert response.status_code == 200
