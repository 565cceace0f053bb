"""Personal keys (``accounts.keys``): made with the person's password, re-wrapped when they change it (through
the password-change page), retired and replaced when they reset it (through the reset-link page); every
change audited by fingerprint, never with a password."""

from __future__ import annotations

import pytest
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from accounts import keys
from accounts.models import PersonalKey
from accounts.roles import Role
from audit.models import AuditEvent
from core.exceptions import ActionRefused
from procurement import sealing
from procurement.models.bids import OpeningStatus
from tests.accounts.factories import UserFactory
from tests.procurement.bid_factories import (
    PASSWORD,
    bidder,
    clock,
    past_deadline,
    published_tender,
    submitted_bid,
)
from tests.procurement.bid_factories import committee_member as member_with_key

NEW_PASSWORD = "quiet-lantern-orchard-42"
WRONG_PASSWORD = "Tr0ub4dor&3-wrong"

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fast_keys_and_own_media(monkeypatch, settings, tmp_path):
    monkeypatch.setattr(sealing, "SCRYPT_N", 2**10)
    settings.MEDIA_ROOT = str(tmp_path / "media")


@pytest.fixture
def person():
    return UserFactory(roles=[Role.COMMITTEE_MEMBER], preferred_language="en")


def key_events(user, action=None) -> list[AuditEvent]:
    events = AuditEvent.objects.filter(action__startswith="personal_key.", object_id=str(user.pk))
    if action:
        events = events.filter(action=f"personal_key.{action}")
    return list(events.order_by("sequence"))


def assert_no_password_in_the_audit_log(*passwords: str) -> None:
    for event in AuditEvent.objects.all():
        for password in passwords:
            assert password not in event.canonical, event.action
            assert password not in str(event.payload), event.action


def opens_with(user, password) -> bool:
    """Whether the person's active key opens with ``password`` (checked on the key itself, not the account)."""
    key = keys.active_key(user)
    assert key is not None
    try:
        sealing.unlock_personal_key(blob=bytes(key.blob), password=password)
    except sealing.WrongPassword:
        return False
    return True


def change_password_via_the_page(user, *, old=PASSWORD, new=NEW_PASSWORD):
    browser = Client()
    browser.force_login(user)
    return browser.post(
        reverse("accounts:password_change"), {"old_password": old, "new_password1": new, "new_password2": new}
    )


def reset_password_via_the_page(user, *, new=NEW_PASSWORD):
    browser = Client()
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    page = browser.get(reverse("accounts:password_reset_confirm", args=[uid, token]), follow=True)
    assert page.status_code == 200
    set_url = page.redirect_chain[-1][0]
    return browser.post(set_url, {"new_password1": new, "new_password2": new})


# Creation -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("password", [WRONG_PASSWORD, "", None])
def test_creating_a_key_needs_the_persons_own_password(person, password):
    with pytest.raises(ValidationError) as error:
        keys.personal_key_create(user=person, password=password)
    assert "password" in error.value.message_dict
    assert not PersonalKey.objects.exists()
    assert not key_events(person)


def test_creating_a_key_with_the_right_password(person):
    key = keys.personal_key_create(user=person, password=PASSWORD)

    assert keys.active_key(person) == key
    assert key.fingerprint == keys.fingerprint(bytes(key.public_key))
    assert opens_with(person, PASSWORD)
    assert not opens_with(person, WRONG_PASSWORD)
    (event,) = key_events(person, "created")
    assert event.actor == person
    assert event.payload == {"fingerprint": key.fingerprint}
    assert_no_password_in_the_audit_log(PASSWORD, WRONG_PASSWORD)


def test_a_second_key_is_refused(person):
    first = keys.personal_key_create(user=person, password=PASSWORD)
    with pytest.raises(ActionRefused):
        keys.personal_key_create(user=person, password=PASSWORD)
    assert list(PersonalKey.objects.filter(user=person)) == [first]
    assert len(key_events(person, "created")) == 1


def test_unlocking_without_a_key_is_refused(person):
    with pytest.raises(ActionRefused):
        keys.unlock(user=person, password=PASSWORD)


def test_unlocking_needs_the_accounts_password(person):
    keys.personal_key_create(user=person, password=PASSWORD)
    key, private_key = keys.unlock(user=person, password=PASSWORD)
    assert sealing.public_key_bytes(private_key) == bytes(key.public_key)
    with pytest.raises(ValidationError):
        keys.unlock(user=person, password=WRONG_PASSWORD)


# Password change: the same key, re-wrapped ---------------------------------------------------------------


def test_a_password_change_rewraps_the_same_key(person):
    key = keys.personal_key_create(user=person, password=PASSWORD)
    old_blob = bytes(key.blob)

    response = change_password_via_the_page(person)

    assert response.status_code == 302
    person.refresh_from_db()
    assert person.check_password(NEW_PASSWORD)
    key.refresh_from_db()
    assert keys.active_key(person) == key  # the same row, the same key pair
    assert key.retired_at is None
    assert bytes(key.blob) != old_blob
    assert key.fingerprint == keys.fingerprint(bytes(key.public_key))
    assert opens_with(person, NEW_PASSWORD)
    assert not opens_with(person, PASSWORD)
    assert PersonalKey.objects.filter(user=person).count() == 1
    (event,) = key_events(person, "rewrapped")
    assert event.payload == {"fingerprint": key.fingerprint}
    assert not key_events(person, "retired")
    assert_no_password_in_the_audit_log(PASSWORD, NEW_PASSWORD)


def test_a_refused_password_change_leaves_the_key_alone(person):
    key = keys.personal_key_create(user=person, password=PASSWORD)
    response = change_password_via_the_page(person, old=WRONG_PASSWORD)
    assert response.status_code == 200
    key.refresh_from_db()
    assert opens_with(person, PASSWORD)
    assert not key_events(person, "rewrapped")
    assert_no_password_in_the_audit_log(WRONG_PASSWORD, NEW_PASSWORD)


def test_after_a_password_change_the_member_still_opens_bids_with_the_new_password():
    tender, members, _recovery = published_tender()
    submitted_bid(tender, bidder()[1])
    assert change_password_via_the_page(members[0]).status_code == 302
    members[0].refresh_from_db()

    from procurement import opening_services

    with clock(past_deadline(tender)):
        with pytest.raises(ActionRefused):
            opening_services.opening_confirm(actor=members[0], tender=tender, password=PASSWORD)
        opening_services.opening_confirm(actor=members[0], tender=tender, password=NEW_PASSWORD)
        opening = opening_services.opening_confirm(actor=members[1], tender=tender, password=PASSWORD)
    assert opening.status == OpeningStatus.COMPLETED


def test_a_key_that_no_longer_opens_with_the_old_password_is_replaced_on_change(person):
    key = keys.personal_key_create(user=person, password=PASSWORD)
    stray = sealing.generate_personal_keypair(password="some other password")
    PersonalKey.objects.filter(pk=key.pk).update(blob=stray.blob)

    assert change_password_via_the_page(person).status_code == 302

    key.refresh_from_db()
    assert key.retired_at is not None
    new = keys.active_key(person)
    assert new.fingerprint != key.fingerprint
    assert opens_with(person, NEW_PASSWORD)


# Password reset: the key is retired and a new one made -----------------------------------------------------


def test_a_password_reset_retires_the_key_and_makes_a_new_one(person):
    old = keys.personal_key_create(user=person, password=PASSWORD)

    response = reset_password_via_the_page(person)

    assert response.status_code == 302
    person.refresh_from_db()
    assert person.check_password(NEW_PASSWORD)
    old.refresh_from_db()
    assert old.retired_at is not None
    assert old.retired_reason == "password reset"
    new = keys.active_key(person)
    assert new.pk != old.pk
    assert new.fingerprint != old.fingerprint
    assert bytes(new.public_key) != bytes(old.public_key)
    assert opens_with(person, NEW_PASSWORD)
    assert PersonalKey.objects.filter(user=person).count() == 2
    (retired,) = key_events(person, "retired")
    assert retired.payload == {"fingerprint": old.fingerprint, "reason": "password reset"}
    created = key_events(person, "created")
    assert [e.payload["fingerprint"] for e in created] == [old.fingerprint, new.fingerprint]
    assert created[-1].payload["replaces"] == old.fingerprint
    assert retired.sequence < created[-1].sequence
    assert_no_password_in_the_audit_log(PASSWORD, NEW_PASSWORD)


def test_a_committee_member_who_reset_their_password_holds_no_usable_share():
    tender, members, _recovery = published_tender()
    submitted_bid(tender, bidder()[1])
    assert reset_password_via_the_page(members[0]).status_code == 302
    members[0].refresh_from_db()

    from procurement import opening_services

    with clock(past_deadline(tender)), pytest.raises(ActionRefused, match="replaced"):
        opening_services.opening_confirm(actor=members[0], tender=tender, password=NEW_PASSWORD)


# People without a key ---------------------------------------------------------------------------------------


def test_a_person_without_a_key_gets_none_on_change_or_reset(person):
    assert change_password_via_the_page(person).status_code == 302
    assert not PersonalKey.objects.filter(user=person).exists()
    person.refresh_from_db()
    assert reset_password_via_the_page(person, new="another-long-passphrase-77").status_code == 302
    assert not PersonalKey.objects.filter(user=person).exists()
    assert not key_events(person)


def test_other_peoples_keys_are_untouched(person):
    other = member_with_key()
    other_key = keys.active_key(other)
    keys.personal_key_create(user=person, password=PASSWORD)
    reset_password_via_the_page(person)
    other_key.refresh_from_db()
    assert other_key.retired_at is None
    assert opens_with(other, PASSWORD)
