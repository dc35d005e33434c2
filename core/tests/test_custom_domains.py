"""Custom domains against a real moto Route53 server and a real DNS server on 127.0.0.1: add,
prove, verify, serve, remove -- and never touch a DNS record the platform did not create."""

import http.client
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.db import IntegrityError

from conftest import HOST_A, HOST_B
from core.audit import audit_log_record
from core.aws import client
from core.models import AuditEvent
from core.tests.test_aws import (
    GUNICORN_WORKER_TIMEOUT_SECONDS,
    REQUEST_WORK_SECONDS,
    build_clients_now,
    quick_timeouts,
)
from tenancy.models import Domain
from tenancy.tasks import discard_custom_domain_record, verify_custom_domain, verify_custom_domains
from users.roles import Role

pytestmark = pytest.mark.django_db

TARGET = "smoothschedule.yourhost.com"


@pytest.fixture
def owner_a(make_user, tenant_a):
    return make_user(Role.TENANT_OWNER, tenant_a)


def add(api, user, name, host=HOST_A, **extra):
    return api(host, user).post("/api/domains/", {"domain": name, **extra}, format="json")


def verify(api, user, name, host=HOST_A):
    return api(host, user).post(f"/api/domains/{name}/verify/")


def security_events(settings, event):
    rows = AuditEvent.objects.filter(action=event).order_by("id")
    return [audit_log_record(row) for row in rows]


def publish_records(dns, domain_json):
    """What the tenant (and, for the CNAME, the platform's zone) makes public DNS say."""
    for record in domain_json["dns_records"]:
        dns.publish(record["name"], record["type"], record["value"])


def zone_records(aws, name, zone_id=None):
    """(type, TTL, values) of every record set the zone holds for ``name``, read with boto3."""
    page = client("route53").list_resource_record_sets(
        HostedZoneId=zone_id or aws.zone_id, StartRecordName=f"{name}.", MaxItems="100"
    )
    return [
        (rrset["Type"], rrset.get("TTL"), [value["Value"] for value in rrset["ResourceRecords"]])
        for rrset in page["ResourceRecordSets"]
        if rrset["Name"].rstrip(".") == name
    ]


def put_record(aws, name, rtype, value, ttl=60):
    """A record someone else wrote into the zone (the platform's status page, another system)."""
    client("route53").change_resource_record_sets(
        HostedZoneId=aws.zone_id,
        ChangeBatch={
            "Changes": [
                {
                    "Action": "UPSERT",
                    "ResourceRecordSet": {
                        "Name": name,
                        "Type": rtype,
                        "TTL": ttl,
                        "ResourceRecords": [{"Value": value}],
                    },
                }
            ]
        },
    )


def test_custom_domain_lifecycle_add_prove_verify_serve_remove(aws, dns, api, owner_a, settings):
    name = f"book.{aws.zone_name}"

    added = add(api, owner_a, name)
    assert added.status_code == 201, added.json()
    body = added.json()
    assert body["verification_status"] == "PENDING"
    assert body["cname_target"] == TARGET
    token = Domain.objects.get(domain=name).verification_token
    assert len(token) == 32
    assert body["dns_records"] == [
        {
            "name": f"_smoothschedule-challenge.{name}",
            "type": "TXT",
            "value": token,
            "purpose": "Proves the domain is yours; keep it published.",
        },
        {
            "name": name,
            "type": "CNAME",
            "value": TARGET,
            "purpose": "Sends the domain's visitors to the platform.",
        },
    ]
    assert "TXT" in body["instructions"]
    assert "route53_zone_id" not in body  # the platform's zone is not the tenant's business
    assert zone_records(aws, name) == [("CNAME", 300, [TARGET])]
    # Not verified yet: the host serves nothing.
    reply = api(name, owner_a, issued_on="alpha").get("/api/me/")
    assert reply.status_code == 404
    assert reply.json()["error"]["code"] == "unknown_host"

    publish_records(dns, body)
    verified = verify(api, owner_a, name)
    assert verified.status_code == 200
    assert verified.json()["verification_status"] == "VERIFIED"
    assert verified.json()["verification_checked_at"]
    assert verified.json()["verification_error"] == ""

    me = api(name, owner_a, issued_on="alpha").get("/api/me/")
    assert me.status_code == 200
    assert me.json()["tenant"] == "alpha"

    listed = api(HOST_A, owner_a).get("/api/domains/").json()["results"]
    assert [(d["domain"], d["verification_status"], len(d["dns_records"])) for d in listed] == [
        (HOST_A, None, 0),
        (name, "VERIFIED", 2),
    ]

    removed = api(HOST_A, owner_a).delete(f"/api/domains/{name}/")
    assert removed.status_code == 204
    assert zone_records(aws, name) == []
    assert not Domain.objects.filter(domain=name).exists()
    reply = api(name, owner_a, issued_on="alpha").get("/api/me/")
    assert reply.status_code == 404
    assert reply.json()["error"]["code"] == "unknown_host"
    added_event = security_events(settings, "custom_domain_added")[-1]
    assert (added_event["domain"], added_event["zone_id"]) == (name, aws.zone_id)
    assert added_event["actor"]["email"] == owner_a.email
    assert security_events(settings, "custom_domain_verified")[-1]["domain"] == name
    removed_event = security_events(settings, "custom_domain_removed")[-1]
    assert (removed_event["domain"], removed_event["record_removed"]) == (name, True)


def test_each_custom_domain_gets_its_own_token(aws, api, owner_a):
    first = add(api, owner_a, f"one.{aws.zone_name}").json()["dns_records"][0]["value"]
    second = add(api, owner_a, f"two.{aws.zone_name}").json()["dns_records"][0]["value"]
    assert first != second


@pytest.mark.parametrize(
    ("rtype", "value"), [("CNAME", "status-page.example.net"), ("A", "192.0.2.10")]
)
def test_a_name_already_in_the_zone_is_refused_with_409_and_its_record_kept(
    aws, api, owner_a, settings, rtype, value
):
    name = f"status.{aws.zone_name}"
    put_record(aws, name, rtype, value)

    response = add(api, owner_a, name)

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "dns_record_exists"
    assert zone_records(aws, name) == [(rtype, 60, [value])]
    assert not Domain.objects.filter(domain=name).exists()
    refused = security_events(settings, "custom_domain_add_refused")[-1]
    assert (refused["domain"], refused["code"]) == (name, "dns_record_exists")


def test_verification_needs_the_tenants_txt_proof_not_our_own_route53_write(
    aws, dns, api, owner_a, make_user, tenant_b
):
    name = f"claimed.{aws.zone_name}"
    body = add(api, owner_a, name).json()
    # Public DNS shows the CNAME the platform created; nobody published the ownership proof.
    dns.publish(name, "CNAME", TARGET)

    response = verify(api, owner_a, name)

    assert response.status_code == 200
    assert response.json()["verification_status"] == "FAILED"
    assert response.json()["verification_error"] == (
        f"No TXT record at _smoothschedule-challenge.{name} holds this domain's token."
    )
    reply = api(name, owner_a, issued_on="alpha").get("/api/me/")
    assert reply.status_code == 404
    assert reply.json()["error"]["code"] == "unknown_host"

    # Another domain's token proves nothing about this one.
    other = add(api, make_user(Role.TENANT_OWNER, tenant_b), f"other.{aws.zone_name}", HOST_B)
    dns.publish(f"_smoothschedule-challenge.{name}", "TXT", other.json()["dns_records"][0]["value"])
    assert verify(api, owner_a, name).json()["verification_status"] == "FAILED"

    publish_records(dns, body)
    assert verify(api, owner_a, name).json()["verification_status"] == "VERIFIED"


def test_verification_fails_when_the_cname_points_elsewhere(aws, dns, api, owner_a):
    name = f"www.{aws.zone_name}"
    body = add(api, owner_a, name).json()
    txt = body["dns_records"][0]
    dns.publish(txt["name"], "TXT", txt["value"])
    dns.publish(name, "CNAME", "elsewhere.example.net")

    response = verify(api, owner_a, name)

    assert response.json()["verification_status"] == "FAILED"
    assert response.json()["verification_error"] == (
        f"{name} points at elsewhere.example.net, not at {TARGET}."
    )


def test_verification_of_a_name_missing_from_dns_names_both_records(aws, dns, api, owner_a):
    name = f"ghost.{aws.zone_name}"
    add(api, owner_a, name)
    error = verify(api, owner_a, name).json()["verification_error"]
    assert "No TXT record" in error
    assert f"{name} has no CNAME record; point it at {TARGET}." in error


def test_removal_leaves_a_record_that_changed_since_the_platform_created_it(
    aws, api, owner_a, settings
):
    name = f"changed.{aws.zone_name}"
    assert add(api, owner_a, name).status_code == 201
    put_record(aws, name, "CNAME", TARGET, ttl=60)  # its owner took it over (new TTL)

    assert api(HOST_A, owner_a).delete(f"/api/domains/{name}/").status_code == 204

    assert zone_records(aws, name) == [("CNAME", 60, [TARGET])]
    assert not Domain.objects.filter(domain=name).exists()
    assert security_events(settings, "custom_domain_removed")[-1]["record_removed"] is False


def test_removing_a_domain_the_platform_created_no_record_for_leaves_dns_alone(
    aws, api, owner_a, tenant_a
):
    name = f"shell.{aws.zone_name}"
    put_record(aws, name, "CNAME", TARGET, ttl=300)  # written by hand, not by the platform
    Domain.objects.create(
        domain=name, tenant=tenant_a, is_custom_domain=True, route53_zone_id=aws.zone_id
    )

    assert api(HOST_A, owner_a).delete(f"/api/domains/{name}/").status_code == 204

    assert len(zone_records(aws, name)) == 1


def test_names_under_another_tenants_domain_are_refused(aws, api, owner_a, make_user, tenant_b):
    parent = f"shop.{aws.zone_name}"
    assert add(api, owner_a, parent).status_code == 201
    owner_b = make_user(Role.TENANT_OWNER, tenant_b)

    response = add(api, owner_b, f"checkout.{parent}", host=HOST_B)

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "domain_of_another_tenant"
    assert zone_records(aws, f"checkout.{parent}") == []
    # The domain's own tenant may add names under it.
    assert add(api, owner_a, f"checkout.{parent}").status_code == 201


def test_an_operator_cannot_put_another_tenants_zone_under_a_domain(aws, api, make_user):
    other = client("route53").create_hosted_zone(Name="zone-of-a.example.org", CallerReference="a")
    zone_id = other["HostedZone"]["Id"]
    manager = make_user(Role.PLATFORM_MANAGER)
    for_a = api(HOST_A, manager, issued_on="public").post(
        "/api/domains/",
        {"domain": "book.zone-of-a.example.org", "route53_zone_id": zone_id},
        format="json",
    )
    assert for_a.status_code == 201, for_a.json()

    for_b = api(HOST_B, manager, issued_on="public").post(
        "/api/domains/",
        {"domain": "shop.zone-of-a.example.org", "route53_zone_id": zone_id},
        format="json",
    )

    assert for_b.status_code == 400
    assert for_b.json()["error"]["code"] == "hosted_zone_of_another_tenant"


def test_adding_in_a_zone_that_does_not_exist_is_a_400_and_saves_nothing(
    aws, api, make_user, settings
):
    name = f"shop.{aws.zone_name}"
    superuser = make_user(Role.SUPERUSER)
    response = add(api, superuser, name, route53_zone_id="ZDOESNOTEXIST1")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "hosted_zone_not_found"
    assert not Domain.objects.filter(domain=name).exists()
    failed = security_events(settings, "custom_domain_add_failed")[-1]
    assert failed["domain"] == name and failed["aws_code"] == "NoSuchHostedZone"


def test_aws_text_naming_the_platforms_zone_never_reaches_the_tenant_owner(
    aws, api, owner_a, settings
):
    response = add(api, owner_a, "book.unrelated-business.org")

    assert response.status_code == 400
    assert response.json()["error"] == {
        "code": "dns_record_rejected",
        "message": (
            "The platform cannot create a DNS record for 'book.unrelated-business.org' in its "
            "DNS zone."
        ),
        "fields": {
            "domain": [
                "The platform cannot create a DNS record for 'book.unrelated-business.org' in "
                "its DNS zone."
            ]
        },
    }
    assert aws.zone_name not in response.content.decode()
    assert aws.zone_id not in response.content.decode()
    # The operator's detail is in the server log.
    failed = security_events(settings, "custom_domain_add_failed")[-1]
    assert aws.zone_name in failed["detail"]
    assert not Domain.objects.filter(domain="book.unrelated-business.org").exists()


def test_verifying_the_seeds_shell_made_domain_records_failed_with_reason(
    dns, api, owner_a, tenant_a
):
    # The seed README's own snippet: a custom domain created in the shell with its zone id.
    Domain.objects.create(
        domain="app.customdomain.com",
        tenant=tenant_a,
        is_custom_domain=True,
        route53_zone_id="Z1234567890ABC",
    )
    response = verify(api, owner_a, "app.customdomain.com")
    assert response.status_code == 200
    assert response.json()["verification_status"] == "FAILED"
    assert response.json()["verification_error"].startswith(
        "No TXT record at _smoothschedule-challenge.app.customdomain.com"
    )
    assert response.json()["verification_checked_at"]
    on_domain = api("app.customdomain.com", owner_a, issued_on="alpha")
    reply = on_domain.get("/api/me/")
    assert reply.status_code == 404
    assert reply.json()["error"]["code"] == "unknown_host"


def test_periodic_job_fails_a_verified_domain_whose_proof_disappeared(aws, dns, api, owner_a):
    name = f"app.{aws.zone_name}"
    publish_records(dns, add(api, owner_a, name).json())
    assert verify_custom_domains() == {"VERIFIED": 1}
    assert api(name, owner_a, issued_on="alpha").get("/api/me/").status_code == 200

    dns.withdraw(f"_smoothschedule-challenge.{name}", "TXT")
    assert verify_custom_domains.apply().get() == {"FAILED": 1}
    assert Domain.objects.get(domain=name).verification_error.startswith("No TXT record")
    reply = api(name, owner_a, issued_on="alpha").get("/api/me/")
    assert reply.status_code == 404
    assert reply.json()["error"]["code"] == "unknown_host"


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
        (f"{'a' * 60}.{'b' * 60}.{'c' * 60}.{'d' * 50}.com", "too long"),
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


def test_tenant_owner_may_not_choose_the_hosted_zone(aws, api, owner_a):
    name = f"x.{aws.zone_name}"
    response = add(api, owner_a, name, route53_zone_id=aws.zone_id)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"
    assert "route53_zone_id" in response.json()["error"]["fields"]
    assert zone_records(aws, name) == []


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
    assert zone_records(aws, "book.other-zone.example.org", zone_id=zone_id)


@pytest.mark.parametrize("role", [Role.TENANT_MANAGER, Role.TENANT_STAFF, Role.CUSTOMER])
def test_roles_without_manage_settings_cannot_touch_domains(aws, api, make_user, tenant_a, role):
    user = make_user(role, tenant_a)
    reply = api(HOST_A, user).get("/api/domains/")
    assert reply.status_code == 403
    assert reply.json()["error"]["code"] == "permission_denied"
    reply = add(api, user, f"nope.{aws.zone_name}")
    assert reply.status_code == 403
    assert reply.json()["error"]["code"] == "permission_denied"


def test_another_tenants_owner_cannot_see_verify_or_remove_a_domain(
    aws, api, owner_a, make_user, tenant_b
):
    name = f"mine.{aws.zone_name}"
    assert add(api, owner_a, name).status_code == 201
    owner_b = make_user(Role.TENANT_OWNER, tenant_b)
    client_b = api(HOST_B, owner_b)
    reply = client_b.get(f"/api/domains/{name}/")
    assert reply.status_code == 404
    assert reply.json()["error"]["code"] == "not_found"
    reply = client_b.post(f"/api/domains/{name}/verify/")
    assert reply.status_code == 404
    assert reply.json()["error"]["code"] == "not_found"
    reply = client_b.delete(f"/api/domains/{name}/")
    assert reply.status_code == 404
    assert reply.json()["error"]["code"] == "not_found"
    assert name not in [d["domain"] for d in client_b.get("/api/domains/").json()["results"]]
    assert zone_records(aws, name)


def test_platform_domains_are_neither_verified_nor_removed_here(aws, api, owner_a):
    client_a = api(HOST_A, owner_a)
    assert client_a.post(f"/api/domains/{HOST_A}/verify/").json()["error"]["code"] == (
        "not_custom_domain"
    )
    reply = client_a.delete(f"/api/domains/{HOST_A}/")
    assert reply.status_code == 400
    assert reply.json()["error"]["code"] == "not_custom_domain"


def test_unreachable_aws_is_a_503_and_leaves_nothing_behind(aws, api, owner_a, settings):
    settings.AWS_ENDPOINT_URL = "http://127.0.0.1:9"  # discard port: nothing listens
    settings.AWS_MAX_ATTEMPTS = 1
    settings.AWS_CONNECT_TIMEOUT_SECONDS = 1
    name = f"down.{aws.zone_name}"
    response = add(api, owner_a, name)
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "aws_unavailable"
    assert response["Retry-After"] == "30"
    assert not Domain.objects.filter(domain=name).exists()
    assert security_events(settings, "custom_domain_add_failed")[-1]["domain"] == name


def test_unanswering_dns_during_the_periodic_job_keeps_the_last_outcome(
    aws, dns, api, owner_a, settings
):
    name = f"keep.{aws.zone_name}"
    publish_records(dns, add(api, owner_a, name).json())
    assert verify(api, owner_a, name).json()["verification_status"] == "VERIFIED"
    settings.CUSTOM_DOMAIN_DNS_PORT = 9  # nothing answers there
    settings.CUSTOM_DOMAIN_DNS_TASK_TIMEOUT_SECONDS = 0.3
    assert verify_custom_domains() == {"unchecked": 1}
    assert Domain.objects.get(domain=name).verification_status == "VERIFIED"


def test_failed_row_write_deletes_the_record_the_add_created(aws, api, owner_a, monkeypatch):
    name = f"race.{aws.zone_name}"

    def lose_the_race(**fields):
        raise IntegrityError("duplicate key value violates unique constraint")

    monkeypatch.setattr(Domain.objects, "create", lose_the_race)
    response = add(api, owner_a, name)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "domain_taken"
    assert zone_records(aws, name) == []


def test_without_a_hosted_zone_custom_domains_are_unavailable(api, owner_a, settings):
    settings.AWS_ROUTE53_HOSTED_ZONE_ID = ""
    response = add(api, owner_a, "book.example.com")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "custom_domains_unavailable"


def test_verify_with_unanswering_dns_answers_202_and_queues_the_check(
    aws, silent_dns, api, owner_a, settings, task_queue
):
    settings.CUSTOM_DOMAIN_DNS_TIMEOUT_SECONDS = 0.5
    name = f"slow.{aws.zone_name}"
    assert add(api, owner_a, name).status_code == 201
    domain = Domain.objects.get(domain=name)

    started = time.monotonic()
    response = verify(api, owner_a, name)
    elapsed = time.monotonic() - started

    assert response.status_code == 202
    assert response["Retry-After"] == "30"
    assert response.json()["verification_status"] == "PENDING"
    assert elapsed < 2, elapsed
    assert task_queue() == [("core.tasks.verify_custom_domain", [domain.pk])]
    assert Domain.objects.get(pk=domain.pk).verification_checked_at is None


def test_the_queued_check_records_the_outcome_once_dns_answers(aws, dns, api, owner_a):
    name = f"later.{aws.zone_name}"
    publish_records(dns, add(api, owner_a, name).json())
    domain = Domain.objects.get(domain=name)

    verify_custom_domain.apply(args=[domain.pk])

    assert Domain.objects.get(pk=domain.pk).verification_status == "VERIFIED"


def timed(call):
    started = time.monotonic()
    response = call()
    return response, time.monotonic() - started


def test_a_hung_route53_makes_adding_a_json_503_within_the_budget(
    aws, hung_endpoint, api, owner_a, settings
):
    settings.AWS_ROUTE53_ENDPOINT_URL = hung_endpoint.url
    quick_timeouts(settings)  # three attempts of 1.5 s would not fit in the 2.5 s budget
    build_clients_now()
    assert api(HOST_A, owner_a).get("/api/domains/").status_code == 200  # warm the process up

    response, elapsed = timed(lambda: add(api, owner_a, f"hung.{aws.zone_name}"))

    assert response.status_code == 503
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"]["code"] == "aws_unavailable"
    assert response["Retry-After"] == "30"
    assert hung_endpoint.attempts == 1
    assert elapsed < settings.AWS_TOTAL_TIMEOUT_SECONDS + REQUEST_WORK_SECONDS, elapsed
    assert not Domain.objects.filter(domain=f"hung.{aws.zone_name}").exists()


def test_with_the_default_timeouts_a_hung_route53_costs_seconds_not_the_worker(
    aws, hung_endpoint, api, owner_a, settings
):
    settings.AWS_ROUTE53_ENDPOINT_URL = hung_endpoint.url
    build_clients_now()
    assert api(HOST_A, owner_a).get("/api/domains/").status_code == 200  # warm the process up

    response, elapsed = timed(lambda: add(api, owner_a, f"hung.{aws.zone_name}"))

    assert response.status_code == 503
    # One attempt hangs for the read timeout (5 s); a second could not end inside the budget.
    assert hung_endpoint.attempts == 1
    assert elapsed < settings.AWS_TOTAL_TIMEOUT_SECONDS <= GUNICORN_WORKER_TIMEOUT_SECONDS / 2


def test_a_hung_route53_during_removal_is_a_503_and_the_domain_stays_pending(
    aws, hung_endpoint, api, owner_a, settings
):
    name = f"stay.{aws.zone_name}"
    assert add(api, owner_a, name).status_code == 201
    settings.AWS_ROUTE53_ENDPOINT_URL = hung_endpoint.url
    quick_timeouts(settings)
    build_clients_now()

    response, elapsed = timed(lambda: api(HOST_A, owner_a).delete(f"/api/domains/{name}/"))

    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    assert hung_endpoint.attempts == 1
    assert elapsed < settings.AWS_TOTAL_TIMEOUT_SECONDS + REQUEST_WORK_SECONDS, elapsed
    assert Domain.objects.get(domain=name).verification_status == "PENDING"


def test_verification_does_not_wait_for_a_hung_route53(
    aws, dns, hung_endpoint, api, owner_a, settings
):
    name = f"dns-only.{aws.zone_name}"
    publish_records(dns, add(api, owner_a, name).json())
    settings.AWS_ROUTE53_ENDPOINT_URL = hung_endpoint.url

    response, elapsed = timed(lambda: verify(api, owner_a, name))

    assert response.json()["verification_status"] == "VERIFIED"
    assert elapsed < 1, elapsed


class AnswerLostProxy(BaseHTTPRequestHandler):
    """Route53 whose answers to changes are lost: reads go through to moto and come back; a
    change goes through to moto -- it lands -- and its answer never comes."""

    upstream = ""
    hold: threading.Event
    landed: threading.Event

    def _forward(self) -> tuple[int, bytes, str]:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        upstream = http.client.HTTPConnection(self.upstream, timeout=5)
        try:
            upstream.request(self.command, self.path, body=body, headers=dict(self.headers))
            answer = upstream.getresponse()
            return answer.status, answer.read(), answer.getheader("Content-Type", "text/xml")
        finally:
            upstream.close()

    def do_GET(self) -> None:
        status, body, content_type = self._forward()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:
        self._forward()
        self.landed.set()
        self.hold.wait(10)

    def log_message(self, format, *args) -> None:
        pass


@pytest.fixture
def answer_lost_route53(aws):
    hold, landed = threading.Event(), threading.Event()
    upstream = aws.endpoint.removeprefix("http://")
    handler = type(
        "Proxy", (AnswerLostProxy,), {"upstream": upstream, "hold": hold, "landed": landed}
    )
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", landed
    finally:
        hold.set()
        server.shutdown()
        server.server_close()


def test_a_create_whose_answer_was_lost_is_deleted_later_when_no_domain_claims_it(
    aws, answer_lost_route53, api, owner_a, settings, task_queue
):
    name = f"lost.{aws.zone_name}"
    settings.AWS_ROUTE53_ENDPOINT_URL, change_landed = answer_lost_route53
    # The read before the CREATE goes through to moto, which a busy machine may keep waiting.
    quick_timeouts(settings, read=2.5, budget=6.0, attempts=1)

    response = add(api, owner_a, name)

    assert response.status_code == 503
    assert not Domain.objects.filter(domain=name).exists()
    assert change_landed.wait(10)
    settings.AWS_ROUTE53_ENDPOINT_URL = None  # AWS answers again
    quick_timeouts(settings, read=5.0, budget=10.0)
    assert zone_records(aws, name) == [("CNAME", 300, [TARGET])]  # the CREATE landed
    assert task_queue() == [
        ("core.tasks.discard_custom_domain_record", [aws.zone_id, name, TARGET, 300])
    ]

    discard_custom_domain_record.apply(args=[aws.zone_id, name, TARGET, 300])  # the worker's run

    assert zone_records(aws, name) == []
    assert add(api, owner_a, name).status_code == 201  # and the name can be added again


def test_a_record_a_domain_row_claims_is_not_discarded(aws, api, owner_a):
    name = f"claimed-later.{aws.zone_name}"
    assert add(api, owner_a, name).status_code == 201

    discard_custom_domain_record.apply(args=[aws.zone_id, name, TARGET, 300])

    assert len(zone_records(aws, name)) == 1
