"""The audit table refuses UPDATE and DELETE in the database itself, whoever connects: the ORM
guard (core.models.audit) stops mistakes in our code, this stops everything else. TRUNCATE stays
possible for the table's owner (Django's test flush needs it); run the application as a role
that does not own the table to take that away too."""

from django.db import migrations

CREATE = """
CREATE FUNCTION core_auditevent_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'core_auditevent is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER core_auditevent_append_only
    BEFORE UPDATE OR DELETE ON core_auditevent
    FOR EACH ROW EXECUTE FUNCTION core_auditevent_append_only();
"""
DROP = """
DROP TRIGGER core_auditevent_append_only ON core_auditevent;
DROP FUNCTION core_auditevent_append_only();
"""


class Migration(migrations.Migration):
    dependencies = [("core", "0009_audit_events")]

    operations = [migrations.RunSQL(CREATE, DROP)]
