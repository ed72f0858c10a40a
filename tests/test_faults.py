"""Faults: the server killed mid-submit, and the database restarted under a running server.

These run the production shape for real: gunicorn in a subprocess, on a SQLite file and on a private
PostgreSQL cluster this test starts (initdb + pg_ctl as the ``postgres`` user, on its own port, so
restarting it touches nothing else). Submissions go through the staff response API with a client
``submission_id``, so a client that never got an answer can safely send again.

The promise checked: every submission the server acknowledged (200/201) is stored; one it did not
acknowledge is either stored once or not at all, and sending it again stores it exactly once.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from contextlib import closing
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
PHQ9_ZEROS = {str(n): 0 for n in range(1, 10)}
PARTICIPANTS = 40


def _free_port() -> int:
    with closing(socket.socket()) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env(data_dir: Path, database_url: str | None) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(
        COMMUNITAS_DATA_DIR=str(data_dir),
        DJANGO_SETTINGS_MODULE="communitas.settings",
        COMMUNITAS_TASKS_BACKEND="django_tasks.backends.immediate.ImmediateBackend",
        PYTHONPATH=str(REPO),
    )
    if database_url:
        env["DATABASE_URL"] = database_url
    return env


def _run(env: dict, *args: str) -> str:
    done = subprocess.run([sys.executable, *args], env=env, cwd=REPO, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


class Server:
    """gunicorn with two workers in its own process group, so a kill takes the whole server."""

    def __init__(self, env: dict, log: Path):
        self.env, self.log, self.port = env, log, _free_port()
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        command = [sys.executable, "-m", "gunicorn", "communitas.wsgi", "-b", f"127.0.0.1:{self.port}", "-w", "2"]
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(
                command, env=self.env, cwd=REPO, stdout=log, stderr=log, start_new_session=True
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.health() in (200, 503):
                return
            time.sleep(0.2)
        raise AssertionError(f"server did not start: {self.log.read_text()[-2000:]}")

    def health(self) -> int | None:
        try:
            with urllib.request.urlopen(self.url + "/healthz", timeout=5) as r:
                return r.status
        except urllib.error.HTTPError as e:
            return e.code
        except OSError:
            return None

    def kill(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=30)


def _submit(server: Server, token: str, assessment_id: int, submission_id: str) -> int | None:
    """The HTTP status, or None when no answer came back (connection refused or cut)."""
    body = json.dumps({"answers": PHQ9_ZEROS, "submission_id": submission_id}).encode()
    request = urllib.request.Request(
        f"{server.url}/api/v1/assessments/{assessment_id}/response",
        data=body,
        method="POST",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code
    except OSError:
        return None


@pytest.fixture(scope="module")
def private_postgres():
    """A PostgreSQL cluster of this test's own: (url of a new database by name, pg_ctl callable)."""
    bins = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    if not bins or os.geteuid() != 0 or shutil.which("runuser") is None:
        pytest.skip("needs PostgreSQL's server binaries and root to run them as the postgres user")
    bindir = bins[-1].parent
    home = Path(tempfile.mkdtemp(prefix="communitas-pg-", dir="/tmp"))
    shutil.chown(home, "postgres", "postgres")
    data, port = home / "data", _free_port()

    def as_postgres(*args: str) -> None:
        subprocess.run(["runuser", "-u", "postgres", "--", *args], check=True, capture_output=True, timeout=120)

    def pg_ctl(action: str, *extra: str) -> None:
        options = f"-p {port} -k {home} -c listen_addresses=127.0.0.1 -c fsync=off"
        as_postgres(
            str(bindir / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(home / "log"), "-w", action, *extra
        )

    as_postgres(str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8")
    pg_ctl("start")

    def database(name: str) -> str:
        as_postgres(str(bindir / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", name)
        return f"postgres://postgres@127.0.0.1:{port}/{name}"

    yield database, pg_ctl
    subprocess.run(
        ["runuser", "-u", "postgres", "--", str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"]
    )
    shutil.rmtree(home, ignore_errors=True)


def _deployment(tmp_path_factory, database_url: str | None):
    data_dir = tmp_path_factory.mktemp("fault-data")
    env = _env(data_dir, database_url)
    _run(env, "-m", "communitas", "migrate", "--verbosity", "0")
    seeded = json.loads(_run(env, "-m", "tests.fault_setup", "setup", str(PARTICIPANTS)).splitlines()[-1])
    return env, Server(env, data_dir / "server.log"), seeded


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def deployment(request, tmp_path_factory):
    url = request.getfixturevalue("private_postgres")[0]("faults") if request.param == "postgresql" else None
    env, server, seeded = _deployment(tmp_path_factory, url)
    yield env, server, seeded
    server.kill()


def _stored(env: dict) -> dict[int, list[str]]:
    return {int(k): v for k, v in json.loads(_run(env, "-m", "tests.fault_setup", "responses")).items()}


def test_killing_the_server_mid_submit_loses_nothing_it_acknowledged(deployment):
    env, server, seeded = deployment
    token, assessments = seeded["token"], seeded["assessments"][:30]
    submission = {a: uuid.uuid4().hex for a in assessments}
    outcome: dict[int, int | None] = {}
    acknowledged = threading.Semaphore(0)

    def submitter(share: list[int]) -> None:
        for a in share:
            outcome[a] = _submit(server, token, a, submission[a])
            if outcome[a] in (200, 201):
                acknowledged.release()

    server.start()
    workers = [threading.Thread(target=submitter, args=(assessments[i::3],)) for i in range(3)]
    for w in workers:
        w.start()
    for _ in range(8):  # kill once a few are in, with others in flight
        assert acknowledged.acquire(timeout=60)
    server.kill()
    for w in workers:
        w.join(timeout=60)

    acked = {a for a, status in outcome.items() if status in (200, 201)}
    unanswered = [a for a in assessments if a not in acked]
    assert len(acked) >= 8 and unanswered, outcome  # the kill really landed mid-run
    stored = _stored(env)
    assert all(stored.get(a) == [submission[a]] for a in acked)
    assert all(len(stored.get(a, [])) <= 1 for a in unanswered)

    # the client sends what was never answered again, with the same submission ids
    server.start()
    again = {a: _submit(server, token, a, submission[a]) for a in unanswered}
    server.kill()

    assert all(status in (200, 201) for status in again.values()), again
    # 200 means "already stored": exactly those the dying server had committed without answering
    assert {a for a, s in again.items() if s == 200} == {a for a in unanswered if a in stored}
    stored = _stored(env)
    assert all(stored.get(a) == [submission[a]] for a in assessments)


def test_a_postgresql_restart_under_a_running_server_recovers(private_postgres, tmp_path_factory):
    database, pg_ctl = private_postgres
    env, server, seeded = _deployment(tmp_path_factory, database("restarts"))
    token, assessments = seeded["token"], seeded["assessments"]
    submission = {a: uuid.uuid4().hex for a in assessments}
    before, during, after = assessments[:10], assessments[10], assessments[11:]
    server.start()
    try:
        assert [_submit(server, token, a, submission[a]) for a in before] == [201] * len(before)

        pg_ctl("stop", "-m", "fast")
        assert server.health() == 503
        refused = _submit(server, token, during, submission[during])
        pg_ctl("start")

        assert server.health() == 200
        # no error after recovery: every worker's stale connection is checked before use
        assert [_submit(server, token, a, submission[a]) for a in [during, *after]] == [201] * (1 + len(after))
        stored = _stored(env)
    finally:
        server.kill()
    assert refused not in (200, 201) and refused is not None
    assert all(stored.get(a) == [submission[a]] for a in assessments)
