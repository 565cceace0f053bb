"""What a review of the API found, held: nothing about hidden questions or addenda is told by a 403 against a
404, a bid's document upload is idempotent and never stores the title (sealed with the bid), a replayed answer
and a bid's draft are never cached, oversized multipart bodies are refused before anything reads them, and
answers stored before the draft was withheld are cleaned by the migration."""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps

from api.models import IdempotencyRecord
from procurement.models import BidFile
from tests.api.conftest import assert_problem
from tests.api.test_bid_api import auth, start, tender, upload, vendor_and_admin  # noqa: F401 (fixtures)
from tests.api.test_tender_addenda_api import addenda, as_user, pending, published  # noqa: F401 (fixture)
from tests.api.test_tender_clarifications_api import answer_url, question  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db


def _no_store(response) -> None:
    assert "no-store" in response["Cache-Control"] and "private" in response["Cache-Control"], response.headers


@pytest.fixture(autouse=True)
def _own_media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def test_a_bid_document_upload_is_answered_once_and_its_replay_keeps_no_title(api_client, auth, tender):  # noqa: F811
    bid = start(api_client, auth, tender)
    headers = {**auth, "HTTP_IDEMPOTENCY_KEY": "upload-1"}
    first = api_client.post(
        f"/api/v1/bids/{bid['id']}/documents/",
        {"title": "Canary title", "document": _doc()},
        format="multipart",
        **headers,
    )
    assert first.status_code == 201 and first.json()["title"] == "Canary title"
    again = api_client.post(
        f"/api/v1/bids/{bid['id']}/documents/",
        {"title": "Canary title", "document": _doc()},
        format="multipart",
        **headers,
    )
    assert again.status_code == 201 and again["Idempotent-Replayed"] == "true"
    assert again.json()["id"] == first.json()["id"] and again.json()["title"] is None
    _no_store(again)
    assert BidFile.objects.filter(bid_id=bid["id"]).count() == 1
    assert "Canary title" not in str(list(IdempotencyRecord.objects.values_list("response_body", flat=True)))


def _doc():
    from tests.procurement.bid_factories import document

    return document()


def test_a_bids_draft_is_never_cached(api_client, auth, tender):  # noqa: F811
    bid = start(api_client, auth, tender)
    _no_store(api_client.get(f"/api/v1/bids/{bid['id']}/", **auth))
    _no_store(upload(api_client, auth, bid["id"]))


def test_a_pending_addendum_does_not_exist_for_those_who_may_not_see_it(
    api_client,
    officer,
    vendor_user,
    other_officer,
    published,  # noqa: F811
):
    number = pending(api_client, officer, published)["number"]
    for who in (vendor_user, other_officer):
        client = as_user(api_client, who)
        assert_problem(client.get(f"{addenda(published)}{number}/transitions/"), 404)
        assert_problem(client.get(f"{addenda(published)}{number + 1}/transitions/"), 404)
        assert_problem(client.post(f"{addenda(published)}{number}/transitions/approve/", {}, format="json"), 404)
    assert_problem(api_client.get(f"{addenda(published)}{number}/transitions/"), 404)


def test_a_vendor_cannot_tell_an_unanswered_question_from_none(api_client, vendor_user, question):  # noqa: F811
    client = as_user(api_client, vendor_user)
    questioned = question.tender
    existing = client.post(answer_url(questioned, question.number), {"answer": "Yes."}, format="json")
    missing = client.post(answer_url(questioned, question.number + 7), {"answer": "Yes."}, format="json")
    assert existing.status_code == missing.status_code == 403


def test_an_oversized_addendum_upload_is_refused_before_it_is_read(api_client, officer, published, settings):  # noqa: F811
    settings.UPLOAD_MAX_BYTES = 1024
    client = as_user(api_client, officer)
    body = b"x" * (5 * 1024 + 64 * 1024)
    response = client.generic(
        "POST",
        addenda(published),
        body,
        content_type="multipart/form-data; boundary=BoUnDaRy",
    )
    assert_problem(response, 413)


def test_the_migration_forgets_drafts_stored_before_they_were_withheld(officer):
    migration = importlib.import_module("api.migrations.0002_forget_stored_bid_drafts")
    kept = IdempotencyRecord.objects.create(
        user=officer,
        key="a",
        method="POST",
        path="/api/v1/bids/",
        request_fingerprint="0" * 64,
        response_status=201,
        response_body={"id": 1, "draft": {"total_price": "987654.32"}, "documents": [{"t": 1}]},
    )
    transition = IdempotencyRecord.objects.create(
        user=officer,
        key="b",
        method="POST",
        path="/api/v1/bids/1/transitions/submit/",
        request_fingerprint="0" * 64,
        response_status=200,
        response_body={"bid": {"draft": {"total_price": "987654.32"}}, "receipt": {"n": 1}},
    )
    other = IdempotencyRecord.objects.create(
        user=officer,
        key="c",
        method="POST",
        path="/api/v1/tenders/",
        request_fingerprint="0" * 64,
        response_status=201,
        response_body={"id": 3, "documents": ["kept"]},
    )
    migration.forget_drafts(apps, None)
    for record in (kept, transition, other):
        record.refresh_from_db()
    assert kept.response_body == {"id": 1, "draft": None, "documents": None}
    assert transition.response_body == {"bid": None, "receipt": {"n": 1}}
    assert other.response_body == {"id": 3, "documents": ["kept"]}
