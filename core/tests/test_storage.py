"""Tenant-aware media storage against a real moto S3 server, and on local disk."""

import time
import urllib.error
import urllib.request

import pytest
from django.core.exceptions import SuspiciousFileOperation
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage, storages
from django_tenants.utils import tenant_context

from conftest import HOST_A
from core.storage import OutsideTenantError, TenantFileSystemStorage, TenantS3Storage

pytestmark = pytest.mark.django_db


def fetch(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 -- local moto server
        return response.read()


def test_default_storage_is_s3_when_a_bucket_is_configured(aws):
    assert type(storages["default"]) is TenantS3Storage


def test_default_storage_is_local_disk_without_aws_settings():
    assert type(storages["default"]) is TenantFileSystemStorage


def test_file_saved_for_tenant_a_is_stored_under_a_prefix_and_reads_back(aws, tenant_a):
    with tenant_context(tenant_a):
        name = default_storage.save("notes/hello.txt", ContentFile(b"hello from alpha"))
        assert not name.startswith("tenants/")  # names in the database stay relative
        with default_storage.open(name) as stored:
            assert stored.read() == b"hello from alpha"
        assert default_storage.exists(name)
        assert default_storage.listdir("notes") == ([], ["hello.txt"])
    assert aws.s3_keys() == [f"tenants/alpha/{name}"]


def test_tenant_b_cannot_list_or_read_tenant_a_files(aws, tenant_a, tenant_b):
    with tenant_context(tenant_a):
        name = default_storage.save("notes/secret.txt", ContentFile(b"alpha only"))
    with tenant_context(tenant_b):
        assert default_storage.listdir("notes") == ([], [])
        assert default_storage.listdir("") == ([], [])
        assert not default_storage.exists(name)
        with pytest.raises(FileNotFoundError):
            default_storage.open(name).read()
        # Spelling out A's key only lands deeper inside B's own prefix.
        assert not default_storage.exists(f"tenants/alpha/{name}")
        with pytest.raises(SuspiciousFileOperation):
            default_storage.open(f"../alpha/{name}")
        url_in_b = default_storage.url(name)
        assert "/tenants/beta/" in url_in_b
        with pytest.raises(urllib.error.HTTPError) as error:
            fetch(url_in_b)
        assert error.value.code == 404
    with tenant_context(tenant_a):
        assert default_storage.exists(name)


def test_presigned_url_is_sigv4_short_lived_and_fetches_the_file(aws, tenant_a, settings):
    with tenant_context(tenant_a):
        name = default_storage.save("notes/url.txt", ContentFile(b"signed"))
        url = default_storage.url(name)
    assert url.startswith(f"{aws.endpoint}/{aws.bucket}/tenants/alpha/notes/")
    assert "X-Amz-Algorithm=AWS4-HMAC-SHA256" in url
    assert f"X-Amz-Expires={settings.AWS_QUERYSTRING_EXPIRE}" in url
    assert fetch(url) == b"signed"


def test_storage_refuses_to_save_outside_a_tenant(aws):
    with pytest.raises(OutsideTenantError):
        default_storage.save("stray.txt", ContentFile(b"no tenant"))
    assert aws.s3_keys() == []


def test_local_storage_puts_files_under_the_tenant_folder(local_media, tenant_a, tenant_b):
    with tenant_context(tenant_a):
        name = default_storage.save("notes/local.txt", ContentFile(b"on disk"))
    assert (local_media / "tenants" / "alpha" / name).read_bytes() == b"on disk"
    with tenant_context(tenant_b):
        assert not default_storage.exists(name)
        assert default_storage.listdir("") == ([], [])
    with pytest.raises(OutsideTenantError):
        default_storage.save("stray.txt", ContentFile(b"no tenant"))


def test_local_media_url_is_signed_and_expires(local_media, tenant_a, api, settings):
    with tenant_context(tenant_a):
        name = default_storage.save("notes/link.txt", ContentFile(b"private"))
        url = default_storage.url(name)
    client = api(HOST_A)
    response = client.get(url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"private"
    answer = client.get(url.replace("signature=", "signature=0"))
    assert answer.status_code == 403
    assert answer.json()["error"]["code"] == "invalid_signature"
    answer = client.get(url.split("?")[0])
    assert answer.status_code == 403
    assert answer.json()["error"]["code"] == "invalid_signature"
    settings.MEDIA_URL_EXPIRE_SECONDS = -1
    with tenant_context(tenant_a):
        expired = default_storage.url(name)
    assert int(expired.split("expires=")[1].split("&")[0]) < time.time()
    answer = client.get(expired)
    assert answer.status_code == 403
    assert answer.json()["error"]["code"] == "invalid_signature"


def test_presigned_url_of_a_missing_key_is_refused_by_s3(aws, tenant_a):
    with tenant_context(tenant_a):
        url = default_storage.url("notes/never-saved.txt")
    with pytest.raises(urllib.error.HTTPError) as error:
        fetch(url)
    assert error.value.code == 404
