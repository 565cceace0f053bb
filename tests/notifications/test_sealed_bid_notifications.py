"""The notifications of sealed bids and their opening: every kind the services create renders in English and in
Arabic with the details they store, and each leads its reader to the page it is about."""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.core import mail
from django.urls import reverse
from django.utils import translation

from accounts.roles import Role
from notifications.models import Notification
from notifications.tasks import send_notification_email
from procurement.models import Bid
from tests.accounts.factories import UserFactory
from tests.procurement.factories import PhaseFactory
from tests.procurement.tender_factories import TenderFactory
from tests.vendors.factories import verified_vendor

pytestmark = pytest.mark.django_db

RECEIPT = "5d0c2a5e-7f3b-4e1a-9c55-0a8f2b7c1d42"

# The kinds and details as opening_services and bid_services store them.
SEALED_BID_CONTEXTS = [
    ("opening.key_needed", {}),
    ("opening.awaiting_second", {"member": "Dr. Sara Al-Mutairi"}),
    ("tender.bids_opened", {"count": 3}),
    ("bid.submitted", {"version": 1, "receipt": RECEIPT}),
    ("bid.modified", {"version": 2, "receipt": RECEIPT}),
    ("bid.reconfirmed", {"version": 2, "receipt": RECEIPT}),
    ("bid.withdrawn", {"version": 2, "receipt": RECEIPT}),
    ("bid.needs_reconfirmation", {"number": 4}),
]
IDS = [kind for kind, _ in SEALED_BID_CONTEXTS]


@pytest.fixture
def tender(programme, officer):
    return TenderFactory(phase=PhaseFactory(programme=programme), created_by=officer)


@pytest.fixture
def member(db):
    return UserFactory(roles=[Role.COMMITTEE_MEMBER], preferred_language="en")


@pytest.mark.parametrize(("kind", "context"), SEALED_BID_CONTEXTS, ids=IDS)
@pytest.mark.parametrize("language", ["en", "ar"])
def test_every_sealed_bid_notification_renders_with_its_details(kind, context, language, member, tender):
    notification = Notification.objects.create(recipient=member, kind=kind, tender=tender, context=context)

    with translation.override(language):
        subject, body = notification.subject, notification.body

    assert subject != kind, "the kind has a message of its own"
    assert "%(" not in subject + body and "%s" not in subject + body
    assert tender.reference in subject
    assert tender.reference in body
    for value in context.values():
        assert str(value) in body


@pytest.mark.parametrize(("kind", "context"), SEALED_BID_CONTEXTS, ids=IDS)
def test_each_is_e_mailed_in_the_readers_language(kind, context, tender):
    reader = UserFactory(roles=[Role.COMMITTEE_MEMBER], preferred_language="ar")
    notification = Notification.objects.create(recipient=reader, kind=kind, tender=tender, context=context)

    send_notification_email.enqueue(notification.pk)

    [message] = mail.outbox
    assert tender.reference in message.subject
    assert tender.title_ar in message.subject


def test_a_missing_detail_reads_as_empty_rather_than_failing(member, tender):
    notification = Notification.objects.create(recipient=member, kind="bid.withdrawn", tender=tender, context={})
    assert tender.reference in notification.body
    assert not re.search(r"%\(\w+\)s", notification.body)


# Where they lead -----------------------------------------------------------------------------------


def test_bid_notifications_lead_the_vendors_people_to_their_bid(tender):
    vendor, administrator = verified_vendor()
    earlier = Bid.objects.create(tender=tender, vendor=vendor, created_by=administrator)
    Bid.objects.filter(pk=earlier.pk).update(status="withdrawn")
    latest = Bid.objects.create(tender=tender, vendor=vendor, created_by=administrator)
    notification = Notification.objects.create(
        recipient=administrator, kind="bid.submitted", tender=tender, context={"version": 1, "receipt": RECEIPT}
    )

    assert notification.link == reverse("procurement:bid_detail", args=[latest.pk])


def test_a_bid_notification_without_a_bid_falls_back_on_the_tender(reader_vendor, tender):
    notification = Notification.objects.create(
        recipient=reader_vendor, kind="bid.needs_reconfirmation", tender=tender, context={"number": 1}
    )
    assert notification.link == tender.get_public_url()


@pytest.fixture
def reader_vendor(db):
    return UserFactory(roles=[Role.VENDOR_USER], preferred_language="en")


def test_the_second_member_is_sent_to_the_opening_ceremony(member, tender):
    notification = Notification.objects.create(
        recipient=member, kind="opening.awaiting_second", tender=tender, context={"member": "A"}
    )
    assert notification.link == reverse("procurement:opening_ceremony", args=[tender.pk])


def test_the_opening_notice_leads_to_the_opening_record(member, officer, tender):
    for recipient in (member, officer):
        notification = Notification.objects.create(
            recipient=recipient, kind="tender.bids_opened", tender=tender, context={"count": 2}
        )
        assert notification.link == reverse("procurement:opening_record", args=[tender.pk])


def test_the_e_mail_carries_the_full_link(member, tender):
    notification = Notification.objects.create(
        recipient=member, kind="tender.bids_opened", tender=tender, context={"count": 2}
    )
    send_notification_email.enqueue(notification.pk)
    [message] = mail.outbox
    assert message.body.endswith(f"{settings.SITE_URL}{reverse('procurement:opening_record', args=[tender.pk])}")
