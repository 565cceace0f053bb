"""Sealed-bid fixtures: opening committees with personal keys, published tenders with a real sealing key,
verified bidders, and bids taken through the real services."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from accounts.roles import Role
from procurement import bid_services, tender_services
from procurement.models import Tender
from tests.accounts.factories import UserFactory
from tests.procurement.tender_factories import keyed_committee_member, make_pending, ready_tender, with_committee
from tests.vendors.factories import verified_vendor

PASSWORD = "correct-horse-battery"  # the UserFactory's password


#: A committee member with a personal key (password ``PASSWORD``), and a tender's committee of them.
committee_member = keyed_committee_member
with_opening_committee = with_committee


def published_tender(*, approver=None, **kwargs) -> tuple[Tender, list, str]:
    """A tender published through the real approval (so it has a sealing key).

    Returns the tender, its three opening-committee members and the recovery share.
    """
    tender = ready_tender(**kwargs)
    members = [seat.user for seat in tender.opening_committee.select_related("user").order_by("id")]
    make_pending(tender)
    approver = approver or UserFactory(agency=tender.agency, roles=[Role.APPROVER], preferred_language="en")
    tender = tender_services.tender_approve(actor=approver, tender=tender)
    return tender, members, tender.recovery_share


def bidder(**kwargs):
    """A verified vendor with current documents, and its administrator."""
    return verified_vendor(**kwargs)


def document(content: bytes = b"%PDF-1.7\nCANARY-DOCUMENT-CONTENT\n%%EOF\n", name: str = "offer.pdf"):
    return SimpleUploadedFile(name, content, content_type="application/pdf")


def draft_data(tender: Tender, *, price: str = "1000.00", description: str = "Routers", answer: str = "Our approach"):
    return {
        "answers": {str(c.pk): f"{answer} ({c.name_en})" for c in tender.criteria.all()},
        "total_price": price,
        "currency": tender.currency,
        "validity_days": "90",
        "lines": [{"description": description, "quantity": "1", "unit": "lot", "unit_price": price}],
        "consortium": [],
    }


def submitted_bid(
    tender: Tender,
    vendor_admin,
    *,
    price: str = "1000.00",
    description: str = "Routers",
    answer: str = "Our approach",
    content: bytes | None = None,
):
    """A bid drafted, given a document and submitted through the services; returns (bid, receipt)."""
    bid = bid_services.bid_start(actor=vendor_admin, tender=tender)
    bid_services.bid_save_draft(
        actor=vendor_admin, bid=bid, data=draft_data(tender, price=price, description=description, answer=answer)
    )
    bid_services.bid_file_add(
        actor=vendor_admin, bid=bid, uploaded_file=document(content) if content else document(), title="Offer"
    )
    receipt = bid_services.bid_submit(actor=vendor_admin, bid=bid)
    bid.refresh_from_db()
    return bid, receipt


def past_deadline(tender: Tender, *, seconds: int = 1) -> datetime.datetime:
    """A clock reading just after the tender's submission deadline."""
    return tender.submission_deadline + datetime.timedelta(seconds=seconds)


def money(value: str) -> Decimal:
    return Decimal(value)


__all__ = ["timezone"]


# Helpers for the sealed-bid service tests (opening, canary, deadline race) ------------------------


def clock(moment: datetime.datetime):
    """Move the one server clock (``tender_services._now``) to ``moment``; a context manager."""
    from unittest import mock

    return mock.patch("procurement.tender_services._now", return_value=moment)


def audit_events(action: str, **filters) -> list:
    """The audit events with this action (and these field values), oldest first."""
    from audit.models import AuditEvent

    return list(AuditEvent.objects.filter(action=action, **filters).order_by("sequence"))


def read_stored(field_file) -> bytes:
    """The bytes of a stored file (a FileField's file), read from the storage."""
    field_file.open("rb")
    try:
        return field_file.read()
    finally:
        field_file.close()


def sha256_hex(data: bytes) -> str:
    import hashlib

    return hashlib.sha256(data).hexdigest()


def open_bids(tender: Tender, members: list, *, seconds: int = 1):
    """The opening ceremony after the deadline: two distinct members confirm; returns the completed opening."""
    from procurement import opening_services

    with clock(past_deadline(tender, seconds=seconds)):
        opening_services.opening_confirm(actor=members[0], tender=tender, password=PASSWORD)
        return opening_services.opening_confirm(actor=members[1], tender=tender, password=PASSWORD)


def material_addendum(tender: Tender, *, title: str = "Bill of quantities"):
    """Issue an addendum with a new document (material: submitted bids must be re-confirmed)."""
    from tests.procurement.tender_factories import pdf_upload

    return tender_services.addendum_create(
        actor=tender.created_by,
        tender=tender,
        data={"summary_en": "A new annex.", "summary_ar": "ملحق جديد."},
        files=[(title, pdf_upload("annex.pdf"))],
    )


# Helpers for the evaluation and award tests ------------------------------------------------------


def evaluation_member(**kwargs):
    """A committee member who may sit on an evaluation committee (no personal key: they open nothing)."""
    return UserFactory(roles=[Role.COMMITTEE_MEMBER], preferred_language="en", **kwargs)


def evaluation_ready(
    *,
    prices: tuple[str, ...] = ("1000.00", "1200.00", "1400.00"),
    committee: int = 3,
    quorum: int = 3,
    start: bool = True,
    **tender_kwargs,
):
    """A published tender with one bid per price (each from its own verified bidder), opened by two members
    of its opening committee, an evaluation committee of ``committee`` people (the first chairs it) and, if
    ``start``, the evaluation started by the tender's officer.

    Returns a namespace: ``tender``, ``opening`` (the opening committee), ``officer``, ``chair``,
    ``members`` (the evaluation committee, chair first), ``bids``, ``vendors``, ``admins`` (each bidder's
    administrator), ``criteria`` (in their published order). The clock is left where it was.
    """
    from types import SimpleNamespace

    from procurement import evaluation_services

    tender, opening, _recovery = published_tender(evaluation_quorum=quorum, **tender_kwargs)
    vendors, admins, bids = [], [], []
    for number, price in enumerate(prices, start=1):
        vendor, admin = bidder()
        bid, _receipt = submitted_bid(tender, admin, price=price, answer=f"Approach {number}")
        vendors.append(vendor)
        admins.append(admin)
        bids.append(bid)
    open_bids(tender, opening)
    tender.refresh_from_db()
    officer = tender.created_by
    evaluators = [evaluation_member() for _ in range(committee)]
    with clock(past_deadline(tender, seconds=60)):
        for number, user in enumerate(evaluators):
            evaluation_services.evaluation_member_add(actor=officer, tender=tender, user=user, is_chair=number == 0)
        if start:
            evaluation_services.evaluation_start(actor=officer, tender=tender)
    tender.refresh_from_db()
    for bid in bids:
        bid.refresh_from_db()
    return SimpleNamespace(
        tender=tender,
        opening=opening,
        officer=officer,
        chair=evaluators[0] if evaluators else None,
        members=evaluators,
        bids=bids,
        vendors=vendors,
        admins=admins,
        criteria=list(tender.criteria.order_by("order", "pk")),
    )
