"""Custom domains against a real moto Route53 server: add, verify, serve, remove."""

import pytest
from django.db import IntegrityError

from conftest import HOST_A, HOST_B
from core import route53
from core.audit import audit_log_record
from core.aws import client
from core.models import AuditEvent, Domain
from core.tasks import verify_custom_domains
from users.roles import Role

pytestmark = pytest.mark.django_db

TARGET = "smoothschedule.yourhost.com"


@pytest.fixture
def owner_a(make_user, tenant_a):
    return make_user(Role.TENANT_OWNER, tenant_a)


def add(api, user, name, host=HOST_A, **extra):
    return api(host, user).post("/api/domains/", {"domain": name, **extra}, format="json")


def security_events(settings, event):
    rows = AuditEvent.objects.filter(action=event).order_by("id")
    return [audit_log_record(row) for row in rows]


def test_custom_domain_lifecycle_add_verify_serve_remove(aws, api, owner_a, settings):
    name = f"book.{aws.zone_name}"

    added = add(api, owner_a, name)
    assert added.status_code == 201, added.json()
    assert added.json()["verification_status"] == "PENDING"
    assert added.json()["cname_target"] == TARGET
    record = route53.cname_get(zone_id=aws.zone_id, name=name)
    assert record == route53.CnameRecord(name=name, target=TARGET, ttl=300)
    # Not verified yet: the host serves nothing.
    assert api(name, owner_a, issued_on="alpha").get("/api/me/").status_code == 404

    verified = api(HOST_A, owner_a).post(f"/api/domains/{name}/verify/")
    assert verified.status_code == 200
    assert verified.json()["verification_status"] == "VERIFIED"
    assert verified.json()["verification_checked_at"]
    assert verified.json()["verification_error"] == ""

    me = api(name, owner_a, issued_on="alpha").get("/api/me/")
    assert me.status_code == 200
    assert me.json()["tenant"] == "alpha"

    listed = api(HOST_A, owner_a).get("/api/domains/").json()["results"]
    assert [(d["domain"], d["verification_status"]) for d in listed] == [
        (HOST_A, None),
        (name, "VERIFIED"),
    ]

    removed = api(HOST_A, owner_a).delete(f"/api/domains/{name}/")
    assert removed.status_code == 204
    assert route53.cname_get(zone_id=aws.zone_id, name=name) is None
    assert not Domain.objects.filter(domain=name).exists()
    assert api(name, owner_a, issued_on="alpha").get("/api/me/").status_code == 404
    added_event = security_events(settings, "custom_domain_added")[-1]
    assert (added_event["domain"], added_event["zone_id"]) == (name, aws.zone_id)
    assert added_event["actor"]["email"] == owner_a.email
    assert security_events(settings, "custom_domain_verified")[-1]["domain"] == name
    assert security_events(settings, "custom_domain_removed")[-1]["domain"] == name


def test_adding_in_a_zone_that_does_not_exist_is_a_400_and_saves_nothing(
    aws, api, make_user, settings
):
    name = f"shop.{aws.zone_name}"
    superuser = make_user(Role.SUPERUSER)
    response = add(api, superuser, name, route53_zone_id="ZDOESNOTEXIST1")
    assert response.status_code == 400
    body = response.json()["error"]
    assert body["code"] == "hosted_zone_not_found"
    assert "ZDOESNOTEXIST1" in body["message"]
    assert not Domain.objects.filter(domain=name).exists()
    failed = security_events(settings, "custom_domain_add_failed")[-1]
    assert failed["domain"] == name and failed["aws_code"] == "NoSuchHostedZone"


def test_verifying_a_domain_whose_zone_does_not_exist_records_failed_with_reason(
    aws, api, owner_a, tenant_a
):
    # The seed README's own snippet: a custom domain created in the shell with its zone id.
    Domain.objects.create(
        domain="app.customdomain.com",
        tenant=tenant_a,
        is_custom_domain=True,
        route53_zone_id="Z1234567890ABC",
    )
    response = api(HOST_A, owner_a).post("/api/domains/app.customdomain.com/verify/")
    assert response.status_code == 200
    assert response.json()["verification_status"] == "FAILED"
    assert response.json()["verification_error"] == (
        "Route53 hosted zone 'Z1234567890ABC' does not exist."
    )
    assert response.json()["verification_checked_at"]
    on_domain = api("app.customdomain.com", owner_a, issued_on="alpha")
    assert on_domain.get("/api/me/").status_code == 404


def test_verification_fails_when_the_record_points_elsewhere(aws, api, owner_a):
    name = f"www.{aws.zone_name}"
    assert add(api, owner_a, name).status_code == 201
    route53.cname_upsert(zone_id=aws.zone_id, name=name, target="elsewhere.example.net", ttl=60)
    response = api(HOST_A, owner_a).post(f"/api/domains/{name}/verify/")
    assert response.json()["verification_status"] == "FAILED"
    assert response.json()["verification_error"] == (
        f"{name} points at elsewhere.example.net, not at {TARGET}."
    )


def test_periodic_job_fails_a_verified_domain_whose_record_disappeared(aws, api, owner_a):
    name = f"app.{aws.zone_name}"
    assert add(api, owner_a, name).status_code == 201
    assert verify_custom_domains() == {"VERIFIED": 1}
    assert api(name, owner_a, issued_on="alpha").get("/api/me/").status_code == 200

    record = route53.cname_get(zone_id=aws.zone_id, name=name)
    route53.cname_delete(zone_id=aws.zone_id, record=record)
    assert verify_custom_domains.apply().get() == {"FAILED": 1}
    domain = Domain.objects.get(domain=name)
    assert domain.verification_error.startswith(f"No CNAME record for {name}")
    assert api(name, owner_a, issued_on="alpha").get("/api/me/").status_code == 404


def test_periodic_job_is_scheduled(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["verify-custom-domains"]
    assert entry["task"] == "core.tasks.verify_custom_domains"


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("*.example.com", "Wildcard domains are not allowed."),
        ("shop.alpha.localhost", "belongs to the platform"),  # under a platform host
        ("localhost", "belongs to the platform"),
        ("demo.smoothschedule.local", "belongs to the platform"),  # the tenants' base domain
        (TARGET, "belongs to the platform"),
        (HOST_B, "belongs to the platform"),
        ("10.0.0.1", "is not a public domain name"),
        ("intranet", "is not a public domain name"),
        ("bad_name.example.com", "is not a valid host name"),
        ("http://shop.example.com", "is not a valid host name"),
    ],
)
def test_bad_domain_names_are_a_clear_400(aws, api, owner_a, name, message):
    response = add(api, owner_a, name)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_domain"
    assert message in response.json()["error"]["message"]
    assert "domain" in response.json()["error"]["fields"]
    assert not Domain.objects.filter(domain=name, is_custom_domain=True).exists()


def test_a_domain_in_use_by_another_tenant_is_a_clear_400(aws, api, owner_a, make_user, tenant_b):
    name = f"shared.{aws.zone_name}"
    assert add(api, owner_a, name).status_code == 201
    owner_b = make_user(Role.TENANT_OWNER, tenant_b)
    response = add(api, owner_b, name.upper(), host=HOST_B)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "domain_taken"
    assert Domain.objects.get(domain=name).tenant.schema_name == "alpha"


def test_a_domain_outside_the_platform_zone_is_refused_by_route53_with_a_400(aws, api, owner_a):
    response = add(api, owner_a, "book.unrelated-business.org")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "dns_record_rejected"
    assert "not permitted in zone" in response.json()["error"]["message"]
    assert not Domain.objects.filter(domain="book.unrelated-business.org").exists()


def test_tenant_owner_may_not_choose_the_hosted_zone(aws, api, owner_a):
    name = f"x.{aws.zone_name}"
    response = add(api, owner_a, name, route53_zone_id=aws.zone_id)
    assert response.status_code == 403
    assert "route53_zone_id" in response.json()["error"]["fields"]
    assert route53.cname_get(zone_id=aws.zone_id, name=name) is None


def test_platform_manager_adds_a_domain_in_a_chosen_zone(aws, api, make_user):
    other = client("route53").create_hosted_zone(Name="other-zone.example.org", CallerReference="o")
    zone_id = other["HostedZone"]["Id"]
    manager = make_user(Role.PLATFORM_MANAGER)
    response = api(HOST_A, manager, issued_on="public").post(
        "/api/domains/",
        {"domain": "book.other-zone.example.org", "route53_zone_id": zone_id},
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert response.json()["route53_zone_id"] == zone_id.removeprefix("/hostedzone/")
    assert route53.cname_get(zone_id=zone_id, name="book.other-zone.example.org") is not None


@pytest.mark.parametrize("role", [Role.TENANT_MANAGER, Role.TENANT_STAFF, Role.CUSTOMER])
def test_roles_without_manage_settings_cannot_touch_domains(aws, api, make_user, tenant_a, role):
    user = make_user(role, tenant_a)
    assert api(HOST_A, user).get("/api/domains/").status_code == 403
    assert add(api, user, f"nope.{aws.zone_name}").status_code == 403


def test_another_tenants_owner_cannot_see_verify_or_remove_a_domain(
    aws, api, owner_a, make_user, tenant_b
):
    name = f"mine.{aws.zone_name}"
    assert add(api, owner_a, name).status_code == 201
    owner_b = make_user(Role.TENANT_OWNER, tenant_b)
    client_b = api(HOST_B, owner_b)
    assert client_b.get(f"/api/domains/{name}/").status_code == 404
    assert client_b.post(f"/api/domains/{name}/verify/").status_code == 404
    assert client_b.delete(f"/api/domains/{name}/").status_code == 404
    assert name not in [d["domain"] for d in client_b.get("/api/domains/").json()["results"]]
    assert route53.cname_get(zone_id=aws.zone_id, name=name) is not None


def test_platform_domains_are_neither_verified_nor_removed_here(aws, api, owner_a):
    client_a = api(HOST_A, owner_a)
    assert client_a.post(f"/api/domains/{HOST_A}/verify/").json()["error"]["code"] == (
        "not_custom_domain"
    )
    assert client_a.delete(f"/api/domains/{HOST_A}/").status_code == 400


def test_unreachable_aws_is_a_503_and_leaves_nothing_behind(aws, api, owner_a, settings):
    settings.AWS_ENDPOINT_URL = "http://127.0.0.1:9"  # discard port: nothing listens
    settings.AWS_MAX_ATTEMPTS = 1
    settings.AWS_CONNECT_TIMEOUT_SECONDS = 1
    name = f"down.{aws.zone_name}"
    response = add(api, owner_a, name)
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "aws_unavailable"
    assert not Domain.objects.filter(domain=name).exists()
    assert security_events(settings, "custom_domain_add_failed")[-1]["domain"] == name


def test_unreachable_aws_during_verification_keeps_the_last_outcome(aws, api, owner_a, settings):
    name = f"keep.{aws.zone_name}"
    assert add(api, owner_a, name).status_code == 201
    assert api(HOST_A, owner_a).post(f"/api/domains/{name}/verify/").status_code == 200
    settings.AWS_ENDPOINT_URL = "http://127.0.0.1:9"
    settings.AWS_MAX_ATTEMPTS = 1
    response = api(HOST_A, owner_a).post(f"/api/domains/{name}/verify/")
    assert response.status_code == 503
    assert Domain.objects.get(domain=name).verification_status == "VERIFIED"
    assert verify_custom_domains() == {"unchecked": 1}


def test_failed_row_write_puts_the_route53_zone_back(aws, api, owner_a, monkeypatch):
    name = f"race.{aws.zone_name}"

    def lose_the_race(**fields):
        raise IntegrityError("duplicate key value violates unique constraint")

    monkeypatch.setattr(Domain.objects, "create", lose_the_race)
    response = add(api, owner_a, name)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "domain_taken"
    assert route53.cname_get(zone_id=aws.zone_id, name=name) is None


def test_failed_row_write_restores_a_record_that_was_there_before(aws, api, owner_a, monkeypatch):
    name = f"legacy.{aws.zone_name}"
    route53.cname_upsert(zone_id=aws.zone_id, name=name, target="old.example.net", ttl=60)
    monkeypatch.setattr(
        Domain.objects, "create", lambda **fields: (_ for _ in ()).throw(IntegrityError("lost"))
    )
    assert add(api, owner_a, name).status_code == 400
    restored = route53.cname_get(zone_id=aws.zone_id, name=name)
    assert (restored.target, restored.ttl) == ("old.example.net", 60)


def test_without_a_hosted_zone_custom_domains_are_unavailable(api, owner_a, settings):
    settings.AWS_ROUTE53_HOSTED_ZONE_ID = ""
    response = add(api, owner_a, "book.example.com")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "custom_domains_unavailable"
