from django.contrib import admin

from core.admin import ReadOnlyAdmin
from vendors.models import Debarment, Vendor, VendorCategory, VendorDocument


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
