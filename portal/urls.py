from django.urls import path

from portal import feeds, views

app_name = "portal"

urlpatterns = [
    path("tenders/", views.tender_list, name="tender_list"),
    path("tenders/<str:reference>/", views.tender_detail, name="tender_detail"),
    path("tenders/<str:reference>/questions/", views.ask_question, name="ask_question"),
    path("documents/<int:pk>/", views.document_download, name="document_download"),
    path("feeds/tenders.rss", feeds.NewTendersFeed(), name="feed_rss"),
    path("feeds/tenders.atom", feeds.NewTendersAtomFeed(), name="feed_atom"),
    path("feeds/agencies/<str:code>/tenders.rss", feeds.AgencyTendersFeed(), name="agency_feed_rss"),
    path("feeds/agencies/<str:code>/tenders.atom", feeds.AgencyTendersAtomFeed(), name="agency_feed_atom"),
]
