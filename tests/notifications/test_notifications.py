"""Notifications: the in-app list of each person, and the same message e-mailed once, after the
commit, in the recipient's language."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.core import mail
from django.db import transaction

from accounts.roles import Role
from notifications.models import Notification
from notifications.services import notification_mark_read, notify
from notifications.tasks import send_notification_email
from tests.accounts.factories import UserFactory
from tests.procurement.factories import PhaseFactory
from tests.procurement.tender_factories import TenderFactory

pytestmark = pytest.mark.django_db

REASON = {"reason": "The budget was withdrawn."}


@pytest.fixture
def tender(programme, officer):
    return TenderFactory(phase=PhaseFactory(programme=programme), created_by=officer)


@pytest.fixture
def reader():
    return UserFactory(email="reader@example.gov", roles=[Role.VENDOR_USER], preferred_language="en")


def cancelled(recipient, **kwargs) -> Notification:
    """A cancellation notice, as tender_cancel leaves it."""
    kwargs.setdefault("kind", "tender.cancelled")
    kwargs.setdefault("context", dict(REASON))
    return Notification.objects.create(recipient=recipient, **kwargs)


# Creating them -----------------------------------------------------------------------------------


def test_notify_tells_each_active_person_once(reader, officer, tender):
    gone = UserFactory(is_active=False)

    created = notify(recipients=[reader, None, officer, reader, gone], kind="tender.published", tender=tender)

    assert [n.recipient for n in created] == [reader, officer]
    assert set(Notification.objects.values_list("recipient_id", flat=True)) == {reader.pk, officer.pk}
    assert all(n.tender == tender and n.kind == "tender.published" and n.read_at is None for n in created)


def test_the_context_is_kept_for_rendering_later(reader, tender):
    [notification] = notify(recipients=[reader], kind="tender.cancelled", tender=tender, context={"reason": "R"})
    notification.refresh_from_db()
    assert notification.context == {"reason": "R"}


def test_e_mails_are_queued_only_when_the_transaction_commits(reader, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        notify(recipients=[reader], kind="tender.cancelled", context=REASON)

    assert len(callbacks) == 1
    assert mail.outbox == []
    callbacks[0]()
    assert [m.to for m in mail.outbox] == [[reader.email]]


def test_nobody_to_tell_queues_nothing(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        assert notify(recipients=[], kind="tender.published") == []
    assert callbacks == []


def test_a_rolled_back_transaction_leaves_no_notification_and_sends_nothing(reader, django_capture_on_commit_callbacks):
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        notify(recipients=[reader], kind="tender.cancelled", context=REASON)
        raise RuntimeError("the service failed after notifying")

    assert callbacks == []
    assert not Notification.objects.exists()
    assert mail.outbox == []


# The in-app list ---------------------------------------------------------------------------------


def test_a_person_sees_only_their_own_unread_notifications_newest_first(reader, officer, tender):
    older = cancelled(reader)
    newer = cancelled(reader)
    cancelled(officer)
    read = cancelled(reader)
    notification_mark_read(user=reader, notification_ids=[read.pk])

    assert list(Notification.objects.for_user(reader).unread()) == [newer, older]
    assert list(Notification.objects.for_user(reader)) == [read, newer, older]


def test_marking_as_read_touches_only_ones_own_notifications(reader, officer):
    mine = cancelled(reader)
    theirs = cancelled(officer)

    count = notification_mark_read(user=reader, notification_ids=[mine.pk, theirs.pk])

    assert count == 1
    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert mine.read_at is not None
    assert theirs.read_at is None
    assert notification_mark_read(user=reader, notification_ids=[mine.pk]) == 0


# The e-mail --------------------------------------------------------------------------------------


def test_the_e_mail_task_sends_once_and_records_when(reader):
    notification = cancelled(reader)

    first = send_notification_email.enqueue(notification.pk)
    notification.refresh_from_db()
    emailed_at = notification.emailed_at
    second = send_notification_email.enqueue(notification.pk)

    assert (first.status, second.status) == ("SUCCESSFUL", "SUCCESSFUL")
    assert emailed_at is not None
    notification.refresh_from_db()
    assert notification.emailed_at == emailed_at
    [message] = mail.outbox
    assert message.to == [reader.email]
    assert message.from_email == settings.NOTIFICATIONS_FROM_EMAIL
    assert message.subject == notification.subject
    assert "The budget was withdrawn." in message.body


def test_an_already_e_mailed_notification_is_not_sent_again(reader):
    notification = cancelled(reader)
    send_notification_email.enqueue(notification.pk)
    mail.outbox.clear()

    send_notification_email.enqueue(notification.pk)

    assert mail.outbox == []


def test_the_e_mail_links_to_the_page_on_the_site(reader, tender):
    notification = cancelled(reader, tender=tender)

    send_notification_email.enqueue(notification.pk)

    [message] = mail.outbox
    assert message.body.endswith(f"\n\n{settings.SITE_URL}{tender.get_public_url()}")
    assert tender.reference in message.subject


def test_an_english_speaking_person_gets_the_english_wording(reader, tender):
    notification = cancelled(reader, tender=tender)

    send_notification_email.enqueue(notification.pk)

    assert mail.outbox[0].subject == f"Tender {tender.reference} — {tender.title_en} was cancelled"


def test_an_arabic_speaking_person_gets_the_arabic_wording(tender):
    arabic_reader = UserFactory(roles=[Role.VENDOR_USER], preferred_language="ar")
    notification = cancelled(arabic_reader, tender=tender)

    send_notification_email.enqueue(notification.pk)

    subject = mail.outbox[0].subject
    assert tender.title_ar in subject
    assert "was cancelled" not in subject


# Rendering what the services really store --------------------------------------------------------

SERVICE_CONTEXTS = [
    ("tender.submitted", {}),
    ("tender.published", {}),
    ("tender.returned", {"comments": "Extend the deadline."}),
    ("tender.closed", {}),
    ("tender.cancelled", {"reason": "The budget was withdrawn."}),
    ("tender.unsuccessful", {"reason": "No bids."}),
    ("clarification.asked", {"number": 1}),
    ("clarification.answered", {"number": 1}),
    ("addendum.pending_approval", {"number": 2}),
    ("addendum.issued", {"number": 2}),
]


@pytest.mark.parametrize(("kind", "context"), SERVICE_CONTEXTS, ids=[kind for kind, _ in SERVICE_CONTEXTS])
def test_every_notification_the_services_create_can_be_rendered(kind, context, reader, tender):
    notification = Notification.objects.create(recipient=reader, kind=kind, tender=tender, context=context)

    assert tender.reference in notification.subject
    assert tender.reference in notification.body
    for value in context.values():
        assert str(value) in notification.body


def test_staff_are_sent_to_the_internal_page_and_vendors_to_the_public_one(reader, officer, tender):
    for_officer = cancelled(officer, tender=tender)
    for_vendor = cancelled(reader, tender=tender)

    assert for_officer.link == tender.get_absolute_url()
    assert for_vendor.link == tender.get_public_url()
    assert for_officer.link != for_vendor.link
