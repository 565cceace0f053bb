"""Evaluation and award: the evaluation committee, conflict-of-interest declarations, administrative
compliance, independent technical scores and the chair's consensus, reviews of abnormally low prices, the
recommendation with its report, and complaints during the standstill.

The arithmetic is ``procurement/scoring.py``; every write is ``procurement/evaluation_services.py``.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, transition

from procurement.models.bids import Bid
from procurement.models.tenders import ProtectedStateMixin, Tender, TenderCriterion

SCORE_VALIDATORS = [
    MinValueValidator(Decimal("0"), message=_("A score is from 0 to 100.")),
    MaxValueValidator(Decimal("100"), message=_("A score is from 0 to 100.")),
]


class EvaluationMember(models.Model):
    """A member of a tender's evaluation committee (staff or an external expert); one of them chairs it."""

    tender = models.ForeignKey(Tender, on_delete=models.PROTECT, related_name="evaluation_members")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("member"), on_delete=models.PROTECT, related_name="evaluation_seats"
    )
    is_chair = models.BooleanField(_("chair"), default=False)
    is_external = models.BooleanField(_("external expert"), default=False)
    appointed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    appointed_at = models.DateTimeField(default=timezone.now)
    scores_submitted_at = models.DateTimeField(_("scores submitted"), null=True, blank=True)

    class Meta:
        verbose_name = _("evaluation committee member")
        verbose_name_plural = _("evaluation committee members")
        ordering = ["tender", "-is_chair", "appointed_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["tender", "user"], name="evaluation_member_once"),
            models.UniqueConstraint(fields=["tender"], condition=Q(is_chair=True), name="evaluation_one_chair"),
        ]
        indexes = [models.Index(fields=["user", "tender"], name="evaluation_member_user")]

    def __str__(self) -> str:
        return f"{self.tender} · {self.user}"

    def audit_scope(self) -> dict:
        return self.tender.audit_scope()


class ConflictDeclaration(models.Model):
    """A member's declaration, for one bidder, before seeing its bid: no conflict, or a conflict (recused)."""

    member = models.ForeignKey(EvaluationMember, on_delete=models.PROTECT, related_name="declarations")
    bid = models.ForeignKey(Bid, on_delete=models.PROTECT, related_name="conflict_declarations")
    has_conflict = models.BooleanField(_("conflict of interest"))
    statement = models.TextField(_("statement"), blank=True)
    declared_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("conflict-of-interest declaration")
        verbose_name_plural = _("conflict-of-interest declarations")
        ordering = ["member", "bid"]
        constraints = [models.UniqueConstraint(fields=["member", "bid"], name="declaration_once")]

    def __str__(self) -> str:
        return f"{self.member} · {self.bid_id} · {'conflict' if self.has_conflict else 'none'}"


class ComplianceDecision(models.Model):
    """Administrative compliance of a bid: responsive or not, with the reason the bidder will see."""

    bid = models.OneToOneField(Bid, on_delete=models.PROTECT, related_name="compliance")
    responsive = models.BooleanField(_("responsive"))
    reason = models.TextField(_("reason"), blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("compliance decision")
        verbose_name_plural = _("compliance decisions")

    def __str__(self) -> str:
        return f"{self.bid_id} · {'responsive' if self.responsive else 'not responsive'}"


class TechnicalScore(models.Model):
    """One member's score of one bid on one criterion, with its justification. Others cannot see it until
    every member who is not recused has submitted their sheet."""

    member = models.ForeignKey(EvaluationMember, on_delete=models.PROTECT, related_name="scores")
    bid = models.ForeignKey(Bid, on_delete=models.PROTECT, related_name="technical_scores")
    criterion = models.ForeignKey(TenderCriterion, on_delete=models.PROTECT, related_name="+")
    score = models.DecimalField(_("score"), max_digits=5, decimal_places=2, validators=SCORE_VALIDATORS)
    justification = models.TextField(_("justification"))
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("technical score")
        verbose_name_plural = _("technical scores")
        ordering = ["member", "bid", "criterion"]
        constraints = [
            models.UniqueConstraint(fields=["member", "bid", "criterion"], name="technical_score_once"),
            models.CheckConstraint(condition=Q(score__gte=0) & Q(score__lte=100), name="technical_score_range"),
        ]

    def __str__(self) -> str:
        return f"{self.member} · {self.bid_id} · {self.criterion_id}: {self.score}"


class ConsensusScore(models.Model):
    """The chair's record of the committee's agreed score on a criterion (when the rules ask for one, or
    where the members' scores differ by more than the allowed spread)."""

    bid = models.ForeignKey(Bid, on_delete=models.PROTECT, related_name="consensus_scores")
    criterion = models.ForeignKey(TenderCriterion, on_delete=models.PROTECT, related_name="+")
    score = models.DecimalField(_("agreed score"), max_digits=5, decimal_places=2, validators=SCORE_VALIDATORS)
    reason = models.TextField(_("reason"))
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("consensus score")
        verbose_name_plural = _("consensus scores")
        constraints = [
            models.UniqueConstraint(fields=["bid", "criterion"], name="consensus_score_once"),
            models.CheckConstraint(condition=Q(score__gte=0) & Q(score__lte=100), name="consensus_score_range"),
        ]

    def __str__(self) -> str:
        return f"{self.bid_id} · {self.criterion_id}: {self.score}"


class PriceReview(models.Model):
    """The committee's decision on an abnormally low price: justified (kept) or rejected (excluded)."""

    class Decision(models.TextChoices):
        JUSTIFIED = "justified", _("Justified: the price is kept")
        REJECTED = "rejected", _("Rejected: the bid is excluded")

    bid = models.OneToOneField(Bid, on_delete=models.PROTECT, related_name="price_review")
    decision = models.CharField(_("decision"), max_length=20, choices=Decision.choices)
    reason = models.TextField(_("reason"))
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("price review")
        verbose_name_plural = _("price reviews")

    def __str__(self) -> str:
        return f"{self.bid_id} · {self.decision}"


class RecommendationStatus(models.TextChoices):
    PENDING = "pending", _("Awaiting approval")
    APPROVED = "approved", _("Approved (standstill)")
    RETURNED = "returned", _("Returned to the committee")
    FINAL = "final", _("Final award")
    OVERTURNED = "overturned", _("Overturned by an upheld complaint")


class Recommendation(ProtectedStateMixin, models.Model):
    """The committee's recommendation of the first-ranked bid, with the ranking as computed at the time."""

    tender = models.ForeignKey(Tender, on_delete=models.PROTECT, related_name="recommendations")
    bid = models.ForeignKey(Bid, verbose_name=_("recommended bid"), on_delete=models.PROTECT, related_name="+")
    status = FSMField(
        _("status"), max_length=20, choices=RecommendationStatus.choices, default=RecommendationStatus.PENDING,
        protected=True,
    )  # fmt: skip
    #: The evaluation as computed when it was recommended: results per bid, members, declarations, matrix.
    evaluation = models.JSONField(default=dict)
    reasons = models.TextField(_("reasons"))
    recommended_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recommended_at = models.DateTimeField(default=timezone.now)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    comments = models.TextField(_("comments of the approver"), blank=True)
    standstill_ends_at = models.DateTimeField(_("standstill ends"), null=True, blank=True)
    report = models.FileField(upload_to="evaluation-reports/", max_length=255, blank=True)
    report_sha256 = models.CharField(max_length=64, blank=True)
    report_error = models.TextField(blank=True)

    class Meta:
        verbose_name = _("award recommendation")
        verbose_name_plural = _("award recommendations")
        ordering = ["tender", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["tender"],
                condition=Q(status__in=["pending", "approved", "final"]),
                name="recommendation_one_live",
            )
        ]
        indexes = [models.Index(fields=["status", "standstill_ends_at"], name="recommendation_standstill")]

    def __str__(self) -> str:
        return _("Recommendation for %(tender)s") % {"tender": self.tender}

    def audit_scope(self) -> dict:
        return self.tender.audit_scope()

    @transition(field=status, source=RecommendationStatus.PENDING, target=RecommendationStatus.APPROVED)
    def approve(self, *, by, now, standstill_ends_at) -> None:
        self.decided_by = by
        self.decided_at = now
        self.standstill_ends_at = standstill_ends_at

    @transition(field=status, source=RecommendationStatus.PENDING, target=RecommendationStatus.RETURNED)
    def return_to_committee(self, *, by, now, comments: str) -> None:
        self.decided_by = by
        self.decided_at = now
        self.comments = comments

    @transition(field=status, source=RecommendationStatus.APPROVED, target=RecommendationStatus.FINAL)
    def finalise(self) -> None:
        pass

    @transition(field=status, source=RecommendationStatus.APPROVED, target=RecommendationStatus.OVERTURNED)
    def overturn(self) -> None:
        pass


class ComplaintStatus(models.TextChoices):
    SUBMITTED = "submitted", _("Submitted")
    UNDER_REVIEW = "under_review", _("Under review")
    UPHELD = "upheld", _("Upheld")
    DISMISSED = "dismissed", _("Dismissed")


#: A complaint in these states keeps the award from becoming final.
PENDING_COMPLAINT_STATES = [ComplaintStatus.SUBMITTED, ComplaintStatus.UNDER_REVIEW]


class Complaint(ProtectedStateMixin, models.Model):
    """A bidder's complaint against a recommended award, filed during the standstill."""

    tender = models.ForeignKey(Tender, on_delete=models.PROTECT, related_name="complaints")
    bid = models.ForeignKey(Bid, verbose_name=_("the complainant's bid"), on_delete=models.PROTECT, related_name="+")
    recommendation = models.ForeignKey(Recommendation, on_delete=models.PROTECT, related_name="complaints")
    filed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    filed_at = models.DateTimeField(default=timezone.now)
    grounds = models.TextField(_("grounds of the complaint"))
    status = FSMField(
        _("status"), max_length=20, choices=ComplaintStatus.choices, default=ComplaintStatus.SUBMITTED, protected=True
    )
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decision = models.TextField(_("decision and reasons"), blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("complaint")
        verbose_name_plural = _("complaints")
        ordering = ["-filed_at", "-id"]
        indexes = [models.Index(fields=["tender", "status"], name="complaint_tender_status")]

    def __str__(self) -> str:
        return _("Complaint %(id)s on %(tender)s") % {"id": self.pk, "tender": self.tender}

    def audit_scope(self) -> dict:
        return self.tender.audit_scope()

    @transition(field=status, source=ComplaintStatus.SUBMITTED, target=ComplaintStatus.UNDER_REVIEW)
    def start_review(self, *, by) -> None:
        self.reviewer = by

    @transition(field=status, source=ComplaintStatus.UNDER_REVIEW, target=ComplaintStatus.UPHELD)
    def uphold(self, *, decision: str, now) -> None:
        self.decision = decision
        self.decided_at = now

    @transition(field=status, source=ComplaintStatus.UNDER_REVIEW, target=ComplaintStatus.DISMISSED)
    def dismiss(self, *, decision: str, now) -> None:
        self.decision = decision
        self.decided_at = now
