"""Routes every host answers: sign-in, the signed-in user, the API schema and docs."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from core.masquerade.api import MasqueradeEndView, MasqueradeView
from core.masquerade.views import MasqueradeEnterView, MasqueradeLandingView
from users.api.auth import SessionView, TokenObtainView, TokenRefreshView
from users.api.views import MeView

urlpatterns = [
    path("api/auth/token/", TokenObtainView.as_view(), name="token-obtain"),
    path("api/auth/token/refresh/", TokenRefreshView.as_view(), name="token-refresh"),
    path("api/auth/session/", SessionView.as_view(), name="session"),
    path("api/me/", MeView.as_view(), name="me"),
    path("api/masquerade/", MasqueradeView.as_view(), name="masquerade"),
    path("api/masquerade/end/", MasqueradeEndView.as_view(), name="masquerade-end"),
    path("hijack/", include("core.masquerade.urls", namespace="hijack")),
    path("masquerade/enter/", MasqueradeEnterView.as_view(), name="masquerade-enter"),
    path("masquerade/", MasqueradeLandingView.as_view(), name="masquerade-landing"),
    path("api/schema/", SpectacularAPIView.as_view(permission_classes=[]), name="schema"),
    path(
        "api/docs/",
        SpectacularSwaggerView.as_view(url_name="schema", permission_classes=[]),
        name="docs",
    ),
]
