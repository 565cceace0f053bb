"""Stored answers of idempotent requests are kept API_IDEMPOTENCY_RETENTION_HOURS, then purged in batches by the
deadline scheduler (or ``manage.py purge_idempotency_keys``); a retry after that window is a new request."""

from __future__ import annotations

import datetime
import io

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from api.idempotency import purge_expired_idempotency_records
from api.models import ApiToken, IdempotencyRecord
from procurement.tender_services import advance_deadlines
from tests.accounts.factories import UserFactory

pytestmark = pytest.mark.django_db

HOUR = datetime.timedelta(hours=1)
URL = "/api/v1/auth/token/"
BODY = {"email": "officer@example.gov", "password": "correct-horse-battery", "name": "ERP"}


def records(user, *ages_in_hours: float) -> list[IdempotencyRecord]:
    now = timezone.now()
    return [
        IdempotencyRecord.objects.create(
            user=user,
            key=f"key-{n}",
            method="POST",
            path="/api/v1/x/",
            request_fingerprint="0" * 64,
            response_status=201,
            response_body={},
            created_at=now - age * HOUR,
        )
        for n, age in enumerate(ages_in_hours)
    ]


def keys() -> set[str]:
    return set(IdempotencyRecord.objects.values_list("key", flat=True))


def test_the_retention_is_48_hours_by_default(settings):
    assert settings.API_IDEMPOTENCY_RETENTION_HOURS == 48


def test_records_older_than_the_retention_are_deleted_in_batches():
    user = UserFactory()
    records(user, 1, 47.5, 48.5, 60, 100, 1000, 5000)
    with CaptureQueriesContext(connection) as queries:
        assert purge_expired_idempotency_records(batch_size=2) == 5
    assert keys() == {"key-0", "key-1"}
    deletes = [q["sql"] for q in queries.captured_queries if q["sql"].lstrip().upper().startswith("DELETE")]
    assert len(deletes) == 3  # 2 + 2 + 1 rows: never one statement for the whole backlog
    assert purge_expired_idempotency_records() == 0


def test_the_retention_follows_the_setting(settings):
    settings.API_IDEMPOTENCY_RETENTION_HOURS = 2
    records(UserFactory(), 1, 3)
    assert purge_expired_idempotency_records() == 1
    assert keys() == {"key-0"}


def test_the_expired_records_are_found_by_the_created_at_index():
    index_fields = [index.fields for index in IdempotencyRecord._meta.indexes]
    assert ["created_at"] in index_fields


def test_the_command_purges_and_says_how_many(settings):
    records(UserFactory(), 1, 49, 50)
    out = io.StringIO()
    call_command("purge_idempotency_keys", "--batch-size", "1", stdout=out)
    assert "Deleted 2 idempotency record(s) older than 48 hour(s)." in out.getvalue()
    assert keys() == {"key-0"}


def test_the_deadline_scheduler_purges_them():
    records(UserFactory(), 1, 49)
    advance_deadlines()
    assert keys() == {"key-0"}


def test_a_failing_purge_never_stops_the_scheduler(monkeypatch, caplog):
    def broken(**kwargs):
        raise RuntimeError("database unavailable")

    monkeypatch.setattr("api.idempotency.purge_expired_idempotency_records", broken)
    assert advance_deadlines() == []
    assert "Purging expired idempotency records failed" in caplog.text


def test_a_retry_after_the_retention_is_a_new_request(api_client, officer):
    def send():
        return api_client.post(URL, BODY, format="json", HTTP_IDEMPOTENCY_KEY="erp-batch-7")

    first = send()
    assert first.status_code == 201
    assert send()["Idempotent-Replayed"] == "true"  # within the window: the first answer
    IdempotencyRecord.objects.update(created_at=timezone.now() - 49 * HOUR)
    later = send()
    assert later.status_code == 201 and "Idempotent-Replayed" not in later
    assert later.json()["id"] != first.json()["id"] and ApiToken.objects.count() == 2
    assert IdempotencyRecord.objects.get().created_at > timezone.now() - HOUR
