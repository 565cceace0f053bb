"""POST /api/v1/auth/token/: a token for an e-mail address and password, under the sign-in throttle."""

from __future__ import annotations

import pytest
from django.utils import timezone

from accounts import throttle
from api.models import ApiToken
from api.services import token_hash
from audit.models import AuditEvent
from tests.api.conftest import assert_problem

pytestmark = pytest.mark.django_db

URL = "/api/v1/auth/token/"
PASSWORD = "correct-horse-battery"


def ask(api_client, **body):
    return api_client.post(
        URL, {"email": "officer@example.gov", "password": PASSWORD, "name": "ERP", **body}, format="json"
    )


def test_the_right_password_issues_a_token_that_works(api_client, officer):
    response = ask(api_client, expires_in_days=7)
    assert response.status_code == 201, response.content
    body = response.json()
    token = ApiToken.objects.get(pk=body["id"])
    assert token.user == officer and token.name == "ERP"
    assert token.token_hash == token_hash(body["token"])
    assert (token.expires_at - timezone.now()).days in (6, 7)
    event = AuditEvent.objects.get(action="api.token_issued")
    assert event.payload["via"] == "api" and body["token"] not in event.canonical
    assert api_client.get("/api/v1/notifications/", HTTP_AUTHORIZATION=f"Bearer {body['token']}").status_code == 200


def test_the_e_mail_address_is_case_insensitive_and_the_expiry_defaults(api_client, officer):
    response = ask(api_client, email="OFFICER@example.gov")
    assert response.status_code == 201
    assert 89 <= (ApiToken.objects.get().expires_at - timezone.now()).days <= 90


def test_a_wrong_password_is_a_401_problem_and_counts_as_a_failed_sign_in(api_client, officer):
    response = ask(api_client, password="wrong-password")
    body = assert_problem(response, 401, code="authentication_failed")
    assert "password" in body["detail"]
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert not ApiToken.objects.exists()
    assert AuditEvent.objects.filter(
        action=throttle.FAILED_ACTION, payload__attempted_email="officer@example.gov"
    ).exists()


def test_an_unknown_address_or_an_inactive_person_gets_the_same_answer(api_client, officer):
    assert_problem(ask(api_client, email="nobody@example.gov"), 401)
    type(officer).objects.filter(pk=officer.pk).update(is_active=False)
    assert_problem(ask(api_client), 401)
    assert not ApiToken.objects.exists()


def test_after_too_many_failures_even_the_right_password_is_paused(api_client, officer):
    for _ in range(throttle.MAX_FAILURES_PER_EMAIL):
        assert ask(api_client, password="wrong-password").status_code == 401
    body = assert_problem(ask(api_client), 429, code="throttled")
    assert int(body["retry_after"]) > 0
    assert not ApiToken.objects.exists()
    assert AuditEvent.objects.filter(action=throttle.THROTTLED_ACTION).exists()


def test_token_requests_are_throttled_per_address(api_client, officer, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"token": "1000/hour", "address": "1000/minute", "token_issue": "2/minute"},
    }
    assert ask(api_client).status_code == 201
    assert ask(api_client).status_code == 201
    response = ask(api_client)
    assert_problem(response, 429, code="throttled")
    assert "Retry-After" in response
    assert ApiToken.objects.count() == 2


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"email": "not-an-address"}, "email"),
        ({"expires_in_days": "soon"}, "expires_in_days"),
        ({"expires_in_days": 366}, "expires_in_days"),
        ({"expires_in_days": 0}, "expires_in_days"),
        ({"name": ""}, "name"),
        ({"password": {"nested": True}}, "password"),
        ({"admin": True}, "admin"),
    ],
)
def test_bad_fields_are_named_in_the_problem(api_client, officer, body, field):
    problem = assert_problem(ask(api_client, **body), 400, code="invalid")
    assert field in problem["errors"], problem
    assert all(isinstance(message, str) for message in problem["errors"][field])
    assert not ApiToken.objects.exists()


def test_a_missing_field_is_named(api_client, officer):
    problem = assert_problem(api_client.post(URL, {"email": "officer@example.gov"}, format="json"), 400)
    assert {"password", "name"} <= set(problem["errors"])
