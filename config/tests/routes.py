"""Every (route, method) a tenant host answers, read from the URL router itself, plus what the
generated tests need to call each one: URL arguments and a valid body built from a world.

A new endpoint appears here by itself; the isolation and role tests then fail until it has
a body (if it takes one) and a row in the role matrix.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.db import connection
from django.urls import URLPattern, URLResolver, reverse

from appointments.manage_links import manage_token
from appointments.services.offers import claim_token
from appointments.tests.group import issue13_objects
from appointments.tests.world import World
from closures.tests.world import world_closure
from config import urls_platform, urls_tenant
from plugins.tests.world import plugin_objects, plugin_token

URLCONF = "config.urls_tenant"
# Answer without credentials by design: the index, sign-in, the schema and docs, the secret-URL
# feed.
PUBLIC_ROUTES = frozenset(
    {
        "index", "api-index", "token-obtain", "token-refresh", "token-revoke", "session", "schema",
        "docs", "calendar-feed", "unsubscribe", "review-submit", "waitlist-claim",
    }
)  # fmt: skip
# URL arguments that name the same thing on every host (a catalogue plugin, an e-mail template
# kind), not one tenant's record: such a route answers on A's host for A, whatever B holds.
SHARED_KWARGS = frozenset({"slug", "kind"})
# Browser pages signed in by the session cookie alone (core's masquerade pages): API credentials
# mean nothing to them, so on another tenant's host they must simply not succeed.
SESSION_ROUTES = frozenset(
    {"masquerade-enter", "masquerade-landing", "hijack:acquire", "hijack:release"}
)


@dataclass(frozen=True)
class Route:
    name: str
    method: str
    kwargs: tuple[str, ...]

    @property
    def id(self) -> str:
        return f"{self.method.upper()} {self.name}"


def _patterns(patterns: list[Any], namespace: str = "") -> Iterator[tuple[str, URLPattern]]:
    for entry in patterns:
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from _patterns(entry.url_patterns, inner)
        else:
            yield f"{namespace}{entry.name}", entry


def _methods(callback: Any) -> list[str]:
    actions = getattr(callback, "actions", None)
    view_class = getattr(callback, "cls", None) or getattr(callback, "view_class", None)
    allowed = set(getattr(view_class, "http_method_names", []))
    if actions:  # a viewset route: the router's method -> action map
        return sorted(m for m in actions if m in allowed)
    return sorted(m for m in allowed if m not in ("options", "head") and hasattr(view_class, m))


def tenant_routes() -> list[Route]:
    return _routes(urls_tenant.urlpatterns)


def platform_routes() -> list[Route]:
    return _routes(urls_platform.urlpatterns)


def view_classes(urlconf: Any) -> dict[str, tuple[type, dict[str, Any]]]:
    """Each route name of ``urlconf`` (a module) and its view class with its init arguments."""
    found = {}
    for name, pattern in _patterns(urlconf.urlpatterns):
        callback = pattern.callback
        view_class = getattr(callback, "cls", None) or getattr(callback, "view_class", None)
        if view_class is not None:
            found[name] = (view_class, getattr(callback, "initkwargs", None) or {})
    return found


def _routes(urlpatterns: list[Any]) -> list[Route]:
    routes = []
    for name, pattern in _patterns(urlpatterns):
        kwargs = tuple(sorted(pattern.pattern.regex.groupindex))
        for method in _methods(pattern.callback):
            routes.append(Route(name, method, kwargs))
    return sorted(routes, key=lambda r: r.id)


def api_key_of(world: World) -> Any:
    """The world's tenant's API key (its owner's), made on first use."""
    from apikeys.models import APIKey
    from apikeys.services import api_key_create

    key = APIKey.objects.filter(tenant=world.tenant, name="world key").first()
    if key is None:
        key = api_key_create(
            tenant=world.tenant, actor=world.owner, name="world key", scopes=["customers:read"]
        ).key
    return key


# Which object of a world each detail route is about.
DETAIL_OBJECTS: dict[str, Callable[[World], Any]] = {
    # Before "appointment": its routes start with "appointment-" too.
    "appointment-series": lambda w: issue13_objects(w)[0].public_id,
    "waitlist-entry": lambda w: issue13_objects(w)[1].public_id,
    "resource": lambda w: w.stylist.public_id,
    "date-override": lambda w: w.override.public_id,
    "service": lambda w: w.cut.public_id,
    "customer": lambda w: w.customer.public_id,
    "appointment": lambda w: w.appointment.public_id,
    "blocker": lambda w: w.blocker.public_id,
    "charge": lambda w: w.charge.public_id,
    "closure": lambda w: world_closure(w).public_id,
    "webhook-endpoint": lambda w: plugin_objects(w).endpoint.public_id,
    "delivery": lambda w: plugin_objects(w).delivery.public_id,
    "review": lambda w: plugin_objects(w).review.public_id,
    "api-key": lambda w: api_key_of(w).public_id,
}


def url_for(route: Route, world: World) -> str:
    if not route.kwargs:
        return reverse(route.name, urlconf=URLCONF)
    if route.name == "calendar-feed":
        return reverse(route.name, urlconf=URLCONF, kwargs={"token": world.stylist.ical_token})
    if route.kwargs == ("slug",):  # the marketplace's routes name a plugin
        return reverse(route.name, urlconf=URLCONF, kwargs={"slug": "webhooks"})
    if route.kwargs == ("kind",):  # an e-mail template
        return reverse(route.name, urlconf=URLCONF, kwargs={"kind": "reminder"})
    if route.name == "waitlist-claim":  # a waitlist offer's claim link
        entry = issue13_objects(world)[1]
        token = claim_token(tenant=world.tenant, entry=entry)
        return reverse(route.name, urlconf=URLCONF, kwargs={"token": token})
    if route.kwargs == ("token",):  # the signed links in customers' e-mails
        return reverse(route.name, urlconf=URLCONF, kwargs={"token": plugin_token(route, world)})
    if route.kwargs == ("domain",):  # core's domain routes name a domain of the host's tenant
        domain = world.tenant.domains.get(is_primary=True).domain
        return reverse(route.name, urlconf=URLCONF, kwargs={"domain": domain})
    basename = route.name.rsplit("-", 1)[0]
    for prefix, getter in DETAIL_OBJECTS.items():
        if basename == prefix or route.name.startswith(prefix + "-"):
            return reverse(route.name, urlconf=URLCONF, kwargs={"id": getter(world)})
    raise LookupError(f"No world object for route {route.name}: add it to DETAIL_OBJECTS")


def _iso(world: World, hour: int) -> str:
    return world.at(hour).isoformat()


# The public booking page's routes (appointments.api.public): open to anyone, signed in or not,
# while the business has public booking on.
PUBLIC_BOOKING_ROUTES = frozenset(
    {
        "public-services", "public-availability", "public-holds", "public-bookings",
        "public-manage", "public-manage-cancel", "public-manage-reschedule",
    }
)  # fmt: skip


def open_public_booking(*tenants: Any) -> None:
    """Switch public booking on for ``tenants`` (every worker's next request sees it)."""
    from tenancy.models import Tenant
    from tenancy.selectors import routes_changed

    for tenant in tenants:
        Tenant.objects.filter(pk=tenant.pk).update(public_booking_enabled=True)
        routes_changed(tenant.domains.values_list("domain", flat=True))


def _manage(world: World, purpose: str) -> str:
    return manage_token(tenant=world.tenant, appointment=world.appointment, purpose=purpose)


# A valid body for each (route, method) that takes one, from the world it is sent to.
BODIES: dict[tuple[str, str], Callable[[World], dict[str, Any]]] = {
    ("token-obtain", "post"): lambda w: {
        "email": w.owner.email,
        "password": "correct-horse-battery-staple",
    },
    ("session", "post"): lambda w: {
        "email": w.owner.email,
        "password": "correct-horse-battery-staple",
    },
    ("token-refresh", "post"): lambda w: {"refresh": "not-a-token"},
    ("token-revoke", "post"): lambda w: {"refresh": "not-a-token"},
    # The signed-in user's own password (every test user's), so no failure is counted against it.
    ("password-change", "post"): lambda w: {
        "old_password": "correct-horse-battery-staple",
        "new_password": "another-long-passphrase-2026",
    },
    ("tenant-users", "post"): lambda w: {
        "email": "new-person@example.com",
        "password": "long-enough-password-1",
        "role": "CUSTOMER",
    },
    ("billing-settings", "patch"): lambda w: {"cancellation_window_hours": 12},
    ("tenant-settings", "patch"): lambda w: {"cors_allowed_origins": ["https://book.example.com"]},
    ("resource-list", "post"): lambda w: {
        "name": "New room",
        "type": "ROOM",
        "user": str(w.staff.public_id),
    },
    ("resource-detail", "patch"): lambda w: {"name": "Renamed"},
    ("date-override-list", "post"): lambda w: {
        "resource": str(w.room.public_id),
        "date": str(w.day + timedelta(days=5)),
        "is_closed": True,
    },
    ("date-override-detail", "patch"): lambda w: {"note": "changed"},
    ("service-list", "post"): lambda w: {
        "name": "New service",
        "duration_minutes": 30,
        "price": "5.00",
        "requirements": [{"resource_type": "ROOM", "eligible_resources": [str(w.room.public_id)]}],
    },
    ("service-detail", "patch"): lambda w: {"description": "changed"},
    ("customer-list", "post"): lambda w: {
        "name": "New customer",
        "user": str(w.customer_user.public_id),
    },
    ("customer-detail", "patch"): lambda w: {"notes": "changed"},
    ("appointment-list", "post"): lambda w: {
        "service": str(w.cut.public_id),
        "customer": str(w.customer.public_id),
        "starts_at": _iso(w, 15),
        "resources": [str(w.stylist.public_id)],
    },
    ("appointment-detail", "patch"): lambda w: {"notes": "changed"},
    ("appointment-series-list", "post"): lambda w: {
        "service": str(w.cut.public_id),
        "customer": str(w.customer.public_id),
        "starts_at": _iso(w, 15),
        "rrule": "FREQ=WEEKLY;COUNT=2",
        "resources": [str(w.stylist.public_id)],
    },
    ("appointment-series-cancel", "post"): lambda w: {"scope": "all"},
    ("appointment-series-reschedule", "post"): lambda w: {
        "scope": "all",
        "starts_at": w.at(18, days=1).isoformat(),
    },
    # Both stylists are booked at 10:00: the treatment is full then.
    ("waitlist-entry-list", "post"): lambda w: {
        "service": str(w.treatment.public_id),
        "customer": str(w.customer.public_id),
        "starts_at": _iso(w, 10),
    },
    ("appointment-reschedule", "post"): lambda w: {"starts_at": _iso(w, 16)},
    ("blocker-list", "post"): lambda w: {
        "resource": str(w.stylist.public_id),
        "starts_at": _iso(w, 17),
        "ends_at": _iso(w, 18),
    },
    ("blocker-detail", "patch"): lambda w: {"title": "changed"},
    ("charge-detail", "patch"): lambda w: {"status": "PAID"},
    ("closure-list", "post"): lambda w: {
        "title": "Holiday",
        "starts_at": w.at(0, days=5).isoformat(),
        "ends_at": w.at(0, days=6).isoformat(),
    },
    ("closure-detail", "patch"): lambda w: {"title": "changed"},
    ("plugin-install", "post"): lambda w: {
        "accepted_permissions": ["appointments.read", "customers.read", "network.outbound"],
    },
    ("plugin-rating", "put"): lambda w: {"score": 4, "comment": "Good"},
    ("installed-plugin-detail", "patch"): lambda w: {"enabled": True},
    ("webhook-endpoint-list", "post"): lambda w: {"url": "https://93.184.215.14/hook"},
    ("webhook-endpoint-detail", "patch"): lambda w: {"description": "changed"},
    ("review-reply", "post"): lambda w: {"reply": "Thank you"},
    ("review-submit", "post"): lambda w: {"rating": 5},
    ("email-template", "put"): lambda w: {
        "subject": "See you {{ appointment.starts_at }}",
        "text_body": "Hi {{ customer.name }}",
        "html_body": "<p>Hi {{ customer.name }}</p>",
    },
    ("customer-preference", "put"): lambda w: {"timezone": "Europe/Berlin"},
    ("api-key-list", "post"): lambda w: {"name": "Booking site", "scopes": ["appointments:read"]},
    ("public-holds", "post"): lambda w: {"service": str(w.cut.public_id), "starts_at": _iso(w, 15)},
    ("public-bookings", "post"): lambda w: {
        "service": str(w.cut.public_id),
        "starts_at": _iso(w, 15),
        "name": "Gina Guest",
        "email": "gina@example.com",
    },
    ("public-manage", "post"): lambda w: {"token": _manage(w, "view")},
    ("public-manage-cancel", "post"): lambda w: {"token": _manage(w, "cancel")},
    ("public-manage-reschedule", "post"): lambda w: {
        "token": _manage(w, "reschedule"),
        "starts_at": _iso(w, 16),
    },
}
QUERIES: dict[tuple[str, str], Callable[[World], dict[str, Any]]] = {
    ("availability", "get"): lambda w: {
        "service": str(w.cut.public_id), "start": str(w.day), "end": str(w.day),
    },
    ("public-availability", "get"): lambda w: {
        "service": str(w.cut.public_id), "start": str(w.day), "end": str(w.day),
    },
}  # fmt: skip


def call(client: Any, route: Route, world: World, host: str) -> Any:
    """Send ``route`` to ``host`` with the URL and body of ``world``'s objects."""
    url = url_for(route, world)
    if route.method == "get":
        query = QUERIES.get((route.name, route.method), lambda w: {})(world)
        return client.get(url, query, HTTP_HOST=host)
    body = BODIES.get((route.name, route.method), lambda w: {})(world)
    return getattr(client, route.method)(url, body, format="json", HTTP_HOST=host)


def identifiers(world: World) -> set[str]:
    """Strings that would betray one of this world's records in another tenant's response."""
    found = {
        str(obj.public_id)
        for obj in (
            world.owner, world.manager, world.staff, world.customer_user, world.stylist,
            world.stylist2, world.room, world.cut, world.treatment, world.customer,
            world.other_customer, world.appointment, world.other_appointment, world.blocker,
            world.charge, world.override, world_closure(world),
        )
    }  # fmt: skip
    assert world.stylist.ical_token is not None  # build_world rotates one in
    found.add(world.stylist.ical_token)
    found |= {str(obj.public_id) for obj in issue13_objects(world)}
    return found


TENANT_TABLES = [
    "resources_resource", "resources_workinghours", "resources_dateoverride", "catalog_service",
    "catalog_servicerequirement", "catalog_servicerequirement_eligible_resources",
    "customers_customer", "appointments_appointment", "appointments_blocker",
    "appointments_allocation", "billing_charge", "appointments_appointmentseries",
    "appointments_groupsession", "appointments_waitlistentry", "closures_closure",
]  # fmt: skip


def snapshot(schema: str, tenant_id: int) -> dict[str, str]:
    """A digest of every row of a tenant's tables, its users and its tenant row."""
    digests = {}
    with connection.cursor() as cursor:
        for table in TENANT_TABLES:
            cursor.execute(
                f"SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) FROM \"{schema}\".\"{table}\" t"  # noqa: S608, E501 - fixed names
            )
            digests[table] = cursor.fetchone()[0]
        cursor.execute(
            "SELECT md5(coalesce(string_agg(u::text, '|' ORDER BY u::text), '')) "
            "FROM public.users_user u WHERE tenant_id = %s",
            [tenant_id],
        )
        digests["users"] = cursor.fetchone()[0]
        cursor.execute("SELECT t::text FROM public.core_tenant t WHERE id = %s", [tenant_id])
        digests["tenant"] = cursor.fetchone()[0]
    return digests
