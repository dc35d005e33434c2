"""A resource's photo: uploaded through the API, checked, stored under the tenant's prefix."""

import io

import pytest
from PIL import Image

from conftest import HOST_A, HOST_B
from users.roles import Role

pytestmark = pytest.mark.django_db


def png() -> io.BytesIO:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "teal").save(buffer, format="PNG")
    buffer.seek(0)
    buffer.name = "chair.png"
    return buffer


@pytest.fixture
def resource_and_owner(api, make_user, tenant_a):
    owner = make_user(Role.TENANT_OWNER, tenant_a)
    created = api(HOST_A, owner).post(
        "/api/resources/", {"name": "Chair 1", "type": "ROOM"}, format="json"
    )
    assert created.status_code == 201, created.content
    return created.json()["id"], owner


def test_owner_uploads_a_photo_stored_under_the_tenant_prefix(api, resource_and_owner, local_media):
    resource_id, owner = resource_and_owner
    response = api(HOST_A, owner).put(
        f"/api/resources/{resource_id}/photo/", {"file": png()}, format="multipart"
    )
    assert response.status_code == 200, response.content
    stored = list(local_media.rglob("*.png"))
    assert len(stored) == 1
    assert stored[0].relative_to(local_media).parts[:3] == ("tenants", "alpha", "resources")
    listed = api(HOST_A, owner).get(f"/api/resources/{resource_id}/").json()
    assert listed["photo_url"]
    fetched = api(HOST_A).get(listed["photo_url"])
    assert fetched.status_code == 200
    assert b"".join(fetched.streaming_content).startswith(b"\x89PNG")


def test_a_file_that_is_not_an_image_gets_400_and_changes_nothing(
    api, resource_and_owner, local_media
):
    resource_id, owner = resource_and_owner
    fake = io.BytesIO(b"#!/bin/sh\necho not an image\n")
    fake.name = "photo.png"
    response = api(HOST_A, owner).put(
        f"/api/resources/{resource_id}/photo/", {"file": fake}, format="multipart"
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_file"
    assert "file" in response.json()["error"]["fields"]
    assert not list(local_media.rglob("*"))


def test_staff_cannot_change_a_photo_and_tenant_b_cannot_reach_it(
    api, make_user, resource_and_owner, tenant_a, tenant_b, local_media
):
    resource_id, _owner = resource_and_owner
    staff = make_user(Role.TENANT_STAFF, tenant_a)
    upload = {"file": png()}
    refused = api(HOST_A, staff).put(
        f"/api/resources/{resource_id}/photo/", upload, format="multipart"
    )
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "permission_denied"
    other_owner = make_user(Role.TENANT_OWNER, tenant_b)
    response = api(HOST_B, other_owner).put(
        f"/api/resources/{resource_id}/photo/", {"file": png()}, format="multipart"
    )
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_delete_removes_the_photo_and_its_file_once_committed(
    api, resource_and_owner, local_media, django_capture_on_commit_callbacks
):
    resource_id, owner = resource_and_owner
    client = api(HOST_A, owner)
    client.put(f"/api/resources/{resource_id}/photo/", {"file": png()}, format="multipart")
    assert len(list(local_media.rglob("*.png"))) == 1
    with django_capture_on_commit_callbacks(execute=True):
        assert client.delete(f"/api/resources/{resource_id}/photo/").status_code == 204
    assert client.get(f"/api/resources/{resource_id}/").json()["photo_url"] is None
    assert not list(local_media.rglob("*.png"))
