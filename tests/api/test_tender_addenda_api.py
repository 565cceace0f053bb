"""Addenda over the API: an officer prepares one for a published tender (``addendum_create``, the web form's
service); one that changes the value or the criteria waits for an approver (``addendum_approve``, the tender
page's button). Outsiders are refused, and the wrong moment is a 409."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.roles import Role
from audit.models import AuditEvent
from procurement.models import Addendum, Tender
from procurement.models.tenders import AddendumStatus, TenderStatus
from tests.accounts.factories import UserFactory
from tests.api.conftest import assert_problem, bearer
from tests.audit.helpers import assert_refusal_logged_if_auditor, record_events
from tests.procurement.factories import PhaseFactory, ProgrammeFactory
from tests.procurement.tender_factories import (
    TenderFactory,
    make_published,
    pdf_upload,
    set_status,
    with_criteria,
    with_document,
)

pytestmark = pytest.mark.django_db

DAY = datetime.timedelta(days=1)


@pytest.fixture(autouse=True)
def _own_media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


@pytest.fixture
def published(programme):
    return make_published(with_criteria(TenderFactory(phase=PhaseFactory(programme=programme))))


@pytest.fixture
def second_officer(agency):
    """An officer of the same agency who did not prepare the addendum (and approves nothing)."""
    return UserFactory(agency=agency, roles=[Role.PROCUREMENT_OFFICER])


def as_user(api_client, user):
    client = api_client.__class__()
    client.credentials(**bearer(user))
    return client


def addenda(tender: Tender) -> str:
    return f"/api/v1/tenders/{tender.pk}/addenda/"


def later(tender: Tender, field: str, days: int = 7) -> str:
    return (getattr(tender, field) + days * DAY).isoformat()


def extension(tender: Tender) -> dict:
    return {
        "summary_en": "Two more weeks to submit.",
        "summary_ar": "أسبوعان إضافيان للتقديم.",
        "new_submission_deadline": later(tender, "submission_deadline", 14),
        "new_opening_time": later(tender, "opening_time", 14),
    }


def new_value(**changes) -> dict:
    return {"summary_en": "A larger scope.", "summary_ar": "نطاق أوسع.", "new_estimated_value": "300000.00", **changes}


def pending(api_client, officer, tender: Tender, data: dict | None = None) -> dict:
    response = as_user(api_client, officer).post(addenda(tender), data or new_value(), format="json")
    assert response.status_code == 201, response.content[:500]
    assert response.json()["status"] == AddendumStatus.PENDING_APPROVAL
    return response.json()


def transitions(client, tender: Tender, number: int) -> list[str]:
    response = client.get(f"{addenda(tender)}{number}/transitions/")
    assert response.status_code == 200, response.content[:300]
    return [row["name"] for row in response.json()]


# Issued at once, or after an approval ------------------------------------------------------------------


def test_an_extension_is_issued_at_once_and_everyone_reads_it(api_client, officer, published):
    client = as_user(api_client, officer)
    data = extension(published)
    response = client.post(addenda(published), data, format="json", HTTP_IDEMPOTENCY_KEY="extension-1")
    assert response.status_code == 201, response.content[:500]
    body = response.json()
    assert (body["number"], body["status"]) == (1, AddendumStatus.ISSUED) and body["issued_at"]
    published.refresh_from_db()
    assert published.submission_deadline.isoformat() == data["new_submission_deadline"]
    [event] = AuditEvent.objects.filter(tender_id=published.pk, action="tender.addendum_issued")
    assert (event.actor_id, event.payload["number"], event.payload["approved_by"]) == (officer.pk, 1, None)

    replayed = client.post(addenda(published), data, format="json", HTTP_IDEMPOTENCY_KEY="extension-1")
    assert replayed.status_code == 201 and replayed["Idempotent-Replayed"] == "true"
    assert Addendum.objects.filter(tender=published).count() == 1

    public = api_client.get(addenda(published)).json()["results"]
    assert [(a["number"], a["status"]) for a in public] == [(1, "issued")]


def test_a_new_value_waits_for_an_approver_who_issues_it(api_client, officer, approver, published):
    number = pending(api_client, officer, published)["number"]
    assert Tender.objects.get(pk=published.pk).estimated_value == published.estimated_value
    assert api_client.get(addenda(published)).json()["results"] == []  # not public until issued

    preparer = as_user(api_client, officer)
    assert transitions(preparer, published, number) == []
    refused = preparer.post(f"{addenda(published)}{number}/transitions/approve/", {}, format="json")
    assert "someone else" in assert_problem(refused, 409, code="action_refused")["detail"]

    approving = as_user(api_client, approver)
    offered = approving.get(f"{addenda(published)}{number}/transitions/").json()
    assert [(row["name"], row["required_fields"]) for row in offered] == [("approve", [])]
    response = approving.post(f"{addenda(published)}{number}/transitions/approve/", {}, format="json")
    assert response.status_code == 200, response.content[:500]
    assert response.json()["status"] == AddendumStatus.ISSUED
    assert Tender.objects.get(pk=published.pk).estimated_value == Decimal("300000.00")
    [event] = AuditEvent.objects.filter(tender_id=published.pk, action="tender.addendum_issued")
    assert (event.actor_id, event.payload["approved_by"], event.payload["material"]) == (approver.pk, approver.pk, True)

    # Issued: there is nothing left to approve.
    assert transitions(approving, published, number) == []
    again = approving.post(f"{addenda(published)}{number}/transitions/approve/", {}, format="json")
    assert_problem(again, 409, code="action_refused")


def test_new_criteria_replace_the_published_ones_once_approved(api_client, officer, approver, published):
    criteria = [
        {"name_en": "Method", "name_ar": "المنهج", "weight": "33.33"},
        {"name_en": "Team", "name_ar": "الفريق", "weight": "66.67"},
    ]
    number = pending(api_client, officer, published, new_value(new_estimated_value=None, new_criteria=criteria))[
        "number"
    ]
    stored = Addendum.objects.get(tender=published, number=number)
    assert stored.new_estimated_value is None
    assert [(c["name_en"], c["weight"]) for c in stored.new_criteria] == [("Method", "33.33"), ("Team", "66.67")]
    approved = as_user(api_client, approver).post(f"{addenda(published)}{number}/transitions/approve/", format="json")
    assert approved.status_code == 200, approved.content[:500]
    shown = api_client.get(f"/api/v1/tenders/{published.pk}/").json()["criteria"]
    assert [(c["name_en"], c["weight"]) for c in shown] == [("Method", "33.33"), ("Team", "66.67")]
    assert [c["id"] for c in shown] == list(published.criteria.order_by("order").values_list("pk", flat=True))


def test_documents_sent_with_an_addendum_replace_those_of_the_same_title(api_client, officer, published):
    terms = with_document(published, title="Terms")
    response = as_user(api_client, officer).post(
        addenda(published),
        {
            "summary_en": "New terms and an annex.",
            "summary_ar": "شروط جديدة وملحق.",
            "documents": [pdf_upload("terms-v2.pdf"), pdf_upload("annex.pdf")],
            "document_titles": ["Terms"],
        },
        format="multipart",
    )
    assert response.status_code == 201, response.content[:500]
    assert response.json()["status"] == AddendumStatus.ISSUED
    added = {d.title: d for d in published.documents.filter(addendum__number=response.json()["number"])}
    assert set(added) == {"Terms", "annex.pdf"}
    terms.refresh_from_db()
    assert terms.superseded_by_id == added["Terms"].pk
    listed = api_client.get(f"/api/v1/tenders/{published.pk}/documents/", {"superseded_by__isnull": True}).json()
    assert {(d["title"], d["addendum"]) for d in listed["results"]} >= {("Terms", 1), ("annex.pdf", 1)}


# Refusals: who, when, what ----------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["vendor_user", "other_officer", "auditor", "approver"])
def test_only_the_tenders_officers_prepare_an_addendum(api_client, request, who, published):
    user = request.getfixturevalue(who)
    client = as_user(api_client, user)
    events = record_events().count()
    response = client.post(addenda(published), extension(published), format="json")
    assert_problem(response, 403, code="permission_denied")
    assert_refusal_logged_if_auditor(user, path=addenda(published))
    assert not Addendum.objects.exists() and record_events().count() == events


# Vendors and other agencies' officers do not see a pending addendum at all (404: tests/api/test_review_mends.py).
@pytest.mark.parametrize("who", ["auditor", "second_officer"])
def test_outsiders_cannot_approve_a_pending_addendum(api_client, request, who, officer, published):
    number = pending(api_client, officer, published)["number"]
    user = request.getfixturevalue(who)
    client = as_user(api_client, user)
    url = f"{addenda(published)}{number}/transitions/approve/"
    assert transitions(client, published, number) == []
    assert_problem(client.post(url, {}, format="json"), 403, code="permission_denied")
    assert_refusal_logged_if_auditor(user, path=url)
    assert Addendum.objects.get(tender=published, number=number).status == AddendumStatus.PENDING_APPROVAL
    assert Tender.objects.get(pk=published.pk).estimated_value == published.estimated_value


def test_an_addendum_is_found_only_under_its_own_tender(api_client, officer, approver, other_agency, published):
    number = pending(api_client, officer, published)["number"]
    foreign = make_published(TenderFactory(phase=PhaseFactory(programme=ProgrammeFactory(sponsor_agency=other_agency))))
    client = as_user(api_client, approver)
    assert_problem(client.post(f"{addenda(foreign)}{number}/transitions/approve/", format="json"), 404)
    assert_problem(client.get(f"{addenda(foreign)}{number}/transitions/"), 404)
    assert_problem(client.post(f"{addenda(published)}99/transitions/approve/", format="json"), 404)
    assert_problem(client.post(f"{addenda(published)}{number}/transitions/publish/", format="json"), 404)
    assert Addendum.objects.get(tender=published, number=number).status == AddendumStatus.PENDING_APPROVAL


def test_another_agencys_draft_is_not_found(api_client, other_officer, published):
    draft = TenderFactory(phase=published.phase)
    assert_problem(as_user(api_client, other_officer).post(addenda(draft), extension(draft), format="json"), 404)


def test_outside_the_bidding_period_an_addendum_is_a_409(api_client, officer, approver, published):
    draft = TenderFactory(phase=published.phase)
    client = as_user(api_client, officer)
    assert_problem(client.post(addenda(draft), extension(draft), format="json"), 409, code="action_refused")

    number = pending(api_client, officer, published)["number"]
    set_status(published, TenderStatus.CLOSED, closed_at=timezone.now())
    closed = client.post(addenda(published), extension(published), format="json")
    assert "open for bids" in assert_problem(closed, 409, code="action_refused")["detail"]
    late = as_user(api_client, approver).post(f"{addenda(published)}{number}/transitions/approve/", format="json")
    assert_problem(late, 409, code="action_refused")
    assert Addendum.objects.get(tender=published, number=number).status == AddendumStatus.PENDING_APPROVAL
    assert Addendum.objects.filter(tender=published).count() == 1


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"new_submission_deadline": "shorter"}, "new_submission_deadline"),
        ({"summary_ar": ""}, "summary_ar"),
        ({"new_criteria": [{"name_en": "A", "name_ar": "أ", "weight": "50"}]}, "new_criteria"),
        ({"new_criteria": []}, "new_criteria"),
        ({"new_estimated_value": "-1"}, "new_estimated_value"),
        ({"status": "issued"}, "status"),
        ({"document_titles": ["No such document"]}, "document_titles"),
    ],
)
def test_a_malformed_addendum_is_a_400_with_the_field_errors(api_client, officer, published, changes, field):
    data = extension(published)
    if changes.get("new_submission_deadline") == "shorter":
        changes = {"new_submission_deadline": (published.submission_deadline - DAY).isoformat()}
    data.update(changes)
    body = assert_problem(as_user(api_client, officer).post(addenda(published), data, format="json"), 400)
    assert any(name == field or name.startswith(f"{field}.") for name in body["errors"]), body["errors"]
    assert not Addendum.objects.exists()
    assert Tender.objects.get(pk=published.pk).submission_deadline == published.submission_deadline
