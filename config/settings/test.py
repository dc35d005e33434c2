"""Tests: the same settings as production minus slow hashing, plus isolated log files."""

import tempfile
from pathlib import Path

from .base import *  # noqa: F403
from .base import LOGGING, env

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
LOG_DIR = Path(tempfile.mkdtemp(prefix="smoothschedule-test-logs-"))
LOGGING["handlers"]["security_file"]["filename"] = str(LOG_DIR / "security.log")
MASQUERADE_LOG_FILE = LOG_DIR / "masquerade.log"
LOGGING["handlers"]["security_stdout"] = {"class": "logging.NullHandler"}
# Every test signs in from 127.0.0.1; the limit itself is tested with its own rate.
LOGIN_THROTTLE_RATE = "1000/min"
PUBLIC_READ_THROTTLE_RATE = PUBLIC_WRITE_THROTTLE_RATE = "10000/min"
# Tests never run collectstatic (the production-static test builds its own STATIC_ROOT): WhiteNoise
# looks files up per request instead of indexing a STATIC_ROOT that does not exist.
WHITENOISE_AUTOREFRESH = True
# Commits of tests send no outbox task to the shared Redis; worker tests name a queue of their own.
NOTIFICATIONS_QUEUE = env.str("NOTIFICATIONS_QUEUE", default="")
# The suite sends thousands of requests to the same two tenants within a minute; the limits
# themselves are tested with their own small values (apikeys/tests, core/tests/test_ratelimit.py).
TIER_RATE_LIMITS = {
    tier: {"tenant_requests": None, "api_key_requests": None}
    for tier in ("FREE", "PROFESSIONAL", "BUSINESS", "ENTERPRISE")
}
