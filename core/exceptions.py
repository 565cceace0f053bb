from django.core.exceptions import PermissionDenied


def require_perm(actor, permission: str, obj=None) -> None:
    """Raise PermissionDenied unless ``actor`` holds ``permission`` (on ``obj``)."""
    if actor is None or not actor.has_perm(permission, obj):
        raise PermissionDenied(permission)
