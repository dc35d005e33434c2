"""How the OpenAPI document describes this project's host-bound authentication."""

from drf_spectacular.authentication import SessionScheme
from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme


class TenantJWTScheme(SimpleJWTScheme):
    target_class = "users.authentication.TenantJWTAuthentication"
    match_subclasses = True  # access.authentication's masquerade-aware subclass is the one in use
    name = "jwtAuth"
    priority = 1


class TenantSessionScheme(SessionScheme):
    target_class = "users.authentication.TenantSessionAuthentication"
    name = "cookieAuth"
    priority = 1
