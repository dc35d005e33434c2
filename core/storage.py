"""Tenant-aware media storage: every file lives under ``tenants/<schema>/`` of the tenant whose
schema the connection is set to, whichever backend holds it.

Names saved in the database are relative to that prefix (``logos/3f2a.png``); the prefix is
added by the storage on every operation, so code running for tenant B can only ever address keys
under ``tenants/b/`` — tenant A's files are out of its reach by construction, not by a check that
could be forgotten. Outside a tenant (the public schema) the storage refuses to work at all;
platform code acting for a tenant enters ``django_tenants.utils.tenant_context(tenant)`` first.

Files are private: S3 objects get no public ACL and are read through short-lived presigned
(SigV4) URLs; on local disk the URL carries an HMAC signature and an expiry checked by
``core.api.media``.
"""

from __future__ import annotations

import hmac
import os
import time
from typing import Any

from django.conf import settings
from django.core.exceptions import SuspiciousFileOperation
from django.core.files.storage import FileSystemStorage
from django.db import connection
from django.utils.crypto import salted_hmac
from django.utils.encoding import filepath_to_uri
from storages.backends.s3 import S3Storage
from storages.utils import clean_name, safe_join

from core import aws

TENANT_MEDIA_ROOT = "tenants"
_SIGNATURE_SALT = "core.storage.local-media"


class OutsideTenantError(SuspiciousFileOperation):
    """Media were touched with no tenant selected: there is no prefix to confine them to."""


def current_tenant_schema() -> str | None:
    schema = getattr(connection, "schema_name", settings.PUBLIC_SCHEMA_NAME)
    return None if schema == settings.PUBLIC_SCHEMA_NAME else schema


def tenant_media_prefix() -> str:
    """``tenants/<schema>`` for the tenant the connection is set to; refuses outside a tenant."""
    schema = current_tenant_schema()
    if schema is None:
        raise OutsideTenantError(
            "Media files belong to a tenant; none is selected (public schema). "
            "Use django_tenants.utils.tenant_context(tenant)."
        )
    return f"{TENANT_MEDIA_ROOT}/{schema}"


class TenantS3Storage(S3Storage):
    """Private S3 objects under the current tenant's prefix, through ``core.aws``'s client."""

    @property
    def location(self) -> str:
        # Read by django-storages while it is being built (possibly outside a tenant) and when it
        # strips the prefix from keys; the refusal outside a tenant is in _normalize_name.
        schema = current_tenant_schema()
        return f"{TENANT_MEDIA_ROOT}/{schema}" if schema else ""

    @property
    def connection(self) -> Any:
        return aws.s3_resource()

    @property
    def bucket(self) -> Any:
        return self.connection.Bucket(self.bucket_name)

    def _normalize_name(self, name: str) -> str:
        try:
            return safe_join(tenant_media_prefix(), name)
        except ValueError as error:
            raise SuspiciousFileOperation(f"'{name}' is outside this tenant's media.") from error

    def _save(self, name: str, content: Any) -> str:
        with aws.aws_errors("store the file"):
            return super()._save(name, content)

    def _open(self, name: str, mode: str = "rb") -> Any:
        with aws.aws_errors("read the file"):
            return super()._open(name, mode)

    def delete(self, name: str) -> None:
        with aws.aws_errors("delete the file"):
            super().delete(name)

    def exists(self, name: str) -> bool:
        with aws.aws_errors("look up the file"):
            return super().exists(name)

    def listdir(self, name: str) -> tuple[list[str], list[str]]:
        with aws.aws_errors("list files"):
            return super().listdir(name)

    def size(self, name: str) -> int:
        with aws.aws_errors("read the file size"):
            return super().size(name)


class TenantFileSystemStorage(FileSystemStorage):
    """Local disk under ``MEDIA_ROOT/tenants/<schema>/`` (the default without a bucket)."""

    @property
    def location(self) -> str:
        return os.path.abspath(os.path.join(self.base_location, tenant_media_prefix()))

    def listdir(self, path: str) -> tuple[list[str], list[str]]:
        # Like S3: a folder with nothing in it yet (a new tenant's) lists as empty.
        if not os.path.isdir(self.path(path)):
            return [], []
        return super().listdir(path)

    def url(self, name: str | None) -> str:
        key = f"{tenant_media_prefix()}/{clean_name(name or '')}"
        return signed_local_media_url(key)


def _local_signature(key: str, expires: int) -> str:
    return salted_hmac(_SIGNATURE_SALT, f"{key}\n{expires}", algorithm="sha256").hexdigest()


def signed_local_media_url(key: str, *, expires_in: int | None = None) -> str:
    """A URL for a file on local disk that works for ``MEDIA_URL_EXPIRE_SECONDS``, like S3's."""
    lifetime = settings.MEDIA_URL_EXPIRE_SECONDS if expires_in is None else expires_in
    expires = int(time.time()) + lifetime
    signature = _local_signature(key, expires)
    return f"{settings.MEDIA_URL}{filepath_to_uri(key)}?expires={expires}&signature={signature}"


def local_media_signature_valid(*, key: str, expires: str, signature: str) -> bool:
    if not expires.isdigit() or int(expires) < time.time():
        return False
    return hmac.compare_digest(_local_signature(key, int(expires)), signature)


def tenant_media_delete_all(schema: str) -> int:
    """Delete every media file of tenant ``schema`` (everything under its prefix, whichever
    backend holds it): what a deleted tenant leaves behind. Returns how many files went."""
    from django.core.files.storage import default_storage
    from django_tenants.utils import schema_context

    def delete_tree(path: str) -> int:
        folders, files = default_storage.listdir(path)
        for name in files:
            default_storage.delete(f"{path}{name}")
        return len(files) + sum(delete_tree(f"{path}{folder}/") for folder in folders)

    with schema_context(schema):
        return delete_tree("")
