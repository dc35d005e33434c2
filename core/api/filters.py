"""Query filters every app's API shares, and the one filter backend of every list.

django-filter drops a value it cannot read (``?is_active=maybe`` filtered nothing); the backend
here refuses it instead: every list answers 400 with a field error for a filter value it cannot
parse, whatever the filter's type.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django.core.exceptions import ValidationError
from django_filters import IsoDateTimeFilter
from django_filters.fields import IsoDateTimeField
from django_filters.rest_framework import DjangoFilterBackend, FilterSet
from rest_framework import serializers


class UTCIsoDateTimeField(IsoDateTimeField):
    """An ISO-8601 query value, turned into UTC. Python accepts UTC offsets up to +-23:59,
    PostgreSQL only up to +-15:59; in UTC every valid instant can be stored and compared."""

    def to_python(self, value: object) -> datetime | None:
        try:
            parsed = super().to_python(value)
            return parsed.astimezone(UTC) if parsed is not None else None
        except OverflowError as error:  # e.g. year 1 with a positive offset
            raise ValidationError("Datetime out of range.", code="overflow") from error


class UTCIsoDateTimeFilter(IsoDateTimeFilter):
    field_class = UTCIsoDateTimeField


def _is_empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == ()


def filter_errors(filterset: FilterSet) -> dict[str, list[str]]:
    """The filterset's field errors, plus every value that was given but read as nothing (a
    boolean widget turns ``maybe`` into None, which django-filter takes for "no filter")."""
    form = filterset.form
    errors = {name: list(messages) for name, messages in form.errors.items()}
    data = filterset.data
    for name in form.fields:
        given = [v for v in data.getlist(name) if v.strip()] if name in data else []
        if given and name not in errors and _is_empty(form.cleaned_data.get(name)):
            errors[name] = [f"'{given[0]}' is not a valid value for {name}."]
    return errors


class StrictFilterBackend(DjangoFilterBackend):
    """DjangoFilterBackend that never ignores a filter value it cannot parse."""

    def filter_queryset(self, request: Any, queryset: Any, view: Any) -> Any:
        filterset = self.get_filterset(request, queryset, view)
        if filterset is None:
            return queryset
        errors = filter_errors(filterset)
        if errors:
            raise serializers.ValidationError(errors)
        return filterset.qs
