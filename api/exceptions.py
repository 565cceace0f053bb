"""The API's own exceptions. This module imports no DRF view code, so that the authentication and parser
classes named in the settings can import it without a circular import."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, status


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = _("The request body is too large.")
    default_code = "payload_too_large"


class CsrfRefused(DjangoPermissionDenied):
    """A browser session's write without a valid CSRF token (see ``BrowserSessionAuthentication``)."""


class Conflict(exceptions.APIException):
    """The action is refused in the object's present state (wrong state, past a deadline, four eyes, …)."""

    status_code = status.HTTP_409_CONFLICT
    default_detail = _("The action is refused.")
    default_code = "action_refused"
