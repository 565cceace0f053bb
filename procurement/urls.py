from django.urls import path

from procurement import bid_urls, evaluation_export_urls, evaluation_urls, opening_urls, tender_views, views

app_name = "procurement"

urlpatterns = [
    path("agencies/", views.agency_list, name="agency_list"),
    path("agencies/new/", views.agency_create, name="agency_create"),
    path("agencies/<int:pk>/", views.agency_detail, name="agency_detail"),
    path("agencies/<int:pk>/edit/", views.agency_update, name="agency_update"),
    path("programmes/", views.programme_list, name="programme_list"),
    path("programmes/new/", views.programme_create, name="programme_create"),
    path("programmes/<int:pk>/", views.programme_detail, name="programme_detail"),
    path("programmes/<int:pk>/edit/", views.programme_update, name="programme_update"),
    path("programmes/<int:programme_pk>/phases/new/", views.phase_create, name="phase_create"),
    path("phases/<int:pk>/edit/", views.phase_update, name="phase_update"),
    # Tenders (the officers' side; the public pages are the portal's).
    path("tenders/", tender_views.tender_list, name="tender_list"),
    path("tenders/new/", tender_views.tender_create, name="tender_create"),
    path("tenders/workflow/", tender_views.tender_workflow, name="tender_workflow"),
    path("tenders/<int:pk>/", tender_views.tender_detail, name="tender_detail"),
    path("tenders/<int:pk>/edit/", tender_views.tender_update, name="tender_update"),
    path("tenders/<int:pk>/documents/", tender_views.tender_document_add, name="tender_document_add"),
    path("tenders/<int:pk>/submit/", tender_views.tender_submit, name="tender_submit"),
    path("tenders/<int:pk>/approve/", tender_views.tender_approve, name="tender_approve"),
    path("tenders/<int:pk>/return/", tender_views.tender_return, name="tender_return"),
    path("tenders/<int:pk>/close/", tender_views.tender_close, name="tender_close"),
    path("tenders/<int:pk>/cancel/", tender_views.tender_cancel, name="tender_cancel"),
    path("tenders/<int:pk>/unsuccessful/", tender_views.tender_mark_unsuccessful, name="tender_unsuccessful"),
    path(
        "tenders/<int:pk>/questions/<int:number>/answer/",
        tender_views.clarification_answer,
        name="clarification_answer",
    ),
    path("tenders/<int:pk>/addenda/new/", tender_views.addendum_create, name="addendum_create"),
    path(
        "tenders/<int:pk>/addenda/<int:number>/approve/",
        tender_views.addendum_approve,
        name="addendum_approve",
    ),
    *bid_urls.urlpatterns,
    *opening_urls.urlpatterns,
    *evaluation_urls.urlpatterns,
    *evaluation_export_urls.urlpatterns,
]
