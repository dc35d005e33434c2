"""Each host's OpenAPI document generates cleanly: every view describes its input, output and
authentication, so front-end developers can rely on it."""

import pytest
from django.core.management import call_command


@pytest.mark.parametrize("urlconf", ["config.urls_tenant", "config.urls_platform"])
def test_openapi_document_generates_without_warnings(urlconf, tmp_path):
    target = tmp_path / "schema.yaml"
    call_command("spectacular", "--urlconf", urlconf, "--fail-on-warn", "--file", str(target))
    text = target.read_text()
    assert "jwtAuth" in text
    assert "cookieAuth" in text


def _document(urlconf: str) -> dict:
    from drf_spectacular.generators import SchemaGenerator

    return SchemaGenerator(urlconf=urlconf).get_schema(request=None, public=True)


@pytest.fixture(scope="module")
def business() -> dict:
    return _document("config.urls_tenant")


@pytest.fixture(scope="module")
def platform() -> dict:
    return _document("config.urls_platform")


def _error_statuses(operation: dict) -> set[str]:
    return {status for status in operation["responses"] if status >= "400"}


def test_every_error_response_is_the_one_error_component(business, platform):
    for document in (business, platform):
        for path, operations in document["paths"].items():
            for method, operation in operations.items():
                for status in _error_statuses(operation):
                    content = operation["responses"][status]["content"]
                    schema = content["application/json"]["schema"]
                    assert schema == {"$ref": "#/components/schemas/Error"}, (method, path, status)
                    assert operation["responses"][status]["description"], (method, path, status)


def test_booking_documents_the_errors_it_can_answer(business):
    create = business["paths"]["/api/appointments/"]["post"]
    assert {"400", "401", "403", "409", "413", "415"} <= _error_statuses(create)
    assert "outside_hours" in create["responses"]["400"]["description"]
    assert "resource_busy" in create["responses"]["409"]["description"]
    detail = business["paths"]["/api/appointments/{id}/"]["get"]
    # 429: every request to a business's host counts against its rate limit.
    assert {"400", "401", "403", "404", "429", "503"} == _error_statuses(detail)
    headers = detail["responses"]["429"]["headers"]
    assert {"Retry-After", "RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset"} <= set(
        headers
    )


def test_sign_in_documents_wrong_credentials_and_the_throttle(business, platform):
    for document in (business, platform):
        sign_in = document["paths"]["/api/auth/token/"]["post"]
        assert {"400", "401", "429"} <= _error_statuses(sign_in)
        assert "Retry-After" in sign_in["responses"]["429"]["headers"]


def test_public_operations_document_no_401(business):
    for path in ("/api/", "/api/calendar/{token}.ics"):
        assert "401" not in business["paths"][path]["get"]["responses"], path


def test_fields_that_can_be_null_are_nullable(business):
    schemas = business["components"]["schemas"]
    assert schemas["Customer"]["properties"]["last_visit"]["nullable"] is True
    assert schemas["User"]["properties"]["tenant"]["nullable"] is True


def test_wall_clock_times_are_not_documented_as_rfc3339_times(business):
    start = business["components"]["schemas"]["WorkingHours"]["properties"]["start_time"]
    assert "format" not in start
    assert start["pattern"]


def test_every_operation_documents_a_lost_database_as_503_with_retry_after(business, platform):
    for document in (business, platform):
        for path, operations in document["paths"].items():
            for method, operation in operations.items():
                unavailable = operation["responses"].get("503")
                assert unavailable is not None, (method, path)
                assert "database_unavailable" in unavailable["description"], (method, path)
                assert "Retry-After" in unavailable["headers"], (method, path)
