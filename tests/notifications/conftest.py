import pytest

from config.celery import app

EAGER = {"task_always_eager": True, "task_eager_propagates": True}


@pytest.fixture
def eager_celery():
    """Run tasks in-process when queued, as a worker would (the broker is not under test here)."""
    saved = {name: app.conf[name] for name in EAGER}
    app.conf.update(EAGER)
    yield
    app.conf.update(saved)
