"""Install the "Grant rewards" periodic task (config/schedule.py) on databases migrated before it existed.

The same idempotent function as goals/0002_default_schedule and `manage.py setup_schedule`: it only adds
missing defaults and never changes a periodic task an admin edited. Reversing it leaves the schedule alone.
"""

from django.db import migrations


def install(apps, schema_editor):
    from config.schedule import install_default_schedule

    install_default_schedule(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("rewards", "0001_rewards_tiers_awards"),
        ("goals", "0002_default_schedule"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(install, migrations.RunPython.noop)]
