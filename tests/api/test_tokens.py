"""Personal API tokens: made on the account page (shown once, stored hashed), listed, revoked, expiring."""

from __future__ import annotations

import datetime
import hashlib

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from api.models import ApiToken
from api.services import api_token_issue
from audit.models import AuditEvent
from core.exceptions import ActionRefused
from tests.api.conftest import assert_problem, bearer

pytestmark = pytest.mark.django_db

ME = "/api/v1/notifications/"


def pages_url(name: str = "api_tokens:list", *args, language: str = "en") -> str:
    with translation.override(language):
        return reverse(name, args=args)


def test_a_token_made_on_the_account_page_is_shown_once_and_only_its_hash_is_kept(client, officer, api_client):
    client.force_login(officer)
    page = client.get(pages_url())
    assert page.status_code == 200
    assert page.request["PATH_INFO"] == "/en/accounts/api-tokens/"

    response = client.post(pages_url(), {"name": "Agency ERP", "expires_in_days": "30"})
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"] or "no-cache" in response["Cache-Control"]
    secret = response.context["issued"].secret
    html = response.content.decode()
    assert secret in html
    token = ApiToken.objects.get(user=officer)
    assert token.name == "Agency ERP"
    assert token.token_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in {token.name, token.prefix, token.token_hash}
    assert secret.startswith(token.prefix) and len(token.prefix) < len(secret) / 3
    assert abs(token.expires_at - (timezone.now() + datetime.timedelta(days=30))) < datetime.timedelta(minutes=1)
    event = AuditEvent.objects.get(action="api.token_issued")
    assert event.actor_id == officer.pk and secret not in event.canonical

    # The list shows name, prefix, expiry and last use, never the secret again.
    listing = client.get(pages_url()).content.decode()
    assert "Agency ERP" in listing and token.prefix in listing and secret not in listing
    assert "Never" in listing

    answer = api_client.get(ME, HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert answer.status_code == 200
    token.refresh_from_db()
    assert token.last_used_at is not None
    assert "Never" not in client.get(pages_url()).content.decode()


def test_bad_input_on_the_page_is_explained_and_kept(client, officer):
    client.force_login(officer)
    response = client.post(pages_url(), {"name": "Mine", "expires_in_days": "400"})
    assert response.status_code == 200
    assert response.context["form"].errors["expires_in_days"]
    assert 'value="Mine"' in response.content.decode()
    assert not ApiToken.objects.exists()


def test_the_page_needs_a_signed_in_person_and_a_csrf_token(client, officer):
    response = client.get(pages_url())
    assert response.status_code == 302 and "/sign-in/" in response["Location"]
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(officer)
    assert strict.post(pages_url(), {"name": "x", "expires_in_days": "5"}).status_code == 403
    assert not ApiToken.objects.exists()


def test_the_page_speaks_arabic(client, officer):
    client.force_login(officer)
    response = client.get(pages_url(language="ar"))
    assert response.status_code == 200
    assert response.request["PATH_INFO"] == "/ar/accounts/api-tokens/"


def test_a_revoked_token_stops_working_at_once(client, officer, api_client):
    headers = bearer(officer, name="CI")
    assert api_client.get(ME, **headers).status_code == 200
    token = ApiToken.objects.get(user=officer)
    client.force_login(officer)
    response = client.post(pages_url("api_tokens:revoke", token.pk))
    assert response.status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert AuditEvent.objects.filter(action="api.token_revoked", actor=officer).count() == 1
    body = assert_problem(api_client.get(ME, **headers), 401, code="authentication_failed")
    assert "revoked" in body["detail"]
    assert api_client.get(ME, **headers)["WWW-Authenticate"].startswith("Bearer")
    # Revoking twice explains and records nothing more.
    client.post(pages_url("api_tokens:revoke", token.pk))
    assert AuditEvent.objects.filter(action="api.token_revoked").count() == 1


def test_nobody_revokes_someone_elses_token(client, officer, other_officer):
    bearer(officer)
    token = ApiToken.objects.get(user=officer)
    client.force_login(other_officer)
    assert client.post(pages_url("api_tokens:revoke", token.pk)).status_code == 404
    assert client.get(pages_url("api_tokens:revoke", token.pk)).status_code in (404, 405)
    with pytest.raises(ActionRefused):
        from api.services import api_token_revoke

        api_token_revoke(token=token, actor=other_officer)
    token.refresh_from_db()
    assert token.revoked_at is None


def test_an_expired_token_is_refused(api_client, officer):
    headers = bearer(officer)
    past = timezone.now() - datetime.timedelta(days=2)
    ApiToken.objects.update(created_at=past, expires_at=past + datetime.timedelta(days=1))
    body = assert_problem(api_client.get(ME, **headers), 401)
    assert "expired" in body["detail"]


@pytest.mark.parametrize(
    "header",
    ["Bearer ppp_not-a-real-token", "Bearer", "Bearer two parts", "Bearer ppp_\u00e9"],
)
def test_a_wrong_token_is_a_401_problem(api_client, officer, header):
    bearer(officer)
    response = api_client.get(ME, HTTP_AUTHORIZATION=header.encode("utf-8").decode("latin-1"))
    assert_problem(response, 401)


def test_without_credentials_a_private_resource_answers_401_with_a_bearer_challenge(api_client):
    response = api_client.get(ME)
    assert_problem(response, 401, code="not_authenticated")
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_an_inactive_persons_token_is_refused(api_client, officer):
    headers = bearer(officer)
    type(officer).objects.filter(pk=officer.pk).update(is_active=False)
    assert_problem(api_client.get(ME, **headers), 401)


def test_expiry_is_required_and_bounded(officer):
    with pytest.raises(ActionRefused):
        api_token_issue(user=officer, name="x", expires_in_days=366)
    with pytest.raises(ActionRefused):
        api_token_issue(user=officer, name="x", expires_in_days=0)
    with pytest.raises(ActionRefused):
        api_token_issue(user=officer, name="   ")
    assert not ApiToken.objects.exists()


def test_session_authentication_still_works_for_the_browser(client, officer):
    client.force_login(officer)
    assert client.get(ME).status_code == 200


def test_the_account_page_links_to_the_tokens(client, vendor_user):
    client.force_login(vendor_user)
    html = client.get(pages_url("accounts:password_change")).content.decode()
    assert 'href="/en/accounts/api-tokens/"' in html
