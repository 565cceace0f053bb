"""audit_event_append: contiguous sequence numbers, hash links, and the canonical text that is hashed."""

import datetime
import hashlib
import itertools
import json
from decimal import Decimal

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import transaction

from audit.keys import load_signing_key
from audit.models import AuditEvent
from audit.services import audit_event_append
from audit.verification import verify_audit_log
from tests.audit.helpers import make_events

GENESIS = "0" * 64
CANONICAL_KEYS = [
    "action",
    "actor",
    "actor_id",
    "agency_id",
    "contract_id",
    "object_id",
    "object_label",
    "object_type",
    "occurred_at",
    "payload",
    "programme_id",
    "sequence",
    "tender_id",
]

pytestmark = pytest.mark.django_db


def _chain() -> list[AuditEvent]:
    return list(AuditEvent.objects.order_by("sequence"))


def _verify():
    return verify_audit_log([load_signing_key().public_key()])


def test_sequences_are_contiguous_from_one_and_each_event_links_to_the_one_before():
    returned = make_events(6)
    events = _chain()

    assert [event.sequence for event in events] == [1, 2, 3, 4, 5, 6]
    assert [event.sequence for event in returned] == [1, 2, 3, 4, 5, 6]
    assert events[0].prev_hash == GENESIS
    for previous, event in itertools.pairwise(events):
        assert event.prev_hash == previous.hash
    assert len({event.hash for event in events}) == 6


def test_hash_is_sha256_of_previous_hash_followed_by_the_stored_canonical_text():
    make_events(4)
    for event in _chain():
        expected = hashlib.sha256((event.prev_hash + event.canonical).encode("utf-8")).hexdigest()
        assert event.hash == expected
        assert len(event.hash) == 64


def test_stored_canonical_text_is_sorted_compact_json_of_the_whole_record():
    audit_event_append(
        action="test.shape",
        payload={"zeta": 1, "alpha": {"y": [3, 2, 1], "b": "x"}, "arabic": "وزارة الصحة"},
        object_type="test.thing",
        object_id=42,
        object_label="Thing 42",
    )
    event = AuditEvent.objects.get()
    record = json.loads(event.canonical)

    assert event.canonical == json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert list(record) == CANONICAL_KEYS
    assert list(record["payload"]) == ["alpha", "arabic", "zeta"]
    assert list(record["payload"]["alpha"]) == ["b", "y"]
    assert "وزارة الصحة" in event.canonical  # UTF-8 text, not \u escapes
    assert ", " not in event.canonical and ": " not in event.canonical
    assert record["sequence"] == 1
    assert record["action"] == "test.shape"
    assert record["object_type"] == "test.thing"
    assert record["object_id"] == "42"
    assert record["object_label"] == "Thing 42"
    assert record["occurred_at"] == event.occurred_at.astimezone(datetime.UTC).isoformat()
    # The columns beside the canonical text agree with it.
    assert (event.action, event.object_type, event.object_id, event.object_label) == (
        "test.shape",
        "test.thing",
        "42",
        "Thing 42",
    )


def test_payload_with_decimal_and_date_is_stored_as_text_equal_to_the_canonical_payload():
    audit_event_append(
        action="test.money",
        payload={
            "amount": Decimal("1234.50"),
            "due": datetime.date(2026, 3, 1),
            "nested": {"rate": Decimal("0.075")},
        },
    )
    event = AuditEvent.objects.get()  # read back from the database, not the instance that was created

    assert event.payload == {"amount": "1234.50", "due": "2026-03-01", "nested": {"rate": "0.075"}}
    assert event.payload == json.loads(event.canonical)["payload"]
    assert '"payload":{"amount":"1234.50","due":"2026-03-01","nested":{"rate":"0.075"}}' in event.canonical
    assert _verify().ok


def test_no_actor_is_recorded_as_system():
    event = audit_event_append(action="test.system")
    event.refresh_from_db()
    record = json.loads(event.canonical)

    assert event.actor_id is None
    assert event.actor_label == "system"
    assert record["actor"] == "system"
    assert record["actor_id"] is None


def test_anonymous_user_is_recorded_as_system():
    event = audit_event_append(action="test.anonymous", actor=AnonymousUser())
    event.refresh_from_db()
    assert (event.actor_id, event.actor_label) == (None, "system")


def test_actor_is_recorded_by_id_and_email(officer):
    event = audit_event_append(action="test.by_person", actor=officer)
    event.refresh_from_db()
    record = json.loads(event.canonical)

    assert event.actor_id == officer.pk
    assert event.actor_label == officer.email == "officer@example.gov"
    assert (record["actor_id"], record["actor"]) == (officer.pk, officer.email)


def test_scope_ids_come_from_the_objects_audit_scope(programme, agency):
    event = audit_event_append(action="test.programme_touched", obj=programme)
    event.refresh_from_db()
    record = json.loads(event.canonical)

    assert event.programme_id == programme.pk
    assert event.agency_id == agency.pk
    assert event.tender_id is None and event.contract_id is None
    assert (record["programme_id"], record["agency_id"]) == (programme.pk, agency.pk)
    assert record["tender_id"] is None and record["contract_id"] is None
    assert event.object_type == record["object_type"] == "procurement.programme"
    assert event.object_id == record["object_id"] == str(programme.pk)
    assert event.object_label == record["object_label"] == str(programme)
    assert list(AuditEvent.objects.for_programme(programme.pk)) == [event]
    assert list(AuditEvent.objects.for_object("procurement.programme", programme.pk)) == [event]


def test_explicit_scope_wins_over_the_objects_audit_scope(programme):
    event = audit_event_append(action="test.scoped", obj=programme, scope={"tender_id": 7})
    event.refresh_from_db()
    assert (event.tender_id, event.programme_id, event.agency_id) == (7, None, None)


def test_an_append_rolled_back_with_its_transaction_leaves_no_event_and_its_number_is_reused():
    first, second = make_events(2)

    with pytest.raises(RuntimeError), transaction.atomic():
        doomed = audit_event_append(action="test.doomed", payload={"n": 3})
        assert doomed.sequence == 3
        raise RuntimeError("roll back")

    assert list(AuditEvent.objects.values_list("sequence", flat=True).order_by("sequence")) == [1, 2]
    assert not AuditEvent.objects.filter(action="test.doomed").exists()

    after = audit_event_append(action="test.after_rollback")
    after.refresh_from_db()
    assert after.sequence == 3
    assert after.prev_hash == second.hash
    assert after.hash != doomed.hash
    result = _verify()
    assert result.ok, result.problem
    assert (result.events_checked, result.head_sequence, result.head_hash) == (3, 3, after.hash)
