"""Benchmark: requests per second of the progress POST (the Today log form, htmx) through gunicorn ÷ a
minimal Django JSON view through the same gunicorn (same workers and threads), with wrk as the load
generator, in the same run (target ≥ 0.5×).

Both go through the whole middleware stack; the JSON view (bench/urls.py) does nothing else. The POSTs
come from 50 logged-in reps of one team (sessions and CSRF as a browser sends them), each with a new
one-time token, so every request records a real entry. Needs `wrk` (apt-get install -y wrk).

    .venv/bin/python bench/http_post.py --entries 1000000 --reps-per-team 40
"""

import argparse
import re
import secrets
import shutil
import subprocess
import sys

from common import RESULTS, forget_recompute_requests, report, require_bench_database, verdict
from django.db import connection
from django.utils import timezone
from log_form import team_reps
from synth import build, session_for
from workers import celery_worker, gunicorn

from goals.models import Kpi

PORT = 18732
LUA = """
local sessions = {%(sessions)s}
local counter = 0
math.randomseed(os.time())
local function uuid()
  return string.format("%%08x-%%04x-4%%03x-a%%03x-%%06x%%06x", math.random(0, 0x7fffffff), math.random(0, 0xffff),
    math.random(0, 0xfff), math.random(0, 0xfff), math.random(0, 0xffffff), math.random(0, 0xffffff))
end
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
    sessions = [(session_for(rep), secrets.token_hex(16)) for rep in team_reps(50)]
    script = RESULTS / "http_post.lua"
    script.write_text(
        LUA
        % {
            "sessions": ", ".join(f'{{"{key}", "{csrf}"}}' for key, csrf in sessions),
            "port": PORT,
            "kpi": Kpi.objects.get(name="Bench revenue").id,
            "today": timezone.localdate().isoformat(),
        }
    )
    name = connection.settings_dict["NAME"]
    connection.close()
    with celery_worker(name, queues="recompute"), gunicorn(name, port=PORT) as base:
        wrk(f"{base}/bench/json/", script=None, seconds=3, connections=args.connections)  # warm up
        baseline = wrk(f"{base}/bench/json/", script=None, seconds=args.seconds, connections=args.connections)
        post = wrk(f"{base}/today/log/", script=str(script), seconds=args.seconds, connections=args.connections)
    forget_recompute_requests()
    ratio = post["rps"] / baseline["rps"]
    rows = [
        ("gunicorn", "2 workers × 8 threads (gthread); wrk: 2 threads, "
                     f"{args.connections} connections, {args.seconds} s each"),
        ("dataset", f"{dataset['entries']:,} entries"),
        ("minimal Django JSON view", f"{baseline['rps']:,.0f} req/s, p50 {baseline['p50']}"),
        ("progress POST (Today log, htmx)", f"{post['rps']:,.0f} req/s, p50 {post['p50']}, {post['errors']} errors"),
        ("POST / JSON view", f"{ratio:.2f}x"),
    ]  # fmt: skip
    report(
        "http",
        rows,
        verdicts=[
            verdict("progress POST ÷ minimal JSON view (req/s)", ratio, at_least=0.5, unit="x"),
            verdict("failed POSTs", post["errors"], at_most=0),
        ],
        extra={"baseline": baseline, "post": post},
    )


if __name__ == "__main__":
    main()
