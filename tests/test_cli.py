import io
import json
import os
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from django.core.management import call_command

from communitas.cli import main
from communitas.demo.management.commands import demo as demo_command
from communitas.participants.models import Participant


def _seed_json() -> dict:
    out = io.StringIO()
    call_command("seed_demo", json=True, stdout=out)
    return json.loads(out.getvalue())


@pytest.mark.django_db
def test_it_seeds_a_realistic_demo_and_prints_working_logins(client):
    data = _seed_json()
    slugs = [o["slug"] for o in data["organizations"]]
    assert slugs == ["cascadia", "stillwater"]
    roles = {u["role"] for o in data["organizations"] for u in o["users"]}
    assert {"coordinator", "facilitator", "researcher", "admin", "ceremonial_guide"} <= roles
    assert Participant.objects.count() >= 120
    coordinator = data["organizations"][0]["users"][0]
    assert set(coordinator) == {"email", "password", "role", "api_token"}
    r = client.get("/api/v1/participants?limit=5", HTTP_AUTHORIZATION=f"Bearer {coordinator['api_token']}")
    assert r.status_code == 200 and r.json()["count"] == 75
    r = client.post("/accounts/login/", {"email": coordinator["email"], "password": coordinator["password"]})
    assert r.status_code == 302


@pytest.mark.django_db
def test_it_seeds_once_and_reissues_tokens(client):
    first = _seed_json()
    count = Participant.objects.count()
    second = _seed_json()
    assert Participant.objects.count() == count
    old = first["organizations"][1]["users"][0]["api_token"]
    new = second["organizations"][1]["users"][0]["api_token"]
    assert client.get("/api/v1/participants", HTTP_AUTHORIZATION=f"Bearer {old}").status_code == 401
    assert client.get("/api/v1/participants", HTTP_AUTHORIZATION=f"Bearer {new}").status_code == 200


@pytest.mark.django_db
def test_it_demo_migrates_seeds_and_serves(monkeypatch):
    served = {}
    monkeypatch.setattr(demo_command, "run_server", lambda **kw: served.update(kw))
    out = io.StringIO()
    call_command("demo", stdout=out)
    assert served == {"host": "127.0.0.1", "port": 8000}
    assert "maya.coordinator@cascadia.example" in out.getvalue()
    assert "http://127.0.0.1:8000/" in out.getvalue()


@pytest.mark.django_db
def test_it_maps_hyphenated_commands(capsys):
    main(["communitas", "verify-audit"])
    assert "audit chain intact" in capsys.readouterr().out


# --- whole-process checks against a real SQLite file in a fresh data directory ---------------


def _env(data_dir: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COMMUNITAS_", "DATABASE_URL"))}
    env["COMMUNITAS_DATA_DIR"] = str(data_dir)
    return env


def _communitas(data_dir: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "communitas", *args], env=_env(data_dir), capture_output=True, text=True, check=False
    )


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("data")
    assert _communitas(data_dir, "migrate", "-v0").returncode == 0
    assert _communitas(data_dir, "seed-demo").returncode == 0
    return data_dir


def test_it_generates_keys_into_a_fresh_data_directory(demo_dir):
    for name in ("secret_key", "field_keys", "search_key"):
        path = demo_dir / name
        assert path.exists() and oct(path.stat().st_mode & 0o777) == "0o600"


def test_it_leaves_no_participant_identity_in_the_sqlite_file(demo_dir):
    script = (
        "import django, json; django.setup()\n"
        "from communitas.participants.models import Participant\n"
        "print(json.dumps([[p.display_name, p.email, p.phone] for p in Participant.objects.all()[:25]]))"
    )
    env = _env(demo_dir) | {"DJANGO_SETTINGS_MODULE": "communitas.settings"}
    result = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True)
    people = json.loads(result.stdout)
    sqlite3.connect(demo_dir / "communitas.sqlite3").execute("PRAGMA wal_checkpoint(TRUNCATE)").close()
    blob = b"".join(p.read_bytes() for p in demo_dir.glob("communitas.sqlite3*"))
    assert len(people) == 25
    for name, email, phone in people:
        for secret in (name, email, phone):
            assert secret.encode() not in blob, secret
            assert secret.encode("utf-16-le") not in blob, secret


def test_verify_audit_exits_non_zero_and_names_the_altered_row(demo_dir, tmp_path):
    assert _communitas(demo_dir, "verify-audit").returncode == 0
    db = sqlite3.connect(demo_dir / "communitas.sqlite3")
    victim = db.execute("SELECT id FROM core_auditentry ORDER BY id LIMIT 1 OFFSET 40").fetchone()[0]
    db.execute("UPDATE core_auditentry SET action = 'accounts.user.deleted' WHERE id = ?", (victim,))
    db.commit()
    try:
        result = _communitas(demo_dir, "verify-audit")
        assert result.returncode == 1
        assert f"entry id={victim}" in result.stderr
    finally:
        db.execute("UPDATE core_auditentry SET action = ? WHERE id = ?", ("placeholder", victim))
        db.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_it_serves_the_app(demo_dir):
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "communitas", "serve", "--port", str(port)],
        env=_env(demo_dir),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        body = None
        deadline = time.monotonic() + 60  # start-up imports take seconds on a busy 2-core machine
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/accounts/login/", timeout=2) as r:
                    body = r.read().decode()
                break
            except OSError:
                time.sleep(0.1)
        assert body is not None and "Communitas" in body
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/static/communitas/htmx.min.js", timeout=2) as r:
            assert r.status == 200
    finally:
        proc.terminate()
        proc.wait(timeout=15)
