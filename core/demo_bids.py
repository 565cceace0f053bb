"""Demo sealed bids, run through the real services: personal keys for the opening committee, draft and
submitted bids on the open tenders, and a tender past its deadline whose bids two members have opened.

The bids on the opened tender had to be submitted before its deadline, which is in the past: they are submitted
with the services' one clock (``tender_services._now``) set back to a day when the tender was open, the way
``demo_tenders`` prepares its older tenders. Nothing in the services is patched otherwise; the opening itself
happens at the real time, after the deadline, with the two members' demo password.
"""

from __future__ import annotations

import datetime
from unittest import mock

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone

from accounts import keys
from accounts.models import User
from core.demo_data import DEMO_PASSWORD
from core.demo_pdf import simple_pdf
from core.demo_tenders import CRITERIA, name_committee, tender_data, tender_document
from procurement import bid_services, opening_services
from procurement import tender_services as services
from procurement.models import Bid, Phase, Tender
from vendors.models import Vendor

#: The demo's opening committee (named to every demo tender), in the order they confirm openings.
COMMITTEE = ["committee@demo.gov", "committee2@demo.gov", "committee3@demo.gov"]
#: Everyone who gets a personal key: the committee, and the officers, who may also sit on their agency's committees.
KEY_HOLDERS = [*COMMITTEE, "officer@demo.gov", "officer2@demo.gov"]

PORTAL = "Unified government portal — platform and migration of 200 services"
SERVICE_BUS = "Government service bus — design, build and operate (PPP)"

# tender title, bidder's e-mail, final state, total price (SAR), what they offer
OPEN_BIDS = [
    (PORTAL, "vendor@demo.gov", "submitted", "91450000.00", "Portal platform, migration of 200 services, 5 years"),
    (PORTAL, "vendor6@demo.gov", "submitted", "94800000.00", "Portal platform and content migration"),
    (PORTAL, "vendor5@demo.gov", "draft", "88900000.00", "Cloud-hosted portal platform"),
    (SERVICE_BUS, "vendor5@demo.gov", "submitted", "139750000.00", "Service bus, 40 agency connectors, operation"),
]

OPENED = {
    "phase": 2,
    "title_en": "Managed hosting of the government service bus in a government data centre",
    "title_ar": "الاستضافة المُدارة لناقل الخدمات الحكومي في مركز بيانات حكومي",
    "category": "services",
    "value": "27500000",
}
OPENED_BIDS = [
    ("vendor@demo.gov", "26900000.00", "Managed hosting, two sites, 99.95% availability"),
    ("vendor5@demo.gov", "25400000.00", "Managed hosting with disaster recovery site"),
    ("vendor6@demo.gov", "27350000.00", "Hosting, monitoring and security operations"),
]


def _user(email: str) -> User:
    return User.objects.get(email=email)


def seed_demo_keys() -> int:
    """Give each key holder a personal key (locked by the demo password); return how many were made."""
    made = 0
    for email in KEY_HOLDERS:
        user = User.objects.filter(email=email).first()
        if user is not None and keys.active_key(user) is None:
            keys.personal_key_create(user=user, password=DEMO_PASSWORD)
            made += 1
    return made


def demo_committee() -> list[User]:
    return [_user(email) for email in COMMITTEE]


def _offer(title: str, bidder: str) -> SimpleUploadedFile:
    content = simple_pdf(["Technical offer", "", f"Tender: {title}", f"Bidder: {bidder}", "Demo document"])
    return SimpleUploadedFile("technical-offer.pdf", content, content_type="application/pdf")


def _draft(tender: Tender, *, price: str, offer: str) -> dict:
    return {
        "answers": {
            str(c.pk): f"{offer}. Our answer on “{c.name_en}” is set out in the technical offer."
            for c in tender.criteria.all()
        },
        "total_price": price,
        "currency": tender.currency,
        "validity_days": "120",
        "lines": [{"description": offer, "quantity": "1", "unit": "lot", "unit_price": price}],
        "consortium": [],
    }


def make_bid(tender: Tender, email: str, *, state: str, price: str, offer: str) -> Bid:
    """Draft the bid, attach its technical offer and (unless it stays a draft) submit it, through the services."""
    actor = _user(email)
    bid = bid_services.bid_start(actor=actor, tender=tender)
    bid_services.bid_save_draft(actor=actor, bid=bid, data=_draft(tender, price=price, offer=offer))
    bid_services.bid_file_add(
        actor=actor, bid=bid, uploaded_file=_offer(tender.reference, bid.vendor.legal_name_en), title="Technical offer"
    )
    if state == "submitted":
        bid_services.bid_submit(actor=actor, bid=bid)
    return bid


def _has_bid(tender: Tender, email: str) -> bool:
    vendor = Vendor.objects.filter(memberships__user__email=email).first()
    return vendor is None or Bid.objects.filter(tender=tender, vendor=vendor).exists()


def _seed_open_bids() -> int:
    made = 0
    for title, email, state, price, offer in OPEN_BIDS:
        tender = Tender.objects.filter(title_en=title).first()
        if tender is None or _has_bid(tender, email):
            continue
        with transaction.atomic():
            make_bid(tender, email, state=state, price=price, offer=offer)
        made += 1
    return made


def _seed_opened_tender(*, programme, officer, approver, committee) -> int:
    """A tender whose deadline has passed: bids submitted while it was open, then opened by two members."""
    if Tender.objects.filter(title_en=OPENED["title_en"]).exists():
        return 0
    now = timezone.now()
    start = now - datetime.timedelta(days=50)
    while_open = start + datetime.timedelta(days=3)
    phase = Phase.objects.get(programme=programme, order=OPENED["phase"])
    with transaction.atomic():
        with mock.patch.object(services, "_now", return_value=start):
            tender = services.tender_create(
                actor=officer,
                phase=phase,
                data=tender_data(OPENED["title_en"], OPENED["title_ar"], OPENED["category"], OPENED["value"], start),
                criteria=CRITERIA,
            )
            services.tender_document_add(
                actor=officer,
                tender=tender,
                uploaded_file=tender_document("Terms of reference", tender.reference),
                title="Terms of reference",
            )
            name_committee(officer=officer, tender=tender, committee=committee)
            services.tender_submit_for_approval(actor=officer, tender=tender)
            services.tender_approve(actor=approver, tender=tender)  # the recovery share is discarded
        with mock.patch.object(services, "_now", return_value=while_open):
            for email, price, offer in OPENED_BIDS:
                make_bid(tender, email, state="submitted", price=price, offer=offer)
        # Now, at the real time and after the deadline: the first member confirms, the second opens.
        opening_services.opening_confirm(actor=committee[0], tender=tender, password=DEMO_PASSWORD)
        opening_services.opening_confirm(actor=committee[1], tender=tender, password=DEMO_PASSWORD)
    return len(OPENED_BIDS)


def seed_demo_bids(*, programme, officer, approver, committee) -> int:
    """Create the demo bids that do not exist yet; return how many were created."""
    made = _seed_open_bids()
    made += _seed_opened_tender(programme=programme, officer=officer, approver=approver, committee=committee)
    return made
