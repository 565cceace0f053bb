"""Routes of the JSON API's contract trails for auditors (included by api/urls.py before the router, so that
these explicit paths under ``audit/`` are not taken for the audit events' viewset)."""

from django.urls import path

from api import audit_views as views

urlpatterns: list = [
    path("audit/trails/<int:pk>/", views.TrailSummaryView.as_view(), name="audit-trail"),
    path("audit/trails/<int:pk>/events/", views.TrailEventListView.as_view(), name="audit-trail-events"),
    path("audit/trails/<int:pk>/bundle/", views.TrailBundleView.as_view(), name="audit-trail-bundle"),
]
