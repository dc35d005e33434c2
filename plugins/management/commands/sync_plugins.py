"""Put the platform plugins in the catalogue (idempotent: run it on every deploy)."""

from django.core.management.base import BaseCommand

from plugins.catalogue import plugins_sync


class Command(BaseCommand):
    help = "Create or update the six platform plugins in the catalogue (counts are kept)."

    def handle(self, *args, **options) -> None:
        created, updated = plugins_sync()
        self.stdout.write(f"Platform plugins: {created} created, {updated} updated.")
