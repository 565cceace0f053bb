"""The officers' view of a tender's bids over the API (``GET /api/v1/tenders/<id>/bids/``): the web's bid
register — who bid, when, which version, each envelope's SHA-256 and state — for those the web shows it to
(``procurement.view_bids``), metadata only before and after the opening, in keyset pages, at a constant cost."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from accounts.roles import Role
from procurement import bid_services
from procurement.models import Bid
from tests.accounts.factories import UserFactory
from tests.api.conftest import assert_problem, bearer
from tests.procurement import bid_factories as bf
from tests.procurement.factories import AgencyFactory

pytestmark = pytest.mark.django_db

SECRET_PRICE = "987654.32"
SECRET_LINE = "CANARY-REGISTER-LINE"
SECRET_ANSWER = "CANARY-REGISTER-ANSWER"


@pytest.fixture
def register():
    tender, members, _recovery = bf.published_tender()
    bids = []
    for price in (SECRET_PRICE, "5000.00"):
        _vendor, admin = bf.bidder()
        bid, _receipt = bf.submitted_bid(tender, admin, price=price, description=SECRET_LINE, answer=SECRET_ANSWER)
        bids.append(bid)
    _vendor, drafter = bf.bidder()
    draft = bid_services.bid_start(actor=drafter, tender=tender)
    agency = tender.agency
    people = {
        "officer of the agency": UserFactory(agency=agency, roles=[Role.PROCUREMENT_OFFICER]),
        "approver": UserFactory(agency=agency, roles=[Role.APPROVER]),
        "auditor": UserFactory(roles=[Role.AUDITOR]),
        "administrator": UserFactory(is_staff=True, is_superuser=True, roles=[Role.ADMINISTRATOR]),
        "opening committee member": members[2],
    }
    outsiders = {
        "a bidder": bids[0].vendor.memberships.first().user,
        "the drafter": drafter,
        "officer of another agency": UserFactory(agency=AgencyFactory(), roles=[Role.PROCUREMENT_OFFICER]),
        "another committee member": UserFactory(roles=[Role.COMMITTEE_MEMBER]),
    }
    return {"tender": tender, "members": members, "bids": bids, "draft": draft, "people": people, "out": outsiders}


def _as(user) -> APIClient:
    client = APIClient()
    client.credentials(**bearer(user))
    return client


def _url(tender) -> str:
    return f"/api/v1/tenders/{tender.pk}/bids/"


def _no_secret(response) -> None:
    for secret in (SECRET_PRICE, SECRET_LINE, SECRET_ANSWER, "Offer", "offer.pdf", "CANARY-DOCUMENT-CONTENT"):
        assert secret not in response.content.decode(), secret


def test_those_the_web_shows_the_register_to_read_its_metadata(register):
    tender, bids = register["tender"], register["bids"]
    for who, person in register["people"].items():
        response = _as(person).get(_url(tender))
        assert response.status_code == 200, (who, response.content)
        assert "no-store" in response["Cache-Control"]
        _no_secret(response)
        rows = response.json()["results"]
        assert [row["id"] for row in rows] == [bid.pk for bid in bids], who  # oldest first; no draft
        first = rows[0]
        assert set(first) == {
            "id",
            "vendor",
            "bidder",
            "bidder_ar",
            "status",
            "version",
            "submitted_at",
            "withdrawn_at",
            "opened",
            "envelopes",
        }
        assert first["bidder"] == bids[0].vendor.legal_name_en and first["vendor"] == bids[0].vendor_id
        assert first["status"] == "submitted" and first["version"] == 1 and first["opened"] is False
        assert first["submitted_at"] and first["withdrawn_at"] is None
        hashes = {e.kind: e.sha256 for e in bids[0].envelopes.all()}
        assert {e["kind"]: (e["state"], e["sha256"]) for e in first["envelopes"]} == {
            kind: ("sealed", sha) for kind, sha in hashes.items()
        }


def test_the_register_is_refused_to_everyone_else(register):
    tender = register["tender"]
    for who, person in register["out"].items():
        body = assert_problem(_as(person).get(_url(tender)), 403)
        assert SECRET_PRICE not in str(body), who
    client = APIClient()
    assert_problem(client.get(_url(tender)), 401)
    officer = register["people"]["officer of the agency"]
    assert_problem(_as(officer).get("/api/v1/tenders/999999/bids/"), 404)


def test_the_session_reads_it_too(register):
    client = APIClient()
    client.force_login(register["people"]["auditor"])
    response = client.get(_url(register["tender"]))
    assert response.status_code == 200
    assert len(response.json()["results"]) == 2


def test_a_withdrawn_bid_and_a_new_version_are_shown_as_on_the_web(register):
    tender, bids = register["tender"], register["bids"]
    admin = bids[1].vendor.memberships.first().user
    bid_services.bid_withdraw(actor=admin, bid=bids[1])
    response = _as(register["people"]["officer of the agency"]).get(_url(tender))
    rows = {row["id"]: row for row in response.json()["results"]}
    assert rows[bids[1].pk]["status"] == "withdrawn" and rows[bids[1].pk]["withdrawn_at"]
    assert rows[bids[1].pk]["opened"] is False


def test_after_the_opening_the_states_change_and_the_content_stays_out(register):
    tender, bids = register["tender"], register["bids"]
    bf.open_bids(tender, register["members"])
    response = _as(register["people"]["opening committee member"]).get(_url(tender))
    assert response.status_code == 200
    _no_secret(response)
    for row in response.json()["results"]:
        assert row["status"] == "opened" and row["opened"] is True
        # Quality- and cost-based: the financial envelopes wait for the technical evaluation.
        assert {e["kind"]: e["state"] for e in row["envelopes"]} == {"technical": "opened", "financial": "sealed"}
    for person in register["out"].values():
        assert_problem(_as(person).get(_url(tender)), 403)
    assert {row["id"] for row in response.json()["results"]} == {bid.pk for bid in bids}


def test_pages_follow_the_cursor(register):
    client = _as(register["people"]["auditor"])
    first = client.get(_url(register["tender"]), {"page_size": 1}).json()
    assert [row["id"] for row in first["results"]] == [register["bids"][0].pk]
    assert first["next"]
    second = client.get(first["next"]).json()
    assert [row["id"] for row in second["results"]] == [register["bids"][1].pk]
    assert second["next"] is None
    assert_problem(client.get(_url(register["tender"]), {"page_size": "x"}), 400)


def _queries(client, url) -> int:
    client.get(url)  # warm up: the token's last use is written at most once a minute
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, response.content[:300]
    return len(captured)


def test_a_page_costs_the_same_number_of_queries_for_two_bids_or_many(register, django_assert_max_num_queries):
    tender = register["tender"]
    client = _as(register["people"]["officer of the agency"])
    few = _queries(client, _url(tender))
    for _ in range(4):
        _vendor, admin = bf.bidder()
        bf.submitted_bid(tender, admin)
    # A second version of a bid: its envelopes come in the same prefetch.
    admin = register["bids"][1].vendor.memberships.first().user
    bid = Bid.objects.get(pk=register["bids"][1].pk)
    bid_services.bid_start_modification(actor=admin, bid=bid)
    bid_services.bid_save_draft(actor=admin, bid=bid, data=bf.draft_data(tender, price="4000.00"))
    bid_services.bid_submit(actor=admin, bid=bid)
    client.get(_url(tender))
    with django_assert_max_num_queries(few):
        response = client.get(_url(tender))
    rows = {row["id"]: row for row in response.json()["results"]}
    assert len(rows) == 6
    assert rows[bid.pk]["version"] == 2 and len(rows[bid.pk]["envelopes"]) == 2
    assert {e["sha256"] for e in rows[bid.pk]["envelopes"]} == {
        e.sha256 for e in bid.envelopes.filter(version__number=2)
    }
