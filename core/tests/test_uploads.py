"""Image uploads: real type checks, size limits, and the tenant logo through the API."""

import io
import urllib.request

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django_tenants.utils import tenant_context
from PIL import Image

from conftest import HOST_A, HOST_B
from core.exceptions import DomainError
from core.uploads import image_field_replace, validated_image
from tenancy.models import Tenant
from users.roles import Role

pytestmark = pytest.mark.django_db


def image_bytes(fmt: str = "PNG", size: tuple[int, int] = (4, 3)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buffer, format=fmt)
    return buffer.getvalue()


def upload(data: bytes, name: str = "logo.png", content_type: str = "image/png"):
    return SimpleUploadedFile(name, data, content_type=content_type)


@pytest.mark.parametrize(
    ("fmt", "extension", "content_type"),
    [("PNG", "png", "image/png"), ("JPEG", "jpg", "image/jpeg"), ("WEBP", "webp", "image/webp")],
)
def test_real_images_are_accepted_and_renamed_by_their_real_type(fmt, extension, content_type):
    checked = validated_image(upload(image_bytes(fmt), name="../../evil name.exe"))
    assert checked.file.name.endswith(f".{extension}")
    assert "/" not in checked.file.name and "evil" not in checked.file.name
    assert (checked.content_type, checked.width, checked.height) == (content_type, 4, 3)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"<svg xmlns='http://www.w3.org/2000/svg'></svg>", "not a readable image"),
        (b"just some text pretending to be a png", "not a readable image"),
        (image_bytes("PNG")[:40], "not a readable image"),  # truncated
        (image_bytes("BMP"), "BMP images are not accepted"),
        (b"", "The file is empty."),
    ],
)
def test_files_that_are_not_accepted_images_are_refused(data, message):
    with pytest.raises(DomainError) as error:
        validated_image(upload(data))
    assert error.value.status_code == 400
    assert error.value.code == "invalid_file"
    assert message in error.value.message
    assert message in error.value.fields["file"][0]


def test_too_large_files_are_refused_before_decoding(settings):
    settings.MEDIA_IMAGE_MAX_BYTES = 100
    with pytest.raises(DomainError) as error:
        validated_image(upload(image_bytes(size=(64, 64))))
    assert "images may be at most 100 bytes" in error.value.message


def test_a_missing_file_is_refused():
    with pytest.raises(DomainError) as error:
        validated_image(None)
    assert error.value.fields == {"file": ["Attach an image file as the multipart field 'file'."]}


def put_logo(client, data: bytes, name: str = "logo.png"):
    return client.put("/api/tenant/logo/", {"file": upload(data, name)}, format="multipart")


def test_owner_uploads_a_logo_to_s3_under_the_tenant_prefix(
    aws, api, make_user, tenant_a, tenant_b
):
    owner = make_user(Role.TENANT_OWNER, tenant_a)
    png = image_bytes()
    response = put_logo(api(HOST_A, owner), png)
    assert response.status_code == 200, response.json()
    name = Tenant.objects.get(pk=tenant_a.pk).logo.name
    assert name.startswith("logos/") and name.endswith(".png")
    assert aws.s3_keys() == [f"tenants/alpha/{name}"]
    with urllib.request.urlopen(response.json()["logo_url"], timeout=5) as fetched:  # noqa: S310
        assert fetched.read() == png
    staff = make_user(Role.TENANT_STAFF, tenant_a)
    assert api(HOST_A, staff).get("/api/tenant/logo/").json()["logo_url"].startswith(aws.endpoint)
    owner_b = make_user(Role.TENANT_OWNER, tenant_b)
    answer = api(HOST_B, owner_b).get("/api/tenant/logo/")
    assert answer.status_code == 404
    assert answer.json()["error"]["code"] == "not_found"


def test_replacing_and_removing_the_logo_deletes_the_old_files(
    aws, api, make_user, tenant_a, django_capture_on_commit_callbacks
):
    client = api(HOST_A, make_user(Role.TENANT_OWNER, tenant_a))
    with django_capture_on_commit_callbacks(execute=True):
        put_logo(client, image_bytes("PNG"))
        put_logo(client, image_bytes("JPEG"), name="new.jpg")
    [key] = aws.s3_keys()
    assert key.startswith("tenants/alpha/logos/") and key.endswith(".jpg")
    with django_capture_on_commit_callbacks(execute=True):
        assert client.delete("/api/tenant/logo/").status_code == 204
    assert aws.s3_keys() == []
    answer = client.get("/api/tenant/logo/")
    assert answer.status_code == 404
    assert answer.json()["error"]["code"] == "not_found"


def test_a_bad_logo_is_a_clear_400_and_stores_nothing(aws, api, make_user, tenant_a):
    client = api(HOST_A, make_user(Role.TENANT_OWNER, tenant_a))
    response = put_logo(client, b"MZ\x90\x00 not an image", name="logo.png")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_file"
    assert "file" in response.json()["error"]["fields"]
    assert aws.s3_keys() == []
    no_file = client.put("/api/tenant/logo/", {}, format="multipart")
    assert no_file.status_code == 400
    assert no_file.json()["error"]["code"] == "invalid_file"


@pytest.mark.parametrize("role", [Role.TENANT_MANAGER, Role.TENANT_STAFF, Role.CUSTOMER])
def test_only_manage_settings_changes_the_logo(aws, api, make_user, tenant_a, role):
    answer = put_logo(api(HOST_A, make_user(role, tenant_a)), image_bytes())
    assert answer.status_code == 403
    assert answer.json()["error"]["code"] == "permission_denied"
    assert aws.s3_keys() == []


def test_logo_upload_works_on_local_disk_without_aws(local_media, api, make_user, tenant_a):
    client = api(HOST_A, make_user(Role.TENANT_OWNER, tenant_a))
    png = image_bytes()
    response = put_logo(client, png)
    assert response.status_code == 200
    name = Tenant.objects.get(pk=tenant_a.pk).logo.name
    assert (local_media / "tenants" / "alpha" / name).read_bytes() == png
    served = client.get(response.json()["logo_url"])
    assert served.status_code == 200
    assert served["Content-Type"] == "image/png"
    assert b"".join(served.streaming_content) == png


def test_an_s3_failure_while_storing_is_a_json_502_not_a_500(
    aws, api, make_user, tenant_a, settings
):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "core.storage.TenantS3Storage",
            "OPTIONS": {"bucket_name": "bucket-that-does-not-exist"},
        },
    }
    client = api(HOST_A, make_user(Role.TENANT_OWNER, tenant_a))
    response = put_logo(client, image_bytes())
    assert response.status_code == 502
    assert response.json()["error"]["code"] == "aws_error"
    # AWS's own words (they name the bucket) stay in the server log.
    assert "bucket-that-does-not-exist" not in response.content.decode()
    assert "NoSuchBucket" not in response.content.decode()
    assert not Tenant.objects.get(pk=tenant_a.pk).logo


def test_a_row_that_cannot_be_saved_leaves_no_stored_file_behind(aws, tenant_a):
    def failing_audit(previous: str, stored: str) -> None:
        raise RuntimeError("audit trail unavailable")

    with tenant_context(tenant_a), pytest.raises(RuntimeError):
        image_field_replace(
            instance=Tenant.objects.get(pk=tenant_a.pk),
            field="logo",
            image=validated_image(upload(image_bytes())),
            audit=failing_audit,
        )
    assert aws.s3_keys() == []
    assert not Tenant.objects.get(pk=tenant_a.pk).logo
