from django.contrib import admin
from django.core.exceptions import PermissionDenied

from core.admin import ReadOnlyAdmin
from procurement import opening_services, services
from procurement.models import (
    Addendum,
    Agency,
    Bid,
    BidEnvelope,
    BidFile,
    BidOpening,
    BidReceipt,
    Clarification,
    Phase,
    Programme,
    Tender,
    TenderKey,
)
from procurement.models.bids import SEALED_STATES, BidStatus, EnvelopeState


class ServiceBackedAdmin(admin.ModelAdmin):
    """Saves through the services so that the admin obeys the same rules and writes the audit log."""

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def save_model(self, request, obj, form, change):
        data = {name: form.cleaned_data[name] for name in form.cleaned_data if name not in self.m2m_fields}
        saved = self.update(request.user, obj, data) if change else self.create(request.user, obj, data)
        obj.pk = saved.pk
        obj.refresh_from_db()

    def save_related(self, request, form, formsets, change):
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)

    m2m_fields: tuple[str, ...] = ()


@admin.register(Agency)
class AgencyAdmin(ServiceBackedAdmin):
    list_display = ["code", "name_en", "name_ar", "kind", "parent", "is_active"]
    list_filter = ["kind", "is_active"]
    search_fields = ["code", "name_en", "name_ar"]
    show_full_result_count = False

    def create(self, actor, obj, data):
        return services.agency_create(actor=actor, data=data)

    def update(self, actor, obj, data):
        return services.agency_update(actor=actor, agency=obj, data=data)


@admin.register(Programme)
class ProgrammeAdmin(ServiceBackedAdmin):
    list_display = ["code", "name_en", "sponsor_agency", "budget", "currency", "start_date", "end_date"]
    search_fields = ["code", "name_en", "name_ar"]
    filter_horizontal = ["steering_committee"]
    exclude = ["created_by"]
    m2m_fields = ("steering_committee",)
    show_full_result_count = False

    def create(self, actor, obj, data):
        return services.programme_create(actor=actor, data=data, steering_committee=self._committee)

    def update(self, actor, obj, data):
        return services.programme_update(actor=actor, programme=obj, data=data, steering_committee=self._committee)

    def save_model(self, request, obj, form, change):
        self._committee = list(form.cleaned_data.get("steering_committee") or [])
        super().save_model(request, obj, form, change)


@admin.register(Phase)
class PhaseAdmin(ServiceBackedAdmin):
    list_display = ["programme", "order", "name_en", "start_date", "end_date", "budget"]
    list_filter = ["programme"]
    search_fields = ["name_en", "name_ar"]
    show_full_result_count = False

    def create(self, actor, obj, data):
        programme = data.pop("programme")
        return services.phase_create(actor=actor, programme=programme, data=data)

    def update(self, actor, obj, data):
        return services.phase_update(actor=actor, phase=obj, data=data)


@admin.register(Tender)
class TenderAdmin(ReadOnlyAdmin):
    list_display = ["reference", "title_en", "agency", "status", "submission_deadline"]
    list_filter = ["status", "method", "category"]
    search_fields = ["=reference", "title_en", "title_ar"]
    list_select_related = ["agency"]


@admin.register(Clarification)
class ClarificationAdmin(ReadOnlyAdmin):
    list_display = ["tender", "number", "asked_at", "answered_at"]
    list_select_related = ["tender"]


@admin.register(Addendum)
class AddendumAdmin(ReadOnlyAdmin):
    list_display = ["tender", "number", "status", "issued_at"]
    list_select_related = ["tender"]


# Sealed bids: metadata only. Drafts, envelope content, pending shares, encrypted keys and stored files are
# never shown, and the page of a bid, envelope or document that is still sealed refuses and is recorded.


class SealedBidAdmin(ReadOnlyAdmin):
    """Administrators may list bids' metadata; they may not read a sealed bid (nobody may)."""

    def has_view_permission(self, request, obj=None) -> bool:
        return request.user.has_module_perms("procurement")

    def is_sealed(self, obj) -> bool:
        raise NotImplementedError

    def bid_of(self, obj) -> Bid:
        return obj.bid

    def change_view(self, request, object_id, form_url="", extra_context=None):
        obj = self.get_object(request, object_id)
        if obj is not None and self.is_sealed(obj):
            opening_services.sealed_access_refused(
                user=request.user,
                obj=self.bid_of(obj),
                what=f"admin {self.model._meta.model_name} {obj.pk}",
                request=request,
            )
            raise PermissionDenied
        return super().change_view(request, object_id, form_url, extra_context)


@admin.register(Bid)
class BidAdmin(SealedBidAdmin):
    list_display = ["id", "tender", "vendor", "status", "version", "submitted_at", "opened_at"]
    list_filter = ["status"]
    search_fields = ["=tender__reference"]
    list_select_related = ["tender", "vendor"]
    fields = ["tender", "vendor", "status", "version", "created_at", "submitted_at", "withdrawn_at", "opened_at"]

    def get_queryset(self, request):
        return super().get_queryset(request).defer("draft")

    def is_sealed(self, obj) -> bool:
        return obj.status in (BidStatus.DRAFT, *SEALED_STATES, BidStatus.WITHDRAWN)

    def bid_of(self, obj) -> Bid:
        return obj


@admin.register(BidEnvelope)
class BidEnvelopeAdmin(SealedBidAdmin):
    list_display = ["id", "bid", "kind", "state", "sha256", "size", "opened_at"]
    list_filter = ["kind", "state"]
    list_select_related = ["bid__vendor"]
    fields = ["bid", "version", "kind", "sha256", "size", "state", "opened_at", "problem"]

    def get_queryset(self, request):
        return super().get_queryset(request).defer("content")

    def is_sealed(self, obj) -> bool:
        return obj.state == EnvelopeState.SEALED


@admin.register(BidFile)
class BidFileAdmin(SealedBidAdmin):
    list_display = ["id", "bid", "label", "size", "sealed_sha256", "uploaded_at"]
    list_select_related = ["bid__vendor"]
    fields = ["bid", "label", "sealed_version", "size", "sealed_sha256", "uploaded_at", "opened_sha256"]

    def is_sealed(self, obj) -> bool:
        return not obj.opened


@admin.register(BidReceipt)
class BidReceiptAdmin(ReadOnlyAdmin):
    list_display = ["number", "bid", "action", "version", "server_time"]
    list_filter = ["action"]
    list_select_related = ["bid__vendor"]
    fields = ["number", "bid", "action", "version", "server_time", "issued_to", "envelopes", "audit_sequence"]

    def has_view_permission(self, request, obj=None) -> bool:
        return request.user.has_module_perms("procurement")


@admin.register(BidOpening)
class BidOpeningAdmin(ReadOnlyAdmin):
    list_display = ["tender", "stage", "status", "first_member", "second_member", "completed_at"]
    list_filter = ["stage", "status"]
    list_select_related = ["tender", "first_member", "second_member"]
    fields = [
        "tender",
        "stage",
        "status",
        "first_member",
        "first_confirmed_at",
        "expires_at",
        "second_member",
        "completed_at",
        "record",
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).defer("pending_shares")

    def has_view_permission(self, request, obj=None) -> bool:
        return request.user.has_module_perms("procurement")


@admin.register(TenderKey)
class TenderKeyAdmin(ReadOnlyAdmin):
    list_display = ["tender", "fingerprint", "threshold", "created_at", "created_by"]
    list_select_related = ["tender", "created_by"]
    fields = ["tender", "fingerprint", "threshold", "created_at", "created_by"]

    def get_queryset(self, request):
        return super().get_queryset(request).defer("encrypted_private_key")

    def has_view_permission(self, request, obj=None) -> bool:
        return request.user.has_module_perms("procurement")
