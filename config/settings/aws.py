"""AWS: S3 media storage and Route53 custom domains (SPEC §6).

Nothing here is required: without ``AWS_STORAGE_BUCKET_NAME`` media stay on local disk under
``MEDIA_ROOT``, and custom domains need ``AWS_ROUTE53_HOSTED_ZONE_ID`` (or a zone per domain) only
when one is added. Every AWS call goes through ``core.aws``, which reads these settings on each
call, so an endpoint URL (a local moto server, MinIO, LocalStack) redirects S3 and Route53 alike.
"""

import environ
from boto3.s3.transfer import TransferConfig
from django.core.exceptions import ImproperlyConfigured

env = environ.Env()

# Credentials: unset means boto3's own chain (instance role, ~/.aws, AWS_PROFILE).
AWS_ACCESS_KEY_ID = env.str("AWS_ACCESS_KEY_ID", default=None)
AWS_SECRET_ACCESS_KEY = env.str("AWS_SECRET_ACCESS_KEY", default=None)
AWS_SESSION_TOKEN = env.str("AWS_SESSION_TOKEN", default=None)
AWS_REGION = env.str("AWS_REGION", default=env.str("AWS_DEFAULT_REGION", default="us-east-1"))
AWS_S3_REGION_NAME = env.str("AWS_S3_REGION_NAME", default=AWS_REGION)
# One endpoint for every service, or one per service (which wins).
AWS_ENDPOINT_URL = env.str("AWS_ENDPOINT_URL", default=None)
AWS_S3_ENDPOINT_URL = env.str("AWS_S3_ENDPOINT_URL", default=None)
AWS_ROUTE53_ENDPOINT_URL = env.str("AWS_ROUTE53_ENDPOINT_URL", default=None)
# A slow or hung AWS must turn into a clear API error quickly, never a worker gunicorn kills at
# 30 s: each attempt is bounded by the connect and read timeouts, and no attempt starts that could
# end after the total budget (core.aws.time_budget) of a call, or of a whole operation.
AWS_CONNECT_TIMEOUT_SECONDS = env.float("AWS_CONNECT_TIMEOUT_SECONDS", default=2.0)
AWS_READ_TIMEOUT_SECONDS = env.float("AWS_READ_TIMEOUT_SECONDS", default=5.0)
# Attempts per call, the first included ("standard" retry mode: backoff on throttling/5xx).
AWS_MAX_ATTEMPTS = env.int("AWS_MAX_ATTEMPTS", default=2)
AWS_TOTAL_TIMEOUT_SECONDS = env.float("AWS_TOTAL_TIMEOUT_SECONDS", default=10.0)
if AWS_TOTAL_TIMEOUT_SECONDS < AWS_CONNECT_TIMEOUT_SECONDS + AWS_READ_TIMEOUT_SECONDS:
    raise ImproperlyConfigured(
        "AWS_TOTAL_TIMEOUT_SECONDS must leave room for one attempt "
        "(AWS_CONNECT_TIMEOUT_SECONDS + AWS_READ_TIMEOUT_SECONDS)."
    )

# Media (S3 when a bucket is configured). Objects are private; URLs are presigned (SigV4) and
# short-lived. "path" addressing is what local S3 servers (moto, MinIO) understand.
AWS_STORAGE_BUCKET_NAME = env.str("AWS_STORAGE_BUCKET_NAME", default="")
AWS_S3_SIGNATURE_VERSION = "s3v4"
AWS_S3_ADDRESSING_STYLE = env.str("AWS_S3_ADDRESSING_STYLE", default="auto")
AWS_DEFAULT_ACL = None
AWS_QUERYSTRING_AUTH = True
AWS_QUERYSTRING_EXPIRE = env.int("MEDIA_URL_EXPIRE_SECONDS", default=300)
AWS_S3_FILE_OVERWRITE = False
# Uploads in the calling thread: the time budget lives in its context (s3transfer's own threads
# would not see it), and media files here are small.
AWS_S3_TRANSFER_CONFIG = TransferConfig(use_threads=False)
MEDIA_URL_EXPIRE_SECONDS = AWS_QUERYSTRING_EXPIRE
MEDIA_IMAGE_MAX_BYTES = env.int("MEDIA_IMAGE_MAX_BYTES", default=2 * 1024 * 1024)

STORAGES = {
    "default": {
        "BACKEND": (
            "core.storage.TenantS3Storage"
            if AWS_STORAGE_BUCKET_NAME
            else "core.storage.TenantFileSystemStorage"
        )
    },
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# Custom domains: a CNAME <custom domain> -> PLATFORM_CNAME_TARGET that the platform creates in
# Route53 (the domain's own zone or this default one), and an ownership proof the tenant publishes:
# <CUSTOM_DOMAIN_CHALLENGE_LABEL>.<custom domain> TXT "<the domain's token>", checked through DNS.
AWS_ROUTE53_HOSTED_ZONE_ID = env.str("AWS_ROUTE53_HOSTED_ZONE_ID", default="")
PLATFORM_CNAME_TARGET = env.str("PLATFORM_CNAME_TARGET", default="smoothschedule.yourhost.com")
# The parent domain of tenants' platform subdomains (demo.smoothschedule.local): never a custom one.
TENANT_BASE_DOMAIN = env.str("TENANT_BASE_DOMAIN", default="smoothschedule.local")
CUSTOM_DOMAIN_RECORD_TTL = env.int("CUSTOM_DOMAIN_RECORD_TTL", default=300)
CUSTOM_DOMAIN_CHALLENGE_LABEL = env.str(
    "CUSTOM_DOMAIN_CHALLENGE_LABEL", default="_smoothschedule-challenge"
)
# Resolvers asked during verification (IP addresses; empty: the system's, /etc/resolv.conf), and
# the time one verification may take: short in a request, longer in the Celery task it falls
# back to.
CUSTOM_DOMAIN_DNS_RESOLVERS = env.list("CUSTOM_DOMAIN_DNS_RESOLVERS", default=[])
CUSTOM_DOMAIN_DNS_PORT = env.int("CUSTOM_DOMAIN_DNS_PORT", default=53)
CUSTOM_DOMAIN_DNS_TIMEOUT_SECONDS = env.float("CUSTOM_DOMAIN_DNS_TIMEOUT_SECONDS", default=3.0)
CUSTOM_DOMAIN_DNS_TASK_TIMEOUT_SECONDS = env.float(
    "CUSTOM_DOMAIN_DNS_TASK_TIMEOUT_SECONDS", default=15.0
)

AWS_CELERY_BEAT_SCHEDULE = {
    "verify-custom-domains": {
        "task": "core.tasks.verify_custom_domains",
        "schedule": env.int("CUSTOM_DOMAIN_VERIFY_SECONDS", default=15 * 60),
    },
}
