from django.db import migrations


class Migration(migrations.Migration):
    """The column that held live session keys holds their keyed fingerprint from now on; 0006
    turns the keys already stored into fingerprints."""

    dependencies = [
        ("core", "0004_masquerade_sessions_and_permission_grants"),
    ]

    operations = [
        migrations.RenameField(
            model_name="masqueradesession",
            old_name="session_key",
            new_name="session_digest",
        ),
    ]
