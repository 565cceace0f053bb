"""What every app's views share: one permission check and one way to call a service from a form."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError

from core.exceptions import ActionRefused


def require(request, permission: str, obj=None) -> None:
    """403 unless the signed-in person holds ``permission`` (on ``obj``), as accounts/rules.py decides."""
    if not request.user.has_perm(permission, obj):
        raise PermissionDenied


def run_service(form, call, *, fallback_field: str | None = None):
    """Call a service; what it refuses goes back onto the form, which keeps what was typed.

    Field errors land on their fields (or ``fallback_field``/the form when the form has no such
    field); an ``ActionRefused`` becomes a form-wide error with its translated message.
    """
    try:
        return call()
    except ActionRefused as refusal:
        form.add_error(None, refusal.message)
    except ValidationError as error:
        if hasattr(error, "error_dict"):
            for field, errors in error.error_dict.items():
                form.add_error(field if field in form.fields else fallback_field, errors)
        else:
            form.add_error(fallback_field, error)
    return None
