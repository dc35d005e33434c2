"""The model graph keeps the rules that let tenant schemas become Citus distributed schemas
(docs/scaling.md): tenant tables point to public tables only as reference tables and without a
database foreign key across schemas; public tables never point into tenant schemas; reference
tables point only to reference tables."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.conf import settings
from django.db import models

from tenancy.sharding import BOTH_SIDES_APPS, REFERENCE_MODELS


def _label(app: str) -> str:
    return apps.get_app_config(app.rsplit(".", 1)[-1]).label


SHARED = {_label(a) for a in settings.SHARED_APPS}
TENANT = {_label(a) for a in settings.TENANT_APPS}


def _side(model: type[models.Model]) -> str:
    label = model._meta.app_label
    if label in BOTH_SIDES_APPS:
        return "both"
    return "tenant" if label in TENANT else "public"


def _relations() -> list[tuple[type[models.Model], models.Field, type[models.Model]]]:
    return [
        (model, field, field.related_model)
        for model in apps.get_models(include_auto_created=True)
        for field in model._meta.get_fields(include_hidden=True)
        if field.is_relation and field.concrete and field.related_model is not None
    ]


def _name(model: type[models.Model], field: models.Field) -> str:
    return f"{model._meta.label}.{field.name}"


def test_every_app_is_on_one_side_unless_declared_on_both():
    on_both_sides = SHARED & TENANT
    assert on_both_sides == set(BOTH_SIDES_APPS)


def test_tenant_tables_point_to_public_tables_only_as_reference_tables_without_a_database_key():
    wrong = sorted(
        f"{_name(model, field)} -> {target._meta.label}"
        for model, field, target in _relations()
        if _side(model) == "tenant"
        and _side(target) == "public"
        and (
            target._meta.label not in REFERENCE_MODELS
            or field.db_constraint
            or field.remote_field.on_delete is not models.DO_NOTHING
        )
    )
    assert wrong == []


def test_public_tables_never_point_into_tenant_schemas():
    wrong = sorted(
        f"{_name(model, field)} -> {target._meta.label}"
        for model, field, target in _relations()
        if _side(model) == "public" and _side(target) == "tenant"
    )
    assert wrong == []


def test_reference_tables_have_database_keys_only_to_reference_tables():
    wrong = sorted(
        f"{_name(model, field)} -> {target._meta.label}"
        for model, field, target in _relations()
        if model._meta.label in REFERENCE_MODELS
        and getattr(field, "db_constraint", False)
        and target._meta.label not in REFERENCE_MODELS
    )
    assert wrong == []


@pytest.mark.parametrize("label", sorted(REFERENCE_MODELS))
def test_every_reference_table_is_a_public_table_a_tenant_table_needs(label):
    model = apps.get_model(label)
    assert _side(model) == "public"
    pointed_to = {t._meta.label for m, _, t in _relations() if _side(m) == "tenant"}
    referenced = {
        t._meta.label
        for m, f, t in _relations()
        if m._meta.label in REFERENCE_MODELS and getattr(f, "db_constraint", False)
    }
    assert label in pointed_to | referenced
