"""Plumbing the tenant apps' viewsets share."""

# A viewset's ``lookup_value_regex`` for objects addressed by their public UUID.
UUID_PATTERN = "[0-9a-fA-F-]{36}"


# Objects are addressed by their public UUID (``PublicRecord.public_id``) under the URL keyword
# ``id``; the primary key never appears in a URL. (No docstring: the API schema would take it as
# the description of every viewset that has none of its own.)
class PublicIdLookupMixin:
    lookup_field: str = "public_id"
    lookup_url_kwarg: str | None = "id"
    lookup_value_regex: str = UUID_PATTERN
