"""Real processes for the benchmarks: a Celery worker and gunicorn, on the bench database and broker,
started and stopped by the bench itself (ports 18700–18799; only the processes it started are stopped)."""

import os
import signal
import subprocess
import sys
import time
from contextlib import contextmanager

import requests
from common import ROOT, database_url
from django.conf import settings

BIN = ROOT / ".venv" / "bin"


def _env(database: str) -> dict:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "DATABASE_URL": database_url(database),
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        "PYTHONPATH": str(ROOT),
        "DEBUG": "0",
    }


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)  # its own process group: the pool's children too
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(10)


@contextmanager
def celery_worker(database: str, *, queues: str = "celery,recompute,notifications,webhooks", concurrency: int = 2):
    """A real prefork worker (like the Procfile's) on the bench database; waits until it answers a ping."""
    from config.celery import app

    log = open(ROOT / "bench" / "results" / "worker.log", "ab")  # noqa: SIM115 (closed below)
    process = subprocess.Popen(
        [str(BIN / "celery"), "-A", "config", "worker", "-Q", queues, "--concurrency", str(concurrency),
         "--loglevel", "WARNING", "-I", "bench.tasks", "--without-gossip", "--without-mingle", "-n", f"bench{os.getpid()}@%h"],
        cwd=ROOT, env=_env(database), stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while not app.control.ping(timeout=0.5):
            if process.poll() is not None or time.monotonic() > deadline:
                sys.exit("The bench's Celery worker did not start: see bench/results/worker.log")
        yield process
    finally:
        _stop(process)
        log.close()


@contextmanager
def gunicorn(database: str, *, port: int, workers: int = 2, threads: int = 8):
    """gunicorn serving Pacer (bench settings) on 127.0.0.1:port; waits until /healthz answers."""
    log = open(ROOT / "bench" / "results" / "gunicorn.log", "ab")  # noqa: SIM115 (closed below)
    process = subprocess.Popen(
        [str(BIN / "gunicorn"), "config.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", str(workers),
         "--threads", str(threads), "--worker-class", "gthread", "--log-level", "warning"],
        cwd=ROOT, env=_env(database), stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if requests.get(f"http://127.0.0.1:{port}/bench/json/", timeout=1).status_code == 200:
                    break
            except requests.RequestException:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                sys.exit("The bench's gunicorn did not start: see bench/results/gunicorn.log")
            time.sleep(0.2)
        yield f"http://127.0.0.1:{port}"
    finally:
        _stop(process)
        log.close()
