"""Bad input gets a 4xx problem-details answer, never a 5xx."""

from __future__ import annotations

import json

import pytest
from django.test import override_settings

from api.models import ApiToken
from tests.api.conftest import assert_problem, bearer

pytestmark = pytest.mark.django_db

TOKEN_URL = "/api/v1/auth/token/"


def test_malformed_json_is_a_400_problem(api_client, officer):
    response = api_client.post(TOKEN_URL, data='{"email": "officer@example.gov",', content_type="application/json")
    assert_problem(response, 400, code="parse_error")


@pytest.mark.parametrize("raw", ["[1, 2]", '"text"', "null", "42", '{"email": NaN}'])
def test_json_that_is_not_an_object_is_refused(api_client, officer, raw):
    response = api_client.post(TOKEN_URL, data=raw, content_type="application/json")
    assert response.status_code == 400
    assert_problem(response, 400)


def test_another_media_type_is_a_415_problem(api_client, officer):
    response = api_client.post(
        TOKEN_URL, data="email=officer@example.gov", content_type="application/x-www-form-urlencoded"
    )
    assert_problem(response, 415, code="unsupported_media_type")


def test_a_body_that_is_not_utf8_is_a_400_problem(api_client):
    response = api_client.post(TOKEN_URL, data=b'{"email": "\xff\xfe"}', content_type="application/json")
    assert_problem(response, 400)


@override_settings(API_MAX_BODY_BYTES=1000)
def test_a_huge_body_is_a_413_problem(api_client, officer):
    body = json.dumps({"email": "officer@example.gov", "password": "x", "name": "n" * 5000})
    response = api_client.post(TOKEN_URL, data=body, content_type="application/json")
    assert_problem(response, 413, code="payload_too_large")
    assert not ApiToken.objects.exists()


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=1000)
def test_a_body_beyond_djangos_own_limit_is_a_413_problem_too(api_client, officer):
    body = json.dumps({"email": "officer@example.gov", "password": "x", "name": "n" * 5000})
    response = api_client.post(TOKEN_URL, data=body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert_problem(response, 413)


def test_unknown_ids_and_addresses_are_404_problems(api_client, officer):
    headers = bearer(officer)
    for url in (
        "/api/v1/tenders/999999/",
        "/api/v1/contracts/999999/",
        "/api/v1/notifications/999999/",
        "/api/v1/agencies/999999/",
        "/api/v1/tenders/not-a-number/",
        "/api/v1/no-such-resource/",
    ):
        assert_problem(api_client.get(url, **headers), 404, code="not_found")


def test_a_bad_cursor_or_filter_is_a_4xx_problem(api_client, officer):
    assert_problem(api_client.get("/api/v1/tenders/", {"cursor": "garbage"}), 404)
    body = assert_problem(api_client.get("/api/v1/tenders/", {"value_min": "lots"}), 400)
    assert "value_min" in body["errors"]
    body = assert_problem(api_client.get("/api/v1/tenders/", {"status": "no-such-state"}), 400)
    assert "status" in body["errors"]
    assert_problem(api_client.get("/api/v1/tenders/", {"deadline_from": "99999-01-01"}), 400)


def test_a_wrong_method_is_a_405_problem(api_client, officer):
    headers = bearer(officer)
    assert_problem(api_client.delete("/api/v1/agencies/", **headers), 405, code="method_not_allowed")
    assert_problem(api_client.get(TOKEN_URL), 405)


def test_the_exception_handler_turns_service_refusals_into_4xx():
    from django.core.exceptions import PermissionDenied, ValidationError
    from django.http import Http404
    from rest_framework.test import APIRequestFactory

    from api.problems import problem_exception_handler
    from core.exceptions import ActionRefused

    request = APIRequestFactory().post("/api/v1/tenders/1/transitions/approve/")
    cases = [
        (ActionRefused("The tender is not pending approval."), 409, None),
        (ValidationError({"reason": ["Give a reason."]}), 400, {"reason": ["Give a reason."]}),
        (ValidationError("Past the deadline."), 400, {"non_field_errors": ["Past the deadline."]}),
        (PermissionDenied("procurement.approve_tender"), 403, None),
        (Http404(), 404, None),
    ]
    for exc, status, errors in cases:
        response = problem_exception_handler(exc, {"request": request, "view": None})
        assert response.status_code == status
        assert response.data["status"] == status and response.data["instance"] == request.path
        assert response.content_type == "application/problem+json"
        if errors:
            assert response.data["errors"] == errors
    assert problem_exception_handler(ActionRefused("The tender is not pending approval."), {"request": request})
    refused = problem_exception_handler(ActionRefused("The tender is not pending approval."), {"request": request})
    assert refused.data["detail"] == "The tender is not pending approval."
    assert problem_exception_handler(RuntimeError("bug"), {"request": request}) is None
