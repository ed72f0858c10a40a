"""`communitas backup` and `restore`: an encrypted archive of the whole database that restores,
row for row and with an intact audit chain, only into an empty database.

The first half runs in-process against the test database (SQLite or PostgreSQL); the second
half runs the real commands in subprocesses: a seeded demo community is backed up and restored
into fresh databases of its own (throwaway PostgreSQL databases when DATABASE_URL is set)."""

import io
import json
import os
import shutil
import subprocess
import sys
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.apps import apps
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.db.migrations.recorder import MigrationRecorder

from communitas.core import backup
from communitas.core.audit import audit_verify
from communitas.core.models import AuditChainHead, AuditEntry
from communitas.participants.models import Participant, SupportPerson
from tests.factories import OrganizationFactory
from tests.outcomes_helpers import baseline_link
from tests.session_helpers import setting

PASSPHRASE = "a long and private passphrase"
ENV = backup.DEFAULT_PASSPHRASE_ENV


@pytest.fixture
def passphrase(monkeypatch):
    monkeypatch.setenv(ENV, PASSPHRASE)
    return PASSPHRASE


@pytest.fixture
def world(org, other_org, alice, participant, outsider_participant):
    """Two organizations' people, a staffed program with consents, intakes and a session, and
    an outcome schedule with a link: every kind of value (encrypted text, dates, JSON, decimals)."""
    setting(org, alice, people=2)
    baseline_link(org, participant)
    return org


def every_row() -> dict[str, list]:
    """Every row of every table the archive holds, read through the ORM (so decrypted)."""
    rows = {}
    for model in apps.get_models(include_auto_created=True):
        label = model._meta.label_lower
        if label in backup.EXCLUDED or not model._meta.managed or model._meta.proxy:
            continue
        names = [f.attname for f in model._meta.concrete_fields]
        rows[label] = [list(r) for r in model._base_manager.order_by("pk").values_list(*names)]
    return rows


def without_the_restore(rows: dict[str, list], before: dict[str, list]) -> dict[str, list]:
    """``rows`` minus the restore's own audit entry, with the system chain head checked and set
    back to where it stood."""
    names = [f.attname for f in AuditEntry._meta.concrete_fields]
    action, chain = names.index("action"), names.index("chain")
    rows = dict(rows)
    restored = [r for r in rows["core.auditentry"] if r[action] == "core.backup.restored"]
    assert len(restored) == 1 and restored[0][chain] == "system"
    rows["core.auditentry"] = [r for r in rows["core.auditentry"] if r[action] != "core.backup.restored"]
    head_names = [f.attname for f in AuditChainHead._meta.concrete_fields]
    c, seq = head_names.index("chain"), head_names.index("seq")
    old = {r[c]: r for r in before["core.auditchainhead"]}
    heads = []
    for head in rows["core.auditchainhead"]:
        if head[c] == "system" and "system" in old:
            assert head[seq] == old["system"][seq] + 1
            head = old["system"]
        heads.append(head)
    rows["core.auditchainhead"] = heads
    return rows


def run_backup(path: Path, *extra: str) -> str:
    out = io.StringIO()
    call_command("backup", "--out", str(path), *extra, stdout=out)
    return out.getvalue()


def run_restore(path: Path) -> str:
    out = io.StringIO()
    call_command("restore", "--in", str(path), stdout=out)
    return out.getvalue()


def archive_members(path: Path) -> dict[str, bytes]:
    with backup._open_sealed(path, PASSPHRASE) as reader:
        return dict(backup._members(reader))


def test_it_keeps_encrypted_columns_as_ciphertext_and_leaves_the_keys_out(world, participant, passphrase, tmp_path):
    out = run_backup(tmp_path / "b.cbk")
    blob = (tmp_path / "b.cbk").read_bytes()
    members = archive_members(tmp_path / "b.cbk")
    plain = b"".join(members.values())
    assert "field keys not included" in out
    assert "keys.json" not in members
    for secret in ("Marisol Quispe", "marisol@example.net", "+1 503 555 0147", "Tomás Quispe"):
        assert secret.encode() not in plain and secret.encode() not in blob
    with connection.cursor() as cursor:
        cursor.execute("SELECT email FROM participants_participant WHERE id = %s", [participant.pk])
        (stored,) = cursor.fetchone()
    manifest = json.loads(members["manifest.json"])
    person = next(m for m in manifest["models"] if m["label"] == "participants.participant")
    assert "email" in person["encrypted_columns"]
    assert stored.startswith("enc1$") and f'"{stored}"'.encode() in members[person["parts"][0]["name"]]
    for key in [*backup.settings.FIELD_ENCRYPTION_KEYS, backup.settings.SEARCH_INDEX_KEY]:
        assert key.encode() not in plain


def test_it_writes_a_manifest_of_counts_hashes_and_migrations(world, passphrase, tmp_path):
    before = {label: len(rows) for label, rows in every_row().items()}
    run_backup(tmp_path / "b.cbk")
    members = archive_members(tmp_path / "b.cbk")
    assert list(members)[-1] == "manifest.json"
    manifest = json.loads(members.pop("manifest.json"))
    assert manifest["format_version"] == 1 and manifest["communitas_version"]
    assert manifest["excluded_models"] == ["sessions.session"]
    counts = {m["label"]: m["rows"] for m in manifest["models"]}
    assert counts == before
    assert manifest["total_rows"] == sum(counts.values())
    applied = MigrationRecorder(connection).applied_migrations()
    assert sum(len(names) for names in manifest["migrations"].values()) == len(applied)
    parts = {p["name"]: p["sha256"] for m in manifest["models"] for p in m["parts"]}
    assert parts == {name: backup.hashlib.sha256(data).hexdigest() for name, data in members.items()}
    assert AuditEntry.objects.filter(action="core.backup.created").count() == 1


@pytest.mark.django_db(transaction=True)
def test_it_restores_every_row_into_an_emptied_database(world, passphrase, tmp_path):
    before = every_row()
    run_backup(tmp_path / "b.cbk")
    call_command("flush", interactive=False, verbosity=0)  # migrated and empty, content types re-made
    assert Participant.objects.count() == 0

    out = run_restore(tmp_path / "b.cbk")

    assert "audit chain intact" in out
    assert without_the_restore(every_row(), before) == before
    assert audit_verify()[1] is None
    # New rows still get fresh primary keys (PostgreSQL sequences were reset after the load).
    OrganizationFactory(name="After the restore", slug="after-restore")
    assert audit_verify()[1] is None


@pytest.mark.django_db(transaction=True)
def test_it_rolls_back_and_exits_1_when_a_table_comes_back_short(world, passphrase, tmp_path, monkeypatch):
    run_backup(tmp_path / "b.cbk")
    call_command("flush", interactive=False, verbosity=0)
    real_insert = backup._insert

    def insert_all_but_support_people(table, data, conn):
        if table.model is not SupportPerson:
            real_insert(table, data, conn)

    monkeypatch.setattr(backup, "_insert", insert_all_but_support_people)

    with pytest.raises(CommandError) as failure:
        run_restore(tmp_path / "b.cbk")

    assert failure.value.returncode == 1
    assert "participants.supportperson: 0 rows, archive has 2" in str(failure.value)
    assert Participant.objects.count() == 0 and AuditEntry.objects.count() == 0


def refusal(path: Path) -> CommandError:
    with pytest.raises(CommandError) as refused:
        run_restore(path)
    assert refused.value.returncode == 2
    assert "nothing was written" in str(refused.value)
    return refused.value


def test_it_refuses_a_wrong_passphrase(world, passphrase, tmp_path, monkeypatch):
    run_backup(tmp_path / "b.cbk")
    monkeypatch.setenv(ENV, "not the passphrase at all")
    assert "wrong passphrase" in str(refusal(tmp_path / "b.cbk"))


@pytest.mark.parametrize(
    "damage",
    [
        lambda data: data[:300] + bytes([data[300] ^ 1]) + data[301:],  # a byte of the first segment
        lambda data: data[:-1] + bytes([data[-1] ^ 0x80]),  # the last byte
        lambda data: data[:-20],  # truncated
        lambda data: data + b"\0" * 40,  # extended
        lambda data: data.replace(b'"n": 131072', b'"n": 65536'),  # weaker key derivation in the header
    ],
    ids=["altered", "altered-tag", "truncated", "extended", "header"],
)
def test_it_refuses_a_damaged_archive(world, passphrase, tmp_path, damage):
    run_backup(tmp_path / "b.cbk")
    (tmp_path / "d.cbk").write_bytes(damage((tmp_path / "b.cbk").read_bytes()))
    assert any(word in str(refusal(tmp_path / "d.cbk")) for word in ("altered", "damaged"))


def test_it_refuses_a_database_that_is_not_empty(world, passphrase, tmp_path):
    run_backup(tmp_path / "b.cbk")
    count = AuditEntry.objects.count()
    assert "the target database is not empty" in str(refusal(tmp_path / "b.cbk"))
    assert AuditEntry.objects.count() == count


def test_it_refuses_a_database_at_other_migrations(world, passphrase, tmp_path):
    run_backup(tmp_path / "b.cbk")
    MigrationRecorder(connection).migration_qs.filter(app="core").order_by("-id").first().delete()
    assert "migrations differ from the archive's" in str(refusal(tmp_path / "b.cbk"))


def test_it_takes_the_passphrase_only_from_the_environment_and_never_overwrites(world, tmp_path, monkeypatch):
    monkeypatch.delenv(ENV, raising=False)
    with pytest.raises(CommandError, match=f"environment variable {ENV}"):
        run_backup(tmp_path / "b.cbk")
    monkeypatch.setenv("OTHER_PASSPHRASE", "short")
    with pytest.raises(CommandError, match="shorter than 12"):
        run_backup(tmp_path / "b.cbk", "--passphrase-env", "OTHER_PASSPHRASE")
    monkeypatch.setenv(ENV, PASSPHRASE)
    (tmp_path / "b.cbk").write_text("keep me")
    with pytest.raises(CommandError, match="already exists"):
        run_backup(tmp_path / "b.cbk")
    assert (tmp_path / "b.cbk").read_text() == "keep me"
    assert not list(tmp_path.glob(".*partial"))


# --- whole processes: the demo community into fresh databases ----------------------------------

DATABASE_URL = os.environ.get("DATABASE_URL", "")
ON_POSTGRES = DATABASE_URL.startswith(("postgres://", "postgresql://"))
KEY_FILES = ("field_keys", "search_key", "secret_key")
DUMP = """
import json, sys, django
django.setup()
from django.apps import apps
from communitas.core.audit import audit_verify
rows = {}
for model in apps.get_models(include_auto_created=True):
    label = model._meta.label_lower
    if label == "sessions.session" or not model._meta.managed or model._meta.proxy:
        continue
    names = [f.attname for f in model._meta.concrete_fields]
    rows[label] = [list(r) for r in model._base_manager.order_by("pk").values_list(*names)]
assert audit_verify()[1] is None
with open(sys.argv[1], "w") as fh:
    json.dump(rows, fh, default=str)
"""
CREATE = """
import django
django.setup()
from communitas.accounts.services import organization_create
print(organization_create(name="After the restore", slug="after-restore", kind="service_center").pk)
"""


def _postgres(url_path: str, sql: str) -> None:
    import psycopg

    url = urllib.parse.urlsplit(DATABASE_URL)._replace(path=url_path).geturl()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(sql)


@dataclass
class Install:
    """One Communitas installation: a data directory and, on PostgreSQL, a database of its own."""

    data_dir: Path
    database: str | None = None

    def env(self, passphrase: str = PASSPHRASE) -> dict:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("COMMUNITAS_", "DATABASE_URL"))}
        env |= {"COMMUNITAS_DATA_DIR": str(self.data_dir), "DJANGO_SETTINGS_MODULE": "communitas.settings"}
        env[ENV] = passphrase
        if self.database:
            env["DATABASE_URL"] = urllib.parse.urlsplit(DATABASE_URL)._replace(path=f"/{self.database}").geturl()
        return env

    def run(self, *args: str, passphrase: str = PASSPHRASE) -> subprocess.CompletedProcess:
        command = [sys.executable, "-m", "communitas", *args]
        return subprocess.run(command, env=self.env(passphrase), capture_output=True, text=True, check=False)

    def script(self, code: str, *args: str) -> str:
        command = [sys.executable, "-c", code, *args]
        return subprocess.run(command, env=self.env(), capture_output=True, text=True, check=True).stdout

    def rows(self) -> dict:
        """Every row through the ORM (decrypted), after checking every audit chain."""
        path = self.data_dir / "rows.json"
        self.script(DUMP, str(path))
        return json.loads(path.read_text())


class Installs:
    """Fresh installations cloned from one migrated, empty template; throwaway databases dropped."""

    def __init__(self, root: Path, prefix: str):
        self.root, self.prefix, self.databases = root, prefix, []
        self.template = self.new("template", postgres=ON_POSTGRES)
        assert self.template.run("migrate", "-v0").returncode == 0

    def new(self, name: str, *, postgres: bool, template: Install | None = None) -> Install:
        data_dir = self.root / name
        data_dir.mkdir()
        database = None
        if postgres:
            database = f"{self.prefix}_{name}"
            _postgres("/postgres", f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
            clone = f' TEMPLATE "{template.database}"' if template and template.database else ""
            _postgres("/postgres", f'CREATE DATABASE "{database}"{clone}')
            self.databases.append(database)
        elif template:
            for path in template.data_dir.glob("communitas.sqlite3*"):
                shutil.copy(path, data_dir / path.name)
        return Install(data_dir, database)

    def fresh(self, name: str, *, keys_from: Install | None = None) -> Install:
        install = self.new(name, postgres=ON_POSTGRES, template=self.template)
        for key in KEY_FILES if keys_from else ():
            shutil.copy(keys_from.data_dir / key, install.data_dir / key)
        return install

    def drop(self) -> None:
        for database in self.databases:
            _postgres("/postgres", f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


@dataclass
class Demo:
    installs: Installs
    source: Install
    archive: Path
    rows: dict  # every row when `archive` was made
    archive_with_keys: Path
    rows_with_keys: dict  # the same plus the first backup's audit entry


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    root = tmp_path_factory.mktemp("backup")
    installs = Installs(root, prefix=f"communitas_backup_{os.getpid()}")
    try:
        source = installs.fresh("source")
        assert source.run("seed-demo").returncode == 0
        archive, archive_with_keys = root / "demo.cbk", root / "demo-keys.cbk"
        rows = source.rows()
        made = source.run("backup", "--out", str(archive))
        assert made.returncode == 0, made.stderr
        rows_with_keys = source.rows()
        assert source.run("backup", "--out", str(archive_with_keys), "--include-keys").returncode == 0
        yield Demo(installs, source, archive, rows, archive_with_keys, rows_with_keys)
    finally:
        installs.drop()


def test_it_restores_the_demo_into_a_fresh_database_row_for_row(demo):
    target = demo.installs.fresh("target", keys_from=demo.source)

    restored = target.run("restore", "--in", str(demo.archive))

    assert restored.returncode == 0, restored.stderr
    assert f"restored {sum(map(len, demo.rows.values()))} rows" in restored.stdout
    assert not restored.stderr
    assert len(demo.rows["participants.participant"]) >= 120
    assert without_the_restore(target.rows(), demo.rows) == demo.rows  # decrypted with the same keys
    # Sequences were reset: new rows (an organization, its audit entry) get fresh primary keys.
    assert int(target.script(CREATE)) > max(r[0] for r in demo.rows["accounts.organization"])
    checked = target.run("verify-audit")
    assert checked.returncode == 0, checked.stderr


def test_it_refuses_wrong_passphrases_and_missing_keys_then_restores_with_the_archived_keys(demo):
    target = demo.installs.fresh("keyless")

    wrong = target.run("restore", "--in", str(demo.archive), passphrase="certainly not the passphrase")
    keyless = target.run("restore", "--in", str(demo.archive))
    restored = target.run("restore", "--in", str(demo.archive_with_keys))

    assert wrong.returncode == 2 and "wrong passphrase" in wrong.stderr
    assert keyless.returncode == 2 and "which this installation does not have" in keyless.stderr
    assert restored.returncode == 0, restored.stderr  # the refusals wrote nothing: still empty
    assert "installed from the archive: field_keys, search_key, secret_key" in restored.stdout
    for key in KEY_FILES:
        assert (target.data_dir / key).read_text().strip() == (demo.source.data_dir / key).read_text().strip()
        assert oct((target.data_dir / key).stat().st_mode & 0o777) == "0o600"
    assert without_the_restore(target.rows(), demo.rows_with_keys) == demo.rows_with_keys


@pytest.mark.skipif(not ON_POSTGRES, reason="the other engine is PostgreSQL")
def test_it_restores_a_postgresql_archive_into_sqlite(demo):
    target = demo.installs.new("sqlite", postgres=False)
    for key in KEY_FILES:
        shutil.copy(demo.source.data_dir / key, target.data_dir / key)
    assert target.run("migrate", "-v0").returncode == 0

    restored = target.run("restore", "--in", str(demo.archive))

    assert restored.returncode == 0, restored.stderr
    assert without_the_restore(target.rows(), demo.rows) == demo.rows
