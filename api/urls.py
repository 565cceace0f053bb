from django.urls import include, path, re_path
from rest_framework.routers import SimpleRouter

from api import docs, views

app_name = "api"

router = SimpleRouter()
router.register("agencies", views.AgencyViewSet, basename="agency")
router.register("programmes", views.ProgrammeViewSet, basename="programme")
router.register("phases", views.PhaseViewSet, basename="phase")
router.register("tenders", views.TenderViewSet, basename="tender")
router.register("contracts", views.ContractViewSet, basename="contract")
router.register("audit/events", views.AuditEventViewSet, basename="audit-event")
router.register("notifications", views.NotificationViewSet, basename="notification")

urlpatterns = [
    path("auth/token/", views.TokenIssueView.as_view(), name="token"),
    path("schema/", docs.SchemaView.as_view(), name="schema"),
    path("docs/", docs.DocsView.as_view(), name="docs"),
    path("", include("api.urls_tenders")),
    path("", include("api.urls_bids")),
    path("", include("api.urls_contracts")),
    path("", include("api.urls_evaluation")),
    path("", include("api.urls_audit")),
    path("", include(router.urls)),
    re_path(r"^[\s\S]*$", views.NotFoundView.as_view(), name="not_found"),  # [\s\S]: a %0A in the path too
]
