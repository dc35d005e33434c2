"""The error codes a client can meet are one documented list (core.api.errors.ERROR_CODES): the
code raises none outside it, the OpenAPI document and the README publish all of it, and `fields`
always maps a field to a list of messages."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from access import permissions
from conftest import HOST_A
from core.api.errors import ERROR_CODES, documented_code, error_body, flatten_fields
from core.api.openapi import ERROR_COMPONENT
from users.roles import (
    CAPABILITY_ACTIONS,
    OWNER_CAPABILITIES,
    PLATFORM_ROLE_CAPABILITIES,
    TENANT_ROLE_CAPABILITIES,
    Role,
    refusal_message,
)

ROOT = Path(__file__).resolve().parents[2]
SOURCE_DIRS = ["access", "apikeys", "appointments", "billing", "catalog", "closures", "config",
               "console", "core", "customers", "demo", "notifications", "plugin_data", "plugins",
               "resources", "tenancy", "users"]  # fmt: skip
# Field-level codes of Django/DRF validation errors: the response's code is "invalid" for them.
FIELD_ERROR_CALLS = {"ValidationError"}


def _sources() -> list[Path]:
    return [
        path
        for folder in SOURCE_DIRS
        for path in (ROOT / folder).rglob("*.py")
        if "tests" not in path.parts and "migrations" not in path.parts
    ]


def _name(node: ast.expr) -> str:
    return node.attr if isinstance(node, ast.Attribute) else getattr(node, "id", "")


def _raised_codes(tree: ast.AST) -> set[object]:
    """``code="..."`` of raised errors, ``json_error(status, "...")``, ``default_code = "..."``
    (whatever constant the source gives, a string or not, so a non-string code fails the test)."""
    codes: set[object] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and _name(node.func) not in FIELD_ERROR_CALLS:
            codes |= {
                keyword.value.value
                for keyword in node.keywords
                if keyword.arg == "code" and isinstance(keyword.value, ast.Constant)
            }
            arguments = node.args
            if _name(node.func) == "json_error" and isinstance(arguments[1], ast.Constant):
                codes.add(arguments[1].value)
        elif isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant):
            codes |= {node.value.value for t in node.targets if _name(t) == "default_code"}
    return codes


def test_every_code_the_api_raises_is_documented():
    raised = set()
    for path in _sources():
        raised |= _raised_codes(ast.parse(path.read_text(), filename=str(path)))
    assert {"resource_busy", "in_past", "outside_hours", "unknown_host"} <= raised
    assert raised <= set(ERROR_CODES), sorted(raised - set(ERROR_CODES))


def test_the_openapi_error_component_enumerates_every_code():
    code = ERROR_COMPONENT.schema["properties"]["error"]["properties"]["code"]
    assert code["enum"] == list(ERROR_CODES)
    for name in ERROR_CODES:
        assert f"`{name}`" in code["description"]


def test_the_readme_lists_every_code():
    readme = (ROOT / "README.md").read_text()
    missing = [code for code in ERROR_CODES if f"`{code}`" not in readme]
    assert not missing


@pytest.mark.parametrize(
    ("code", "status", "sent"),
    [("resource_busy", 409, "resource_busy"), ("no_such_thing", 409, "conflict"),
     ("password_too_short", 400, "invalid"), ("teapot", 418, "invalid"),
     ("gateway", 504, "server_error")],
)  # fmt: skip
def test_an_undocumented_code_goes_out_as_its_statuss_generic_code(code, status, sent):
    assert documented_code(code, status) == sent
    assert error_body(code, "m", status_code=status)["error"]["code"] == sent


def test_nested_field_errors_are_flattened_to_lists_of_messages():
    detail = {
        "name": ["Required."],
        "working_hours": [{}, {"start_time": ["Bad time."], "end_time": ["Bad too."]}],
        "requirements": {"0": {"eligible_resources": ["Unknown."]}},
        "tags": {"2": ["Too long."]},
        "non_field_errors": ["Nope."],
    }
    assert flatten_fields(detail) == {
        "name": ["Required."],
        "working_hours.1.start_time": ["Bad time."],
        "working_hours.1.end_time": ["Bad too."],
        "requirements.0.eligible_resources": ["Unknown."],
        "tags.2": ["Too long."],
        "non_field_errors": ["Nope."],
    }
    assert flatten_fields(["Whole body wrong."]) == {"non_field_errors": ["Whole body wrong."]}


def test_every_capability_has_a_sentence_for_refusals():
    used = set(OWNER_CAPABILITIES).union(*TENANT_ROLE_CAPABILITIES.values())
    used |= set().union(*PLATFORM_ROLE_CAPABILITIES.values())
    assert used <= set(CAPABILITY_ACTIONS)


CAPABILITY_NAME = re.compile(r"\b(view|manage|book)_[a-z]+\b")


@pytest.mark.parametrize("capabilities", [("manage_staff",), ("view_customers", "book_own")])
def test_refusals_say_what_the_user_may_not_do_not_a_capability_name(capabilities):
    message = refusal_message(*capabilities)
    assert message.startswith("Your role may not ")
    assert not CAPABILITY_NAME.search(message)
    if len(capabilities) == 1:
        assert permissions.capability_permission(capabilities[0]).message == message
    else:
        assert permissions.any_capability_permission(*capabilities).message == message


def test_staff_adding_a_person_is_told_what_they_may_not_do(api, make_user, tenant_a):
    staff = make_user(Role.TENANT_STAFF, tenant_a)
    response = api(HOST_A, staff).post(
        "/api/users/", {"email": "n@x.test", "password": "long-enough-1", "role": "CUSTOMER"},
        format="json",
    )  # fmt: skip
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"
    message = response.json()["error"]["message"]
    assert message == "Your role may not add or change this business's people."
