"""Concurrent writers on PostgreSQL still produce one unbroken chain with no gaps or forks."""

import itertools
import threading

import pytest
from django.db import connection, transaction

from audit.keys import load_signing_key
from audit.models import GENESIS_HASH, AuditEvent
from audit.services import audit_event_append
from audit.verification import verify_audit_log
from tests.conftest import requires_postgresql

THREADS = 8
APPENDS_PER_THREAD = 25

# Skipped on SQLite (the reason says so): there every write takes the one database file lock, so
# concurrent writers cannot race for the head of the chain in the first place.
pytestmark = [
    requires_postgresql,
    pytest.mark.django_db(transaction=True),
]


def test_concurrent_appends_form_one_contiguous_verified_chain():
    barrier = threading.Barrier(THREADS, timeout=30)
    errors: list[BaseException] = []

    def writer(number: int) -> None:
        try:
            barrier.wait()
            for index in range(APPENDS_PER_THREAD):
                with transaction.atomic():
                    audit_event_append(action="test.concurrent", payload={"writer": number, "index": index})
        except BaseException as error:  # noqa: BLE001  (reported to the main thread below)
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=writer, args=(number,)) for number in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a writer is stuck"
    assert errors == []

    events = list(AuditEvent.objects.order_by("sequence").values("sequence", "prev_hash", "hash", "payload"))
    total = THREADS * APPENDS_PER_THREAD
    assert [event["sequence"] for event in events] == list(range(1, total + 1))
    assert events[0]["prev_hash"] == GENESIS_HASH
    for previous, event in itertools.pairwise(events):
        assert event["prev_hash"] == previous["hash"], f"event #{event['sequence']} does not link"
    assert len({event["hash"] for event in events}) == total
    # Every append of every writer is there exactly once, and each writer's appends are in its order.
    appended = [(event["payload"]["writer"], event["payload"]["index"]) for event in events]
    assert sorted(appended) == [(w, i) for w in range(THREADS) for i in range(APPENDS_PER_THREAD)]
    for number in range(THREADS):
        assert [i for w, i in appended if w == number] == list(range(APPENDS_PER_THREAD))
    # The writers really did interleave (otherwise this test proves nothing about concurrency).
    assert sum(1 for a, b in itertools.pairwise(appended) if a[0] != b[0]) > THREADS

    result = verify_audit_log([load_signing_key().public_key()])
    assert result.ok, result.problem
    assert (result.events_checked, result.head_sequence) == (total, total)
