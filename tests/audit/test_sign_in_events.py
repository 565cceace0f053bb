"""Signing in and out through the real pages writes audit events; failed attempts too, without the password."""

import json

import pytest
from django.contrib.auth import SESSION_KEY
from django.test import Client

from audit.models import AuditEvent
from tests.accounts.factories import UserFactory

SIGN_IN = "/en/accounts/sign-in/"
SIGN_OUT = "/en/accounts/sign-out/"
PASSWORD = "correct-horse-battery"
WRONG_PASSWORD = "wrong-staple-battery-9"

pytestmark = pytest.mark.django_db


@pytest.fixture
def browser():
    return Client(enforce_csrf_checks=True, REMOTE_ADDR="198.51.100.7", HTTP_USER_AGENT="AuditTest/1.0")


def _post_form(browser: Client, url: str, data: dict):
    """POST the way a browser does: fetch the page for its CSRF cookie first."""
    browser.get(SIGN_IN)
    return browser.post(url, {**data, "csrfmiddlewaretoken": browser.cookies["csrftoken"].value})


def _sign_in(browser: Client, email: str, password: str):
    return _post_form(browser, SIGN_IN, {"username": email, "password": password})


def test_signing_in_writes_a_signed_in_event_with_the_actor(browser, officer):
    response = _sign_in(browser, officer.email, PASSWORD)

    assert response.status_code == 302
    assert browser.session[SESSION_KEY] == str(officer.pk)
    event = AuditEvent.objects.get(action="auth.signed_in")
    assert event.actor_id == officer.pk
    assert event.actor_label == "officer@example.gov"
    assert event.object_type == "accounts.user"
    assert event.object_id == str(officer.pk)
    assert event.agency_id == officer.agency_id is not None
    assert event.payload == {"ip": "198.51.100.7", "user_agent": "AuditTest/1.0"}
    record = json.loads(event.canonical)
    assert (record["action"], record["actor_id"], record["actor"]) == ("auth.signed_in", officer.pk, officer.email)
    assert PASSWORD not in event.canonical
    assert not AuditEvent.objects.filter(action="auth.sign_in_failed").exists()


def test_a_wrong_password_writes_a_failed_sign_in_with_the_attempted_email_and_no_password(browser, officer):
    response = _sign_in(browser, officer.email, WRONG_PASSWORD)

    assert response.status_code == 200  # the form again, with its error
    assert SESSION_KEY not in browser.session
    assert not AuditEvent.objects.filter(action="auth.signed_in").exists()
    event = AuditEvent.objects.get(action="auth.sign_in_failed")
    assert event.actor_id is None
    assert event.actor_label == "anonymous"
    assert event.payload["attempted_email"] == "officer@example.gov"
    assert event.payload["ip"] == "198.51.100.7"
    assert json.loads(event.canonical)["payload"] == event.payload
    assert WRONG_PASSWORD not in event.canonical
    assert PASSWORD not in event.canonical
    assert "password" not in event.canonical.lower()
    assert "*****" not in event.canonical  # not even Django's masked stand-in for it


def test_a_sign_in_attempt_for_an_unknown_address_is_recorded(browser):
    _sign_in(browser, "nobody@example.gov", WRONG_PASSWORD)

    event = AuditEvent.objects.get()
    assert event.action == "auth.sign_in_failed"
    assert event.payload["attempted_email"] == "nobody@example.gov"
    assert WRONG_PASSWORD not in event.canonical


def test_signing_out_writes_a_signed_out_event_with_the_actor(browser):
    person = UserFactory(email="reader@example.gov")
    _sign_in(browser, person.email, PASSWORD)
    assert browser.session[SESSION_KEY] == str(person.pk)

    response = _post_form(browser, SIGN_OUT, {})

    assert response.status_code == 302
    assert SESSION_KEY not in browser.session
    assert list(AuditEvent.objects.order_by("sequence").values_list("action", flat=True)) == [
        "auth.signed_in",
        "auth.signed_out",
    ]
    event = AuditEvent.objects.get(action="auth.signed_out")
    assert (event.actor_id, event.actor_label) == (person.pk, "reader@example.gov")
    assert event.object_id == str(person.pk)
    assert event.agency_id is None


def test_signing_out_when_not_signed_in_writes_nothing(browser):
    response = _post_form(browser, SIGN_OUT, {})
    assert response.status_code == 302
    assert not AuditEvent.objects.exists()
