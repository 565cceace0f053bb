"""Routes of the JSON API's contracts resources and transitions (included by api/urls.py before the router, so
these explicit paths under ``contracts/<id>/`` win over the read-only contract viewset's)."""

from django.urls import path

from api import contract_views as views

urlpatterns: list = [
    path("tenders/<int:pk>/contract/", views.TenderContractCreateView.as_view(), name="tender-contract-create"),
    path("contracts/<int:pk>/terms/", views.ContractTermsView.as_view(), name="contract-terms"),
    path("contracts/<int:pk>/milestones/", views.MilestoneListView.as_view(), name="contract-milestones"),
    path("contracts/<int:pk>/kpis/", views.KpiListView.as_view(), name="contract-kpis"),
    path("contracts/<int:pk>/signing-key/", views.SigningKeyView.as_view(), name="contract-signing-key"),
    path("contracts/<int:pk>/transitions/", views.ContractTransitionListView.as_view(), name="contract-transitions"),
    path(
        "contracts/<int:pk>/transitions/<str:name>/",
        views.ContractTransitionView.as_view(),
        name="contract-transition",
    ),
    path("contracts/<int:pk>/versions/<int:number>/pdf/", views.VersionPdfView.as_view(), name="contract-version-pdf"),
    path(
        "contracts/<int:pk>/signatures/<int:signature_pk>/pdf/",
        views.SignaturePdfView.as_view(),
        name="contract-signature-pdf",
    ),
    path("contracts/<int:pk>/amendments/", views.AmendmentListView.as_view(), name="contract-amendments"),
    path(
        "contracts/<int:pk>/amendments/<int:number>/",
        views.AmendmentDetailView.as_view(),
        name="contract-amendment",
    ),
    path(
        "contracts/<int:pk>/amendments/<int:number>/milestone-changes/",
        views.AmendmentMilestoneChangeView.as_view(),
        name="contract-amendment-milestone-changes",
    ),
    path(
        "contracts/<int:pk>/amendments/<int:number>/kpi-changes/",
        views.AmendmentKpiChangeView.as_view(),
        name="contract-amendment-kpi-changes",
    ),
    path(
        "contracts/<int:pk>/amendments/<int:number>/transitions/",
        views.AmendmentTransitionListView.as_view(),
        name="contract-amendment-transitions",
    ),
    path(
        "contracts/<int:pk>/amendments/<int:number>/transitions/<str:name>/",
        views.AmendmentTransitionView.as_view(),
        name="contract-amendment-transition",
    ),
    path(
        "contracts/<int:pk>/progress-reports/", views.ProgressReportListView.as_view(), name="contract-progress-reports"
    ),
    path(
        "contracts/<int:pk>/progress-reports/<int:report_pk>/evidence/",
        views.ProgressEvidenceListView.as_view(),
        name="contract-progress-report-evidence",
    ),
    path(
        "contracts/<int:pk>/progress-reports/<int:report_pk>/evidence/<int:evidence_pk>/",
        views.ProgressEvidenceFileView.as_view(),
        name="contract-progress-report-evidence-file",
    ),
    path(
        "contracts/<int:pk>/progress-reports/<int:report_pk>/transitions/",
        views.ReportTransitionListView.as_view(),
        name="contract-progress-report-transitions",
    ),
    path(
        "contracts/<int:pk>/progress-reports/<int:report_pk>/transitions/<str:name>/",
        views.ReportTransitionView.as_view(),
        name="contract-progress-report-transition",
    ),
    path(
        "contracts/<int:pk>/kpi-measurements/", views.KpiMeasurementListView.as_view(), name="contract-kpi-measurements"
    ),
    path(
        "contracts/<int:pk>/kpi-measurements/<int:measurement_pk>/transitions/",
        views.MeasurementTransitionListView.as_view(),
        name="contract-kpi-measurement-transitions",
    ),
    path(
        "contracts/<int:pk>/kpi-measurements/<int:measurement_pk>/transitions/<str:name>/",
        views.MeasurementTransitionView.as_view(),
        name="contract-kpi-measurement-transition",
    ),
    path("contracts/<int:pk>/payments/", views.PaymentListView.as_view(), name="contract-payments"),
]
