from django.urls import path

from contracts import amendment_views, monitoring_views, views

app_name = "contracts"

urlpatterns = [
    path("", views.contract_list, name="contract_list"),
    path("verify/", views.verify, name="verify"),
    path("tenders/<int:pk>/contract/new/", views.contract_create, name="contract_create"),
    path("<int:pk>/", views.contract_detail, name="contract_detail"),
    path("<int:pk>/edit/", views.contract_edit, name="contract_edit"),
    path("<int:pk>/kpis/", views.contract_kpi_add, name="contract_kpi_add"),
    path("<int:pk>/milestones/", views.contract_milestone_add, name="contract_milestone_add"),
    path("<int:pk>/freeze/", views.contract_freeze, name="contract_freeze"),
    path("<int:pk>/complete/", views.contract_complete, name="contract_complete"),
    path("<int:pk>/terminate/", views.contract_terminate, name="contract_terminate"),
    path("<int:pk>/sign/", views.contract_sign, name="contract_sign"),
    path("<int:pk>/signing-key/", views.signer_key_create, name="signer_key_create"),
    path("<int:pk>/versions/<int:number>/pdf/", views.version_pdf, name="version_pdf"),
    path("<int:pk>/signatures/<int:signature_pk>/pdf/", views.signature_pdf, name="signature_pdf"),
]

urlpatterns += amendment_views.urlpatterns
urlpatterns += monitoring_views.urlpatterns
