"""Issuing and revoking personal API tokens. Every change is audited."""

from __future__ import annotations

import datetime
import hashlib
import secrets
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from api.models import ApiToken
from audit.services import audit_event_append
from core.exceptions import ActionRefused

#: Every token starts with this, so that secret scanners (and people) recognise one.
TOKEN_PREFIX = "ppp_"  # noqa: S105 (not a secret: the visible start of every token)
#: How many characters of the token are kept, in clear, to tell tokens apart.
DISPLAY_PREFIX_LENGTH = 12
DEFAULT_EXPIRY_DAYS = 90
MAX_EXPIRY_DAYS = 365


def token_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class IssuedToken:
    token: ApiToken
    secret: str  # shown once, never stored


@transaction.atomic
def api_token_issue(
    *, user, name: str, expires_in_days: int = DEFAULT_EXPIRY_DAYS, via: str = "profile"
) -> IssuedToken:
    """Make a new token for ``user`` (who is also the actor: nobody makes tokens for someone else)."""
    if not (user and user.is_authenticated and user.is_active):
        raise ActionRefused(_("Only an active, signed-in person can have API tokens."))
    if not 1 <= expires_in_days <= MAX_EXPIRY_DAYS:
        raise ActionRefused(_("A token expires after 1 to %(days)d days.") % {"days": MAX_EXPIRY_DAYS})
    name = name.strip()
    if not name:
        raise ActionRefused(_("Give the token a name, so that you can recognise it later."))
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    now = timezone.now()
    token = ApiToken.objects.create(
        user=user,
        name=name[:100],
        prefix=secret[:DISPLAY_PREFIX_LENGTH],
        token_hash=token_hash(secret),
        created_at=now,
        expires_at=now + datetime.timedelta(days=expires_in_days),
    )
    audit_event_append(
        action="api.token_issued",
        actor=user,
        obj=token,
        payload={"name": token.name, "prefix": token.prefix, "expires_at": token.expires_at, "via": via},
    )
    return IssuedToken(token=token, secret=secret)


@transaction.atomic
def api_token_revoke(*, token: ApiToken, actor) -> ApiToken:
    """Revoke one of the actor's own tokens; it stops working at once."""
    token = ApiToken.objects.select_for_update().get(pk=token.pk)
    if token.user_id != getattr(actor, "pk", None):
        raise ActionRefused(_("You can revoke only your own tokens."))
    if token.revoked_at is not None:
        raise ActionRefused(_("This token is already revoked."))
    token.revoked_at = timezone.now()
    token.save(update_fields=["revoked_at"])
    audit_event_append(
        action="api.token_revoked", actor=actor, obj=token, payload={"name": token.name, "prefix": token.prefix}
    )
    return token
