"""Organisations and the programme: agencies, the programme, and its phases.

Tenders and what follows them are added to this app by later work; each belongs to a phase.
"""

from __future__ import annotations

import datetime
import zoneinfo
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q, Sum
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.i18n import BilingualNameMixin, localized
from core.money import amount_field, currency_field


def time_zone_choices() -> list[tuple[str, str]]:
    return sorted((name, name) for name in zoneinfo.available_timezones() if "/" in name)


def default_time_zone() -> str:
    return settings.DISPLAY_TIME_ZONE


def validate_time_zone(value: str) -> None:
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as error:
        raise ValidationError(_("%(zone)s is not a known time zone.") % {"zone": value}) from error


code_validator = RegexValidator(
    r"^[A-Z][A-Z0-9-]{1,19}$",
    _("Use 2 to 20 capital letters, digits or hyphens, starting with a letter (e.g. MCIT)."),
)


class NormalisedCodeMixin:
    """Codes are stored in capitals without surrounding spaces, whatever was typed."""

    def clean_fields(self, exclude=None) -> None:
        if self.code:
            self.code = self.code.strip().upper()
        super().clean_fields(exclude=exclude)


class AgencyQuerySet(models.QuerySet):
    def active(self) -> AgencyQuerySet:
        return self.filter(is_active=True)

    def ministries(self) -> AgencyQuerySet:
        return self.filter(parent__isnull=True)


class Agency(NormalisedCodeMixin, BilingualNameMixin, models.Model):
    """A ministry, or a department or authority under one (a tree)."""

    class Kind(models.TextChoices):
        MINISTRY = "ministry", _("Ministry")
        DEPARTMENT = "department", _("Department")
        AUTHORITY = "authority", _("Authority")
        OTHER = "other", _("Other public body")

    code = models.CharField(_("code"), max_length=20, unique=True, validators=[code_validator])
    name_en = models.CharField(_("name (English)"), max_length=200)
    name_ar = models.CharField(_("name (Arabic)"), max_length=200)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.MINISTRY)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("part of"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
        help_text=_("The ministry or body this one belongs to; empty for a ministry."),
    )
    time_zone = models.CharField(
        _("time zone"),
        max_length=64,
        default=default_time_zone,
        validators=[validate_time_zone],
        help_text=_("Times are shown to this agency's staff in this zone."),
    )
    website = models.URLField(_("website"), blank=True)
    email = models.EmailField(_("contact e-mail"), blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    publishes_signed_contracts = models.BooleanField(
        _("publish signed contracts on the portal"),
        default=False,
        help_text=_(
            "When set, the portal offers the PDF both parties signed (and each amendment in force) for download; "
            "otherwise it shows only the PDF's SHA-256 fingerprint. A signed PDF names its signatories as their "
            "certificates do (name and e-mail address)."
        ),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = AgencyQuerySet.as_manager()

    class Meta:
        verbose_name = _("agency")
        verbose_name_plural = _("agencies")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("procurement:agency_detail", args=[self.pk])

    def ancestors(self) -> list[Agency]:
        """From the top ministry down to this agency's parent."""
        chain: list[Agency] = []
        node = self.parent
        seen: set[int] = set()
        while node is not None and node.pk not in seen:
            seen.add(node.pk)
            chain.append(node)
            node = node.parent
        return list(reversed(chain))

    def clean(self) -> None:
        super().clean()
        if (
            self.parent_id
            and self.pk
            and (self.parent_id == self.pk or any(a.pk == self.pk for a in self.parent.ancestors()))
        ):
            raise ValidationError({"parent": _("An agency cannot be part of itself or of its own department.")})

    def audit_scope(self) -> dict:
        return {"agency_id": self.pk}


class ProgrammeQuerySet(models.QuerySet):
    def for_agency(self, agency) -> ProgrammeQuerySet:
        return self.filter(sponsor_agency=agency)


class Programme(NormalisedCodeMixin, BilingualNameMixin, models.Model):
    """A national programme delivered in phases, steered by a committee."""

    code = models.CharField(_("code"), max_length=20, unique=True, validators=[code_validator])
    name_en = models.CharField(_("name (English)"), max_length=255)
    name_ar = models.CharField(_("name (Arabic)"), max_length=255)
    description_en = models.TextField(_("description (English)"), blank=True)
    description_ar = models.TextField(_("description (Arabic)"), blank=True)
    sponsor_agency = models.ForeignKey(
        Agency, verbose_name=_("sponsor agency"), on_delete=models.PROTECT, related_name="programmes"
    )
    steering_committee = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("steering committee"),
        blank=True,
        related_name="steered_programmes",
        help_text=_("Approvers who approve this programme's tenders, awards and amendments."),
    )
    budget = amount_field(_("budget"))
    currency = currency_field()
    start_date = models.DateField(_("start date"))
    end_date = models.DateField(_("end date"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = ProgrammeQuerySet.as_manager()

    class Meta:
        verbose_name = _("programme")
        verbose_name_plural = _("programmes")
        ordering = ["-start_date", "code"]
        constraints = [
            models.CheckConstraint(condition=Q(budget__gte=0), name="programme_budget_not_negative"),
            models.CheckConstraint(condition=Q(end_date__gte=models.F("start_date")), name="programme_dates_ordered"),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("procurement:programme_detail", args=[self.pk])

    @property
    def description(self) -> str:
        return localized(self, "description")

    def phases_budget(self, exclude_phase: Phase | None = None) -> Decimal:
        phases = self.phases.all()
        if exclude_phase is not None and exclude_phase.pk:
            phases = phases.exclude(pk=exclude_phase.pk)
        return phases.aggregate(total=Sum("budget"))["total"] or Decimal("0")

    def clean(self) -> None:
        super().clean()
        errors: dict[str, list] = {}
        if self.start_date and self.end_date and self.end_date < self.start_date:
            errors.setdefault("end_date", []).append(_("The end date must be on or after the start date."))
        if self.pk:
            allocated = self.phases_budget()
            if self.budget is not None and self.budget < allocated:
                errors.setdefault("budget", []).append(
                    _("The budget cannot be less than the %(allocated)s already allocated to its phases.")
                    % {"allocated": f"{allocated:,.2f}"}
                )
            if self.start_date:
                early = list(self.phases.filter(start_date__lt=self.start_date)[:5])
                if early:
                    errors.setdefault("start_date", []).append(
                        _("These phases would start before the programme: %(phases)s.")
                        % {"phases": ", ".join(str(p) for p in early)}
                    )
            if self.end_date:
                late = list(self.phases.filter(end_date__gt=self.end_date)[:5])
                if late:
                    errors.setdefault("end_date", []).append(
                        _("These phases would end after the programme: %(phases)s.")
                        % {"phases": ", ".join(str(p) for p in late)}
                    )
        if errors:
            raise ValidationError(errors)

    def progress(self, today: datetime.date | None = None) -> int:
        """How far through its planned time the programme is, in percent."""
        today = today or timezone.localdate()
        return _elapsed_percent(self.start_date, self.end_date, today)

    def audit_scope(self) -> dict:
        return {"programme_id": self.pk, "agency_id": self.sponsor_agency_id}


def _elapsed_percent(start: datetime.date, end: datetime.date, today: datetime.date) -> int:
    if today <= start:
        return 0
    if today >= end:
        return 100
    total = (end - start).days or 1
    return round((today - start).days * 100 / total)


class Phase(BilingualNameMixin, models.Model):
    """One ordered stage of a programme, with its own dates, budget and deliverables."""

    class Status(models.TextChoices):
        UPCOMING = "upcoming", _("Upcoming")
        IN_PROGRESS = "in_progress", _("In progress")
        COMPLETED = "completed", _("Completed")

    programme = models.ForeignKey(
        Programme, verbose_name=_("programme"), on_delete=models.PROTECT, related_name="phases"
    )
    order = models.PositiveSmallIntegerField(
        _("order"),
        validators=[MinValueValidator(1, message=_("Phases are numbered from 1."))],
        help_text=_("1 for the first phase, 2 for the next, …"),
    )
    name_en = models.CharField(_("name (English)"), max_length=255)
    name_ar = models.CharField(_("name (Arabic)"), max_length=255)
    start_date = models.DateField(_("start date"))
    end_date = models.DateField(_("end date"))
    budget = amount_field(_("budget"))
    specification_en = models.TextField(_("specification (English)"), blank=True)
    specification_ar = models.TextField(_("specification (Arabic)"), blank=True)
    deliverables_en = models.TextField(_("deliverables (English)"), blank=True, help_text=_("One per line."))
    deliverables_ar = models.TextField(_("deliverables (Arabic)"), blank=True, help_text=_("One per line."))
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("phase")
        verbose_name_plural = _("phases")
        ordering = ["programme", "order"]
        constraints = [
            models.UniqueConstraint(
                fields=["programme", "order"],
                name="phase_order_unique_in_programme",
                violation_error_message=_("This programme already has a phase with this order number."),
            ),
            models.CheckConstraint(condition=Q(budget__gte=0), name="phase_budget_not_negative"),
            models.CheckConstraint(condition=Q(end_date__gte=models.F("start_date")), name="phase_dates_ordered"),
            models.CheckConstraint(condition=Q(order__gte=1), name="phase_order_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.order}. {self.name}"

    def get_absolute_url(self) -> str:
        return reverse("procurement:programme_detail", args=[self.programme_id]) + f"#phase-{self.order}"

    @property
    def specification(self) -> str:
        return localized(self, "specification")

    @property
    def deliverables(self) -> list[str]:
        return [line.strip() for line in localized(self, "deliverables").splitlines() if line.strip()]

    def status(self, today: datetime.date | None = None) -> str:
        today = today or timezone.localdate()
        if today < self.start_date:
            return self.Status.UPCOMING
        if today > self.end_date:
            return self.Status.COMPLETED
        return self.Status.IN_PROGRESS

    def progress(self, today: datetime.date | None = None) -> int:
        return _elapsed_percent(self.start_date, self.end_date, today or timezone.localdate())

    def clean(self) -> None:
        super().clean()
        errors: dict[str, list] = {}
        if self.start_date and self.end_date and self.end_date < self.start_date:
            errors.setdefault("end_date", []).append(_("The end date must be on or after the start date."))
        programme = self.programme if self.programme_id else None
        if programme is not None:
            if self.start_date and self.start_date < programme.start_date:
                errors.setdefault("start_date", []).append(
                    _("The phase cannot start before the programme starts (%(date)s).")
                    % {"date": programme.start_date.isoformat()}
                )
            if self.end_date and self.end_date > programme.end_date:
                errors.setdefault("end_date", []).append(
                    _("The phase cannot end after the programme ends (%(date)s).")
                    % {"date": programme.end_date.isoformat()}
                )
            if self.budget is not None and self.budget >= 0:
                allocated = programme.phases_budget(exclude_phase=self)
                if allocated + self.budget > programme.budget:
                    errors.setdefault("budget", []).append(
                        _(
                            "The phases' budgets would total %(total)s, more than the programme budget of "
                            "%(budget)s. At most %(left)s is left for this phase."
                        )
                        % {
                            "total": f"{allocated + self.budget:,.2f}",
                            "budget": f"{programme.budget:,.2f}",
                            "left": f"{max(programme.budget - allocated, Decimal('0')):,.2f}",
                        }
                    )
            if self.order:
                others = programme.phases.exclude(pk=self.pk) if self.pk else programme.phases.all()
                if others.filter(order=self.order).exists():
                    errors.setdefault("order", []).append(
                        _("This programme already has a phase number %(order)s.") % {"order": self.order}
                    )
                elif self.start_date:
                    earlier = others.filter(order__lt=self.order, start_date__gt=self.start_date).first()
                    later = others.filter(order__gt=self.order, start_date__lt=self.start_date).first()
                    if earlier or later:
                        errors.setdefault("order", []).append(
                            _(
                                "Phases are numbered in the order they start: phase %(other)s starts on "
                                "%(date)s, which does not fit number %(order)s."
                            )
                            % {
                                "other": (earlier or later).order,
                                "date": (earlier or later).start_date.isoformat(),
                                "order": self.order,
                            }
                        )
        if errors:
            raise ValidationError(errors)

    def audit_scope(self) -> dict:
        return {"programme_id": self.programme_id, "agency_id": self.programme.sponsor_agency_id}
