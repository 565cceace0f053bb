"""The evaluation committee's pages, the award and complaints."""

from django.urls import path

from procurement import evaluation_views as views

urlpatterns = [
    path("tenders/<int:pk>/evaluation/committee/", views.evaluation_committee, name="evaluation_committee"),
    path(
        "tenders/<int:pk>/evaluation/committee/<int:member_pk>/remove/",
        views.evaluation_member_remove,
        name="evaluation_member_remove",
    ),
    path("tenders/<int:pk>/evaluation/start/", views.evaluation_start, name="evaluation_start"),
    path("tenders/<int:pk>/evaluation/", views.evaluation_workspace, name="evaluation_workspace"),
    path("tenders/<int:pk>/evaluation/bids/<int:bid_pk>/declare/", views.evaluation_declare, name="evaluation_declare"),
    path(
        "tenders/<int:pk>/evaluation/bids/<int:bid_pk>/compliance/",
        views.evaluation_compliance,
        name="evaluation_compliance",
    ),
    path("tenders/<int:pk>/evaluation/bids/<int:bid_pk>/scores/", views.evaluation_scores, name="evaluation_scores"),
    path("tenders/<int:pk>/evaluation/submit/", views.evaluation_submit, name="evaluation_submit"),
    path(
        "tenders/<int:pk>/evaluation/bids/<int:bid_pk>/criteria/<int:criterion_pk>/consensus/",
        views.evaluation_consensus,
        name="evaluation_consensus",
    ),
    path("tenders/<int:pk>/evaluation/conclude/", views.evaluation_conclude, name="evaluation_conclude"),
    path(
        "tenders/<int:pk>/evaluation/bids/<int:bid_pk>/price-review/",
        views.evaluation_price_review,
        name="evaluation_price_review",
    ),
    path("tenders/<int:pk>/evaluation/recommend/", views.evaluation_recommend, name="evaluation_recommend"),
    path("tenders/<int:pk>/award/", views.award_detail, name="award_detail"),
    path("tenders/<int:pk>/award/approve/", views.award_approve, name="award_approve"),
    path("tenders/<int:pk>/award/return/", views.award_return, name="award_return"),
    path("tenders/<int:pk>/results/", views.award_results, name="award_results"),
    path("tenders/<int:pk>/complaints/", views.complaint_list, name="complaint_list"),
    path("tenders/<int:pk>/complaints/new/", views.complaint_file, name="complaint_file"),
    path("tenders/<int:pk>/complaints/<int:complaint_pk>/", views.complaint_detail, name="complaint_detail"),
    path(
        "tenders/<int:pk>/complaints/<int:complaint_pk>/review/",
        views.complaint_review_start,
        name="complaint_review_start",
    ),
    path(
        "tenders/<int:pk>/complaints/<int:complaint_pk>/decide/",
        views.complaint_decide,
        name="complaint_decide",
    ),
]
