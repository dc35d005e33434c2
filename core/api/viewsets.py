"""Plumbing the tenant apps' viewsets share."""

# A viewset's ``lookup_value_regex`` for objects addressed by their public UUID.
UUID_PATTERN = "[0-9a-fA-F-]{36}"
