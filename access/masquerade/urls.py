"""Browser routes for masquerading, on every host. Named ``hijack:`` so django-hijack's admin
button and banner templates find them."""

from django.urls import path

from access.masquerade import views

app_name = "hijack"
urlpatterns = [
    path("acquire/", views.MasqueradeAcquireView.as_view(), name="acquire"),
    path("release/", views.MasqueradeReleaseView.as_view(), name="release"),
]
