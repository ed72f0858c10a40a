"""Encrypted whole-database backups and verified restores (``communitas backup`` / ``restore``).

Archive format 1: ``MAGIC || u16 header length || header JSON || sealed segments``.

- The header names the key derivation (scrypt, N=2^17, r=8, p=1, random 16-byte salt), the
  cipher (AES-256-GCM), the segment size, a random 7-byte nonce prefix, and ``check``: 16 bytes
  of the scrypt output beyond the key, which tell a wrong passphrase from a damaged archive.
- The payload is cut into 1 MiB segments, each sealed with AES-256-GCM; the nonce is the prefix,
  a 32-bit segment counter and a last-segment flag (the STREAM construction, as in age and Tink)
  and the associated data is the whole header, so reordering, truncating, appending or altering
  any byte fails authentication.
- The plaintext is a zlib-compressed tar stream: ``data/<app.model>/<n>.jsonl`` parts (one JSON
  array per row, columns in manifest order, about 4 MiB each), ``keys.json`` only with
  ``--include-keys``, and ``manifest.json`` last (format, migrations, per-model row counts and
  SHA-256 of the rows, SHA-256 of every part, key fingerprints, created_at, versions).
- Rows hold the values the ORM reads, in a database-independent JSON form, except encrypted
  columns, which are copied as stored ciphertext: the archive never holds decrypted identity.

A restore reads the archive twice: once to authenticate everything and check the manifest before
touching the database, once to load it in one transaction that is rolled back unless the row
counts, the re-read rows and the audit chains all match.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import hmac
import importlib.metadata
import io
import itertools
import json
import os
import re
import struct
import tarfile
import unicodedata
import uuid
import zlib
from collections import defaultdict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, BinaryIO

import django
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt
from django.apps import apps
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.management.color import no_style
from django.db import DEFAULT_DB_ALIAS, connections, models, transaction
from django.db.migrations.recorder import MigrationRecorder
from django.db.models import ExpressionWrapper, F
from django.utils import timezone
from django.utils.duration import duration_iso_string

from communitas.core.audit import audit_record, audit_verify
from communitas.core.crypto import key_id, keyring
from communitas.core.fields import EncryptedMixin

MAGIC = b"CMTSBAK\x01"
FORMAT, FORMAT_VERSION = "communitas-backup", 1
SEGMENT, TAG = 1 << 20, 16
SCRYPT_N, SCRYPT_R, SCRYPT_P, MAX_SCRYPT_N = 1 << 17, 8, 1, 1 << 20
PART_BYTES, MAX_MEMBER, BATCH = 4 << 20, 64 << 20, 1000
MIN_PASSPHRASE = 12
DEFAULT_PASSPHRASE_ENV = "COMMUNITAS_BACKUP_PASSPHRASE"
# Sessions are not kept: everyone signs in again after a restore.
EXCLUDED = frozenset({"sessions.session"})
# `migrate` fills these in every new database; a restore replaces them with the archive's rows
# so that content-type ids referenced elsewhere stay right.
REGENERATED = ("auth.permission", "contenttypes.contenttype")
KEYS_PART, MANIFEST_PART = "keys.json", "manifest.json"
_PART_NAME = re.compile(r"data/[a-z0-9_]+\.[a-z0-9_]+/\d{5}\.jsonl|keys\.json|manifest\.json")
_KEY_SOURCES = {
    "field_keys": "COMMUNITAS_FIELD_KEYS",
    "search_key": "COMMUNITAS_SEARCH_KEY",
    "secret_key": "COMMUNITAS_SECRET_KEY",
}


class BackupError(Exception):
    """The archive cannot be written or read, or the target refuses it; nothing was written."""


class RestoreMismatch(Exception):
    """The loaded rows or audit chains differ from the archive; the restore was rolled back."""


# --- passphrase and sealed stream -----------------------------------------------------------


def passphrase_from_env(variable: str, *, for_writing: bool) -> str:
    value = os.environ.get(variable, "")
    if not value:
        raise BackupError(f"set the archive passphrase in the environment variable {variable}")
    if for_writing and len(value) < MIN_PASSPHRASE:
        raise BackupError(f"the passphrase in {variable} is shorter than {MIN_PASSPHRASE} characters")
    return value


def _derive(passphrase: str, salt: bytes, n: int, r: int, p: int) -> tuple[bytes, bytes]:
    secret = unicodedata.normalize("NFC", passphrase).encode()
    out = Scrypt(salt=salt, length=48, n=n, r=r, p=p).derive(secret)
    return out[:32], out[32:]


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _nonce(prefix: bytes, counter: int, last: bool) -> bytes:
    return prefix + struct.pack(">I?", counter, last)


class _SealedWriter:
    """A write-only file: compresses, cuts into segments and seals each under the passphrase key."""

    def __init__(self, raw: BinaryIO, passphrase: str):
        salt, self._prefix = os.urandom(16), os.urandom(7)
        key, check = _derive(passphrase, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P)
        header = {
            "format": FORMAT,
            "version": FORMAT_VERSION,
            "kdf": {"name": "scrypt", "n": SCRYPT_N, "r": SCRYPT_R, "p": SCRYPT_P, "salt": _b64(salt)},
            "aead": "AES-256-GCM",
            "segment": SEGMENT,
            "nonce_prefix": _b64(self._prefix),
            "check": _b64(check),
            "compression": "zlib",
        }
        self._header = json.dumps(header, sort_keys=True).encode()
        self._raw, self._aead, self._digest = raw, AESGCM(key), hashlib.sha256()
        self._z, self._buf, self._counter = zlib.compressobj(6), bytearray(), 0
        self._emit(MAGIC + struct.pack(">H", len(self._header)) + self._header)

    def write(self, data: bytes) -> int:
        self._buf += self._z.compress(data)
        while len(self._buf) > SEGMENT:  # keep a remainder so the last segment is sealed as last
            self._seal(bytes(self._buf[:SEGMENT]), last=False)
            del self._buf[:SEGMENT]
        return len(data)

    def finish(self) -> str:
        """Seal what is left as the last segment; return the SHA-256 of the archive bytes."""
        self._buf += self._z.flush()
        while len(self._buf) > SEGMENT:
            self._seal(bytes(self._buf[:SEGMENT]), last=False)
            del self._buf[:SEGMENT]
        self._seal(bytes(self._buf), last=True)
        return self._digest.hexdigest()

    def _seal(self, chunk: bytes, *, last: bool) -> None:
        if self._counter >= 1 << 32:
            raise BackupError("database too large for one archive")
        self._emit(self._aead.encrypt(_nonce(self._prefix, self._counter, last), chunk, self._header))
        self._counter += 1

    def _emit(self, data: bytes) -> None:
        self._digest.update(data)
        self._raw.write(data)


class _SealedReader:
    """A read-only file over an archive: authenticates each segment, then decompresses."""

    def __init__(self, raw: BinaryIO, passphrase: str):
        self._raw, self.digest = raw, hashlib.sha256()
        if self._take(len(MAGIC)) != MAGIC:
            raise BackupError("not a Communitas backup archive")
        size = self._take(2)
        self._header = self._take(struct.unpack(">H", size)[0]) if len(size) == 2 else b""
        try:
            header = json.loads(self._header)
            kdf = header["kdf"]
            n, r, p, salt = int(kdf["n"]), int(kdf["r"]), int(kdf["p"]), base64.b64decode(kdf["salt"])
            self._segment, self._prefix = int(header["segment"]), base64.b64decode(header["nonce_prefix"])
            check = base64.b64decode(header["check"])
            supported = header["version"] == FORMAT_VERSION and kdf["name"] == "scrypt"
        except (ValueError, KeyError, TypeError) as exc:
            raise BackupError("the archive header is damaged") from exc
        sane = 2 <= n <= MAX_SCRYPT_N and n & (n - 1) == 0 and 0 < 128 * n * r <= 1 << 30 and 0 < p <= 16
        if not supported or not sane or not 0 < self._segment <= 1 << 24:
            raise BackupError("the archive header names an unsupported format or parameters")
        if len(self._prefix) != 7:
            raise BackupError("the archive header is damaged")
        key, expected = _derive(passphrase, salt, n, r, p)
        if not hmac.compare_digest(check, expected):
            raise BackupError("wrong passphrase (or the archive header was altered)")
        self._aead = AESGCM(key)
        self._plain = self._plaintext()
        self._buf, self._done = bytearray(), False

    def _take(self, n: int) -> bytes:
        data = self._raw.read(n)
        self.digest.update(data)
        return data

    def _segments(self) -> Iterator[bytes]:
        size, counter = self._segment + TAG, 0
        block = self._take(size)
        while True:
            following = self._take(size) if len(block) == size else b""
            last = not following
            try:
                yield self._aead.decrypt(_nonce(self._prefix, counter, last), block, self._header)
            except InvalidTag as exc:
                raise BackupError(
                    f"the archive is damaged or was altered (segment {counter} fails authentication)"
                ) from exc
            if last:
                return
            block, counter = following, counter + 1

    def _plaintext(self) -> Iterator[bytes]:
        z = zlib.decompressobj()
        try:
            for segment in self._segments():
                data = segment
                while data:
                    out = z.decompress(data, SEGMENT)
                    if out:
                        yield out
                    data = z.unconsumed_tail
            tail = z.flush()
        except zlib.error as exc:
            raise BackupError("the archive payload is not readable") from exc
        if tail:
            yield tail
        if not z.eof or z.unused_data:
            raise BackupError("the archive payload is incomplete")

    def read(self, n: int = -1) -> bytes:
        while (n < 0 or len(self._buf) < n) and not self._done:
            chunk = next(self._plain, None)
            if chunk is None:
                self._done = True
            else:
                self._buf += chunk
        n = len(self._buf) if n < 0 else n
        out = bytes(self._buf[:n])
        del self._buf[:n]
        return out

    def drain(self) -> None:
        """Read to the end, so the last segment (and with it the whole archive) is authenticated."""
        while self.read(SEGMENT):
            pass


@contextmanager
def _open_sealed(path: Path, passphrase: str) -> Iterator[_SealedReader]:
    try:
        raw = path.open("rb")
    except OSError as exc:
        raise BackupError(f"cannot read {path}: {exc.strerror}") from exc
    with raw:
        yield _SealedReader(raw, passphrase)


def _add_member(tar: tarfile.TarFile, name: str, data: bytes, mtime: int) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.mode = len(data), mtime, 0o600
    tar.addfile(info, io.BytesIO(data))


def _members(reader: _SealedReader) -> Iterator[tuple[str, bytes]]:
    try:
        with tarfile.open(fileobj=reader, mode="r|") as tar:  # type: ignore[call-overload]
            for member in tar:
                if not member.isreg() or member.size > MAX_MEMBER or not _PART_NAME.fullmatch(member.name):
                    raise BackupError(f"the archive holds an unexpected member {member.name!r}")
                handle = tar.extractfile(member)
                yield member.name, handle.read() if handle is not None else b""
    except tarfile.TarError as exc:
        raise BackupError(f"the archive payload is not readable: {exc}") from exc


# --- tables and rows ------------------------------------------------------------------------


@dataclass(frozen=True)
class Table:
    model: type[models.Model]
    fields: tuple[models.Field, ...]

    @property
    def label(self) -> str:
        return self.model._meta.label_lower

    @property
    def columns(self) -> list[str]:
        return [f.attname for f in self.fields]

    @property
    def encrypted(self) -> list[str]:
        return [f.attname for f in self.fields if isinstance(f, EncryptedMixin)]


def _dependency_order(chosen: list[type[models.Model]]) -> list[type[models.Model]]:
    """Referenced tables first where possible (constraints are deferred, so cycles are fine)."""
    pending, ordered = list(chosen), []
    while pending:
        ready = next(
            (
                m
                for m in pending
                if all(
                    f.related_model is m or f.related_model not in pending
                    for f in m._meta.concrete_fields
                    if f.is_relation
                )
            ),
            pending[0],
        )
        ordered.append(ready)
        pending.remove(ready)
    return ordered


def backup_tables() -> list[Table]:
    """Every table of every installed app that a backup holds, referenced tables first."""
    chosen = [
        m
        for m in apps.get_models(include_auto_created=True)
        if m._meta.managed and not m._meta.proxy and m._meta.label_lower not in EXCLUDED
    ]
    return [
        Table(m, tuple(f for f in m._meta.concrete_fields if not getattr(f, "generated", False)))
        for m in _dependency_order(chosen)
    ]


def _encode(value: Any) -> Any:
    if isinstance(value, datetime.datetime):
        return (value.astimezone(datetime.UTC) if timezone.is_aware(value) else value).isoformat()
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, datetime.timedelta):
        return duration_iso_string(value)
    if isinstance(value, Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, bytes | memoryview):
        return _b64(bytes(value))
    raise TypeError(f"cannot archive a {type(value).__name__}")


def row_lines(table: Table, key_ids: set[str] | None = None) -> Iterator[bytes]:
    """The table's rows as JSON lines, by primary key; encrypted columns as stored ciphertext."""
    selected = [
        ExpressionWrapper(F(f.attname), output_field=models.TextField()) if isinstance(f, EncryptedMixin) else f.attname
        for f in table.fields
    ]
    encrypted = [i for i, f in enumerate(table.fields) if isinstance(f, EncryptedMixin)]
    rows = table.model._base_manager.order_by("pk").values_list(*selected).iterator(chunk_size=2000)
    for row in rows:
        if key_ids is not None:
            key_ids.update(row[i].split("$", 2)[1] for i in encrypted if row[i] and row[i].count("$") >= 2)
        line = json.dumps(row, default=_encode, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
        yield line.encode() + b"\n"


def _chunked(lines: Iterable[bytes], limit: int) -> Iterator[tuple[bytes, int]]:
    buf, n = bytearray(), 0
    for line in lines:
        buf += line
        n += 1
        if len(buf) >= limit:
            yield bytes(buf), n
            buf, n = bytearray(), 0
    if n:
        yield bytes(buf), n


def _migration_state(connection) -> dict[str, list[str]]:
    state: dict[str, list[str]] = defaultdict(list)
    for app_label, name in MigrationRecorder(connection).applied_migrations():
        state[app_label].append(name)
    return {app_label: sorted(names) for app_label, names in sorted(state.items())}


def _fingerprint(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()[:8]


@contextmanager
def _read_snapshot(connection) -> Iterator[None]:
    """One consistent view of the database for the whole dump, without blocking writers."""
    if connection.in_atomic_block:
        yield
    elif connection.vendor == "postgresql":
        with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            yield
    elif connection.vendor == "sqlite":  # a deferred read transaction is a snapshot under WAL
        connection.ensure_connection()
        with connection.cursor() as cursor:
            cursor.execute("BEGIN DEFERRED")
            try:
                yield
            finally:
                cursor.execute("ROLLBACK")
    else:
        with transaction.atomic(using=connection.alias):
            yield


# --- backup ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class BackupSummary:
    path: Path
    rows: int
    models: int
    size: int
    sha256: str
    keys_included: bool


def _write_table(tar: tarfile.TarFile, table: Table, mtime: int, key_ids: set[str]) -> dict:
    digest, parts = hashlib.sha256(), []
    for i, (data, n) in enumerate(_chunked(row_lines(table, key_ids), PART_BYTES), start=1):
        name = f"data/{table.label}/{i:05d}.jsonl"
        _add_member(tar, name, data, mtime)
        digest.update(data)
        parts.append({"name": name, "rows": n, "bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()})
    return {
        "label": table.label,
        "table": table.model._meta.db_table,
        "columns": table.columns,
        "encrypted_columns": table.encrypted,
        "rows": sum(p["rows"] for p in parts),
        "sha256": digest.hexdigest(),
        "parts": parts,
    }


def _key_material() -> dict:
    return {
        "field_keys": list(settings.FIELD_ENCRYPTION_KEYS),
        "search_key": settings.SEARCH_INDEX_KEY,
        "secret_key": settings.SECRET_KEY,
    }


def _write_payload(sink: _SealedWriter, *, include_keys: bool) -> dict:
    connection = connections[DEFAULT_DB_ALIAS]
    created = timezone.now()
    mtime, key_ids = int(created.timestamp()), set[str]()
    with (
        tarfile.open(fileobj=sink, mode="w|", format=tarfile.PAX_FORMAT) as tar,  # type: ignore[call-overload]
        _read_snapshot(connection),
    ):
        migrations = _migration_state(connection)
        tables = [_write_table(tar, table, mtime, key_ids) for table in backup_tables()]
        keys: dict[str, Any] = {
            "field_key_ids_used": sorted(key_ids),
            "search_key_id": _fingerprint(settings.SEARCH_INDEX_KEY),
            "secret_key_id": _fingerprint(settings.SECRET_KEY),
            "included": include_keys,
        }
        if include_keys:
            data = json.dumps(_key_material(), sort_keys=True).encode()
            _add_member(tar, KEYS_PART, data, mtime)
            keys["part"] = {"name": KEYS_PART, "bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}
        manifest = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "created_at": created.isoformat(),
            "communitas_version": _version(),
            "django_version": django.get_version(),
            "source_database": connection.vendor,
            "migrations": migrations,
            "excluded_models": sorted(EXCLUDED),
            "models": tables,
            "total_rows": sum(t["rows"] for t in tables),
            "keys": keys,
        }
        _add_member(tar, MANIFEST_PART, json.dumps(manifest, indent=1, sort_keys=True).encode(), mtime)
    return manifest


def _version() -> str:
    try:
        return importlib.metadata.version("communitas")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def backup_create(*, out: Path, passphrase: str, include_keys: bool = False) -> BackupSummary:
    """Write one encrypted archive of the whole database to ``out`` (never overwritten)."""
    if out.exists():
        raise BackupError(f"{out} already exists; choose a new file name")
    partial = out.with_name(f".{out.name}.partial")
    try:
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError as exc:
        raise BackupError(f"cannot write {partial}: {exc.strerror}") from exc
    try:
        with os.fdopen(fd, "wb") as raw:
            sink = _SealedWriter(raw, passphrase)
            manifest = _write_payload(sink, include_keys=include_keys)
            sha256 = sink.finish()
            raw.flush()
            os.fsync(raw.fileno())
        os.replace(partial, out)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    summary = BackupSummary(
        out, manifest["total_rows"], len(manifest["models"]), out.stat().st_size, sha256, include_keys
    )
    audit_record(
        action="core.backup.created",
        data={"rows": summary.rows, "models": summary.models, "sha256": sha256, "keys_included": include_keys},
    )
    return summary


# --- restore --------------------------------------------------------------------------------


@dataclass
class RestoreSummary:
    rows: int
    models: int
    audit_entries: int
    created_at: str
    communitas_version: str
    source_database: str
    keys_installed: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Archive:
    manifest: dict
    key_material: dict | None
    sha256: str


def _json(data: bytes, what: str) -> dict:
    try:
        value = json.loads(data)
    except ValueError as exc:
        raise BackupError(f"the archive's {what} is not valid JSON") from exc
    if not isinstance(value, dict):
        raise BackupError(f"the archive's {what} is not an object")
    return value


def _scan(path: Path, passphrase: str) -> _Archive:
    """First pass: authenticate every byte and check the parts against the manifest."""
    seen: list[tuple[str, str, int]] = []
    digests: dict[str, Any] = defaultdict(hashlib.sha256)
    manifest = material = None
    with _open_sealed(path, passphrase) as reader:
        for name, data in _members(reader):
            if manifest is not None:
                raise BackupError("the archive has parts after its manifest")
            if name == MANIFEST_PART:
                manifest = _json(data, "manifest")
                continue
            seen.append((name, hashlib.sha256(data).hexdigest(), len(data)))
            if name == KEYS_PART:
                material = _json(data, "keys")
            else:
                digests[name.split("/")[1]].update(data)
        reader.drain()
    if manifest is None:
        raise BackupError("the archive has no manifest")
    _check_manifest(manifest, seen, {label: d.hexdigest() for label, d in digests.items()})
    return _Archive(manifest, material, reader.digest.hexdigest())


def _check_manifest(manifest: dict, seen: list[tuple[str, str, int]], digests: dict[str, str]) -> None:
    if manifest.get("format") != FORMAT or manifest.get("format_version") != FORMAT_VERSION:
        raise BackupError(
            f"archive format {manifest.get('format_version')!r} is not readable (this reads {FORMAT_VERSION})"
        )
    try:
        listed = [(p["name"], p["sha256"], p["bytes"]) for m in manifest["models"] for p in m["parts"]]
        if manifest["keys"].get("part"):
            part = manifest["keys"]["part"]
            listed.append((part["name"], part["sha256"], part["bytes"]))
        for m in manifest["models"]:
            if m["rows"] != sum(p["rows"] for p in m["parts"]) or m["sha256"] != digests.get(
                m["label"], hashlib.sha256().hexdigest()
            ):
                raise BackupError(f"the archive's rows of {m['label']} do not match its manifest")
    except (KeyError, TypeError) as exc:
        raise BackupError("the archive's manifest is incomplete") from exc
    for expected, found in itertools.zip_longest(listed, seen):
        if expected != found:
            name = (expected or found)[0]  # type: ignore[index]
            raise BackupError(f"the archive's part {name} does not match its manifest (SHA-256, size or order)")


def _migration_refusal(archived: dict[str, list[str]], target: dict[str, list[str]]) -> str:
    def flat(state: dict[str, list[str]]) -> set[str]:
        return {f"{a}.{n}" for a, names in state.items() for n in names}

    missing, extra = sorted(flat(archived) - flat(target)), sorted(flat(target) - flat(archived))
    if not target:
        return "the target database is not migrated: run `communitas migrate` first"
    parts = []
    if missing:
        parts.append(f"{len(missing)} archived migrations are not applied here (first {missing[0]})")
    if extra:
        parts.append(f"{len(extra)} migrations applied here are not in the archive (first {extra[0]})")
    return (
        "the target database's migrations differ from the archive's: "
        + "; ".join(parts)
        + ". Restore with the Communitas version that made the archive, then upgrade and migrate."
    )


def _check_target(archive: _Archive, connection) -> list[Table]:
    manifest = archive.manifest
    target = _migration_state(connection)
    if target != manifest["migrations"]:
        raise BackupError(_migration_refusal(manifest["migrations"], target))
    tables = {t.label: t for t in backup_tables()}
    labels = [m["label"] for m in manifest["models"]]
    if set(labels) != set(tables):
        differ = sorted(set(labels) ^ set(tables))
        raise BackupError(f"the archive's tables differ from this installation's: {', '.join(differ)}")
    for m in manifest["models"]:
        if m["columns"] != tables[m["label"]].columns:
            raise BackupError(f"the archive's columns of {m['label']} differ from this installation's")
    occupied = [label for label, t in tables.items() if label not in REGENERATED and t.model._base_manager.exists()]
    if occupied:
        shown = ", ".join(occupied[:5]) + (" …" if len(occupied) > 5 else "")
        raise BackupError(
            f"the target database is not empty ({shown} hold rows): restore only into a freshly migrated database"
        )
    return [tables[label] for label in labels]


def _key_plan(archive: _Archive) -> tuple[dict[str, Any], list[str]]:
    """Which keys the restore installs from the archive, and warnings; refuses when the
    encrypted columns could not be read afterwards."""
    info, material = archive.manifest["keys"], archive.key_material or {}
    install: dict[str, Any] = {}
    used, configured = set(info["field_key_ids_used"]), set(keyring().keys)
    if not used <= configured and material and not os.environ.get(_KEY_SOURCES["field_keys"]):
        install["field_keys"] = material["field_keys"]
        configured |= {key_id(base64.urlsafe_b64decode(k)) for k in material["field_keys"]}
    if not used <= configured:
        raise BackupError(
            f"the archive's encrypted columns use field key(s) {', '.join(sorted(used - configured))}, which this "
            "installation does not have: put the field keys kept with the backup in place "
            "(COMMUNITAS_FIELD_KEYS or <data dir>/field_keys) and run restore again"
        )
    warnings = []
    checks = [
        ("search_key", settings.SEARCH_INDEX_KEY, "staff search will not find archived participants"),
        ("secret_key", settings.SECRET_KEY, "participant links issued before the backup will not open"),
    ]
    for name, current, consequence in checks:
        if _fingerprint(current) == info[f"{name}_id"]:
            continue
        if material and not os.environ.get(_KEY_SOURCES[name]):
            install[name] = material[name]
        else:
            warnings.append(f"this installation's {name} differs from the archive's: {consequence}")
    return install, warnings


def _install_keys(install: dict[str, Any]) -> list[str]:
    for name, value in install.items():
        text = "\n".join(value) if isinstance(value, list) else value
        path = settings.DATA_DIR / name
        partial = path.with_name(f".{name}.restored")
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(text + "\n")
        os.replace(partial, path)
    if "field_keys" in install:
        settings.FIELD_ENCRYPTION_KEYS = list(install["field_keys"])
    if "search_key" in install:
        settings.SEARCH_INDEX_KEY = install["search_key"]
    if "secret_key" in install:
        settings.SECRET_KEY = install["secret_key"]
    return sorted(install)


# Column types whose JSON value (str, int, bool, float) is already what the database takes.
_AS_IS = frozenset(
    {"AutoField", "BigAutoField", "SmallAutoField", "IntegerField", "BigIntegerField", "SmallIntegerField"}
    | {"PositiveIntegerField", "PositiveBigIntegerField", "PositiveSmallIntegerField"}
    | {"CharField", "TextField", "SlugField", "BooleanField", "FloatField"}
)


def _preparer(f: models.Field, connection):
    target = f.target_field if f.is_relation else f  # type: ignore[attr-defined]
    if isinstance(f, EncryptedMixin) or target.get_internal_type() in _AS_IS:
        return lambda value: value
    return lambda value: None if value is None else f.get_db_prep_save(f.to_python(value), connection)


def _insert(table: Table, data: bytes, connection) -> None:
    qn = connection.ops.quote_name
    columns = ", ".join(qn(f.column) for f in table.fields)
    sql = f"INSERT INTO {qn(table.model._meta.db_table)} ({columns}) VALUES ({', '.join(['%s'] * len(table.fields))})"  # noqa: S608 (names from the model, values bound)
    prepare = [_preparer(f, connection) for f in table.fields]
    rows = (json.loads(line) for line in data.split(b"\n") if line)
    with connection.cursor() as cursor:
        while batch := list(itertools.islice(rows, BATCH)):
            if any(len(row) != len(prepare) for row in batch):
                raise BackupError(f"a row of {table.label} has the wrong number of columns")
            cursor.executemany(sql, [[p(v) for p, v in zip(prepare, row, strict=True)] for row in batch])


def _load(archive: _Archive, path: Path, passphrase: str, tables: list[Table], connection) -> None:
    """Second pass: replace the regenerated rows and insert every archived row, primary keys kept."""
    by_label = {t.label: t for t in tables}
    with connection.cursor() as cursor:
        for label in REGENERATED:
            cursor.execute(f"DELETE FROM {connection.ops.quote_name(by_label[label].model._meta.db_table)}")  # noqa: S608
    expected = {p["name"]: p["sha256"] for m in archive.manifest["models"] for p in m["parts"]}
    with _open_sealed(path, passphrase) as reader:
        for name, data in _members(reader):
            if name in (KEYS_PART, MANIFEST_PART):
                continue
            if hashlib.sha256(data).hexdigest() != expected.get(name):
                raise BackupError("the archive changed while it was being restored")
            _insert(by_label[name.split("/")[1]], data, connection)
        reader.drain()
    connection.check_constraints(table_names=[t.model._meta.db_table for t in tables])
    for sql in connection.ops.sequence_reset_sql(no_style(), [t.model for t in tables]):
        with connection.cursor() as cursor:
            cursor.execute(sql)


def _verify(manifest: dict, tables: list[Table]) -> int:
    """Row counts, every row re-read and hashed, and every audit chain; returns entries checked."""
    problems = []
    for entry, table in zip(manifest["models"], tables, strict=True):
        count = table.model._base_manager.count()
        if count != entry["rows"]:
            problems.append(f"{entry['label']}: {count} rows, archive has {entry['rows']}")
            continue
        digest = hashlib.sha256()
        for line in row_lines(table):
            digest.update(line)
        if digest.hexdigest() != entry["sha256"]:
            problems.append(f"{entry['label']}: rows read back differ from the archive")
    checked, broken = audit_verify()
    if broken is not None:
        problems.append(str(broken))
    if problems:
        raise RestoreMismatch("restore rolled back: " + "; ".join(problems))
    return checked


def backup_restore(*, source: Path, passphrase: str) -> RestoreSummary:
    """Load an archive into an empty, migrated database; all or nothing."""
    archive = _scan(source, passphrase)
    connection = connections[DEFAULT_DB_ALIAS]
    tables = _check_target(archive, connection)
    install, warnings = _key_plan(archive)
    manifest = archive.manifest
    with transaction.atomic(using=connection.alias):
        _load(archive, source, passphrase, tables, connection)
        checked = _verify(manifest, tables)
        audit_record(
            action="core.backup.restored",
            data={"rows": manifest["total_rows"], "models": len(tables), "sha256": archive.sha256},
        )
        installed = _install_keys(install)
    ContentType.objects.clear_cache()
    return RestoreSummary(
        rows=manifest["total_rows"],
        models=len(tables),
        audit_entries=checked,
        created_at=manifest["created_at"],
        communitas_version=manifest["communitas_version"],
        source_database=manifest["source_database"],
        keys_installed=installed,
        warnings=warnings,
    )
