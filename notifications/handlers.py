"""Who handles outbox events. The outbox knows its handlers only through this registry, filled
from the ``AppConfig.ready()`` of the apps above it: the platform's own handlers, which run for
every business (appointments: a guest's booking confirmation), and the installed handlers of a
tenant with the check that one is still active (plugins)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from notifications.models import OutboxEvent
from tenancy.models import Tenant


@dataclass(frozen=True)
class Outgoing:
    """One message to send: an e-mail (``recipient`` an address) or a webhook call
    (``recipient`` an endpoint's id). ``message`` is what the channel needs to send it."""

    channel: str
    recipient: str
    message: dict[str, Any] = field(default_factory=dict)


class Handler(Protocol):
    slug: str
    # Event kinds ``on_event`` wants.
    events: frozenset[str]

    def on_event(
        self, *, tenant: Tenant, event: OutboxEvent, settings: dict[str, Any]
    ) -> list[Outgoing]: ...


# One installed handler of a tenant: its slug, the handler (None: none by that slug), its
# settings and when it was installed.
Installed = tuple[str, Handler | None, dict[str, Any], datetime]
InstalledSource = Callable[[Tenant], Iterable[Installed]]


class ActiveCheck(Protocol):
    def __call__(self, *, tenant: Tenant, slug: str) -> bool: ...


_platform: dict[str, Handler] = {}
_installed: list[InstalledSource] = []
_active: list[ActiveCheck] = []


def register_platform_handler(handler: Handler) -> None:
    _platform[handler.slug] = handler


def register_installed_handlers(*, installed: InstalledSource, active: ActiveCheck) -> None:
    """``installed(tenant)``: a tenant's enabled handlers; ``active(tenant=, slug=)``: whether
    one still is (registering twice is a no-op)."""
    if installed not in _installed:
        _installed.append(installed)
    if active not in _active:
        _active.append(active)


def platform_handlers() -> dict[str, Handler]:
    """Handlers that run for every business, by the slug their deliveries carry."""
    return _platform


def installed_handlers(tenant: Tenant) -> Iterator[Installed]:
    for source in _installed:
        yield from source(tenant)


def handler_active(*, tenant: Tenant, slug: str) -> bool:
    """May deliveries by ``slug`` still go out for ``tenant``?"""
    return slug in _platform or any(active(tenant=tenant, slug=slug) for active in _active)
