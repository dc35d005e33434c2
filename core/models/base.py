"""What every record the API addresses carries."""

import uuid

from django.db import models


class PublicRecord(models.Model):
    """A record with a public id (the API's and the admin's handle on it; the primary key never
    leaves the database) and its creation and last-change moments."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True
