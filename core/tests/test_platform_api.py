"""The operators' API on the platform host: provisioning tenants and users, and bad input."""

import pytest
from django.db import connection

from conftest import HOST_A, PASSWORD, PLATFORM_HOST
from core.models import AuditEvent
from tenancy.models import Domain, Tenant
from users.models import User
from users.roles import Role

pytestmark = pytest.mark.django_db

TENANTS = "/api/platform/tenants/"
USERS = "/api/platform/users/"


@pytest.fixture
def operator(api, make_user):
    return api(PLATFORM_HOST, make_user(Role.PLATFORM_MANAGER))


def new_tenant(**overrides):
    return {"name": "Gamma Studio", "schema_name": "gamma", "domain": "gamma.localhost"} | overrides


def test_provisioning_creates_schema_with_every_tenant_table_and_a_routable_domain(operator, api):
    response = operator.post(TENANTS, new_tenant(subscription_tier="PROFESSIONAL"), format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["schema_name"] == "gamma"
    assert body["domains"][0]["domain"] == "gamma.localhost"
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'gamma'"
        )
        assert cursor.fetchone()[0] > 0
    reply = api("gamma.localhost").get("/api/me/")
    assert reply.status_code == 401  # routed, needs a login
    assert reply.json()["error"]["code"] == "not_authenticated"


@pytest.mark.parametrize(
    "schema_name",
    ["public", "Gamma", "gamma-studio", "1gamma", "pg_catalog", "information_schema", "a" * 64, ""],
)
def test_bad_schema_names_get_400_with_a_field_error(operator, schema_name):
    response = operator.post(TENANTS, new_tenant(schema_name=schema_name), format="json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"
    assert "schema_name" in response.json()["error"]["fields"]
    assert not Tenant.objects.filter(name="Gamma Studio").exists()


@pytest.mark.parametrize(
    "domain", ["*.gamma.localhost", "http://gamma.localhost", "gamma..localhost", ""]
)
def test_bad_domains_get_400(operator, domain):
    response = operator.post(TENANTS, new_tenant(domain=domain), format="json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"
    assert "domain" in response.json()["error"]["fields"]


def test_duplicate_domain_gets_409_and_creates_nothing(operator):
    response = operator.post(TENANTS, new_tenant(domain=HOST_A.upper()), format="json")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "conflict"
    assert response.json()["error"]["fields"] == {"domain": ["This domain is taken."]}
    assert not Tenant.objects.filter(schema_name="gamma").exists()


def test_duplicate_schema_gets_409(operator):
    response = operator.post(TENANTS, new_tenant(schema_name="alpha"), format="json")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "conflict"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("subscription_tier", "GOLD"),
        ("timezone", "Mars/Olympus"),
        ("late_cancellation_fee_percent", "101"),
        ("cancellation_window_hours", -1),
    ],
)
def test_bad_tenant_fields_get_400(operator, field, value):
    response = operator.post(TENANTS, new_tenant(**{field: value}), format="json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"
    assert field in response.json()["error"]["fields"]


def test_suspending_a_tenant_is_audited(operator, tenant_a):
    response = operator.patch(
        f"{TENANTS}{tenant_a.public_id}/", {"status": "SUSPENDED"}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["status"] == "SUSPENDED"
    assert AuditEvent.objects.filter(action="tenant_suspended", tenant=tenant_a).exists()


@pytest.mark.parametrize("role", [Role.PLATFORM_SUPPORT, Role.PLATFORM_SALES])
def test_support_and_sales_cannot_provision(api, make_user, role):
    response = api(PLATFORM_HOST, make_user(role)).post(TENANTS, new_tenant(), format="json")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"


def test_sales_sees_only_demo_tenants(api, make_user, tenant_a, tenant_b):
    make_user(Role.CUSTOMER, tenant_b, is_temporary=True)
    listed = api(PLATFORM_HOST, make_user(Role.PLATFORM_SALES)).get(TENANTS).json()["results"]
    assert [t["schema_name"] for t in listed] == ["beta"]


def test_tenant_users_cannot_use_the_platform_api(api, make_user, tenant_a):
    owner = make_user(Role.TENANT_OWNER, tenant_a)
    reply = api(PLATFORM_HOST, owner, issued_on="alpha").get(TENANTS)
    assert reply.status_code == 401
    assert reply.json()["error"]["code"] == "wrong_host"


@pytest.mark.parametrize(
    ("role", "tenant", "message"),
    [
        ("TENANT_STAFF", None, "Users with role TENANT_STAFF must be assigned to a tenant"),
        ("CUSTOMER", None, "Users with role CUSTOMER must be assigned to a tenant"),
        (
            "PLATFORM_SUPPORT",
            "alpha",
            "Users with role PLATFORM_SUPPORT cannot be assigned to a tenant",
        ),
    ],
)
def test_wrong_role_tenant_pairs_get_400_with_the_exact_message(operator, role, tenant, message):
    payload = {"email": "pair@example.com", "password": PASSWORD, "role": role, "tenant": tenant}
    response = operator.post(USERS, payload, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_role_tenant"
    assert response.json()["error"]["fields"] == {"tenant": [message]}
    assert not User.objects.filter(email="pair@example.com").exists()


def test_duplicate_email_gets_409_case_insensitively(operator, make_user):
    make_user(Role.PLATFORM_SUPPORT, email="taken@example.com")
    payload = {"email": "TAKEN@example.com", "password": PASSWORD, "role": "PLATFORM_SUPPORT"}
    reply = operator.post(USERS, payload, format="json")
    assert reply.status_code == 409
    assert reply.json()["error"]["code"] == "conflict"


def test_unknown_role_and_unknown_tenant_get_400(operator):
    bad_role = {"email": "r@example.com", "password": PASSWORD, "role": "KING"}
    assert "role" in operator.post(USERS, bad_role, format="json").json()["error"]["fields"]
    bad_tenant = {
        "email": "r@example.com",
        "password": PASSWORD,
        "role": "CUSTOMER",
        "tenant": "nope",
    }
    assert operator.post(USERS, bad_tenant, format="json").json()["error"]["fields"] == {
        "tenant": ["Unknown tenant."]
    }


def test_weak_password_gets_400(operator):
    payload = {"email": "w@example.com", "password": "12345678", "role": "PLATFORM_SUPPORT"}
    response = operator.post(USERS, payload, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"
    assert "password" in response.json()["error"]["fields"]


def test_platform_manager_cannot_create_a_superuser(operator):
    payload = {"email": "god@example.com", "password": PASSWORD, "role": "SUPERUSER"}
    reply = operator.post(USERS, payload, format="json")
    assert reply.status_code == 403
    assert reply.json()["error"]["code"] == "permission_denied"


def test_tier_limit_on_staff_users_is_a_clear_403(api, make_user, tenant_a):
    tenant_a.subscription_tier = Tenant.Tier.FREE
    tenant_a.save()
    owner = make_user(Role.TENANT_OWNER, tenant_a)
    client = api(HOST_A, owner)
    statuses = [
        client.post(
            "/api/users/",
            {"email": f"s{i}@example.com", "password": PASSWORD, "role": "TENANT_STAFF"},
            format="json",
        ).status_code
        for i in range(3)
    ]
    assert statuses == [201, 201, 403]  # FREE allows 3 staff users; the owner is the first
    assert User.objects.filter(tenant=tenant_a, role="TENANT_STAFF").count() == 2


def test_domains_are_stored_lowercase_and_unique(tenant_a):
    Domain.objects.create(domain="Mixed.Example.test", tenant=tenant_a, is_primary=False)
    assert Domain.objects.filter(domain="mixed.example.test").exists()


def test_support_sees_the_tenant_users_it_helps_not_the_platform_staff(api, make_user, tenant_a):
    owner = make_user(Role.TENANT_OWNER, tenant_a)
    manager = make_user(Role.PLATFORM_MANAGER)
    support = api(PLATFORM_HOST, make_user(Role.PLATFORM_SUPPORT))
    answer = support.get(USERS, {"page_size": 100})
    assert answer.status_code == 200, answer.content
    listed = {u["email"] for u in answer.json()["results"]}
    assert owner.email in listed
    assert manager.email not in listed
