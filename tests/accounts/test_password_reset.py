"""Password reset through the real pages, and password change: e-mails, one-use links, audit events."""

import re
from unittest import mock

import pytest
from django.contrib.auth import SESSION_KEY
from django.core import mail
from django.test import Client
from django.utils import translation

from audit.models import AuditEvent
from tests.accounts.factories import UserFactory
from tests.html_checks import check_page

RESET = "/en/accounts/password-reset/"
RESET_SENT = "/en/accounts/password-reset/sent/"
CHANGE = "/en/accounts/password-change/"
PASSWORD = "correct-horse-battery"
NEW_PASSWORD = "quiet-lantern-orchard-42"

pytestmark = pytest.mark.django_db


@pytest.fixture
def browser():
    return Client(enforce_csrf_checks=True, REMOTE_ADDR="198.51.100.9", HTTP_USER_AGENT="ResetTest/1.0")


def _post(browser: Client, url: str, data: dict, page: str | None = None):
    """POST the way a browser does: fetch the page for its CSRF cookie first."""
    browser.get(page or url)
    return browser.post(url, {**data, "csrfmiddlewaretoken": browser.cookies["csrftoken"].value})


def _without_csrf(response) -> str:
    """The page with its per-response CSRF token (the only part that always differs) blanked out."""
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", response.content.decode())


def _link(message) -> str:
    match = re.search(r"https?://[^/\s]+(/\S+/password-reset/[^/\s]+/[^/\s]+/)", message.body)
    assert match, message.body
    return match.group(1)


def _follow_link_and_set(browser: Client, link: str, password: str):
    page = browser.get(link, follow=True)
    set_url = page.redirect_chain[-1][0] if page.redirect_chain else link
    return page, browser.post(
        set_url,
        {
            "new_password1": password,
            "new_password2": password,
            "csrfmiddlewaretoken": browser.cookies["csrftoken"].value,
        },
    )


@pytest.mark.parametrize("lang", ["en", "ar"])
def test_the_pages_have_a_title_one_heading_and_labelled_fields(client, lang):
    titles = set()
    for path in ["password-reset/", "password-reset/sent/", "password-reset/done/", "password-reset/MQ/bad-token/"]:
        response = client.get(f"/{lang}/accounts/{path}")
        assert response.status_code == 200, path
        html = response.content.decode()
        report = check_page(html)
        assert report.lang == lang
        assert report.main_count == 1
        assert not report.unlabelled_controls
        assert html.count("<h1") == 1
        titles.add(report.title)
    assert len(titles) == 4


def test_the_sign_in_page_links_to_the_reset_page(client):
    assert 'href="/en/accounts/password-reset/"' in client.get("/en/accounts/sign-in/").content.decode()


def test_known_and_unknown_addresses_get_the_same_answer_and_only_the_known_one_an_email(browser):
    person = UserFactory(email="reader@example.gov", preferred_language="en")

    known = _post(browser, RESET, {"email": "Reader@Example.gov"})
    unknown = _post(browser, RESET, {"email": "nobody@example.gov"})

    assert known.status_code == unknown.status_code == 302
    assert known["Location"] == unknown["Location"] == RESET_SENT
    assert _without_csrf(browser.get(known["Location"])) == _without_csrf(browser.get(unknown["Location"]))
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [person.email]
    assert "/en/accounts/password-reset/" in mail.outbox[0].body


def test_inactive_people_get_no_email(browser):
    UserFactory(email="gone@example.gov", is_active=False)
    assert _post(browser, RESET, {"email": "gone@example.gov"})["Location"] == RESET_SENT
    assert mail.outbox == []


def test_the_link_sets_the_new_password_and_works_only_once(browser):
    person = UserFactory(email="reader@example.gov", preferred_language="en")
    _post(browser, RESET, {"email": person.email})
    link = _link(mail.outbox[0])

    page, response = _follow_link_and_set(browser, link, NEW_PASSWORD)

    assert "Choose a new password" in page.content.decode()
    assert response.status_code == 302
    assert response["Location"] == "/en/accounts/password-reset/done/"
    person.refresh_from_db()
    assert person.check_password(NEW_PASSWORD)
    assert not person.check_password(PASSWORD)

    again = Client().get(link, follow=True)
    assert "This reset link cannot be used" in again.content.decode()
    assert 'name="new_password1"' not in again.content.decode()


def test_the_new_password_must_pass_the_validators(browser):
    person = UserFactory(email="reader@example.gov", preferred_language="en")
    _post(browser, RESET, {"email": person.email})
    _page, response = _follow_link_and_set(browser, _link(mail.outbox[0]), "12345")
    assert response.status_code == 200
    person.refresh_from_db()
    assert person.check_password(PASSWORD)
    assert not AuditEvent.objects.filter(action="auth.password_reset_completed").exists()


def test_the_email_is_written_in_the_persons_preferred_language(browser):
    person = UserFactory(email="arabic@example.gov", preferred_language="ar")
    english = UserFactory(email="english@example.gov", preferred_language="en")
    with translation.override("en"):
        from django.template.loader import render_to_string

        english_subject = render_to_string("accounts/email/password_reset_subject.txt").strip()
    with translation.override("ar"):
        arabic_subject = render_to_string("accounts/email/password_reset_subject.txt").strip()

    languages = []
    real_render = render_to_string

    def spy(template_name, *args, **kwargs):
        languages.append((template_name, translation.get_language()))
        return real_render(template_name, *args, **kwargs)

    with mock.patch("django.template.loader.render_to_string", side_effect=spy):
        _post(browser, RESET, {"email": person.email})  # asked for from the English page
        _post(browser, RESET, {"email": english.email}, page="/ar/accounts/password-reset/")

    rendered = [(name, language) for name, language in languages if name.startswith("accounts/email/")]
    assert rendered == [
        ("accounts/email/password_reset_subject.txt", "ar"),
        ("accounts/email/password_reset_body.txt", "ar"),
        ("accounts/email/password_reset_subject.txt", "en"),
        ("accounts/email/password_reset_body.txt", "en"),
    ]
    arabic_mail, english_mail = mail.outbox
    # The link opens the reset page in the person's language.
    assert "/ar/accounts/password-reset/" in arabic_mail.body
    assert "/en/accounts/password-reset/" in english_mail.body
    assert english_mail.subject == english_subject
    assert arabic_mail.subject == arabic_subject
    if arabic_subject != english_subject:  # once the catalogue translates it
        assert arabic_mail.subject != english_mail.subject
    assert translation.get_language() == "en"  # the override did not leak into the request


def test_the_audit_events_hold_neither_the_token_nor_the_password(browser):
    person = UserFactory(email="reader@example.gov", preferred_language="en")
    _post(browser, RESET, {"email": "Reader@example.gov"})
    _post(browser, RESET, {"email": "nobody@example.gov"})
    link = _link(mail.outbox[0])
    _follow_link_and_set(browser, link, NEW_PASSWORD)

    requested = list(AuditEvent.objects.filter(action="auth.password_reset_requested").order_by("sequence"))
    assert [event.payload for event in requested] == [
        {"attempted_email": "Reader@example.gov"},
        {"attempted_email": "nobody@example.gov"},
    ]
    assert all(event.actor_id is None and event.actor_label == "anonymous" for event in requested)
    completed = AuditEvent.objects.get(action="auth.password_reset_completed")
    assert (completed.actor_id, completed.actor_label) == (person.pk, person.email)
    assert completed.object_id == str(person.pk)

    uidb64, token = link.rstrip("/").split("/")[-2:]
    for event in AuditEvent.objects.all():
        for secret in (token, NEW_PASSWORD, PASSWORD, "set-password"):
            assert secret not in event.canonical, (event.action, secret)
        assert "password" not in event.canonical.lower().replace("password_reset", "")


def test_the_password_change_page_needs_a_signed_in_person(client):
    response = client.get(CHANGE)
    assert response.status_code == 302
    assert response["Location"].startswith("/en/accounts/sign-in/")


def test_changing_the_password_works_keeps_the_person_signed_in_and_is_audited(browser):
    person = UserFactory(email="reader@example.gov")
    browser.force_login(person)
    page = browser.get(CHANGE)
    report = check_page(page.content.decode())
    assert report.title.startswith("Change your password")
    assert not report.unlabelled_controls

    wrong = _post(
        browser,
        CHANGE,
        {"old_password": "not-the-password", "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert wrong.status_code == 200
    assert not AuditEvent.objects.filter(action="auth.password_changed").exists()

    response = _post(
        browser, CHANGE, {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    )

    assert response.status_code == 302
    assert response["Location"] == "/en/accounts/password-change/done/"
    assert browser.get(response["Location"]).status_code == 200
    assert browser.session[SESSION_KEY] == str(person.pk)
    person.refresh_from_db()
    assert person.check_password(NEW_PASSWORD)
    event = AuditEvent.objects.get(action="auth.password_changed")
    assert (event.actor_id, event.object_id) == (person.pk, str(person.pk))
    assert event.payload == {"ip": "198.51.100.9", "user_agent": "ResetTest/1.0"}
    assert NEW_PASSWORD not in event.canonical
    assert PASSWORD not in event.canonical
