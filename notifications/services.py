from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction

from notifications.models import Notification


def notify(*, recipients: Iterable, kind: str, tender=None, context: dict | None = None) -> list[Notification]:
    """Create in-app notifications now and e-mail them after the current transaction commits."""
    seen: set[int] = set()
    created: list[Notification] = []
    for user in recipients:
        if user is None or user.pk in seen or not user.is_active:
            continue
        seen.add(user.pk)
        created.append(Notification.objects.create(recipient=user, kind=kind, tender=tender, context=context or {}))

    def send() -> None:
        from notifications.tasks import send_notification_email

        for notification in created:
            send_notification_email.enqueue(notification.pk)

    if created:
        # robust: a failing mail server must not turn a committed action into an error page.
        transaction.on_commit(send, robust=True)
    return created


def notification_mark_read(*, user, notification_ids: Iterable[int]) -> int:
    from django.utils import timezone

    return (
        Notification.objects.for_user(user)
        .unread()
        .filter(pk__in=list(notification_ids))
        .update(read_at=timezone.now())
    )
