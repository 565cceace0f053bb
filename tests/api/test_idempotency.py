"""Idempotency-Key: a retried POST gets the first answer and never has a second effect."""

from __future__ import annotations

import threading

import pytest
from django.db import connection
from rest_framework import status
from rest_framework.response import Response
from rest_framework.test import APIClient, APIRequestFactory, force_authenticate
from rest_framework.views import APIView

from api.idempotency import idempotent
from api.models import ApiToken, IdempotencyRecord
from audit.models import AuditEvent
from audit.services import audit_event_append
from tests.api.conftest import assert_problem
from tests.conftest import requires_postgresql

URL = "/api/v1/auth/token/"
BODY = {"email": "officer@example.gov", "password": "correct-horse-battery", "name": "ERP"}


def post(client, body=None, key="3f2a-key", **extra):
    return client.post(URL, body or BODY, format="json", HTTP_IDEMPOTENCY_KEY=key, **extra)


@pytest.mark.django_db
def test_a_retried_request_is_answered_with_the_first_answer_and_has_no_second_effect(api_client, officer):
    first = post(api_client)
    assert first.status_code == 201
    assert "Idempotent-Replayed" not in first
    second = post(api_client)
    assert second.status_code == 201
    assert second["Idempotent-Replayed"] == "true"
    replay, original = second.json(), first.json()
    assert replay["id"] == original["id"] and replay["expires_at"] == original["expires_at"]
    # The secret is shown once: it is not stored with the answer, so the replay does not carry it.
    assert original["token"] and replay["token"] is None
    assert ApiToken.objects.count() == 1
    assert AuditEvent.objects.filter(action="api.token_issued").count() == 1
    record = IdempotencyRecord.objects.get()
    assert record.user == officer and record.response_status == 201
    assert original["token"] not in str(record.response_body)
    assert "correct-horse-battery" not in record.request_fingerprint


@pytest.mark.django_db
def test_the_same_key_with_another_body_is_a_422_problem(api_client, officer):
    assert post(api_client).status_code == 201
    response = post(api_client, {**BODY, "name": "Another"})
    assert_problem(response, 422, code="idempotency_key_reused")
    assert ApiToken.objects.count() == 1


@pytest.mark.django_db
def test_without_a_key_each_request_is_its_own(api_client, officer):
    assert api_client.post(URL, BODY, format="json").status_code == 201
    assert api_client.post(URL, BODY, format="json").status_code == 201
    assert ApiToken.objects.count() == 2
    assert not IdempotencyRecord.objects.exists()


@pytest.mark.django_db
def test_a_refused_request_is_not_remembered_and_may_be_corrected(api_client, officer):
    assert post(api_client, {**BODY, "expires_in_days": 999}).status_code == 400
    assert post(api_client, {**BODY, "password": "wrong-password"}).status_code == 401
    assert not IdempotencyRecord.objects.exists()
    assert post(api_client).status_code == 201


@pytest.mark.django_db
def test_keys_belong_to_one_person(api_client, officer, other_officer):
    assert post(api_client).status_code == 201
    other = {**BODY, "email": other_officer.email}
    response = post(api_client, other)
    assert response.status_code == 201 and "Idempotent-Replayed" not in response
    assert ApiToken.objects.filter(user=other_officer).count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize("key", ["x" * 256, "with space", "caf\u00e9"])
def test_a_malformed_key_is_a_400_problem(api_client, officer, key):
    response = post(api_client, key=key.encode("utf-8").decode("latin-1"))
    assert_problem(response, 400, code="invalid_idempotency_key")
    assert not ApiToken.objects.exists()


class RecordSomething(APIView):
    """What a later transition endpoint looks like: a POST that writes, made idempotent."""

    @idempotent
    def post(self, request):
        event = audit_event_append(action="test.something", actor=request.user, payload=request.data)
        return Response({"sequence": event.sequence}, status=status.HTTP_201_CREATED)


@pytest.mark.django_db
def test_the_decorator_makes_any_post_idempotent(officer):
    factory = APIRequestFactory()
    view = RecordSomething.as_view()

    def call(body, key="k-1"):
        request = factory.post("/api/v1/things/", body, format="json", HTTP_IDEMPOTENCY_KEY=key)
        force_authenticate(request, user=officer)
        return view(request)

    first, second = call({"a": 1}), call({"a": 1})
    assert first.status_code == second.status_code == 201
    assert first.data == second.data and second["Idempotent-Replayed"] == "true"
    assert AuditEvent.objects.filter(action="test.something").count() == 1
    assert call({"a": 2}).status_code == 422
    assert call({"a": 2}, key="k-2").status_code == 201
    assert AuditEvent.objects.filter(action="test.something").count() == 2


@requires_postgresql
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_requests_with_one_key_have_one_effect(officer):
    """PostgreSQL only: SQLite serialises every write transaction, so there is no race to test there."""
    barrier = threading.Barrier(2)
    answers = []

    def send():
        try:
            client = APIClient()
            barrier.wait(timeout=10)
            answers.append(post(client))
        finally:
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(answer.status_code for answer in answers) == [201, 201]
    assert sum(1 for answer in answers if answer.get("Idempotent-Replayed") == "true") == 1
    assert ApiToken.objects.count() == 1
    assert AuditEvent.objects.filter(action="api.token_issued").count() == 1


class RefuseOnRecord(APIView):
    """A service that refuses the way ``tender_services._atomic_recording_refusals`` does: its own work rolled
    back, the refusal written to the audit log in a transaction of its own, then raised."""

    @idempotent
    def post(self, request):
        from django.db import transaction

        from core.exceptions import ActionRefused

        try:
            with transaction.atomic():
                audit_event_append(action="test.half_done", actor=request.user)
                raise ActionRefused("Someone else must approve it.")
        except ActionRefused:
            with transaction.atomic():
                audit_event_append(action="test.refused", actor=request.user)
            raise


@pytest.mark.django_db
def test_a_refusal_recorded_by_the_service_stays_in_the_log_with_a_key(officer):
    factory = APIRequestFactory()
    request = factory.post("/api/v1/things/", {"a": 1}, format="json", HTTP_IDEMPOTENCY_KEY="k-refused")
    force_authenticate(request, user=officer)
    response = RefuseOnRecord.as_view()(request)
    assert response.status_code == 409
    assert AuditEvent.objects.filter(action="test.refused").count() == 1
    assert not AuditEvent.objects.filter(action="test.half_done").exists()
    assert not IdempotencyRecord.objects.exists()  # not remembered: the corrected request may use the key
