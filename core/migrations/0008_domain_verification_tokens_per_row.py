"""Adding the token column gave every existing domain the same default value; give each its own.

Rows that existed before keep no ``route53_record_*``: the platform cannot prove which of their
CNAMEs it created (the old code overwrote records), so removing them deletes no DNS record.
"""

import secrets

from django.db import migrations


def give_each_domain_its_own_token(apps, schema_editor):
    Domain = apps.get_model("core", "Domain")
    for domain in Domain.objects.only("pk").iterator():
        Domain.objects.filter(pk=domain.pk).update(verification_token=secrets.token_hex(16))


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0007_domain_ownership_proof"),
    ]

    operations = [
        # Reversing leaves the tokens as they are: the column goes with 0005's reversal.
        migrations.RunPython(give_each_domain_its_own_token, migrations.RunPython.noop),
    ]
