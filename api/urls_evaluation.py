"""Routes of the JSON API's opening, evaluation, award and complaint endpoints (included by api/urls.py)."""

from django.urls import path

from api import evaluation_views as views

urlpatterns: list = [
    path("tenders/<int:pk>/opening/confirm/", views.OpeningConfirmView.as_view(), name="tender-opening-confirm"),
    path("tenders/<int:pk>/evaluation/", views.EvaluationView.as_view(), name="tender-evaluation"),
    path(
        "tenders/<int:pk>/evaluation/members/", views.EvaluationMembersView.as_view(), name="tender-evaluation-members"
    ),
    path(
        "tenders/<int:pk>/evaluation/members/<int:member>/",
        views.EvaluationMemberView.as_view(),
        name="tender-evaluation-member",
    ),
    path(
        "tenders/<int:pk>/evaluation/transitions/",
        views.EvaluationTransitionListView.as_view(),
        name="tender-evaluation-transitions",
    ),
    path(
        "tenders/<int:pk>/evaluation/transitions/<str:name>/",
        views.EvaluationTransitionView.as_view(),
        name="tender-evaluation-transition",
    ),
    path(
        "tenders/<int:pk>/evaluation/bids/<int:bid>/declaration/",
        views.DeclarationView.as_view(),
        name="tender-evaluation-declaration",
    ),
    path(
        "tenders/<int:pk>/evaluation/bids/<int:bid>/compliance/",
        views.ComplianceView.as_view(),
        name="tender-evaluation-compliance",
    ),
    path(
        "tenders/<int:pk>/evaluation/bids/<int:bid>/scores/",
        views.ScoresView.as_view(),
        name="tender-evaluation-scores",
    ),
    path(
        "tenders/<int:pk>/evaluation/bids/<int:bid>/consensus/",
        views.ConsensusView.as_view(),
        name="tender-evaluation-consensus",
    ),
    path(
        "tenders/<int:pk>/evaluation/bids/<int:bid>/price-review/",
        views.PriceReviewView.as_view(),
        name="tender-evaluation-price-review",
    ),
    path("tenders/<int:pk>/award/", views.AwardView.as_view(), name="tender-award"),
    path(
        "tenders/<int:pk>/award/transitions/", views.AwardTransitionListView.as_view(), name="tender-award-transitions"
    ),
    path(
        "tenders/<int:pk>/award/transitions/<str:name>/",
        views.AwardTransitionView.as_view(),
        name="tender-award-transition",
    ),
    path("tenders/<int:pk>/complaints/", views.ComplaintListView.as_view(), name="tender-complaints"),
    path(
        "tenders/<int:pk>/complaints/<int:complaint>/transitions/<str:name>/",
        views.ComplaintTransitionView.as_view(),
        name="tender-complaint-transition",
    ),
]
