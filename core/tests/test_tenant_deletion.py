"""Deleting a tenant with a grace period: scheduling makes its hosts answer 410 at once, an
operator can cancel until it is due, and beat's purge then drops the schema and every platform row
of the tenant, audited."""

from __future__ import annotations

from datetime import timedelta

import pytest

from access.models import PermissionGrant
from conftest import PLATFORM_HOST, connection
from console.services import tenant_deletion_execute
from console.tasks import purge_deleted_tenants
from core.models import AuditEvent
from plugins.models import PluginTemplate
from plugins.tests.helpers import install
from tenancy.models import Domain, Tenant
from tenancy.services import tenant_provision
from users.models import User
from users.roles import Role

pytestmark = pytest.mark.django_db

HOST = "doomed.localhost"


@pytest.fixture
def doomed() -> Tenant:
    tenant = tenant_provision(name="Doomed Spa", schema_name="doomed", domain=HOST)
    connection.set_schema_to_public()
    return tenant


def deletion_url(tenant: Tenant) -> str:
    return f"/api/platform/tenants/{tenant.public_id}/deletion/"


def schema_exists(name: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM information_schema.schemata WHERE schema_name = %s", [name])
        return cursor.fetchone() is not None


def test_schedule_refuses_the_host_at_once_and_cancel_restores_it(
    api, make_user, doomed, frozen_clock, settings
):
    settings.TENANT_DELETION_GRACE_DAYS = 30
    operator = api(PLATFORM_HOST, make_user(Role.PLATFORM_MANAGER))
    owner = make_user(Role.TENANT_OWNER, doomed)
    assert api(HOST, owner, issued_on="doomed").get("/api/me/").status_code == 200

    response = operator.post(deletion_url(doomed))
    assert response.status_code == 200, response.content
    due = frozen_clock.moment + timedelta(days=30)
    assert response.json()["deletion_due_at"] == due.isoformat().replace("+00:00", "Z")

    refused = api(HOST, owner, issued_on="doomed").get("/api/me/")
    assert refused.status_code == 410
    assert refused.json()["error"]["code"] == "tenant_pending_deletion"
    assert api(HOST).get("/api/services/").status_code == 410  # nobody, nothing

    again = operator.post(deletion_url(doomed))
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "already_pending_deletion"

    cancelled = operator.delete(deletion_url(doomed))
    assert cancelled.status_code == 200
    assert cancelled.json()["deletion_due_at"] is None
    assert api(HOST, owner, issued_on="doomed").get("/api/me/").status_code == 200

    nothing = operator.delete(deletion_url(doomed))
    assert nothing.status_code == 409
    assert nothing.json()["error"]["code"] == "not_pending_deletion"

    actions = list(
        AuditEvent.objects.filter(tenant_schema="doomed")
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions[-2:] == ["tenant_deletion_scheduled", "tenant_deletion_cancelled"]


@pytest.mark.parametrize("role", [Role.PLATFORM_SUPPORT, Role.PLATFORM_SALES])
def test_only_roles_that_manage_tenants_schedule_or_cancel_a_deletion(api, make_user, doomed, role):
    client = api(PLATFORM_HOST, make_user(role))
    assert client.post(deletion_url(doomed)).status_code in (403, 404)
    assert client.delete(deletion_url(doomed)).status_code in (403, 404)
    doomed.refresh_from_db()
    assert doomed.deletion_due_at is None


def test_tenant_users_cannot_schedule_a_deletion_on_the_platform_host(api, make_user, doomed):
    owner = make_user(Role.TENANT_OWNER, doomed)
    response = api(PLATFORM_HOST, owner, issued_on="doomed").post(deletion_url(doomed))
    assert response.status_code in (401, 403)
    doomed.refresh_from_db()
    assert doomed.deletion_due_at is None


def test_the_purge_waits_for_the_grace_period_then_drops_the_schema_and_the_rows(
    api, make_user, doomed, tenant_a, frozen_clock, settings
):
    settings.TENANT_DELETION_GRACE_DAYS = 7
    manager = make_user(Role.PLATFORM_MANAGER)
    support = make_user(Role.PLATFORM_SUPPORT)
    owner = make_user(Role.TENANT_OWNER, doomed)
    staff = make_user(Role.TENANT_MANAGER, doomed)
    PermissionGrant.create_grant(
        grantor=owner, grantee=staff, action="view_billing", reason="month end", tenant=doomed
    )
    installed = install(doomed, "calendar-feed").plugin
    install(tenant_a, "calendar-feed")
    assert PluginTemplate.objects.get(pk=installed.pk).install_count == 2
    assert api(PLATFORM_HOST, manager).post(deletion_url(doomed)).status_code == 200

    frozen_clock.set(frozen_clock.moment + timedelta(days=7) - timedelta(seconds=1))
    assert purge_deleted_tenants() == 0
    assert schema_exists("doomed")

    frozen_clock.set(frozen_clock.moment + timedelta(seconds=1))
    assert purge_deleted_tenants() == 1
    assert not schema_exists("doomed")
    assert not Tenant.objects.filter(pk=doomed.pk).exists()
    assert not Domain.objects.filter(domain=HOST).exists()
    assert not User.objects.filter(pk__in=[owner.pk, staff.pk]).exists()
    assert User.objects.filter(pk=support.pk).exists()
    assert schema_exists("alpha")  # the others are untouched
    assert PluginTemplate.objects.get(pk=installed.pk).install_count == 1  # alpha's
    assert api(HOST).get("/api/me/").json()["error"]["code"] == "unknown_host"

    deleted = AuditEvent.objects.get(action="tenant_deleted", tenant_schema="doomed")
    assert deleted.details["users_deleted"] == 2
    # The audit trail outlives the tenant: its earlier events are all still there.
    assert AuditEvent.objects.filter(
        tenant_schema="doomed", action="tenant_deletion_scheduled"
    ).exists()
    assert purge_deleted_tenants() == 0


def test_a_cancelled_deletion_is_never_executed(api, make_user, doomed, frozen_clock):
    operator = api(PLATFORM_HOST, make_user(Role.PLATFORM_MANAGER))
    operator.post(deletion_url(doomed))
    operator.delete(deletion_url(doomed))
    frozen_clock.set(frozen_clock.moment + timedelta(days=365))
    assert tenant_deletion_execute(tenant_id=doomed.pk) is False
    assert schema_exists("doomed")


def test_the_purge_runs_on_beats_schedule(settings):
    entries = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "core.tasks.purge_deleted_tenants" in entries


def test_the_admin_schedules_and_cancels_a_deletion_through_the_service(browser, make_user, doomed):
    client = browser(PLATFORM_HOST, make_user(Role.PLATFORM_MANAGER))
    selected = {"_selected_action": [doomed.pk]}
    response = client.post("/admin/core/tenant/", {"action": "schedule_deletion", **selected})
    assert response.status_code == 302
    doomed.refresh_from_db()
    assert doomed.deletion_due_at is not None
    client.post("/admin/core/tenant/", {"action": "cancel_deletion", **selected})
    doomed.refresh_from_db()
    assert doomed.deletion_due_at is None
    actions = AuditEvent.objects.filter(tenant_schema="doomed").values_list("action", flat=True)
    assert {"tenant_deletion_scheduled", "tenant_deletion_cancelled"} <= set(actions)


def test_support_cannot_schedule_a_deletion_in_the_admin(browser, make_user, doomed):
    client = browser(PLATFORM_HOST, make_user(Role.PLATFORM_SUPPORT))
    client.post(
        "/admin/core/tenant/", {"action": "schedule_deletion", "_selected_action": [doomed.pk]}
    )
    doomed.refresh_from_db()
    assert doomed.deletion_due_at is None


def test_the_purge_deletes_the_tenants_media_once_committed_and_nobody_elses(
    doomed, tenant_a, frozen_clock, local_media, django_capture_on_commit_callbacks
):
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage
    from django_tenants.utils import tenant_context

    with tenant_context(doomed):
        default_storage.save("photos/a.png", ContentFile(b"doomed"))
        default_storage.save("logos/b.png", ContentFile(b"doomed too"))
    with tenant_context(tenant_a):
        kept = default_storage.save("photos/a.png", ContentFile(b"alpha's"))
    Tenant.objects.filter(pk=doomed.pk).update(deletion_due_at=frozen_clock.moment)

    with django_capture_on_commit_callbacks(execute=True):
        assert tenant_deletion_execute(tenant_id=doomed.pk)

    assert not [p for p in (local_media / "tenants" / "doomed").rglob("*") if p.is_file()]
    with tenant_context(tenant_a):
        assert default_storage.exists(kept)
