"""Settings come from the environment and fail closed; /healthz reports the services."""

import os
import subprocess
import sys

import pytest
from django.test import override_settings

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _settings_subprocess(env, code="from django.conf import settings; settings.SECRET_KEY"):
    clean = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "DEBUG", "DATABASE_URL"}}
    return subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {code}"],
        env={**clean, "DJANGO_SETTINGS_MODULE": "config.settings", **env},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_missing_secret_key_without_debug_is_a_startup_error():
    result = _settings_subprocess({"DEBUG": "0"})
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_debug_runs_without_a_secret_key():
    assert _settings_subprocess({"DEBUG": "1"}).returncode == 0


def test_environment_is_parsed():
    code = (
        "from django.conf import settings as s; "
        "print(s.DATABASES['default']['ENGINE'], s.ALLOWED_HOSTS, s.TIME_ZONE, s.CELERY_BROKER_URL, s.EMAIL_BACKEND)"
    )
    result = _settings_subprocess(
        {
            "SECRET_KEY": "x" * 60,
            "DATABASE_URL": "postgres://u:p@db.example:5432/pacer",
            "ALLOWED_HOSTS": "pacer.example.com,www.pacer.example.com",
            "TIME_ZONE": "Europe/Paris",
            "CELERY_BROKER_URL": "redis://cache.example:6379/0",
            "EMAIL_URL": "smtp+tls://user:pw@mail.example:587",
        },
        code,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "django.db.backends.postgresql",
        "['pacer.example.com',",
        "'www.pacer.example.com']",
        "Europe/Paris",
        "redis://cache.example:6379/0",
        "django.core.mail.backends.smtp.EmailBackend",
    ]


def test_check_deploy_is_clean_with_production_variables():
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        env={
            # DJANGO_ALLOW_ASYNC_UNSAFE is set by the browser tests' conftest; production never has it.
            **{k: v for k, v in os.environ.items() if k not in {"DEBUG", "DJANGO_ALLOW_ASYNC_UNSAFE"}},
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DEBUG": "0",
            "SECRET_KEY": "k3y-" + "q8Zr!x0vT#m2Lp9@wE5sY7uB1nC4dF6gH" * 2,
            "ALLOWED_HOSTS": "pacer.example.com",
        },
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.django_db
def test_healthz_ok_when_database_and_broker_reachable(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "broker": "ok"}


@pytest.mark.django_db
def test_healthz_503_when_broker_unreachable(client):
    with override_settings(CELERY_BROKER_URL="redis://127.0.0.1:1/0", CELERY_BROKER_TRANSPORT_OPTIONS={}):
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["broker"] == "down"


@pytest.mark.django_db
def test_healthz_503_when_database_unreachable(client, monkeypatch):
    from config import views

    monkeypatch.setattr(views, "_database_ok", lambda: False)
    response = client.get("/healthz")
    assert response.status_code == 503 and response.json()["database"] == "down"
