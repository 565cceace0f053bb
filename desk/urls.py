from django.urls import path

from desk import views

app_name = "desk"

urlpatterns = [
    path("", views.home, name="home"),
    path("sent/<str:reference>/", views.sent, name="sent"),
    path("track/<str:reference>/<str:key>/", views.track, name="track"),
    path("track/<str:reference>/<str:key>/reopen/", views.reopen, name="reopen"),
    path("faq/", views.faq, name="faq"),
    path("queue/", views.queue, name="queue"),
    path("dashboard/", views.dashboard, name="dashboard"),
    path("items/<int:pk>/", views.item_detail, name="item"),
    path("items/<int:pk>/assign/", views.item_assign, name="assign"),
    path("items/<int:pk>/answer/", views.item_answer, name="answer"),
    path("items/<int:pk>/close/", views.item_close, name="close"),
    path("items/<int:pk>/faq/", views.faq_publish, name="faq_publish"),
    path("items/<int:pk>/faq/withdraw/", views.faq_withdraw, name="faq_withdraw"),
]
