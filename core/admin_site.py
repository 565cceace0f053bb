from django.contrib import admin
from django.utils.translation import gettext_lazy as _


class ProcurementAdminSite(admin.AdminSite):
    site_header = _("PPP Procurement administration")
    site_title = _("PPP Procurement")

    def has_permission(self, request) -> bool:
        user = request.user
        return bool(user.is_active and user.is_staff and user.has_perm("admin.access"))
