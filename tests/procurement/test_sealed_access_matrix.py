"""The access matrix of sealed bids: every role × every way to reach a bid, before the opening.

Nothing sealed may be readable by anyone — other vendors, the bidder itself, officers of the agency or of
another agency, committee members, approvers, auditors, administrators in the admin, the public — and every
attempt on sealed content (envelope pages, document downloads, the opening-record export, the admin's
pages of a sealed bid) is refused and written to the audit log. After the opening the same routes give the
content to those entitled, which proves the matrix would see a leak.
"""

from __future__ import annotations

import itertools
from unittest import mock

import pytest
from django.urls import reverse

from accounts.roles import Role
from audit.models import AuditEvent
from procurement import bid_services, opening_services
from procurement.models import BidFile
from tests.accounts.factories import UserFactory
from tests.procurement import bid_factories as bf
from tests.procurement.factories import AgencyFactory

pytestmark = pytest.mark.django_db

CANARIES = [
    "987654.32",
    "98765432",
    "CANARY-LINE-51c2",
    "CANARY-ANSWER-9e0d",
    "CANARY-DOC-77aa",
    "CANARY-TITLE-e4f0",
    "CANARY-NAME-0c1d",
]


def _body(response) -> bytes:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content)
    return response.content


def _assert_no_canary(response, who: str, route: str) -> None:
    body = _body(response)
    for canary in CANARIES:
        assert canary.encode() not in body, f"{who} read {canary!r} through {route}"


@pytest.fixture
def sealed_world():
    tender, members, _recovery = bf.published_tender()
    vendor, bidder_admin = bf.bidder()
    bid = bid_services.bid_start(actor=bidder_admin, tender=tender)
    bid_services.bid_save_draft(
        actor=bidder_admin,
        bid=bid,
        data=bf.draft_data(tender, price="987654.32", description="CANARY-LINE-51c2", answer="CANARY-ANSWER-9e0d"),
    )
    bid_services.bid_file_add(
        actor=bidder_admin,
        bid=bid,
        uploaded_file=bf.document(b"%PDF-1.7\nCANARY-DOC-77aa\n%%EOF\n", name="CANARY-NAME-0c1d.pdf"),
        title="CANARY-TITLE-e4f0",
    )
    receipt = bid_services.bid_submit(actor=bidder_admin, bid=bid)
    bid.refresh_from_db()
    _other_vendor, other_admin = bf.bidder()
    bf.submitted_bid(tender, other_admin, price="5000.00")
    agency = tender.agency
    people = {
        "bidder itself": bidder_admin,
        "another bidder": other_admin,
        "a vendor that did not bid": bf.bidder()[1],
        "officer of the agency": UserFactory(agency=agency, roles=[Role.PROCUREMENT_OFFICER]),
        "officer of another agency": UserFactory(agency=AgencyFactory(), roles=[Role.PROCUREMENT_OFFICER]),
        "opening committee member": members[0],
        "another committee member": UserFactory(roles=[Role.COMMITTEE_MEMBER]),
        "approver": UserFactory(agency=agency, roles=[Role.APPROVER]),
        "auditor": UserFactory(roles=[Role.AUDITOR]),
        "administrator": UserFactory(is_staff=True, is_superuser=True, roles=[Role.ADMINISTRATOR]),
    }
    bid_file = BidFile.objects.get(bid=bid)
    envelope_ids = {e.kind: e.pk for e in bid.envelopes.all()}
    return {
        "tender": tender,
        "members": members,
        "bid": bid,
        "receipt": receipt,
        "file": bid_file,
        "envelopes": envelope_ids,
        "people": people,
    }


def _sealed_routes(world) -> dict[str, str]:
    """Routes that lead to sealed content: every one must be refused and logged before the opening."""
    tender, bid = world["tender"], world["bid"]
    return {
        "technical envelope page": reverse("procurement:opened_envelope", args=[tender.pk, bid.pk, "technical"]),
        "financial envelope page": reverse("procurement:opened_envelope", args=[tender.pk, bid.pk, "financial"]),
        "document download": reverse("procurement:opened_bid_file", args=[tender.pk, bid.pk, world["file"].label]),
        "opening record export": reverse("procurement:opening_record_csv", args=[tender.pk]),
        "admin bid page": reverse("admin:procurement_bid_change", args=[bid.pk]),
        "admin envelope page": reverse("admin:procurement_bidenvelope_change", args=[world["envelopes"]["financial"]]),
        "admin document page": reverse("admin:procurement_bidfile_change", args=[world["file"].pk]),
    }


def _other_routes(world) -> dict[str, str]:
    """Routes about the bid that may be shown to some people, but never with sealed content."""
    tender, bid, receipt = world["tender"], world["bid"], world["receipt"]
    return {
        "bid page": reverse("procurement:bid_detail", args=[bid.pk]),
        "bid edit page": reverse("procurement:bid_edit", args=[bid.pk]),
        "my bids": reverse("procurement:bid_list"),
        "receipt page": reverse("procurement:bid_receipt", args=[receipt.number]),
        "receipt PDF": reverse("procurement:bid_receipt_pdf", args=[receipt.number]),
        "bid register": reverse("procurement:bid_register", args=[tender.pk]),
        "opening ceremony": reverse("procurement:opening_ceremony", args=[tender.pk]),
        "tender page": reverse("procurement:tender_detail", args=[tender.pk]),
        "public tender page": tender.get_public_url(),
        "admin bid list": reverse("admin:procurement_bid_changelist"),
        "admin envelope list": reverse("admin:procurement_bidenvelope_changelist"),
        "admin document list": reverse("admin:procurement_bidfile_changelist"),
        "admin receipt list": reverse("admin:procurement_bidreceipt_changelist"),
        "audit log": reverse("audit:event_list"),
        "latest audit event": reverse(
            "audit:event_detail", args=[AuditEvent.objects.order_by("-sequence")[0].sequence]
        ),
        "evaluation matrix CSV": reverse("procurement:evaluation_matrix_csv", args=[tender.pk]),
        "evaluation matrix XLSX": reverse("procurement:evaluation_matrix_xlsx", args=[tender.pk]),
        "evaluation report": reverse("procurement:evaluation_report_pdf", args=[tender.pk]),
        "opening record": reverse("procurement:opening_record", args=[tender.pk]),
    }


def _refusals() -> int:
    return AuditEvent.objects.filter(action="bid.sealed_access_refused").count()


def test_nobody_reads_a_sealed_bid_and_every_attempt_is_logged(client, sealed_world):
    routes = _sealed_routes(sealed_world)
    for (who, person), (route, url) in itertools.product(sealed_world["people"].items(), routes.items()):
        client.force_login(person)
        before = _refusals()
        response = client.get(url)
        assert response.status_code in (302, 403, 404), f"{who} got {response.status_code} on {route}"
        if response.status_code == 302:
            assert "/admin/login" in response["Location"] or "sign-in" in response["Location"], (who, route)
        _assert_no_canary(response, who, route)
        if response.status_code != 302:
            assert _refusals() == before + 1, f"{who}'s attempt on {route} was not logged"
        client.logout()


def test_the_public_reads_nothing_sealed(client, sealed_world):
    for route, url in {**_sealed_routes(sealed_world), **_other_routes(sealed_world)}.items():
        response = client.get(url)
        assert response.status_code in (200, 302, 403, 404), route
        _assert_no_canary(response, "anonymous", route)


def test_pages_about_a_sealed_bid_show_no_content(client, sealed_world):
    routes = _other_routes(sealed_world)
    for (who, person), (route, url) in itertools.product(sealed_world["people"].items(), routes.items()):
        client.force_login(person)
        response = client.get(url)
        assert response.status_code in (200, 302, 403, 404), f"{who} got {response.status_code} on {route}"
        _assert_no_canary(response, who, route)
        client.logout()


def test_other_vendors_do_not_even_see_the_bid(client, sealed_world):
    bid = sealed_world["bid"]
    for who in ("another bidder", "a vendor that did not bid"):
        client.force_login(sealed_world["people"][who])
        for name in ("procurement:bid_detail", "procurement:bid_edit"):
            assert client.get(reverse(name, args=[bid.pk])).status_code in (403, 404), (who, name)
        receipt = sealed_world["receipt"]
        for name in ("procurement:bid_receipt", "procurement:bid_receipt_pdf"):
            assert client.get(reverse(name, args=[receipt.number])).status_code in (403, 404), (who, name)


def test_after_the_opening_the_entitled_read_the_technical_envelope(client, sealed_world):
    """The control: the same route does show the canaries once two members have opened the bids."""
    tender, members, bid = sealed_world["tender"], sealed_world["members"], sealed_world["bid"]
    with mock.patch("procurement.tender_services._now", return_value=bf.past_deadline(tender)):
        opening_services.opening_confirm(actor=members[0], tender=tender, password=bf.PASSWORD)
        opening_services.opening_confirm(actor=members[1], tender=tender, password=bf.PASSWORD)
    client.force_login(members[2])
    response = client.get(reverse("procurement:opened_envelope", args=[tender.pk, bid.pk, "technical"]))
    assert response.status_code == 200
    assert b"CANARY-ANSWER-9e0d" in response.content
    assert b"CANARY-TITLE-e4f0" in response.content  # the document's name, unsealed with it
    response = client.get(reverse("procurement:opened_bid_file", args=[tender.pk, bid.pk, sealed_world["file"].label]))
    assert response.status_code == 200
    assert b"CANARY-DOC-77aa" in _body(response)
    # The financial envelope of a quality- and cost-based tender stays sealed after the technical opening.
    before = _refusals()
    response = client.get(reverse("procurement:opened_envelope", args=[tender.pk, bid.pk, "financial"]))
    assert response.status_code in (403, 404)
    assert b"987654.32" not in response.content
    assert _refusals() == before + 1
    # Another vendor still reads nothing of it.
    client.force_login(sealed_world["people"]["another bidder"])
    response = client.get(reverse("procurement:opened_envelope", args=[tender.pk, bid.pk, "technical"]))
    assert response.status_code in (403, 404)
    _assert_no_canary(response, "another bidder", "technical envelope after opening")
