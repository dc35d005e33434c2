"""``seed_demo`` publishes its accounts' password: it refuses to run with production settings."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from tenancy.models import Tenant


def test_seed_demo_refuses_to_run_with_production_settings(tmp_path):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        # A server that is never reached: the command must refuse before touching a database.
        "DATABASE_URL": "postgres://nobody@127.0.0.1:1/none",
        "LOG_DIR": str(tmp_path),
    }
    done = subprocess.run(
        [sys.executable, "manage.py", "seed_demo"],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode != 0
    assert "seed_demo refuses to run with these settings" in done.stderr
    assert "demo-password" not in done.stdout


@pytest.mark.django_db
def test_seed_demo_creates_nothing_where_it_is_not_allowed(settings):
    settings.SEED_DEMO_ALLOWED = False
    with pytest.raises(CommandError, match="refuses to run"):
        call_command("seed_demo")
    assert not Tenant.objects.filter(schema_name="demo").exists()
