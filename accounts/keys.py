"""Personal keys: the key pair with which a person opens sealed bids, its private half locked by their password.

* ``personal_key_create`` — the person sets up a key by re-entering their password;
* ``personal_key_rewrap`` — a password change re-encrypts the same key (the old password is known);
* ``personal_key_replace`` — a password reset cannot unlock the old key: it is retired and a new one made.
  Shares already given to the old key are lost for that person (that is why opening needs any two of at
  least three members, and why every tender has an offline recovery share).

Every change writes the key's public fingerprint (never anything secret) to the audit log.
"""

from __future__ import annotations

import hashlib

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import PersonalKey, User
from audit.services import audit_event_append
from core.exceptions import ActionRefused
from procurement import sealing


def fingerprint(public_key: bytes) -> str:
    return hashlib.sha256(bytes(public_key)).hexdigest()


def active_key(user: User) -> PersonalKey | None:
    return PersonalKey.objects.active().filter(user=user).first()


def _store(user: User, password: str) -> PersonalKey:
    generated = sealing.generate_personal_keypair(password=password)
    return PersonalKey.objects.create(
        user=user, public_key=generated.public_key, fingerprint=fingerprint(generated.public_key), blob=generated.blob
    )


def _record(user: User, key: PersonalKey, action: str, actor=None, **details) -> None:
    audit_event_append(
        action=f"personal_key.{action}",
        actor=actor or user,
        obj=user,
        scope={"agency_id": user.agency_id},
        payload={"fingerprint": key.fingerprint, **details},
    )


@transaction.atomic
def personal_key_create(*, user: User, password: str) -> PersonalKey:
    """Set up the signed-in person's key; they prove who they are by typing their password again."""
    if not password or not user.check_password(password):
        raise ValidationError({"password": _("This is not your password.")})
    User.objects.select_for_update().get(pk=user.pk)
    if active_key(user) is not None:
        raise ActionRefused(_("You already have a personal key."))
    key = _store(user, password)
    _record(user, key, "created")
    return key


def personal_key_rewrap(*, user: User, old_password: str, new_password: str) -> PersonalKey | None:
    """Re-encrypt the person's key under their new password (same key pair). Call inside the password
    change's transaction. A key that no longer opens with the old password is retired instead."""
    key = PersonalKey.objects.select_for_update().active().filter(user=user).first()
    if key is None:
        return None
    try:
        blob = sealing.rewrap_personal_key(blob=bytes(key.blob), old_password=old_password, new_password=new_password)
    except sealing.WrongPassword:
        return personal_key_replace(user=user, new_password=new_password, reason="did not open with the old password")
    PersonalKey.objects.filter(pk=key.pk).update(blob=blob)
    key.blob = blob
    _record(user, key, "rewrapped")
    return key


def personal_key_replace(*, user: User, new_password: str, reason: str, actor=None) -> PersonalKey | None:
    """Retire the person's key (its password is gone) and make a new one with the new password.

    Only people who had a key get a new one. Call inside the password reset's transaction.
    """
    old = PersonalKey.objects.select_for_update().active().filter(user=user).first()
    if old is None:
        return None
    PersonalKey.objects.filter(pk=old.pk).update(retired_at=timezone.now(), retired_reason=reason[:200])
    _record(user, old, "retired", actor=actor, reason=reason)
    key = _store(user, new_password)
    _record(user, key, "created", actor=actor, replaces=old.fingerprint)
    return key


def unlock(*, user: User, password: str):
    """The person's private key, in memory, for one action; refuses a wrong password or a missing key."""
    key = active_key(user)
    if key is None:
        raise ActionRefused(_("You have no personal key; set one up on your profile first."))
    if not user.check_password(password or ""):
        raise ValidationError({"password": _("This is not your password.")})
    try:
        return key, sealing.unlock_personal_key(blob=bytes(key.blob), password=password)
    except sealing.WrongPassword:
        # The account's password is right but the key was locked with another one: the password was set
        # without going through a change or reset (which keep the key in step).
        raise ActionRefused(
            _("Your personal key does not open with your current password. Ask an administrator to replace it.")
        ) from None
