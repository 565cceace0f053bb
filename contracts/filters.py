"""Who sees which contracts on the contracts list, and its filters."""

from __future__ import annotations

import django_filters
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from accounts.roles import Role
from contracts.models import Contract, ContractStatus
from procurement.models import Agency
from procurement.tender_filters import agency_reach, sees_every_agency


def contracts_listed_for(user) -> QuerySet[Contract] | None:
    """The contracts ``user`` sees on the list, or None if the list is not for them — the reach of the rule
    ``contracts.view_contract``, as a query. Auditors and administrators: all, across agencies. Officers: their
    agency's. Approvers: their agency's and those of the programmes whose steering committee they sit on. A
    vendor's people: their own company's."""
    if not (user and user.is_authenticated and user.is_active):
        return None
    contracts = Contract.objects.all()
    if sees_every_agency(user):
        return contracts
    reach = agency_reach(user)
    if user.has_role(Role.VENDOR_USER):
        from vendors.models import VendorMembership

        membership = VendorMembership.objects.filter(user=user).first()
        if membership is not None:
            reach |= Q(vendor_id=membership.vendor_id)
    if not reach:
        return None
    return contracts.filter(reach)


class ContractFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("Tender reference, title or contractor"), method="search")
    status = django_filters.ChoiceFilter(label=_("Status"), choices=ContractStatus.choices, empty_label=_("Any status"))
    agency = django_filters.ModelChoiceFilter(
        label=_("Agency"), queryset=Agency.objects.order_by("code"), empty_label=_("Any agency")
    )
    value_min = django_filters.NumberFilter(label=_("Value from"), field_name="value", lookup_expr="gte", min_value=0)
    value_max = django_filters.NumberFilter(label=_("Value up to"), field_name="value", lookup_expr="lte", min_value=0)

    class Meta:
        model = Contract
        fields = ["q", "status", "agency", "value_min", "value_max"]

    def search(self, queryset, name, value):
        value = value.strip()[:100]
        return queryset.filter(
            Q(tender__reference__icontains=value)
            | Q(title_en__icontains=value)
            | Q(title_ar__icontains=value)
            | Q(vendor__legal_name_en__icontains=value)
            | Q(vendor__legal_name_ar__icontains=value)
        )
