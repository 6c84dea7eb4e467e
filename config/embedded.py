"""The embedded default (SQLite file, filesystem broker) needs folders under .data/ before it starts.

Settings only declare them (settings.EMBEDDED_FOLDERS: empty with PostgreSQL and Redis); the process entry
points (manage.py, the Celery app, wsgi) create them here, so importing settings has no side effects.
"""

from django.conf import settings


def create_folders() -> None:
    for folder in settings.EMBEDDED_FOLDERS:
        folder.mkdir(parents=True, exist_ok=True)
