"""Every tenant schema repeats every index of the template, thousands of times over: an index that
another one of the same table already serves (its columns lead that other index) is dead weight
in every schema's catalog, provisioning and migrations."""

import pytest
from django.conf import settings
from django.db import connection

from tenancy import provisioning

pytestmark = pytest.mark.django_db

# Django's auto-created many-to-many tables index each side although their unique pair leads with
# the first; only a hand-written through model would drop it.
AUTO_CREATED = {"catalog_servicerequirement_servicerequirement_id_d3ea6dee"}


def test_no_tenant_index_is_served_by_another_index_of_its_table():
    provisioning.template_ensure()
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT c.relname, i.indrelid, i.indkey::int2[]::text,
                   pg_get_expr(i.indpred, i.indrelid), i.indisunique, a.amname
              FROM pg_index i
              JOIN pg_class c ON c.oid = i.indexrelid
              JOIN pg_am a ON a.oid = c.relam
             WHERE c.relnamespace = %s::regnamespace
            """,
            [settings.TENANT_TEMPLATE_SCHEMA],
        )
        indexes = cursor.fetchall()
    btree = [
        (name, table, keys.strip("{}").split(","), predicate, unique)
        for name, table, keys, predicate, unique, method in indexes
        if method == "btree"
    ]
    served = sorted(
        name
        for name, table, keys, predicate, unique in btree
        if not unique and predicate is None and name not in AUTO_CREATED
        for other, other_table, other_keys, other_predicate, _ in btree
        if other != name
        and other_table == table
        and other_keys[: len(keys)] == keys
        and (other_predicate is None or other_predicate.endswith("IS NOT NULL)"))
    )
    assert served == []
