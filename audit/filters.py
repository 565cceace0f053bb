import django_filters
from django import forms
from django.utils.translation import gettext_lazy as _

from audit.models import AuditEvent
from audit.trail import KIND_CHOICES, kind_q
from core.filters import BoundedDateFilter


class AuditEventFilter(django_filters.FilterSet):
    action = django_filters.CharFilter(label=_("Action starts with"), lookup_expr="startswith")
    actor = django_filters.CharFilter(label=_("Actor e-mail"), field_name="actor_label", lookup_expr="iexact")
    object_type = django_filters.CharFilter(label=_("Object type"), lookup_expr="exact")
    programme_id = django_filters.NumberFilter(label=_("Programme id"))
    since = BoundedDateFilter(
        label=_("From date"),
        field_name="occurred_at",
        lookup_expr="date__gte",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    until = BoundedDateFilter(
        label=_("To date"),
        field_name="occurred_at",
        lookup_expr="date__lte",
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    class Meta:
        model = AuditEvent
        fields = ["action", "actor", "object_type", "programme_id", "since", "until"]


class TrailFilter(django_filters.FilterSet):
    """The filters of a contract's trail: by kind of event, actor and date."""

    kind = django_filters.ChoiceFilter(label=_("Kind of event"), choices=KIND_CHOICES, method="filter_kind")
    actor = django_filters.CharFilter(label=_("Actor e-mail"), field_name="actor_label", lookup_expr="iexact")
    since = BoundedDateFilter(
        label=_("From date"),
        field_name="occurred_at",
        lookup_expr="date__gte",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    until = BoundedDateFilter(
        label=_("To date"),
        field_name="occurred_at",
        lookup_expr="date__lte",
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    class Meta:
        model = AuditEvent
        fields = ["kind", "actor", "since", "until"]

    def filter_kind(self, queryset, name, value):
        return queryset.filter(kind_q(value)) if value else queryset
