"""Settings for the test suite: the production settings file, with a throwaway secret and plain http.

Everything else (DATABASE_URL, CELERY_BROKER_URL) comes from the environment exactly as in production.
"""

import os
import re

os.environ.setdefault("SECRET_KEY", "test-only-secret-key-not-used-anywhere-else")

from config.settings import *  # noqa: F403

# The test client and Playwright's live server speak plain http.
SECURE_SSL_REDIRECT = False
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}  # noqa: F405
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast logins in tests only
# Without a real broker, tasks enqueued by tests go to memory, not into `make run`'s .data/broker folder.
if CELERY_BROKER_URL.startswith("filesystem://"):  # noqa: F405
    CELERY_BROKER_URL = "memory://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {}
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
# Under pytest-xdist (`-n 2`) every worker has its own test database (test_<name>_gw0, …): give it its own Redis
# database too, or a real Celery worker started by one process's tests could take another process's tasks.
# Celery reads the CELERY_BROKER_URL environment variable before the setting, so both change; subprocess workers
# the tests start inherit them (PACER_XDIST_BROKER says the move is done, so it is not made twice).
_xdist_worker = os.environ.get("PYTEST_XDIST_WORKER", "")
if (
    _xdist_worker.startswith("gw")
    and CELERY_BROKER_URL.startswith("redis://")
    and not os.environ.get("PACER_XDIST_BROKER")
):
    CELERY_BROKER_URL = re.sub(
        r"/(\d+)$",
        lambda m: f"/{(int(m.group(1)) + 1 + int(_xdist_worker[2:])) % 16}",
        CELERY_BROKER_URL,
    )
    os.environ["CELERY_BROKER_URL"] = os.environ["PACER_XDIST_BROKER"] = CELERY_BROKER_URL
