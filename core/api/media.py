"""Files on local disk (no S3 bucket configured), served only through signed, expiring URLs
(``core.storage.signed_local_media_url``), the local twin of S3's presigned URLs."""

from __future__ import annotations

import mimetypes

from django.conf import settings
from django.http import FileResponse, HttpRequest, HttpResponse
from django.utils._os import safe_join

from core.api.errors import json_error
from core.storage import local_media_signature_valid


def local_media(request: HttpRequest, key: str) -> HttpResponse | FileResponse:
    if request.method not in ("GET", "HEAD"):
        return json_error(405, "method_not_allowed", "Media files are read-only.")
    valid = local_media_signature_valid(
        key=key,
        expires=request.GET.get("expires", ""),
        signature=request.GET.get("signature", ""),
    )
    if not valid:
        return json_error(403, "invalid_signature", "This media link is invalid or has expired.")
    try:
        path = safe_join(settings.MEDIA_ROOT, key)
        handle = open(path, "rb")  # noqa: SIM115 -- FileResponse closes it
    except (OSError, ValueError):
        return json_error(404, "not_found", "Not found.")
    content_type, _encoding = mimetypes.guess_type(path)
    response = FileResponse(handle, content_type=content_type or "application/octet-stream")
    response["Cache-Control"] = "private, max-age=60"
    response["X-Content-Type-Options"] = "nosniff"
    return response
