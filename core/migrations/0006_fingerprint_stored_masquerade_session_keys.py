import re

from django.db import migrations
from django.utils.crypto import salted_hmac

# The salt of access.masquerade.records.session_fingerprint, copied so this step never changes.
FINGERPRINT_SALT = "core.masquerade.session_fingerprint"
# Django session keys are 32 characters, token ids 32 hex digits; fingerprints are 64 hex digits.
FINGERPRINT = re.compile(r"[0-9a-f]{64}")


def fingerprint_stored_keys(apps, schema_editor) -> None:
    """Replace every raw session key (or token id) still stored by its fingerprint; values that
    already are fingerprints stay (running it twice changes nothing)."""
    sessions = apps.get_model("core", "MasqueradeSession")
    for record in sessions.objects.exclude(session_digest="").only("pk", "session_digest"):
        if FINGERPRINT.fullmatch(record.session_digest):
            continue
        digest = salted_hmac(FINGERPRINT_SALT, record.session_digest, algorithm="sha256")
        sessions.objects.filter(pk=record.pk).update(session_digest=digest.hexdigest())


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0005_masquerade_session_key_becomes_digest"),
    ]

    operations = [
        # Backwards there is nothing to restore: a fingerprint cannot be turned back into a key,
        # and none is wanted.
        migrations.RunPython(fingerprint_stored_keys, migrations.RunPython.noop, elidable=True),
    ]
