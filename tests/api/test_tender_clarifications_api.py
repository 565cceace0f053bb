"""Questions and answers over the API: a vendor asks until the clarification deadline (``clarification_ask``, the
portal's service); the tender's officer answers while it is open for bids and the answer is published at once
(``clarification_answer``, the tender page's service). Who asked is never shown."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from audit.models import AuditEvent
from procurement import tender_services
from procurement.models import Clarification, Tender
from procurement.models.tenders import TenderStatus
from tests.api.conftest import assert_problem, bearer
from tests.audit.helpers import assert_refusal_logged_if_auditor, record_events
from tests.procurement.factories import PhaseFactory
from tests.procurement.tender_factories import TenderFactory, make_published, set_status

pytestmark = pytest.mark.django_db

DAY = datetime.timedelta(days=1)


@pytest.fixture
def published(programme):
    return make_published(TenderFactory(phase=PhaseFactory(programme=programme)))


@pytest.fixture
def question(published, vendor_user) -> Clarification:
    return tender_services.clarification_ask(actor=vendor_user, tender=published, question="Is hosting included?")


def as_user(api_client, user):
    client = api_client.__class__()
    client.credentials(**bearer(user))
    return client


def questions(tender: Tender) -> str:
    return f"/api/v1/tenders/{tender.pk}/clarifications/"


def answer_url(tender: Tender, number: int) -> str:
    return f"{questions(tender)}{number}/answer/"


def test_a_vendor_asks_and_the_officer_publishes_the_answer(api_client, vendor_user, officer, published):
    vendor = as_user(api_client, vendor_user)
    asked = vendor.post(questions(published), {"question": "  Is hosting included?  "}, format="json")
    assert asked.status_code == 201, asked.content[:500]
    assert asked.json()["number"] == 1 and asked.json()["question"] == "Is hosting included?"
    assert asked.json()["answer"] == "" and "asked_by" not in asked.json()
    [event] = AuditEvent.objects.filter(tender_id=published.pk, action="tender.question_asked")
    assert event.actor_id == vendor_user.pk
    assert vendor.get(questions(published)).json()["results"] == []  # not public until answered

    staff = as_user(api_client, officer)
    assert [q["number"] for q in staff.get(questions(published)).json()["results"]] == [1]
    answered = staff.post(answer_url(published, 1), {"answer": "Yes, in the country."}, format="json")
    assert answered.status_code == 200, answered.content[:500]
    assert answered.json()["answer"] == "Yes, in the country." and answered.json()["answered_at"]
    [event] = AuditEvent.objects.filter(tender_id=published.pk, action="tender.question_answered")
    assert (event.actor_id, event.payload["number"]) == (officer.pk, 1)

    public = api_client.get(questions(published)).json()["results"]
    assert [(q["number"], q["answer"]) for q in public] == [(1, "Yes, in the country.")]
    assert "asked_by" not in public[0] and "answered_by" not in public[0]


def test_a_repeated_question_with_the_same_idempotency_key_is_asked_once(api_client, vendor_user, published):
    vendor = as_user(api_client, vendor_user)
    for _ in range(2):
        response = vendor.post(
            questions(published), {"question": "Site visit?"}, format="json", HTTP_IDEMPOTENCY_KEY="q"
        )
        assert response.status_code == 201, response.content[:300]
    assert response["Idempotent-Replayed"] == "true"
    assert Clarification.objects.filter(tender=published).count() == 1


# Refusals: who, when, what ----------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["officer", "other_officer", "approver", "auditor"])
def test_only_vendors_ask(api_client, request, who, published):
    user = request.getfixturevalue(who)
    client = as_user(api_client, user)
    response = client.post(questions(published), {"question": "May I?"}, format="json")
    assert_problem(response, 403, code="permission_denied")
    assert_refusal_logged_if_auditor(user, path=questions(published))
    assert not Clarification.objects.exists()


def test_no_question_on_a_draft_nor_after_the_clarification_deadline(api_client, vendor_user, published):
    vendor = as_user(api_client, vendor_user)
    draft = TenderFactory(phase=published.phase)
    assert_problem(vendor.post(questions(draft), {"question": "Hidden?"}, format="json"), 404)

    Tender.objects.filter(pk=published.pk).update(clarification_deadline=timezone.now() - DAY)
    late = vendor.post(questions(published), {"question": "Too late?"}, format="json")
    assert "clarification deadline" in assert_problem(late, 409, code="action_refused")["detail"]
    assert not Clarification.objects.exists()
    # The refusal stays in the audit log although nothing was written.
    [event] = AuditEvent.objects.filter(tender_id=published.pk, action="tender.question_refused")
    assert event.actor_id == vendor_user.pk


@pytest.mark.parametrize(
    ("body", "field"),
    [({"question": " "}, "question"), ({"question": "Q", "asked_by": 1}, "asked_by"), ({}, "question")],
)
def test_a_malformed_question_is_a_400(api_client, vendor_user, published, body, field):
    response = as_user(api_client, vendor_user).post(questions(published), body, format="json")
    assert field in assert_problem(response, 400, code="invalid")["errors"]
    assert not Clarification.objects.exists()


@pytest.mark.parametrize("who", ["vendor_user", "other_officer", "approver", "auditor"])
def test_only_the_tenders_officers_answer(api_client, request, who, published, question):
    user = request.getfixturevalue(who)
    client = as_user(api_client, user)
    events = record_events().count()
    response = client.post(answer_url(published, question.number), {"answer": "Forged."}, format="json")
    assert_problem(response, 403, code="permission_denied")
    assert_refusal_logged_if_auditor(user, path=answer_url(published, question.number))
    question.refresh_from_db()
    assert (question.answer, question.answered_at) == ("", None)
    assert record_events().count() == events


def test_an_unknown_question_or_hidden_tender_is_a_404(api_client, officer, other_officer, published, question):
    client = as_user(api_client, officer)
    assert_problem(client.post(answer_url(published, 99), {"answer": "?"}, format="json"), 404)
    draft = TenderFactory(phase=published.phase)
    assert_problem(as_user(api_client, other_officer).post(answer_url(draft, 1), {"answer": "?"}, format="json"), 404)


@pytest.mark.parametrize("moment", ["deadline passed", TenderStatus.CLOSED, TenderStatus.CANCELLED])
def test_answers_are_published_only_while_the_tender_is_open_for_bids(api_client, officer, published, question, moment):
    if moment == "deadline passed":
        Tender.objects.filter(pk=published.pk).update(
            clarification_deadline=timezone.now() - 2 * DAY, submission_deadline=timezone.now() - DAY
        )
    else:
        set_status(published, moment)
    response = as_user(api_client, officer).post(
        answer_url(published, question.number), {"answer": "Yes."}, format="json"
    )
    assert "open for bids" in assert_problem(response, 409, code="action_refused")["detail"]
    question.refresh_from_db()
    assert question.answered_at is None


def test_an_empty_answer_is_a_400(api_client, officer, published, question):
    response = as_user(api_client, officer).post(answer_url(published, question.number), {"answer": ""}, format="json")
    assert "answer" in assert_problem(response, 400, code="invalid")["errors"]
