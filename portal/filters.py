"""The public tender list's filters, and its split into tenders open for bids and all the others."""

from __future__ import annotations

import datetime

import django_filters
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.filters import BoundedDateFilter
from portal.forms import DateInput, PhaseChoiceField
from procurement.models import Agency, Phase, Tender
from procurement.models.tenders import PUBLIC_STATES, ProcurementCategory, ProcurementMethod, TenderStatus

#: The states a visitor can filter on: the public ones, in the order of the tender's life, and cancelled.
PUBLIC_STATUS_CHOICES = [
    (status.value, status.label)
    for status in TenderStatus
    if status in PUBLIC_STATES or status == TenderStatus.CANCELLED
]


class PhaseFilter(django_filters.ModelChoiceFilter):
    field_class = PhaseChoiceField


def _start_of_day(day: datetime.date) -> datetime.datetime:
    """Midnight of ``day`` in the viewer's time zone: dates on the page are read in that zone."""
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


class PortalTenderFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("Reference or title"), method="search")
    status = django_filters.ChoiceFilter(label=_("Status"), choices=PUBLIC_STATUS_CHOICES, empty_label=_("Any status"))
    agency = django_filters.ModelChoiceFilter(
        label=_("Agency"),
        queryset=Agency.objects.order_by("code"),
        to_field_name="code",
        empty_label=_("Any agency"),
    )
    phase = PhaseFilter(
        label=_("Programme phase"),
        queryset=Phase.objects.select_related("programme").order_by("programme__code", "order", "id"),
        empty_label=_("Any phase"),
    )
    method = django_filters.ChoiceFilter(
        label=_("Procurement method"), choices=ProcurementMethod.choices, empty_label=_("Any method")
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
    closing_from = BoundedDateFilter(label=_("Closing on or after"), method="closing_on_or_after", widget=DateInput)
    closing_to = BoundedDateFilter(label=_("Closing on or before"), method="closing_on_or_before", widget=DateInput)

    class Meta:
        model = Tender
        fields = ["q", "status", "agency", "phase", "method", "category"]

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(reference__icontains=value) | Q(title_en__icontains=value) | Q(title_ar__icontains=value)
        )

    def closing_on_or_after(self, queryset, name, value):
        return queryset.filter(submission_deadline__gte=_start_of_day(value))

    def closing_on_or_before(self, queryset, name, value):
        return queryset.filter(submission_deadline__lt=_start_of_day(value + datetime.timedelta(days=1)))


def open_for_bids(queryset, now: datetime.datetime):
    """Published tenders whose submission deadline is still ahead (whatever the scheduler has done)."""
    return queryset.filter(status=TenderStatus.PUBLISHED, submission_deadline__gt=now)


def not_open_for_bids(queryset, now: datetime.datetime):
    return queryset.exclude(status=TenderStatus.PUBLISHED, submission_deadline__gt=now)
