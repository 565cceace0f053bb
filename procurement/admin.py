from django.contrib import admin

from core.admin import ReadOnlyAdmin
from procurement import services
from procurement.models import Addendum, Agency, Clarification, Phase, Programme, Tender


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
