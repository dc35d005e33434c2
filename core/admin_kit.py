"""Building blocks every app's admin shares: forms whose writes are a service's, read-only
admins for facts, and one look for badges. They know Django and the domain error, nothing else."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.db import transaction
from django.db.models import Model
from django.http import HttpRequest
from django.utils.html import format_html

from core.exceptions import DomainError

NEUTRAL = "#6b7280"


def badge(*, kind: str, value: str, label: str, colour: str | None) -> str:
    """``<span class="{kind}-badge {kind}-{value}">label</span>`` on a coloured pill."""
    return format_html(
        '<span class="{}-badge {}-{}" style="background:{};color:#fff;padding:2px 8px;'
        'border-radius:10px;font-size:11px;white-space:nowrap">{}</span>',
        kind,
        kind,
        value.lower(),
        colour or NEUTRAL,
        label,
    )


STATUS_COLOURS = {
    "ACTIVE": "#15803d",
    "TRIAL": "#0369a1",
    "SUSPENDED": "#b91c1c",
    "EXPIRED": "#6b7280",
    "REVOKED": "#b91c1c",
    "ENDED": "#374151",
}


def status_badge(status: str) -> str:
    return badge(
        kind="status", value=status, label=status.title(), colour=STATUS_COLOURS.get(status)
    )


class ServiceForm(forms.ModelForm):
    """After the form and the model have validated the input, ``apply()`` calls the services.
    They run in a savepoint, so a refusal half-way undoes what the earlier calls wrote, and each
    refusal becomes a form error. ``save()`` returns what the services wrote; the admin's
    ``save_model`` must not save it again."""

    request: HttpRequest  # set by the ModelAdmin's get_form

    def apply(self) -> Model:
        raise NotImplementedError(f"{type(self).__name__} says which services write it")

    def _post_clean(self) -> None:
        super()._post_clean()  # type: ignore[misc]  # Django's own hook; django-stubs omit it
        if self.errors:
            return
        try:
            with transaction.atomic():
                self.instance = self.apply()
        except DomainError as error:
            self._add_domain_error(error)

    def _add_domain_error(self, error: DomainError) -> None:
        placed = False
        for field, messages in error.fields.items():
            if field in self.fields and field not in self.errors:
                self.add_error(field, messages)
                placed = True
        if not placed:
            self.add_error(None, error.message)

    def save(self, commit: bool = True) -> Any:
        return self.instance

    def save_m2m(self) -> None:
        """Nothing left to write: the services wrote the relations too."""


class ReadOnlyAdmin(admin.ModelAdmin):
    """Audit facts: shown, never added, edited or deleted through the admin."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
