"""Errors as RFC 9457 problem details (``application/problem+json``).

Every error the API answers has ``type``, ``title``, ``status``, ``detail`` and ``instance``; a validation
error adds ``errors`` (field → messages). What the services refuse (``ActionRefused``, Django's
``ValidationError`` and ``PermissionDenied``) becomes a 4xx here, so that a refusal is never a 500.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import exception_handler

from api.exceptions import Conflict, CsrfRefused, PayloadTooLarge
from core.exceptions import ActionRefused

PROBLEM_CONTENT_TYPE = "application/problem+json"
PROBLEM_TYPE_BASE = "urn:ppp-procurement:problem:"


TITLES = {
    "invalid": _("The request is not valid."),
    "parse_error": _("The request body is not valid JSON."),
    "not_authenticated": _("Authentication is required."),
    "authentication_failed": _("Authentication failed."),
    "permission_denied": _("You do not have permission to do this."),
    "not_found": _("Not found."),
    "method_not_allowed": _("Method not allowed."),
    "not_acceptable": _("Not acceptable."),
    "unsupported_media_type": _("Unsupported media type."),
    "throttled": _("Too many requests."),
    "payload_too_large": PayloadTooLarge.default_detail,
    "action_refused": Conflict.default_detail,
}


def _as_api_exception(exc):
    """The service layer's and Django's exceptions, as the DRF exceptions that carry their status."""
    if isinstance(exc, ActionRefused):
        return Conflict(exc.message)
    if isinstance(exc, DjangoValidationError):
        if hasattr(exc, "error_dict"):
            return exceptions.ValidationError(exc.message_dict)
        return exceptions.ValidationError({"non_field_errors": exc.messages})
    if isinstance(exc, RequestDataTooBig):
        return PayloadTooLarge()
    if isinstance(exc, Http404):
        return exceptions.NotFound()
    if isinstance(exc, DjangoPermissionDenied):
        return exceptions.PermissionDenied(str(exc) if isinstance(exc, CsrfRefused) else None)
    return exc


def field_errors(data, prefix: str = "") -> dict[str, list[str]]:
    """DRF's nested error structure as flat ``{"field.sub": [messages]}``."""
    flat: dict[str, list[str]] = {}
    if isinstance(data, dict):
        for key, value in data.items():
            flat.update(field_errors(value, f"{prefix}.{key}" if prefix else str(key)))
    elif isinstance(data, list) and data and all(isinstance(item, str) for item in data):
        flat[prefix or "non_field_errors"] = [str(item) for item in data]
    elif isinstance(data, list):
        for index, value in enumerate(data):
            flat.update(field_errors(value, f"{prefix}.{index}" if prefix else str(index)))
    elif data is not None:
        flat[prefix or "non_field_errors"] = [str(data)]
    return flat


def problem(*, status_code: int, code: str, title: str, detail: str, instance: str, **extra) -> dict:
    return {
        "type": PROBLEM_TYPE_BASE + code,
        "title": str(title),
        "status": status_code,
        "detail": str(detail),
        "instance": instance,
        **extra,
    }


def problem_response(request, *, status_code: int, code: str, title: str, detail: str, headers=None, **extra):
    response = Response(
        problem(status_code=status_code, code=code, title=title, detail=detail, instance=request.path, **extra),
        status=status_code,
        headers=headers,
        content_type=PROBLEM_CONTENT_TYPE,
    )
    return response


def problem_exception_handler(exc, context):
    """DRF's ``EXCEPTION_HANDLER``: every handled error as a problem-details body."""
    exc = _as_api_exception(exc)
    response = exception_handler(exc, context)
    if response is None:
        return None  # not an API error: a real server error, reported as such
    request = context["request"]
    code = "error"
    extra: dict = {}
    if isinstance(exc, exceptions.ValidationError):
        code = "invalid"
        extra["errors"] = field_errors(exc.detail)
        detail = _("Correct the errors in the request and send it again.")
        if list(extra["errors"]) == ["non_field_errors"] and len(extra["errors"]["non_field_errors"]) == 1:
            detail = extra["errors"]["non_field_errors"][0]
    else:
        codes = exc.get_codes() if isinstance(exc, exceptions.APIException) else None
        code = codes if isinstance(codes, str) else getattr(exc, "default_code", "error")
        detail = exc.detail if isinstance(exc, exceptions.APIException) else str(exc)
    if isinstance(exc, exceptions.Throttled) and exc.wait is not None:
        extra["retry_after"] = int(exc.wait)
    response.data = problem(
        status_code=response.status_code,
        code=code,
        title=TITLES.get(code, response.status_text),
        detail=str(detail),
        instance=request.path,
        **extra,
    )
    response.content_type = PROBLEM_CONTENT_TYPE
    return response
