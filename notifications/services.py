from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction

from notifications.models import Notification


def notify(*, recipients: Iterable, kind: str, tender=None, context: dict | None = None) -> list[Notification]:
    """Create in-app notifications now and e-mail them after the current transaction commits.

    Who was told what is itself part of the record (bidders must be told of an award, signatories of a text
    awaiting them): one audit event per call names the kind and the recipients, scoped to the tender and, for
    a contract's notifications, the contract, so that it appears in the contract's trail."""
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
        _audit(created, kind=kind, tender=tender, context=context or {})
        # robust: a failing mail server must not turn a committed action into an error page.
        transaction.on_commit(send, robust=True)
    return created


def _audit(created: list[Notification], *, kind: str, tender, context: dict) -> None:
    from audit.services import audit_event_append

    scope = tender.audit_scope() if tender is not None else {}
    if isinstance(context.get("contract_id"), int):
        scope = {**scope, "contract_id": context["contract_id"]}
    audit_event_append(
        action="notification.sent",
        object_type="notifications.notification",
        object_id=created[0].pk,
        object_label=kind,
        scope=scope,
        payload={
            "kind": kind,
            "recipients": [notification.recipient.email for notification in created],
            "notifications": [notification.pk for notification in created],
        },
    )


def notification_mark_read(*, user, notification_ids: Iterable[int]) -> int:
    from django.utils import timezone

    return (
        Notification.objects.for_user(user)
        .unread()
        .filter(pk__in=list(notification_ids))
        .update(read_at=timezone.now())
    )
