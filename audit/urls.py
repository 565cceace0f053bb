from django.urls import path

from audit import views

app_name = "audit"

urlpatterns = [
    path("events/", views.event_list, name="event_list"),
    path("events/<int:sequence>/", views.event_detail, name="event_detail"),
    path("contracts/<int:pk>/bundle.json", views.contract_bundle, name="contract_bundle"),
]
