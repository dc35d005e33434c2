"""Settings are chosen here, before anything reads them, so that every way in agrees: servers and
workers (``gunicorn config.wsgi``, ``celery -A config``) run production unless
DJANGO_SETTINGS_MODULE says otherwise, and production refuses to start on development secrets.
``manage.py`` and pytest name their settings before this package is imported."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")

# Loaded with Django so that tasks sent from web processes use this app's broker.
from config.celery import app as celery_app

__all__ = ["celery_app"]
