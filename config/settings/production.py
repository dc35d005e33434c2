"""Production: secrets must come from the environment, cookies and transport are locked down.

It fails closed: a process that would run with the development key, a short key or DEBUG on
refuses to start with an ImproperlyConfigured that says what to set."""

from typing import NoReturn

from django.core.exceptions import ImproperlyConfigured
from whitenoise.compress import Compressor

from .base import *  # noqa: F403
from .base import DEVELOPMENT_SECRET_KEY, STORAGES, env
from .cache import redis_cache

# Django's own deploy check (security.W009) asks for as much.
MIN_KEY_LENGTH = 50
MIN_KEY_CHARACTERS = 5


def _refuse(problem: str) -> NoReturn:
    raise ImproperlyConfigured(
        f"config.settings.production refuses to start: {problem}. "
        "(For development, set DJANGO_SETTINGS_MODULE=config.settings.base.)"
    )


def _strong_key(name: str, value: str) -> str:
    if not value:
        _refuse(f"{name} is not set")
    if value == DEVELOPMENT_SECRET_KEY or value.startswith("django-insecure"):
        _refuse(f"{name} is the development key")
    if len(value) < MIN_KEY_LENGTH or len(set(value)) < MIN_KEY_CHARACTERS:
        _refuse(
            f"{name} is too short or too simple; use at least {MIN_KEY_LENGTH} random characters, "
            "e.g. python -c 'import secrets; print(secrets.token_urlsafe(50))'"
        )
    return value


if env.bool("DJANGO_DEBUG", default=False):
    _refuse("DJANGO_DEBUG is on, which would show tracebacks and settings to anyone; unset it")
DEBUG = False
SECRET_KEY = _strong_key("DJANGO_SECRET_KEY", env.str("DJANGO_SECRET_KEY", default=""))
# Tokens are signed with JWT_SIGNING_KEY when it is set (base.py reads it), else with the
# secret key checked above.
if signing_key := env.str("JWT_SIGNING_KEY", default=""):
    _strong_key("JWT_SIGNING_KEY", signing_key)

SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 30)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_CONTENT_TYPE_NOSNIFF = True
CACHES = {"default": redis_cache(env, env.str("REDIS_URL", default="redis://redis:6379/0"))}
# The demo data's accounts have a published password: never in production, whatever the env says.
SEED_DEMO_ALLOWED = False
# collectstatic (run when the image is built: compose/django/collectstatic) writes hashed,
# gzip-compressed files; WhiteNoise serves them with far-future cache headers. Only the hashed
# names are kept (templates name files through {% static %}), and source maps, which only
# developer tools fetch, are not compressed: half the build's work.
STORAGES = {
    **STORAGES,
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
WHITENOISE_KEEP_ONLY_HASHED_FILES = True
WHITENOISE_SKIP_COMPRESS_EXTENSIONS = [*Compressor.SKIP_COMPRESS_EXTENSIONS, "map"]
