"""Every list's pagination: ``?page=`` (1-based) and ``?page_size=`` (1 to 200). A value that is
not such a number is a 400 with a field error, never silently replaced; a page past the last is
a 404."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request


def _whole_number(request: Request, name: str, maximum: int | None = None) -> int | None:
    raw = request.query_params.get(name, "").strip()
    if not raw:
        return None
    bound = f" from 1 to {maximum}" if maximum else " from 1 up"
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value < 1 or (maximum is not None and value > maximum):
        raise serializers.ValidationError({name: [f"Give a whole number{bound}."]})
    return value


class DefaultPagination(PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = 200
    last_page_strings = ()

    def get_page_size(self, request: Request) -> int | None:
        size = _whole_number(request, self.page_size_query_param, self.max_page_size)
        return size or self.page_size

    def get_page_number(self, request: Request, paginator: Any) -> int:
        return _whole_number(request, self.page_query_param) or 1

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            parameter["schema"]["minimum"] = 1
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"]["maximum"] = self.max_page_size
        return parameters
