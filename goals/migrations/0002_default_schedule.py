"""Install the default beat schedule (config/schedule.py) so a fresh database is scheduled after `migrate`.

Uses the same idempotent function as `manage.py setup_schedule`, with this migration's historical models;
it never changes a periodic task that already exists. Reversing it leaves the schedule alone.
"""

from django.db import migrations


def install(apps, schema_editor):
    from config.schedule import install_default_schedule

    install_default_schedule(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("goals", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(install, migrations.RunPython.noop)]
