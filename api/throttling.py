"""Throttling per token and per address, with rates from ``REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]``."""

from __future__ import annotations

from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

from api.models import ApiToken
from audit.services import client_address


class _SettingsRateThrottle(SimpleRateThrottle):
    def get_rate(self):
        # Read at each request (not once at import), so that a deployment or a test can change the rate.
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)


class TokenRateThrottle(_SettingsRateThrottle):
    """Requests made with one API token."""

    scope = "token"

    def get_cache_key(self, request, view):
        if not isinstance(request.auth, ApiToken):
            return None
        return self.cache_format % {"scope": self.scope, "ident": request.auth.pk}


class AddressRateThrottle(_SettingsRateThrottle):
    """Requests from one address, whoever makes them."""

    scope = "address"

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": client_address(request) or "unknown"}


class TokenIssueRateThrottle(AddressRateThrottle):
    """Token requests (e-mail and password) from one address."""

    scope = "token_issue"
