"""The WSGI entry point (``gunicorn config.wsgi``). Importing ``config`` chose the settings;
a deployment whose log directory cannot be written refuses to start, naming the fix."""

from django.core.wsgi import get_wsgi_application

from core.checks import refuse_to_start_on_errors

application = get_wsgi_application()
refuse_to_start_on_errors()
