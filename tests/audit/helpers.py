"""Helpers for the audit tests: tampering with the log the way a database superuser could, and
filling it with events."""

from __future__ import annotations

import importlib
import json
import re
import types

from django.db import connection, transaction

from audit.canonical import canonical_json, chain_hash
from audit.models import AuditEvent
from audit.services import audit_event_append

# The migration that creates the triggers; its own functions drop and recreate them on SQLite so
# that the triggers put back are exactly the ones the migration made.
_TRIGGERS_MIGRATION = importlib.import_module("audit.migrations.0002_append_only_triggers")

SQLITE_TRIGGERS = (
    "audit_auditevent_no_update",
    "audit_auditevent_no_delete",
    "audit_auditcheckpoint_no_update",
    "audit_auditcheckpoint_no_delete",
)

_BROKEN = re.compile(r"AUDIT LOG BROKEN at event #(\d+)\b")


def _sqlite_trigger_sql(cursor) -> dict[str, str]:
    cursor.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name IN "
        "('audit_auditevent', 'audit_auditcheckpoint')"
    )
    return dict(cursor.fetchall())


def tamper(sql: str, params=None) -> None:
    """Run ``sql`` on the audit tables with the append-only triggers out of the way.

    PostgreSQL: ``SET LOCAL session_replication_role = replica`` (what a superuser can do), the SQL,
    then back to ``origin``. SQLite: drop the triggers, run the SQL, recreate them with the
    migration's own SQL. Either way it all happens inside the test's transaction (a savepoint), so
    nothing outlives the test.
    """
    assert connection.in_atomic_block, "tamper() must run inside the test's transaction"
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL session_replication_role = replica")
            try:
                cursor.execute(sql, params)
            finally:
                cursor.execute("SET LOCAL session_replication_role = origin")
        elif connection.vendor == "sqlite":
            before = _sqlite_trigger_sql(cursor)
            assert set(SQLITE_TRIGGERS) <= set(before), f"append-only triggers missing: {sorted(before)}"
            editor = types.SimpleNamespace(connection=connection, execute=cursor.execute)
            _TRIGGERS_MIGRATION.drop_triggers(None, editor)
            try:
                cursor.execute(sql, params)
            finally:
                _TRIGGERS_MIGRATION.create_triggers(None, editor)
            assert _sqlite_trigger_sql(cursor) == before, "the triggers were not recreated as they were"
        else:  # pragma: no cover
            raise NotImplementedError(connection.vendor)


def json_param() -> str:
    """The SQL placeholder for a JSON value passed as text (PostgreSQL needs a cast to jsonb)."""
    return "CAST(%s AS jsonb)" if connection.vendor == "postgresql" else "%s"


def make_events(count: int, *, action: str = "test.event", **kwargs) -> list[AuditEvent]:
    """Append ``count`` events through audit_event_append, each with a distinct payload {"n": i}."""
    return [audit_event_append(action=action, payload={"n": n}, **kwargs) for n in range(1, count + 1)]


def rewrite_consistently(sequence: int, **payload) -> tuple[str, str]:
    """A "smart" alteration of one event: a new payload in its canonical text, its hash recomputed
    from its previous hash, and its payload column to match. Returns (new canonical, new hash)."""
    event = AuditEvent.objects.get(sequence=sequence)
    record = json.loads(event.canonical)
    record["payload"] = payload
    text = canonical_json(record)
    new_hash = chain_hash(event.prev_hash, text)
    tamper(
        f"UPDATE audit_auditevent SET canonical = %s, hash = %s, payload = {json_param()} WHERE sequence = %s",
        [text, new_hash, canonical_json(record["payload"]), sequence],
    )
    return text, new_hash


def broken_at(stderr: str) -> int | None:
    """The event number in the verifier's "AUDIT LOG BROKEN at event #N" line, if any."""
    match = _BROKEN.search(stderr)
    return int(match.group(1)) if match else None


#: What an auditor's own access writes (audit.middleware): their page views and their refused attempts.
AUDITOR_ACCESS = ("audit.page_viewed", "audit.change_refused")


def record_events():
    """The audit log without the auditors' own access events: what an action changed in the record."""
    return AuditEvent.objects.exclude(action__in=AUDITOR_ACCESS)


def assert_refusal_logged_if_auditor(user, *, path: str) -> None:
    """An auditor's refused attempt to change something is itself logged, with the path it aimed at."""
    if user.has_role("auditor"):
        assert AuditEvent.objects.filter(action="audit.change_refused", actor_id=user.pk, payload__path=path).exists()
