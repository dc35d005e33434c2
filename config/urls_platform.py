"""The platform host (public schema): the admin and the operators' API."""

from django.contrib import admin
from django.urls import path, reverse_lazy
from rest_framework.routers import SimpleRouter

from config.urls_common import fallback
from config.urls_common import urlpatterns as common
from console.api.grants import GrantListView, GrantRevokeView
from console.api.platform import (
    PlatformUserListView,
    TenantDeletionView,
    TenantDetailView,
    TenantListView,
)
from plugins.api.marketplace import CatalogueViewSet
from users.forms import AdminSignInForm, admin_login

# The admin's door goes through the same sign-in guard as the API's.
admin.site.login_form = AdminSignInForm

router = SimpleRouter()
router.register("api/plugins", CatalogueViewSet, basename="plugin")

urlpatterns = [
    *common,
    path("admin/login/", admin_login, name="admin-login"),
    path("admin/", admin.site.urls),
    path("api/platform/tenants/", TenantListView.as_view(), name="platform-tenants"),
    path(
        "api/platform/tenants/<uuid:tenant_id>/",
        TenantDetailView.as_view(),
        name="platform-tenant-detail",
    ),
    path(
        "api/platform/tenants/<uuid:tenant_id>/deletion/",
        TenantDeletionView.as_view(),
        name="platform-tenant-deletion",
    ),
    path("api/platform/users/", PlatformUserListView.as_view(), name="platform-users"),
    path("api/platform/grants/", GrantListView.as_view(), name="platform-grants"),
    path(
        "api/platform/grants/<uuid:grant_id>/revoke/",
        GrantRevokeView.as_view(),
        name="platform-grant-revoke",
    ),
    *router.urls,
    *fallback,
]

# The admin's "View site" link: the interactive API documentation of this host.
# django-stubs types site_url as str | None; the admin only formats it into its templates, where a
# lazy string is a string (the URLconf is not loaded yet, so reverse() cannot run here).
admin.site.site_url = reverse_lazy("docs")  # type: ignore[assignment]

handler400 = "core.api.errors.handler400"
handler403 = "core.api.errors.handler403"
handler404 = "core.api.errors.handler404"
handler500 = "core.api.errors.handler500"
