"""The personal key page: a person who may open sealed bids sees their key's fingerprint, or creates one by
typing their password again; vendor users have no such page."""

from __future__ import annotations

import zoneinfo

import pytest
from django.conf import settings
from django.urls import reverse

from accounts.models import PersonalKey
from accounts.roles import Role
from audit.models import AuditEvent
from procurement import sealing
from tests.accounts.factories import UserFactory
from tests.html_checks import check_page
from tests.procurement.bid_factories import PASSWORD, committee_member

pytestmark = pytest.mark.django_db

PAGE = "accounts:personal_key"


@pytest.fixture(autouse=True)
def _fast_keys(monkeypatch):
    monkeypatch.setattr(sealing, "SCRYPT_N", 2**10)


def test_a_person_without_a_key_creates_one_by_typing_their_password(client):
    person = UserFactory(roles=[Role.COMMITTEE_MEMBER])
    client.force_login(person)

    page = client.get(reverse(PAGE))
    assert page.status_code == 200
    report = check_page(page.content)
    assert report.unlabelled_controls == [] and report.main_count == 1
    assert 'name="password"' in page.content.decode()

    response = client.post(reverse(PAGE), {"password": PASSWORD}, follow=True)

    key = PersonalKey.objects.active().get(user=person)
    html = response.content.decode()
    assert key.fingerprint in html
    assert "Your personal key was created." in html
    assert 'name="password"' not in html
    (event,) = AuditEvent.objects.filter(action="personal_key.created", actor=person)
    assert event.payload == {"fingerprint": key.fingerprint}
    assert PASSWORD not in str(event.payload)


def test_a_wrong_password_creates_no_key_and_says_why(client, officer):
    client.force_login(officer)
    response = client.post(reverse(PAGE), {"password": "not-my-password"})
    assert response.status_code == 200
    assert "This is not your password." in response.content.decode()
    assert check_page(response.content).has_error_summary
    assert not PersonalKey.objects.filter(user=officer).exists()


def test_a_person_with_a_key_sees_its_fingerprint_and_date_and_cannot_make_a_second(client):
    person = committee_member()
    key = PersonalKey.objects.active().get(user=person)
    client.force_login(person)
    html = client.get(reverse(PAGE)).content.decode()
    assert key.fingerprint in html
    # shown in the person's agency's time zone, whatever the hour in UTC
    zone = (person.agency and person.agency.time_zone) or settings.DISPLAY_TIME_ZONE
    shown = key.created_at.astimezone(zoneinfo.ZoneInfo(zone))
    assert shown.strftime("%Y-%m-%d %H:%M") in html
    client.post(reverse(PAGE), {"password": PASSWORD})
    assert PersonalKey.objects.filter(user=person).count() == 1


def test_vendor_users_have_no_personal_key_page(client, vendor_user):
    client.force_login(vendor_user)
    assert client.get(reverse(PAGE)).status_code == 403
    assert client.post(reverse(PAGE), {"password": PASSWORD}).status_code == 403
    assert not PersonalKey.objects.filter(user=vendor_user).exists()


def test_visitors_are_sent_to_sign_in(client):
    response = client.get(reverse(PAGE))
    assert response.status_code == 302
    assert reverse("accounts:login") in response["Location"]
