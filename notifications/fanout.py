"""The reminder jobs' fan-out: a periodic task finds who is due (set-based, ids only) and hands them to chunk
tasks of FAN_OUT_CHUNK ids each, so no task nears the time limit however many people are due and every worker
shares the work. A chunk re-checks its ids (the periodic run's `now` travels with it) and delivers with
notifications_deliver, once per (user, key): a rerun, a second scheduler or a redelivered chunk sends nothing
twice. Used by goals (check-in and deadline reminders, the manager digest) and feedback (weekly check-in
reminders, feedback digests)."""

import datetime

# A few hundred: a chunk's queries stay a handful (their IN lists grow, not their number) and its notifications,
# rendered and inserted in one transaction, take a second or two on a loaded machine.
FAN_OUT_CHUNK = 250


def chunked(ids, size: int | None = None) -> list[list[int]]:
    """The distinct ids, sorted (a rerun makes the same chunks), in lists of at most `size` (FAN_OUT_CHUNK)."""
    size = size or FAN_OUT_CHUNK  # read at call time: tests shrink it
    ordered = sorted(set(ids))
    return [ordered[start : start + size] for start in range(0, len(ordered), size)]


def fan_out(task, *, ids, now: datetime.datetime, size: int | None = None) -> int:
    """Enqueue task(ids=<chunk>, now=<ISO instant>) for each chunk. Published at once, not on commit: the
    periodic task only read who is due and wrote nothing a chunk must see. A broker error fails the periodic task,
    and its next run (the keys make it safe) fans out what is still due. Returns the number of chunks."""
    chunks = chunked(ids, size)
    for chunk in chunks:
        task.delay(ids=chunk, now=now.isoformat())
    return len(chunks)


def fanned_out_now(now: str) -> datetime.datetime:
    """The periodic run's instant as a chunk task receives it (JSON carries it as ISO text)."""
    return datetime.datetime.fromisoformat(now)
