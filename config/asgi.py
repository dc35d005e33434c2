"""The ASGI entry point. Importing ``config`` chose the settings; a deployment whose log
directory cannot be written refuses to start, naming the fix."""

from django.core.asgi import get_asgi_application

from core.checks import refuse_to_start_on_errors

application = get_asgi_application()
refuse_to_start_on_errors()
