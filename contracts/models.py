"""Contracts: what an award becomes once both parties have signed it.

A contract is drafted by the agency's officers from a final award, frozen into a numbered version whose PDF
is rendered once (deterministically) with an empty signature field per party, then signed by the winning
vendor's authorised signatory and countersigned by an officer of the agency (PAdES, incremental updates).
"""

from __future__ import annotations

import datetime
import uuid

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Round
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from django_fsm import FSMField, transition

from core.money import amount_field, currency_field
from procurement.models.tenders import ProtectedStateMixin


class ContractStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    AWAITING_SIGNATURES = "awaiting_signatures", _("Awaiting signatures")
    ACTIVE = "active", _("Active")
    COMPLETED = "completed", _("Completed")
    TERMINATED = "terminated", _("Terminated")


class PaymentMechanism(models.TextChoices):
    AVAILABILITY = "availability", _("Availability payments")
    USER_FEES = "user_fees", _("User fees")
    MIXED = "mixed", _("Mixed (availability payments and user fees)")


#: The risk categories of the OCDS PPP profile (``riskCategory.csv``), with their titles in both languages.
RISK_CATEGORIES: dict[str, tuple[str, str]] = {
    "landAvailability": ("Land availability and acquisition risk", "مخاطر توفر الأرض واستملاكها"),
    "environmental": ("Environmental risk", "المخاطر البيئية"),
    "design": ("Design risks", "مخاطر التصميم"),
    "construction": ("Construction risks", "مخاطر الإنشاء"),
    "completion": ("Completion and commissioning", "مخاطر الإنجاز والتشغيل التجريبي"),
    "revenue": ("Revenue risk", "مخاطر الإيرادات"),
    "inflationAndFx": ("Foreign exchange, inflation and indexation risk", "مخاطر الصرف والتضخم والربط القياسي"),
    "availabilityAndQuality": ("Availability and quality risk", "مخاطر الإتاحة والجودة"),
    "otherRevenue": ("Other revenue risk events", "مخاطر الإيرادات الأخرى"),
    "financeAvailability": ("Availability of finance", "مخاطر توفر التمويل"),
    "refinancing": ("Refinancing risks", "مخاطر إعادة التمويل"),
    "changeInLaw": ("Changes in law", "مخاطر تغيّر القوانين"),
    "forceMajeure": ("Force majeure", "القوة القاهرة"),
    "earlyTermination": ("Early termination", "الإنهاء المبكر"),
    "compliance": ("Compliance risks", "مخاطر الامتثال"),
}


class RiskBearer(models.TextChoices):
    PUBLIC = "public", _("Public")
    PRIVATE = "private", _("Private")
    SHARED = "shared", _("Shared")


#: The bearer's label in both languages, and its OCDS ``riskAllocation`` code.
RISK_BEARERS: dict[str, tuple[str, str, str]] = {
    RiskBearer.PUBLIC: ("Public", "القطاع العام", "publicAuthority"),
    RiskBearer.PRIVATE: ("Private", "القطاع الخاص", "privateParty"),
    RiskBearer.SHARED: ("Shared", "مشتركة", "undefined"),
}


class Contract(ProtectedStateMixin, models.Model):
    """The contract between the agency and the winning bidder (alone or leading a consortium)."""

    number = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    tender = models.ForeignKey(
        "procurement.Tender", verbose_name=_("tender"), on_delete=models.PROTECT, related_name="contracts"
    )
    recommendation = models.ForeignKey(
        "procurement.Recommendation", verbose_name=_("award"), on_delete=models.PROTECT, related_name="contracts"
    )
    bid = models.ForeignKey(
        "procurement.Bid", verbose_name=_("winning bid"), on_delete=models.PROTECT, related_name="+"
    )
    vendor = models.ForeignKey(
        "vendors.Vendor", verbose_name=_("contractor"), on_delete=models.PROTECT, related_name="contracts"
    )
    agency = models.ForeignKey(
        "procurement.Agency", verbose_name=_("agency"), on_delete=models.PROTECT, related_name="contracts"
    )
    phase = models.ForeignKey("procurement.Phase", verbose_name=_("phase"), on_delete=models.PROTECT, related_name="+")
    title_en = models.CharField(_("title (English)"), max_length=255)
    title_ar = models.CharField(_("title (Arabic)"), max_length=255)
    #: The consortium led by the vendor, as it stood in the winning bid: [{vendor_id, name_en, name_ar, share}].
    consortium = models.JSONField(_("consortium members"), default=list, blank=True)
    value = amount_field(_("contract value"))
    currency = currency_field()
    start_date = models.DateField(_("start date"), null=True, blank=True)
    end_date = models.DateField(_("end date"), null=True, blank=True)
    payment_mechanism = models.CharField(
        _("payment mechanism"), max_length=20, choices=PaymentMechanism.choices, default=PaymentMechanism.AVAILABILITY
    )
    #: Risk category (OCDS PPP ``riskCategory`` code) → ``RiskBearer`` value.
    risk_allocation = models.JSONField(_("risk allocation"), default=dict, blank=True)
    penalty_rate = models.DecimalField(
        # xgettext:no-python-format
        _("penalty rate (% of the value per day of delay)"),
        max_digits=6,
        decimal_places=3,
        default=0,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
    )
    penalty_cap = models.DecimalField(
        # xgettext:no-python-format
        _("penalty cap (% of the value)"),
        max_digits=5,
        decimal_places=2,
        default=10,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
    )
    status = FSMField(
        _("status"), max_length=24, choices=ContractStatus.choices, default=ContractStatus.DRAFT, protected=True
    )
    termination_reason = models.TextField(_("reason for termination"), blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    frozen_at = models.DateTimeField(_("frozen"), null=True, blank=True)
    activated_at = models.DateTimeField(_("in force since"), null=True, blank=True)
    ended_at = models.DateTimeField(_("ended"), null=True, blank=True)

    class Meta:
        verbose_name = _("contract")
        verbose_name_plural = _("contracts")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["recommendation"], condition=~Q(status="terminated"), name="contract_one_live_per_award"
            ),
            models.CheckConstraint(
                condition=Q(start_date__isnull=True)
                | Q(end_date__isnull=True)
                | Q(end_date__gt=models.F("start_date")),
                name="contract_end_after_start",
            ),
            models.CheckConstraint(condition=Q(value__gte=0), name="contract_value_not_negative"),
        ]
        indexes = [models.Index(fields=["agency", "status", "id"], name="contract_agency_status")]

    def __str__(self) -> str:
        return _("Contract %(reference)s") % {"reference": self.reference}

    @property
    def reference(self) -> str:
        return f"{self.tender.reference}-C{self.pk}" if self.pk else "—"

    def audit_scope(self) -> dict:
        """The tender's scope, and the contract: its events (and those of its versions, amendments, milestones,
        reports, payments …) form the contract's trail."""
        return {**self.tender.audit_scope(), "contract_id": self.pk}

    @transition(field=status, source=ContractStatus.DRAFT, target=ContractStatus.AWAITING_SIGNATURES)
    def freeze(self, *, now) -> None:
        self.frozen_at = now

    @transition(field=status, source=ContractStatus.AWAITING_SIGNATURES, target=ContractStatus.ACTIVE)
    def activate(self, *, now) -> None:
        self.activated_at = now

    @transition(field=status, source=ContractStatus.ACTIVE, target=ContractStatus.COMPLETED)
    def complete(self, *, now) -> None:
        self.ended_at = now

    @transition(
        field=status,
        source=[ContractStatus.DRAFT, ContractStatus.AWAITING_SIGNATURES, ContractStatus.ACTIVE],
        target=ContractStatus.TERMINATED,
    )
    def terminate(self, *, now, reason: str) -> None:
        self.ended_at = now
        self.termination_reason = reason


class Frequency(models.TextChoices):
    MONTHLY = "monthly", _("Monthly")
    QUARTERLY = "quarterly", _("Quarterly")
    SEMI_ANNUAL = "semi_annual", _("Every six months")
    ANNUAL = "annual", _("Annually")


class ContractKpi(models.Model):
    contract = models.ForeignKey(Contract, on_delete=models.PROTECT, related_name="kpis")
    order = models.PositiveSmallIntegerField(_("order"), default=1)
    name_en = models.CharField(_("indicator (English)"), max_length=255)
    name_ar = models.CharField(_("indicator (Arabic)"), max_length=255)
    target = models.DecimalField(_("target"), max_digits=14, decimal_places=3)
    unit = models.CharField(_("unit"), max_length=40)
    frequency = models.CharField(_("measured"), max_length=20, choices=Frequency.choices, default=Frequency.QUARTERLY)
    higher_is_better = models.BooleanField(
        _("higher is better"), default=True, help_text=_("Unticked: the target is a maximum (e.g. response time).")
    )
    #: The amendment that added or last changed this indicator (``None``: as first signed).
    amendment = models.ForeignKey(
        "ContractAmendment",
        verbose_name=_("amendment"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        verbose_name = _("key performance indicator")
        verbose_name_plural = _("key performance indicators")
        ordering = ["contract", "order", "id"]

    def __str__(self) -> str:
        return self.name_en

    def audit_scope(self) -> dict:
        return self.contract.audit_scope()


class MilestoneStatus(models.TextChoices):
    PLANNED = "planned", _("Planned")
    SUBMITTED = "submitted", pgettext_lazy("milestone status", "Submitted")
    ACCEPTED = "accepted", _("Accepted")
    REJECTED = "rejected", _("Rejected")
    PAID = "paid", _("Paid")
    WAIVED = "waived", _("Waived by an amendment")


class ContractMilestone(ProtectedStateMixin, models.Model):
    """A milestone of the schedule: ``planned → submitted → accepted | rejected → submitted … → paid``."""

    contract = models.ForeignKey(Contract, on_delete=models.PROTECT, related_name="milestones")
    order = models.PositiveSmallIntegerField(_("order"), default=1)
    title_en = models.CharField(_("milestone (English)"), max_length=255)
    title_ar = models.CharField(_("milestone (Arabic)"), max_length=255)
    due_date = models.DateField(_("due"))
    payment_amount = amount_field(_("payment"), default=0)
    #: The amendment that added or last changed this milestone (``None``: as first signed).
    amendment = models.ForeignKey(
        "ContractAmendment",
        verbose_name=_("amendment"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    status = FSMField(
        _("status"), max_length=12, choices=MilestoneStatus.choices, default=MilestoneStatus.PLANNED, protected=True
    )
    submitted_at = models.DateTimeField(_("time submitted"), null=True, blank=True)
    accepted_on = models.DateField(_("accepted on"), null=True, blank=True)
    paid_on = models.DateField(_("paid on"), null=True, blank=True)
    #: The first day the scheduler found it past its due date and not accepted (``None``: not overdue).
    overdue_since = models.DateField(_("overdue since"), null=True, blank=True)

    class Meta:
        verbose_name = _("milestone")
        verbose_name_plural = _("milestones")
        ordering = ["contract", "order", "due_date", "id"]
        indexes = [models.Index(fields=["status", "due_date"], name="milestone_status_due")]

    def __str__(self) -> str:
        return self.title_en

    def audit_scope(self) -> dict:
        return self.contract.audit_scope()

    @transition(
        field=status, source=[MilestoneStatus.PLANNED, MilestoneStatus.REJECTED], target=MilestoneStatus.SUBMITTED
    )
    def submit(self, *, now) -> None:
        self.submitted_at = now

    @transition(field=status, source=MilestoneStatus.SUBMITTED, target=MilestoneStatus.ACCEPTED)
    def accept(self, *, on: datetime.date) -> None:
        self.accepted_on = on

    @transition(field=status, source=MilestoneStatus.SUBMITTED, target=MilestoneStatus.REJECTED)
    def reject(self) -> None:
        pass

    @transition(
        field=status,
        source=[MilestoneStatus.PLANNED, MilestoneStatus.SUBMITTED, MilestoneStatus.REJECTED],
        target=MilestoneStatus.WAIVED,
    )
    def waive(self) -> None:
        """Dropped from the schedule by an amendment in force."""

    @transition(field=status, source=MilestoneStatus.ACCEPTED, target=MilestoneStatus.PAID)
    def pay(self, *, on: datetime.date) -> None:
        self.paid_on = on


class DocumentKind(models.TextChoices):
    TENDER_DOCUMENT = "tender_document", _("Tender document")
    ADDENDUM = "addendum", _("Addendum")
    BID_ENVELOPE = "bid_envelope", _("Winning bid envelope")


class ContractDocument(models.Model):
    """A document that forms part of the contract, referenced by its SHA-256."""

    contract = models.ForeignKey(Contract, on_delete=models.PROTECT, related_name="documents")
    order = models.PositiveSmallIntegerField(default=1)
    kind = models.CharField(_("kind"), max_length=20, choices=DocumentKind.choices)
    title = models.CharField(_("title"), max_length=255)
    sha256 = models.CharField(_("SHA-256"), max_length=64)

    class Meta:
        verbose_name = _("incorporated document")
        verbose_name_plural = _("incorporated documents")
        ordering = ["contract", "order", "id"]

    def __str__(self) -> str:
        return f"{self.title} · {self.sha256[:12]}"


class RenderStatus(models.TextChoices):
    RENDERING = "rendering", _("Rendering")
    RENDERED = "rendered", _("Rendered")
    FAILED = "failed", _("Failed")


def contract_pdf_upload_to(instance, filename: str) -> str:
    return f"contracts/{uuid.uuid4().hex}.pdf"


class ContractVersion(models.Model):
    """A frozen text of the contract and its PDF (with the empty signature fields), before any signature."""

    contract = models.ForeignKey(Contract, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField(_("version"))
    frozen_at = models.DateTimeField(_("frozen"))
    frozen_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    #: Everything the PDF states, as it stood when frozen (the PDF is rendered from this alone).
    terms = models.JSONField(default=dict)
    #: Set when this version is the text of an amendment rather than of the contract itself.
    amendment = models.OneToOneField(
        "ContractAmendment",
        verbose_name=_("amendment"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="version",
    )
    pdf = models.FileField(upload_to=contract_pdf_upload_to, max_length=255, blank=True)
    pdf_sha256 = models.CharField(max_length=64, blank=True)
    status = models.CharField(max_length=20, choices=RenderStatus.choices, default=RenderStatus.RENDERING)
    error = models.TextField(blank=True)

    class Meta:
        verbose_name = _("contract version")
        verbose_name_plural = _("contract versions")
        ordering = ["contract", "number"]
        constraints = [models.UniqueConstraint(fields=["contract", "number"], name="contract_version_once")]

    def __str__(self) -> str:
        return f"{self.contract_id} v{self.number}"

    def audit_scope(self) -> dict:
        return self.contract.audit_scope()


class SignatureParty(models.TextChoices):
    VENDOR = "vendor", _("Contractor")
    AGENCY = "agency", _("Agency")


class ContractSignature(models.Model):
    """One party's signature on a version: the PDF as it stood right after signing."""

    version = models.ForeignKey(ContractVersion, on_delete=models.PROTECT, related_name="signatures")
    party = models.CharField(_("party"), max_length=10, choices=SignatureParty.choices)
    signer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    signed_at = models.DateTimeField(_("signed"), default=timezone.now)
    certificate_subject = models.CharField(_("certificate subject"), max_length=500)
    own_certificate = models.BooleanField(_("signed with their own certificate"), default=False)
    field_name = models.CharField(_("signature field"), max_length=40)
    pdf = models.FileField(upload_to=contract_pdf_upload_to, max_length=255)
    sha256 = models.CharField(_("SHA-256"), max_length=64)

    class Meta:
        verbose_name = _("signature")
        verbose_name_plural = _("signatures")
        ordering = ["version", "signed_at", "id"]
        constraints = [models.UniqueConstraint(fields=["version", "party"], name="contract_signature_once_per_party")]

    def __str__(self) -> str:
        return f"{self.get_party_display()} · {self.certificate_subject}"

    def audit_scope(self) -> dict:
        return self.version.contract.audit_scope()


class SignerKey(models.Model):
    """A signatory's key pair from the internal CA: the private half encrypted under their own password."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="signer_keys")
    certificate_pem = models.TextField()
    encrypted_private_key_pem = models.TextField(editable=False)
    created_at = models.DateTimeField(default=timezone.now)
    retired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("signing key")
        verbose_name_plural = _("signing keys")
        ordering = ["user", "-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["user"], condition=Q(retired_at__isnull=True), name="signer_key_one_current"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.created_at:%Y-%m-%d}"


class AmendmentStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PENDING_APPROVAL = "pending_approval", _("Pending approval")
    AWAITING_SIGNATURES = "awaiting_signatures", _("Awaiting signatures")
    IN_FORCE = "in_force", _("In force")
    WITHDRAWN = "withdrawn", _("Withdrawn")


#: The amendment states in which a contract has an amendment under way (at most one at a time).
OPEN_AMENDMENT_STATES = (AmendmentStatus.DRAFT, AmendmentStatus.PENDING_APPROVAL, AmendmentStatus.AWAITING_SIGNATURES)


class ContractAmendment(ProtectedStateMixin, models.Model):
    """A change order to an active contract: drafted by an officer, approved by another person, rendered as
    its own PDF that names the signed contract by its SHA-256, and signed by both parties like the contract.

    ``changes`` holds what it changes, besides the value and the end date: ``{"milestones": [...],
    "kpis": [...]}``, each item either a new row (``"id": None``) or a change to an existing row (its id),
    with the row's new fields. The contract's current terms are the original plus the amendments in force.
    """

    contract = models.ForeignKey(Contract, on_delete=models.PROTECT, related_name="amendments")
    number = models.PositiveIntegerField(_("amendment"))
    reason = models.TextField(_("reason for the amendment"))
    new_value = amount_field(_("new contract value"), null=True, blank=True)
    new_end_date = models.DateField(_("new end date"), null=True, blank=True)
    changes = models.JSONField(default=dict, blank=True)
    status = FSMField(
        _("status"), max_length=24, choices=AmendmentStatus.choices, default=AmendmentStatus.DRAFT, protected=True
    )
    drafted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    drafted_at = models.DateTimeField(default=timezone.now)
    submitted_at = models.DateTimeField(_("time submitted"), null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    approved_at = models.DateTimeField(_("time approved"), null=True, blank=True)
    return_reason = models.TextField(_("reason for returning it"), blank=True)
    in_force_at = models.DateTimeField(_("in force since"), null=True, blank=True)
    withdrawn_at = models.DateTimeField(_("time withdrawn"), null=True, blank=True)

    class Meta:
        verbose_name = _("amendment")
        verbose_name_plural = _("amendments")
        ordering = ["contract", "number"]
        constraints = [
            models.UniqueConstraint(fields=["contract", "number"], name="contract_amendment_number_once"),
            models.UniqueConstraint(
                fields=["contract"],
                condition=Q(status__in=["draft", "pending_approval", "awaiting_signatures"]),
                name="contract_amendment_one_open",
            ),
            models.CheckConstraint(
                condition=Q(new_value__isnull=True) | Q(new_value__gt=0), name="contract_amendment_value_positive"
            ),
        ]

    def __str__(self) -> str:
        return _("Amendment %(number)s to contract %(reference)s") % {
            "number": self.number,
            "reference": self.contract.reference,
        }

    def audit_scope(self) -> dict:
        return self.contract.audit_scope()

    @transition(field=status, source=AmendmentStatus.DRAFT, target=AmendmentStatus.PENDING_APPROVAL)
    def submit(self, *, now) -> None:
        self.submitted_at = now
        self.return_reason = ""

    @transition(field=status, source=AmendmentStatus.PENDING_APPROVAL, target=AmendmentStatus.DRAFT)
    def send_back(self, *, reason: str) -> None:
        self.return_reason = reason
        self.submitted_at = None

    @transition(field=status, source=AmendmentStatus.PENDING_APPROVAL, target=AmendmentStatus.AWAITING_SIGNATURES)
    def approve(self, *, by, now) -> None:
        self.approved_by = by
        self.approved_at = now

    @transition(field=status, source=AmendmentStatus.AWAITING_SIGNATURES, target=AmendmentStatus.IN_FORCE)
    def bring_into_force(self, *, now) -> None:
        self.in_force_at = now

    @transition(
        field=status,
        source=[AmendmentStatus.DRAFT, AmendmentStatus.PENDING_APPROVAL, AmendmentStatus.AWAITING_SIGNATURES],
        target=AmendmentStatus.WITHDRAWN,
    )
    def withdraw(self, *, now) -> None:
        self.withdrawn_at = now


# Monitoring ------------------------------------------------------------------------------------------------


class ReportDecision(models.TextChoices):
    PENDING = "pending", _("Awaiting the officer's decision")
    ACCEPTED = "accepted", _("Accepted")
    REJECTED = "rejected", _("Rejected")


class ProgressReport(models.Model):
    """The contractor's report on a milestone: what was done, how far, and the evidence (each file by SHA-256)."""

    milestone = models.ForeignKey(ContractMilestone, on_delete=models.PROTECT, related_name="reports")
    number = models.PositiveIntegerField(_("report"))
    narrative = models.TextField(_("what was done"))
    percent_complete = models.PositiveSmallIntegerField(
        _("per cent complete"), validators=[MinValueValidator(0), MaxValueValidator(100)]
    )
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    submitted_at = models.DateTimeField(_("time submitted"))
    decision = models.CharField(
        _("decision"), max_length=10, choices=ReportDecision.choices, default=ReportDecision.PENDING
    )
    decision_reason = models.TextField(_("reasons"), blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)

    class Meta:
        verbose_name = _("progress report")
        verbose_name_plural = _("progress reports")
        ordering = ["milestone", "number"]
        constraints = [
            models.UniqueConstraint(fields=["milestone", "number"], name="progress_report_number_once"),
            models.CheckConstraint(
                condition=Q(percent_complete__gte=0) & Q(percent_complete__lte=100), name="progress_report_percent"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.milestone} · {self.number}"

    def audit_scope(self) -> dict:
        return self.milestone.contract.audit_scope()


def evidence_upload_to(instance, filename: str) -> str:
    return f"contract-evidence/{uuid.uuid4().hex}"


class ProgressEvidence(models.Model):
    report = models.ForeignKey(ProgressReport, on_delete=models.PROTECT, related_name="evidence")
    title = models.CharField(_("title"), max_length=255)
    file = models.FileField(upload_to=evidence_upload_to, max_length=255)
    original_name = models.CharField(max_length=255)
    content_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(_("SHA-256"), max_length=64)

    class Meta:
        verbose_name = _("evidence document")
        verbose_name_plural = _("evidence documents")
        ordering = ["report", "id"]

    def __str__(self) -> str:
        return f"{self.title} · {self.sha256[:12]}"


class MeasurementStatus(models.TextChoices):
    SUBMITTED = "submitted", _("Submitted by the contractor")
    CONFIRMED = "confirmed", _("Confirmed")
    REJECTED = "rejected", _("Rejected")


class KpiMeasurement(models.Model):
    """A KPI's value for one period, entered by the officer or submitted by the contractor and confirmed."""

    kpi = models.ForeignKey(ContractKpi, on_delete=models.PROTECT, related_name="measurements")
    contract = models.ForeignKey(Contract, on_delete=models.PROTECT, related_name="measurements")
    period_start = models.DateField(_("period from"))
    period_end = models.DateField(_("period to"))
    value = models.DecimalField(_("measured value"), max_digits=14, decimal_places=3)
    status = models.CharField(_("status"), max_length=10, choices=MeasurementStatus.choices)
    #: Whether it met its target (known once confirmed).
    met = models.BooleanField(_("target met"), null=True, blank=True)
    entered_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    entered_at = models.DateTimeField(_("entered"))
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    confirmed_at = models.DateTimeField(_("time confirmed"), null=True, blank=True)
    rejection_reason = models.TextField(_("reason for rejecting it"), blank=True)

    class Meta:
        verbose_name = _("KPI measurement")
        verbose_name_plural = _("KPI measurements")
        ordering = ["kpi", "period_start", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["kpi", "period_start"], condition=~Q(status="rejected"), name="kpi_measurement_once_per_period"
            ),
            models.CheckConstraint(condition=Q(period_end__gte=models.F("period_start")), name="kpi_period_ordered"),
        ]
        indexes = [models.Index(fields=["contract", "period_start"], name="kpi_measurement_contract")]

    def __str__(self) -> str:
        return f"{self.kpi} · {self.period_start}"

    def audit_scope(self) -> dict:
        return self.contract.audit_scope()


class PenaltyKind(models.TextChoices):
    DELAY = "delay", _("Delay (liquidated damages)")
    KPI = "kpi", _("Performance failure")


class Penalty(models.Model):
    """A penalty by the contract's rule, with its calculation; deducted from the payment that absorbed it."""

    contract = models.ForeignKey(Contract, on_delete=models.PROTECT, related_name="penalties")
    kind = models.CharField(_("kind"), max_length=10, choices=PenaltyKind.choices)
    milestone = models.ForeignKey(
        ContractMilestone, null=True, blank=True, on_delete=models.PROTECT, related_name="penalties"
    )
    measurement = models.OneToOneField(
        KpiMeasurement, null=True, blank=True, on_delete=models.PROTECT, related_name="penalty"
    )
    days = models.PositiveIntegerField(_("days of delay"), default=0)
    amount = amount_field(_("amount"))
    calculation = models.TextField(_("calculation"))
    #: While a delay runs the scheduler updates its amount; final once the milestone is accepted.
    final = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("penalty")
        verbose_name_plural = _("penalties")
        ordering = ["contract", "created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["milestone"], condition=Q(kind="delay"), name="penalty_one_delay_per_milestone"
            ),
            models.CheckConstraint(condition=Q(amount__gte=0), name="penalty_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.amount}"

    def audit_scope(self) -> dict:
        return self.contract.audit_scope()


class Payment(models.Model):
    """A payment for an accepted milestone: its amount less the penalties deducted from it.

    The sum of a contract's payments never exceeds its current value: the service checks it under the
    contract's row lock, and a database trigger refuses any row that would break it.
    """

    contract = models.ForeignKey(Contract, on_delete=models.PROTECT, related_name="payments")
    milestone = models.OneToOneField(ContractMilestone, on_delete=models.PROTECT, related_name="payment")
    gross = amount_field(_("milestone payment"))
    penalties_deducted = amount_field(_("penalties deducted"), default=0)
    amount = amount_field(_("amount paid"))
    calculation = models.TextField(_("calculation"))
    paid_on = models.DateField(_("paid on"))
    reference = models.CharField(_("payment reference"), max_length=80)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        ordering = ["contract", "paid_on", "id"]
        constraints = [
            models.CheckConstraint(
                # Rounded to the cent: SQLite keeps decimals as binary floats (2.95 − 0.01 ≠ 2.94 there).
                condition=Q(amount=Round(models.F("gross") - models.F("penalties_deducted"), 2)),
                name="payment_net_of_penalties",
            ),
            models.CheckConstraint(condition=Q(amount__gte=0), name="payment_not_negative"),
            models.UniqueConstraint(fields=["contract", "reference"], name="payment_reference_once"),
        ]

    def __str__(self) -> str:
        return f"{self.reference} · {self.amount}"

    def audit_scope(self) -> dict:
        return self.contract.audit_scope()
