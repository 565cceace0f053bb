"""Opened envelopes and their documents over the API (``GET /tenders/<id>/bids/<bid>/envelopes/<kind>/`` and
``…/documents/<file>/``): the same function and rule as the web's envelope page and download
(``procurement.opening_views.opened_envelope`` / ``opened_bid_file``, ``procurement.read_bid_content``), the same
refusals recorded the same way (``bid.sealed_access_refused`` with the web's ``what``), a tampered envelope
reported as the web reports it, the document hashed on the handle that is sent."""

from __future__ import annotations

import hashlib

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.html import escape
from rest_framework.test import APIClient

from accounts.roles import Role
from audit.models import AuditEvent
from procurement import bid_services, evaluation_services
from procurement.models import BidEnvelope, BidFile
from procurement.models.bids import EnvelopeKind
from procurement.models.tenders import EvaluationMethod
from tests.accounts.factories import UserFactory
from tests.api.conftest import assert_problem, bearer
from tests.procurement.bid_factories import (
    bidder,
    clock,
    document,
    draft_data,
    evaluation_ready,
    open_bids,
    past_deadline,
    published_tender,
    read_stored,
    sha256_hex,
    submitted_bid,
)
from tests.procurement.test_opening_views import (  # the web's fixtures and helpers, not copies
    CANARY,
    _fast_keys_and_own_media,
    officer_of,
    sealed,
    sealed_refusals,
    url,
)

pytestmark = pytest.mark.django_db

__all__ = ["_fast_keys_and_own_media", "sealed"]  # fixtures: imported so that pytest finds them here


def client_of(user, *, how: str = "token") -> APIClient:
    client = APIClient()
    if how == "token":
        client.credentials(**bearer(user))
    else:
        client.force_login(user)
    return client


def envelope_url(tender, bid, kind: str) -> str:
    return f"/api/v1/tenders/{tender.pk}/bids/{bid.pk}/envelopes/{kind}/"


def document_url(tender, bid, bid_file) -> str:
    return f"/api/v1/tenders/{tender.pk}/bids/{bid.pk}/documents/{bid_file.pk}/"


def body_of(response) -> bytes:
    return b"".join(response.streaming_content) if getattr(response, "streaming", False) else response.content


def assert_not_stored(response) -> None:
    cache_control = response["Cache-Control"]
    assert "private" in cache_control and "no-store" in cache_control, cache_control


def tamper(field_file) -> None:
    blob = bytearray(read_stored(field_file))
    blob[-1] ^= 1
    with open(field_file.path, "wb") as handle:
        handle.write(bytes(blob))


# Reading after the opening ---------------------------------------------------------------------------------


def test_a_committee_member_and_the_officer_read_the_opened_technical_envelope(sealed):
    tender, members, _share, bids, _admins = sealed
    open_bids(tender, members)  # quality and cost: the technical envelopes only
    bid = bids[0]
    bid_file = BidFile.objects.get(bid=bid)
    for person in (members[2], officer_of(tender)):  # a member who did not open it, and the tender's officer
        for how in ("token", "session"):
            response = client_of(person, how=how).get(envelope_url(tender, bid, "technical"))
            assert response.status_code == 200, (person, how, response.content)
            assert_not_stored(response)
            body = response.json()
            assert (body["tender"], body["bid"], body["vendor"]) == (tender.pk, bid.pk, bid.vendor_id)
            assert (body["kind"], body["state"], body["problem"], body["financial"]) == (
                "technical",
                "opened",
                "",
                None,
            )
            assert body["sha256"] == BidEnvelope.objects.get(bid=bid, kind="technical").sha256
            answers = body["technical"]["answers"]
            assert {a["criterion_id"] for a in answers} == set(tender.criteria.values_list("pk", flat=True))
            assert all(a["answer"].startswith("First approach") for a in answers)
            (listed,) = body["technical"]["documents"]
            assert (listed["id"], listed["label"], listed["title"], listed["name"]) == (
                bid_file.pk,
                bid_file.label,
                "Offer",
                "offer.pdf",
            )
            assert listed["opened"] is True and listed["sha256"] == sha256_hex(CANARY)
            assert listed["download"].endswith(document_url(tender, bid, bid_file))
    assert not sealed_refusals(tender_id=tender.pk)


def test_the_api_answers_what_the_web_page_shows(client, sealed):
    """The same function feeds both: the answers and document names on the page are those of the API."""
    tender, members, _share, bids, _admins = sealed
    open_bids(tender, members)
    client.force_login(members[2])
    page = client.get(url("opened_envelope", tender.pk, bids[0].pk, "technical")).content.decode()
    body = client_of(members[2]).get(envelope_url(tender, bids[0], "technical")).json()
    for answer in body["technical"]["answers"]:
        assert answer["answer"] in page
    for listed in body["technical"]["documents"]:
        assert listed["title"] in page and listed["name"] in page and listed["sha256"] in page


def test_an_evaluation_member_reads_after_declaring_no_conflict_as_on_the_web(api_client):
    world = evaluation_ready(prices=("1000.00", "1200.00"))
    tender, bid, member = world.tender, world.bids[0], world.members[1]
    api_client.credentials(**bearer(member))
    # Before declaring: the rule refuses (403, as the web), and nothing sealed was asked for (nothing recorded).
    assert_problem(api_client.get(envelope_url(tender, bid, "technical")), 403)
    with clock(past_deadline(tender, seconds=120)):
        evaluation_services.declaration_make(actor=member, bid=bid, has_conflict=False)
        evaluation_services.declaration_make(
            actor=member, bid=world.bids[1], has_conflict=True, statement="My brother runs it."
        )
    response = api_client.get(envelope_url(tender, bid, "technical"))
    assert response.status_code == 200, response.content
    assert all(a["answer"].startswith("Approach 1") for a in response.json()["technical"]["answers"])
    listed = response.json()["technical"]["documents"][0]
    download = api_client.get(listed["download"])
    assert download.status_code == 200 and body_of(download) == read_stored(BidFile.objects.get(bid=bid).opened)
    # Recused from the other bid: refused, never its content.
    recused = api_client.get(envelope_url(tender, world.bids[1], "technical"))
    assert_problem(recused, 403)
    assert b"Approach 2" not in recused.content
    assert not sealed_refusals(tender_id=tender.pk)


def test_the_bidder_reads_its_own_opened_envelope_other_vendors_and_outsiders_do_not(client, sealed, other_officer):
    tender, members, _share, bids, admins = sealed
    open_bids(tender, members)
    mine = client_of(admins[0]).get(envelope_url(tender, bids[0], "technical"))
    assert mine.status_code == 200 and b"First approach" in mine.content
    # The other bidder, a vendor that did not bid, an officer of another agency: the bid does not exist for them.
    for person in (admins[1], bidder()[1], other_officer):
        response = client_of(person).get(envelope_url(tender, bids[0], "technical"))
        assert_problem(response, 404)
        assert b"First approach" not in response.content
        assert_problem(client_of(person).get(document_url(tender, bids[0], BidFile.objects.get(bid=bids[0]))), 404)
    # An approver sees the bid (its register) but may not read it: 403, as on the web.
    approver = UserFactory(agency=tender.agency, roles=[Role.APPROVER])
    response = client_of(approver).get(envelope_url(tender, bids[0], "technical"))
    assert_problem(response, 403)
    assert_not_stored(response)
    assert b"First approach" not in response.content
    client.force_login(approver)
    assert client.get(url("opened_envelope", tender.pk, bids[0].pk, "technical")).status_code == 403
    # A superuser holds every permission (Django's backend) on the web, hence here too: the same rule decides.
    administrator = UserFactory(is_staff=True, is_superuser=True, roles=[Role.ADMINISTRATOR])
    client.force_login(administrator)
    web = client.get(url("opened_envelope", tender.pk, bids[0].pk, "technical")).status_code
    assert client_of(administrator).get(envelope_url(tender, bids[0], "technical")).status_code == web
    assert not sealed_refusals(tender_id=tender.pk)


@pytest.fixture
def other_officer():
    from tests.procurement.factories import AgencyFactory

    return UserFactory(agency=AgencyFactory(), roles=[Role.PROCUREMENT_OFFICER])


def test_the_financial_envelope_is_read_after_its_own_opening():
    tender, members, _share = published_tender(evaluation_method=EvaluationMethod.LOWEST_PRICE)
    bid = submitted_bid(tender, bidder()[1], price="1500.00")[0]
    open_bids(tender, members)  # lowest price: both envelopes at once
    response = client_of(members[2]).get(envelope_url(tender, bid, "financial"))
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["technical"] is None
    financial = body["financial"]
    assert (financial["total_price"], financial["currency"], financial["validity_days"]) == (
        "1500.00",
        tender.currency,
        90,
    )
    assert [(line["description"], line["amount"]) for line in financial["lines"]] == [("Routers", "1500.00")]


# Downloads ---------------------------------------------------------------------------------------------------


def test_the_download_is_the_stored_opened_document(sealed):
    tender, members, _share, bids, _admins = sealed
    open_bids(tender, members)
    bid_file = BidFile.objects.get(bid=bids[0])
    for how in ("token", "session"):
        response = client_of(members[2], how=how).get(document_url(tender, bids[0], bid_file), HTTP_ACCEPT="*/*")
        assert response.status_code == 200, response
        sent = body_of(response)
        assert sent == read_stored(bid_file.opened) == CANARY
        assert response["X-Content-SHA256"] == bid_file.opened_sha256 == hashlib.sha256(sent).hexdigest()
        assert (
            response["Content-Disposition"].startswith("attachment") and "offer.pdf" in response["Content-Disposition"]
        )
        assert response["Content-Type"] == "application/pdf"
        assert_not_stored(response)
    # Whatever the client accepts, the document comes in its own type.
    assert (
        client_of(members[2]).get(document_url(tender, bids[0], bid_file), HTTP_ACCEPT="application/pdf").status_code
        == 200
    )
    # Another bid's document through this bid's address: no such document of this bid (a recorded refusal).
    other_file = BidFile.objects.get(bid=bids[1])
    assert_problem(client_of(members[2]).get(document_url(tender, bids[0], other_file)), 403)
    assert [e.payload["what"] for e in sealed_refusals(tender_id=tender.pk)] == ["bid document"]


def test_a_document_altered_after_the_opening_is_not_served(sealed):
    tender, members, _share, bids, _admins = sealed
    open_bids(tender, members)
    bid_file = BidFile.objects.get(bid=bids[0])
    tamper(bid_file.opened)
    response = client_of(members[2]).get(document_url(tender, bids[0], bid_file))
    body = assert_problem(response, 409)
    assert "SHA-256" in body["detail"]
    assert b"CANARY" not in response.content
    assert_not_stored(response)
    event = AuditEvent.objects.filter(action="bid.document_integrity_failed").get()
    assert event.payload["expected_sha256"] == bid_file.opened_sha256
    assert event.payload["found_sha256"] not in ("", bid_file.opened_sha256)


def test_the_web_download_refuses_an_altered_document_too(client, sealed):
    tender, members, _share, bids, _admins = sealed
    open_bids(tender, members)
    bid_file = BidFile.objects.get(bid=bids[0])
    client.force_login(members[2])
    served = client.get(url("opened_bid_file", tender.pk, bids[0].pk, bid_file.label))
    assert served.status_code == 200
    assert served["X-Content-SHA256"] == bid_file.opened_sha256
    assert hashlib.sha256(b"".join(served.streaming_content)).hexdigest() == bid_file.opened_sha256
    tamper(bid_file.opened)
    refused = client.get(url("opened_bid_file", tender.pk, bids[0].pk, bid_file.label))
    assert refused.status_code == 409
    assert b"CANARY" not in refused.content
    assert AuditEvent.objects.filter(action="bid.document_integrity_failed", tender_id=tender.pk).count() == 1


# Before the opening, and tampered envelopes: as the web refuses and reports them ----------------------------


def test_before_the_opening_the_api_refuses_and_records_as_the_web_does(client, sealed):
    tender, _members, _share, bids, _admins = sealed
    officer = officer_of(tender)
    bid, bid_file = bids[0], BidFile.objects.get(bid=bids[0])
    missing = bids[1].pk + 100
    api = client_of(officer)
    client.force_login(officer)
    attempts = [
        (envelope_url(tender, bid, "technical"), url("opened_envelope", tender.pk, bid.pk, "technical")),
        (envelope_url(tender, bid, "financial"), url("opened_envelope", tender.pk, bid.pk, "financial")),
        (document_url(tender, bid, bid_file), url("opened_bid_file", tender.pk, bid.pk, bid_file.label)),
        (
            f"/api/v1/tenders/{tender.pk}/bids/{missing}/envelopes/technical/",
            url("opened_envelope", tender.pk, missing, "technical"),
        ),
    ]
    for api_address, web_address in attempts:
        answer = api.get(api_address)
        body = assert_problem(answer, 403)
        assert tender.reference in body["detail"] and "recorded" in body["detail"]
        assert b"CANARY" not in answer.content and b"First approach" not in answer.content
        assert_not_stored(answer)
        (api_event,) = sealed_refusals(tender_id=tender.pk)[-1:]
        assert client.get(web_address).status_code == 403
        (web_event,) = sealed_refusals(tender_id=tender.pk)[-1:]
        assert api_event.pk != web_event.pk
        assert (api_event.actor_id, api_event.object_type, api_event.object_id) == (
            web_event.actor_id,
            web_event.object_type,
            web_event.object_id,
        )
        assert api_event.payload["what"] == web_event.payload["what"]
        assert api_event.payload.get("bid_id") == web_event.payload.get("bid_id")
    assert [e.payload["what"] for e in sealed_refusals(tender_id=tender.pk)][::2] == [
        "technical envelope",
        "financial envelope",
        "bid document",
        "technical envelope (no such bid)",
    ]


def test_the_financial_envelope_stays_sealed_after_the_technical_opening(sealed):
    tender, members, _share, bids, _admins = sealed
    open_bids(tender, members)
    response = client_of(members[0]).get(envelope_url(tender, bids[0], "financial"))
    assert_problem(response, 403)
    assert b"1500" not in response.content
    assert [e.payload["what"] for e in sealed_refusals(tender_id=tender.pk)] == ["financial envelope"]


def test_unknown_addresses_are_not_found(sealed):
    tender, members, _share, bids, _admins = sealed
    open_bids(tender, members)
    api = client_of(members[2])
    assert_problem(api.get(envelope_url(tender, bids[0], "commercial")), 404)
    assert_problem(api.get(f"/api/v1/tenders/{tender.pk + 1000}/bids/{bids[0].pk}/envelopes/technical/"), 404)
    assert_problem(api.get(f"/api/v1/tenders/{tender.pk + 1000}/bids/{bids[0].pk}/documents/1/"), 404)
    assert not sealed_refusals(tender_id=tender.pk)
    assert APIClient().get(envelope_url(tender, bids[0], "technical")).status_code == 401


def test_a_tampered_envelope_is_reported_without_its_content_as_on_the_web(client, sealed):
    tender, members, _share, bids, _admins = sealed
    tamper(BidEnvelope.objects.get(bid=bids[0], version__number=bids[0].version, kind=EnvelopeKind.TECHNICAL).sealed)
    open_bids(tender, members)
    response = client_of(members[0]).get(envelope_url(tender, bids[0], "technical"))
    assert response.status_code == 200, response.content  # the web's page answers 200 too, with the warning
    body = response.json()
    assert body["state"] == "tampered" and body["problem"]
    assert body["technical"] is None and body["financial"] is None
    assert b"First approach" not in response.content and b"CANARY" not in response.content
    client.force_login(members[0])
    page = client.get(url("opened_envelope", tender.pk, bids[0].pk, "technical")).content.decode()
    assert "does not match" in page and escape(body["problem"]) in page


def test_a_document_that_did_not_match_its_receipt_is_refused_as_on_the_web(client, sealed):
    tender, members, _share, bids, _admins = sealed
    bid_file = BidFile.objects.get(bid=bids[0])
    tamper(bid_file.sealed)
    open_bids(tender, members)
    bid_file.refresh_from_db()
    assert not bid_file.opened
    api = client_of(members[2])
    listed = api.get(envelope_url(tender, bids[0], "technical")).json()["technical"]["documents"]
    assert [(d["opened"], d["download"], d["sha256"]) for d in listed] == [(False, None, None)]
    response = api.get(document_url(tender, bids[0], bid_file))
    assert_problem(response, 403)
    assert b"CANARY" not in response.content
    client.force_login(members[2])
    assert client.get(url("opened_bid_file", tender.pk, bids[0].pk, bid_file.label)).status_code == 403
    assert [e.payload["what"] for e in sealed_refusals(tender_id=tender.pk)] == ["bid document", "bid document"]


# Queries ------------------------------------------------------------------------------------------------------


def _bid_with_documents(tender, count: int):
    _vendor, admin = bidder()
    bid = bid_services.bid_start(actor=admin, tender=tender)
    bid_services.bid_save_draft(actor=admin, bid=bid, data=draft_data(tender, answer="Many documents"))
    for number in range(count):
        bid_services.bid_file_add(
            actor=admin,
            bid=bid,
            uploaded_file=document(b"%PDF-1.7\n" + str(number).encode() + b"\n%%EOF\n", name=f"part-{number}.pdf"),
            title=f"Part {number}",
        )
    bid_services.bid_submit(actor=admin, bid=bid)
    return bid


def test_the_envelope_is_read_in_a_bounded_number_of_queries():
    tender, members, _share = published_tender()
    few, many = _bid_with_documents(tender, 1), _bid_with_documents(tender, 4)
    open_bids(tender, members)
    api = client_of(members[2])
    counts = {}
    for bid in (few, many):
        api.get(envelope_url(tender, bid, "technical"))  # the token's first use is recorded once
        with CaptureQueriesContext(connection) as queries:
            response = api.get(envelope_url(tender, bid, "technical"))
        assert response.status_code == 200
        counts[bid.pk] = len(queries)
    assert len(response.json()["technical"]["documents"]) == 4
    assert counts[few.pk] == counts[many.pk], counts  # no query per document
    assert counts[many.pk] <= 12, counts
    bid_file = BidFile.objects.filter(bid=many).first()
    with CaptureQueriesContext(connection) as queries:
        assert api.get(document_url(tender, many, bid_file)).status_code == 200
    assert len(queries) <= 12, len(queries)


def test_the_api_addresses_are_named():
    assert (
        reverse("api:tender-bid-envelope", args=[1, 2, "technical"]) == "/api/v1/tenders/1/bids/2/envelopes/technical/"
    )
    assert reverse("api:tender-bid-document", args=[1, 2, 3]) == "/api/v1/tenders/1/bids/2/documents/3/"
