from django.conf.urls.i18n import i18n_patterns
from django.contrib import admin
from django.urls import include, path

from core.views import set_language
from procurement.ocds_views import urlpatterns as ocds_urlpatterns

urlpatterns = [
    path("i18n/setlang/", set_language, name="set_language"),
    path("api/v1/", include("api.urls")),
    *ocds_urlpatterns,
]

urlpatterns += i18n_patterns(
    path("", include("core.urls")),
    path("accounts/api-tokens/", include("api.account_urls")),
    path("accounts/", include("accounts.urls")),
    path("", include("procurement.urls")),
    path("audit/", include("audit.urls")),
    path("portal/", include("portal.urls")),
    path("notifications/", include("notifications.urls")),
    path("admin/", admin.site.urls),
    path("vendors/", include("vendors.urls")),
    path("contracts/", include("contracts.urls")),
    path("desk/", include("desk.urls")),
    prefix_default_language=True,
)
