"""The desk: inquiries, suggestions and complaints that anyone sends about a service, a tender or a contract.

An item is answered by the officers of the agency it concerns. Its sender follows it through a private
tracking link: a long random key of which only the SHA-256 is stored (one per link e-mailed or shown), so that
nobody holding the database can follow an item in the sender's name.
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from django_fsm import RETURN_VALUE, FSMField, transition

from core.i18n import is_arabic
from procurement.models.tenders import ProtectedStateMixin


class ItemKind(models.TextChoices):
    INQUIRY = "inquiry", pgettext_lazy("desk item kind", "Inquiry")
    SUGGESTION = "suggestion", pgettext_lazy("desk item kind", "Suggestion")
    COMPLAINT = "complaint", pgettext_lazy("desk item kind", "Complaint")


class ItemTopic(models.TextChoices):
    SERVICE = "service", pgettext_lazy("desk item topic", "A service of an agency")
    TENDER = "tender", pgettext_lazy("desk item topic", "A tender")
    CONTRACT = "contract", pgettext_lazy("desk item topic", "A contract")


class ItemStatus(models.TextChoices):
    RECEIVED = "received", pgettext_lazy("desk item status", "Received")
    ASSIGNED = "assigned", pgettext_lazy("desk item status", "Assigned")
    ANSWERED = "answered", pgettext_lazy("desk item status", "Answered")
    CLOSED = "closed", pgettext_lazy("desk item status", "Closed")


#: States in which an item waits for the agency's answer (and can be overdue).
AWAITING_ANSWER = (ItemStatus.RECEIVED, ItemStatus.ASSIGNED)


class DeskItemQuerySet(models.QuerySet):
    def for_agency(self, agency_id) -> DeskItemQuerySet:
        return self.filter(agency_id=agency_id)

    def awaiting_answer(self) -> DeskItemQuerySet:
        return self.filter(status__in=AWAITING_ANSWER)

    def overdue(self, now: datetime.datetime) -> DeskItemQuerySet:
        return self.awaiting_answer().filter(due_at__lte=now)

    def due_for_escalation(self, now: datetime.datetime) -> DeskItemQuerySet:
        return self.overdue(now).filter(escalated_at__isnull=True)


class DeskItem(ProtectedStateMixin, models.Model):
    #: DSK-<year>-<row number>: set right after the insert, in the same transaction (NULL, never "", until then,
    #: since a unique column accepts several NULLs), so that no two concurrent submissions can share one.
    reference = models.CharField(_("reference"), max_length=20, unique=True, null=True, editable=False)  # noqa: DJ001
    kind = models.CharField(_("type"), max_length=12, choices=ItemKind.choices)
    topic = models.CharField(_("about"), max_length=10, choices=ItemTopic.choices, default=ItemTopic.SERVICE)
    agency = models.ForeignKey(
        "procurement.Agency", verbose_name=_("agency"), on_delete=models.PROTECT, related_name="desk_items"
    )
    tender = models.ForeignKey(
        "procurement.Tender",
        verbose_name=_("tender"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="desk_items",
    )
    contract = models.ForeignKey(
        "contracts.Contract",
        verbose_name=_("contract"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="desk_items",
    )
    sender_name = models.CharField(_("your name"), max_length=200)
    sender_email = models.EmailField(_("your e-mail address"))
    sender_phone = models.CharField(_("your telephone number"), max_length=30, blank=True)
    #: The signed-in person who sent it, if any (anyone may send an item without an account).
    sender_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    language = models.CharField(_("language"), max_length=5, choices=settings.LANGUAGES)
    subject = models.CharField(_("subject"), max_length=200)
    message = models.TextField(_("message"))
    #: HMAC of the address the item came from: the flood throttle counts it; the address itself is not kept here.
    address_hash = models.CharField(max_length=64, blank=True, editable=False)
    status = FSMField(
        _("status"), max_length=10, choices=ItemStatus.choices, default=ItemStatus.RECEIVED, protected=True
    )
    received_at = models.DateTimeField(_("received"), default=timezone.now)
    #: When an answer is due (the type's response-time target after receipt, or after the last reopening).
    due_at = models.DateTimeField(_("answer due"))
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assigned to"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="desk_items_assigned",
    )
    assigned_at = models.DateTimeField(_("assigned"), null=True, blank=True)
    answer = models.TextField(_("answer"), blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    answered_at = models.DateTimeField(_("answered"), null=True, blank=True)
    #: The first answer's time: the desk's response times are measured to it.
    first_answered_at = models.DateTimeField(_("first answered"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    closing_note = models.TextField(_("closing note"), blank=True)
    escalated_at = models.DateTimeField(_("escalated"), null=True, blank=True)
    reopened_count = models.PositiveSmallIntegerField(_("times reopened"), default=0)

    objects = DeskItemQuerySet.as_manager()

    class Meta:
        verbose_name = _("desk item")
        verbose_name_plural = _("desk items")
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["agency", "status", "id"], name="desk_item_queue"),
            models.Index(fields=["status", "due_at"], name="desk_item_due"),
            models.Index(fields=["address_hash", "received_at"], name="desk_item_address"),
            models.Index(fields=["sender_email", "received_at"], name="desk_item_sender"),
            models.Index(fields=["agency", "received_at"], name="desk_item_received"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(topic="tender") | Q(tender__isnull=False), name="desk_item_tender_topic_has_tender"
            ),
            models.CheckConstraint(
                condition=~Q(topic="contract") | Q(contract__isnull=False),
                name="desk_item_contract_topic_has_contract",
            ),
        ]

    def __str__(self) -> str:
        return self.reference or _("New desk item")

    def audit_scope(self) -> dict:
        return {"agency_id": self.agency_id, "tender_id": self.tender_id, "contract_id": self.contract_id}

    def is_overdue(self, now: datetime.datetime) -> bool:
        return self.status in AWAITING_ANSWER and self.due_at <= now

    def reopen_until(self) -> datetime.datetime | None:
        """The end of the period in which the sender may reopen the item: counted from its answer or closing."""
        moments = [moment for moment in (self.answered_at, self.closed_at) if moment is not None]
        if self.status not in (ItemStatus.ANSWERED, ItemStatus.CLOSED) or not moments:
            return None
        return max(moments) + datetime.timedelta(days=settings.DESK_REOPEN_DAYS)

    def can_reopen(self, now: datetime.datetime) -> bool:
        until = self.reopen_until()
        return until is not None and now < until

    @transition(field=status, source=[ItemStatus.RECEIVED, ItemStatus.ASSIGNED], target=ItemStatus.ASSIGNED)
    def assign(self, *, to, now: datetime.datetime) -> None:
        self.assigned_to = to
        self.assigned_at = now

    @transition(field=status, source=ItemStatus.ASSIGNED, target=ItemStatus.ANSWERED)
    def give_answer(self, *, text: str, by, now: datetime.datetime) -> None:
        self.answer = text
        self.answered_by = by
        self.answered_at = now
        if self.first_answered_at is None:
            self.first_answered_at = now

    @transition(
        field=status, source=[ItemStatus.RECEIVED, ItemStatus.ASSIGNED, ItemStatus.ANSWERED], target=ItemStatus.CLOSED
    )
    def close(self, *, note: str, now: datetime.datetime) -> None:
        self.closing_note = note
        self.closed_at = now

    @transition(
        field=status,
        source=[ItemStatus.ANSWERED, ItemStatus.CLOSED],
        target=RETURN_VALUE(ItemStatus.ASSIGNED, ItemStatus.RECEIVED),
        conditions=[lambda item: item.reopen_until() is not None],
    )
    def reopen(self, *, due_at: datetime.datetime) -> str:
        """Back to whoever had it, or to the agency's queue; a new answer is due and may be escalated again."""
        self.due_at = due_at
        self.escalated_at = None
        self.closed_at = None
        self.closing_note = ""
        self.reopened_count += 1
        return ItemStatus.ASSIGNED if self.assigned_to_id else ItemStatus.RECEIVED


class TrackingKey(models.Model):
    """One private tracking link: only the SHA-256 of its random key is kept. Every link the sender is given
    (on the confirmation page, in each e-mail) has its own key, and each keeps working."""

    item = models.ForeignKey(DeskItem, on_delete=models.CASCADE, related_name="tracking_keys")
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("tracking link")
        verbose_name_plural = _("tracking links")

    def __str__(self) -> str:
        return f"{self.item_id}:{self.key_hash[:8]}"


class EntryKind(models.TextChoices):
    RECEIVED = "received", pgettext_lazy("desk history", "Received")
    ASSIGNED = "assigned", pgettext_lazy("desk history", "Assigned to an officer")
    ANSWERED = "answered", pgettext_lazy("desk history", "Answered")
    CLOSED = "closed", pgettext_lazy("desk history", "Closed")
    REOPENED = "reopened", pgettext_lazy("desk history", "Reopened by the sender")
    ESCALATED = "escalated", pgettext_lazy("desk history", "Escalated to the agency's supervisors")


#: History entries the sender sees on the tracking page (who handled it and escalations stay internal).
PUBLIC_ENTRY_KINDS = (EntryKind.RECEIVED, EntryKind.ASSIGNED, EntryKind.ANSWERED, EntryKind.CLOSED, EntryKind.REOPENED)


class DeskEntry(models.Model):
    """One step of an item's history, with the text that came with it (an answer, a reason to reopen, …)."""

    item = models.ForeignKey(DeskItem, on_delete=models.CASCADE, related_name="entries")
    kind = models.CharField(max_length=10, choices=EntryKind.choices)
    text = models.TextField(blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("desk history entry")
        verbose_name_plural = _("desk history entries")
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.item_id}: {self.kind}"


class FaqEntryQuerySet(models.QuerySet):
    def published(self) -> FaqEntryQuerySet:
        return self.filter(is_published=True)


class FaqEntry(models.Model):
    """A question the desk answered, edited for everyone to read (never the sender's own words unedited)."""

    item = models.OneToOneField(DeskItem, on_delete=models.PROTECT, null=True, blank=True, related_name="faq_entry")
    agency = models.ForeignKey(
        "procurement.Agency", verbose_name=_("agency"), on_delete=models.PROTECT, related_name="faq_entries"
    )
    question_en = models.TextField(_("question (English)"), blank=True)
    question_ar = models.TextField(_("question (Arabic)"), blank=True)
    answer_en = models.TextField(_("answer (English)"), blank=True)
    answer_ar = models.TextField(_("answer (Arabic)"), blank=True)
    is_published = models.BooleanField(_("published"), default=True)
    published_at = models.DateTimeField(_("published"), default=timezone.now)
    published_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    objects = FaqEntryQuerySet.as_manager()

    class Meta:
        verbose_name = _("frequently asked question")
        verbose_name_plural = _("frequently asked questions")
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(
                condition=(~Q(question_en="") & ~Q(answer_en="")) | (~Q(question_ar="") & ~Q(answer_ar="")),
                name="faq_entry_has_a_language",
            )
        ]

    def __str__(self) -> str:
        return self.question[:80]

    def _pair(self) -> tuple[str, str]:
        """The question and answer in the active language, or else in the one language it was written in."""
        arabic, english = (self.question_ar, self.answer_ar), (self.question_en, self.answer_en)
        first, second = (arabic, english) if is_arabic() else (english, arabic)
        return first if all(first) else second

    @property
    def question(self) -> str:
        return self._pair()[0]

    @property
    def answer(self) -> str:
        return self._pair()[1]

    @property
    def language(self) -> str:
        """The language the shown text is in (for the ``lang`` attribute)."""
        arabic = all((self.question_ar, self.answer_ar))
        english = all((self.question_en, self.answer_en))
        if is_arabic():
            return "ar" if arabic else "en"
        return "en" if english else "ar"

    def audit_scope(self) -> dict:
        return {"agency_id": self.agency_id}
