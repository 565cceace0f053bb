"""A signatory's signing key follows their password: re-encrypted when they change it, retired when it is
reset or set by an administrator (nobody knows the old one, so the key cannot be opened any more; the person
asks for a new certificate on the signing page). Called inside the password change's own transaction."""

from __future__ import annotations

from django.utils import timezone

from audit.services import audit_event_append
from contracts import pki
from contracts.models import SignerKey


def signer_key_rewrap(*, user, old_password: str, new_password: str) -> SignerKey | None:
    """The same signing key, encrypted under the new password; retired if the old one does not open it."""
    key = SignerKey.objects.select_for_update().filter(user=user, retired_at__isnull=True).first()
    if key is None:
        return None
    try:
        encrypted = pki.reencrypt_signer_key(key.encrypted_private_key_pem.encode("ascii"), old_password, new_password)
    except pki.CertificateError:
        signer_key_retire(user=user, reason="did not open with the old password")
        return None
    SignerKey.objects.filter(pk=key.pk).update(encrypted_private_key_pem=encrypted.decode("ascii"))
    audit_event_append(action="contracts.signer_key_rewrapped", actor=user, obj=key, payload={})
    return key


def signer_key_retire(*, user, reason: str, actor=None) -> SignerKey | None:
    """Retire the person's signing key: after a reset its password is gone."""
    key = SignerKey.objects.select_for_update().filter(user=user, retired_at__isnull=True).first()
    if key is None:
        return None
    SignerKey.objects.filter(pk=key.pk).update(retired_at=timezone.now())
    audit_event_append(
        action="contracts.signer_key_retired", actor=actor or user, obj=key, payload={"reason": reason[:200]}
    )
    return key
