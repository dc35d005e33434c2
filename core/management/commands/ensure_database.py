"""Create the configured database if the server does not have it yet (fresh machines)."""

import psycopg
from django.conf import settings
from django.core.management.base import BaseCommand
from psycopg import sql


class Command(BaseCommand):
    help = "Create the database named in settings on its server when it is missing."

    def handle(self, *args, **options) -> None:
        config = settings.DATABASES["default"]
        params = {
            "dbname": "postgres",
            "user": config["USER"],
            "password": config["PASSWORD"] or None,
            "host": config["HOST"] or None,
            "port": config["PORT"] or None,
        }
        with psycopg.connect(**{k: v for k, v in params.items() if v}, autocommit=True) as conn:
            exists = conn.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", [config["NAME"]]
            ).fetchone()
            if exists:
                self.stdout.write(f"Database {config['NAME']} is there ({config['HOST']}).")
                return
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(config["NAME"])))
        self.stdout.write(self.style.SUCCESS(f"Created database {config['NAME']}."))
