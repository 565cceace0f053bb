"""The access matrix of sealed bids over the API: every role × every API address that can reach a bid.

The world is the web matrix's (``tests/procurement/test_sealed_access_matrix.py``: a tender with two submitted
bids, one carrying canary values in its prices, lines, answers, document content, title and file name). Every
person — the bidder itself, another bidder, a vendor that did not bid, officers of the agency and of another,
the opening committee and another committee member, an approver, an auditor, an administrator, and nobody
signed in — calls every address of the API that can reach a bid, with a Bearer token and with the browser
session, and guesses the other bids' ids. No answer carries a canary; a refusal is a problem (403/404, 401 for
nobody); the bidder sees its own bid's metadata and receipt, never the sealed content.

Logging, as the web matrix asserts it: the web records ``bid.sealed_access_refused`` for each attempt on an
address that serves sealed content (an envelope page, a document download, the opening-record export, the
admin's page of a sealed bid). The API's such addresses are the opened envelope and its documents
(``tenders/<id>/bids/<bid>/envelopes/<kind>/``, ``…/documents/<file>/``), which call the web's own functions
(``procurement.opening_views.opened_envelope`` / ``opened_bid_file``): before the opening every signed-in person
is refused (403) on every bid id, guessed or not, and each attempt is recorded with the web's ``what``; after
the technical opening the technical envelope and its documents are read by exactly those the web's page lets
read them, and the financial envelope is still refused and recorded. The other addresses are the web's "pages
about a bid" (the bid page, the bid register), which answer without content and are not logged on the web
either. ``test_every_api_address_that_can_reach_a_bid_is_in_the_matrix`` keeps every address that can reach a
bid in this matrix.
"""

from __future__ import annotations

import json
from unittest import mock

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from rest_framework.test import APIClient

from api.models import IdempotencyRecord
from audit.models import AuditEvent
from procurement import opening_services
from procurement.models import Bid
from tests.api.conftest import bearer
from tests.procurement import bid_factories as bf
from tests.procurement.test_sealed_access_matrix import (  # the web matrix's world and checks, not copies
    CANARIES,
    _assert_no_canary,
    _refusals,
    sealed_world,
)

pytestmark = pytest.mark.django_db

__all__ = ["sealed_world"]  # a fixture: imported so that pytest finds it here

#: Those who may read a tender's bid register (``procurement.view_bids``), on the web and over the API.
REGISTER_READERS = {"officer of the agency", "opening committee member", "approver", "auditor", "administrator"}
VENDORS = {"bidder itself", "another bidder", "a vendor that did not bid"}
ANONYMOUS = "anonymous"


def _people(world) -> dict:
    return {**world["people"], ANONYMOUS: None}


def _client(person, how: str) -> APIClient:
    client = APIClient()
    if person is not None:
        if how == "token":
            client.credentials(**bearer(person))
        else:
            client.force_login(person)
    return client


def _check_refusal(response, who: str, route: str, allowed: set[int]) -> None:
    assert response.status_code in allowed, f"{who} got {response.status_code} on {route}: {response.content[:300]}"
    if response.status_code >= 400:
        assert response["Content-Type"].startswith("application/problem+json"), (who, route, response["Content-Type"])
        assert response.json()["status"] == response.status_code


def _own_bid_ids(person) -> set[int]:
    if person is None:
        return set()
    return set(Bid.objects.filter(vendor__memberships__user=person).values_list("pk", flat=True))


def _guessed_bid_ids(world) -> list[int]:
    """Every bid of the database (the other bidder's too), the ids around them, and absurd ones."""
    existing = sorted(Bid.objects.values_list("pk", flat=True))
    around = {existing[0] - 1, *(pk + 1 for pk in existing), existing[-1] + 2, 2**31 - 1} - {0, *existing}
    return [*existing, *sorted(around)]


def _general_routes(world) -> dict[str, str]:
    """Addresses about the tender, the people and the log: any caller may be answered, never with content."""
    tender = world["tender"]
    vendor_id = world["bid"].vendor_id
    return {
        "tenders": "/api/v1/tenders/",
        "tender": f"/api/v1/tenders/{tender.pk}/",
        "tender documents": f"/api/v1/tenders/{tender.pk}/documents/",
        "clarifications": f"/api/v1/tenders/{tender.pk}/clarifications/",
        "addenda": f"/api/v1/tenders/{tender.pk}/addenda/",
        "opening committee": f"/api/v1/tenders/{tender.pk}/opening-committee/",
        "tender transitions": f"/api/v1/tenders/{tender.pk}/transitions/",
        "evaluation": f"/api/v1/tenders/{tender.pk}/evaluation/",
        "evaluation transitions": f"/api/v1/tenders/{tender.pk}/evaluation/transitions/",
        "award": f"/api/v1/tenders/{tender.pk}/award/",
        "award transitions": f"/api/v1/tenders/{tender.pk}/award/transitions/",
        "complaints": f"/api/v1/tenders/{tender.pk}/complaints/",
        "vendors": "/api/v1/vendors/",
        "my vendor": "/api/v1/vendors/me/",
        "the bidder's vendor": f"/api/v1/vendors/{vendor_id}/",
        "audit log": "/api/v1/audit/events/?page_size=200",
        "audit log of the tender": f"/api/v1/audit/events/?page_size=200&object_id={tender.pk}",
        "notifications": "/api/v1/notifications/?page_size=200",
        "contracts": "/api/v1/contracts/",
    }


def _no_read_routes(world) -> dict[str, str]:
    """Addresses that reach a bid but only to write: a GET is not allowed there (405), for anyone."""
    tender, bid, bid_file = world["tender"], world["bid"], world["file"]
    routes = {
        "bid documents": f"/api/v1/bids/{bid.pk}/documents/",
        "a bid document": f"/api/v1/bids/{bid.pk}/documents/{bid_file.pk}/",
        "a bid transition": f"/api/v1/bids/{bid.pk}/transitions/submit/",
        "opening confirmation": f"/api/v1/tenders/{tender.pk}/opening/confirm/",
    }
    for action in ("declaration", "compliance", "scores", "consensus", "price-review"):
        routes[f"evaluation {action}"] = f"/api/v1/tenders/{tender.pk}/evaluation/bids/{bid.pk}/{action}/"
    return routes


def _guessed_sealed_routes(world) -> dict[str, str]:
    """Where a sealed envelope, document, receipt or export would be if the API had them: nothing is there."""
    tender, bid, receipt = world["tender"], world["bid"], world["receipt"]
    label = world["file"].label
    return {
        "envelope": f"/api/v1/bids/{bid.pk}/envelopes/financial/",
        "tender's envelopes": f"/api/v1/tenders/{tender.pk}/bids/{bid.pk}/envelopes/",
        "tender's document by label": f"/api/v1/tenders/{tender.pk}/bids/{bid.pk}/documents/{label}/",
        "tender's documents": f"/api/v1/tenders/{tender.pk}/bids/{bid.pk}/documents/",
        "tender's bid": f"/api/v1/tenders/{tender.pk}/bids/{bid.pk}/",
        "document download": f"/api/v1/bids/{bid.pk}/documents/{label}/download/",
        "receipt": f"/api/v1/receipts/{receipt.number}/",
        "bid receipts": f"/api/v1/bids/{bid.pk}/receipts/",
        "opening record": f"/api/v1/tenders/{tender.pk}/opening-record/",
        "opening record export": f"/api/v1/tenders/{tender.pk}/opening-record.csv",
        "bid versions": f"/api/v1/bids/{bid.pk}/versions/",
    }


def _read_matrix(world, how: str, *, opened: bool = False) -> int:
    """Every person × every address, with ``how`` (token or session); returns how many requests were made.

    ``opened``: after the opening the bidder reads its own bid's document names again (restored from the
    sealed copy, as on the web), so its own bid is not checked for canaries; everything else still is."""
    tender, bid = world["tender"], world["bid"]
    made = 0
    for who, person in _people(world).items():
        cache.clear()  # the per-address throttle counts every request of the test client's one address
        client = _client(person, how)
        own = _own_bid_ids(person)
        is_vendor = who in VENDORS

        def get(route: str, url: str, allowed: set[int], *, who=who, client=client, own=own):
            nonlocal made
            made += 1
            response = client.get(url)
            _check_refusal(response, who, route, allowed)
            if not (opened and response.status_code == 200 and url == f"/api/v1/bids/{bid.pk}/" and bid.pk in own):
                _assert_no_canary(response, f"{who} ({how})", route)
            return response

        signed_out = {401} if person is None else set()

        # One bid, by its id: the caller's own vendor's only; anyone else's does not exist (404).
        for bid_id in _guessed_bid_ids(world):
            expected = signed_out or ({200} if bid_id in own else {404})
            get(f"bid {bid_id}", f"/api/v1/bids/{bid_id}/", expected)
            get(f"transitions of bid {bid_id}", f"/api/v1/bids/{bid_id}/transitions/", expected)

        # The caller's vendor's bids: only its own.
        answer = get("my bids", "/api/v1/bids/?page_size=200", signed_out or ({200} if is_vendor else {403}))
        if answer.status_code == 200:
            assert {row["id"] for row in answer.json()["results"]} == own, who

        # The tender's bid register: metadata, for those the web shows it to.
        register = get(
            "bid register",
            f"/api/v1/tenders/{tender.pk}/bids/",
            signed_out or ({200} if who in REGISTER_READERS else {403}),
        )
        if register.status_code == 200:
            assert bid.pk in {row["id"] for row in register.json()["results"]}, who

        for route, url in _general_routes(world).items():
            get(route, url, {200, 401, 403, 404})
        for route, url in _no_read_routes(world).items():
            get(route, url, signed_out or {405})
        for route, url in _guessed_sealed_routes(world).items():
            get(route, url, {404})
    return made


def _content_routes(world, bid_id: int) -> dict[str, tuple[str, str]]:
    """The API's addresses that serve a bid's content, with the ``what`` the web records for a refusal there."""
    tender, bid_file = world["tender"], world["file"]
    base = f"/api/v1/tenders/{tender.pk}/bids/{bid_id}"
    return {
        "technical envelope": (f"{base}/envelopes/technical/", "technical envelope"),
        "financial envelope": (f"{base}/envelopes/financial/", "financial envelope"),
        "document": (f"{base}/documents/{bid_file.pk}/", "bid document"),
    }


def _web_routes(world) -> dict[str, str]:
    """The web's addresses of the same content (the web matrix's), for the same bid and document."""
    tender, bid = world["tender"], world["bid"]
    return {
        "technical envelope": reverse("procurement:opened_envelope", args=[tender.pk, bid.pk, "technical"]),
        "financial envelope": reverse("procurement:opened_envelope", args=[tender.pk, bid.pk, "financial"]),
        "document": reverse("procurement:opened_bid_file", args=[tender.pk, bid.pk, world["file"].label]),
    }


def _last_refusal() -> AuditEvent:
    return AuditEvent.objects.filter(action="bid.sealed_access_refused").order_by("-sequence").first()


def _sealed_content_matrix(world, how: str) -> int:
    """Every person × the content addresses × every bid id (guessed too), before the opening: nobody reads, and
    every signed-in attempt is refused (403, the same for a bid that exists and one that does not: nobody counts
    the bids) and recorded as the web records it. Returns how many attempts were recorded."""
    tender = world["tender"]
    existing = set(Bid.objects.filter(tender=tender).values_list("pk", flat=True))
    logged = 0
    for who, person in _people(world).items():
        cache.clear()
        client = _client(person, how)
        for bid_id in _guessed_bid_ids(world):
            for route, (address, what) in _content_routes(world, bid_id).items():
                before = _refusals()
                response = client.get(address)
                label = f"{route} of bid {bid_id}"
                _check_refusal(response, who, label, {401} if person is None else {403})
                _assert_no_canary(response, f"{who} ({how})", label)
                assert "no-store" in response["Cache-Control"], (who, label)
                if person is None:
                    assert _refusals() == before, f"{who}'s attempt on {label} was logged"  # as the web: sign-in
                    continue
                assert _refusals() == before + 1, f"{who}'s attempt on {label} was not logged"
                event = _last_refusal()
                expected = what if bid_id in existing else f"{what} (no such bid)"
                assert (event.actor_id, event.payload["what"]) == (person.pk, expected), (who, label)
                assert event.object_id == str(tender.pk), (who, label)
                logged += 1
    return logged


@pytest.mark.parametrize("how", ["token", "session"])
def test_nobody_reads_a_sealed_bid_over_the_api(sealed_world, how):
    refusals = _refusals()
    made = _read_matrix(sealed_world, how)
    assert made > 400
    # The addresses about a bid serve no sealed content: none was refused as such (the web logs those only).
    assert _refusals() == refusals
    # The addresses of the content: refused to all, and every attempt recorded as the web records it.
    logged = _sealed_content_matrix(sealed_world, how)
    signed_in = len(sealed_world["people"])
    assert logged == signed_in * len(_guessed_bid_ids(sealed_world)) * 3
    assert _refusals() == refusals + logged


def test_the_api_records_a_sealed_refusal_exactly_as_the_web_does(sealed_world):
    """One person, each content address, on the web and over the API: the same event, with the same details."""
    officer = sealed_world["people"]["officer of the agency"]
    web = Client()
    web.force_login(officer)
    api = _client(officer, "token")
    api_routes = _content_routes(sealed_world, sealed_world["bid"].pk)
    for route, web_address in _web_routes(sealed_world).items():
        assert web.get(web_address).status_code == 403
        on_the_web = _last_refusal()
        assert api.get(api_routes[route][0]).status_code == 403
        over_the_api = _last_refusal()
        assert over_the_api.pk != on_the_web.pk
        fields = ("action", "actor_id", "object_type", "object_id")
        assert [getattr(over_the_api, f) for f in fields] == [getattr(on_the_web, f) for f in fields], route
        assert {k: over_the_api.payload.get(k) for k in ("what", "bid_id")} == {
            k: on_the_web.payload.get(k) for k in ("what", "bid_id")
        }, route
        assert set(over_the_api.payload) == set(on_the_web.payload), route  # the client's address and agent too


def test_writes_on_someone_elses_bid_are_refused_and_change_nothing(sealed_world):
    """Guessed ids in every write that names a bid: refused (nothing written, nothing sealed in the answer)."""
    tender, bid, bid_file = sealed_world["tender"], sealed_world["bid"], sealed_world["file"]
    state = Bid.objects.filter(pk=bid.pk).values("status", "version", "draft", "withdrawn_at").get()
    for who, person in _people(sealed_world).items():
        if who == "bidder itself":
            continue
        cache.clear()
        client = _client(person, "token")
        signed_out = {401} if person is None else set()
        own = _own_bid_ids(person)
        attempts = []
        for bid_id in _guessed_bid_ids(sealed_world):
            if bid_id in own:
                continue
            for name, body in (("submit", {}), ("modify", {}), ("withdraw", {"confirm": True}), ("reconfirm", {})):
                attempts.append(("post", f"/api/v1/bids/{bid_id}/transitions/{name}/", body, signed_out or {404}))
            attempts.append(("patch", f"/api/v1/bids/{bid_id}/", {"total_price": "1.00"}, signed_out or {404}))
            attempts.append(("delete", f"/api/v1/bids/{bid_id}/documents/{bid_file.pk}/", None, signed_out or {404}))
            for action in ("declaration", "compliance", "scores", "consensus", "price-review"):
                url = f"/api/v1/tenders/{tender.pk}/evaluation/bids/{bid_id}/{action}/"
                attempts.append(("post", url, {}, signed_out or {403, 404}))
        attempts.append(
            ("post", f"/api/v1/tenders/{tender.pk}/opening/confirm/", {"password": "not-it"}, {400, 401, 403, 409})
        )
        for method, url, body, allowed in attempts:
            response = getattr(client, method)(url, body, format="json") if body is not None else client.delete(url)
            _check_refusal(response, who, f"{method.upper()} {url}", allowed)
            _assert_no_canary(response, who, url)
    assert Bid.objects.filter(pk=bid.pk).values("status", "version", "draft", "withdrawn_at").get() == state


def test_the_bidder_sees_its_bid_and_receipt_but_never_the_sealed_content(sealed_world):
    bid, receipt = sealed_world["bid"], sealed_world["receipt"]
    for how in ("token", "session"):
        client = _client(sealed_world["people"]["bidder itself"], how)
        response = client.get(f"/api/v1/bids/{bid.pk}/")
        assert response.status_code == 200, response.content
        _assert_no_canary(response, "bidder itself", "its bid")
        body = response.json()
        assert body["status"] == "submitted" and body["version"] == 1
        assert body["draft"] is None and body["has_draft"] is False
        # The sealed document is listed (to keep or replace in a modification) by label and hash, never by name.
        assert [(d["label"], d["title"]) for d in body["documents"]] == [
            (sealed_world["file"].label, "Sealed document")
        ]
        envelopes = body["versions"][0]["envelopes"]
        assert {e["kind"] for e in envelopes} == {"technical", "financial"}
        assert all(len(e["sha256"]) == 64 for e in envelopes)
        assert body["versions"][0]["documents"] == 1
        (given,) = body["receipts"]
        assert given["number"] == str(receipt.number) and given["action"] == "submitted"
        assert {e["sha256"] for e in given["envelopes"]} >= {e["sha256"] for e in envelopes}
        listed = client.get("/api/v1/bids/")
        assert [row["id"] for row in listed.json()["results"]] == [bid.pk]
        _assert_no_canary(listed, "bidder itself", "my bids")


def test_a_modification_shows_the_sealed_documents_by_no_name(sealed_world):
    """Starting a modification puts the sealed documents back in the draft: by label and hash, never by name."""
    bid = sealed_world["bid"]
    client = _client(sealed_world["people"]["bidder itself"], "token")
    response = client.post(f"/api/v1/bids/{bid.pk}/transitions/modify/", {}, format="json")
    assert response.status_code == 200, response.content
    _assert_no_canary(response, "bidder itself", "modify")
    detail = client.get(f"/api/v1/bids/{bid.pk}/")
    _assert_no_canary(detail, "bidder itself", "its bid in modification")
    body = detail.json()
    assert body["has_draft"] is True and body["draft"]["total_price"] == ""
    assert [d["label"] for d in body["documents"]] == [sealed_world["file"].label]


def _open(world) -> None:
    tender, members = world["tender"], world["members"]
    with mock.patch("procurement.tender_services._now", return_value=bf.past_deadline(tender)):
        opening_services.opening_confirm(actor=members[0], tender=tender, password=bf.PASSWORD)
        opening_services.opening_confirm(actor=members[1], tender=tender, password=bf.PASSWORD)


def test_after_the_opening_the_committee_reads_the_register_and_other_vendors_still_nothing(sealed_world):
    tender, bid = sealed_world["tender"], sealed_world["bid"]
    _open(sealed_world)
    bid.refresh_from_db()
    assert bid.status == "opened"

    # The opening committee (and the agency's officer) read what the web's bid register shows.
    for who in ("opening committee member", "officer of the agency"):
        client = _client(sealed_world["people"][who], "token")
        register = client.get(f"/api/v1/tenders/{tender.pk}/bids/")
        assert register.status_code == 200, (who, register.content)
        rows = {row["id"]: row for row in register.json()["results"]}
        assert rows[bid.pk]["opened"] is True and rows[bid.pk]["status"] == "opened"
        assert {e["kind"]: e["state"] for e in rows[bid.pk]["envelopes"]} == {
            "technical": "opened",
            "financial": "sealed",  # quality- and cost-based: the prices wait for the technical evaluation
        }
    officer = _client(sealed_world["people"]["officer of the agency"], "token")
    evaluation = officer.get(f"/api/v1/tenders/{tender.pk}/evaluation/")
    assert evaluation.status_code == 200, evaluation.content
    assert bid.pk in {row["id"] for row in evaluation.json()["bids"]}
    _assert_no_canary(evaluation, "officer of the agency", "evaluation after the opening")

    # Nobody else's bid exists for another vendor, and no address of the API carries content.
    made = _read_matrix(sealed_world, "token", opened=True)
    assert made > 200
    mine = _client(sealed_world["people"]["bidder itself"], "token").get(f"/api/v1/bids/{bid.pk}/")
    for canary in ("987654.32", "CANARY-LINE-51c2", "CANARY-ANSWER-9e0d", "CANARY-DOC-77aa"):
        assert canary.encode() not in mine.content  # the prices and answers are never in the bid's answer
    other = _client(sealed_world["people"]["another bidder"], "token")
    assert other.get(f"/api/v1/bids/{bid.pk}/").status_code == 404
    assert other.get(f"/api/v1/tenders/{tender.pk}/bids/").status_code == 403


#: After the technical opening, those the web's envelope page lets read the technical envelope (the rule
#: ``procurement.read_bid_content``; the administrator of the world is a superuser, who holds every permission).
TECHNICAL_READERS = {"bidder itself", "officer of the agency", "opening committee member", "auditor", "administrator"}
#: Those for whom the bid does not exist over the API (as ``/bids/<id>/`` answers them): another vendor, people of
#: another agency or committee.
NOT_SEEING_THE_BID = {
    "another bidder",
    "a vendor that did not bid",
    "officer of another agency",
    "another committee member",
}


def test_after_the_technical_opening_the_content_is_read_by_those_the_web_allows(sealed_world):
    _open(sealed_world)
    api_routes = _content_routes(sealed_world, sealed_world["bid"].pk)
    web_routes = _web_routes(sealed_world)
    for who, person in _people(sealed_world).items():
        cache.clear()
        web = Client()
        if person is not None:
            web.force_login(person)
        for how in ("token", "session"):
            client = _client(person, how)
            for route in ("technical envelope", "document"):
                before = _refusals()
                response = client.get(api_routes[route][0])
                if who in TECHNICAL_READERS:
                    assert response.status_code == 200, (who, how, route, response.content[:300])
                    body = b"".join(response.streaming_content) if response.streaming else response.content
                    if route == "document":
                        assert b"CANARY-DOC-77aa" in body
                    else:  # the answers and the document's title and name, unsealed at the opening
                        for canary in ("CANARY-ANSWER-9e0d", "CANARY-TITLE-e4f0", "CANARY-NAME-0c1d"):
                            assert canary.encode() in body, (who, canary)
                        assert b"987654.32" not in body  # the prices are in the financial envelope
                else:
                    expected = {401} if person is None else {404} if who in NOT_SEEING_THE_BID else {403}
                    _check_refusal(response, who, route, expected)
                    _assert_no_canary(response, f"{who} ({how})", route)
                assert "no-store" in response["Cache-Control"], (who, route)
                # Refused by the rule after the opening (not sealed): not recorded, as on the web.
                assert _refusals() == before, (who, route)
                # The web's answer to the same person: read by the same people.
                if person is not None and how == "token":
                    on_the_web = web.get(web_routes[route])
                    assert (on_the_web.status_code == 200) == (response.status_code == 200), (who, route)
            # The financial envelope waits for the technical evaluation: refused to all, and recorded.
            before = _refusals()
            response = client.get(api_routes["financial envelope"][0])
            _check_refusal(response, who, "financial envelope", {401} if person is None else {403})
            _assert_no_canary(response, f"{who} ({how})", "financial envelope")
            if person is not None:
                assert _refusals() == before + 1, f"{who}'s attempt on the financial envelope was not logged"
                assert _last_refusal().payload["what"] == "financial envelope"


def test_a_stored_idempotent_answer_keeps_nothing_that_becomes_sealed(sealed_world):
    """An answer stored for an Idempotency-Key is plain JSON kept for a day: it must not keep the draft, which
    the submission seals — else a replay (or a copy of the database) would give the sealed prices back."""
    tender = sealed_world["tender"]
    _vendor, admin = bf.bidder()
    client = _client(admin, "token")
    draft = bf.draft_data(tender, price="987654.32", description="CANARY-LINE-51c2", answer="CANARY-ANSWER-9e0d")
    draft.pop("consortium")
    started = client.post(
        "/api/v1/bids/", {"tender": tender.pk, "draft": draft}, format="json", HTTP_IDEMPOTENCY_KEY="s1"
    )
    assert started.status_code == 201, started.content
    assert started.json()["draft"]["total_price"] == "987654.32"  # the vendor's own working copy, while a draft
    bid_id = started.json()["id"]
    uploaded = client.post(
        f"/api/v1/bids/{bid_id}/documents/",
        {"title": "CANARY-TITLE-e4f0", "document": bf.document(b"%PDF-1.7\nCANARY-DOC-77aa\n%%EOF\n")},
        format="multipart",
    )
    assert uploaded.status_code == 201, uploaded.content
    # Starting again returns the live bid: its draft and its documents' titles, to the vendor only.
    live = client.post("/api/v1/bids/", {"tender": tender.pk}, format="json", HTTP_IDEMPOTENCY_KEY="s3")
    assert live.status_code == 201 and live.json()["id"] == bid_id, live.content
    assert live.json()["documents"][0]["title"] == "CANARY-TITLE-e4f0"
    submitted = client.post(f"/api/v1/bids/{bid_id}/transitions/submit/", {}, format="json", HTTP_IDEMPOTENCY_KEY="s2")
    assert submitted.status_code == 200, submitted.content
    # A modification with content, then "modify" again (the service answers with the draft in preparation).
    assert client.post(f"/api/v1/bids/{bid_id}/transitions/modify/", {}, format="json").status_code == 200
    assert client.patch(f"/api/v1/bids/{bid_id}/", draft, format="json").status_code == 200
    again = client.post(f"/api/v1/bids/{bid_id}/transitions/modify/", {}, format="json", HTTP_IDEMPOTENCY_KEY="m1")
    assert again.status_code == 200, again.content
    assert again.json()["bid"]["draft"]["total_price"] == "987654.32"
    assert client.post(f"/api/v1/bids/{bid_id}/transitions/submit/", {}, format="json").status_code == 200

    stored = json.dumps(list(IdempotencyRecord.objects.values_list("response_body", flat=True)))
    for canary in CANARIES:
        assert canary not in stored, f"an Idempotency-Key answer keeps {canary!r}"
    # The replays, after the submission sealed it all: the receipt, never the content.
    replayed = client.post(
        "/api/v1/bids/", {"tender": tender.pk, "draft": draft}, format="json", HTTP_IDEMPOTENCY_KEY="s1"
    )
    assert replayed["Idempotent-Replayed"] == "true" and replayed.json()["draft"] is None
    _assert_no_canary(replayed, "the bidder", "replayed start")
    replayed = client.post("/api/v1/bids/", {"tender": tender.pk}, format="json", HTTP_IDEMPOTENCY_KEY="s3")
    assert replayed["Idempotent-Replayed"] == "true" and replayed.json()["documents"] is None
    _assert_no_canary(replayed, "the bidder", "replayed start of the live bid")
    replayed = client.post(f"/api/v1/bids/{bid_id}/transitions/modify/", {}, format="json", HTTP_IDEMPOTENCY_KEY="m1")
    assert replayed["Idempotent-Replayed"] == "true" and replayed.json()["bid"] is None
    _assert_no_canary(replayed, "the bidder", "replayed modify")
    replayed = client.post(f"/api/v1/bids/{bid_id}/transitions/submit/", {}, format="json", HTTP_IDEMPOTENCY_KEY="s2")
    assert replayed.json()["receipt"]["number"] == submitted.json()["receipt"]["number"]


# Every address of the API that can reach a bid is in this matrix ---------------------------------------------

#: Words in an API address that mean it can reach a bid, its files, its receipts or its opening.
BID_WORDS = ("bid", "opening", "evaluation", "award", "complaint", "receipt", "envelope")
#: The addresses this matrix covers (as in the URLconf), beyond the general ones.
COVERED = {
    "bids/",
    "bids/<int:pk>/",
    "bids/<int:pk>/documents/",
    "bids/<int:pk>/documents/<int:file_pk>/",
    "bids/<int:pk>/transitions/",
    "bids/<int:pk>/transitions/<str:name>/",
    "tenders/<int:pk>/bids/",
    "tenders/<int:pk>/bids/<int:bid>/envelopes/<str:kind>/",  # the opened envelope: refused and logged before
    "tenders/<int:pk>/bids/<int:bid>/documents/<int:file_pk>/",  # a document of an opened envelope: the same
    "tenders/<int:pk>/opening-committee/",
    "tenders/<int:pk>/opening-committee/<int:member>/",  # DELETE only, officers of a draft tender
    "tenders/<int:pk>/opening/confirm/",
    "tenders/<int:pk>/evaluation/",
    "tenders/<int:pk>/evaluation/members/",  # POST only: appoint a member (no bid in it)
    "tenders/<int:pk>/evaluation/members/<int:member>/",  # DELETE only
    "tenders/<int:pk>/evaluation/transitions/",
    "tenders/<int:pk>/evaluation/transitions/<str:name>/",
    "tenders/<int:pk>/evaluation/bids/<int:bid>/declaration/",
    "tenders/<int:pk>/evaluation/bids/<int:bid>/compliance/",
    "tenders/<int:pk>/evaluation/bids/<int:bid>/scores/",
    "tenders/<int:pk>/evaluation/bids/<int:bid>/consensus/",
    "tenders/<int:pk>/evaluation/bids/<int:bid>/price-review/",
    "tenders/<int:pk>/award/",
    "tenders/<int:pk>/award/transitions/",
    "tenders/<int:pk>/award/transitions/<str:name>/",  # approve / return: after the opening, approvers
    "tenders/<int:pk>/complaints/",
    "tenders/<int:pk>/complaints/<int:complaint>/transitions/<str:name>/",
}


def _api_routes() -> set[str]:
    def walk(patterns, prefix: str):
        for entry in patterns:
            if isinstance(entry, URLResolver):
                yield from walk(entry.url_patterns, prefix + str(entry.pattern))
            elif isinstance(entry, URLPattern):
                yield prefix + str(entry.pattern)

    (api,) = [r for r in get_resolver().url_patterns if isinstance(r, URLResolver) and r.namespace == "api"]
    return set(walk(api.url_patterns, ""))


def test_every_api_address_that_can_reach_a_bid_is_in_the_matrix():
    routes = _api_routes()
    reaching = {route for route in routes if any(word in route for word in BID_WORDS)}
    missing = reaching - COVERED
    assert not missing, (
        f"API addresses that can reach a bid are not in the sealed-bids matrix: {sorted(missing)}. Add them to "
        "this module (and, if they serve sealed content, log each refusal with "
        "opening_services.sealed_access_refused, as the web views do)."
    )
    assert routes >= COVERED, sorted(COVERED - routes)
