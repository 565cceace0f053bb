"""Routes of the JSON API's tenders resources and transitions (included by api/urls.py).

``tenders/`` and ``tenders/<id>/`` come before the read-only router's routes of the same addresses and serve
the same reads (``TenderResourceViewSet`` is the read-only ``TenderViewSet`` plus the officers' writes).
"""

from django.urls import path

from api import tender_views as views

tenders = views.TenderResourceViewSet.as_view({"get": "list", "post": "create"})
tender = views.TenderResourceViewSet.as_view({"get": "retrieve", "patch": "partial_update"})

urlpatterns: list = [
    path("tenders/", tenders, name="tender-write-list"),
    path("tenders/<int:pk>/", tender, name="tender-write-detail"),
    path("tenders/<int:pk>/documents/", views.TenderDocumentList.as_view(), name="tender-documents"),
    path("tenders/<int:pk>/clarifications/", views.TenderClarificationList.as_view(), name="tender-clarifications"),
    path(
        "tenders/<int:pk>/clarifications/<int:number>/answer/",
        views.ClarificationAnswerView.as_view(),
        name="tender-clarification-answer",
    ),
    path("tenders/<int:pk>/addenda/", views.TenderAddendumList.as_view(), name="tender-addenda"),
    path(
        "tenders/<int:pk>/addenda/<int:number>/transitions/",
        views.AddendumTransitionList.as_view(),
        name="tender-addendum-transitions",
    ),
    path(
        "tenders/<int:pk>/addenda/<int:number>/transitions/<str:name>/",
        views.AddendumTransitionView.as_view(),
        name="tender-addendum-transition",
    ),
    path("tenders/<int:pk>/opening-committee/", views.OpeningCommitteeView.as_view(), name="tender-committee"),
    path(
        "tenders/<int:pk>/opening-committee/<int:member>/",
        views.OpeningCommitteeMemberView.as_view(),
        name="tender-committee-member",
    ),
    path("tenders/<int:pk>/transitions/", views.TenderTransitionList.as_view(), name="tender-transitions"),
    path(
        "tenders/<int:pk>/transitions/<str:name>/",
        views.TenderTransitionView.as_view(),
        name="tender-transition",
    ),
]
