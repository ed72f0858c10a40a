"""Load benchmark: coordinator, researcher and participant journeys under gunicorn on PostgreSQL.

    uv run python benchmarks/bench_load.py [--participants 100000] [--seconds 60] [--users 4]
                                           [--workers 3] [--reuse] [--small 2000]

What it does, in one run:
1. creates the database ``communitas_load_<N>`` on the PostgreSQL server in ``--server``
   (default postgres://postgres@127.0.0.1:5432), migrates it and fills it with
   ``communitas seed-scale --participants N`` (``--reuse`` keeps a database filled before);
2. starts gunicorn on it (``--workers``, sync workers) and signs the staff in over HTTP;
3. runs ``--users`` virtual users for ``--seconds``: each walks its journey (coordinator,
   facilitator, researcher or participant, round-robin) page after page with no think time, and
   every journey also fetches ``/robots.txt``, a trivial Django view, so its latency is measured
   under the same load as the real pages;
4. prints p50/p95/p99 per page and API endpoint, errors, and each p95 as a ratio to the trivial
   view's p95; then the number of SQL queries each page makes at N and at ``--small`` participants
   (a second, small database), which must be equal: query counts constant in N.

Targets (issue 9): p95 < 150 ms for list, detail and dashboard pages, zero errors, constant query
counts. Load generator and server share this machine's cores: the absolute figures are those of
a small box under saturation, the ratios are the portable part. The participant-link rate limit
is raised for the run (every virtual participant comes from 127.0.0.1). Results are also written
as JSON to ``benchmarks/results/load-<N>.json``.
"""

from __future__ import annotations

import argparse
import http.cookiejar
import json
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from contextlib import closing
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
TRIVIAL = "/robots.txt"
TARGET_MS = 150.0


def _free_port() -> int:
    with closing(socket.socket()) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env(database_url: str, data_dir: Path) -> dict:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=database_url,
        COMMUNITAS_DATA_DIR=str(data_dir),
        DJANGO_SETTINGS_MODULE="communitas.settings",
        COMMUNITAS_LINK_RATE_PER_MINUTE="1000000",
        COMMUNITAS_LINK_FAILURE_LIMIT="1000000",
        PYTHONPATH=str(REPO),
    )
    return env


def _communitas(env: dict, *args: str, quiet: bool = False) -> None:
    out = subprocess.DEVNULL if quiet else None
    subprocess.run([sys.executable, "-m", "communitas", *args], env=env, cwd=REPO, check=True, stdout=out)  # noqa: S603


def _psql(server: str, sql: str, database: str = "postgres") -> None:
    subprocess.run(["psql", f"{server}/{database}", "-qc", sql], check=True, capture_output=True)  # noqa: S603, S607


def prepare(server: str, participants: int, data_dir: Path, reuse: bool) -> tuple[str, dict]:
    """The database url and seed-scale's manifest for ``participants``, filled now or before."""
    name = f"communitas_load_{participants}"
    url = f"{server}/{name}"
    manifest_path = data_dir / f"{name}.json"
    env = _env(url, data_dir)
    if reuse and manifest_path.exists():
        _communitas(env, "migrate", "--verbosity", "0")  # the code may have moved on since the seeding
        return url, json.loads(manifest_path.read_text())
    _psql(server, f"DROP DATABASE IF EXISTS {name}")
    _psql(server, f"CREATE DATABASE {name}")
    started = time.perf_counter()
    _communitas(env, "migrate", "--verbosity", "0")
    _communitas(env, "seed-scale", "--participants", str(participants), "--manifest", str(manifest_path))
    _psql(server, "ANALYZE", database=name)  # planner statistics, as autovacuum would gather later
    print(f"  seeded {participants:,} participants in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    return url, json.loads(manifest_path.read_text())


class Browser:
    """One signed-in person: cookies, CSRF, no redirects followed silently for sign-in."""

    def __init__(self, base: str):
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def get(self, path: str, headers: dict | None = None) -> tuple[int, bytes]:
        request = urllib.request.Request(self.base + path, headers=headers or {})  # noqa: S310
        try:
            with self.opener.open(request, timeout=60) as r:
                return r.status, r.read()
        except urllib.error.HTTPError as e:
            return e.code, e.read()

    def sign_in(self, email: str, password: str) -> None:
        _status, page = self.get("/accounts/login/")
        csrf = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page)
        assert csrf, "no CSRF token on the sign-in page"
        body = urllib.parse.urlencode(
            {"csrfmiddlewaretoken": csrf.group(1).decode(), "email": email, "password": password}
        ).encode()
        request = urllib.request.Request(  # noqa: S310
            self.base + "/accounts/login/", data=body, headers={"Referer": self.base}
        )
        with self.opener.open(request, timeout=60) as r:
            landed = r.geturl()
        assert "/accounts/" not in landed, f"sign-in for {email} did not go through (landed on {landed})"


def journeys(manifest: dict) -> dict[str, list[str]]:
    """Pages and API endpoints each role walks, from the sample rows seed-scale named in its manifest."""
    s = manifest["sample"]
    program, participant = s["program_id"], s["participant_id"]
    return {
        "coordinator": [
            "/participants/",
            f"/participants/?q={urllib.parse.quote(s['participant_search'])}",
            s["participant_path"],
            "/programs/",
            s["program_path"],
            f"/programs/{program}/roster/",
            s["enrollment_path"],
            s["circle_path"],
            s["retreat_path"],
            s["session_path"],
            "/outcomes/",
            f"/outcomes/programs/{program}/",
            f"/outcomes/participants/{participant}/",
            "/safety/alerts/",
            f"/insights/programs/{program}/",
            "/api/v1/participants?limit=50",
            f"/api/v1/participants/{participant}",
            "/api/v1/programs",
            f"/api/v1/programs/{program}/roster?limit=50",
        ],
        "facilitator": [
            "/programs/",
            s["circle_path"],
            s["session_path"],
            "/community/circles/",
            "/safety/alerts/",
        ],
        "researcher": [
            "/insights/",
            f"/insights/programs/{program}/",
        ],
        "participant": [
            s["assessment_link_path"],
            s["space_path"],
        ],
    }


def _api_headers(path: str, tokens: dict, role: str) -> dict:
    return {"Authorization": f"Bearer {tokens[role]}"} if path.startswith("/api/") else {}


def run_load(base: str, manifest: dict, tokens: dict, users: int, seconds: float) -> tuple[dict, dict]:
    """Latencies in ms per (role, path), and error descriptions per (role, path)."""
    walks = journeys(manifest)
    roles = [r for r in ("coordinator", "participant", "researcher", "facilitator") if r in walks]
    latencies: dict[tuple[str, str], list[float]] = {}
    errors: dict[tuple[str, str], list[str]] = {}
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds

    def user(index: int) -> None:
        role = roles[index % len(roles)]
        browser = Browser(base)
        if role != "participant":
            login = manifest["logins"][role]
            browser.sign_in(login["email"], login["password"])
        pages = [TRIVIAL, *walks[role]]
        step = 0
        while time.monotonic() < stop_at:
            path = pages[step % len(pages)]
            step += 1
            started = time.perf_counter()
            status, _body = browser.get(path, _api_headers(path, tokens, role))
            elapsed = (time.perf_counter() - started) * 1000
            key = (role if path != TRIVIAL else "baseline", path)
            with lock:
                latencies.setdefault(key, []).append(elapsed)
                if status >= 400:
                    errors.setdefault(key, []).append(str(status))

    threads = [threading.Thread(target=user, args=(i,)) for i in range(users)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return latencies, errors


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def summarize(latencies: dict, errors: dict) -> list[dict]:
    trivial = _percentile(latencies[("baseline", TRIVIAL)], 95)
    rows = []
    for (role, path), values in sorted(latencies.items()):
        p95 = _percentile(values, 95)
        rows.append(
            {
                "role": role,
                "path": path,
                "requests": len(values),
                "errors": len(errors.get((role, path), [])),
                "p50_ms": round(statistics.median(values), 1),
                "p95_ms": round(p95, 1),
                "p99_ms": round(_percentile(values, 99), 1),
                "ratio_p95_to_trivial": round(p95 / trivial, 2),
                "meets_target": p95 < TARGET_MS and not errors.get((role, path)),
            }
        )
    return rows


def staff_tokens(env: dict, manifest: dict) -> dict:
    """API tokens for the staff in the manifest, made in a subprocess on the benchmark database."""
    code = (
        "import json, sys, django; django.setup();"
        "from communitas.accounts.models import User, Organization;"
        "from communitas.accounts.services import api_token_create;"
        "m = json.loads(sys.argv[1]); org = Organization.objects.get(pk=m['organization']['id']);"
        "print(json.dumps({r: api_token_create(user=User.objects.get(email=l['email']), organization=org,"
        " name='load benchmark', days=1)[1] for r, l in m['logins'].items()}))"
    )
    out = subprocess.run(  # noqa: S603
        [sys.executable, "-c", code, json.dumps(manifest)],
        env=env,
        cwd=REPO,
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


QUERY_COUNT_CODE = """
import json, sys, django
django.setup()
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from communitas.accounts.models import User
sys.path.insert(0, sys.argv[2])
from bench_load import journeys
manifest, tokens = json.loads(sys.argv[1]), json.loads(sys.argv[3])
counts = {}
for role, pages in journeys(manifest).items():
    client = Client()
    if role != "participant":
        client.force_login(User.objects.get(email=manifest["logins"][role]["email"]))
    for path in pages:
        headers = {"HTTP_AUTHORIZATION": "Bearer " + tokens[role]} if path.startswith("/api/") else {}
        client.get(path, **headers)  # warm caches the page may fill on first use
        with CaptureQueriesContext(connection) as queries:
            status = client.get(path, **headers).status_code
        counts[role + " " + path] = [len(queries), status]
print(json.dumps(counts))
"""


def query_counts(env: dict, manifest: dict, tokens: dict) -> dict:
    out = subprocess.run(  # noqa: S603
        [sys.executable, "-c", QUERY_COUNT_CODE, json.dumps(manifest), str(REPO / "benchmarks"), json.dumps(tokens)],
        env={**env, "COMMUNITAS_ALLOWED_HOSTS": "testserver,127.0.0.1,localhost"},
        cwd=REPO,
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


class Gunicorn:
    def __init__(self, env: dict, workers: int):
        self.port = _free_port()
        command = [
            sys.executable,
            "-m",
            "gunicorn",
            "communitas.wsgi",
            "-b",
            f"127.0.0.1:{self.port}",
            "-w",
            str(workers),
            "--timeout",
            "120",
        ]
        self.process = subprocess.Popen(command, env=env, cwd=REPO, start_new_session=True)  # noqa: S603
        self.base = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(self.base + "/healthz", timeout=5):  # noqa: S310
                    return
            except OSError:
                time.sleep(0.3)
        raise RuntimeError("gunicorn did not start")

    def stop(self) -> None:
        os.killpg(self.process.pid, signal.SIGTERM)
        self.process.wait(timeout=60)


def _path_label(path: str) -> str:
    """The page a path stands for: link tokens and the search term folded."""
    path = re.sub(r"\?q=[^&]*", "?q=<name>", path)
    return re.sub(r"/(a|c)/[^/]+/", r"/\1/<token>/", path)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--participants", type=int, default=100_000)
    parser.add_argument("--small", type=int, default=2_000, help="participants in the query-count comparison")
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--users", type=int, default=4)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--server", default="postgres://postgres@127.0.0.1:5432")
    parser.add_argument("--reuse", action="store_true", help="keep databases seeded by an earlier run")
    parser.add_argument("--data-dir", type=Path, default=Path(tempfile.gettempdir()) / "communitas-load")
    args = parser.parse_args()
    args.data_dir.mkdir(parents=True, exist_ok=True)

    print(f"Preparing {args.participants:,} participants on PostgreSQL ...", file=sys.stderr)
    url, manifest = prepare(args.server, args.participants, args.data_dir, args.reuse)
    env = _env(url, args.data_dir)
    tokens = staff_tokens(env, manifest)
    server = Gunicorn(env, args.workers)
    try:
        Browser(server.base).get(TRIVIAL)
        run_load(server.base, manifest, tokens, args.users, min(10.0, args.seconds))  # warm-up
        latencies, errors = run_load(server.base, manifest, tokens, args.users, args.seconds)
    finally:
        server.stop()
    rows = summarize(latencies, errors)

    print(f"Preparing {args.small:,} participants for the query-count comparison ...", file=sys.stderr)
    small_url, small_manifest = prepare(args.server, args.small, args.data_dir, args.reuse)
    small_env = _env(small_url, args.data_dir)
    big_counts = query_counts(env, manifest, tokens)
    small_counts = query_counts(small_env, small_manifest, staff_tokens(small_env, small_manifest))
    small_by_label = {_path_label(re.sub(r"\d+", "<id>", k)): v for k, v in small_counts.items()}

    print(
        f"\nLoad: {args.participants:,} participants, PostgreSQL, gunicorn -w {args.workers}, "
        f"{args.users} virtual users, {args.seconds:.0f} s"
    )
    header = (
        f"{'role':<12} {'page / endpoint':<52} {'n':>6} {'err':>4} {'p50':>7} {'p95':>7} {'p99':>7} {'p95/triv':>8}"
    )
    print(header + f" {'queries N/small':>16}")
    print("-" * (len(header) + 17))
    failures = 0
    for row in rows:
        key = f"{row['role']} {row['path']}"
        big = big_counts.get(key, [None])[0]
        small = small_by_label.get(_path_label(re.sub(r"\d+", "<id>", key)), [None])[0]
        row["queries"], row["queries_small"] = big, small
        row["queries_constant"] = row["role"] == "baseline" or (big is not None and big == small)
        ok = row["role"] == "baseline" or (row["meets_target"] and row["queries_constant"])
        failures += not ok
        print(
            f"{row['role']:<12} {_path_label(row['path'])[:52]:<52} {row['requests']:>6} {row['errors']:>4} "
            f"{row['p50_ms']:>7.1f} {row['p95_ms']:>7.1f} {row['p99_ms']:>7.1f} {row['ratio_p95_to_trivial']:>7.2f}x"
            f" {'' if big is None else f'{big}/{small}':>16}{'' if ok else '  MISSES TARGET'}"
        )
    total = sum(r["requests"] for r in rows)
    errs = sum(r["errors"] for r in rows)
    print(
        f"\n{total:,} requests, {errs} errors; {failures} rows miss the target (p95 < {TARGET_MS:.0f} ms, "
        "no errors, queries constant in N)"
    )
    results = REPO / "benchmarks" / "results"
    results.mkdir(exist_ok=True)
    (results / f"load-{args.participants}.json").write_text(json.dumps(rows, indent=2) + "\n")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
