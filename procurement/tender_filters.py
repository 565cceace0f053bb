"""The officers' tender list: which tenders each person may list, and the filters on it."""

from __future__ import annotations

import datetime

import django_filters
from django import forms
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.roles import Role
from core.filters import BoundedDateFilter
from procurement.models import Agency, Phase, Programme, Tender
from procurement.models.tenders import ProcurementCategory, ProcurementMethod, TenderStatus


def tenders_listed_for(user) -> QuerySet[Tender] | None:
    """The tenders ``user`` sees on the officers' list, or None if the list is not for them.

    Officers: their agency's. Approvers: their agency's and those of the programmes whose steering
    committee they sit on. Auditors and administrators: all. (The same reach as the rule
    ``procurement.view_tender_internals``, as a query.)
    """
    if not (user and user.is_authenticated and user.is_active):
        return None
    tenders = Tender.objects.all()
    if sees_every_agency(user):
        return tenders
    reach = agency_reach(user)
    if not reach:
        return None
    return tenders.filter(reach)


def sees_every_agency(user) -> bool:
    """Auditors and administrators read across all agencies."""
    return user.is_superuser or user.has_role(Role.ADMINISTRATOR) or user.has_role(Role.AUDITOR)


def agency_reach(user) -> Q:
    """What an agency's people reach, for models with ``agency`` and ``phase`` (tenders, contracts): officers
    their agency's; approvers their agency's and those of the programmes whose steering committee they sit on.
    An empty Q when neither."""
    reach = Q()
    if user.has_role(Role.PROCUREMENT_OFFICER) and user.agency_id:
        reach |= Q(agency_id=user.agency_id)
    if user.has_role(Role.APPROVER):
        if user.agency_id:
            reach |= Q(agency_id=user.agency_id)
        # A subquery, not a join, so that nothing is listed twice.
        reach |= Q(phase__programme_id__in=Programme.objects.filter(steering_committee=user).values("pk"))
    return reach


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


def _start_of(day: datetime.date) -> datetime.datetime:
    """Midnight at the start of ``day`` in the viewer's time zone (deadlines are stored in UTC)."""
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


class PhaseChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, phase: Phase) -> str:
        return f"{phase.programme.code} · {phase}"


class PhaseFilter(django_filters.ModelChoiceFilter):
    field_class = PhaseChoiceField


class TenderFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("Reference or title"), method="search")
    status = django_filters.ChoiceFilter(label=_("Status"), choices=TenderStatus.choices, empty_label=_("Any status"))
    agency = django_filters.ModelChoiceFilter(
        label=_("Agency"), queryset=Agency.objects.order_by("code"), empty_label=_("Any agency")
    )
    phase = PhaseFilter(
        label=_("Phase"),
        queryset=Phase.objects.select_related("programme").order_by("programme__code", "order"),
        empty_label=_("Any phase"),
    )
    method = django_filters.ChoiceFilter(
        label=_("Method"), choices=ProcurementMethod.choices, empty_label=_("Any method")
    )
    category = django_filters.ChoiceFilter(
        label=_("Category"), choices=ProcurementCategory.choices, empty_label=_("Any category")
    )
    value_min = django_filters.NumberFilter(
        label=_("Estimated value from"), field_name="estimated_value", lookup_expr="gte", min_value=0
    )
    value_max = django_filters.NumberFilter(
        label=_("Estimated value up to"), field_name="estimated_value", lookup_expr="lte", min_value=0
    )
    deadline_from = BoundedDateFilter(
        label=_("Submission deadline from"), method="deadline_on_or_after", widget=DateInput()
    )
    deadline_to = BoundedDateFilter(
        label=_("Submission deadline to"), method="deadline_on_or_before", widget=DateInput()
    )

    class Meta:
        model = Tender
        fields = [
            "q",
            "status",
            "agency",
            "phase",
            "method",
            "category",
            "value_min",
            "value_max",
            "deadline_from",
            "deadline_to",
        ]

    def search(self, queryset, name, value):
        return queryset.filter(
            Q(reference__icontains=value) | Q(title_en__icontains=value) | Q(title_ar__icontains=value)
        )

    def deadline_on_or_after(self, queryset, name, value):
        return queryset.filter(submission_deadline__gte=_start_of(value))

    def deadline_on_or_before(self, queryset, name, value):
        # The whole of the last day counts.
        return queryset.filter(submission_deadline__lt=_start_of(value + datetime.timedelta(days=1)))
