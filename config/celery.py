"""The Celery app: workers and beat run the same settings as the web process (chosen in
``config/__init__.py``, which is imported first).

Tasks run in the tenant they were sent from (tenant-schemas-celery): publishing records
``connection.schema_name`` in the message's headers, and the worker selects that schema before
the task and puts its previous one back after it. A task sent from the platform (beat, public
schema) runs in the public schema, where no tenant table exists: tenant code that forgot its
tenant fails instead of reading another tenant's rows.
"""

from tenant_schemas_celery.app import CeleryApp

app = CeleryApp("smoothschedule")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
