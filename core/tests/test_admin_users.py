"""The admin's user pages write through users.services, like the API: the roles offered are the
ones the operator may assign, nobody changes its own role, accounts above one's own are
read-only (profile, role, activity, password), the tier's staff limit holds, and every change
is audited."""

from __future__ import annotations

import re

import pytest

from conftest import PLATFORM_HOST
from users.models import User
from users.roles import Role

pytestmark = pytest.mark.django_db

USERS = "/admin/users/user/"
NEW_PASSWORD = "a-brand-new-passphrase-42"


def change_form(user: User, **overrides) -> dict:
    """The change form as the browser posts it, with ``overrides``."""
    data = {
        "email": user.email,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "role": user.role,
        "tenant": user.tenant_id or "",
        "is_temporary": "on" if user.is_temporary else "",
        "is_active": "on" if user.is_active else "",
        **overrides,
    }
    return {key: value for key, value in data.items() if value != ""}


def offered_roles(html: str) -> set[str]:
    select = re.search(r'<select name="role".*?</select>', html, re.S)
    return set(re.findall(r'<option value="([A-Z_]+)"', select.group(0))) if select else set()


@pytest.fixture
def manager(make_user):
    return make_user(Role.PLATFORM_MANAGER)


@pytest.fixture
def superuser(make_user):
    return make_user(Role.SUPERUSER)


def test_a_platform_manager_cannot_make_itself_superuser_in_the_admin(
    browser, manager, security_lines
):
    client = browser(PLATFORM_HOST, manager)
    page = client.get(f"{USERS}{manager.pk}/change/").content.decode()
    assert offered_roles(page) == set()  # its own role is shown, not offered
    client.post(f"{USERS}{manager.pk}/change/", change_form(manager, role=Role.SUPERUSER))
    manager.refresh_from_db()
    assert manager.role == Role.PLATFORM_MANAGER
    assert not [line for line in security_lines() if line["event"] == "role_changed"]


def test_a_platform_manager_cannot_deactivate_itself_in_the_admin(browser, manager):
    client = browser(PLATFORM_HOST, manager)
    client.post(f"{USERS}{manager.pk}/change/", change_form(manager, is_active=""))
    manager.refresh_from_db()
    assert manager.is_active


def test_a_platform_manager_cannot_edit_deactivate_or_reset_a_superuser_in_the_admin(
    browser, manager, superuser
):
    client = browser(PLATFORM_HOST, manager)
    page = client.get(f"{USERS}{superuser.pk}/change/").content.decode()
    assert 'name="_save"' not in page and 'name="email"' not in page
    takeover = change_form(superuser, email="mine@example.com", is_active="")
    assert client.post(f"{USERS}{superuser.pk}/change/", takeover).status_code == 403
    password = {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    assert client.get(f"{USERS}{superuser.pk}/password/").status_code == 403
    assert client.post(f"{USERS}{superuser.pk}/password/", password).status_code == 403
    deactivate = {"action": "deactivate_selected", "_selected_action": [superuser.pk]}
    client.post(USERS, deactivate)
    superuser.refresh_from_db()
    assert superuser.email != "mine@example.com" and superuser.is_active
    assert not superuser.check_password(NEW_PASSWORD)


def test_the_admin_offers_only_the_roles_the_operator_may_assign(browser, manager, superuser):
    def offered_to(operator: User, page: str) -> set[str]:
        return offered_roles(browser(PLATFORM_HOST, operator).get(page).content.decode())

    assert offered_to(manager, f"{USERS}add/") == set(Role.values) - {Role.SUPERUSER}
    assert offered_to(superuser, f"{USERS}add/") == set(Role.values)
    assert offered_to(superuser, f"{USERS}{manager.pk}/change/") == set(Role.values)


def test_a_platform_manager_cannot_create_a_superuser_in_the_admin(browser, manager):
    response = browser(PLATFORM_HOST, manager).post(
        f"{USERS}add/",
        {
            "email": "root2@example.com",
            "role": Role.SUPERUSER,
            "password1": NEW_PASSWORD,
            "password2": NEW_PASSWORD,
        },
    )
    assert response.status_code == 200  # the form again, with the error
    assert not User.objects.filter(email="root2@example.com").exists()


def test_creating_a_user_in_the_admin_goes_through_the_service_and_is_audited(
    browser, manager, tenant_a, security_lines
):
    response = browser(PLATFORM_HOST, manager).post(
        f"{USERS}add/",
        {
            "email": "New.Staff@Example.com",
            "role": Role.TENANT_STAFF,
            "tenant": tenant_a.pk,
            "password1": NEW_PASSWORD,
            "password2": NEW_PASSWORD,
        },
    )
    assert response.status_code == 302
    created = User.objects.get(email="new.staff@example.com")
    assert created.check_password(NEW_PASSWORD) and created.tenant == tenant_a
    (line,) = [line for line in security_lines() if line["event"] == "user_created"]
    assert line["actor"]["email"] == manager.email
    assert line["target"]["email"] == created.email


def test_a_role_change_in_the_admin_is_audited_with_both_people(
    browser, manager, make_user, tenant_a, security_lines
):
    customer = make_user(Role.CUSTOMER, tenant_a)
    response = browser(PLATFORM_HOST, manager).post(
        f"{USERS}{customer.pk}/change/", change_form(customer, role=Role.TENANT_MANAGER)
    )
    assert response.status_code == 302
    customer.refresh_from_db()
    assert customer.role == Role.TENANT_MANAGER
    (line,) = [line for line in security_lines() if line["event"] == "role_changed"]
    assert (line["actor"]["email"], line["target"]["email"]) == (manager.email, customer.email)
    assert (line["previous_role"], line["role"]) == (Role.CUSTOMER, Role.TENANT_MANAGER)


def test_a_role_change_in_the_admin_keeps_the_tiers_staff_limit(
    browser, manager, make_user, tenant_a, settings
):
    tenant_a.subscription_tier = "FREE"
    tenant_a.save()
    limit = settings.TIER_LIMITS["FREE"]["staff_users"]
    for _ in range(limit):
        make_user(Role.TENANT_STAFF, tenant_a)
    customer = make_user(Role.CUSTOMER, tenant_a)
    response = browser(PLATFORM_HOST, manager).post(
        f"{USERS}{customer.pk}/change/", change_form(customer, role=Role.TENANT_STAFF)
    )
    assert response.status_code == 200
    assert "plan allows at most" in response.content.decode()
    customer.refresh_from_db()
    assert customer.role == Role.CUSTOMER


def test_a_refused_change_in_the_admin_undoes_the_parts_already_written(
    browser, manager, make_user, tenant_a, settings, security_lines
):
    tenant_a.subscription_tier = "FREE"
    tenant_a.save()
    for _ in range(settings.TIER_LIMITS["FREE"]["staff_users"]):
        make_user(Role.TENANT_STAFF, tenant_a)
    customer = make_user(Role.CUSTOMER, tenant_a)
    form = change_form(customer, first_name="Renamed", role=Role.TENANT_STAFF)
    browser(PLATFORM_HOST, manager).post(f"{USERS}{customer.pk}/change/", form)
    customer.refresh_from_db()
    assert customer.first_name != "Renamed"


def test_the_admin_never_deletes_users_and_deactivation_is_audited(
    browser, manager, make_user, tenant_a, security_lines
):
    staff = make_user(Role.TENANT_STAFF, tenant_a)
    client = browser(PLATFORM_HOST, manager)
    assert client.post(f"{USERS}{staff.pk}/delete/", {"post": "yes"}).status_code == 403
    client.post(USERS, {"action": "delete_selected", "_selected_action": [staff.pk]})
    assert User.objects.filter(pk=staff.pk).exists()
    client.post(USERS, {"action": "deactivate_selected", "_selected_action": [staff.pk]})
    staff.refresh_from_db()
    assert not staff.is_active
    (line,) = [line for line in security_lines() if line["event"] == "user_deactivated"]
    assert (line["actor"]["email"], line["target"]["email"]) == (manager.email, staff.email)


def test_an_email_change_in_the_admin_is_audited_with_the_previous_address(
    browser, manager, make_user, tenant_a, security_lines
):
    owner = make_user(Role.TENANT_OWNER, tenant_a)
    old = owner.email
    response = browser(PLATFORM_HOST, manager).post(
        f"{USERS}{owner.pk}/change/", change_form(owner, email="Owner.New@Example.com")
    )
    assert response.status_code == 302
    owner.refresh_from_db()
    assert owner.email == "owner.new@example.com"
    (line,) = [line for line in security_lines() if line["event"] == "user_updated"]
    assert line["previous_email"] == old and line["fields"] == ["email"]


def test_a_manager_sets_a_tenant_users_password_in_the_admin_and_it_is_audited(
    browser, manager, make_user, tenant_a, security_lines
):
    staff = make_user(Role.TENANT_STAFF, tenant_a)
    client = browser(PLATFORM_HOST, manager)
    assert client.get(f"{USERS}{staff.pk}/password/").status_code == 200
    weak = client.post(f"{USERS}{staff.pk}/password/", {"new_password1": "x", "new_password2": "x"})
    assert weak.status_code == 200
    password = {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    assert client.post(f"{USERS}{staff.pk}/password/", password).status_code == 302
    staff.refresh_from_db()
    assert staff.check_password(NEW_PASSWORD)
    (line,) = [line for line in security_lines() if line["event"] == "password_set"]
    assert (line["actor"]["email"], line["target"]["email"]) == (manager.email, staff.email)


def test_nobody_sets_its_own_password_without_the_current_one(browser, manager):
    client = browser(PLATFORM_HOST, manager)
    password = {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    assert client.post(f"{USERS}{manager.pk}/password/", password).status_code == 403
    manager.refresh_from_db()
    assert not manager.check_password(NEW_PASSWORD)


def test_support_and_sales_cannot_change_anyone_in_the_admin(browser, make_user, tenant_a):
    demo = make_user(Role.CUSTOMER, tenant_a, is_temporary=True)
    for role in (Role.PLATFORM_SUPPORT, Role.PLATFORM_SALES):
        client = browser(PLATFORM_HOST, make_user(role))
        response = client.post(f"{USERS}{demo.pk}/change/", change_form(demo, first_name="X"))
        assert response.status_code == 403
        assert client.get(f"{USERS}add/").status_code == 403
    demo.refresh_from_db()
    assert demo.first_name != "X"


def test_an_operator_edits_its_own_name_in_the_admin(browser, manager):
    client = browser(PLATFORM_HOST, manager)
    response = client.post(
        f"{USERS}{manager.pk}/change/",
        {"email": manager.email, "first_name": "Grace", "last_name": "Hopper"},
    )
    assert response.status_code == 302
    manager.refresh_from_db()
    assert (manager.first_name, manager.role) == ("Grace", Role.PLATFORM_MANAGER)
