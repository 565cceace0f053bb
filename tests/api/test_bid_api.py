"""Vendors and sealed bids over the API: a verified vendor's people draft, attach documents, submit and get
the web's receipt; retries with the same Idempotency-Key answer once; the deadline, eligibility and the
submission checks refuse as on the web (and keep the draft); nobody else's bid exists for a vendor; nothing
sealed is ever returned."""

from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.roles import Role
from procurement import bid_services
from procurement.models import Bid, BidFile, BidReceipt, BidVersion
from procurement.models.bids import BidStatus
from tests.accounts.factories import UserFactory
from tests.api.conftest import assert_problem, bearer
from tests.procurement.bid_factories import (
    audit_events,
    bidder,
    clock,
    document,
    past_deadline,
    published_tender,
    submitted_bid,
)
from tests.vendors.factories import member, set_status
from vendors.models import VendorStatus

pytestmark = pytest.mark.django_db

SECRET_PRICE = "987654.32"
SECRET_LINE = "Canary routers"


@pytest.fixture
def tender():
    return published_tender()[0]


@pytest.fixture
def vendor_and_admin():
    return bidder()


@pytest.fixture
def auth(vendor_and_admin):
    return bearer(vendor_and_admin[1])


def api_draft(tender, *, price: str = SECRET_PRICE, currency: str | None = None) -> dict:
    return {
        "answers": {str(c.pk): f"Our approach to {c.name_en}" for c in tender.criteria.all()},
        "total_price": price,
        "currency": currency if currency is not None else tender.currency,
        "validity_days": "90",
        "lines": [{"description": SECRET_LINE, "quantity": "1", "unit": "lot", "unit_price": price}],
    }


def start(api_client, auth, tender, **draft_kwargs) -> dict:
    response = api_client.post(
        "/api/v1/bids/", {"tender": tender.pk, "draft": api_draft(tender, **draft_kwargs)}, format="json", **auth
    )
    assert response.status_code == 201, response.content
    return response.json()


def upload(api_client, auth, bid_id, file=None, title="Technical offer"):
    return api_client.post(
        f"/api/v1/bids/{bid_id}/documents/",
        {"title": title, "document": file or document()},
        format="multipart",
        **auth,
    )


def transition(api_client, auth, bid_id, name, body=None, key=None):
    headers = dict(auth)
    if key:
        headers["HTTP_IDEMPOTENCY_KEY"] = key
    return api_client.post(
        f"/api/v1/bids/{bid_id}/transitions/{name}/", body if body is not None else {}, format="json", **headers
    )


# The whole path ------------------------------------------------------------------------------------------


def test_a_verified_vendor_drafts_uploads_submits_and_gets_the_receipt_once(api_client, auth, tender):
    bid = start(api_client, auth, tender)
    assert bid["status"] == "draft" and bid["draft"]["total_price"] == SECRET_PRICE
    uploaded = upload(api_client, auth, bid["id"])
    assert uploaded.status_code == 201, uploaded.content
    assert uploaded.json()["title"] == "Technical offer"
    assert uploaded.json()["content_type"] == "application/pdf"

    names = [t["name"] for t in api_client.get(f"/api/v1/bids/{bid['id']}/transitions/", **auth).json()]
    assert names == ["submit", "withdraw"]

    first = transition(api_client, auth, bid["id"], "submit", key="submit-1")
    assert first.status_code == 200, first.content
    receipt = first.json()["receipt"]
    assert receipt["action"] == "submitted" and receipt["version"] == 1 and receipt["server_time"]
    stored = BidReceipt.objects.get(bid_id=bid["id"])
    assert receipt["number"] == str(stored.number)
    assert receipt["digest"] == bid_services.receipt_digest(stored)
    kinds = {e["envelope"]: e for e in receipt["envelopes"]}
    assert {"technical", "financial", "file"} <= set(kinds)
    assert all(len(e["sha256"]) == 64 for e in receipt["envelopes"])
    assert receipt["pdf_url"].endswith(f"/receipts/{stored.number}/pdf/")
    assert first.json()["bid"]["status"] == "submitted"

    again = transition(api_client, auth, bid["id"], "submit", key="submit-1")
    assert again.status_code == 200
    assert again["Idempotent-Replayed"] == "true"
    assert again.json()["receipt"]["number"] == receipt["number"]
    assert BidVersion.objects.filter(bid_id=bid["id"]).count() == 1
    assert BidReceipt.objects.filter(bid_id=bid["id"]).count() == 1

    # Sealed: its own vendor sees the envelopes' hashes, never the prices, lines or documents' names.
    detail = api_client.get(f"/api/v1/bids/{bid['id']}/", **auth)
    assert detail.status_code == 200
    body = detail.json()
    assert body["draft"] is None and body["has_draft"] is False
    assert body["versions"][0]["number"] == 1 and len(body["versions"][0]["envelopes"]) == 2
    assert [r["number"] for r in body["receipts"]] == [receipt["number"]]
    for text in (SECRET_PRICE, SECRET_LINE, "Technical offer", "offer.pdf"):
        assert text not in detail.content.decode()
        assert text not in first.content.decode()


def test_the_draft_is_saved_with_patch_and_unknown_fields_are_refused(api_client, auth, tender):
    bid = start(api_client, auth, tender)
    response = api_client.patch(f"/api/v1/bids/{bid['id']}/", {"total_price": "12.50"}, format="json", **auth)
    assert response.status_code == 200, response.content
    assert response.json()["draft"]["total_price"] == "12.50"
    assert response.json()["draft"]["lines"][0]["description"] == SECRET_LINE  # the rest is kept
    refused = api_client.patch(f"/api/v1/bids/{bid['id']}/", {"price": "1"}, format="json", **auth)
    assert assert_problem(refused, 400, code="invalid")["errors"] == {"price": ["This field is not known."]}
    unknown_member = api_client.patch(
        f"/api/v1/bids/{bid['id']}/",
        {"consortium": [{"registration_number": "NO-SUCH", "share": "10"}]},
        format="json",
        **auth,
    )
    assert "consortium.0.registration_number" in assert_problem(unknown_member, 400)["errors"]
    assert audit_events("bid.draft_saved")


def test_a_refused_first_draft_leaves_no_bid(api_client, auth, tender):
    body = {"tender": tender.pk, "draft": {"consortium": [{"registration_number": "NO-SUCH", "share": "5"}]}}
    response = api_client.post("/api/v1/bids/", body, format="json", **auth)
    assert "consortium.0.registration_number" in assert_problem(response, 400)["errors"]
    assert not Bid.objects.exists()


def test_starting_twice_gives_the_same_live_bid(api_client, auth, tender):
    first = start(api_client, auth, tender)
    second = start(api_client, auth, tender)
    assert first["id"] == second["id"]
    assert Bid.objects.filter(tender=tender).count() == 1


# Refusals --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("key", [None, "late-1"])
def test_submission_after_the_deadline_is_refused_and_the_draft_kept(api_client, auth, tender, key):
    bid = start(api_client, auth, tender)
    assert upload(api_client, auth, bid["id"]).status_code == 201
    with clock(past_deadline(tender)):
        response = transition(api_client, auth, bid["id"], "submit", key=key)
    assert "deadline" in assert_problem(response, 409, code="action_refused")["detail"]
    saved = Bid.objects.get(pk=bid["id"])
    assert saved.status == BidStatus.DRAFT and saved.version == 0
    assert bid_services.read_draft(saved)["total_price"] == SECRET_PRICE
    assert not BidReceipt.objects.exists()
    assert audit_events("bid.refused_after_deadline")


def test_a_non_positive_price_or_another_currency_is_refused_field_by_field(api_client, auth, tender):
    bid = start(api_client, auth, tender, price="-5.00", currency="XYZ")
    assert upload(api_client, auth, bid["id"]).status_code == 201
    response = transition(api_client, auth, bid["id"], "submit")
    errors = assert_problem(response, 400, code="invalid")["errors"]
    assert "total_price" in errors and "currency" in errors
    saved = Bid.objects.get(pk=bid["id"])
    assert saved.status == BidStatus.DRAFT
    assert bid_services.read_draft(saved)["total_price"] == "-5.00"

    api_client.patch(
        f"/api/v1/bids/{bid['id']}/", {"total_price": "0", "currency": tender.currency}, format="json", **auth
    )
    zero = transition(api_client, auth, bid["id"], "submit")
    errors = assert_problem(zero, 400)["errors"]
    assert "total_price" in errors and "currency" not in errors


@pytest.mark.parametrize("state", [VendorStatus.PENDING, VendorStatus.SUSPENDED])
def test_an_unverified_or_suspended_vendor_cannot_bid(api_client, tender, vendor_and_admin, auth, state):
    set_status(vendor_and_admin[0], state)
    response = api_client.post("/api/v1/bids/", {"tender": tender.pk}, format="json", **auth)
    assert "only verified vendors can bid" in assert_problem(response, 409, code="action_refused")["detail"]
    assert not Bid.objects.exists()


def test_a_suspended_vendor_cannot_submit_its_draft(api_client, tender, vendor_and_admin, auth):
    bid = start(api_client, auth, tender)
    assert upload(api_client, auth, bid["id"]).status_code == 201
    set_status(vendor_and_admin[0], VendorStatus.SUSPENDED)
    assert_problem(transition(api_client, auth, bid["id"], "submit"), 409)
    assert Bid.objects.get(pk=bid["id"]).status == BidStatus.DRAFT


def test_an_oversized_file_is_refused(api_client, auth, tender, settings):
    settings.UPLOAD_MAX_BYTES = 1024
    bid = start(api_client, auth, tender)
    big = SimpleUploadedFile("offer.pdf", b"%PDF-1.7\n" + b"0" * 4096, content_type="application/pdf")
    errors = assert_problem(upload(api_client, auth, bid["id"], file=big), 400)["errors"]
    assert "the largest accepted is" in errors["file"][0]
    huge = SimpleUploadedFile("offer.pdf", b"%PDF-1.7\n" + b"0" * 70 * 1024, content_type="application/pdf")
    assert_problem(upload(api_client, auth, bid["id"], file=huge), 413, code="payload_too_large")
    assert not BidFile.objects.exists()


def test_a_disguised_file_is_refused_by_its_content(api_client, auth, tender):
    bid = start(api_client, auth, tender)
    fake = SimpleUploadedFile("offer.pdf", b"MZ\x90\x00 not a pdf at all", content_type="application/pdf")
    errors = assert_problem(upload(api_client, auth, bid["id"], file=fake), 400)["errors"]
    assert "not accepted" in errors["file"][0]
    missing = api_client.post(f"/api/v1/bids/{bid['id']}/documents/", {"title": "x"}, format="multipart", **auth)
    assert "document" in assert_problem(missing, 400)["errors"]
    assert not BidFile.objects.exists()


def test_another_vendors_people_get_404_on_the_bid(api_client, tender, vendor_and_admin):
    bid, _receipt = submitted_bid(tender, vendor_and_admin[1])
    _other_vendor, rival = bidder()
    auth = bearer(rival)
    url = f"/api/v1/bids/{bid.pk}/"
    assert_problem(api_client.get(url, **auth), 404)
    assert_problem(api_client.patch(url, {"total_price": "1"}, format="json", **auth), 404)
    assert_problem(api_client.get(url + "transitions/", **auth), 404)
    assert_problem(transition(api_client, auth, bid.pk, "withdraw", {"confirm": True}), 404)
    assert_problem(upload(api_client, auth, bid.pk), 404)
    assert api_client.get("/api/v1/bids/", **auth).json()["results"] == []
    assert Bid.objects.get(pk=bid.pk).status == BidStatus.SUBMITTED
    # The tender's officer sees bids on the web's pages, not through the vendors' endpoint.
    officer_auth = bearer(tender.created_by)
    assert_problem(api_client.get(url, **officer_auth), 404)
    assert_problem(api_client.get("/api/v1/bids/", **officer_auth), 403)


def test_a_colleague_sees_the_vendors_bids(api_client, tender, vendor_and_admin):
    bid, _receipt = submitted_bid(tender, vendor_and_admin[1])
    colleague = member(vendor_and_admin[0])
    listed = api_client.get("/api/v1/bids/", **bearer(colleague)).json()["results"]
    assert [b["id"] for b in listed] == [bid.pk]
    assert "draft" not in listed[0]


# Withdrawal and modification ------------------------------------------------------------------------------


def test_withdrawal_before_the_deadline_gives_a_receipt(api_client, auth, tender, vendor_and_admin):
    bid, _receipt = submitted_bid(tender, vendor_and_admin[1])
    listed = api_client.get(f"/api/v1/bids/{bid.pk}/transitions/", **auth).json()
    withdraw = next(t for t in listed if t["name"] == "withdraw")
    assert withdraw["required_fields"] == ["confirm"]
    assert {t["name"] for t in listed} == {"modify", "withdraw"}
    assert "confirm" in assert_problem(transition(api_client, auth, bid.pk, "withdraw"), 400)["errors"]
    response = transition(api_client, auth, bid.pk, "withdraw", {"confirm": True}, key="w-1")
    assert response.status_code == 200, response.content
    assert response.json()["receipt"]["action"] == "withdrawn"
    assert response.json()["bid"]["status"] == "withdrawn"
    assert Bid.objects.get(pk=bid.pk).status == BidStatus.WITHDRAWN
    assert api_client.get(f"/api/v1/bids/{bid.pk}/transitions/", **auth).json() == []


def test_a_modification_is_submitted_as_version_two(api_client, auth, tender, vendor_and_admin):
    bid, _receipt = submitted_bid(tender, vendor_and_admin[1])
    started = transition(api_client, auth, bid.pk, "modify")
    assert started.status_code == 200 and started.json()["receipt"] is None
    assert started.json()["bid"]["has_draft"] is True
    api_client.patch(f"/api/v1/bids/{bid.pk}/", api_draft(tender, price="900.00"), format="json", **auth)
    response = transition(api_client, auth, bid.pk, "submit")
    assert response.status_code == 200, response.content
    assert response.json()["receipt"]["action"] == "modified" and response.json()["receipt"]["version"] == 2
    assert "900.00" not in response.content.decode()


def test_an_unknown_transition_is_404(api_client, auth, tender):
    bid = start(api_client, auth, tender)
    assert_problem(transition(api_client, auth, bid["id"], "open"), 404)


# Vendors --------------------------------------------------------------------------------------------------


def test_vendors_me_is_the_callers_own_company(api_client, vendor_and_admin, auth):
    vendor = vendor_and_admin[0]
    body = api_client.get("/api/v1/vendors/me/", **auth).json()
    assert body["id"] == vendor.pk and body["may_bid"] is True and body["eligibility_problems"] == []
    assert body["is_administrator"] is True
    set_status(vendor, VendorStatus.SUSPENDED)
    body = api_client.get("/api/v1/vendors/me/", **auth).json()
    assert body["status"] == "suspended" and body["may_bid"] is False and body["eligibility_problems"]
    officer = UserFactory(roles=[Role.PROCUREMENT_OFFICER])
    assert_problem(api_client.get("/api/v1/vendors/me/", **bearer(officer)), 404)
    assert_problem(api_client.get("/api/v1/vendors/me/"), 401)


def test_the_vendor_register_follows_the_web_rule(api_client, vendor_and_admin, auth):
    vendor = vendor_and_admin[0]
    other, _admin = bidder()
    officer = UserFactory(roles=[Role.PROCUREMENT_OFFICER])
    listed = api_client.get("/api/v1/vendors/", **bearer(officer)).json()["results"]
    assert {v["id"] for v in listed} >= {vendor.pk, other.pk}
    assert "tax_number" not in listed[0] and listed[0]["debarred"] is False
    filtered = api_client.get("/api/v1/vendors/", {"q": other.commercial_registration_number}, **bearer(officer))
    assert [v["id"] for v in filtered.json()["results"]] == [other.pk]
    # A vendor's people see their own company, not the register nor another company; strangers nothing.
    assert api_client.get(f"/api/v1/vendors/{vendor.pk}/", **auth).json()["id"] == vendor.pk
    assert_problem(api_client.get(f"/api/v1/vendors/{other.pk}/", **auth), 404)
    assert_problem(api_client.get("/api/v1/vendors/", **auth), 403)
    assert_problem(api_client.get("/api/v1/vendors/"), 401)


# Costs ----------------------------------------------------------------------------------------------------


def test_lists_cost_the_same_for_one_row_or_many(api_client, vendor_and_admin, auth, django_assert_max_num_queries):
    vendor, admin = vendor_and_admin
    tenders = [published_tender()[0] for _ in range(3)]
    bid_services.bid_start(actor=admin, tender=tenders[0])
    officer = UserFactory(roles=[Role.PROCUREMENT_OFFICER])
    officer_auth = bearer(officer)
    with django_assert_max_num_queries(12) as one_bid:
        assert len(api_client.get("/api/v1/bids/", **auth).json()["results"]) == 1
    for other in tenders[1:]:
        bid_services.bid_start(actor=admin, tender=other)
    with django_assert_max_num_queries(len(one_bid.captured_queries)):
        assert len(api_client.get("/api/v1/bids/", **auth).json()["results"]) == 3
    with django_assert_max_num_queries(12) as few:
        api_client.get("/api/v1/vendors/", **officer_auth)
    for _ in range(3):
        bidder()
    with django_assert_max_num_queries(len(few.captured_queries)):
        body = api_client.get("/api/v1/vendors/", **officer_auth)
    assert len(json.loads(body.content)["results"]) >= 4


def test_a_document_is_taken_out_of_the_draft(api_client, auth, tender):
    bid = start(api_client, auth, tender)
    added = upload(api_client, auth, bid["id"]).json()
    assert [d["id"] for d in api_client.get(f"/api/v1/bids/{bid['id']}/", **auth).json()["documents"]] == [added["id"]]
    removed = api_client.delete(f"/api/v1/bids/{bid['id']}/documents/{added['id']}/", **auth)
    assert removed.status_code == 204
    assert api_client.get(f"/api/v1/bids/{bid['id']}/", **auth).json()["documents"] == []
    assert_problem(api_client.delete(f"/api/v1/bids/{bid['id']}/documents/{added['id']}/", **auth), 404)
    assert_problem(transition(api_client, auth, bid["id"], "submit"), 400)


def test_a_modification_can_be_discarded(api_client, auth, tender, vendor_and_admin):
    bid, _receipt = submitted_bid(tender, vendor_and_admin[1])
    assert transition(api_client, auth, bid.pk, "modify").status_code == 200
    names = {t["name"] for t in api_client.get(f"/api/v1/bids/{bid.pk}/transitions/", **auth).json()}
    assert {"submit", "discard_modification", "withdraw"} <= names
    response = transition(api_client, auth, bid.pk, "discard_modification")
    assert response.status_code == 200 and response.json()["bid"]["has_draft"] is False
    assert Bid.objects.get(pk=bid.pk).status == BidStatus.SUBMITTED


def test_the_schema_describes_vendors_and_bids(api_client):
    schema = json.loads(api_client.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").content)
    for path in (
        "/api/v1/vendors/",
        "/api/v1/vendors/{id}/",
        "/api/v1/vendors/me/",
        "/api/v1/bids/",
        "/api/v1/bids/{id}/",
        "/api/v1/bids/{id}/documents/",
        "/api/v1/bids/{id}/transitions/",
        "/api/v1/bids/{id}/transitions/{name}/",
    ):
        assert path in schema["paths"], path
