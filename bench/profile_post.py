"""Profile: the CPU one `POST /api/v1/progress-entries/` costs in process, as http_post.py sends it (a rep's knox
token, a fresh Idempotency-Key, a JSON body, throttles counted in Redis), through Django's WSGI handler with every
middleware, on the bench dataset. Prints the CPU ms per POST without the profiler, the minimal JSON view's for
scale, then cProfile's table (on the CPU clock: waiting for PostgreSQL or Redis is not counted).

    DATABASE_URL=… CELERY_BROKER_URL=… .venv/bin/python bench/profile_post.py --posts 200
"""

import os

# Throttle counters in Redis, as http_post.py gives gunicorn (the settings read it when common sets Django up).
os.environ.setdefault("CACHE_URL", os.environ.get("CELERY_BROKER_URL", ""))

import argparse
import cProfile
import io
import json
import pstats
import sys
import time
import uuid

from common import forget_recompute_requests, require_bench_database
from django.core.handlers.wsgi import WSGIHandler
from django.utils import timezone
from log_form import team_reps
from synth import build

from api.models import ApiToken
from api.services import api_token_create
from goals.models import Kpi

TOKEN_NAME = "bench profile"  # noqa: S105 (a token's display name, not a secret)


def _environ(method: str, path: str, *, body: bytes = b"", headers: dict | None = None) -> dict:
    environ = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": "127.0.0.1",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
        "CONTENT_LENGTH": str(len(body)),
    }
    for name, value in (headers or {}).items():
        key = name.upper().replace("-", "_")
        environ[key if key == "CONTENT_TYPE" else f"HTTP_{key}"] = value
    return environ


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=200)
    parser.add_argument("--reps-per-team", type=int, default=40)
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--top", type=int, default=45)
    args = parser.parse_args()
    require_bench_database()
    build(reps_per_team=args.reps_per_team, entries=args.entries)
    forget_recompute_requests()
    reps = team_reps(50)
    ApiToken.objects.filter(user__in=reps, name=TOKEN_NAME).delete()
    tokens = [api_token_create(user=rep, name=TOKEN_NAME)[1] for rep in reps]
    body = json.dumps({"kpi": Kpi.objects.get(name="Bench revenue").id, "date": timezone.localdate().isoformat(),
                       "value": "10"}).encode()  # fmt: skip
    handler = WSGIHandler()
    sent = 0

    def post() -> None:
        nonlocal sent
        headers = {"Content-Type": "application/json", "Authorization": f"Token {tokens[sent % len(tokens)]}",
                   "Idempotency-Key": str(uuid.uuid4())}  # fmt: skip
        sent += 1
        response = handler(_environ("POST", "/api/v1/progress-entries/", body=body, headers=headers), _start(201))
        b"".join(response)
        response.close()

    def minimal() -> None:
        response = handler(_environ("GET", "/bench/json/"), _start(200))
        b"".join(response)
        response.close()

    try:
        for _ in range(2 * len(tokens)):  # warm up: every token used once ("last used" written), caches filled
            post()
        cpu = {}
        for name, call in (("POST", post), ("minimal JSON view", minimal)):
            started = time.process_time()
            for _ in range(args.posts):
                call()
            cpu[name] = (time.process_time() - started) * 1000 / args.posts
        profiler = cProfile.Profile(time.process_time)
        profiler.enable()
        for _ in range(args.posts):
            post()
        profiler.disable()
    finally:
        ApiToken.objects.filter(user__in=reps, name=TOKEN_NAME).delete()
        forget_recompute_requests()
    for name, ms in cpu.items():
        print(f"{name}: {ms:.2f} ms of CPU per request ({args.posts} requests, no profiler)")
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    print(f"profiled: {stats.total_tt * 1000 / args.posts:.2f} ms of CPU per POST under cProfile")
    stats.sort_stats("cumulative").print_stats(args.top)
    print(out.getvalue())


def _start(expected: int):
    def start_response(status: str, headers, exc_info=None):
        if int(status.split()[0]) != expected:
            raise SystemExit(f"unexpected status {status}")

    return start_response


if __name__ == "__main__":
    main()
