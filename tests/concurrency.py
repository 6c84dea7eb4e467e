"""Run the same call from several threads at once, as concurrent workers or requests would (PostgreSQL tests)."""

import threading

from django.db import connection


def run_in_threads(target, count: int = 2, *, timeout: float = 60) -> tuple[list, list]:
    """Call target() in `count` threads at once, each with its own database connection (closed when it is done).

    Returns (results, errors): what the calls returned and what they raised, in the order they finished. A
    thread still running after `timeout` seconds fails the test: the calls hung (a deadlock, a lost lock)."""
    results, errors = [], []

    def run():
        try:
            results.append(target())
        except BaseException as exc:  # reported to the test, which asserts on it
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout)
    assert not any(thread.is_alive() for thread in threads), "a concurrent call hung"
    return results, errors
