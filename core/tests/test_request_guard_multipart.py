"""The request guard refuses a multipart body larger than the largest upload from its
Content-Length, before reading it (and so before authentication spools it to disk)."""

from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.files.uploadhandler import TemporaryFileUploadHandler
from django.test import Client

from conftest import HOST_A

RECEIVED: list[int] = []


class CountingHandler(TemporaryFileUploadHandler):
    def receive_data_chunk(self, raw_data, start):
        RECEIVED.append(len(raw_data))
        return super().receive_data_chunk(raw_data, start)


def test_an_oversized_multipart_body_is_a_413_before_any_of_it_is_read(
    tenant_a, settings, tmp_path
):
    settings.FILE_UPLOAD_HANDLERS = [f"{__name__}.CountingHandler"]
    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path)
    RECEIVED.clear()
    big = SimpleUploadedFile("x.bin", b"\0" * (40 * 1024 * 1024))
    response = Client(HTTP_HOST=HOST_A).post("/api/appointments/", {"file": big})
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "request_too_large"
    assert sum(RECEIVED) == 0


def test_a_multipart_body_within_the_limit_still_reaches_authentication(tenant_a):
    small = SimpleUploadedFile("x.bin", b"\0" * 1024)
    response = Client(HTTP_HOST=HOST_A).post("/api/appointments/", {"file": small})
    assert response.status_code == 401
