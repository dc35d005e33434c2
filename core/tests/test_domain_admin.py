"""Platform staff manage custom domains in the admin: add (record written), verify now, delete."""

import pytest
from django.test import Client

from conftest import PLATFORM_HOST
from tenancy import route53
from tenancy.models import Domain
from users.roles import Role

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/core/domain/"


@pytest.fixture
def admin_client(make_user) -> Client:
    client = Client(HTTP_HOST=PLATFORM_HOST)
    client.force_login(make_user(Role.SUPERUSER))
    return client


def test_admin_domain_pages_render(aws, admin_client, tenant_a):
    assert admin_client.get(f"{CHANGELIST}add/").status_code == 200
    domain = Domain.objects.create(
        domain="page.customdomain.com", tenant=tenant_a, is_custom_domain=True
    )
    page = admin_client.get(f"{CHANGELIST}{domain.pk}/change/")
    assert page.status_code == 200
    assert "Pending" in page.content.decode()


def add_form(client, tenant, name, zone_id=""):
    return client.post(
        f"{CHANGELIST}add/",
        {
            "domain": name,
            "tenant": tenant.pk,
            "is_custom_domain": "on",
            "route53_zone_id": zone_id,
        },
        follow=True,
    )


def test_admin_adds_verifies_and_deletes_a_custom_domain(aws, dns, admin_client, tenant_a):
    name = f"admin.{aws.zone_name}"
    response = add_form(admin_client, tenant_a, name)
    assert response.status_code == 200
    domain = Domain.objects.get(domain=name)
    assert domain.is_custom_domain and domain.route53_zone_id == aws.zone_id
    assert route53.record_sets_named(zone_id=aws.zone_id, name=name)
    dns.publish(f"_smoothschedule-challenge.{name}", "TXT", domain.verification_token)
    dns.publish(name, "CNAME", "smoothschedule.yourhost.com")

    listing = admin_client.get(CHANGELIST).content.decode()
    assert "Pending" in listing and "#b26a00" in listing

    verified = admin_client.post(
        CHANGELIST, {"action": "verify_now", "_selected_action": [domain.pk]}, follow=True
    )
    assert f"Verified {name}." in verified.content.decode()
    domain.refresh_from_db()
    assert domain.verification_status == "VERIFIED" and domain.verification_checked_at
    assert "#1e7e34" in admin_client.get(CHANGELIST).content.decode()

    deleted = admin_client.post(f"{CHANGELIST}{domain.pk}/delete/", {"post": "yes"}, follow=True)
    assert deleted.status_code == 200
    assert not Domain.objects.filter(domain=name).exists()
    assert route53.record_sets_named(zone_id=aws.zone_id, name=name) == []


def test_admin_verify_now_records_failure_reason_in_red(dns, admin_client, tenant_a):
    domain = Domain.objects.create(
        domain="app.customdomain.com",
        tenant=tenant_a,
        is_custom_domain=True,
        route53_zone_id="Z1234567890ABC",
    )
    response = admin_client.post(
        CHANGELIST, {"action": "verify_now", "_selected_action": [domain.pk]}, follow=True
    )
    page = response.content.decode()
    assert "Verification failed for app.customdomain.com: No TXT record at" in page
    listing = admin_client.get(CHANGELIST).content.decode()
    assert "#c62828" in listing and "has no CNAME record" in listing


def test_admin_verify_now_says_when_dns_does_not_answer(
    silent_dns, admin_client, tenant_a, settings
):
    settings.CUSTOM_DOMAIN_DNS_TIMEOUT_SECONDS = 0.3
    domain = Domain.objects.create(
        domain="quiet.customdomain.com", tenant=tenant_a, is_custom_domain=True
    )
    response = admin_client.post(
        CHANGELIST, {"action": "verify_now", "_selected_action": [domain.pk]}, follow=True
    )
    assert "Could not check quiet.customdomain.com: DNS did not answer in time" in (
        response.content.decode()
    )
    domain.refresh_from_db()
    assert (domain.verification_status, domain.verification_checked_at) == ("PENDING", None)


def test_admin_add_refused_by_route53_shows_the_reason_and_saves_nothing(
    aws, admin_client, tenant_a
):
    name = f"nozone.{aws.zone_name}"
    response = add_form(admin_client, tenant_a, name, zone_id="ZMISSING")
    assert "Not added: The Route53 hosted zone for this domain does not exist." in (
        response.content.decode()
    )
    assert not Domain.objects.filter(domain=name).exists()


def test_admin_refuses_platform_names_as_custom_domains(aws, admin_client, tenant_a):
    response = add_form(admin_client, tenant_a, "shop.alpha.localhost")
    assert response.status_code == 200
    assert "belongs to the platform" in response.content.decode()
    assert not Domain.objects.filter(domain="shop.alpha.localhost").exists()


def test_support_staff_cannot_run_verify_now(aws, make_user, tenant_a):
    domain = Domain.objects.create(
        domain="look.customdomain.com", tenant=tenant_a, is_custom_domain=True
    )
    client = Client(HTTP_HOST=PLATFORM_HOST)
    client.force_login(make_user(Role.PLATFORM_SUPPORT))
    client.post(CHANGELIST, {"action": "verify_now", "_selected_action": [domain.pk]})
    domain.refresh_from_db()
    assert domain.verification_checked_at is None


def test_tenant_change_page_renders_with_a_logo_link(
    local_media, admin_client, tenant_a, api, make_user
):
    from core.tests.test_uploads import image_bytes, put_logo

    put_logo(api("alpha.localhost", make_user(Role.TENANT_OWNER, tenant_a)), image_bytes())
    page = admin_client.get(f"/admin/core/tenant/{tenant_a.pk}/change/").content.decode()
    assert "view (link expires)" in page and "/media/tenants/alpha/logos/" in page
