"""Settings for the benchmarks: the production settings, plus a bench-only URL for the HTTP baseline
(a minimal Django JSON view) and no per-request logging noise. Never used outside bench/."""

import os

os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-not-used-anywhere-else")

from config.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"]  # testserver: the pages bench's test client
SECURE_SSL_REDIRECT = False
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}  # noqa: F405
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.dummy.EmailBackend"  # reminders: measure the work, not an SMTP server
AXES_ENABLED = False  # many logins from one address are the load generator, not an attack
