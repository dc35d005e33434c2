"""The masquerade matrix (SPEC §2.3), cell by cell: first the decision function alone, then the
same cells through the real hijack views of the admin flow."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.utils.module_loading import import_string

from access.masquerade.rules import Refusal, masquerade_refusal, may_masquerade
from conftest import HOST_A, PLATFORM_HOST
from tenancy.models import Tenant
from users.models import User
from users.roles import PLATFORM_ROLES, TENANT_ROLES, Role

ALL_ROLES = sorted(Role)
# The table as the seed writes it, spelled out rather than computed.
MAY_BECOME: dict[str, frozenset[str]] = {
    Role.SUPERUSER: frozenset(Role),
    Role.PLATFORM_SUPPORT: frozenset(
        {Role.TENANT_OWNER, Role.TENANT_MANAGER, Role.TENANT_STAFF, Role.CUSTOMER}
    ),
    Role.PLATFORM_SALES: frozenset(
        {Role.TENANT_OWNER, Role.TENANT_MANAGER, Role.TENANT_STAFF, Role.CUSTOMER}
    ),  # demo accounts only
    Role.TENANT_OWNER: frozenset({Role.TENANT_MANAGER, Role.TENANT_STAFF}),  # same tenant only
}


@dataclass(frozen=True)
class Cell:
    hijacker_role: str
    target_role: str
    same_tenant: bool
    temporary: bool
    target_active: bool

    @property
    def expected(self) -> bool:
        if not self.target_active:
            return False
        if self.target_role == Role.SUPERUSER and self.hijacker_role != Role.SUPERUSER:
            return False
        if self.target_role not in MAY_BECOME.get(self.hijacker_role, frozenset()):
            return False
        if self.hijacker_role == Role.PLATFORM_SALES and not self.temporary:
            return False
        return not (self.hijacker_role == Role.TENANT_OWNER and not self.same_tenant)

    def __str__(self) -> str:
        where = "same" if self.same_tenant else "other"
        return (
            f"{self.hijacker_role}->{self.target_role}-{where}-"
            f"{'temp' if self.temporary else 'real'}-{'active' if self.target_active else 'off'}"
        )


def _cells() -> list[Cell]:
    cells = set()
    for hijacker, target, same, temp, active in itertools.product(
        ALL_ROLES, ALL_ROLES, (True, False), (True, False), (True, False)
    ):
        # "Same or other tenant" only means something when both people belong to a tenant.
        both_tenant = hijacker in TENANT_ROLES and target in TENANT_ROLES
        cells.add(Cell(hijacker, target, same if both_tenant else False, temp, active))
    return sorted(cells, key=str)


EVERY_CELL = _cells()


def _person(pk: int, role: str, tenant: Tenant | None, **fields) -> User:
    return User(pk=pk, email=f"p{pk}@example.com", role=role, tenant=tenant, **fields)


def _tenants() -> tuple[Tenant, Tenant]:
    return Tenant(pk=1, schema_name="one", name="One"), Tenant(pk=2, schema_name="two", name="Two")


@pytest.mark.parametrize("cell", EVERY_CELL, ids=str)
def test_decision_function_follows_the_matrix(cell: Cell) -> None:
    home, other = _tenants()
    hijacker = _person(1, cell.hijacker_role, home if cell.hijacker_role in TENANT_ROLES else None)
    target_tenant = (
        (home if cell.same_tenant else other) if cell.target_role in TENANT_ROLES else None
    )
    target = _person(
        2,
        cell.target_role,
        target_tenant,
        is_temporary=cell.temporary,
        is_active=cell.target_active,
    )
    assert may_masquerade(hijacker=hijacker, hijacked=target) is cell.expected
    if not cell.target_active:
        assert masquerade_refusal(hijacker=hijacker, hijacked=target) == Refusal.TARGET_INACTIVE


def test_the_hijack_setting_points_at_the_decision_function() -> None:
    assert import_string(settings.HIJACK_PERMISSION_CHECK) is may_masquerade
    assert settings.HIJACK_AUTHORIZATION_CHECK == settings.HIJACK_PERMISSION_CHECK


@pytest.mark.parametrize("role", ALL_ROLES)
def test_nobody_may_masquerade_as_themselves(role: str) -> None:
    tenant = _tenants()[0] if role in TENANT_ROLES else None
    me = _person(1, role, tenant)
    assert masquerade_refusal(hijacker=me, hijacked=me) == Refusal.SELF


@pytest.mark.parametrize("role", ALL_ROLES)
def test_an_inactive_hijacker_may_masquerade_as_nobody(role: str) -> None:
    tenant = _tenants()[0]
    hijacker = _person(1, role, tenant if role in TENANT_ROLES else None, is_active=False)
    target = _person(2, Role.TENANT_STAFF, tenant, is_temporary=True)
    assert masquerade_refusal(hijacker=hijacker, hijacked=target) == Refusal.HIJACKER_INACTIVE


def test_someone_already_masquerading_may_not_start_again() -> None:
    superuser = _person(1, Role.SUPERUSER, None)
    target = _person(2, Role.CUSTOMER, _tenants()[0])
    # What django-hijack's middleware marks on a hijacked session's user (an attribute User does
    # not declare: django-hijack sets it on the instance at runtime).
    superuser.is_hijacked = True  # type: ignore[attr-defined]
    assert masquerade_refusal(hijacker=superuser, hijacked=target) == Refusal.ALREADY_MASQUERADING
    assert (
        masquerade_refusal(hijacker=superuser, hijacked=target, already_masquerading=True)
        == Refusal.ALREADY_MASQUERADING
    )


def test_only_a_superuser_may_become_a_superuser() -> None:
    for role in sorted(PLATFORM_ROLES - {Role.SUPERUSER}):
        refusal = masquerade_refusal(
            hijacker=_person(1, role, None), hijacked=_person(2, Role.SUPERUSER, None)
        )
        assert refusal == Refusal.TARGET_SUPERUSER
    assert may_masquerade(
        hijacker=_person(1, Role.SUPERUSER, None), hijacked=_person(2, Role.SUPERUSER, None)
    )


# The same cells through the real views: platform people press the button in the admin on the
# platform host; tenant people on their tenant's host.


def _make_pair(cell: Cell, make_user, tenant_a: Tenant, tenant_b: Tenant) -> tuple[User, User]:
    hijacker = make_user(
        cell.hijacker_role, tenant_a if cell.hijacker_role in TENANT_ROLES else None
    )
    target_tenant = (
        (tenant_a if cell.same_tenant else tenant_b) if cell.target_role in TENANT_ROLES else None
    )
    target = make_user(
        cell.target_role, target_tenant, is_temporary=cell.temporary, is_active=cell.target_active
    )
    return hijacker, target


def _follow_into_session(browser, response):
    """Follow an acquire's answer to where the masquerade lives; return that host's client."""
    location = urlsplit(response["Location"])
    if not location.netloc:
        return None
    client = browser(location.hostname)
    entered = client.get(f"{location.path}?{location.query}")
    assert entered.status_code == 302, entered.content
    return client


@pytest.mark.django_db
@pytest.mark.parametrize("cell", EVERY_CELL, ids=str)
def test_hijack_views_follow_the_matrix(
    cell: Cell, make_user, tenant_a, tenant_b, browser, masquerade_lines
) -> None:
    hijacker, target = _make_pair(cell, make_user, tenant_a, tenant_b)
    host = HOST_A if cell.hijacker_role in TENANT_ROLES else PLATFORM_HOST
    client = browser(host, hijacker)
    response = client.post("/hijack/acquire/", {"user_pk": target.pk})
    if not cell.expected:
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "masquerade_denied"
        (line,) = masquerade_lines()
        assert line["action"] == "HIJACK_DENIED"
        assert (line["hijacker_email"], line["hijacked_email"]) == (hijacker.email, target.email)
        assert client.session["_auth_user_id"] == str(hijacker.pk)
        return
    assert response.status_code == 302
    masquerading = _follow_into_session(browser, response) or client
    me = masquerading.get("/api/me/")
    assert me.status_code == 200, me.content
    assert me.json()["email"] == target.email
    assert me.json()["masquerade"]["actor"]["email"] == hijacker.email
    assert me["X-Masquerade-Actor"] == hijacker.email
    assert [line["action"] for line in masquerade_lines()] == ["HIJACK_START"]


def test_the_old_and_new_hijack_setting_names_must_agree(settings) -> None:
    from core.checks import hijack_check_names_agree

    assert hijack_check_names_agree() == []
    settings.HIJACK_AUTHORIZATION_CHECK = "hijack.permissions.superusers_only"
    (error,) = hijack_check_names_agree()
    assert error.id == "core.E001"
