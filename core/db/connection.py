"""The default connection typed as the backend it is (ENGINE "core.db", config/database.py).

django-stubs types ``django.db.connection`` as Django's base wrapper, which has no
``set_tenant()``, ``set_schema_to_public()`` or ``schema_name``. It is the same object: only
its type is narrowed.
"""

from __future__ import annotations

from typing import cast

from django.db import connection as default_connection

from core.db.base import DatabaseWrapper

connection = cast(DatabaseWrapper, default_connection)
