"""The vendors' side of bids: drafts, documents, submission, modification, withdrawal, receipts."""

from django.urls import path

from procurement import bid_views

urlpatterns = [
    path("bids/", bid_views.bid_list, name="bid_list"),
    path("tenders/<int:pk>/bid/", bid_views.bid_start, name="bid_start"),
    path("bids/<int:pk>/", bid_views.bid_detail, name="bid_detail"),
    path("bids/<int:pk>/edit/", bid_views.bid_edit, name="bid_edit"),
    path("bids/<int:pk>/documents/", bid_views.bid_file_upload, name="bid_file_upload"),
    path("bids/<int:pk>/documents/<int:file_pk>/remove/", bid_views.bid_file_remove, name="bid_file_remove"),
    path("bids/<int:pk>/modify/", bid_views.bid_modify, name="bid_modify"),
    path("bids/<int:pk>/discard/", bid_views.bid_discard_modification, name="bid_discard_modification"),
    path("bids/<int:pk>/withdraw/", bid_views.bid_withdraw, name="bid_withdraw"),
    path("bids/<int:pk>/reconfirm/", bid_views.bid_reconfirm, name="bid_reconfirm"),
    path("receipts/<uuid:number>/", bid_views.bid_receipt, name="bid_receipt"),
    path("receipts/<uuid:number>/pdf/", bid_views.bid_receipt_pdf, name="bid_receipt_pdf"),
]
