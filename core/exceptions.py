from django.core.exceptions import PermissionDenied


def require_perm(actor, permission: str, obj=None) -> None:
    """Raise PermissionDenied unless ``actor`` holds ``permission`` (on ``obj``)."""
    if actor is None or not actor.has_perm(permission, obj):
        raise PermissionDenied(permission)


class ActionRefused(Exception):
    """A domain rule refused the action (wrong state, past a deadline, four eyes, …).

    The message is translated and meant for the person who tried; views show it as it is.
    """

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return str(self.message)
