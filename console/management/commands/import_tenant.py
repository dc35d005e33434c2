"""``manage.py import_tenant <file> --schema X --domain Y [--name Z]``: create a new tenant from an
archive made by ``export_tenant`` (console.tenant_archive)."""

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from console.tenant_archive import tenant_import
from core.exceptions import DomainError


class Command(BaseCommand):
    help = "Import a tenant archive as a new tenant (one transaction: all of it, or nothing)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="The archive (.tar.gz) made by export_tenant.")
        parser.add_argument("--schema", required=True, help="The new tenant's schema name.")
        parser.add_argument("--domain", required=True, help="The new tenant's primary host.")
        parser.add_argument(
            "--name", default=None, help="The new tenant's name (default: the source's)."
        )
        parser.add_argument(
            "--relabel-users",
            action="store_true",
            help="Import the accounts as local+<schema>@domain with no usable password (a copy "
            "on the platform that still holds the originals).",
        )

    def handle(self, *args: Any, file: str, **options: Any) -> None:
        try:
            with Path(file).open("rb") as source:
                tenant = tenant_import(
                    source=source,
                    schema_name=options["schema"],
                    domain=options["domain"],
                    name=options["name"],
                    relabel_users=options["relabel_users"],
                )
        except OSError as error:
            raise CommandError(f"Cannot read {file}: {error}") from error
        except DomainError as error:
            raise CommandError(f"{error.code}: {error.message}") from error
        self.stderr.write(f"Imported {file} as '{tenant.schema_name}' ({tenant.name}).")
