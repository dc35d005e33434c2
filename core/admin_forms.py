"""Admin forms whose writes are a service's: the admin validates and shows, ``services.py``
decides and writes (with its audit), exactly as for the API."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db import transaction
from django.db.models import Model
from django.http import HttpRequest

from core.exceptions import DomainError


class ServiceForm(forms.ModelForm):
    """After the form and the model have validated the input, ``apply()`` calls the services.
    They run in a savepoint, so a refusal half-way undoes what the earlier calls wrote, and each
    refusal becomes a form error. ``save()`` returns what the services wrote; the admin's
    ``save_model`` must not save it again."""

    request: HttpRequest  # set by the ModelAdmin's get_form

    def apply(self) -> Model:
        raise NotImplementedError(f"{type(self).__name__} says which services write it")

    def _post_clean(self) -> None:
        super()._post_clean()
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
        self.save_m2m = lambda: None
        return self.instance
