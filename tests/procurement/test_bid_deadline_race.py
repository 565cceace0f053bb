"""Submissions racing the submission deadline, on the real clock, with the deadline scheduler running.

Many vendors, each with a prepared draft whose documents are already sealed, submit at moments spread from
one second before to one second after the deadline, while ``advance_deadlines`` runs in a loop around it. No
bid may be accepted at or after the deadline, whatever the stored state of the tender says at that moment;
every refusal must come from the clock (at or after the deadline) and be recorded.

Skipped on SQLite (the marker's reason says so): a write transaction there takes the one database-wide lock,
so submissions and the scheduler can never hold the tender at the same time.
"""

from __future__ import annotations

import datetime
import threading
import time
from unittest import mock

import pytest
from django.db import connection
from django.utils import timezone

from audit.keys import load_signing_key
from audit.models import AuditEvent
from audit.verification import verify_audit_log
from core.exceptions import ActionRefused
from procurement import bid_services, sealing, tender_services
from procurement.models import Bid, BidReceipt, Tender
from procurement.models.bids import BidStatus
from procurement.models.tenders import TenderStatus
from tests.conftest import requires_postgresql
from tests.procurement.bid_factories import bidder, document, draft_data, published_tender

pytestmark = [requires_postgresql, pytest.mark.django_db(transaction=True)]

VENDORS = 14
SPREAD = datetime.timedelta(seconds=1)  # attempts from deadline - SPREAD to deadline + SPREAD
LEAD = datetime.timedelta(seconds=2)  # the deadline is this far ahead when the threads start


@pytest.fixture(autouse=True)
def _fast_keys_own_media_and_no_pdfs(monkeypatch, settings, tmp_path):
    monkeypatch.setattr(sealing, "SCRYPT_N", 2**10)
    settings.MEDIA_ROOT = str(tmp_path / "media")
    # The receipts' PDFs are rendered after commit; they are tested elsewhere and would only slow the threads.
    with mock.patch("procurement.tasks.render_bid_receipt_pdf"):
        yield


def _sleep_until(moment: datetime.datetime) -> None:
    delay = (moment - timezone.now()).total_seconds()
    if delay > 0:
        time.sleep(delay)


def test_no_bid_is_accepted_at_or_after_the_deadline():
    tender, _members, _recovery = published_tender()
    prepared = []
    for number in range(VENDORS):
        _vendor, admin = bidder()
        bid = bid_services.bid_start(actor=admin, tender=tender)
        bid_services.bid_save_draft(actor=admin, bid=bid, data=draft_data(tender, price=f"{1000 + number}.00"))
        bid_services.bid_file_add(actor=admin, bid=bid, uploaded_file=document(), title="Offer")
        prepared.append((bid, admin))

    deadline = (timezone.now() + LEAD).replace(microsecond=0) + datetime.timedelta(seconds=1)
    hour = datetime.timedelta(hours=1)
    Tender.objects.filter(pk=tender.pk).update(
        clarification_deadline=deadline - hour, submission_deadline=deadline, opening_time=deadline + hour
    )
    first, last = deadline - SPREAD, deadline + SPREAD
    step = (last - first) / (VENDORS - 1)
    schedule = [first + step * i for i in range(VENDORS)]

    outcomes: list[dict | None] = [None] * VENDORS
    closings: list[tuple[datetime.datetime, list[str]]] = []
    scheduler_errors: list[BaseException] = []

    def submit(index: int) -> None:
        bid, admin = prepared[index]
        try:
            _sleep_until(schedule[index])
            started = timezone.now()
            try:
                receipt = bid_services.bid_submit(actor=admin, bid=bid)
                outcomes[index] = {"accepted": receipt, "started": started, "ended": timezone.now()}
            except BaseException as error:  # noqa: BLE001 - reported by the test below
                outcomes[index] = {"refused": error, "started": started, "ended": timezone.now()}
        finally:
            connection.close()

    def scheduler() -> None:
        try:
            _sleep_until(deadline - datetime.timedelta(milliseconds=300))
            while timezone.now() < last + datetime.timedelta(milliseconds=200):
                closed = tender_services.advance_deadlines()
                closings.append((timezone.now(), closed))
                time.sleep(0.02)
        except BaseException as error:  # noqa: BLE001
            scheduler_errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=submit, args=(i,)) for i in range(VENDORS)]
    threads.append(threading.Thread(target=scheduler))
    assert timezone.now() < first, "preparing the drafts took longer than the lead time"
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a thread is stuck"
    assert not scheduler_errors, scheduler_errors

    accepted = [o for o in outcomes if o and "accepted" in o]
    refused = [o for o in outcomes if o and "refused" in o]
    assert len(accepted) + len(refused) == VENDORS

    # Refusals are the rule (a clear message), never a crash, and happen at or after the deadline.
    for outcome in refused:
        assert type(outcome["refused"]) is ActionRefused, repr(outcome["refused"])
        assert "deadline" in str(outcome["refused"])
        assert outcome["ended"] >= deadline
    # Every attempt that began at or after the deadline was refused.
    assert all("refused" in o for o in outcomes if o["started"] >= deadline)
    assert accepted, "no submission was accepted before the deadline"
    assert refused, "no submission was refused after the deadline"

    # Accepted bids: the receipt's server time and the bid's submission time are before the deadline.
    for outcome in accepted:
        receipt = BidReceipt.objects.get(pk=outcome["accepted"].pk)
        bid = Bid.objects.get(pk=receipt.bid_id)
        assert receipt.server_time < deadline
        assert bid.submitted_at == receipt.server_time
        assert bid.status == BidStatus.SUBMITTED
        assert outcome["started"] <= receipt.server_time <= outcome["ended"]
        event = AuditEvent.objects.get(sequence=receipt.audit_sequence)
        assert event.payload["server_time"] == receipt.server_time.isoformat()

    # The database agrees: nothing submitted at or after the deadline, refused bids still drafts.
    assert not Bid.objects.filter(tender=tender, status=BidStatus.SUBMITTED, submitted_at__gte=deadline).exists()
    assert not BidReceipt.objects.filter(bid__tender=tender, server_time__gte=deadline).exists()
    assert Bid.objects.filter(tender=tender, status=BidStatus.SUBMITTED).count() == len(accepted)
    refused_bids = {prepared[i][0].pk for i, o in enumerate(outcomes) if "refused" in o}
    assert set(Bid.objects.filter(tender=tender, status=BidStatus.DRAFT).values_list("pk", flat=True)) == refused_bids
    for bid in Bid.objects.filter(pk__in=refused_bids):
        assert bid_services.read_draft(bid)["total_price"]  # the draft is kept

    # Each refusal is recorded, with a server time at or after the deadline.
    recorded = AuditEvent.objects.filter(action="bid.refused_after_deadline", tender_id=tender.pk)
    assert {e.payload["bid_id"] for e in recorded} == refused_bids
    assert all(datetime.datetime.fromisoformat(e.payload["server_time"]) >= deadline for e in recorded)

    # The scheduler closed the tender exactly once, at or after the deadline.
    closed_by_scheduler = [moment for moment, references in closings if references]
    assert len(closed_by_scheduler) == 1, closings
    assert all(references in ([], [tender.reference]) for _moment, references in closings)
    tender.refresh_from_db()
    assert tender.status == TenderStatus.CLOSED
    assert tender.closed_at >= deadline
    assert AuditEvent.objects.filter(action="tender.closed", tender_id=tender.pk).count() == 1

    result = verify_audit_log([load_signing_key().public_key()])
    assert result.ok, result.problem
