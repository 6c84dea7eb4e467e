"""Benchmark: requests per second of the progress POST through gunicorn ÷ a minimal Django JSON view through the
same gunicorn (same workers and threads), with wrk as the load generator, in the same run (target ≥ 0.5×).

The subject is the REST API's lean `POST /api/v1/progress-entries/`: each request a new entry, sent as a CRM
would, with `Authorization: Token …` (one of 50 reps' personal knox tokens, created here and revoked at the
end), a fresh `Idempotency-Key` and a JSON body; throttling counts in a real shared cache (Redis, the bench
broker's database). The Today log form (a full htmx page action with session and CSRF) is measured too, as a
second, informative row. The JSON view (bench/urls.py) does nothing but answer. Needs `wrk`.

    .venv/bin/python bench/http_post.py --entries 100000 --reps-per-team 40
"""

import argparse
import os
import re
import secrets
import shutil
import subprocess
import sys

from common import RESULTS, forget_recompute_requests, report, require_bench_database, verdict
from django.conf import settings
from django.db import connection
from django.utils import timezone
from log_form import team_reps
from synth import build, session_for
from workers import celery_worker, gunicorn

from api.models import ApiToken
from api.services import api_token_create
from goals.models import Kpi

PORT = 18732
TOKEN_NAME = "bench http"  # noqa: S105 (a token's display name, not a secret)
# Request scripts: a counter picks the rep; math.random makes each request's one-time key or token.
UUID_LUA = """
local counter = 0
math.randomseed(os.time())
local function uuid()
  return string.format("%%08x-%%04x-4%%03x-a%%03x-%%06x%%06x", math.random(0, 0x7fffffff), math.random(0, 0xffff),
    math.random(0, 0xfff), math.random(0, 0xfff), math.random(0, 0xffffff), math.random(0, 0xffffff))
end
"""
API_LUA = """
local tokens = {%(tokens)s}
request = function()
  counter = counter + 1
  local headers = {
    ["Content-Type"] = "application/json", ["Authorization"] = "Token " .. tokens[(counter %% #tokens) + 1],
    ["Idempotency-Key"] = uuid(),
  }
  return wrk.format("POST", "/api/v1/progress-entries/", headers, '{"kpi": %(kpi)s, "date": "%(today)s", "value": "10"}')
end
response = function(status, headers, body)
  if status ~= 201 then print("unexpected status " .. status) end
end
"""
FORM_LUA = """
local sessions = {%(sessions)s}
request = function()
  counter = counter + 1
  local s = sessions[(counter %% #sessions) + 1]
  local headers = {
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["Cookie"] = "sessionid=" .. s[1] .. "; csrftoken=" .. s[2],
    ["X-CSRFToken"] = s[2], ["HX-Request"] = "true", ["Referer"] = "http://127.0.0.1:%(port)s/today/",
  }
  local body = "kpi=%(kpi)s&value=10&date=%(today)s&note=&token=" .. uuid()
  return wrk.format("POST", "/today/log/", headers, body)
end
response = function(status, headers, body)
  if status ~= 200 then print("unexpected status " .. status) end
end
"""


def wrk(url: str, *, script: str | None, seconds: int, connections: int) -> dict:
    command = ["wrk", "-t", "2", "-c", str(connections), "-d", f"{seconds}s", "--latency"]
    if script:
        command += ["-s", script]
    out = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p50 = re.search(r"50%\s+([\d.]+)(\w+)", out)
    bad = len(re.findall(r"unexpected status", out)) + int(
        (re.search(r"Non-2xx or 3xx responses: (\d+)", out) or [0, 0])[1]
    )
    return {"rps": rate, "p50": f"{p50.group(1)} {p50.group(2)}", "errors": bad, "raw": out}


def scripts(reps) -> tuple[str, str]:
    """The two wrk scripts (API with tokens, Today form with sessions) for these reps."""
    ApiToken.objects.filter(user__in=reps, name=TOKEN_NAME).delete()
    tokens = [api_token_create(user=rep, name=TOKEN_NAME)[1] for rep in reps]
    sessions = [(session_for(rep), secrets.token_hex(16)) for rep in reps]
    values = {
        "tokens": ", ".join(f'"{token}"' for token in tokens),
        "sessions": ", ".join(f'{{"{key}", "{csrf}"}}' for key, csrf in sessions),
        "port": PORT,
        "kpi": Kpi.objects.get(name="Bench revenue").id,
        "today": timezone.localdate().isoformat(),
    }
    api, form = RESULTS / "http_post_api.lua", RESULTS / "http_post.lua"
    api.write_text((UUID_LUA + API_LUA) % values)
    form.write_text((UUID_LUA + FORM_LUA) % values)
    return str(api), str(form)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps-per-team", type=int, default=10)
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--connections", type=int, default=16)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("The HTTP bench needs wrk: apt-get install -y wrk")
    require_bench_database()
    dataset = build(reps_per_team=args.reps_per_team, entries=args.entries)
    forget_recompute_requests()
    reps = team_reps(50)
    api_script, form_script = scripts(reps)
    # Throttle counters in Redis, as production's CACHE_URL gives every web process one shared cache.
    os.environ["CACHE_URL"] = settings.CELERY_BROKER_URL
    name = connection.settings_dict["NAME"]
    connection.close()
    try:
        with celery_worker(name, queues="recompute"), gunicorn(name, port=PORT) as base:
            run = {"seconds": args.seconds, "connections": args.connections}
            wrk(f"{base}/bench/json/", script=None, seconds=3, connections=args.connections)  # warm up
            baseline = wrk(f"{base}/bench/json/", script=None, **run)
            api = wrk(f"{base}/api/v1/progress-entries/", script=api_script, **run)
            form = wrk(f"{base}/today/log/", script=form_script, **run)
    finally:
        ApiToken.objects.filter(user__in=reps, name=TOKEN_NAME).delete()
    forget_recompute_requests()
    ratio, form_ratio = api["rps"] / baseline["rps"], form["rps"] / baseline["rps"]
    rows = [
        ("gunicorn", "2 workers × 8 threads (gthread); wrk: 2 threads, "
                     f"{args.connections} connections, {args.seconds} s each"),
        ("dataset", f"{dataset['entries']:,} entries"),
        ("minimal Django JSON view", f"{baseline['rps']:,.0f} req/s, p50 {baseline['p50']}"),
        ("API POST /api/v1/progress-entries/ (token)", f"{api['rps']:,.0f} req/s, p50 {api['p50']}, {api['errors']} errors"),
        ("API POST / JSON view", f"{ratio:.3f}x"),
        ("Today log POST (htmx form, session)", f"{form['rps']:,.0f} req/s, p50 {form['p50']}, {form['errors']} errors"),
        ("Today log POST / JSON view (informative)", f"{form_ratio:.3f}x"),
    ]  # fmt: skip
    report(
        "http",
        rows,
        verdicts=[
            verdict("API progress POST ÷ minimal JSON view (req/s)", ratio, at_least=0.5, unit="x"),
            verdict("failed API POSTs", api["errors"], at_most=0),
            verdict("failed Today log POSTs", form["errors"], at_most=0),
        ],
        extra={"baseline": baseline, "api_post": api, "form_post": form},
    )


if __name__ == "__main__":
    main()
