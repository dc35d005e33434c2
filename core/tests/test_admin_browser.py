"""A real browser (Debian's chromium, driven by Playwright) through the operators' masquerade:
sign in to the admin, see the impersonate button only where allowed, impersonate, land on the
tenant's host under a banner naming the real operator, release, and be back in the admin.

``live_server`` needs committed data, so this test is transactional; its flush empties the
public tables and the root conftest.py puts the session's tenants back afterwards."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from conftest import PASSWORD
from users.roles import Role

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip

# Asked from inside the page, so the browser's own cookies for that host go with it.
ME = """async () => {
  const response = await fetch("/api/me/");
  return response.ok ? await response.json() : {status: response.status};
}"""

pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).exists(),
    reason=f"No browser: {CHROMIUM} is missing (Debian: apt-get install -y chromium)",
)


def test_operator_impersonates_from_the_admin_and_releases(
    live_server: Any,
    make_user: Any,
    tenant_a: Any,
    masquerade_lines: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop in this thread; the ORM calls made between
    # browser steps are ordinary blocking calls, which Django would otherwise refuse here.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    support = make_user(Role.PLATFORM_SUPPORT)
    owner = make_user(Role.TENANT_OWNER, tenant_a)
    manager = make_user(Role.PLATFORM_MANAGER)
    port = urlsplit(live_server.url).port
    platform, alpha = f"http://localhost:{port}", f"http://alpha.localhost:{port}"

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.goto(f"{platform}/admin/login/?next=/admin/users/user/")
            page.fill("#id_username", support.email)
            page.fill("#id_password", PASSWORD)
            page.click("input[type=submit]")
            page.wait_for_url(f"{platform}/admin/users/user/")

            owner_button = page.locator(f'[data-hijack-user="{owner.pk}"]')
            assert owner_button.is_visible()
            assert page.locator(f'[data-hijack-user="{manager.pk}"]').count() == 0
            assert page.locator(f'[data-hijack-user="{support.pk}"]').count() == 0

            owner_button.click()
            page.wait_for_url(f"{alpha}/masquerade/")
            banner = page.locator("[data-masquerade-banner]")
            assert banner.is_visible()
            assert support.email in banner.inner_text()
            assert owner.email in page.locator("h1").inner_text()
            me = page.evaluate(ME)
            assert me["email"] == owner.email
            assert me["masquerade"]["actor"]["email"] == support.email

            page.click("[data-masquerade-release]")
            page.wait_for_url(f"{platform}/admin/users/user/")
            assert page.locator("[data-masquerade-banner]").count() == 0
            page.goto(f"{alpha}/api/me/")
            assert page.evaluate(ME) == {"status": 401}
        finally:
            browser.close()
    assert [line["action"] for line in masquerade_lines()] == ["HIJACK_START", "HIJACK_END"]
