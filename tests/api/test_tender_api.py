"""Tenders over the API: drafting, the opening committee, what is published with a tender, and its workflow —
the same rules as the web pages, through the same services."""

from __future__ import annotations

import datetime
import json
import uuid

import pytest
from django.utils import timezone

from api.models import IdempotencyRecord
from audit.models import AuditEvent
from procurement.models import Addendum, Clarification, Tender, TenderDocument
from procurement.models.tenders import AddendumStatus, TenderStatus
from tests.api.conftest import assert_problem, bearer
from tests.procurement.factories import PhaseFactory, ProgrammeFactory
from tests.procurement.tender_factories import (
    TenderFactory,
    keyed_committee_member,
    make_pending,
    make_published,
    pdf_upload,
    ready_tender,
    set_status,
    with_document,
)

pytestmark = pytest.mark.django_db

DAY = datetime.timedelta(days=1)


@pytest.fixture
def phase(programme):
    return PhaseFactory(programme=programme)


def as_user(api_client, user):
    api_client.credentials(**bearer(user))
    return api_client


def new_tender(phase, /, **changes) -> dict:
    now = timezone.now()
    data = {
        "phase": phase.pk,
        "title_en": "Contact centre, 24/7",
        "title_ar": "مركز اتصال على مدار الساعة",
        "description_en": "Operate the national contact centre.",
        "description_ar": "تشغيل مركز الاتصال الوطني.",
        "method": "open",
        "category": "services",
        "estimated_value": "750000.00",
        "currency": "SAR",
        "minimum_bids": 2,
        "evaluation_method": "quality_cost",
        "technical_weight": "70",
        "financial_weight": "30",
        "pass_mark": "70",
        "consensus_rule": "average",
        "evaluation_quorum": 3,
        "clarification_deadline": (now + 10 * DAY).isoformat(),
        "submission_deadline": (now + 30 * DAY).isoformat(),
        "opening_time": (now + 30 * DAY + datetime.timedelta(hours=2)).isoformat(),
        "criteria": [
            {"name_en": "Approach", "name_ar": "المنهج", "weight": "60"},
            {"name_en": "Team", "name_ar": "الفريق", "weight": "40"},
        ],
    }
    data.update(changes)
    return data


def transition_names(response) -> list[str]:
    assert response.status_code == 200, response.content[:300]
    return [row["name"] for row in response.json()]


# From a draft to a published tender, over the API alone ---------------------------------------------


def test_officer_drafts_names_the_committee_and_submits_and_the_approver_publishes(
    api_client, officer, approver, phase
):
    client = as_user(api_client, officer)
    response = client.post("/api/v1/tenders/", new_tender(phase), format="json")
    assert response.status_code == 201, response.content[:500]
    body = response.json()
    tender = Tender.objects.get(pk=body["id"])
    assert (body["status"], tender.agency_id, tender.created_by_id) == ("draft", officer.agency_id, officer.pk)
    assert body["reference"].startswith("MCIT-") and body["internal"]["created_by"] == officer.pk
    assert [(c["name_en"], c["weight"]) for c in body["criteria"]] == [("Approach", "60.00"), ("Team", "40.00")]
    assert AuditEvent.objects.filter(tender_id=tender.pk, action="tender.created").count() == 1

    upload = client.post(
        f"/api/v1/tenders/{tender.pk}/documents/", {"title": "Terms", "file": pdf_upload()}, format="multipart"
    )
    assert upload.status_code == 201, upload.content[:500]
    assert upload.json()["title"] == "Terms" and len(upload.json()["sha256"]) == 64

    # Not ready: the committee is missing, so submitting is refused and changes nothing.
    refused = client.post(f"/api/v1/tenders/{tender.pk}/transitions/submit/", {}, format="json")
    assert "opening committee" in assert_problem(refused, 409, code="action_refused")["detail"]

    for member in [keyed_committee_member() for _ in range(3)]:
        named = client.post(f"/api/v1/tenders/{tender.pk}/opening-committee/", {"user": member.pk}, format="json")
        assert named.status_code == 201, named.content[:500]
    committee = client.get(f"/api/v1/tenders/{tender.pk}/opening-committee/").json()
    assert len(committee["members"]) == 3 and committee["problems"] == []
    assert all(m["has_key"] for m in committee["members"])

    assert transition_names(client.get(f"/api/v1/tenders/{tender.pk}/transitions/")) == ["submit", "cancel"]
    submitted = client.post(f"/api/v1/tenders/{tender.pk}/transitions/submit/", {}, format="json")
    assert submitted.status_code == 200, submitted.content[:500]
    assert submitted.json()["status"] == "pending_approval" and submitted.json()["recovery_share"] is None

    approver_client = as_user(api_client.__class__(), approver)
    offered = approver_client.get(f"/api/v1/tenders/{tender.pk}/transitions/").json()
    assert {row["name"]: row["required_fields"] for row in offered} == {"approve": [], "return": ["comments"]}

    key = str(uuid.uuid4())
    approved = approver_client.post(
        f"/api/v1/tenders/{tender.pk}/transitions/approve/", {}, format="json", HTTP_IDEMPOTENCY_KEY=key
    )
    assert approved.status_code == 200, approved.content[:500]
    assert approved.json()["status"] == "published" and approved.json()["recovery_share"]
    assert "no-store" in approved["Cache-Control"]
    tender.refresh_from_db()
    assert tender.status == TenderStatus.PUBLISHED and tender.approved_by_id == approver.pk

    replayed = approver_client.post(
        f"/api/v1/tenders/{tender.pk}/transitions/approve/", {}, format="json", HTTP_IDEMPOTENCY_KEY=key
    )
    assert replayed.status_code == 200 and replayed["Idempotent-Replayed"] == "true"
    assert replayed.json()["status"] == "published" and replayed.json()["recovery_share"] is None
    assert AuditEvent.objects.filter(tender_id=tender.pk, action="tender.approved_and_published").count() == 1
    assert approved.json()["recovery_share"] not in str(replayed.content)
    stored = IdempotencyRecord.objects.get(user=approver, key=key)
    assert stored.response_body["recovery_share"] is None
    assert approved.json()["recovery_share"] not in json.dumps(stored.response_body)


def test_a_repeated_create_with_the_same_idempotency_key_makes_one_draft(api_client, officer, phase):
    client = as_user(api_client, officer)
    data = new_tender(phase)
    first = client.post("/api/v1/tenders/", data, format="json", HTTP_IDEMPOTENCY_KEY="draft-1")
    again = client.post("/api/v1/tenders/", data, format="json", HTTP_IDEMPOTENCY_KEY="draft-1")
    assert (first.status_code, again.status_code) == (201, 201)
    assert again["Idempotent-Replayed"] == "true" and again.json()["id"] == first.json()["id"]
    assert Tender.objects.count() == 1


def test_officer_edits_a_draft_and_its_criteria(api_client, officer, phase):
    tender = TenderFactory(phase=phase)
    criteria = [{"name_en": "Method", "name_ar": "المنهج", "weight": "100"}]
    response = as_user(api_client, officer).patch(
        f"/api/v1/tenders/{tender.pk}/", {"title_en": "Renamed", "criteria": criteria}, format="json"
    )
    assert response.status_code == 200, response.content[:500]
    assert response.json()["title_en"] == "Renamed"
    assert [c["name_en"] for c in response.json()["criteria"]] == ["Method"]
    assert AuditEvent.objects.filter(tender_id=tender.pk, action="tender.criteria_changed").exists()
    # A change without criteria leaves them as they are.
    again = api_client.patch(f"/api/v1/tenders/{tender.pk}/", {"title_ar": "جديد"}, format="json")
    assert [c["name_en"] for c in again.json()["criteria"]] == ["Method"]


def test_approver_returns_with_comments(api_client, officer, approver, phase):
    tender = make_pending(ready_tender(phase=phase, created_by=officer))
    client = as_user(api_client, approver)
    missing = client.post(f"/api/v1/tenders/{tender.pk}/transitions/return/", {}, format="json")
    assert "comments" in assert_problem(missing, 400, code="invalid")["errors"]
    response = client.post(
        f"/api/v1/tenders/{tender.pk}/transitions/return/", {"comments": "Fix the dates."}, format="json"
    )
    assert response.status_code == 200, response.content[:500]
    assert response.json()["status"] == "draft" and response.json()["internal"]["return_comments"] == "Fix the dates."


def test_officer_cancels_and_marks_unsuccessful_with_a_reason(api_client, officer, phase):
    client = as_user(api_client, officer)
    published = make_published(TenderFactory(phase=phase))
    cancelled = client.post(
        f"/api/v1/tenders/{published.pk}/transitions/cancel/", {"reason": "Budget withdrawn."}, format="json"
    )
    assert cancelled.status_code == 200, cancelled.content[:500]
    assert (cancelled.json()["status"], cancelled.json()["cancellation_reason"]) == ("cancelled", "Budget withdrawn.")
    assert AuditEvent.objects.filter(tender_id=published.pk, action="tender.cancelled").count() == 1

    closed = make_published(TenderFactory(phase=phase))
    Tender.objects.filter(pk=closed.pk).update(status=TenderStatus.CLOSED)
    unsuccessful = client.post(
        f"/api/v1/tenders/{closed.pk}/transitions/mark_unsuccessful/", {"reason": "No bids."}, format="json"
    )
    assert unsuccessful.status_code == 200, unsuccessful.content[:500]
    assert unsuccessful.json()["status"] == "unsuccessful"


# Who may: the other agency, vendors, auditors --------------------------------------------------------


def test_another_agencys_officer_cannot_see_our_draft_nor_act_on_our_tenders(api_client, other_officer, phase):
    draft = ready_tender(phase=phase)
    published = make_published(TenderFactory(phase=phase))
    client = as_user(api_client, other_officer)
    assert_problem(client.patch(f"/api/v1/tenders/{draft.pk}/", {"title_en": "X"}, format="json"), 404)
    assert_problem(client.post(f"/api/v1/tenders/{draft.pk}/transitions/submit/", {}, format="json"), 404)
    assert_problem(client.get(f"/api/v1/tenders/{draft.pk}/transitions/"), 404)
    assert_problem(client.get(f"/api/v1/tenders/{draft.pk}/documents/"), 404)
    user = keyed_committee_member()
    assert_problem(client.post(f"/api/v1/tenders/{draft.pk}/opening-committee/", {"user": user.pk}, format="json"), 404)
    # A published tender is visible to all, but only its own agency's officers act on it.
    assert_problem(client.patch(f"/api/v1/tenders/{published.pk}/", {"title_en": "X"}, format="json"), 403)
    refused = client.post(f"/api/v1/tenders/{published.pk}/transitions/cancel/", {"reason": "x"}, format="json")
    assert_problem(refused, 403, code="permission_denied")
    assert_problem(client.post(f"/api/v1/tenders/{published.pk}/transitions/close/", {}, format="json"), 403)
    assert transition_names(client.get(f"/api/v1/tenders/{published.pk}/transitions/")) == []
    draft.refresh_from_db()
    published.refresh_from_db()
    assert (draft.status, draft.title_en != "X") == (TenderStatus.DRAFT, True)
    assert published.status == TenderStatus.PUBLISHED


def test_an_officer_of_another_agency_drafts_for_their_own_agency_only(api_client, other_officer, phase):
    response = as_user(api_client, other_officer).post("/api/v1/tenders/", new_tender(phase), format="json")
    assert response.status_code == 201, response.content[:300]
    assert Tender.objects.get(pk=response.json()["id"]).agency_id == other_officer.agency_id


@pytest.mark.parametrize("who", ["vendor_user", "auditor", "approver"])
def test_those_who_do_not_draft_tenders_are_refused(api_client, request, who, phase):
    user = request.getfixturevalue(who)
    response = as_user(api_client, user).post("/api/v1/tenders/", new_tender(phase), format="json")
    assert_problem(response, 403, code="permission_denied")
    assert not Tender.objects.exists()


def test_an_auditors_transitions_are_refused_and_logged(api_client, auditor, phase):
    published = make_published(TenderFactory(phase=phase))
    draft = ready_tender(phase=phase)
    client = as_user(api_client, auditor)
    assert transition_names(client.get(f"/api/v1/tenders/{published.pk}/transitions/")) == []
    attempts = [
        (f"/api/v1/tenders/{published.pk}/transitions/cancel/", {"reason": "x"}),
        (f"/api/v1/tenders/{draft.pk}/transitions/submit/", {}),
        (f"/api/v1/tenders/{draft.pk}/opening-committee/", {"user": auditor.pk}),
    ]
    for url, data in attempts:
        assert_problem(client.post(url, data, format="json"), 403)
        event = AuditEvent.objects.filter(action="audit.change_refused").latest("sequence")
        assert (event.actor_id, event.payload["path"], event.payload["status"]) == (auditor.pk, url, 403)
    published.refresh_from_db()
    draft.refresh_from_db()
    assert (published.status, draft.status) == (TenderStatus.PUBLISHED, TenderStatus.DRAFT)


def test_a_vendor_cannot_act_on_a_published_tender(api_client, vendor_user, phase):
    published = make_published(TenderFactory(phase=phase))
    client = as_user(api_client, vendor_user)
    assert_problem(client.post(f"/api/v1/tenders/{published.pk}/transitions/close/", {}, format="json"), 403)
    assert_problem(client.patch(f"/api/v1/tenders/{published.pk}/", {"title_en": "X"}, format="json"), 403)
    assert_problem(client.get(f"/api/v1/tenders/{published.pk}/opening-committee/"), 403)


def test_the_preparer_cannot_approve_their_own_tender(api_client, officer, phase):
    tender = make_pending(ready_tender(phase=phase, created_by=officer))
    response = as_user(api_client, officer).post(f"/api/v1/tenders/{tender.pk}/transitions/approve/", format="json")
    assert_problem(response, 409, code="action_refused")
    assert AuditEvent.objects.filter(tender_id=tender.pk, action="tender.approval_refused").count() == 1
    tender.refresh_from_db()
    assert tender.status == TenderStatus.PENDING_APPROVAL


def test_the_transitions_offered_depend_on_the_caller(api_client, officer, approver, phase):
    published = make_published(TenderFactory(phase=phase, created_by=officer))
    assert transition_names(as_user(api_client, officer).get(f"/api/v1/tenders/{published.pk}/transitions/")) == [
        "cancel"
    ]
    assert transition_names(as_user(api_client, approver).get(f"/api/v1/tenders/{published.pk}/transitions/")) == []
    api_client.credentials()
    assert transition_names(api_client.get(f"/api/v1/tenders/{published.pk}/transitions/")) == []
    # After the deadline the officer may close it.
    now = timezone.now()
    Tender.objects.filter(pk=published.pk).update(
        clarification_deadline=now - 3 * DAY, submission_deadline=now - DAY, opening_time=now - DAY / 2
    )
    names = transition_names(as_user(api_client, officer).get(f"/api/v1/tenders/{published.pk}/transitions/"))
    assert names == ["close", "cancel"]


# Refusals as problems ---------------------------------------------------------------------------------


def test_the_wrong_state_is_a_409_and_changes_nothing(api_client, officer, phase):
    published = make_published(TenderFactory(phase=phase))
    client = as_user(api_client, officer)
    assert_problem(client.patch(f"/api/v1/tenders/{published.pk}/", {"title_en": "X"}, format="json"), 409)
    assert_problem(client.post(f"/api/v1/tenders/{published.pk}/transitions/submit/", {}, format="json"), 409)
    not_yet = client.post(f"/api/v1/tenders/{published.pk}/transitions/close/", {}, format="json")
    assert_problem(not_yet, 409, code="action_refused")
    upload = client.post(
        f"/api/v1/tenders/{published.pk}/documents/", {"title": "Late", "file": pdf_upload()}, format="multipart"
    )
    assert_problem(upload, 409)
    published.refresh_from_db()
    assert (published.status, published.title_en != "X") == (TenderStatus.PUBLISHED, True)
    assert not published.documents.exists()


def test_an_unknown_transition_is_a_404_problem(api_client, officer, phase):
    tender = TenderFactory(phase=phase)
    response = as_user(api_client, officer).post(f"/api/v1/tenders/{tender.pk}/transitions/publish/", format="json")
    assert_problem(response, 404, code="not_found")


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"criteria": [{"name_en": "A", "name_ar": "أ", "weight": "50"}]}, "criteria"),
        ({"estimated_value": "a lot"}, "estimated_value"),
        ({"phase": 999999}, "phase"),
        ({"status": "published"}, "status"),
        ({"title_en": ""}, "title_en"),
        ({"opening_time": (timezone.now() + 2 * DAY).isoformat()}, "opening_time"),
    ],
)
def test_a_malformed_draft_is_a_400_with_the_field_errors(api_client, officer, phase, changes, field):
    response = as_user(api_client, officer).post("/api/v1/tenders/", new_tender(phase, **changes), format="json")
    body = assert_problem(response, 400, code="invalid")
    assert any(name == field or name.startswith(f"{field}.") for name in body["errors"]), body["errors"]
    assert not Tender.objects.exists()


def test_malformed_transition_and_committee_bodies_are_400(api_client, officer, vendor_user, phase):
    tender = TenderFactory(phase=phase)
    published = make_published(TenderFactory(phase=phase))
    client = as_user(api_client, officer)
    body = assert_problem(
        client.post(f"/api/v1/tenders/{published.pk}/transitions/cancel/", {"reason": ""}, format="json"), 400
    )
    assert "reason" in body["errors"]
    extra = client.post(f"/api/v1/tenders/{tender.pk}/transitions/submit/", {"now": "x"}, format="json")
    assert "now" in assert_problem(extra, 400)["errors"]
    not_json = client.post(
        f"/api/v1/tenders/{tender.pk}/transitions/submit/", "[1, 2]", content_type="application/json"
    )
    assert_problem(not_json, 400)
    ineligible = client.post(f"/api/v1/tenders/{tender.pk}/opening-committee/", {"user": vendor_user.pk}, format="json")
    assert "user" in assert_problem(ineligible, 400)["errors"]
    assert not tender.opening_committee.exists()
    published.refresh_from_db()
    assert published.status == TenderStatus.PUBLISHED


def test_a_committee_member_is_removed_while_the_tender_is_a_draft(api_client, officer, phase):
    tender = ready_tender(phase=phase, created_by=officer)
    seat = tender.opening_committee.first()
    client = as_user(api_client, officer)
    assert client.delete(f"/api/v1/tenders/{tender.pk}/opening-committee/{seat.pk}/").status_code == 204
    assert tender.opening_committee.count() == 2
    make_published(tender)
    other = tender.opening_committee.first()
    assert_problem(client.delete(f"/api/v1/tenders/{tender.pk}/opening-committee/{other.pk}/"), 409)


# What is published with a tender -----------------------------------------------------------------------


@pytest.fixture
def published_with_extras(phase, vendor_user):
    tender = make_published(TenderFactory(phase=phase))
    with_document(tender, title="Terms")
    for number, status in ((1, AddendumStatus.ISSUED), (2, AddendumStatus.PENDING_APPROVAL)):
        addendum = Addendum.objects.create(
            tender=tender,
            number=number,
            summary_en=f"Change {number}",
            summary_ar="تغيير",
            created_by=tender.created_by,
        )
        Addendum.objects.filter(pk=addendum.pk).update(status=status)
        document = with_document(tender, title=f"Addendum {number}")
        TenderDocument.objects.filter(pk=document.pk).update(addendum=addendum)
    Clarification.objects.create(
        tender=tender,
        number=1,
        question="Local hosting?",
        asked_by=vendor_user,
        answer="Yes.",
        answered_at=timezone.now(),
    )
    Clarification.objects.create(tender=tender, number=2, question="Unanswered?", asked_by=vendor_user)
    return tender


def rows(response) -> list[dict]:
    assert response.status_code == 200, response.content[:300]
    return response.json()["results"]


def test_anyone_reads_what_is_published_with_a_public_tender(api_client, published_with_extras):
    tender = published_with_extras
    documents = rows(api_client.get(f"/api/v1/tenders/{tender.pk}/documents/"))
    assert sorted(d["title"] for d in documents) == ["Addendum 1", "Terms"]
    questions = rows(api_client.get(f"/api/v1/tenders/{tender.pk}/clarifications/"))
    assert [(q["number"], q["answer"]) for q in questions] == [(1, "Yes.")]
    assert "asked_by" not in questions[0]
    addenda = rows(api_client.get(f"/api/v1/tenders/{tender.pk}/addenda/"))
    assert [(a["number"], a["status"]) for a in addenda] == [(1, "issued")]


@pytest.mark.parametrize("who", ["officer", "auditor", "approver"])
def test_the_tenders_own_people_read_everything(api_client, request, who, published_with_extras):
    tender = published_with_extras
    client = as_user(api_client, request.getfixturevalue(who))
    assert len(rows(client.get(f"/api/v1/tenders/{tender.pk}/documents/"))) == 3
    assert [q["number"] for q in rows(client.get(f"/api/v1/tenders/{tender.pk}/clarifications/"))] == [1, 2]
    assert [a["number"] for a in rows(client.get(f"/api/v1/tenders/{tender.pk}/addenda/"))] == [1, 2]
    assert [a["number"] for a in rows(client.get(f"/api/v1/tenders/{tender.pk}/addenda/", {"status": "issued"}))] == [1]


def test_a_draft_s_lists_are_hidden_from_the_public(api_client, vendor_user, phase):
    draft = ready_tender(phase=phase)
    for suffix in ("documents", "clarifications", "addenda", "transitions"):
        assert_problem(api_client.get(f"/api/v1/tenders/{draft.pk}/{suffix}/"), 404)
        assert_problem(as_user(api_client, vendor_user).get(f"/api/v1/tenders/{draft.pk}/{suffix}/"), 404)
        api_client.credentials()


@pytest.mark.parametrize("suffix", ["documents", "clarifications", "addenda"])
def test_a_nested_page_costs_the_same_number_of_queries_for_one_row_or_many(
    api_client, officer, published_with_extras, suffix, django_assert_max_num_queries, vendor_user
):
    tender = published_with_extras
    client = as_user(api_client, officer)
    url = f"/api/v1/tenders/{tender.pk}/{suffix}/"
    client.get(url)  # warm up: the token's last use is written at most once a minute
    with django_assert_max_num_queries(12) as few:
        client.get(url)
    for number in range(3, 13):
        addendum = Addendum.objects.create(
            tender=tender, number=number, summary_en="x", summary_ar="س", created_by=tender.created_by
        )
        with_document(tender, title=f"More {number}")
        TenderDocument.objects.filter(title=f"More {number}").update(addendum=addendum)
        Clarification.objects.create(tender=tender, number=number, question="?", asked_by=vendor_user)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert len(rows(client.get(url))) >= 10


def test_the_tender_list_and_detail_still_read_as_before(api_client, officer, phase):
    published = make_published(TenderFactory(phase=phase))
    draft = TenderFactory(phase=phase)
    assert {row["id"] for row in rows(api_client.get("/api/v1/tenders/"))} == {published.pk}
    assert api_client.get(f"/api/v1/tenders/{published.pk}/").json()["internal"] is None
    assert_problem(api_client.get(f"/api/v1/tenders/{draft.pk}/"), 404)
    client = as_user(api_client, officer)
    assert {row["id"] for row in rows(client.get("/api/v1/tenders/"))} == {published.pk, draft.pk}
    assert_problem(client.put(f"/api/v1/tenders/{draft.pk}/", {}, format="json"), 405)
    assert_problem(client.delete(f"/api/v1/tenders/{draft.pk}/"), 405)


def test_the_programme_of_another_agency_is_a_phase_like_any_other(api_client, officer, other_agency):
    """The web form lets an officer choose any programme's phase; the service decides, the same here."""
    phase = PhaseFactory(programme=ProgrammeFactory(sponsor_agency=other_agency))
    response = as_user(api_client, officer).post("/api/v1/tenders/", new_tender(phase), format="json")
    assert response.status_code == 201, response.content[:300]
    assert Tender.objects.get(pk=response.json()["id"]).agency_id == officer.agency_id


# The criteria, with the ids a bid's answers are keyed by ---------------------------------------------


def test_a_published_tender_shows_everyone_its_criteria_with_their_ids(api_client, vendor_user, phase):
    tender = make_published(ready_tender(phase=phase))
    expected = [
        {"id": c.pk, "name_en": c.name_en, "weight": f"{c.weight:.2f}"} for c in tender.criteria.order_by("order")
    ]
    for client in (api_client, as_user(api_client.__class__(), vendor_user)):
        body = client.get(f"/api/v1/tenders/{tender.pk}/").json()
        assert [{key: c[key] for key in ("id", "name_en", "weight")} for c in body["criteria"]] == expected
        assert body["internal"] is None
    # The list stays as it was: no criteria per row.
    assert "criteria" not in rows(api_client.get("/api/v1/tenders/"))[0]


def test_a_drafts_criteria_are_shown_only_to_those_who_see_its_internals(api_client, officer, vendor_user, phase):
    draft = ready_tender(phase=phase)
    assert_problem(as_user(api_client, vendor_user).get(f"/api/v1/tenders/{draft.pk}/"), 404)
    body = as_user(api_client, officer).get(f"/api/v1/tenders/{draft.pk}/").json()
    assert [c["id"] for c in body["criteria"]] == list(draft.criteria.order_by("order").values_list("pk", flat=True))


# Declaring a tender unsuccessful after the evaluation ----------------------------------------------------


def test_too_few_qualified_bids_the_officer_declares_the_tender_unsuccessful_during_the_evaluation(api_client):
    from procurement import evaluation_services
    from tests.procurement.bid_factories import evaluation_ready
    from tests.procurement.test_evaluation_services import at, comply, declare, score, uniform_sheets

    ctx = evaluation_ready(prices=("1000.00", "1100.00"), committee=3, minimum_bids=2)
    tender = ctx.tender
    with at(tender, hours=1):
        declare(ctx)
        comply(ctx)
        score(ctx, uniform_sheets(ctx, {0: (80, 80), 1: (50, 50)}))  # the second is under the pass mark
        evaluation_services.technical_conclude(actor=ctx.chair, tender=tender)
    assert evaluation_services.minimum_bids_problem(tender)
    url = f"/api/v1/tenders/{tender.pk}/transitions/"

    # The chair of the evaluation committee is offered nothing and is refused.
    chair = as_user(api_client.__class__(), ctx.chair)
    assert transition_names(chair.get(url)) == []
    refused = chair.post(f"{url}mark_unsuccessful/", {"reason": "Too few."}, format="json")
    assert_problem(refused, 403, code="permission_denied")

    officer = as_user(api_client, ctx.officer)
    offered = {row["name"]: row["required_fields"] for row in officer.get(url).json()}
    assert offered == {"cancel": ["reason"], "mark_unsuccessful": ["reason"]}
    reason = "Only one bid qualified; the tender requires at least two."
    response = officer.post(f"{url}mark_unsuccessful/", {"reason": reason}, format="json")
    assert response.status_code == 200, response.content[:500]
    assert (response.json()["status"], response.json()["unsuccessful_reason"]) == ("unsuccessful", reason)
    [event] = AuditEvent.objects.filter(tender_id=tender.pk, action="tender.unsuccessful")
    assert (event.actor_id, event.payload["from"]) == (ctx.officer.pk, "evaluation")
    assert transition_names(officer.get(url)) == []
    again = officer.post(f"{url}mark_unsuccessful/", {"reason": reason}, format="json")
    assert_problem(again, 409, code="action_refused")


@pytest.mark.parametrize(
    ("state", "offered"),
    [
        (TenderStatus.CLOSED, True),
        (TenderStatus.OPENED, True),
        (TenderStatus.EVALUATION, True),
        (TenderStatus.PUBLISHED, False),
        (TenderStatus.AWARD_PENDING, False),  # the approver returns the award first: back to the evaluation
        (TenderStatus.STANDSTILL, False),
    ],
)
def test_a_tender_is_declared_unsuccessful_only_where_the_web_allows_it(api_client, officer, phase, state, offered):
    tender = set_status(make_published(TenderFactory(phase=phase)), state)
    client = as_user(api_client, officer)
    assert ("mark_unsuccessful" in transition_names(client.get(f"/api/v1/tenders/{tender.pk}/transitions/"))) is offered
    response = client.post(
        f"/api/v1/tenders/{tender.pk}/transitions/mark_unsuccessful/", {"reason": "No award."}, format="json"
    )
    if offered:
        assert response.status_code == 200, response.content[:500]
        assert response.json()["status"] == TenderStatus.UNSUCCESSFUL
    else:
        assert_problem(response, 409, code="action_refused")
        assert Tender.objects.get(pk=tender.pk).status == state
