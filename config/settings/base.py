"""Settings shared by every environment. Every deployment difference comes from the environment
(the seed's ``POSTGRES_*``, ``DJANGO_*`` and ``AWS_*`` names, or ``DATABASE_URL``)."""

import contextlib
from datetime import timedelta
from pathlib import Path
from typing import Any

import environ
from corsheaders.defaults import default_headers

from config.database import resolve_database

BASE_DIR = Path(__file__).resolve().parent.parent.parent
env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DJANGO_DEBUG", default=False)
# Development only: config.settings.production refuses to start with it.
DEVELOPMENT_SECRET_KEY = "dev-only-insecure-secret-key-never-use-in-production"  # noqa: S105
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default=DEVELOPMENT_SECRET_KEY)

# Hosts where the platform itself (public schema: admin, platform API) answers. Tenant hosts are
# the rows of core.Domain; TenantRoutingMiddleware, first in the stack, answers 404 for any host
# that is neither, so Django's own ALLOWED_HOSTS check would only duplicate it.
PLATFORM_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1"])
ALLOWED_HOSTS = ["*"]

SHARED_APPS = [
    # The layers (README "Architecture"). core: the kernel, and the app label of the platform's
    # records (tenancy's and access's models declare it). tenancy before django_tenants: its
    # migrate_schemas (fingerprint skip, parallel) overrides django-tenants' own.
    "core",
    "tenancy",
    "django_tenants",
    "users",
    "access",
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.admin",
    "django.contrib.sessions",
    "django.contrib.messages",
    # runserver serves static files the way production does (WhiteNoise), not Django's way.
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "corsheaders",
    "rest_framework",
    "rest_framework_simplejwt",
    # Refresh tokens rotate and can be revoked: its tables live in the public schema only.
    "rest_framework_simplejwt.token_blacklist",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "hijack",
    "hijack.contrib.admin",
    "plugins",
    "notifications",
    "apikeys",
    "console",
    "demo",
]
# Apps whose tables live in every tenant's schema (README: "Adding a tenant app").
TENANT_APPS = [
    "django.contrib.contenttypes",
    "resources",
    "catalog",
    "customers",
    "appointments",
    "closures",
    "billing",
    "plugin_data",
]
INSTALLED_APPS = SHARED_APPS + [app for app in TENANT_APPS if app not in SHARED_APPS]

TENANT_MODEL = "core.Tenant"
TENANT_DOMAIN_MODEL = "core.Domain"
PUBLIC_SCHEMA_NAME = "public"
ROOT_URLCONF = "config.urls_tenant"
PUBLIC_SCHEMA_URLCONF = "config.urls_platform"
DATABASE_ROUTERS = ["django_tenants.routers.TenantSyncRouter"]
# Seconds a host's route stays in the shared cache (tenancy.selectors.domain_for_host). Changes
# reach every worker at once whatever this is; it bounds memory, and staleness after a cache outage.
# 0 reads the database on every request.
TENANT_ROUTE_CACHE_SECONDS = env.int("TENANT_ROUTE_CACHE_SECONDS", default=60)
# New tenant schemas are cloned from this migrated template (tenancy/provisioning.py keeps it
# current).
TENANT_TEMPLATE_SCHEMA = "tenant_template"

MIDDLEWARE = [
    "tenancy.middleware.TenantRoutingMiddleware",  # first (SPEC §2.4); reads only the checked Host
    # Right after routing (it reads the tenant's allowed origins) and before anything that may
    # answer, so every API answer carries its CORS headers; preflights end here, unauthenticated.
    "tenancy.cors.CorsMiddleware",
    # Per-tenant request rate (tenancy/ratelimit.py): after routing (it counts per tenant) and CORS
    # (preflights end before it, and its 429 carries CORS headers), before anything costly.
    "tenancy.ratelimit.TenantRateLimitMiddleware",
    # Refuses text PostgreSQL cannot store and oversized bodies before anything else reads them.
    "core.api.middleware.RequestGuardMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Static files (the admin's, the API docs') from STATIC_ROOT, compressed, cached for ever
    # once hashed (config.settings.production), with no web server in front.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Masquerading (SPEC §2.4): the audit middleware needs hijack's view of the session.
    "hijack.middleware.HijackUserMiddleware",
    "access.masquerade.middleware.MasqueradeAuditMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

DATABASES = {"default": resolve_database(env, BASE_DIR)}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DJANGO_CONN_MAX_AGE", default=60)
# A connection is closed between requests (and Celery tasks) once it has read this many tenant
# schemas: each one keeps ~200 KB of catalog cache in its PostgreSQL backend (0: never).
DATABASE_MAX_SCHEMAS_PER_CONNECTION = env.int("DATABASE_MAX_SCHEMAS_PER_CONNECTION", default=50)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# What sits between Django and PostgreSQL: none, session or transaction (PgBouncer's pool_mode).
# The backend is safe in all three; the startup check (core.db.checks) refuses settings that are
# unsafe in the declared one.
DATABASE_POOL_MODE = env.str("DATABASE_POOL_MODE", default="none")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "users.User"
AUTHENTICATION_BACKENDS = ["django.contrib.auth.backends.ModelBackend"]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]
WSGI_APPLICATION = "config.wsgi.application"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = env.path("DJANGO_STATIC_ROOT", default=BASE_DIR / "staticfiles")
MEDIA_URL = "/media/"
MEDIA_ROOT = BASE_DIR / "media"

CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Browser front ends on other origins (tenancy/cors.py): these origins on every host, plus each
# tenant's own list on its hosts; only /api/ answers cross-origin. Credentials are allowed only
# to origins trusted with the session cookie (CSRF_TRUSTED_ORIGINS); token clients need none.
CORS_ALLOWED_ORIGINS = env.list("CORS_ALLOWED_ORIGINS", default=[])
CORS_URLS_REGEX = r"^/api/"
CORS_ALLOW_HEADERS = (*default_headers, "idempotency-key")
CORS_EXPOSE_HEADERS = [
    "Retry-After",
    "Idempotent-Replayed",
    "X-Masquerade-Actor",
    "RateLimit-Limit",
    "RateLimit-Remaining",
    "RateLimit-Reset",
    "RateLimit-Policy",
]
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

# Sign-in guard (users/signin.py). The client's address is the peer's unless the deployment sits
# behind proxies it trusts: then the address the outermost of TRUSTED_PROXY_COUNT proxies saw.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
# Attempts per client address (IPv6: per /64) at every sign-in door, the admin's included.
LOGIN_THROTTLE_RATE = env.str("LOGIN_THROTTLE_RATE", default="20/min")
# After this many failed sign-ins in a row an account is locked, whatever the address, for
# LOGIN_LOCKOUT_SECONDS, doubling with each further failure up to LOGIN_LOCKOUT_MAX_SECONDS.
LOGIN_LOCKOUT_THRESHOLD = env.int("LOGIN_LOCKOUT_THRESHOLD", default=5)
LOGIN_LOCKOUT_SECONDS = env.int("LOGIN_LOCKOUT_SECONDS", default=60)
LOGIN_LOCKOUT_MAX_SECONDS = env.int("LOGIN_LOCKOUT_MAX_SECONDS", default=15 * 60)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # First: it claims only its own header shapes (``Api-Key sk_...``, ``Bearer sk_...``).
        "apikeys.authentication.APIKeyAuthentication",
        "access.authentication.MasqueradeAwareJWTAuthentication",
        "users.authentication.TenantSessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["access.permissions.IsInScopeOfThisHost"],
    "DEFAULT_PAGINATION_CLASS": "core.api.pagination.DefaultPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["core.api.filters.StrictFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "core.api.openapi.ContractAutoSchema",
    "EXCEPTION_HANDLER": "core.api.errors.exception_handler",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    # Only for DRF throttles someone adds later: ours read core.audit.client_ip, which follows
    # the same count.
    "NUM_PROXIES": TRUSTED_PROXY_COUNT,
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env.int("JWT_ACCESS_MINUTES", default=15)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env.int("JWT_REFRESH_DAYS", default=7)),
    "SIGNING_KEY": env.str("JWT_SIGNING_KEY", default="") or SECRET_KEY,
    "USER_ID_FIELD": "public_id",
    "USER_ID_CLAIM": "sub",
    "UPDATE_LAST_LOGIN": True,
    # Every token carries a digest of the password hash it was issued under and is refused once
    # the password changes (access tokens included, masquerade tokens of that user too).
    "CHECK_REVOKE_TOKEN": True,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Smooth Schedule API",
    "DESCRIPTION": (
        "Multi-tenant scheduling for people, rooms and equipment. Each business answers on its "
        "own host; every request is scoped to the tenant of the host it is sent to.\n\n"
        'Every error is JSON in the `Error` shape, `{"error": {"code", "message", '
        '"fields"}}`, whatever the status. Any path on an unknown host answers 404 '
        "`unknown_host`; on a suspended business's host 403 `tenant_suspended`."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI's files come with the project, not from a CDN: the docs work offline.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "AppointmentStatusEnum": "appointments.models.AppointmentStatus",
        "PaymentStatusEnum": "billing.models.PaymentStatus",
        "CustomerStatusEnum": "customers.models.CustomerStatus",
        "ResourceTypeEnum": "resources.models.ResourceType",
        "PluginCategoryEnum": "plugins.models.Category",
        "DeliveryStatusEnum": "notifications.models.DeliveryStatus",
    },
}

LOG_DIR = Path(env.str("LOG_DIR", default=str(BASE_DIR / "logs")))
LOG_LEVEL = env.str("DJANGO_LOG_LEVEL", default="INFO")
# A directory that cannot be made is reported by the system check core.E010, which names it and
# the fix, and servers refuse to start on it (config/wsgi.py); a traceback here would say neither.
with contextlib.suppress(OSError):
    LOG_DIR.mkdir(parents=True, exist_ok=True)
LOGGING: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "json": {"()": "core.log_format.UTCJsonFormatter"},
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain"},
        "security_stdout": {"class": "logging.StreamHandler", "formatter": "json"},
        "security_file": {
            "class": "logging.handlers.RotatingFileHandler",
            "filename": str(LOG_DIR / "security.log"),
            "maxBytes": 20 * 1024 * 1024,
            "backupCount": 10,
            "encoding": "utf-8",
            "formatter": "json",
            # Opened at the first line, not while logging is configured: see LOG_DIR above.
            "delay": True,
        },
    },
    "loggers": {
        "security": {
            "handlers": ["security_file", "security_stdout"],
            "level": "INFO",
            "propagate": False,
        },
        "django": {"handlers": ["console"], "level": LOG_LEVEL, "propagate": False},
        "pgserver": {"level": "WARNING"},  # the embedded server's start/stop chatter
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
}

# Masquerading (SPEC §2.3): the one decision function. HIJACK_AUTHORIZATION_CHECK is the seed's
# (django-hijack 2) name for the same setting; a system check (core.E001) refuses a mismatch.
HIJACK_PERMISSION_CHECK = "access.masquerade.rules.may_masquerade"
HIJACK_AUTHORIZATION_CHECK = HIJACK_PERMISSION_CHECK
HIJACK_INSERT_BEFORE = "</body>"
MASQUERADE_MAX_MINUTES = env.int("MASQUERADE_MAX_MINUTES", default=30)
# The admin hands a masquerade over to the tenant's host with a one-time ticket this short-lived.
MASQUERADE_HANDOFF_SECONDS = env.int("MASQUERADE_HANDOFF_SECONDS", default=60)
MASQUERADE_LOG_FILE = LOG_DIR / "masquerade.log"
MASQUERADE_LOG_MAX_BYTES = env.int("MASQUERADE_LOG_MAX_BYTES", default=20 * 1024 * 1024)
MASQUERADE_LOG_BACKUP_COUNT = env.int("MASQUERADE_LOG_BACKUP_COUNT", default=10)
# How often Celery beat writes masquerade.log lines that waited for an unwritable file.
MASQUERADE_LOG_REPLAY_SECONDS = env.int("MASQUERADE_LOG_REPLAY_SECONDS", default=60)

# A tenant whose deletion an operator scheduled stays recoverable this many days (its hosts refuse
# every request meanwhile); then beat's purge drops its schema (core.tasks.purge_deleted_tenants).
TENANT_DELETION_GRACE_DAYS = env.int("TENANT_DELETION_GRACE_DAYS", default=30)
TENANT_DELETION_PURGE_SECONDS = env.int("TENANT_DELETION_PURGE_SECONDS", default=60 * 60)

# manage.py seed_demo creates accounts whose password is public; production turns it off.
SEED_DEMO_ALLOWED = True

# Permission grants (SPEC §2.5): time-limited elevation, bounded from 1 minute to this.
PERMISSION_GRANT_MAX_MINUTES = env.int("PERMISSION_GRANT_MAX_MINUTES", default=8 * 60)

# Subscription tiers: how many of each countable thing a tenant may hold (None: no limit).
TIER_LIMITS = {
    "FREE": {"staff_users": 3, "resources": 5},
    "PROFESSIONAL": {"staff_users": 15, "resources": 30},
    "BUSINESS": {"staff_users": 75, "resources": 200},
    "ENTERPRISE": {"staff_users": None, "resources": None},
}
# Request rates per tier (tenancy/ratelimit.py), counted in the shared cache (Redis) per fixed
# window of RATE_LIMIT_WINDOW_SECONDS: every request to a tenant's hosts, and each API key's
# requests apart (None: no limit).
RATE_LIMIT_WINDOW_SECONDS = env.int("RATE_LIMIT_WINDOW_SECONDS", default=60)
TIER_RATE_LIMITS: dict[str, dict[str, int | None]] = {
    "FREE": {"tenant_requests": 300, "api_key_requests": 60},
    "PROFESSIONAL": {"tenant_requests": 1_200, "api_key_requests": 300},
    "BUSINESS": {"tenant_requests": 6_000, "api_key_requests": 1_200},
    "ENTERPRISE": {"tenant_requests": 30_000, "api_key_requests": 6_000},
}
# Quotas per tier: bookings created per calendar month (UTC), enforced by the booking service in
# the database; calls made with the tenant's API keys per UTC day, counted in the shared cache.
TIER_QUOTAS = {
    "FREE": {"bookings_per_month": 200, "api_calls_per_day": 1_000},
    "PROFESSIONAL": {"bookings_per_month": 2_000, "api_calls_per_day": 20_000},
    "BUSINESS": {"bookings_per_month": 20_000, "api_calls_per_day": 200_000},
    "ENTERPRISE": {"bookings_per_month": None, "api_calls_per_day": None},
}
# API keys (apikeys/): how long a key lives when its creator names no expiry, and the longest.
API_KEY_DEFAULT_DAYS = env.int("API_KEY_DEFAULT_DAYS", default=90)
API_KEY_MAX_DAYS = env.int("API_KEY_MAX_DAYS", default=365)
# A key's last_used_at is written at most this often (one conditional UPDATE).
API_KEY_LAST_USED_RESOLUTION_SECONDS = 60

# /ready/ gives each dependency (database, cache, broker) this long to answer (core.health).
READINESS_TIMEOUT_SECONDS = env.float("READINESS_TIMEOUT_SECONDS", default=2.0)

CELERY_BROKER_URL = env.str(
    "CELERY_BROKER_URL", default=env.str("REDIS_URL", default="redis://127.0.0.1:6379/0")
)
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE: dict = {
    # Each sign-in and refresh leaves a row in the token tables; expired ones are forgotten daily.
    "flush-expired-tokens": {"task": "users.tasks.flush_expired_tokens", "schedule": 24 * 60 * 60},
    "replay-masquerade-log": {
        "task": "core.tasks.replay_masquerade_log",
        "schedule": MASQUERADE_LOG_REPLAY_SECONDS,
    },
    "purge-deleted-tenants": {
        "task": "core.tasks.purge_deleted_tenants",
        "schedule": TENANT_DELETION_PURGE_SECONDS,
    },
}

# E-mail, the outbox and the plugins, in their own module.
from config.settings.notifications import *  # noqa: E402, F403
from config.settings.notifications import NOTIFICATIONS_CELERY_BEAT_SCHEDULE  # noqa: E402

CELERY_BEAT_SCHEDULE.update(NOTIFICATIONS_CELERY_BEAT_SCHEDULE)

# Public booking pages: guests, slot holds, manage links, in their own module.
# AWS: S3 media and Route53 custom domains, in their own module.
from config.settings.aws import *  # noqa: E402, F403
from config.settings.aws import AWS_CELERY_BEAT_SCHEDULE  # noqa: E402
from config.settings.booking import *  # noqa: E402, F403

CELERY_BEAT_SCHEDULE.update(AWS_CELERY_BEAT_SCHEDULE)
