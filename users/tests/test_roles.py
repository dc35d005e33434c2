import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from access.permissions import any_capability_permission, capability_permission
from access.policy import GRANTABLE_ACTIONS, MASQUERADE_GUARDED_CAPABILITIES
from users.models import User
from users.roles import (
    CAPABILITY_ACTIONS,
    PLATFORM_ROLES,
    TENANT_ROLES,
    Access,
    Capability,
    Role,
    host_access,
    may_assign_role,
)

A, B = 1, 2


@pytest.mark.parametrize(
    ("role", "user_tenant", "host_tenant", "host_is_demo", "expected"),
    [
        # platform host (host_tenant None): platform roles only
        *[(r, None, None, False, Access.FULL) for r in sorted(PLATFORM_ROLES)],
        *[(r, A, None, False, Access.NONE) for r in sorted(TENANT_ROLES)],
        # tenant hosts
        (Role.SUPERUSER, None, A, False, Access.FULL),
        (Role.PLATFORM_MANAGER, None, A, False, Access.FULL),
        (Role.PLATFORM_SUPPORT, None, A, False, Access.READ),
        (Role.PLATFORM_SALES, None, A, False, Access.NONE),
        (Role.PLATFORM_SALES, None, A, True, Access.FULL),
        *[(r, A, A, False, Access.FULL) for r in sorted(TENANT_ROLES)],
        *[(r, A, B, False, Access.NONE) for r in sorted(TENANT_ROLES)],
        *[(r, A, B, True, Access.NONE) for r in sorted(TENANT_ROLES)],
    ],
)
def test_host_access_table(role, user_tenant, host_tenant, host_is_demo, expected):
    assert (
        host_access(
            role=role,
            user_tenant_id=user_tenant,
            host_tenant_id=host_tenant,
            host_is_demo=host_is_demo,
        )
        is expected
    )


@pytest.mark.parametrize("role", sorted(TENANT_ROLES))
def test_tenant_role_without_tenant_is_refused_with_the_exact_message(role, db):
    with pytest.raises(ValidationError) as error:
        User.objects.create_user(email="x@example.com", password="pw-12345678", role=role)
    assert error.value.messages == [f"Users with role {role} must be assigned to a tenant"]
    assert not User.objects.filter(email="x@example.com").exists()


@pytest.mark.parametrize("role", sorted(TENANT_ROLES))
def test_tenant_role_with_tenant_is_saved(role, tenant_a):
    user = User.objects.create_user(
        email="ok@example.com", password="pw", role=role, tenant=tenant_a
    )
    assert user.pk and user.tenant == tenant_a


@pytest.mark.parametrize("role", sorted(PLATFORM_ROLES))
def test_platform_role_with_tenant_is_refused(role, tenant_a):
    with pytest.raises(ValidationError) as error:
        User.objects.create_user(email="p@example.com", password="pw", role=role, tenant=tenant_a)
    assert error.value.messages == [f"Users with role {role} cannot be assigned to a tenant"]


@pytest.mark.parametrize("role", sorted(PLATFORM_ROLES))
def test_platform_role_without_tenant_is_saved(role, db):
    assert User.objects.create_user(email="p@example.com", password="pw", role=role).pk


@pytest.mark.parametrize("role", sorted(TENANT_ROLES))
def test_database_constraint_refuses_tenant_role_without_tenant(role, tenant_a):
    user = User.objects.create_user(
        email="c@example.com", password="pw", role=role, tenant=tenant_a
    )
    with pytest.raises(IntegrityError, match="users_role_tenant_consistent"), transaction.atomic():
        User.objects.filter(pk=user.pk).update(tenant=None)


def test_database_constraint_refuses_unknown_role(db):
    user = User.objects.create_user(email="s@example.com", password="pw", role=Role.SUPERUSER)
    with (
        pytest.raises(IntegrityError, match=r"users_role_(valid|tenant_consistent)"),
        transaction.atomic(),
    ):
        User.objects.filter(pk=user.pk).update(role="KING")


def test_email_is_unique_case_insensitively(db):
    User.objects.create_user(email="Someone@Example.com", password="pw", role=Role.SUPERUSER)
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.bulk_create([User(email="SOMEONE@example.COM", role=Role.SUPERUSER)])
    assert User.objects.get_by_natural_key("someone@EXAMPLE.com").email == "someone@example.com"


def test_createsuperuser_makes_a_superuser(db):
    from django.core.management import call_command

    call_command("createsuperuser", "--noinput", "--email=root@example.com", verbosity=0)
    user = User.objects.get(email="root@example.com")
    assert user.role == Role.SUPERUSER and user.is_superuser and user.is_staff


@pytest.mark.parametrize(
    ("actor", "target", "allowed"),
    [
        (Role.SUPERUSER, Role.SUPERUSER, True),
        (Role.PLATFORM_MANAGER, Role.SUPERUSER, False),
        (Role.PLATFORM_MANAGER, Role.TENANT_OWNER, True),
        (Role.PLATFORM_SUPPORT, Role.CUSTOMER, False),
        (Role.TENANT_OWNER, Role.TENANT_MANAGER, True),
        (Role.TENANT_OWNER, Role.PLATFORM_MANAGER, False),
        (Role.TENANT_MANAGER, Role.TENANT_OWNER, False),
        (Role.TENANT_MANAGER, Role.TENANT_STAFF, True),
        (Role.TENANT_STAFF, Role.CUSTOMER, False),
        (Role.CUSTOMER, Role.CUSTOMER, False),
    ],
)
def test_who_may_assign_which_role(actor, target, allowed):
    assert may_assign_role(actor_role=actor, target_role=target) is allowed


def test_every_capability_says_what_it_lets_one_do_and_grants_are_a_subset():
    assert set(CAPABILITY_ACTIONS) == set(Capability)
    assert all(isinstance(action, Capability) for action in GRANTABLE_ACTIONS)
    assert all(isinstance(c, Capability) for c in MASQUERADE_GUARDED_CAPABILITIES)


def test_a_capability_name_that_does_not_exist_fails_when_the_view_is_built():
    with pytest.raises(ValueError, match="manage_setting"):
        capability_permission("manage_setting")  # type: ignore[arg-type]  # the typo under test
    with pytest.raises(ValueError, match="veiw_schedule"):
        any_capability_permission(Capability.VIEW_SCHEDULE, "veiw_schedule")  # type: ignore[arg-type]
