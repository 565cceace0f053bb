"""Whose desk items a person sees in the queue, and the queue's filters."""

from __future__ import annotations

import datetime

import django_filters
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.roles import Role
from desk.models import DeskItem, ItemKind, ItemStatus
from procurement.models import Agency

#: Age bands of the queue's filter: (value, label, youngest, oldest) in hours.
AGE_BANDS = [
    ("day", _("Less than a day"), 0, 24),
    ("week", _("1 to 7 days"), 24, 24 * 7),
    ("month", _("7 to 30 days"), 24 * 7, 24 * 30),
    ("older", _("More than 30 days"), 24 * 30, None),
]


def items_listed_for(user) -> QuerySet[DeskItem] | None:
    """The items ``user`` sees in the queue, or None if the queue is not for them — the reach of the rule
    ``desk.view_deskitem``: auditors and administrators all; officers and approvers their agency's."""
    if not (user and user.is_authenticated and user.is_active):
        return None
    if user.is_superuser or user.has_role(Role.ADMINISTRATOR) or user.has_role(Role.AUDITOR):
        return DeskItem.objects.all()
    if (user.has_role(Role.PROCUREMENT_OFFICER) or user.has_role(Role.APPROVER)) and user.agency_id:
        return DeskItem.objects.for_agency(user.agency_id)
    return None


class DeskItemFilter(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(label=_("Type"), choices=ItemKind.choices, empty_label=_("Any type"))
    status = django_filters.ChoiceFilter(label=_("Status"), choices=ItemStatus.choices, empty_label=_("Any status"))
    agency = django_filters.ModelChoiceFilter(
        label=_("Agency"), queryset=Agency.objects.order_by("code"), empty_label=_("Any agency")
    )
    age = django_filters.ChoiceFilter(
        label=_("Age"),
        choices=[(value, label) for value, label, _young, _old in AGE_BANDS],
        empty_label=_("Any age"),
        method="filter_age",
    )
    overdue = django_filters.BooleanFilter(
        label=_("Overdue"), method="filter_overdue", widget=django_filters.widgets.BooleanWidget()
    )

    class Meta:
        model = DeskItem
        fields = ["kind", "status", "agency", "age", "overdue"]

    def __init__(self, *args, show_agency: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        if not show_agency:
            del self.filters["agency"]

    def filter_age(self, queryset, name, value):
        now = timezone.now()
        for band, _label, youngest, oldest in AGE_BANDS:
            if band == value:
                queryset = queryset.filter(received_at__lte=now - datetime.timedelta(hours=youngest))
                if oldest is not None:
                    queryset = queryset.filter(received_at__gt=now - datetime.timedelta(hours=oldest))
        return queryset

    def filter_overdue(self, queryset, name, value):
        if value:
            return queryset.overdue(timezone.now())
        return queryset
