"""Random identifiers records are born with."""

import secrets


def new_verification_token() -> str:
    """A custom domain's ownership token: random, one per domain row, published by the tenant."""
    return secrets.token_hex(16)
