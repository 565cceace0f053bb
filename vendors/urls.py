from django.urls import path

from vendors import views

app_name = "vendors"

urlpatterns = [
    path("register/", views.register, name="register"),
    path("register/done/", views.register_done, name="register_done"),
    path("confirm/<str:token>/", views.confirm_email, name="confirm_email"),
    path("invitations/<str:token>/", views.invitation_accept, name="invitation_accept"),
    path("debarments/", views.debarment_list, name="debarment_list"),
    path("company/", views.my_company, name="my_company"),
    path("company/<int:pk>/", views.company, name="company"),
    path("company/<int:pk>/documents/", views.document_upload, name="document_upload"),
    path("company/<int:pk>/invitations/", views.invite, name="invite"),
    path("documents/<int:pk>/", views.document_download, name="document_download"),
    path("", views.vendor_list, name="vendor_list"),
    path("<int:pk>/", views.vendor_detail, name="vendor_detail"),
    path("<int:pk>/verify/", views.vendor_verify, name="vendor_verify"),
    path("<int:pk>/suspend/", views.vendor_suspend, name="vendor_suspend"),
    path("<int:pk>/reinstate/", views.vendor_reinstate, name="vendor_reinstate"),
    path("<int:pk>/debar/", views.vendor_debar, name="vendor_debar"),
    path("debarments/<int:pk>/lift/", views.debarment_lift, name="debarment_lift"),
]
