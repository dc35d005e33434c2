"""The Celery app: workers and beat run the same settings as the web process (chosen in
``config/__init__.py``, which is imported first)."""

from celery import Celery

app = Celery("smoothschedule")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
