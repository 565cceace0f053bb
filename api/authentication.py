"""``Authorization: Bearer <token>``: a personal API token, looked up by the SHA-256 of the secret."""

from __future__ import annotations

import datetime
import hmac

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions

from api.exceptions import CsrfRefused
from api.models import ApiToken
from api.services import token_hash

#: ``last_used_at`` is written at most this often per token, not on every request.
LAST_USED_RESOLUTION = datetime.timedelta(minutes=1)


class BearerTokenAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(_("The Authorization header must be: Bearer <token>."))
        try:
            secret = header[1].decode("ascii")
        except UnicodeDecodeError as error:
            raise exceptions.AuthenticationFailed(_("The token is not valid.")) from error
        return self.authenticate_secret(secret)

    def authenticate_secret(self, secret: str):
        digest = token_hash(secret)
        # The lookup is by the hash of the secret, never by the secret itself; the comparison below is
        # constant-time all the same.
        token = ApiToken.objects.select_related("user").filter(token_hash=digest).first()
        if token is None or not hmac.compare_digest(token.token_hash, digest):
            raise exceptions.AuthenticationFailed(_("The token is not valid."))
        now = timezone.now()
        if token.revoked_at is not None:
            raise exceptions.AuthenticationFailed(_("The token has been revoked."))
        if token.expires_at <= now:
            raise exceptions.AuthenticationFailed(_("The token has expired."))
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed(_("The account is inactive."))
        if token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
            token.last_used_at = now
        return token.user, token

    def authenticate_header(self, request) -> str:
        return f'{self.keyword} realm="api"'


class BrowserSessionAuthentication(authentication.SessionAuthentication):
    """DRF's session authentication, refusing a write without a CSRF token in a way that keeps the person on
    the request: the audit middleware then logs an auditor's refused write, as it does for the web pages."""

    def enforce_csrf(self, request):
        try:
            super().enforce_csrf(request)
        except exceptions.PermissionDenied as error:
            # Not an APIException, so that DRF does not replace the signed-in person with an anonymous one.
            raise CsrfRefused(str(error.detail)) from error
