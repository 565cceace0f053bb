import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from procurement.models import Agency, Programme


class AgencyFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("Search"), method="search")
    kind = django_filters.ChoiceFilter(label=_("Kind"), choices=Agency.Kind.choices, empty_label=_("Any kind"))

    class Meta:
        model = Agency
        fields = ["q", "kind"]

    def search(self, queryset, name, value):
        return queryset.filter(Q(code__icontains=value) | Q(name_en__icontains=value) | Q(name_ar__icontains=value))


class ProgrammeFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("Search"), method="search")
    sponsor_agency = django_filters.ModelChoiceFilter(
        label=_("Sponsor agency"), queryset=Agency.objects.order_by("code"), empty_label=_("Any agency")
    )

    class Meta:
        model = Programme
        fields = ["q", "sponsor_agency"]

    def search(self, queryset, name, value):
        return queryset.filter(Q(code__icontains=value) | Q(name_en__icontains=value) | Q(name_ar__icontains=value))
