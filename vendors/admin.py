from django.contrib import admin

from vendors.models import Debarment, Vendor, VendorCategory, VendorDocument


class ReadOnlyAdmin(admin.ModelAdmin):
    """Vendors move only through their verification workflow (the services); the admin only shows them."""

    show_full_result_count = False

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Vendor)
class VendorAdmin(ReadOnlyAdmin):
    list_display = ["legal_name_en", "commercial_registration_number", "status", "created_at"]
    list_filter = ["status"]
    search_fields = ["=commercial_registration_number", "legal_name_en", "legal_name_ar"]


@admin.register(VendorDocument)
class VendorDocumentAdmin(ReadOnlyAdmin):
    list_display = ["vendor", "kind", "expires_on", "sha256"]
    list_select_related = ["vendor"]
    exclude = ["file"]


@admin.register(Debarment)
class DebarmentAdmin(ReadOnlyAdmin):
    list_display = ["vendor", "starts_on", "ends_on", "legal_reference"]
    list_select_related = ["vendor"]


@admin.register(VendorCategory)
class VendorCategoryAdmin(ReadOnlyAdmin):
    list_display = ["code", "name_en", "name_ar"]
