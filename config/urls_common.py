"""Routes every host answers: the index, sign-in, the signed-in user, the API schema and docs.
``fallback`` goes last in each host's list: any other path is a JSON 404."""

from django.conf import settings
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularSwaggerView

from access.masquerade.api import MasqueradeEndView, MasqueradeView
from access.masquerade.views import MasqueradeEnterView, MasqueradeLandingView
from console.api.index import FALLBACK_NAME, IndexView, not_found
from console.api.users import MeView
from core.api.media import local_media
from core.api.schema import HostSchemaView
from users.api.auth import (
    PasswordChangeView,
    SessionView,
    TokenObtainView,
    TokenRefreshView,
    TokenRevokeView,
)

urlpatterns = [
    path("", IndexView.as_view(), name="index"),
    path("api/", IndexView.as_view(), name="api-index"),
    path("api/auth/token/", TokenObtainView.as_view(), name="token-obtain"),
    path("api/auth/token/refresh/", TokenRefreshView.as_view(), name="token-refresh"),
    path("api/auth/logout/", TokenRevokeView.as_view(), name="token-revoke"),
    path("api/auth/session/", SessionView.as_view(), name="session"),
    path("api/auth/password/", PasswordChangeView.as_view(), name="password-change"),
    path("api/me/", MeView.as_view(), name="me"),
    path("api/masquerade/", MasqueradeView.as_view(), name="masquerade"),
    path("api/masquerade/end/", MasqueradeEndView.as_view(), name="masquerade-end"),
    path("hijack/", include("access.masquerade.urls", namespace="hijack")),
    path("masquerade/enter/", MasqueradeEnterView.as_view(), name="masquerade-enter"),
    path("masquerade/", MasqueradeLandingView.as_view(), name="masquerade-landing"),
    path("api/schema/", HostSchemaView.as_view(), name="schema"),
    path(
        "api/docs/",
        SpectacularSwaggerView.as_view(url_name="schema", permission_classes=[]),
        name="docs",
    ),
    # Local-disk media behind signed, expiring links (with S3, URLs point at the bucket).
    path(f"{settings.MEDIA_URL.strip('/')}/<path:key>", local_media, name="local-media"),
]

fallback = [re_path(r"^.*$", not_found, name=FALLBACK_NAME)]
