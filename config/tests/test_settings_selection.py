"""Settings are chosen explicitly and production fails closed: a bare ``gunicorn config.wsgi``
runs production settings, and production refuses development secrets and DEBUG."""

from __future__ import annotations

import runpy
import subprocess
import sys

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from config.settings.base import DEVELOPMENT_SECRET_KEY
from config.tests.servers import STRONG_KEY, server_environment

SHOW_SETTINGS = (
    "import config.wsgi; from django.conf import settings; "
    "print(settings.SETTINGS_MODULE, settings.DEBUG, settings.SESSION_COOKIE_SECURE)"
)


def import_wsgi(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", SHOW_SETTINGS],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_a_bare_wsgi_import_runs_production_settings(tmp_path):
    loaded = import_wsgi(server_environment(tmp_path))
    assert loaded.returncode == 0, loaded.stderr
    assert loaded.stdout.split() == ["config.settings.production", "False", "True"]


def test_a_bare_wsgi_import_refuses_the_development_key(tmp_path):
    refused = import_wsgi(server_environment(tmp_path, DJANGO_SECRET_KEY=DEVELOPMENT_SECRET_KEY))
    assert refused.returncode != 0
    last_line = refused.stderr.strip().splitlines()[-1]
    assert last_line.startswith("django.core.exceptions.ImproperlyConfigured:")
    assert "DJANGO_SECRET_KEY is the development key" in last_line
    assert "DJANGO_SETTINGS_MODULE=config.settings.base" in last_line


def load_production(monkeypatch, **values: str) -> dict:
    """Run config/settings/production.py in this process under the given environment."""
    for name in ("DJANGO_SECRET_KEY", "DJANGO_DEBUG", "JWT_SIGNING_KEY"):
        monkeypatch.delenv(name, raising=False)
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    return runpy.run_module("config.settings.production", run_name="production_under_test")


@pytest.mark.parametrize(
    ("environment", "complaint"),
    [
        ({}, "DJANGO_SECRET_KEY is not set"),
        ({"DJANGO_SECRET_KEY": DEVELOPMENT_SECRET_KEY}, "DJANGO_SECRET_KEY is the development key"),
        ({"DJANGO_SECRET_KEY": "django-insecure-" + "x1y2z3" * 10}, "the development key"),
        ({"DJANGO_SECRET_KEY": "short-but-random-9f8e7d"}, "too short or too simple"),
        ({"DJANGO_SECRET_KEY": "a" * 80}, "too short or too simple"),
        ({"DJANGO_SECRET_KEY": STRONG_KEY, "DJANGO_DEBUG": "True"}, "DJANGO_DEBUG is on"),
        ({"DJANGO_SECRET_KEY": STRONG_KEY, "JWT_SIGNING_KEY": "secret"}, "JWT_SIGNING_KEY"),
    ],
)
def test_production_refuses_unsafe_settings(monkeypatch, environment, complaint):
    with pytest.raises(ImproperlyConfigured, match=complaint):
        load_production(monkeypatch, **environment)


def test_production_starts_with_a_strong_key(monkeypatch):
    loaded = load_production(monkeypatch, DJANGO_SECRET_KEY=STRONG_KEY)
    assert loaded["SECRET_KEY"] == STRONG_KEY
    assert loaded["DEBUG"] is False
    assert loaded["CACHES"]["default"]["BACKEND"] == "core.cache.ResilientRedisCache"
