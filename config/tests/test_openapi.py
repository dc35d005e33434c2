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
