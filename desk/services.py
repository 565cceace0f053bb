"""Every write to the desk: one transaction each, the row locked, the actor checked against the item's agency,
the step recorded in the item's history and in the audit log, and e-mails sent after the commit.

A refusal raises ``PermissionDenied`` (who), ``ActionRefused`` (state, period, flood) or ``ValidationError``
(what was typed) and leaves nothing half-written.
"""

from __future__ import annotations

import datetime
import functools
import hashlib
import hmac
import logging
import secrets
import zoneinfo
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.roles import Role
from audit.services import audit_event_append
from core.exceptions import ActionRefused, require_perm
from desk.emails import send_sender_email
from desk.models import DeskEntry, DeskItem, EntryKind, FaqEntry, ItemKind, ItemStatus, ItemTopic, TrackingKey
from notifications.services import notify

logger = logging.getLogger(__name__)

#: The sender's audit label: anyone may write to the desk, so the log names no one.
PUBLIC_ACTOR = "public (desk)"
ANSWER_MAX_CHARS = 10000
NOTE_MAX_CHARS = 2000


# Keys, addresses and the flood throttle ---------------------------------------------------------------


def key_digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _issue_key(item: DeskItem) -> str:
    """A new private tracking key for ``item``; only its hash is stored."""
    key = secrets.token_urlsafe(32)
    TrackingKey.objects.create(item=item, key_hash=key_digest(key))
    return key


def address_hash(address: str) -> str:
    """The address a request came from, keyed with the site's secret: countable, not readable."""
    if not address:
        return ""
    return hmac.new(settings.SECRET_KEY.encode(), f"desk:{address}".encode(), hashlib.sha256).hexdigest()


def is_flooding(*, address: str, email: str, now: datetime.datetime) -> bool:
    """Whether the address (or the e-mail address) has sent ``DESK_THROTTLE_COUNT`` items in the window.

    Each count is one bounded query on an index: at most ``limit`` rows read."""
    limit = settings.DESK_THROTTLE_COUNT
    recent = DeskItem.objects.filter(received_at__gte=now - settings.DESK_THROTTLE_WINDOW)
    hashed = address_hash(address)
    if hashed and len(recent.filter(address_hash=hashed).values_list("pk", flat=True)[:limit]) >= limit:
        return True
    # Addresses are stored lower-cased (``item_submit``), so the exact match uses the (sender_email, received_at)
    # index.
    email = (email or "").strip().lower()
    return bool(email) and len(recent.filter(sender_email=email).values_list("pk", flat=True)[:limit]) >= limit


def item_for_tracking(reference: str, key: str) -> DeskItem | None:
    """The item whose private link this is, or None: a wrong reference and a wrong key look the same.

    The key's hash is compared in constant time with each of the item's key hashes (all of them, always)."""
    if not reference or not key or len(key) > 100 or len(reference) > 20:
        return None
    item = DeskItem.objects.select_related("agency", "tender", "contract__tender").filter(reference=reference).first()
    if item is None:
        # The same work as a found item, so that timing tells nothing about which references exist.
        hmac.compare_digest(key_digest(key), "0" * 64)
        return None
    digest = key_digest(key)
    matched = False
    for stored in item.tracking_keys.values_list("key_hash", flat=True):
        matched |= hmac.compare_digest(stored, digest)
    return item if matched else None


# People -------------------------------------------------------------------------------------------


def agency_officers(agency_id: int):
    """The agency's procurement officers: the colleagues an item may be assigned to."""
    return User.objects.filter(agency_id=agency_id, groups__name=Role.PROCUREMENT_OFFICER, is_active=True).order_by(
        "full_name", "pk"
    )


def agency_supervisors(agency) -> list[User]:
    """The agency's supervisors, told of overdue items: the agency's users with the Approver role (the steering
    committee's members for that agency); for a department without its own, those of its parent agency."""
    current, seen = agency, set()
    while current is not None and current.pk not in seen:
        seen.add(current.pk)
        found = list(User.objects.filter(agency_id=current.pk, groups__name=Role.APPROVER, is_active=True))
        if found:
            return found
        current = current.parent
    return []


# Helpers ------------------------------------------------------------------------------------------


def _now() -> datetime.datetime:
    return timezone.now()


def _due_at(kind: str, start: datetime.datetime) -> datetime.datetime:
    return start + datetime.timedelta(hours=settings.DESK_RESPONSE_HOURS[kind])


def _locked(item: DeskItem) -> DeskItem:
    return DeskItem.objects.select_for_update(of=("self",)).select_related("agency").get(pk=item.pk)


def _record(
    item: DeskItem,
    *,
    kind: EntryKind,
    action: str,
    actor=None,
    text: str = "",
    source: str = "",
    payload: dict[str, Any] | None = None,
    now: datetime.datetime,
) -> None:
    DeskEntry.objects.create(item=item, kind=kind, text=text, actor=actor, created_at=now)
    audit_event_append(
        action=action,
        actor=actor,
        actor_label="" if actor is not None else PUBLIC_ACTOR,
        obj=item,
        payload={"source": source, "target": item.status, **(payload or {})},
    )


def _after_commit_email(item: DeskItem, *, kind: str, key: str) -> None:
    def send() -> None:
        send_sender_email(item.pk, kind=kind, key=key)

    # robust: a failing mail server must not turn a committed action into an error page.
    transaction.on_commit(send, robust=True)


def _text(value: str, *, field: str, limit: int, required: bool = True) -> str:
    value = (value or "").strip()
    if required and not value:
        raise ValidationError({field: _("This field is required.")})
    if len(value) > limit:
        message = _("Write at most %(limit)s characters (you wrote %(count)s).")
        raise ValidationError({field: message % {"limit": limit, "count": len(value)}})
    return value


def _refuse_wrong_state(item: DeskItem) -> ActionRefused:
    return ActionRefused(
        _("This cannot be done while the item is %(status)s.") % {"status": item.get_status_display().lower()}
    )


def _atomic(function):
    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        with transaction.atomic():
            return function(*args, **kwargs)

    return wrapper


# Sending and following (the public) ---------------------------------------------------------------


@_atomic
def item_submit(
    *,
    kind: str,
    topic: str,
    subject: str,
    message: str,
    sender_name: str,
    sender_email: str,
    sender_phone: str = "",
    language: str,
    address: str,
    agency=None,
    tender=None,
    contract=None,
    sender_user=None,
) -> tuple[DeskItem, str]:
    """Record what someone sent the desk; return the item and its private tracking key (shown once, e-mailed).

    The agency is the tender's or the contract's when the item is about one (only public ones may be named);
    otherwise the one chosen. Too many items from one address in a short time are refused."""
    now = _now()
    if kind not in ItemKind.values or topic not in ItemTopic.values:
        raise ValidationError(_("Choose the type of your message and what it is about."))
    if topic == ItemTopic.TENDER:
        if tender is None or not tender.is_public:
            raise ValidationError({"reference": _("No published tender has this reference.")})
        agency, contract = tender.agency, None
    elif topic == ItemTopic.CONTRACT:
        if contract is None or not is_public_contract(contract):
            raise ValidationError({"reference": _("No signed contract has this reference.")})
        agency, tender = contract.agency, contract.tender
    else:
        tender = contract = None
        if agency is None:
            raise ValidationError({"agency": _("Choose the agency your message is about.")})
    if is_flooding(address=address, email=sender_email, now=now):
        raise ActionRefused(_("Too many messages were sent from here in the last few minutes. Please try again later."))
    item = DeskItem(
        kind=kind,
        topic=topic,
        agency=agency,
        tender=tender,
        contract=contract,
        sender_name=_text(sender_name, field="sender_name", limit=200),
        sender_email=(sender_email or "").strip().lower(),
        sender_phone=_text(sender_phone, field="sender_phone", limit=30, required=False),
        sender_user=sender_user if sender_user is not None and sender_user.is_authenticated else None,
        language=language if language in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE,
        subject=_text(subject, field="subject", limit=200),
        message=_text(message, field="message", limit=settings.DESK_MESSAGE_MAX_CHARS),
        address_hash=address_hash(address),
        received_at=now,
        due_at=_due_at(kind, now),
    )
    item.full_clean(exclude=["reference", "address_hash"])
    item.save()
    # The reference follows the row's number, which no concurrent submission can share.
    year = timezone.localtime(now, zoneinfo.ZoneInfo(settings.DISPLAY_TIME_ZONE)).year
    item.reference = f"DSK-{year}-{item.pk:06d}"
    item.save(update_fields=["reference"])
    key = _issue_key(item)
    _record(
        item,
        kind=EntryKind.RECEIVED,
        action="desk.item_received",
        actor=item.sender_user,
        now=now,
        payload={"kind": kind, "topic": topic, "language": item.language},
    )
    _after_commit_email(item, kind="received", key=key)
    return item, key


def is_public_contract(contract) -> bool:
    """A contract the public may name: signed by both parties (in force, completed or terminated after)."""
    from contracts.models import ContractStatus

    return contract.status in (ContractStatus.ACTIVE, ContractStatus.COMPLETED, ContractStatus.TERMINATED) and (
        contract.activated_at is not None
    )


@_atomic
def item_reopen(*, item: DeskItem, reason: str) -> DeskItem:
    """The sender reopens an answered or closed item within ``DESK_REOPEN_DAYS`` of its answer or closing."""
    now = _now()
    item = _locked(item)
    reason = _text(reason, field="reason", limit=NOTE_MAX_CHARS)
    if item.status not in (ItemStatus.ANSWERED, ItemStatus.CLOSED):
        raise _refuse_wrong_state(item)
    if not item.can_reopen(now):
        raise ActionRefused(
            _("The period to reopen this item (%(days)s days) is over. Please send a new message.")
            % {"days": settings.DESK_REOPEN_DAYS}
        )
    source = item.status
    item.reopen(due_at=_due_at(item.kind, now))
    item.save(update_fields=["status", "due_at", "escalated_at", "closed_at", "closing_note", "reopened_count"])
    _record(item, kind=EntryKind.REOPENED, action="desk.item_reopened", text=reason, source=source, now=now)
    # Whoever had it (or, if nobody had, the agency's officers) hears that it is back in the queue.
    assignee = item.assigned_to if item.assigned_to_id else None
    notify(
        recipients=[assignee] if assignee is not None else list(agency_officers(item.agency_id)),
        kind="desk.reopened",
        context={"reference": item.reference, "subject": item.subject, "url": _item_url(item)},
    )
    return item


# The agency's officers ----------------------------------------------------------------------------


@_atomic
def item_assign(*, actor, item: DeskItem, assignee: User) -> DeskItem:
    """Give the item to an officer of its agency (the actor or a colleague)."""
    now = _now()
    item = _locked(item)
    require_perm(actor, "desk.handle_item", item)
    if not agency_officers(item.agency_id).filter(pk=assignee.pk).exists():
        raise ValidationError({"assignee": _("Choose an officer of the item's agency.")})
    if item.status not in (ItemStatus.RECEIVED, ItemStatus.ASSIGNED):
        raise _refuse_wrong_state(item)
    source = item.status
    item.assign(to=assignee, now=now)
    item.save(update_fields=["status", "assigned_to", "assigned_at"])
    _record(
        item,
        kind=EntryKind.ASSIGNED,
        action="desk.item_assigned",
        actor=actor,
        source=source,
        now=now,
        payload={"assigned_to": assignee.email},
    )
    if assignee.pk != actor.pk:
        notify(
            recipients=[assignee],
            kind="desk.assigned",
            context={"reference": item.reference, "subject": item.subject, "url": _item_url(item)},
        )
    return item


@_atomic
def item_answer(*, actor, item: DeskItem, answer: str) -> DeskItem:
    """Answer the sender (e-mailed in their language with a tracking link). An item nobody had yet is first
    assigned to the officer who answers it."""
    now = _now()
    item = _locked(item)
    require_perm(actor, "desk.handle_item", item)
    answer = _text(answer, field="answer", limit=ANSWER_MAX_CHARS)
    if item.status == ItemStatus.RECEIVED:
        item.assign(to=actor, now=now)
        item.save(update_fields=["status", "assigned_to", "assigned_at"])
        _record(
            item,
            kind=EntryKind.ASSIGNED,
            action="desk.item_assigned",
            actor=actor,
            source=ItemStatus.RECEIVED,
            now=now,
            payload={"assigned_to": actor.email},
        )
    if item.status != ItemStatus.ASSIGNED:
        raise _refuse_wrong_state(item)
    item.give_answer(text=answer, by=actor, now=now)
    item.save(update_fields=["status", "answer", "answered_by", "answered_at", "first_answered_at"])
    _record(
        item,
        kind=EntryKind.ANSWERED,
        action="desk.item_answered",
        actor=actor,
        text=answer,
        source=ItemStatus.ASSIGNED,
        now=now,
        payload={"answer": answer, "late": now > item.due_at},
    )
    _after_commit_email(item, kind="answered", key=_issue_key(item))
    return item


@_atomic
def item_close(*, actor, item: DeskItem, note: str = "") -> DeskItem:
    """Close the item: after its answer, or without one (a duplicate, spam, …) with a note the sender reads."""
    now = _now()
    item = _locked(item)
    require_perm(actor, "desk.handle_item", item)
    note = _text(note, field="note", limit=NOTE_MAX_CHARS, required=item.status != ItemStatus.ANSWERED)
    if item.status not in (ItemStatus.RECEIVED, ItemStatus.ASSIGNED, ItemStatus.ANSWERED):
        raise _refuse_wrong_state(item)
    source = item.status
    item.close(note=note, now=now)
    item.save(update_fields=["status", "closing_note", "closed_at"])
    _record(item, kind=EntryKind.CLOSED, action="desk.item_closed", actor=actor, text=note, source=source, now=now)
    return item


def _item_url(item: DeskItem) -> str:
    from django.urls import reverse

    return f"{settings.SITE_URL}{reverse('desk:item', args=[item.pk])}"


def escalate_overdue(*, now: datetime.datetime | None = None) -> list[str]:
    """Escalate every item still unanswered after its type's response-time target, once (again only after a
    reopening), to its agency's supervisors — the agency's users with the Approver role (see
    ``agency_supervisors``). Return the references. Safe to run again and concurrently: each item in its own
    transaction under a row lock; rows another worker holds are skipped."""
    now = now or _now()
    escalated: list[str] = []
    candidates = list(DeskItem.objects.due_for_escalation(now).order_by("due_at", "pk").values_list("pk", flat=True))
    for pk in candidates:
        try:
            reference = _escalate_one(pk, now=now)
        except Exception:  # noqa: BLE001 - one failing item must not keep the others from being escalated
            logger.exception("Escalating desk item %s failed", pk)
            continue
        if reference:
            escalated.append(reference)
    return escalated


def _escalate_one(pk: int, *, now: datetime.datetime) -> str:
    with transaction.atomic():
        item = (
            DeskItem.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("agency__parent")
            .filter(pk=pk)
            .filter(Q(escalated_at__isnull=True), status__in=(ItemStatus.RECEIVED, ItemStatus.ASSIGNED))
            .filter(due_at__lte=now)
            .first()
        )
        if item is None:
            return ""
        item.escalated_at = now
        item.save(update_fields=["escalated_at"])
        supervisors = agency_supervisors(item.agency)
        overdue_hours = int((now - item.due_at).total_seconds() // 3600)
        _record(
            item,
            kind=EntryKind.ESCALATED,
            action="desk.item_escalated",
            now=now,
            source=item.status,
            payload={"due_at": item.due_at.isoformat(), "supervisors": [user.email for user in supervisors]},
        )
        notify(
            recipients=supervisors,
            kind="desk.escalated",
            context={
                "reference": item.reference,
                "subject": item.subject,
                "item_kind": item.kind,
                "due_at": item.due_at.isoformat(),
                "overdue_hours": overdue_hours,
                "url": _item_url(item),
            },
        )
        return item.reference


# Frequently asked questions -----------------------------------------------------------------------


@_atomic
def faq_publish(
    *, actor, item: DeskItem, question_en: str = "", question_ar: str = "", answer_en: str = "", answer_ar: str = ""
) -> FaqEntry:
    """Publish an answered inquiry as a frequently asked question, in the words the officer edited (the sender's
    name and details never appear). One entry per item; publishing again replaces its text."""
    now = _now()
    item = _locked(item)
    require_perm(actor, "desk.publish_faq", item)
    if item.kind != ItemKind.INQUIRY or item.first_answered_at is None:
        raise ActionRefused(_("Only an answered inquiry can be published as a frequently asked question."))
    texts = {
        "question_en": _text(question_en, field="question_en", limit=ANSWER_MAX_CHARS, required=False),
        "question_ar": _text(question_ar, field="question_ar", limit=ANSWER_MAX_CHARS, required=False),
        "answer_en": _text(answer_en, field="answer_en", limit=ANSWER_MAX_CHARS, required=False),
        "answer_ar": _text(answer_ar, field="answer_ar", limit=ANSWER_MAX_CHARS, required=False),
    }
    errors = {}
    for language in ("en", "ar"):
        question, answer = texts[f"question_{language}"], texts[f"answer_{language}"]
        if bool(question) != bool(answer):
            missing = f"answer_{language}" if question else f"question_{language}"
            errors[missing] = _("Write both the question and the answer in this language, or neither.")
    if errors:
        raise ValidationError(errors)
    if not any(texts.values()):
        raise ValidationError(_("Write the question and the answer in at least one language."))
    entry = FaqEntry.objects.filter(item=item).first()
    action = "desk.faq_published" if entry is None else "desk.faq_changed"
    if entry is None:
        entry = FaqEntry(item=item, agency=item.agency)
    for name, value in texts.items():
        setattr(entry, name, value)
    entry.is_published = True
    entry.published_at = now
    entry.published_by = actor
    entry.save()
    audit_event_append(action=action, actor=actor, obj=entry, payload={"item": item.reference, **texts})
    return entry


@_atomic
def faq_withdraw(*, actor, entry: FaqEntry) -> FaqEntry:
    entry = FaqEntry.objects.select_for_update().get(pk=entry.pk)
    require_perm(actor, "desk.publish_faq", entry)
    if entry.is_published:
        entry.is_published = False
        entry.save(update_fields=["is_published"])
        audit_event_append(action="desk.faq_withdrawn", actor=actor, obj=entry)
    return entry
