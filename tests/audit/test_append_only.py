"""The database itself refuses to change or remove audit events and checkpoints."""

import importlib
import types

import pytest
from django.db import DatabaseError, connection, transaction

from audit.models import AuditCheckpoint, AuditEvent
from audit.services import audit_checkpoint_create
from tests.audit.helpers import make_events, tamper
from tests.conftest import requires_postgresql

pytestmark = pytest.mark.django_db


@pytest.fixture
def log():
    """Three events and a checkpoint over them; returns the rows as stored."""
    make_events(3)
    checkpoint = audit_checkpoint_create()
    assert checkpoint is not None
    return _rows()


def _rows() -> tuple[list[dict], list[dict]]:
    return (
        list(AuditEvent.objects.order_by("sequence").values()),
        list(AuditCheckpoint.objects.order_by("id").values()),
    )


def _refused(operation) -> None:
    with pytest.raises(DatabaseError), transaction.atomic():
        operation()


def _raw(sql: str, params=None):
    def run():
        with connection.cursor() as cursor:
            cursor.execute(sql, params)

    return run


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE audit_auditevent SET action = 'test.forged' WHERE sequence = 2",
        "UPDATE audit_auditevent SET payload = payload WHERE sequence = 2",
        "UPDATE audit_auditevent SET sequence = 99 WHERE sequence = 3",
        "DELETE FROM audit_auditevent WHERE sequence = 2",
        "DELETE FROM audit_auditevent",
        "UPDATE audit_auditcheckpoint SET signature = 'AAAA'",
        "UPDATE audit_auditcheckpoint SET sequence = 2",
        "DELETE FROM audit_auditcheckpoint",
    ],
)
def test_raw_update_and_delete_are_refused(log, sql):
    _refused(_raw(sql))
    assert _rows() == log


def test_orm_queryset_update_of_an_event_is_refused(log):
    _refused(lambda: AuditEvent.objects.filter(sequence=2).update(action="test.forged"))
    assert _rows() == log


def test_orm_queryset_delete_of_events_is_refused(log):
    _refused(lambda: AuditEvent.objects.filter(sequence__gte=2).delete())
    _refused(lambda: AuditEvent.objects.all().delete())
    assert _rows() == log


def test_orm_instance_save_and_delete_of_an_event_are_refused(log):
    event = AuditEvent.objects.get(sequence=1)
    event.object_label = "forged"
    _refused(event.save)
    _refused(AuditEvent.objects.get(sequence=1).delete)
    assert _rows() == log


def test_orm_update_and_delete_of_a_checkpoint_are_refused(log):
    _refused(lambda: AuditCheckpoint.objects.update(head_hash="0" * 64))
    _refused(lambda: AuditCheckpoint.objects.all().delete())
    checkpoint = AuditCheckpoint.objects.get()
    checkpoint.sequence = 1
    _refused(checkpoint.save)
    _refused(AuditCheckpoint.objects.get().delete)
    assert _rows() == log


def test_the_test_transaction_is_still_usable_after_the_refusals(log):
    _refused(_raw("DELETE FROM audit_auditevent"))
    event = make_events(1)[0]
    assert event.sequence == 4
    assert AuditEvent.objects.count() == 4


def test_tamper_bypasses_the_triggers_and_puts_them_back(log):
    tamper("UPDATE audit_auditevent SET action = %s WHERE sequence = %s", ["test.tampered", 2])
    assert AuditEvent.objects.get(sequence=2).action == "test.tampered"
    tamper("UPDATE audit_auditcheckpoint SET signature = %s", ["AAAA"])
    assert AuditCheckpoint.objects.get().signature == "AAAA"

    # The triggers are back: the same changes are refused again afterwards.
    _refused(_raw("UPDATE audit_auditevent SET action = 'test.again' WHERE sequence = 2"))
    _refused(_raw("DELETE FROM audit_auditevent WHERE sequence = 3"))
    _refused(_raw("UPDATE audit_auditcheckpoint SET signature = 'BBBB'"))
    _refused(_raw("DELETE FROM audit_auditcheckpoint"))
    assert AuditEvent.objects.get(sequence=2).action == "test.tampered"
    assert AuditEvent.objects.count() == 3
    assert AuditCheckpoint.objects.get().signature == "AAAA"


@requires_postgresql
@pytest.mark.parametrize("table", ["audit_auditevent", "audit_auditcheckpoint"])
def test_truncate_is_refused_unless_the_session_allows_it(log, table):
    with connection.cursor() as cursor:
        # The test connection allows TRUNCATE (so that the test runner can flush); show that it does...
        cursor.execute("SELECT current_setting('audit.allow_truncate', true)")
        assert cursor.fetchone()[0] == "on"
        with pytest.raises(RuntimeError), transaction.atomic():
            cursor.execute(f"TRUNCATE {table}")
            cursor.execute(f"SELECT count(*) FROM {table}")  # noqa: S608
            assert cursor.fetchone()[0] == 0
            raise RuntimeError("undo the truncate")
        assert _rows() == log

        # ...and that without that setting, as in production, TRUNCATE is refused.
        cursor.execute("SET LOCAL audit.allow_truncate = 'off'")
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            cursor.execute(f"TRUNCATE {table}")
        cursor.execute("SET LOCAL audit.allow_truncate = 'on'")
    assert _rows() == log


def test_the_postgresql_trigger_migration_passes_no_lone_percent_to_the_schema_editor():
    migration = importlib.import_module("audit.migrations.0002_append_only_triggers")
    calls: list[tuple[str, object]] = []
    editor = types.SimpleNamespace(
        connection=types.SimpleNamespace(vendor="postgresql"),
        execute=lambda sql, params=(): calls.append((str(sql), params)),
    )

    migration.create_triggers(None, editor)

    assert any("CREATE OR REPLACE FUNCTION audit_refuse_change" in sql for sql, _ in calls)
    for sql, params in calls:
        if params is not None:
            # django.db.backends.postgresql.schema.DatabaseSchemaEditor.execute: unless params is None, the
            # SQL goes through psycopg's client-side %-formatting, where every lone '%' is a placeholder.
            assert "%" not in sql.replace("%%", ""), sql
