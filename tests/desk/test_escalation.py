"""Items unanswered past their type's response-time target are escalated once to the agency's supervisors (its
approvers), by the scheduler that runs every minute."""

from __future__ import annotations

import datetime

import pytest
from django.core import mail
from django.test import override_settings
from django.utils import timezone

from accounts.roles import Role
from audit.models import AuditEvent
from desk import services
from desk.models import DeskEntry, DeskItem, EntryKind
from notifications.models import Notification
from procurement.tender_services import advance_deadlines
from tests.accounts.factories import UserFactory
from tests.desk.factories import submit
from tests.procurement.factories import AgencyFactory

pytestmark = pytest.mark.django_db

HOUR = datetime.timedelta(hours=1)


@pytest.fixture
def other_approver(other_agency):
    return UserFactory(email="approver@moh.example.gov", agency=other_agency, roles=[Role.APPROVER])


@override_settings(DESK_RESPONSE_HOURS={"inquiry": 24, "suggestion": 72, "complaint": 48})
def test_overdue_items_are_escalated_once_to_the_agencys_approvers(
    agency, officer, approver, other_approver, django_capture_on_commit_callbacks
):
    inquiry, key = submit(agency=agency, kind="inquiry")
    suggestion, _key = submit(agency=agency, kind="suggestion")
    received = inquiry.received_at
    mail.outbox.clear()
    # Not yet due.
    assert services.escalate_overdue(now=received + 23 * HOUR) == []
    with django_capture_on_commit_callbacks(execute=True):
        escalated = services.escalate_overdue(now=received + 25 * HOUR)
    assert escalated == [inquiry.reference]  # the suggestion has 72 hours
    inquiry.refresh_from_db()
    assert inquiry.escalated_at == received + 25 * HOUR
    notification = Notification.objects.get(kind="desk.escalated")
    assert notification.recipient == approver
    assert inquiry.reference in notification.subject and f"/desk/items/{inquiry.pk}/" in notification.body
    assert [email.to for email in mail.outbox] == [[approver.email]]
    assert not Notification.objects.filter(recipient__in=[officer, other_approver]).exists()
    event = AuditEvent.objects.get(action="desk.item_escalated")
    assert event.agency_id == agency.pk and event.payload["supervisors"] == [approver.email]
    assert DeskEntry.objects.filter(item=inquiry, kind=EntryKind.ESCALATED).count() == 1
    # The sender's tracking page does not show the internal escalation.
    from django.test import Client

    tracked = Client().get(f"/en/desk/track/{inquiry.reference}/{key}/").content.decode()
    assert "Escalated" not in tracked and approver.email not in tracked
    # Once: a later run leaves it alone.
    assert services.escalate_overdue(now=received + 30 * HOUR) == []
    assert Notification.objects.filter(kind="desk.escalated").count() == 1


def test_answered_and_closed_items_are_not_escalated(agency, officer, approver):
    answered, _key = submit(agency=agency)
    services.item_answer(actor=officer, item=answered, answer="Done.")
    closed, _key = submit(agency=agency)
    services.item_close(actor=officer, item=closed, note="Spam.")
    assert services.escalate_overdue(now=timezone.now() + 100 * HOUR) == []


def test_a_reopened_item_can_be_escalated_again(agency, officer, approver):
    item, _key = submit(agency=agency)
    assert services.escalate_overdue(now=item.due_at + HOUR) == [item.reference]
    item = services.item_answer(actor=officer, item=item, answer="Done.")
    item = services.item_reopen(item=item, reason="Not done.")
    assert item.escalated_at is None
    assert services.escalate_overdue(now=item.due_at + HOUR) == [item.reference]
    assert Notification.objects.filter(kind="desk.escalated", recipient=approver).count() == 2


def test_a_department_without_approvers_escalates_to_its_ministry(agency, approver):
    department = AgencyFactory(code="MCIT-DG", parent=agency, kind="department")
    item, _key = submit(agency=department)
    services.escalate_overdue(now=item.due_at)
    assert Notification.objects.get(kind="desk.escalated").recipient == approver
    # ... who may then open it, though it is not their own agency's.
    assert approver.has_perm("desk.view_deskitem", item)
    stranger = UserFactory(agency=AgencyFactory(code="MOF"), roles=[Role.APPROVER])
    assert not stranger.has_perm("desk.view_deskitem", item)


def test_one_failing_item_does_not_keep_the_others_from_being_escalated(agency, approver, monkeypatch):
    first, _key = submit(agency=agency)
    second, _key = submit(agency=agency)
    real = services._escalate_one

    def flaky(pk, *, now):
        if pk == first.pk:
            raise RuntimeError("broken row")
        return real(pk, now=now)

    monkeypatch.setattr(services, "_escalate_one", flaky)
    assert services.escalate_overdue(now=second.due_at + HOUR) == [second.reference]


def test_the_scheduler_escalates(agency, approver):
    item, _key = submit(agency=agency)
    result = advance_deadlines(now=item.due_at + HOUR)
    assert list(result) == []  # the scheduler's own result is unchanged: tenders only
    assert DeskItem.objects.get().escalated_at is not None


def test_a_failing_escalation_never_stops_the_scheduler(agency, monkeypatch):
    submit(agency=agency)

    def broken(**kwargs):
        raise RuntimeError("desk down")

    monkeypatch.setattr(services, "escalate_overdue", broken)
    assert list(advance_deadlines(now=timezone.now() + 100 * HOUR)) == []
