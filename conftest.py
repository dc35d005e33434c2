"""Session-wide test world: two tenants (A and B) whose schemas are made once per run, plus
helpers to call the API on a given host as a given user."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, cast

import pytest
from django.db import connection as default_connection
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from core.db.base import DatabaseWrapper
from tenancy.models import Tenant
from users.authentication import TENANT_CLAIM
from users.models import User

# The default connection typed as the backend it is (ENGINE "core.db", config/database.py):
# django-stubs types ``django.db.connection`` as Django's base wrapper, which has no
# ``set_tenant()``/``set_schema()``. Tests import it from here.
connection = cast(DatabaseWrapper, default_connection)

PLATFORM_HOST = "localhost"
HOST_A = "alpha.localhost"
HOST_B = "beta.localhost"
PASSWORD = "correct-horse-battery-staple"


def provision_session_tenants() -> None:
    """Tenants alpha and beta (rows and schemas) and the plugin catalogue. Also used to put the
    rows back after a transactional test's flush emptied the public tables (the schemas survive
    a flush)."""
    from plugins.catalogue import plugins_sync
    from tenancy.services import tenant_provision

    plugins_sync()

    tenant_provision(
        name="Alpha Salon", schema_name="alpha", domain=HOST_A, subscription_tier="BUSINESS"
    )
    tenant_provision(
        name="Beta Clinic", schema_name="beta", domain=HOST_B, subscription_tier="BUSINESS"
    )
    connection.set_schema_to_public()


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup: None, django_db_blocker: Any) -> None:
    with django_db_blocker.unblock():
        provision_session_tenants()


def _flushes_the_database(item: pytest.Item) -> bool:
    marker = item.get_closest_marker("django_db")
    transactional_mark = marker is not None and bool(
        marker.kwargs.get("transaction") or (marker.args and marker.args[0])
    )
    fixtures = getattr(item, "fixturenames", ())
    return transactional_mark or "transactional_db" in fixtures or "live_server" in fixtures


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> Any:
    """A transactional test (``live_server`` included) commits for real and its teardown
    flushes every public table, ``core_tenant`` too. Once that flush is done, put the session's
    tenants back so the tests after it on this xdist worker still find alpha and beta."""
    yield
    # After the last test the session's database itself is gone: nothing to put back.
    if nextitem is None or not _flushes_the_database(item):
        return
    from pytest_django.plugin import blocking_manager_key

    with item.config.stash[blocking_manager_key].unblock():
        if not Tenant.objects.filter(schema_name="alpha").exists():
            provision_session_tenants()


@pytest.fixture(autouse=True)
def _clean_connection_state_after_each_test() -> Iterator[None]:
    from tenancy.selectors import routes_forget

    yield
    connection.set_schema_to_public()
    routes_forget()  # a test's rollback fires no signal, so cached routes may describe undone rows


@pytest.fixture
def tenant_a(db: None) -> Tenant:
    return Tenant.objects.get(schema_name="alpha")


@pytest.fixture
def tenant_b(db: None) -> Tenant:
    return Tenant.objects.get(schema_name="beta")


@pytest.fixture
def make_user(db: None) -> Callable[..., User]:
    from users.tests.factories import UserFactory

    def make(role: str, tenant: Tenant | None = None, **fields: Any) -> User:
        return UserFactory.create(role=role, tenant=tenant, **fields)

    return make


def bearer(user: User, schema: str) -> str:
    refresh = RefreshToken.for_user(user)
    refresh[TENANT_CLAIM] = schema
    return f"Bearer {refresh.access_token}"


@pytest.fixture
def api() -> Callable[..., APIClient]:
    """``api(host, user=None, issued_on=None)``: a client on ``host``, signed in with a JWT issued
    on ``issued_on`` (the host's own schema by default)."""

    def client_for(host: str, user: User | None = None, issued_on: str | None = None) -> APIClient:
        client = APIClient(HTTP_HOST=host)
        if user is not None:
            schema = issued_on or _schema_of_host(host)
            client.credentials(HTTP_AUTHORIZATION=bearer(user, schema))
        return client

    return client_for


def _schema_of_host(host: str) -> str:
    return {PLATFORM_HOST: "public", HOST_A: "alpha", HOST_B: "beta"}[host]


@pytest.fixture
def local_media(settings, tmp_path: Path) -> Path:
    """Media on local disk in a temporary MEDIA_ROOT (what runs without a bucket)."""
    settings.MEDIA_ROOT = tmp_path
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "core.storage.TenantFileSystemStorage"},
    }
    return tmp_path
