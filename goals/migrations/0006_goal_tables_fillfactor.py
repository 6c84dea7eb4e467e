"""Leave room on each page of the goal and micro goal tables (PostgreSQL fillfactor 80).

Every recompute rewrites the derived figures of thousands of rows; with free space on the page and no
indexed column changed, PostgreSQL updates a row in place (a HOT update) instead of adding an entry to
each of the table's six or so indexes. Applies to pages written from now on (VACUUM FULL rewrites the
rest). Nothing to do on SQLite.
"""

from django.db import migrations

TABLES = ("goals_goal", "goals_microgoal")


def set_fillfactor(value):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            for table in TABLES:
                schema_editor.execute(f"ALTER TABLE {schema_editor.quote_name(table)} SET (fillfactor = {value})")

    return run


class Migration(migrations.Migration):
    dependencies = [("goals", "0005_progress_day_rollup_and_stale_queue")]

    operations = [migrations.RunPython(set_fillfactor(80), set_fillfactor(100))]
