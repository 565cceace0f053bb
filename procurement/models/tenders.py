"""Tenders: the state machine from drafting to the opening of bids, with criteria, documents,
clarifications and addenda.

Every state change goes through a service in ``procurement/tender_services.py``, which locks the row,
checks the rules in ``accounts/rules.py``, calls the transition below, writes the audit log and
notifies people after the commit. The transitions here only say which moves exist and what must hold.
"""

from __future__ import annotations

import datetime
import uuid
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q, Sum
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, FSMModelMixin, transition

from core.i18n import localized
from core.money import amount_field, currency_field
from procurement.models.organisation import Agency, Phase

PERCENT_VALIDATORS = [
    MinValueValidator(Decimal("0"), message=_("Enter a value from 0 to 100.")),
    MaxValueValidator(Decimal("100"), message=_("Enter a value from 0 to 100.")),
]


class TenderStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PENDING_APPROVAL = "pending_approval", _("Pending approval")
    PUBLISHED = "published", _("Published")
    CLOSED = "closed", _("Closed for bids")
    OPENED = "opened", _("Bids opened")
    EVALUATION = "evaluation", _("In evaluation")
    AWARD_PENDING = "award_pending", _("Award pending approval")
    STANDSTILL = "standstill", _("Standstill period")
    AWARDED = "awarded", _("Awarded")
    CONTRACTED = "contracted", _("Contracted")
    CANCELLED = "cancelled", _("Cancelled")
    UNSUCCESSFUL = "unsuccessful", _("Unsuccessful")


#: States the public may see: everything from publication on.
PUBLIC_STATES = frozenset(
    {
        TenderStatus.PUBLISHED,
        TenderStatus.CLOSED,
        TenderStatus.OPENED,
        TenderStatus.EVALUATION,
        TenderStatus.AWARD_PENDING,
        TenderStatus.STANDSTILL,
        TenderStatus.AWARDED,
        TenderStatus.CONTRACTED,
        TenderStatus.UNSUCCESSFUL,
    }
)
#: A cancelled tender is public only if it had been published (``published_at`` is set).
CANCELLABLE_STATES = [
    TenderStatus.DRAFT,
    TenderStatus.PENDING_APPROVAL,
    TenderStatus.PUBLISHED,
    TenderStatus.CLOSED,
    TenderStatus.OPENED,
    TenderStatus.EVALUATION,
    TenderStatus.AWARD_PENDING,
    TenderStatus.STANDSTILL,
]


class ProcurementMethod(models.TextChoices):
    OPEN = "open", _("Open")
    RESTRICTED = "restricted", _("Restricted to prequalified vendors")
    LIMITED = "limited", _("Limited / direct")


class ProcurementCategory(models.TextChoices):
    GOODS = "goods", _("Goods")
    WORKS = "works", _("Works")
    SERVICES = "services", _("Services")
    CONSULTING = "consultingServices", _("Consulting services")


class EvaluationMethod(models.TextChoices):
    QUALITY_COST = "quality_cost", _("Quality- and cost-based (technical and financial weighting)")
    LOWEST_PRICE = "lowest_price", _("Lowest evaluated price among technically qualified bids")
    FIXED_BUDGET = "fixed_budget", _("Best technical score within a fixed budget")


class ConsensusRule(models.TextChoices):
    AVERAGE = "average", _("The average of the members' scores (the chair may record a consensus)")
    CHAIR_CONSENSUS = "chair_consensus", _("The consensus the chair records for every criterion")


def minimum_periods() -> dict[str, datetime.timedelta]:
    periods = settings.TENDER_MINIMUM_PERIODS
    return {key: datetime.timedelta(days=value) for key, value in periods.items()}


class ProtectedStateMixin(FSMModelMixin):
    """Validation never writes the protected state field back (django-fsm-2 forbids direct assignment)."""

    def clean_fields(self, exclude=None) -> None:
        exclude = set(exclude or ()) | {"status"}
        super().clean_fields(exclude=exclude)


class TenderQuerySet(models.QuerySet):
    def public(self) -> TenderQuerySet:
        """What the portal may show: published at some point, never drafts or pending ones."""
        return self.filter(Q(status__in=PUBLIC_STATES) | Q(status=TenderStatus.CANCELLED, published_at__isnull=False))

    def for_agency(self, agency_id) -> TenderQuerySet:
        return self.filter(agency_id=agency_id)

    def due_for_closing(self, now: datetime.datetime) -> TenderQuerySet:
        return self.filter(status=TenderStatus.PUBLISHED, submission_deadline__lte=now)


class Tender(ProtectedStateMixin, models.Model):
    phase = models.ForeignKey(Phase, verbose_name=_("phase"), on_delete=models.PROTECT, related_name="tenders")
    agency = models.ForeignKey(Agency, verbose_name=_("agency"), on_delete=models.PROTECT, related_name="tenders")
    reference = models.CharField(_("reference"), max_length=40, unique=True, editable=False)
    title_en = models.CharField(_("title (English)"), max_length=255)
    title_ar = models.CharField(_("title (Arabic)"), max_length=255)
    description_en = models.TextField(_("description (English)"))
    description_ar = models.TextField(_("description (Arabic)"))
    method = models.CharField(
        _("procurement method"), max_length=20, choices=ProcurementMethod.choices, default=ProcurementMethod.OPEN
    )
    method_justification = models.TextField(
        _("justification of the method"),
        blank=True,
        help_text=_("Required for a limited or direct procurement."),
    )
    category = models.CharField(_("category"), max_length=30, choices=ProcurementCategory.choices)
    estimated_value = amount_field(_("estimated value"))
    currency = currency_field()
    minimum_bids = models.PositiveSmallIntegerField(
        _("minimum number of bids"), default=1, validators=[MinValueValidator(1, message=_("At least one bid."))]
    )
    evaluation_method = models.CharField(
        _("evaluation method"), max_length=20, choices=EvaluationMethod.choices, default=EvaluationMethod.QUALITY_COST
    )
    technical_weight = models.DecimalField(
        _("technical weight (%)"), max_digits=5, decimal_places=2, default=Decimal("70"), validators=PERCENT_VALIDATORS
    )
    financial_weight = models.DecimalField(
        _("financial weight (%)"), max_digits=5, decimal_places=2, default=Decimal("30"), validators=PERCENT_VALIDATORS
    )
    pass_mark = models.DecimalField(
        _("technical pass mark (0–100)"),
        max_digits=5,
        decimal_places=2,
        default=Decimal("70"),
        validators=PERCENT_VALIDATORS,
    )
    consensus_rule = models.CharField(
        _("how members' scores are combined"),
        max_length=20,
        choices=ConsensusRule.choices,
        default=ConsensusRule.AVERAGE,
    )
    evaluation_quorum = models.PositiveSmallIntegerField(
        _("evaluation committee quorum"),
        default=3,
        validators=[MinValueValidator(2, message=_("An evaluation committee has a quorum of at least two."))],
    )
    clarification_deadline = models.DateTimeField(_("clarification deadline"))
    submission_deadline = models.DateTimeField(_("submission deadline"))
    opening_time = models.DateTimeField(_("bid opening time"))
    status = FSMField(
        _("status"), max_length=20, choices=TenderStatus.choices, default=TenderStatus.DRAFT, protected=True
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("prepared by"), on_delete=models.PROTECT, related_name="+"
    )
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    return_comments = models.TextField(_("comments of the approver"), blank=True)
    published_at = models.DateTimeField(_("published"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    cancellation_reason = models.TextField(_("reason for cancellation"), blank=True)
    unsuccessful_reason = models.TextField(_("reason it was unsuccessful"), blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = TenderQuerySet.as_manager()

    class Meta:
        verbose_name = _("tender")
        verbose_name_plural = _("tenders")
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["status", "submission_deadline"], name="tender_status_deadline"),
            models.Index(fields=["agency", "status", "id"], name="tender_agency_status"),
            models.Index(fields=["phase", "id"], name="tender_phase"),
            models.Index(fields=["published_at"], name="tender_published_at"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(estimated_value__gte=0), name="tender_value_not_negative"),
            models.CheckConstraint(
                condition=Q(clarification_deadline__lt=models.F("submission_deadline"))
                & Q(submission_deadline__lte=models.F("opening_time")),
                name="tender_deadlines_ordered",
            ),
            models.CheckConstraint(condition=Q(pass_mark__gte=0, pass_mark__lte=100), name="tender_pass_mark_range"),
            models.CheckConstraint(condition=Q(minimum_bids__gte=1), name="tender_minimum_bids_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.reference} {self.title}"

    def get_absolute_url(self) -> str:
        return reverse("procurement:tender_detail", args=[self.pk])

    @property
    def title(self) -> str:
        return localized(self, "title")

    @property
    def description(self) -> str:
        return localized(self, "description")

    def get_public_url(self) -> str:
        return reverse("portal:tender_detail", args=[self.reference])

    def audit_scope(self) -> dict:
        return {"tender_id": self.pk, "programme_id": self.phase.programme_id, "agency_id": self.agency_id}

    @property
    def uses_technical_criteria(self) -> bool:
        return self.evaluation_method in (EvaluationMethod.QUALITY_COST, EvaluationMethod.FIXED_BUDGET) or bool(
            self.pk and self.criteria.exists()
        )

    @property
    def is_public(self) -> bool:
        return self.status in PUBLIC_STATES or (self.status == TenderStatus.CANCELLED and self.published_at is not None)

    # Facts decided by the server's clock ---------------------------------------------------------

    def questions_open(self, now: datetime.datetime) -> bool:
        return self.status == TenderStatus.PUBLISHED and now < self.clarification_deadline

    def is_open_for_bids(self, now: datetime.datetime) -> bool:
        return self.status == TenderStatus.PUBLISHED and now < self.submission_deadline

    @property
    def has_live_contract(self) -> bool:
        """Whether a contract (other than a terminated one) holds this tender's award."""
        return self.contracts.exclude(status="terminated").exists()

    def submission_deadline_passed(self, now: datetime.datetime) -> bool:
        return now >= self.submission_deadline

    # Validation ---------------------------------------------------------------------------------

    def clean(self) -> None:
        super().clean()
        errors: dict[str, list] = {}
        if self.method == ProcurementMethod.LIMITED and not (self.method_justification or "").strip():
            errors.setdefault("method_justification", []).append(
                _("A limited or direct procurement needs a justification.")
            )
        if self.evaluation_method == EvaluationMethod.QUALITY_COST:
            tw, fw = self.technical_weight or 0, self.financial_weight or 0
            if tw + fw != 100:
                errors.setdefault("financial_weight", []).append(
                    _("The technical and financial weights must add up to 100 (now %(total)s).")
                    % {"total": f"{Decimal(tw + fw).normalize():f}"}
                )
        if self.phase_id and self.agency_id is None:
            errors.setdefault("agency", []).append(_("Choose the agency that runs the tender."))
        errors_deadlines = self.deadline_errors(now=None)
        for field, messages in errors_deadlines.items():
            errors.setdefault(field, []).extend(messages)
        if errors:
            raise ValidationError(errors)

    def deadline_errors(self, now: datetime.datetime | None) -> dict[str, list]:
        """Deadlines in order and at least the minimum periods apart (and from ``now``, if given)."""
        errors: dict[str, list] = {}
        clarification, submission, opening = self.clarification_deadline, self.submission_deadline, self.opening_time
        if not (clarification and submission and opening):
            return errors
        periods = minimum_periods()
        if clarification >= submission:
            errors.setdefault("clarification_deadline", []).append(
                _("Questions must close before the submission deadline.")
            )
        elif submission - clarification < periods["clarification_to_submission"]:
            errors.setdefault("clarification_deadline", []).append(
                _("Questions must close at least %(days)s days before the submission deadline.")
                % {"days": periods["clarification_to_submission"].days}
            )
        if opening < submission:
            errors.setdefault("opening_time", []).append(_("Bids cannot be opened before the submission deadline."))
        if now is not None:
            if submission - now < periods["publication_to_submission"]:
                errors.setdefault("submission_deadline", []).append(
                    _("Vendors need at least %(days)s days from publication to the submission deadline.")
                    % {"days": periods["publication_to_submission"].days}
                )
            if clarification - now < periods["publication_to_clarification"]:
                errors.setdefault("clarification_deadline", []).append(
                    _("Vendors need at least %(days)s days from publication to ask questions.")
                    % {"days": periods["publication_to_clarification"].days}
                )
        return errors

    def readiness_errors(self) -> list[str]:
        """What must be complete before the tender goes to the steering committee."""
        problems: list[str] = []
        if self.uses_technical_criteria:
            criteria = list(self.criteria.all())
            if not criteria:
                problems.append(_("Add the technical criteria that bids will be scored on."))
            else:
                total = sum((c.weight for c in criteria), Decimal("0"))
                if total != 100:
                    problems.append(
                        _("The criteria weights must add up to 100 (now %(total)s).")
                        % {"total": f"{total.normalize():f}"}
                    )
        if not self.documents.current().exists():
            problems.append(_("Attach at least one tender document."))
        return problems

    # Transitions (called only from the services) -------------------------------------------------

    @transition(field=status, source=TenderStatus.DRAFT, target=TenderStatus.PENDING_APPROVAL)
    def submit_for_approval(self, *, by) -> None:
        self.submitted_by = by
        self.return_comments = ""

    @transition(field=status, source=TenderStatus.PENDING_APPROVAL, target=TenderStatus.PUBLISHED)
    def approve_and_publish(self, *, by, now: datetime.datetime) -> None:
        self.approved_by = by
        self.published_at = now

    @transition(field=status, source=TenderStatus.PENDING_APPROVAL, target=TenderStatus.DRAFT)
    def return_to_draft(self, *, by, comments: str) -> None:
        self.return_comments = comments

    @transition(field=status, source=TenderStatus.PUBLISHED, target=TenderStatus.CLOSED)
    def close(self, *, now: datetime.datetime) -> None:
        self.closed_at = now

    @transition(field=status, source=TenderStatus.CLOSED, target=TenderStatus.OPENED)
    def open_bids(self) -> None:
        pass

    @transition(field=status, source=TenderStatus.OPENED, target=TenderStatus.EVALUATION)
    def start_evaluation(self) -> None:
        pass

    @transition(field=status, source=TenderStatus.EVALUATION, target=TenderStatus.AWARD_PENDING)
    def recommend_award(self) -> None:
        pass

    @transition(field=status, source=TenderStatus.AWARD_PENDING, target=TenderStatus.EVALUATION)
    def return_recommendation(self) -> None:
        pass

    @transition(field=status, source=TenderStatus.AWARD_PENDING, target=TenderStatus.STANDSTILL)
    def approve_award(self) -> None:
        pass

    @transition(field=status, source=TenderStatus.STANDSTILL, target=TenderStatus.AWARDED)
    def finalise_award(self) -> None:
        pass

    @transition(field=status, source=TenderStatus.STANDSTILL, target=TenderStatus.EVALUATION)
    def reopen_evaluation(self) -> None:
        pass

    @transition(field=status, source=TenderStatus.AWARDED, target=TenderStatus.CONTRACTED)
    def mark_contracted(self) -> None:
        pass

    @transition(field=status, source=CANCELLABLE_STATES, target=TenderStatus.CANCELLED)
    def cancel(self, *, reason: str) -> None:
        self.cancellation_reason = reason

    @transition(
        field=status,
        source=[TenderStatus.CLOSED, TenderStatus.OPENED, TenderStatus.EVALUATION],
        target=TenderStatus.UNSUCCESSFUL,
    )
    def mark_unsuccessful(self, *, reason: str) -> None:
        self.unsuccessful_reason = reason


class TenderReferenceCounter(models.Model):
    """The last reference number given per agency and year (locked while a new one is taken)."""

    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")
    year = models.PositiveSmallIntegerField()
    last_number = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["agency", "year"], name="tender_counter_agency_year")]

    def __str__(self) -> str:
        return f"{self.agency_id}/{self.year}: {self.last_number}"


class TenderCriterion(models.Model):
    """A technical criterion, published with the tender, with its weight out of 100."""

    tender = models.ForeignKey(Tender, on_delete=models.PROTECT, related_name="criteria")
    order = models.PositiveSmallIntegerField(_("order"), default=1)
    name_en = models.CharField(_("criterion (English)"), max_length=255)
    name_ar = models.CharField(_("criterion (Arabic)"), max_length=255)
    description_en = models.TextField(_("what is scored (English)"), blank=True)
    description_ar = models.TextField(_("what is scored (Arabic)"), blank=True)
    weight = models.DecimalField(
        _("weight (%)"),
        max_digits=5,
        decimal_places=2,
        validators=[
            MinValueValidator(Decimal("0.01"), message=_("A weight must be more than 0.")),
            MaxValueValidator(Decimal("100"), message=_("A weight cannot be more than 100.")),
        ],
    )

    class Meta:
        verbose_name = _("technical criterion")
        verbose_name_plural = _("technical criteria")
        ordering = ["tender", "order", "id"]

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        return localized(self, "name")

    @property
    def description(self) -> str:
        return localized(self, "description")


def criteria_weight_total(tender: Tender) -> Decimal:
    return tender.criteria.aggregate(total=Sum("weight"))["total"] or Decimal("0")


def document_upload_to(instance: TenderDocument, filename: str) -> str:
    # A generated name: the uploaded file name is kept only as data, never as a path.
    return f"tenders/{instance.tender_id}/{uuid.uuid4().hex}"


class TenderDocumentQuerySet(models.QuerySet):
    def published(self) -> TenderDocumentQuerySet:
        """The tender's own documents and those of issued addenda — never of an addendum in preparation."""
        return self.filter(Q(addendum__isnull=True) | Q(addendum__status=AddendumStatus.ISSUED))

    def current(self) -> TenderDocumentQuerySet:
        """Published and not replaced by a later version."""
        return self.published().filter(superseded_by__isnull=True)


class TenderDocument(models.Model):
    tender = models.ForeignKey(Tender, on_delete=models.PROTECT, related_name="documents")
    addendum = models.ForeignKey("Addendum", on_delete=models.PROTECT, null=True, blank=True, related_name="documents")
    title = models.CharField(_("document title"), max_length=255)
    file = models.FileField(_("file"), upload_to=document_upload_to, max_length=255)
    original_name = models.CharField(_("original file name"), max_length=255)
    content_type = models.CharField(_("content type"), max_length=100)
    size = models.PositiveBigIntegerField(_("size (bytes)"))
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    superseded_by = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="supersedes"
    )
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(_("uploaded"), default=timezone.now)

    objects = TenderDocumentQuerySet.as_manager()

    class Meta:
        verbose_name = _("tender document")
        verbose_name_plural = _("tender documents")
        ordering = ["tender", "uploaded_at", "id"]

    def __str__(self) -> str:
        return self.title

    @property
    def is_published(self) -> bool:
        """The row-level twin of ``TenderDocumentQuerySet.published()``."""
        return self.addendum_id is None or self.addendum.status == AddendumStatus.ISSUED

    def audit_scope(self) -> dict:
        return self.tender.audit_scope()


class TenderDocumentDownload(models.Model):
    """Who downloaded which document: they are told about every addendum."""

    document = models.ForeignKey(TenderDocument, on_delete=models.PROTECT, related_name="downloads")
    tender = models.ForeignKey(Tender, on_delete=models.PROTECT, related_name="downloads")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    downloaded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["tender", "user"], name="tender_download_user")]
        constraints = [models.UniqueConstraint(fields=["document", "user"], name="tender_download_once_per_user")]

    def __str__(self) -> str:
        return f"{self.user_id} ↓ {self.document_id}"


class Clarification(models.Model):
    """A vendor's question and the officer's answer, published without naming who asked."""

    tender = models.ForeignKey(Tender, on_delete=models.PROTECT, related_name="clarifications")
    number = models.PositiveIntegerField(_("number"))
    question = models.TextField(_("question"))
    asked_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    asked_at = models.DateTimeField(_("asked"), default=timezone.now)
    answer = models.TextField(_("answer"), blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    answered_at = models.DateTimeField(_("answered"), null=True, blank=True)

    class Meta:
        verbose_name = _("clarification")
        verbose_name_plural = _("clarifications")
        ordering = ["tender", "number"]
        constraints = [models.UniqueConstraint(fields=["tender", "number"], name="clarification_number_unique")]

    def __str__(self) -> str:
        return f"Q{self.number}"

    @property
    def is_answered(self) -> bool:
        return self.answered_at is not None

    def audit_scope(self) -> dict:
        return self.tender.audit_scope()


class AddendumStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PENDING_APPROVAL = "pending_approval", _("Pending approval")
    ISSUED = "issued", _("Issued")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class Addendum(ProtectedStateMixin, models.Model):
    """A numbered change to a published tender: documents, clarified terms, extended deadlines, and
    (with the steering committee's approval) the estimated value or the criteria."""

    tender = models.ForeignKey(Tender, on_delete=models.PROTECT, related_name="addenda")
    number = models.PositiveIntegerField(_("number"))
    summary_en = models.TextField(_("what changes (English)"))
    summary_ar = models.TextField(_("what changes (Arabic)"))
    new_clarification_deadline = models.DateTimeField(_("new clarification deadline"), null=True, blank=True)
    new_submission_deadline = models.DateTimeField(_("new submission deadline"), null=True, blank=True)
    new_opening_time = models.DateTimeField(_("new opening time"), null=True, blank=True)
    new_estimated_value = amount_field(_("new estimated value"), null=True, blank=True)
    new_criteria = models.JSONField(
        _("new criteria"),
        null=True,
        blank=True,
        help_text=_("The complete new list of criteria, replacing the published one."),
    )
    status = FSMField(
        _("status"), max_length=20, choices=AddendumStatus.choices, default=AddendumStatus.DRAFT, protected=True
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    issued_at = models.DateTimeField(_("issued"), null=True, blank=True)

    class Meta:
        verbose_name = _("addendum")
        verbose_name_plural = _("addenda")
        ordering = ["tender", "number"]
        constraints = [models.UniqueConstraint(fields=["tender", "number"], name="addendum_number_unique")]

    def __str__(self) -> str:
        return _("Addendum %(number)s") % {"number": self.number}

    @property
    def summary(self) -> str:
        return localized(self, "summary")

    @property
    def needs_approval(self) -> bool:
        """Changing what bidders are judged on, or the value, is the steering committee's decision."""
        return self.new_estimated_value is not None or self.new_criteria is not None

    def audit_scope(self) -> dict:
        return self.tender.audit_scope()

    @transition(field=status, source=AddendumStatus.DRAFT, target=AddendumStatus.PENDING_APPROVAL)
    def submit_for_approval(self) -> None:
        pass

    @transition(
        field=status, source=[AddendumStatus.DRAFT, AddendumStatus.PENDING_APPROVAL], target=AddendumStatus.ISSUED
    )
    def issue(self, *, now: datetime.datetime, approved_by=None) -> None:
        self.issued_at = now
        self.approved_by = approved_by

    @transition(
        field=status, source=[AddendumStatus.DRAFT, AddendumStatus.PENDING_APPROVAL], target=AddendumStatus.WITHDRAWN
    )
    def withdraw(self) -> None:
        pass
