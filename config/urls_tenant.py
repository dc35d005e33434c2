"""A tenant's host: the business's API. Each app adds its routes here."""

from django.urls import path

from config.urls_common import urlpatterns as common
from core.api.subscription import SubscriptionView
from users.api.views import TenantUserListView

urlpatterns = [
    *common,
    path("api/users/", TenantUserListView.as_view(), name="tenant-users"),
    path("api/subscription/", SubscriptionView.as_view(), name="tenant-subscription"),
]

handler400 = "core.api.errors.handler400"
handler403 = "core.api.errors.handler403"
handler404 = "core.api.errors.handler404"
handler500 = "core.api.errors.handler500"
