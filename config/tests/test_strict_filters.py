"""Every list of both hosts answers 400 with a field error for a filter value it cannot parse,
never a 200 with the filter silently dropped. The lists and their filters are read from the URL
routers and the views' filtersets, so a new list or filter is covered the day it is added."""

from __future__ import annotations

from typing import Any

import django_filters
import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from config import urls_platform, urls_tenant
from config.tests.routes import Route, platform_routes, tenant_routes, view_classes
from conftest import HOST_A, PLATFORM_HOST, bearer
from core.api.filters import StrictFilterBackend
from users.roles import Role

# A value no filter of that kind can read. A CharFilter reads any text (the request guard
# refuses the text nobody can store), so it has no garbage of its own.
GARBAGE: list[tuple[type, str]] = [
    (django_filters.BooleanFilter, "maybe"),
    (django_filters.UUIDFilter, "not-a-uuid"),
    (django_filters.MultipleChoiceFilter, "NOT_A_CHOICE"),
    (django_filters.ChoiceFilter, "NOT_A_CHOICE"),
    (django_filters.IsoDateTimeFilter, "yesterday"),
    (django_filters.DateFilter, "2026-13-45"),
    (django_filters.NumberFilter, "many"),
]
PARSES_ANY_TEXT = (django_filters.CharFilter,)


def _list_view(route: Route, urlconf: Any) -> Any:
    view_class, initkwargs = view_classes(urlconf)[route.name]
    view = view_class(**initkwargs)
    view.action = "list"
    view.swagger_fake_view = True  # get_queryset without a request, as the schema generator does
    return view


def _filters(route: Route, urlconf: Any) -> dict[str, Any]:
    view = _list_view(route, urlconf)
    if not hasattr(view, "get_queryset"):
        return {}
    queryset = getattr(view, "queryset", None)
    queryset = view.get_queryset() if queryset is None else queryset
    filterset_class = StrictFilterBackend().get_filterset_class(view, queryset)
    return dict(filterset_class.base_filters) if filterset_class else {}


def _garbage(filter_: Any) -> str | None:
    for kind, value in GARBAGE:
        if isinstance(filter_, kind):
            return value
    if isinstance(filter_, PARSES_ANY_TEXT):
        return None
    raise AssertionError(f"No garbage value for {type(filter_).__name__}: add it to GARBAGE")


def _cases(routes: list[Route], urlconf: Any) -> list[tuple[Route, str, str]]:
    cases = []
    for route in routes:
        if route.method != "get" or route.kwargs:
            continue
        for name, filter_ in _filters(route, urlconf).items():
            value = _garbage(filter_)
            if value is not None:
                cases.append((route, name, value))
    return cases


TENANT_CASES = _cases(tenant_routes(), urls_tenant)
PLATFORM_CASES = _cases(
    [r for r in platform_routes() if not r.name.startswith("admin:")], urls_platform
)


def _case_id(case: tuple[Route, str, str]) -> str:
    route, name, value = case
    return f"{route.name}?{name}={value}"


def test_the_lists_and_filters_are_found():
    found = {(route.name, name) for route, name, _value in TENANT_CASES + PLATFORM_CASES}
    assert {
        ("resource-list", "is_active"),
        ("service-list", "is_active"),
        ("tenant-users", "is_active"),
        ("date-override-list", "is_closed"),
        ("appointment-list", "status"),
        ("platform-users", "is_active"),
        ("platform-tenants", "status"),
    } <= found


def _assert_field_error(response: Any, name: str) -> None:
    assert response.status_code == 400, (name, response.status_code, response.content[:300])
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert list(error["fields"]) == [name], error


@pytest.mark.parametrize("case", TENANT_CASES, ids=_case_id)
def test_every_business_list_refuses_a_filter_value_it_cannot_parse(case, tenant_a, make_user):
    route, name, value = case
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=bearer(make_user(Role.TENANT_OWNER, tenant_a), "alpha"))
    url = reverse(route.name, urlconf="config.urls_tenant")
    _assert_field_error(client.get(url, {name: value}, HTTP_HOST=HOST_A), name)


@pytest.mark.parametrize("case", PLATFORM_CASES, ids=_case_id)
def test_every_platform_list_refuses_a_filter_value_it_cannot_parse(case, make_user):
    route, name, value = case
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=bearer(make_user(Role.SUPERUSER), "public"))
    url = reverse(route.name, urlconf="config.urls_platform")
    _assert_field_error(client.get(url, {name: value}, HTTP_HOST=PLATFORM_HOST), name)


@pytest.mark.parametrize("url", ["/api/resources/", "/api/services/", "/api/users/"])
def test_is_active_maybe_is_a_400_not_an_ignored_filter(world_a, api, url):
    _assert_field_error(api(HOST_A, world_a.owner).get(url, {"is_active": "maybe"}), "is_active")


def test_is_closed_maybe_on_date_overrides_is_a_400(world_a, api):
    response = api(HOST_A, world_a.owner).get("/api/date-overrides/", {"is_closed": "maybe"})
    _assert_field_error(response, "is_closed")


@pytest.mark.parametrize(
    ("value", "expected"),
    [("false", {"Room 1"}), ("0", {"Room 1"}), ("True", {"Ana (stylist)", "Ben (stylist)"})],
)
def test_boolean_filters_still_filter(world_a, api, value, expected):
    client = api(HOST_A, world_a.owner)
    client.patch(f"/api/resources/{world_a.room.public_id}/", {"is_active": False}, format="json")
    results = client.get("/api/resources/", {"is_active": value}).json()["results"]
    assert {resource["name"] for resource in results} == expected


@pytest.mark.parametrize(
    ("name", "value"),
    [("page", "two"), ("page", "0"), ("page", "-1"), ("page_size", "lots"), ("page_size", "0"),
     ("page_size", "201")],
)  # fmt: skip
def test_pagination_values_it_cannot_use_are_400(world_a, api, name, value):
    response = api(HOST_A, world_a.owner).get("/api/resources/", {name: value})
    _assert_field_error(response, name)


def test_a_page_past_the_last_is_a_json_404(world_a, api):
    response = api(HOST_A, world_a.owner).get("/api/resources/", {"page": 99})
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
