"""Routes of the JSON API's vendors and bids resources and transitions (included by api/urls.py)."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from api import bid_views

router = SimpleRouter()
router.register("vendors", bid_views.VendorViewSet, basename="vendor")

urlpatterns: list = [
    path("vendors/me/", bid_views.MyVendorView.as_view(), name="vendor-me"),
    *router.urls,
    path("tenders/<int:pk>/bids/", bid_views.TenderBidListView.as_view(), name="tender-bids"),
    path(
        "tenders/<int:pk>/bids/<int:bid>/envelopes/<str:kind>/",
        bid_views.OpenedEnvelopeView.as_view(),
        name="tender-bid-envelope",
    ),
    path(
        "tenders/<int:pk>/bids/<int:bid>/documents/<int:file_pk>/",
        bid_views.OpenedDocumentView.as_view(),
        name="tender-bid-document",
    ),
    path("bids/", bid_views.BidListView.as_view(), name="bid-list"),
    path("bids/<int:pk>/", bid_views.BidDetailView.as_view(), name="bid-detail"),
    path("bids/<int:pk>/documents/", bid_views.BidDocumentView.as_view(), name="bid-documents"),
    path(
        "bids/<int:pk>/documents/<int:file_pk>/",
        bid_views.BidDocumentRemoveView.as_view(),
        name="bid-document-remove",
    ),
    path("bids/<int:pk>/transitions/", bid_views.BidTransitionListView.as_view(), name="bid-transitions"),
    path(
        "bids/<int:pk>/transitions/<str:name>/",
        bid_views.BidTransitionView.as_view(),
        name="bid-transition",
    ),
]
