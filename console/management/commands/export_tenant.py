"""``manage.py export_tenant <schema> <file>``: write one tenant's archive
(console.tenant_archive)."""

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from console.tenant_archive import tenant_export
from tenancy.models import Tenant


class Command(BaseCommand):
    help = "Export one tenant (all its rows, its accounts, a media manifest) as a .tar.gz archive."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("schema", help="The tenant's schema name.")
        parser.add_argument("file", help="Where to write the archive (.tar.gz).")

    def handle(self, *args: Any, schema: str, file: str, **options: Any) -> None:
        tenant = Tenant.objects.filter(schema_name=schema).first()
        if tenant is None:
            raise CommandError(f"No tenant with schema '{schema}'.")
        path = Path(file)
        partial = path.with_name(path.name + ".partial")
        try:
            with partial.open("wb") as destination:
                manifest = tenant_export(tenant=tenant, destination=destination)
            partial.replace(path)  # a failed export never leaves a file that looks complete
        finally:
            partial.unlink(missing_ok=True)
        rows = sum(manifest["counts"].values())
        self.stderr.write(
            f"Exported '{schema}' to {path}: {rows} rows, {len(manifest['users'])} accounts, "
            f"{manifest['media_files']} media files listed."
        )
