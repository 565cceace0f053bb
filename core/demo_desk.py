"""The demo's desk: inquiries, suggestions and complaints to the Ministry of Communications, all made through the
services at past moments — one just received (in Arabic), one overdue and escalated to the ministry's approver,
one answered and published as a frequently asked question, one reopened by its sender, one closed — and answered
items over the last weeks, for the response-time chart.

Idempotent: a demo item (found by its sender and subject) that exists is left as it is. Each demo item gets a
known tracking key (derived from its reference) so that the guide can print working tracking links: demo only.
"""

from __future__ import annotations

import datetime
import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from unittest import mock

from django.utils import timezone

from accounts.models import User
from desk import services
from desk.models import DeskItem, TrackingKey
from procurement.models import Agency

DEMO_SENDER_DOMAIN = "demo-sender.example"
HOUR = datetime.timedelta(hours=1)

#: (key, kind, language, sender, subject, message, hours ago received, what happens after).
ITEMS = [
    ("received", "inquiry", "ar", "منى الشمري", "التسجيل في البوابة", "كيف أسجل شركتي في بوابة المشتريات؟", 2, []),
    (
        "escalated",
        "complaint",
        "en",
        "Faisal Al-Dosari",
        "The licence renewal page fails",
        "Every time I press Renew, the page shows an error. I tried three times this week.",
        72,
        ["escalate"],
    ),
    (
        "faq",
        "inquiry",
        "en",
        "Nadia Karim",
        "Paying the tender document fee",
        "Can I pay the tender document fee by card? I am Nadia from Riyadh.",
        120,
        ["assign", "answer", "faq"],
    ),
    (
        "reopened",
        "suggestion",
        "ar",
        "سلمان العنزي",
        "إشعارات الرسائل النصية",
        "أقترح إرسال رسالة نصية عند نشر منافسة جديدة في مجال اهتمامي.",
        96,
        ["assign", "answer", "reopen"],
    ),
    (
        "closed",
        "complaint",
        "en",
        "Tariq Haddad",
        "Clarification answer came late",
        "The answer to my clarification question came two days before the deadline.",
        200,
        ["assign", "answer", "close"],
    ),
]
#: Past answered items for the chart: (weeks ago, hours to answer).
HISTORY = [(1, 6), (2, 20), (3, 30), (4, 12), (5, 40), (6, 8), (7, 18), (8, 26), (9, 50), (10, 10), (11, 16)]


@contextmanager
def _clock(moment: datetime.datetime) -> Iterator[None]:
    with mock.patch.object(services, "_now", return_value=moment):
        yield


def demo_tracking_key(reference: str) -> str:
    """The demo item's known tracking key (real items only ever get random ones)."""
    return "demo-" + hashlib.sha256(f"desk-demo:{reference}".encode()).hexdigest()[:40]


def _email(key: str) -> str:
    return f"{key}@{DEMO_SENDER_DOMAIN}"


def _submit(agency, *, key, kind, language, sender, subject, message, at) -> DeskItem:
    with _clock(at):
        item, _key = services.item_submit(
            kind=kind,
            topic="service",
            agency=agency,
            subject=subject,
            message=message,
            sender_name=sender,
            sender_email=_email(key),
            language=language,
            address="",
        )
    TrackingKey.objects.create(item=item, key_hash=services.key_digest(demo_tracking_key(item.reference)))
    return item


def seed_demo_desk(*, officer: User, colleague: User) -> int:
    """Create the demo desk items that do not exist yet; return how many were made."""
    agency = Agency.objects.get(code="MCIT")
    now = timezone.now()
    made = 0
    for key, kind, language, sender, subject, message, hours_ago, steps in ITEMS:
        if DeskItem.objects.filter(sender_email=_email(key), subject=subject).exists():
            continue
        received = now - hours_ago * HOUR
        item = _submit(
            agency, key=key, kind=kind, language=language, sender=sender, subject=subject, message=message, at=received
        )
        moment = received
        for step in steps:
            moment += 3 * HOUR
            with _clock(moment):
                if step == "assign":
                    item = services.item_assign(actor=officer, item=item, assignee=colleague)
                elif step == "answer":
                    item = services.item_answer(actor=colleague, item=item, answer=_ANSWERS[key])
                elif step == "faq":
                    services.faq_publish(actor=colleague, item=item, **_FAQ)
                elif step == "reopen":
                    item = services.item_reopen(item=item, reason="الاقتراح لم يُنفذ بعد، هل من موعد؟")
                elif step == "close":
                    item = services.item_close(actor=colleague, item=item)
                elif step == "escalate":
                    services.escalate_overdue(now=now)
        made += 1
    for weeks_ago, hours in HISTORY:
        key = f"history-{weeks_ago}"
        subject = f"Question on the portal (week -{weeks_ago})"
        if DeskItem.objects.filter(sender_email=_email(key), subject=subject).exists():
            continue
        received = now - datetime.timedelta(weeks=weeks_ago)
        item = _submit(
            agency,
            key=key,
            kind="inquiry",
            language="en",
            sender="Demo Sender",
            subject=subject,
            message="Where do I find the tender documents?",
            at=received,
        )
        with _clock(received + hours * HOUR):
            item = services.item_answer(actor=colleague, item=item, answer="On the tender's public page.")
            services.item_close(actor=colleague, item=item)
        made += 1
    return made


_ANSWERS = {
    "faq": "Yes: the fee can be paid by any bank card on the tender's page, under Documents.",
    "reopened": "شكراً لاقتراحك، أحلناه إلى فريق البوابة لدراسته.",
    "closed": "We apologise: the officer answered late. We have reminded the team of the response times.",
}
_FAQ = {
    "question_en": "Can I pay the tender document fee by card?",
    "answer_en": "Yes: the fee can be paid by any bank card on the tender's page, under Documents.",
    "question_ar": "هل يمكنني دفع رسوم وثائق المنافسة بالبطاقة؟",
    "answer_ar": "نعم، يمكن دفع الرسوم بأي بطاقة مصرفية من صفحة المنافسة، في قسم الوثائق.",
}


def desk_demo_guide() -> list[str]:
    """One line per demo item: its state and its tracking link; where officers and the public find the desk."""
    lines = []
    for key, *_rest in ITEMS:
        item = DeskItem.objects.filter(sender_email=_email(key)).first()
        if item is None:
            continue
        state = item.get_status_display() + (", escalated" if item.escalated_at else "")
        state += ", published as a FAQ" if hasattr(item, "faq_entry") else ""
        state += f", reopened {item.reopened_count}×" if item.reopened_count else ""
        lines.append(
            f"{item.reference} ({item.get_kind_display()}, {state}): "
            f"/{item.language}/desk/track/{item.reference}/{demo_tracking_key(item.reference)}/"
        )
    if lines:
        lines.append("Send one at /en/desk/; officers: /en/desk/queue/ and /en/desk/dashboard/; FAQ: /en/desk/faq/.")
    return lines


__all__ = ["desk_demo_guide", "seed_demo_desk"]
