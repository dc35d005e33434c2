"""Uploaded images (tenant logos, resource photos): checks of size, real type and dimensions,
and the one way to put a checked image into a model's file field.

The type comes from decoding the file with Pillow, never from its name or the client's
Content-Type. The accepted file is renamed to a random name with the extension of its real type,
so a client-chosen name never reaches the storage.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import Storage
from django.db import transaction
from django.db.models import Model
from django_tenants.utils import tenant_context
from PIL import Image, UnidentifiedImageError

from core.db.connection import connection
from core.exceptions import DomainError

# Pillow format -> (extension, content type). No SVG: it is a document that can carry scripts.
IMAGE_FORMATS: dict[str, tuple[str, str]] = {
    "PNG": ("png", "image/png"),
    "JPEG": ("jpg", "image/jpeg"),
    "WEBP": ("webp", "image/webp"),
    "GIF": ("gif", "image/gif"),
}
MAX_IMAGE_SIDE = 8000


class ImageContent(ContentFile):
    """The bytes of a checked image; ``content_type`` is what the storage (S3) sends with it."""

    content_type: str


@dataclass(frozen=True)
class ValidatedImage:
    file: ImageContent
    content_type: str
    width: int
    height: int


def _invalid(field: str, message: str) -> DomainError:
    return DomainError(message, code="invalid_file", fields={field: [message]})


def validated_image(
    upload: Any, *, field: str = "file", max_bytes: int | None = None
) -> ValidatedImage:
    """Return ``upload`` as a safely named image file, or raise a 400 ``DomainError``."""
    limit = settings.MEDIA_IMAGE_MAX_BYTES if max_bytes is None else max_bytes
    if upload is None or not hasattr(upload, "read"):
        raise _invalid(field, f"Attach an image file as the multipart field '{field}'.")
    size = upload.size
    if not size:
        raise _invalid(field, "The file is empty.")
    if size > limit:
        raise _invalid(field, f"The file is {size} bytes; images may be at most {limit} bytes.")
    upload.seek(0)
    data = upload.read()
    try:
        with Image.open(ContentFile(data)) as image:
            image.verify()  # decodes enough to catch truncated or forged files
            image_format, (width, height) = image.format, image.size
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, SyntaxError, ValueError):
        raise _invalid(field, "The file is not a readable image.") from None
    if image_format not in IMAGE_FORMATS:
        raise _invalid(
            field, f"{image_format} images are not accepted; use PNG, JPEG, WebP or GIF."
        )
    if width > MAX_IMAGE_SIDE or height > MAX_IMAGE_SIDE:
        raise _invalid(
            field,
            f"The image is {width}x{height} pixels; each side may be at most {MAX_IMAGE_SIDE}.",
        )
    extension, content_type = IMAGE_FORMATS[image_format]
    file = ImageContent(data, name=f"{uuid.uuid4().hex}.{extension}")
    file.content_type = content_type
    return ValidatedImage(file=file, content_type=content_type, width=width, height=height)


def image_field_replace(
    *,
    instance: Model,
    field: str,
    image: ValidatedImage | None,
    audit: Callable[[str, str], None],
) -> str:
    """Put ``image`` into ``instance.<field>`` (None clears it), save the row, and return the
    stored name. Runs in the tenant context the caller set (the file lands in its prefix).

    The file is stored before the row changes: if the row cannot be saved, the new file is
    deleted again; the replaced file is deleted only once the new name is committed.
    ``audit(previous_name, stored_name)`` is called inside the row's transaction.
    """
    field_file = getattr(instance, field)
    storage = field_file.storage
    previous = field_file.name or ""
    if image is not None:
        field_file.save(image.file.name, image.file, save=False)
    else:
        setattr(instance, field, "")
    stored = getattr(instance, field).name or ""
    tenant = connection.tenant
    # auto_now timestamps (updated_at) change only when update_fields names them.
    stamps = [f.name for f in instance._meta.concrete_fields if getattr(f, "auto_now", False)]
    try:
        with transaction.atomic():
            instance.save(update_fields=[field, *stamps])
            audit(previous, stored)
            if previous and previous != stored:
                transaction.on_commit(partial(_delete_in_tenant, tenant, storage, previous))
    except Exception:
        if stored and stored != previous:
            _delete_in_tenant(tenant, storage, stored)
        raise
    return stored


def _delete_in_tenant(tenant: Any, storage: Storage, name: str) -> None:
    with tenant_context(tenant):
        storage.delete(name)
