"""A tenant's host: the business's API. Each app adds its routes here."""

from django.urls import path

from config.urls_common import urlpatterns as common
from core.api.domains import DomainDetailView, DomainListView, DomainVerifyView
from core.api.subscription import SubscriptionView
from core.api.tenant import TenantLogoView
from users.api.views import TenantUserListView

urlpatterns = [
    *common,
    path("api/users/", TenantUserListView.as_view(), name="tenant-users"),
    path("api/tenant/logo/", TenantLogoView.as_view(), name="tenant-logo"),
    path("api/domains/", DomainListView.as_view(), name="tenant-domains"),
    path("api/domains/<str:domain>/", DomainDetailView.as_view(), name="tenant-domain"),
    path(
        "api/domains/<str:domain>/verify/",
        DomainVerifyView.as_view(),
        name="tenant-domain-verify",
    ),
    path("api/subscription/", SubscriptionView.as_view(), name="tenant-subscription"),
]

handler400 = "core.api.errors.handler400"
handler403 = "core.api.errors.handler403"
handler404 = "core.api.errors.handler404"
handler500 = "core.api.errors.handler500"
