"""The Celery app the fault tests start as a real worker subprocess: `celery -A tests.jobs.fault_worker_app worker`.

It is Pacer's own app (config.celery: the same tasks, acks_late and reject_on_worker_lost, the same Redis
transport) with one change: a 3-second visibility timeout instead of an hour. A SIGKILLed worker leaves its
unacknowledged messages in Redis, and Redis gives them back to a worker only once the visibility timeout has
passed, and looks for them every 100 s; production waits an hour (no task runs that long), a test cannot.
With PACER_TEST_QUEUE set, what the worker's tasks enqueue (notify()'s emails) goes to that queue too (whatever
CELERY_TASK_ROUTES says), so the test's workers and no other (an in-process worker of another test run on the same Redis) take it."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")

from config.celery import app

VISIBILITY_TIMEOUT = 3
app.conf.broker_transport_options = {
    **app.conf.broker_transport_options,
    "visibility_timeout": VISIBILITY_TIMEOUT,
    # Look for such messages every second (kombu's default sweep is every 10 × 10 s).
    "unacked_restore_interval": 1,
    "unacked_restore_throttle": 1,
}

if os.environ.get("PACER_TEST_QUEUE"):
    app.conf.task_default_queue = os.environ["PACER_TEST_QUEUE"]
    # CELERY_TASK_ROUTES sends emails to "notifications", recomputes to "recompute", ...: here all to this queue.
    app.conf.task_routes = {"*": {"queue": os.environ["PACER_TEST_QUEUE"]}}
