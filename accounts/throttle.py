"""Sign-in throttling, counted from the audit log's "auth.sign_in_failed" events.

An attempt is refused, before the password is checked, when in the last ``WINDOW`` there were
``MAX_FAILURES_PER_EMAIL`` or more failed sign-ins for the same e-mail address (case-insensitive), or
``MAX_FAILURES_PER_IP`` or more from the same IP address. Refusals are not failures: they do not extend
the pause, so sign-in works again ``WINDOW`` after the failures that caused it.

Each count is one bounded query: ``occurred_at >= now - WINDOW`` first (indexed), then the action and the
payload key, at most ``limit`` rows read.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.utils.timezone import now  # the tests patch ``accounts.throttle.now``

from audit.models import AuditEvent
from audit.services import audit_event_append

FAILED_ACTION = "auth.sign_in_failed"
THROTTLED_ACTION = "auth.sign_in_throttled"

WINDOW = datetime.timedelta(minutes=15)
MAX_FAILURES_PER_EMAIL = 5
MAX_FAILURES_PER_IP = 20


@dataclass(frozen=True)
class Refusal:
    """Why an attempt is refused, and from when it may be tried again."""

    reason: str  # "email" or "ip"
    retry_at: datetime.datetime


def _retry_at(recent_failures, limit: int, current: datetime.datetime) -> datetime.datetime | None:
    """When fewer than ``limit`` of the failures will be inside the window, or None if that is already so."""
    times = list(recent_failures.order_by("-occurred_at").values_list("occurred_at", flat=True)[:limit])
    if len(times) < limit:
        return None
    # The limit-th most recent failure is the one that has to leave the window.
    return max(times[limit - 1] + WINDOW, current)


def sign_in_refusal(*, email: str, ip: str) -> Refusal | None:
    """A :class:`Refusal` if a sign-in for ``email`` from ``ip`` must not be tried now, else None."""
    current = now()
    recent = AuditEvent.objects.filter(occurred_at__gte=current - WINDOW, action=FAILED_ACTION)
    refusals = []
    if email:
        retry_at = _retry_at(recent.filter(payload__attempted_email__iexact=email), MAX_FAILURES_PER_EMAIL, current)
        if retry_at is not None:
            refusals.append(Refusal("email", retry_at))
    if ip:
        retry_at = _retry_at(recent.filter(payload__ip=ip), MAX_FAILURES_PER_IP, current)
        if retry_at is not None:
            refusals.append(Refusal("ip", retry_at))
    return max(refusals, key=lambda refusal: refusal.retry_at, default=None)


def record_throttled(*, email: str, ip: str) -> None:
    audit_event_append(
        action=THROTTLED_ACTION,
        actor=None,
        actor_label="anonymous",
        payload={"attempted_email": email[:254], "ip": ip},
    )
