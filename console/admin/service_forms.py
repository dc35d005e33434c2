"""The admin's forms whose writes are a service's (``core.admin_kit.ServiceForm``) learn who
submits them from the ModelAdmin that builds them."""

from __future__ import annotations

from typing import Any

from django import forms
from django.http import HttpRequest

from core.admin_kit import ServiceForm


def service_form_for(form: type[forms.ModelForm[Any]], request: HttpRequest) -> type[ServiceForm]:
    """``form``, the class ``ModelAdmin.get_form`` built from a ServiceForm, bound to
    ``request`` (its services' actor and audit context)."""
    if not issubclass(form, ServiceForm):
        raise TypeError(f"{form.__name__} is not a ServiceForm")
    form.request = request
    return form
