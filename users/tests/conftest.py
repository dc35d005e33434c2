"""Sign-in counters live in the process's cache: each test here starts and ends without any."""

from collections.abc import Iterator

import pytest
from django.core.cache import caches
from django.core.cache.backends.locmem import LocMemCache


def _forget_counters() -> None:
    # Only ever this process's memory: clearing a Redis cache would flush a shared database.
    if isinstance(caches["default"], LocMemCache):
        caches["default"].clear()


@pytest.fixture(autouse=True)
def _empty_cache() -> Iterator[None]:
    _forget_counters()
    yield
    _forget_counters()
