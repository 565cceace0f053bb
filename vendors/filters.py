import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from vendors.models import Vendor, VendorCategory, VendorStatus


class VendorFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("Search"), method="search")
    status = django_filters.ChoiceFilter(label=_("Status"), choices=VendorStatus.choices, empty_label=_("Any status"))
    category = django_filters.ModelChoiceFilter(
        label=_("Category"),
        field_name="categories",
        queryset=VendorCategory.objects.order_by("code"),
        empty_label=_("Any category"),
    )

    class Meta:
        model = Vendor
        fields = ["q", "status", "category"]

    def search(self, queryset, name, value):
        return queryset.filter(
            Q(legal_name_en__icontains=value)
            | Q(legal_name_ar__icontains=value)
            | Q(commercial_registration_number__icontains=value)
        )
