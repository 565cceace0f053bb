"""The desk's full cycle through its services: received → assigned → answered → closed, reopening within the
period, the e-mails to the sender in their language, who may act, and the audit trail."""

from __future__ import annotations

import datetime

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import override_settings
from django.utils import timezone

from audit.models import AuditEvent
from core.exceptions import ActionRefused
from desk import services
from desk.models import DeskEntry, DeskItem, EntryKind, ItemStatus, TrackingKey
from tests.desk.conftest import tracking_path
from tests.desk.factories import submit

pytestmark = pytest.mark.django_db


def test_received_item_has_reference_due_time_hashed_key_and_audit(agency, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        item, key = submit(agency=agency, kind="complaint")
    assert item.status == ItemStatus.RECEIVED
    assert item.reference == f"DSK-{item.received_at.year}-{item.pk:06d}"
    assert item.due_at == item.received_at + datetime.timedelta(hours=48)
    assert len(key) >= 43
    # Only the key's hash is kept; the key is in no table and no audit payload.
    assert TrackingKey.objects.get(item=item).key_hash == services.key_digest(key)
    assert not TrackingKey.objects.filter(key_hash=key).exists()
    event = AuditEvent.objects.get(action="desk.item_received")
    assert event.object_id == str(item.pk) and event.agency_id == agency.pk
    assert key not in str(event.payload)
    # The acknowledgement carries the same private link.
    (email,) = mail.outbox
    assert email.to == [item.sender_email]
    assert item.reference in email.subject
    assert tracking_path(email.body) == f"/en/desk/track/{item.reference}/{key}/"


def test_full_cycle_with_answer_emailed_in_english(agency, officer, colleague, django_capture_on_commit_callbacks):
    item, _key = submit(agency=agency, language="en")
    item = services.item_assign(actor=officer, item=item, assignee=colleague)
    assert (item.status, item.assigned_to) == (ItemStatus.ASSIGNED, colleague)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        item = services.item_answer(actor=colleague, item=item, answer="Use the Licences page, then Renew.")
    assert item.status == ItemStatus.ANSWERED and item.first_answered_at == item.answered_at
    (email,) = mail.outbox
    assert email.extra_headers["Content-Language"] == "en"
    assert "Answer to your message" in email.subject
    assert "Use the Licences page, then Renew." in email.body
    assert "Reference: " + item.reference in email.body
    # A fresh link in the answer e-mail, which works like the first one.
    link = tracking_path(email.body)
    assert link.startswith("/en/desk/track/")
    assert services.item_for_tracking(item.reference, link.rstrip("/").rsplit("/", 1)[1]) == item
    item = services.item_close(actor=officer, item=item)
    assert item.status == ItemStatus.CLOSED
    kinds = list(DeskEntry.objects.filter(item=item).values_list("kind", flat=True))
    assert kinds == [EntryKind.RECEIVED, EntryKind.ASSIGNED, EntryKind.ANSWERED, EntryKind.CLOSED]
    actions = list(
        AuditEvent.objects.filter(object_type="desk.deskitem", object_id=str(item.pk))
        .order_by("sequence")
        .values_list("action", "payload__source", "payload__target")
    )
    assert actions == [
        ("desk.item_received", "", "received"),
        ("desk.item_assigned", "received", "assigned"),
        ("desk.item_answered", "assigned", "answered"),
        ("desk.item_closed", "answered", "closed"),
    ]


def test_answer_emailed_in_arabic_to_an_arabic_sender(agency, officer, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        item, _key = submit(agency=agency, language="ar", subject="تجديد الترخيص")
    (acknowledgement,) = mail.outbox
    assert acknowledgement.extra_headers["Content-Language"] == "ar"
    assert "الرقم المرجعي" in acknowledgement.body  # "Reference", from the Arabic catalogue
    assert tracking_path(acknowledgement.body).startswith("/ar/desk/track/")
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.item_answer(actor=officer, item=item, answer="يمكنك التجديد من صفحة التراخيص.")
    (answer,) = mail.outbox
    assert answer.extra_headers["Content-Language"] == "ar"
    assert "الإجابة" in answer.body and "يمكنك التجديد من صفحة التراخيص." in answer.body
    assert tracking_path(answer.body).startswith("/ar/desk/track/")
    assert "Reference" not in answer.body


def test_answering_an_unassigned_item_assigns_it_to_the_answerer(item, officer):
    answered = services.item_answer(actor=officer, item=item[0], answer="Done.")
    assert answered.assigned_to == officer and answered.status == ItemStatus.ANSWERED
    assert AuditEvent.objects.filter(action="desk.item_assigned").count() == 1


def test_email_failure_does_not_undo_the_answer(item, officer, django_capture_on_commit_callbacks):
    with (
        override_settings(EMAIL_BACKEND="tests.desk.test_cycle.FailingBackend"),
        django_capture_on_commit_callbacks(execute=True),
    ):
        services.item_answer(actor=officer, item=item[0], answer="Kept despite the mail server.")
    assert DeskItem.objects.get().status == ItemStatus.ANSWERED


class FailingBackend:
    def __init__(self, *args, **kwargs):
        pass

    def send_messages(self, messages):
        raise ConnectionRefusedError("mail server down")


def test_reopen_within_the_period_returns_to_the_assigned_officer(item, officer):
    answered = services.item_answer(actor=officer, item=item[0], answer="Done.")
    reopened = services.item_reopen(item=answered, reason="The page you named does not exist.")
    assert reopened.status == ItemStatus.ASSIGNED and reopened.assigned_to == officer
    assert reopened.reopened_count == 1 and reopened.due_at > timezone.now()
    entry = DeskEntry.objects.filter(item=reopened).last()
    assert (entry.kind, entry.text) == (EntryKind.REOPENED, "The page you named does not exist.")
    event = AuditEvent.objects.filter(action="desk.item_reopened").get()
    assert event.actor_label == services.PUBLIC_ACTOR and event.payload["source"] == "answered"
    # Answered again: the first response time is kept, the new answer replaces the old one.
    first = reopened.first_answered_at
    again = services.item_answer(actor=officer, item=reopened, answer="Try the page Licences → Renew.")
    assert again.first_answered_at == first and again.answer == "Try the page Licences → Renew."
    # The officer who had it hears that it is back.
    from notifications.models import Notification

    assert Notification.objects.get(kind="desk.reopened").recipient == officer


def test_reopen_a_closed_item_without_an_assignee_returns_to_the_queue(item, officer):
    closed = services.item_close(actor=officer, item=item[0], note="Duplicate of DSK-2026-000001.")
    reopened = services.item_reopen(item=closed, reason="It is not a duplicate.")
    assert reopened.status == ItemStatus.RECEIVED and reopened.closed_at is None and reopened.closing_note == ""
    from notifications.models import Notification

    assert officer.pk in set(Notification.objects.filter(kind="desk.reopened").values_list("recipient_id", flat=True))


@override_settings(DESK_REOPEN_DAYS=14)
def test_reopen_after_the_period_is_refused(item, officer):
    answered = services.item_answer(actor=officer, item=item[0], answer="Done.")
    DeskItem.objects.filter(pk=answered.pk).update(answered_at=timezone.now() - datetime.timedelta(days=14, minutes=1))
    with pytest.raises(ActionRefused, match="period to reopen"):
        services.item_reopen(item=answered, reason="Too late?")
    assert DeskItem.objects.get(pk=answered.pk).status == ItemStatus.ANSWERED


def test_reopen_an_item_still_waiting_is_refused(item):
    with pytest.raises(ActionRefused):
        services.item_reopen(item=item[0], reason="Hello?")


def test_wrong_source_states_are_refused(item, officer):
    closed = services.item_close(actor=officer, item=item[0], note="Spam.")
    with pytest.raises(ActionRefused):
        services.item_answer(actor=officer, item=closed, answer="Late answer.")
    with pytest.raises(ActionRefused):
        services.item_assign(actor=officer, item=closed, assignee=officer)
    with pytest.raises(ActionRefused):
        services.item_close(actor=officer, item=closed, note="Again.")


def test_closing_without_an_answer_needs_a_note(item, officer):
    with pytest.raises(ValidationError) as error:
        services.item_close(actor=officer, item=item[0], note="  ")
    assert "note" in error.value.error_dict
    assert DeskItem.objects.get().status == ItemStatus.RECEIVED


def test_officer_of_another_agency_auditor_approver_and_vendor_cannot_act(
    item, other_officer, auditor, approver, vendor_user, administrator
):
    for outsider in (other_officer, auditor, approver, vendor_user, administrator):
        with pytest.raises(PermissionDenied):
            services.item_assign(actor=outsider, item=item[0], assignee=outsider)
        with pytest.raises(PermissionDenied):
            services.item_answer(actor=outsider, item=item[0], answer="Not mine to answer.")
        with pytest.raises(PermissionDenied):
            services.item_close(actor=outsider, item=item[0], note="Not mine to close.")
    assert DeskItem.objects.get().status == ItemStatus.RECEIVED
    assert not AuditEvent.objects.filter(action__in=["desk.item_assigned", "desk.item_closed"]).exists()


def test_assigning_to_someone_outside_the_agency_is_refused(item, officer, other_officer, approver):
    for outsider in (other_officer, approver):
        with pytest.raises(ValidationError):
            services.item_assign(actor=officer, item=item[0], assignee=outsider)


def test_assigning_a_colleague_tells_them(item, officer, colleague, django_capture_on_commit_callbacks):
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.item_assign(actor=officer, item=item[0], assignee=colleague)
    assert colleague.notifications.get().kind == "desk.assigned"
    assert [email.to for email in mail.outbox] == [[colleague.email]]


def test_oversized_and_empty_texts_are_refused(agency, officer):
    with pytest.raises(ValidationError):
        submit(agency=agency, message="x" * 5001)
    with pytest.raises(ValidationError):
        submit(agency=agency, message="   ")
    assert not DeskItem.objects.exists()


def test_throttle_per_address_and_per_email(agency):
    for number in range(5):
        submit(agency=agency, address="203.0.113.9", sender_email=f"a{number}@example.com")
    with pytest.raises(ActionRefused, match="Too many"):
        submit(agency=agency, address="203.0.113.9", sender_email="new@example.com")
    for number in range(5):
        submit(agency=agency, address=f"203.0.113.{20 + number}", sender_email="Same@Example.com")
    with pytest.raises(ActionRefused):
        submit(agency=agency, address="203.0.113.99", sender_email="same@example.com")
    # Other senders are not affected, and the window passes.
    submit(agency=agency, address="203.0.113.100", sender_email="other@example.com")
    DeskItem.objects.update(received_at=timezone.now() - datetime.timedelta(minutes=11))
    submit(agency=agency, address="203.0.113.9", sender_email="same@example.com")
    # The address is not stored as such.
    assert not DeskItem.objects.filter(address_hash__contains="203.0.113").exists()


def test_tracking_key_must_match_exactly(item):
    desk_item, key = item
    assert services.item_for_tracking(desk_item.reference, key) == desk_item
    altered = key[:-1] + ("A" if key[-1] != "A" else "B")
    assert services.item_for_tracking(desk_item.reference, altered) is None
    assert services.item_for_tracking(desk_item.reference, key.upper()) is None
    assert services.item_for_tracking("DSK-2026-999999", key) is None
    assert services.item_for_tracking(desk_item.reference, "") is None
    other, other_key = submit(agency=desk_item.agency)
    assert services.item_for_tracking(desk_item.reference, other_key) is None
