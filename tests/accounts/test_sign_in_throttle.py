"""Sign-in throttling: counted from the audit log's failed sign-ins, checked before the password."""

import datetime
from unittest import mock

import pytest
from django.contrib.auth import SESSION_KEY
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts import throttle
from audit.models import AuditEvent
from tests.accounts.factories import UserFactory

SIGN_IN = "/en/accounts/sign-in/"
PASSWORD = "correct-horse-battery"
WRONG_PASSWORD = "wrong-staple-battery-9"
IP = "198.51.100.7"
MESSAGE = "Too many unsuccessful sign-in attempts"

pytestmark = pytest.mark.django_db


def _browser(ip: str = IP) -> Client:
    return Client(enforce_csrf_checks=True, REMOTE_ADDR=ip, HTTP_USER_AGENT="ThrottleTest/1.0")


def _sign_in(browser: Client, email: str, password: str):
    browser.get(SIGN_IN)
    return browser.post(
        SIGN_IN,
        {"username": email, "password": password, "csrfmiddlewaretoken": browser.cookies["csrftoken"].value},
    )


def _fail(browser: Client, email: str, times: int) -> None:
    for _ in range(times):
        response = _sign_in(browser, email, WRONG_PASSWORD)
        assert response.status_code == 200
        assert MESSAGE not in response.content.decode()


def _later(minutes: float):
    """Move the throttle's clock (only the throttle's: the audit log keeps the real time)."""
    return mock.patch("accounts.throttle.now", return_value=timezone.now() + datetime.timedelta(minutes=minutes))


@pytest.fixture
def person(db):
    return UserFactory(email="reader@example.gov")


def test_four_failures_do_not_stop_the_right_password(person):
    browser = _browser()
    _fail(browser, person.email, throttle.MAX_FAILURES_PER_EMAIL - 1)
    assert _sign_in(browser, person.email, PASSWORD).status_code == 302
    assert browser.session[SESSION_KEY] == str(person.pk)


def test_after_five_failures_even_the_right_password_is_refused_with_a_message_and_audited(person):
    browser = _browser()
    _fail(browser, person.email, 5)

    response = _sign_in(browser, person.email.upper(), PASSWORD)

    assert response.status_code == 200
    assert SESSION_KEY not in browser.session
    html = response.content.decode()
    assert MESSAGE in html
    assert "try again after" in html
    assert "(in 15 minutes)" in html
    assert not AuditEvent.objects.filter(action="auth.signed_in").exists()
    # The password was not checked: no sixth failure, one throttled event instead.
    assert AuditEvent.objects.filter(action="auth.sign_in_failed").count() == 5
    event = AuditEvent.objects.get(action="auth.sign_in_throttled")
    assert event.payload == {"attempted_email": "READER@EXAMPLE.GOV", "ip": IP}
    assert (event.actor_id, event.actor_label) == (None, "anonymous")
    assert PASSWORD not in event.canonical


def test_the_refusal_is_before_the_password_check(person):
    _fail(_browser(), person.email, 5)
    with mock.patch("django.contrib.auth.forms.authenticate") as authenticate:
        response = _sign_in(_browser("203.0.113.50"), person.email, PASSWORD)
    assert MESSAGE in response.content.decode()
    authenticate.assert_not_called()


def test_the_refusal_is_shown_in_the_error_summary_of_the_arabic_page(person):
    browser = _browser()
    _fail(browser, person.email, 5)
    browser.get("/ar/accounts/sign-in/")
    response = browser.post(
        "/ar/accounts/sign-in/",
        {"username": person.email, "password": PASSWORD, "csrfmiddlewaretoken": browser.cookies["csrftoken"].value},
    )
    assert response.status_code == 200
    assert AuditEvent.objects.filter(action="auth.sign_in_throttled").count() == 1
    assert 'role="alert"' in response.content.decode()


def test_other_addresses_are_not_affected(person):
    other = UserFactory(email="other@example.gov")
    browser = _browser()
    _fail(browser, person.email, 5)

    assert _sign_in(browser, other.email, PASSWORD).status_code == 302
    assert not AuditEvent.objects.filter(action="auth.sign_in_throttled").exists()


def test_sign_in_works_again_after_fifteen_minutes(person):
    browser = _browser()
    _fail(browser, person.email, 5)
    with _later(10):
        response = _sign_in(browser, person.email, PASSWORD)
        assert MESSAGE in response.content.decode()
        assert "(in 5 minutes)" in response.content.decode()
    with _later(15.5):
        response = _sign_in(browser, person.email, PASSWORD)
    assert response.status_code == 302
    assert browser.session[SESSION_KEY] == str(person.pk)


def test_refusals_do_not_extend_the_pause(person):
    browser = _browser()
    _fail(browser, person.email, 5)
    for _ in range(3):
        assert MESSAGE in _sign_in(browser, person.email, PASSWORD).content.decode()
    with _later(15.5):
        assert _sign_in(browser, person.email, PASSWORD).status_code == 302


def test_twenty_failures_from_one_address_stop_every_account_from_it(person):
    attacker = _browser("203.0.113.66")
    for n in range(throttle.MAX_FAILURES_PER_IP):
        _fail(attacker, f"guess{n}@example.gov", 1)  # never 5 for one e-mail address

    response = _sign_in(attacker, person.email, PASSWORD)
    assert MESSAGE in response.content.decode()
    event = AuditEvent.objects.get(action="auth.sign_in_throttled")
    assert event.payload == {"attempted_email": person.email, "ip": "203.0.113.66"}

    # The same person from another address is not stopped.
    elsewhere = _browser("198.51.100.20")
    assert _sign_in(elsewhere, person.email, PASSWORD).status_code == 302
    with _later(16):
        assert _sign_in(attacker, person.email, PASSWORD).status_code == 302


def test_the_check_is_a_bounded_query_per_limit(person):
    _fail(_browser(), person.email, 5)
    with CaptureQueriesContext(connection) as queries:
        refusal = throttle.sign_in_refusal(email=person.email, ip=IP)
    assert refusal is not None and refusal.reason == "email"
    assert len(queries) == 2
    assert all("LIMIT" in query["sql"] for query in queries)
    assert throttle.sign_in_refusal(email="someone@example.gov", ip="") is None
