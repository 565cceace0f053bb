"""Two people (or two schedulers) acting on the same tender at the same moment: the row lock makes one
of them go first, and the other is refused politely or finds nothing left to do.

Skipped on SQLite (the marker's reason says so): there a write transaction takes the one database-wide
lock at BEGIN, so two transactions can never hold the same tender at once and there is no race to test.
"""

from __future__ import annotations

import datetime
import threading
from collections.abc import Callable
from decimal import Decimal
from unittest import mock

import pytest
from django.db import connection, transaction
from django.utils import timezone

from accounts.roles import Role
from audit.keys import load_signing_key
from audit.models import AuditEvent
from audit.verification import verify_audit_log
from core.exceptions import ActionRefused
from procurement import tender_services
from procurement.models import Tender
from procurement.models.tenders import TenderStatus
from tests.accounts.factories import UserFactory
from tests.conftest import requires_postgresql
from tests.procurement.factories import PhaseFactory
from tests.procurement.tender_factories import make_pending, make_published, ready_tender

pytestmark = [requires_postgresql, pytest.mark.django_db(transaction=True)]

DONE = "done"


def at_once(*actions: Callable[[], object]) -> list:
    """Run the actions in threads released together; each outcome is DONE or the exception raised."""
    barrier = threading.Barrier(len(actions), timeout=30)
    outcomes: list = [None] * len(actions)

    def run(index: int, action: Callable[[], object]) -> None:
        try:
            barrier.wait()
            action()
            outcomes[index] = DONE
        except BaseException as error:  # noqa: BLE001  (reported to the test below)
            outcomes[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, action)) for i, action in enumerate(actions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a thread is stuck"
    return outcomes


def one_done_one_refused(outcomes: list) -> int:
    """Exactly one action succeeded and the other was refused as a rule, not a crash; return the winner."""
    assert sorted(type(o).__name__ if o != DONE else DONE for o in outcomes) == ["ActionRefused", DONE], outcomes
    return outcomes.index(DONE)


def assert_audit_log_intact() -> None:
    result = verify_audit_log([load_signing_key().public_key()])
    assert result.ok, result.problem


@pytest.fixture
def pending(programme, officer):
    return make_pending(ready_tender(phase=PhaseFactory(programme=programme), created_by=officer))


@pytest.fixture
def second_approver(agency):
    return UserFactory(email="approver2@example.gov", agency=agency, roles=[Role.APPROVER])


def test_two_approvers_at_once_publish_it_once(approver, second_approver, pending):
    approvers = [approver, second_approver]

    outcomes = at_once(
        *(lambda actor=actor: tender_services.tender_approve(actor=actor, tender=pending) for actor in approvers)
    )

    winner = approvers[one_done_one_refused(outcomes)]
    pending.refresh_from_db()
    assert (pending.status, pending.approved_by) == (TenderStatus.PUBLISHED, winner)
    assert AuditEvent.objects.filter(action="tender.approved_and_published").count() == 1
    assert_audit_log_intact()


def test_approving_and_returning_at_once_only_one_happens(approver, second_approver, pending):
    outcomes = at_once(
        lambda: tender_services.tender_approve(actor=approver, tender=pending),
        lambda: tender_services.tender_return(actor=second_approver, tender=pending, comments="Fix the dates."),
    )

    winner = one_done_one_refused(outcomes)
    pending.refresh_from_db()
    if winner == 0:
        assert (pending.status, pending.return_comments) == (TenderStatus.PUBLISHED, "")
        assert not AuditEvent.objects.filter(action="tender.returned").exists()
    else:
        assert (pending.status, pending.published_at) == (TenderStatus.DRAFT, None)
        assert not AuditEvent.objects.filter(action="tender.approved_and_published").exists()
    assert_audit_log_intact()


def test_approving_while_the_officer_cancels_ends_as_one_after_the_other(approver, officer, pending):
    """Whoever locks the tender first wins. If the cancellation goes first the approval is refused; if the
    approval goes first the cancellation then withdraws a published tender, and says so in the audit log.
    What must never happen is a cancellation that is lost, or one recorded from a state it did not see."""
    outcomes = at_once(
        lambda: tender_services.tender_approve(actor=approver, tender=pending),
        lambda: tender_services.tender_cancel(actor=officer, tender=pending, reason="The budget was withdrawn."),
    )

    approve_outcome, cancel_outcome = outcomes
    assert cancel_outcome == DONE, outcomes
    pending.refresh_from_db()
    assert pending.status == TenderStatus.CANCELLED
    cancelled = AuditEvent.objects.get(action="tender.cancelled")
    if approve_outcome == DONE:
        assert cancelled.payload["from"] == TenderStatus.PUBLISHED
        assert pending.published_at is not None
        approved = AuditEvent.objects.get(action="tender.approved_and_published")
        assert approved.sequence < cancelled.sequence
    else:
        assert isinstance(approve_outcome, ActionRefused), outcomes
        assert cancelled.payload["from"] == TenderStatus.PENDING_APPROVAL
        assert pending.published_at is None
        assert not AuditEvent.objects.filter(action="tender.approved_and_published").exists()
    assert_audit_log_intact()


def test_two_closing_officers_at_once_close_it_once(officer, programme):
    tender = make_published(ready_tender(phase=PhaseFactory(programme=programme), created_by=officer))
    colleague = UserFactory(agency=officer.agency, roles=[Role.PROCUREMENT_OFFICER])
    later = tender.submission_deadline + datetime.timedelta(minutes=1)

    with mock.patch("procurement.tender_services._now", return_value=later):
        outcomes = at_once(
            lambda: tender_services.tender_close(actor=officer, tender=tender),
            lambda: tender_services.tender_close(actor=colleague, tender=tender),
        )

    one_done_one_refused(outcomes)
    assert AuditEvent.objects.filter(action="tender.closed").count() == 1


def test_two_officers_creating_tenders_at_once_get_the_next_two_numbers(officer, programme):
    colleague = UserFactory(agency=officer.agency, roles=[Role.PROCUREMENT_OFFICER])
    phase = PhaseFactory(programme=programme)
    now = timezone.now()
    data = {
        "title_en": "Supply of network equipment",
        "title_ar": "توريد معدات الشبكات",
        "description_en": "Routers and switches.",
        "description_ar": "الموجهات والمبدلات.",
        "category": "goods",
        "estimated_value": Decimal("250000.00"),
        "clarification_deadline": now + datetime.timedelta(days=10),
        "submission_deadline": now + datetime.timedelta(days=30),
        "opening_time": now + datetime.timedelta(days=30, hours=1),
    }

    outcomes = at_once(
        *(
            lambda actor=actor: tender_services.tender_create(actor=actor, phase=phase, data=data)
            for actor in (officer, colleague)
        )
    )

    assert outcomes == [DONE, DONE]
    year = timezone.localdate().year
    assert sorted(Tender.objects.values_list("reference", flat=True)) == [f"MCIT-{year}-0001", f"MCIT-{year}-0002"]


def test_two_schedulers_at_once_close_each_due_tender_exactly_once():
    # Each tender in its own phase, programme and agency (see the next test for why that matters).
    due = [make_published(ready_tender()) for _ in range(8)]
    clock = timezone.now() + datetime.timedelta(days=31)
    results: list[list[str]] = [[], []]

    def scheduler(index: int) -> Callable[[], None]:
        return lambda: results[index].extend(tender_services.advance_deadlines(now=clock))

    outcomes = at_once(scheduler(0), scheduler(1))

    assert outcomes == [DONE, DONE]
    closed_by_either = results[0] + results[1]
    assert sorted(closed_by_either) == sorted(t.reference for t in due)
    assert Tender.objects.filter(status=TenderStatus.CLOSED).count() == len(due)
    for tender in due:
        assert AuditEvent.objects.filter(action="tender.closed", tender_id=tender.pk).count() == 1
    assert_audit_log_intact()


def test_a_due_tender_is_closed_while_an_officer_works_on_another_tender_of_the_same_agency(officer, programme):
    phase = PhaseFactory(programme=programme)
    due = make_published(ready_tender(phase=phase, created_by=officer))
    other = ready_tender(phase=phase, created_by=officer)
    clock = timezone.now() + datetime.timedelta(days=31)
    holding, release = threading.Event(), threading.Event()

    def officer_at_work() -> None:
        try:
            with transaction.atomic():
                tender_services._locked(other)  # what every service does first
                holding.set()
                release.wait(timeout=30)
        finally:
            connection.close()

    worker = threading.Thread(target=officer_at_work)
    worker.start()
    try:
        assert holding.wait(timeout=30)
        closed = tender_services.advance_deadlines(now=clock)
    finally:
        release.set()
        worker.join(timeout=30)

    assert closed == [due.reference]
