"""The officers' and committee's side of sealed bids: the opening committee, the bid register, the opening
ceremony and the opening record."""

from django.urls import path

from procurement import opening_views

urlpatterns = [
    path("tenders/<int:pk>/opening-committee/", opening_views.opening_committee, name="opening_committee"),
    path(
        "tenders/<int:pk>/opening-committee/<int:member_pk>/remove/",
        opening_views.opening_committee_remove,
        name="opening_committee_remove",
    ),
    path("tenders/<int:pk>/bids/", opening_views.bid_register, name="bid_register"),
    path(
        "tenders/<int:pk>/bids/<int:bid_pk>/envelopes/<str:kind>/",
        opening_views.envelope_detail,
        name="opened_envelope",
    ),
    path(
        "tenders/<int:pk>/bids/<int:bid_pk>/files/<str:label>/",
        opening_views.bid_file_download,
        name="opened_bid_file",
    ),
    path("tenders/<int:pk>/opening/", opening_views.opening_ceremony, name="opening_ceremony"),
    path("tenders/<int:pk>/opening-record/", opening_views.opening_record, name="opening_record"),
    path("tenders/<int:pk>/opening-record.csv", opening_views.opening_record_csv, name="opening_record_csv"),
]
