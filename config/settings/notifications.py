"""E-mail, the transactional outbox and the plugins' delivery rules (README: "Plugins and
notifications").

E-mail goes through Django's backend named by one URL, ``EMAIL_URL`` (django-environ):
``smtp://user:pass@host:587`` (``smtp+tls://``, ``smtp+ssl://``), ``consolemail://``,
``filemail:///path``, ``memorymail://``. ``make run`` points it at a local sink.
"""

import environ

env = environ.Env()

EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
EMAIL_BACKEND = EMAIL_CONFIG["EMAIL_BACKEND"]
EMAIL_HOST = EMAIL_CONFIG.get("EMAIL_HOST", "localhost")
EMAIL_PORT = EMAIL_CONFIG.get("EMAIL_PORT", 25)
EMAIL_HOST_USER = EMAIL_CONFIG.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = EMAIL_CONFIG.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = EMAIL_CONFIG.get("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = EMAIL_CONFIG.get("EMAIL_USE_SSL", False)
if "EMAIL_FILE_PATH" in EMAIL_CONFIG:
    EMAIL_FILE_PATH = EMAIL_CONFIG["EMAIL_FILE_PATH"]
# A hung mail server must fail an attempt (to be retried), never hang a worker.
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT_SECONDS", default=10)
DEFAULT_FROM_EMAIL = env.str(
    "DEFAULT_FROM_EMAIL", default="Smooth Schedule <no-reply@smoothschedule.local>"
)

# Links in e-mails (unsubscribe, reviews) point at the tenant's primary host through this.
TENANT_LINK_BASE = env.str("TENANT_LINK_BASE", default="https://{host}")

# The Celery queue the outbox's tasks are sent to (the worker's default queue). Empty: no task
# is sent when something happens; beat's sweep alone dispatches and sends (what the tests use, so
# their commits leave nothing on the shared Redis; the worker tests name a queue of their own).
NOTIFICATIONS_QUEUE = env.str("NOTIFICATIONS_QUEUE", default="celery")
# Retries: the n-th failed attempt waits base * 2**(n-1) seconds, at most the cap; after the
# last attempt the delivery is FAILED (and can be redelivered by hand).
NOTIFICATIONS_RETRY_BASE_SECONDS = env.float("NOTIFICATIONS_RETRY_BASE_SECONDS", default=30.0)
NOTIFICATIONS_RETRY_MAX_SECONDS = env.float("NOTIFICATIONS_RETRY_MAX_SECONDS", default=3600.0)
NOTIFICATIONS_MAX_ATTEMPTS = env.int("NOTIFICATIONS_MAX_ATTEMPTS", default=10)
# How long a sender holds the deliveries it claimed; a sender that died frees them by then.
NOTIFICATIONS_LEASE_SECONDS = env.float("NOTIFICATIONS_LEASE_SECONDS", default=120.0)
NOTIFICATIONS_BATCH_SIZE = env.int("NOTIFICATIONS_BATCH_SIZE", default=200)
# The sweep: fire due jobs, dispatch events and send deliveries that no task picked up.
NOTIFICATIONS_SWEEP_SECONDS = env.int("NOTIFICATIONS_SWEEP_SECONDS", default=30)

# Webhooks: the overall deadline of one call (connect to the last byte read; it must stay well
# under NOTIFICATIONS_LEASE_SECONDS), and how many failed attempts in a row disable an endpoint.
WEBHOOK_TIMEOUT_SECONDS = env.float("WEBHOOK_TIMEOUT_SECONDS", default=5.0)
WEBHOOK_DISABLE_AFTER_FAILURES = env.int("WEBHOOK_DISABLE_AFTER_FAILURES", default=20)
# How many webhook endpoints one business may register (409 webhook_endpoint_limit beyond).
WEBHOOK_ENDPOINTS_PER_TENANT = env.int("WEBHOOK_ENDPOINTS_PER_TENANT", default=20)
# Networks (CIDR) a webhook may target although private, loopback or link-local (SSRF guard).
WEBHOOK_ALLOWED_PRIVATE_NETWORKS = env.list("WEBHOOK_ALLOWED_PRIVATE_NETWORKS", default=[])

# E-mail templates (notifications.templates): each render of one part (subject, text, HTML) may
# take this many loop iterations / calls / operations, this long, and produce this many chars.
EMAIL_TEMPLATE_MAX_STEPS = env.int("EMAIL_TEMPLATE_MAX_STEPS", default=100_000)
EMAIL_TEMPLATE_RENDER_SECONDS = env.float("EMAIL_TEMPLATE_RENDER_SECONDS", default=2.0)
EMAIL_TEMPLATE_MAX_CHARS = env.int("EMAIL_TEMPLATE_MAX_CHARS", default=200_000)

# Signed links in customers' e-mails: how long a review link stays valid.
REVIEW_LINK_MAX_AGE_DAYS = env.int("REVIEW_LINK_MAX_AGE_DAYS", default=30)

# Issue 13: how long a waitlist offer (its claim link) holds a freed place, and how often the
# offers whose time is up are passed on (a claim of an expired offer passes it on at once).
WAITLIST_OFFER_MINUTES = env.int("WAITLIST_OFFER_MINUTES", default=60)
WAITLIST_EXPIRY_SWEEP_SECONDS = env.int("WAITLIST_EXPIRY_SWEEP_SECONDS", default=300)
# No task may hold a worker for ever, whatever a template or a receiver does: the soft limit
# raises inside the task (its transaction rolls back, the sweep retries), the hard one kills it.
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=300)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=360)

NOTIFICATIONS_CELERY_BEAT_SCHEDULE = {
    "notifications-sweep": {
        "task": "notifications.tasks.sweep",
        "schedule": NOTIFICATIONS_SWEEP_SECONDS,
    },
    "waitlist-offers-expire": {
        "task": "appointments.tasks.expire_waitlist_offers",
        "schedule": WAITLIST_EXPIRY_SWEEP_SECONDS,
    },
}
