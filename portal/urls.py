from django.urls import path

from portal import feeds, views

app_name = "portal"

urlpatterns = [
    path("tenders/", views.tender_list, name="tender_list"),
    path("tenders/<str:reference>/", views.tender_detail, name="tender_detail"),
    path("tenders/<str:reference>/questions/", views.ask_question, name="ask_question"),
    path("documents/<int:pk>/", views.document_download, name="document_download"),
    path("search/", views.search, name="search"),
    path("agencies/<str:code>/", views.agency_detail, name="agency_detail"),
    path("vendors/<int:pk>/", views.vendor_detail, name="vendor_detail"),
    path("contracts/<uuid:number>/", views.contract_detail, name="contract_detail"),
    path("contracts/<uuid:number>/signed/<int:signature>.pdf", views.contract_pdf, name="contract_pdf"),
    path("programmes/<int:pk>/", views.programme_detail, name="programme_detail"),
    path("guides/", views.guide_list, name="guide_list"),
    path("guides/<slug:slug>/", views.guide_detail, name="guide_detail"),
    path("feeds/tenders.rss", feeds.NewTendersFeed(), name="feed_rss"),
    path("feeds/tenders.atom", feeds.NewTendersAtomFeed(), name="feed_atom"),
    path("feeds/agencies/<str:code>/tenders.rss", feeds.AgencyTendersFeed(), name="agency_feed_rss"),
    path("feeds/agencies/<str:code>/tenders.atom", feeds.AgencyTendersAtomFeed(), name="agency_feed_atom"),
    path("feeds/awards.rss", feeds.NewAwardsFeed(), name="awards_feed_rss"),
    path("feeds/awards.atom", feeds.NewAwardsAtomFeed(), name="awards_feed_atom"),
    path("feeds/agencies/<str:code>/awards.rss", feeds.AgencyAwardsFeed(), name="agency_awards_feed_rss"),
    path("feeds/agencies/<str:code>/awards.atom", feeds.AgencyAwardsAtomFeed(), name="agency_awards_feed_atom"),
]
