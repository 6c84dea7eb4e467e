"""On PostgreSQL, the database itself refuses two rep memberships of one person whose days overlap.

SQLite has no exclusion constraints: there the service check (teams.services) is the rule. btree_gist is a
trusted extension, so the database owner may create it without superuser rights. The constraint is not in
Membership.Meta (Django's ExclusionConstraint cannot exist on SQLite), so makemigrations never sees it.
"""

from django.db import migrations

CREATE = """
CREATE EXTENSION IF NOT EXISTS btree_gist;
ALTER TABLE teams_membership ADD CONSTRAINT membership_rep_no_overlap
    EXCLUDE USING gist (user_id WITH =, daterange(active_from, active_to, '[]') WITH &&)
    WHERE (role = 'rep');
"""
DROP = "ALTER TABLE teams_membership DROP CONSTRAINT IF EXISTS membership_rep_no_overlap;"


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("teams", "0002_auditevent")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
