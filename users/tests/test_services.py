"""users.services: who may change whose account, checked where the write happens (the API and
the admin both come through here)."""

from __future__ import annotations

import pytest

from core.exceptions import Conflict, PermissionDenied, TierLimitExceeded
from users import services
from users.roles import Role

pytestmark = pytest.mark.django_db


def test_a_tenant_owner_cannot_change_the_role_of_another_tenants_user(
    make_user, tenant_a, tenant_b
):
    owner = make_user(Role.TENANT_OWNER, tenant_a)
    stranger = make_user(Role.TENANT_STAFF, tenant_b)
    with pytest.raises(PermissionDenied):
        services.user_change_role(
            actor=owner, user=stranger, role=Role.TENANT_MANAGER, tenant=tenant_b
        )
    stranger.refresh_from_db()
    assert stranger.role == Role.TENANT_STAFF


def test_a_tenant_owner_cannot_move_its_staff_into_another_tenant(make_user, tenant_a, tenant_b):
    owner = make_user(Role.TENANT_OWNER, tenant_a)
    staff = make_user(Role.TENANT_STAFF, tenant_a)
    with pytest.raises(PermissionDenied):
        services.user_change_role(actor=owner, user=staff, role=Role.TENANT_STAFF, tenant=tenant_b)
    staff.refresh_from_db()
    assert staff.tenant == tenant_a


def test_a_tenant_owner_cannot_create_users_in_another_tenant(make_user, tenant_a, tenant_b):
    owner = make_user(Role.TENANT_OWNER, tenant_a)
    with pytest.raises(PermissionDenied):
        services.user_create(
            actor=owner, email="intruder@example.com", role=Role.TENANT_OWNER, tenant=tenant_b
        )


def test_a_tenant_manager_cannot_deactivate_or_rename_its_owner(make_user, tenant_a):
    manager = make_user(Role.TENANT_MANAGER, tenant_a)
    owner = make_user(Role.TENANT_OWNER, tenant_a)
    with pytest.raises(PermissionDenied):
        services.user_deactivate(actor=manager, user=owner)
    with pytest.raises(PermissionDenied):
        services.user_update(actor=manager, user=owner, email="manager-now@example.com")
    owner.refresh_from_db()
    assert owner.is_active and owner.email != "manager-now@example.com"


@pytest.mark.parametrize("role", [Role.SUPERUSER, Role.PLATFORM_MANAGER, Role.TENANT_OWNER])
def test_nobody_deactivates_itself_or_changes_its_own_role(make_user, tenant_a, role):
    tenant = tenant_a if role == Role.TENANT_OWNER else None
    user = make_user(role, tenant)
    with pytest.raises(PermissionDenied):
        services.user_deactivate(actor=user, user=user)
    with pytest.raises(PermissionDenied):
        services.user_change_role(actor=user, user=user, role=Role.CUSTOMER, tenant=tenant_a)
    with pytest.raises(PermissionDenied):
        services.user_password_set(actor=user, user=user, password="another-long-passphrase")


def test_a_platform_manager_cannot_touch_a_superuser_account(make_user):
    manager = make_user(Role.PLATFORM_MANAGER)
    root = make_user(Role.SUPERUSER)
    for attempt in (
        lambda: services.user_update(actor=manager, user=root, email="mine@example.com"),
        lambda: services.user_deactivate(actor=manager, user=root),
        lambda: services.user_password_set(actor=manager, user=root, password="x-long-pass-42"),
        lambda: services.user_change_role(
            actor=manager, user=root, role=Role.PLATFORM_SALES, tenant=None
        ),
    ):
        with pytest.raises(PermissionDenied):
            attempt()
    root.refresh_from_db()
    assert root.email != "mine@example.com"
    assert root.role == Role.SUPERUSER and root.is_active


def test_anyone_edits_its_own_names_and_email_but_not_its_demo_flag(make_user, tenant_a):
    staff = make_user(Role.TENANT_STAFF, tenant_a)
    services.user_update(actor=staff, user=staff, first_name="Ada", email="Ada@Example.com")
    staff.refresh_from_db()
    assert (staff.first_name, staff.email) == ("Ada", "ada@example.com")
    with pytest.raises(PermissionDenied):
        services.user_update(actor=staff, user=staff, is_temporary=True)


def test_an_email_taken_in_another_case_is_a_conflict(make_user, tenant_a):
    owner = make_user(Role.TENANT_OWNER, tenant_a)
    make_user(Role.CUSTOMER, tenant_a, email="taken@example.com")
    staff = make_user(Role.TENANT_STAFF, tenant_a)
    with pytest.raises(Conflict):
        services.user_update(actor=owner, user=staff, email="TAKEN@example.com")


def test_promoting_a_customer_to_staff_counts_against_the_tier(make_user, tenant_a, settings):
    tenant_a.subscription_tier = "FREE"
    tenant_a.save()
    owner = make_user(Role.TENANT_OWNER, tenant_a)
    for _ in range(settings.TIER_LIMITS["FREE"]["staff_users"] - 1):
        make_user(Role.TENANT_STAFF, tenant_a)
    customer = make_user(Role.CUSTOMER, tenant_a)
    with pytest.raises(TierLimitExceeded):
        services.user_change_role(
            actor=owner, user=customer, role=Role.TENANT_STAFF, tenant=tenant_a
        )
    staff = owner.tenant.users.filter(role=Role.TENANT_STAFF).first()
    moved = services.user_change_role(
        actor=owner, user=staff, role=Role.TENANT_MANAGER, tenant=tenant_a
    )
    assert moved.role == Role.TENANT_MANAGER  # staff changing places inside the limit is fine
