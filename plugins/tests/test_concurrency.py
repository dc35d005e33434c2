"""Install counts and rating averages stay equal to a recount under concurrent installs,
uninstalls and ratings: 50 operations from 10 threads, each on its own connection."""

from __future__ import annotations

import random
import threading
from concurrent.futures import ThreadPoolExecutor
from decimal import ROUND_HALF_UP, Decimal

import pytest
from django.db import connections
from django.db.models import Avg, Count
from psycopg import sql

from conftest import connection
from core.exceptions import DomainError
from plugins.models import PluginInstallation, PluginRating, PluginTemplate
from plugins.services import plugin_install, plugin_rate, plugin_uninstall
from tenancy.models import Tenant
from tenancy.services import tenant_provision

TENANTS = 8
OPERATIONS = 50
THREADS = 10
PLUGINS = ("calendar-feed", "no-show-tracking")


@pytest.fixture
def tenants(transactional_db):
    schemas = [f"gm_conc_{i}" for i in range(TENANTS)]
    made = [
        tenant_provision(name=s, schema_name=s, domain=f"{s.replace('_', '-')}.localhost")
        for s in schemas
    ]
    yield made
    connection.set_schema_to_public()
    Tenant.objects.filter(schema_name__in=schemas).delete()
    with connection.cursor() as cursor:
        for schema in schemas:
            cursor.execute(
                sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema))
            )


def test_fifty_parallel_installs_uninstalls_and_ratings_equal_a_recount(tenants):
    rng = random.Random(12)  # fixed seed: the same mix every run
    operations = [
        (rng.choice(("install", "uninstall", "rate")), rng.choice(tenants), rng.choice(PLUGINS),
         rng.randint(1, 5))
        for _ in range(OPERATIONS)
    ]  # fmt: skip
    plugins = {p.slug: p for p in PluginTemplate.objects.filter(slug__in=PLUGINS)}
    start = threading.Barrier(THREADS)
    outcomes: list[str] = []

    def run(chunk: list[tuple]) -> None:
        start.wait()
        try:
            for action, tenant, slug, score in chunk:
                plugin = plugins[slug]
                try:
                    if action == "install":
                        plugin_install(
                            tenant=tenant, plugin=plugin, actor=None,
                            accepted_permissions=[p["code"] for p in plugin.required_permissions],
                        )  # fmt: skip
                    elif action == "uninstall":
                        plugin_uninstall(tenant=tenant, plugin=plugin, actor=None)
                    else:
                        plugin_rate(tenant=tenant, plugin=plugin, actor=None, score=score)
                    outcomes.append(f"{action}:ok")
                except DomainError:  # installing twice, uninstalling what is not there
                    outcomes.append(f"{action}:refused")
        finally:
            connections.close_all()

    chunks = [operations[i::THREADS] for i in range(THREADS)]
    with ThreadPoolExecutor(THREADS) as pool:
        list(pool.map(run, chunks))

    assert len(outcomes) == OPERATIONS
    assert {"install:ok", "uninstall:ok", "rate:ok"} <= set(outcomes)
    for slug, plugin in plugins.items():
        plugin.refresh_from_db()
        recount = PluginRating.objects.filter(plugin=plugin).aggregate(
            n=Count("id"), avg=Avg("score")
        )
        average = (
            None if recount["avg"] is None
            else Decimal(str(recount["avg"])).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
        )  # fmt: skip
        assert plugin.install_count == PluginInstallation.objects.filter(plugin=plugin).count(), (
            slug
        )
        assert plugin.rating_count == recount["n"], slug
        assert plugin.rating_average == average, slug
