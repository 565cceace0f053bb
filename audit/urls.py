from django.urls import path

from audit import views

app_name = "audit"

urlpatterns = [
    path("events/", views.event_list, name="event_list"),
    path("events/<int:sequence>/", views.event_detail, name="event_detail"),
    path("red-flags/", views.red_flags, name="red_flags"),
    path("contracts/<int:pk>/bundle.json", views.contract_bundle, name="contract_bundle"),
    path("contracts/<int:pk>/trail/", views.contract_trail, name="contract_trail"),
    path("contracts/<int:pk>/trail.<str:fmt>", views.contract_trail_export, name="contract_trail_export"),
    path("contracts/<int:pk>/documents/<slug:key>/", views.contract_document, name="contract_document"),
    path("contracts/<int:pk>/trail/report/", views.trail_report_request, name="trail_report_request"),
    path("trail-reports/<int:pk>/", views.trail_report, name="trail_report"),
    path("trail-reports/<int:pk>/report.pdf", views.trail_report_download, name="trail_report_download"),
]
