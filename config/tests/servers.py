"""Start the project's processes the way a deployment does: a fresh interpreter, no
DJANGO_SETTINGS_MODULE unless the test names one, and every value the test depends on set
explicitly (a developer's .env only fills in what is missing)."""

from __future__ import annotations

import os
from pathlib import Path

STRONG_KEY = "k3y-" + "Zq8xW2vR7mT4pL9sN1bC6dF0gH5jK3aE" * 2


def server_environment(log_dir: Path, **values: str) -> dict[str, str]:
    """Production-ready values for a server process. The database is named but never reached:
    starting the application does not connect."""
    env = {k: v for k, v in os.environ.items() if k not in ("DJANGO_SETTINGS_MODULE", "DATABASE")}
    env |= {
        "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/unused",
        "LOG_DIR": str(log_dir),
        "DJANGO_SECRET_KEY": STRONG_KEY,
        "DJANGO_DEBUG": "False",
        "JWT_SIGNING_KEY": "",
    }
    return env | values
