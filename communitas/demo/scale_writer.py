"""Fast row writing for ``seed-scale``: primary keys handed out ahead of time, rows streamed with
PostgreSQL ``COPY`` (psycopg) or SQLite ``executemany``, and a small progress bar on stderr.

Values go through each model field's own ``get_db_prep_value`` wherever the database needs more
than the Python value: encrypted fields encrypt exactly as ``save()`` would (column-bound
AES-GCM), JSON is serialised, datetimes are adapted for SQLite. No ``save()``, no signals, no
per-row audit entries: the seeding is audited once, as a whole.
"""

from __future__ import annotations

import datetime
import functools
import json
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Protocol

from django.db import connection, models

from communitas.core.fields import EncryptedMixin

SQLITE_BATCH = 5_000


class RawJSON(str):
    """A value for a JSON column that is already serialised (shared by many rows)."""


class Stream(Protocol):
    def write(self, text: str, /) -> object: ...

    def flush(self) -> object: ...

    def isatty(self) -> bool: ...


class Progress:
    """``phase  count/total  pct  rate/s  elapsed`` on one line, redrawn at most five times a
    second on a terminal; one finished line per phase otherwise."""

    def __init__(self, stream: Stream | None = None, *, enabled: bool = True):
        self.stream: Stream = stream or sys.stderr
        self.enabled = enabled
        self.tty = self.stream.isatty()
        self.phase, self.total, self.count = "", 0, 0
        self.started = self.drawn = time.monotonic()

    def start(self, phase: str, total: int) -> None:
        self.phase, self.total, self.count = phase, max(total, 0), 0
        self.started = self.drawn = time.monotonic()
        self._draw(force=True)

    def advance(self, n: int = 1) -> None:
        self.count += n
        self._draw()

    def finish(self) -> None:
        self.count = max(self.count, self.total) if self.total else self.count
        self._draw(force=True, end=True)

    def line(self) -> str:
        elapsed = time.monotonic() - self.started
        if not self.total:
            return f"{self.phase:<26} {'':>75}{elapsed:7.1f}s"
        rate = self.count / elapsed if elapsed > 0 else 0.0
        pct = f"{100 * self.count / self.total:5.1f}%" if self.total else "     "
        width = 24
        filled = int(width * self.count / self.total) if self.total else 0
        bar = "#" * min(filled, width) + "." * (width - min(filled, width))
        return f"{self.phase:<26} [{bar}] {self.count:>10,}/{self.total:<10,} {pct} {rate:>10,.0f}/s {elapsed:7.1f}s"

    def _draw(self, *, force: bool = False, end: bool = False) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if not force and now - self.drawn < 0.2:
            return
        self.drawn = now
        if self.tty:
            self.stream.write("\r" + self.line() + ("\n" if end else ""))
            self.stream.flush()
        elif end:
            self.stream.write(self.line() + "\n")
            self.stream.flush()


def _converter(field: models.Field) -> Callable[[Any], Any] | None:
    """How one column's Python value becomes what the database driver takes (None: as is)."""
    vendor = connection.vendor
    if isinstance(field, EncryptedMixin):
        return lambda value: field.get_db_prep_value(value, connection)
    if isinstance(field, models.JSONField):
        return lambda value: value if isinstance(value, RawJSON) else json.dumps(value, ensure_ascii=False)
    if isinstance(field, models.DateTimeField) and vendor == "sqlite":
        return _sqlite_datetime
    if isinstance(field, models.DecimalField) and vendor == "sqlite":
        return lambda value: None if value is None else str(value)
    return None


@functools.lru_cache(maxsize=8192)  # many rows share a timestamp (created with their enrolment)
def _sqlite_datetime(value: datetime.datetime | None) -> str | None:
    """As Django stores a datetime in SQLite: naive UTC text (``adapt_datetimefield_value``,
    without its per-call settings lookups)."""
    if value is None:
        return None
    if value.tzinfo is not None:
        value = value.astimezone(datetime.UTC).replace(tzinfo=None)
    return value.isoformat(" ")


class Table:
    """One model's table and the columns a seeding phase writes (attribute names: ``program_id``)."""

    def __init__(self, model: type[models.Model], columns: Sequence[str]):
        by_attname = {f.attname: f for f in model._meta.concrete_fields}
        unknown = [c for c in columns if c not in by_attname]
        if unknown:
            raise ValueError(f"{model._meta.label}: unknown columns {unknown}")
        self.model = model
        self.name = model._meta.db_table
        self.columns = list(columns)
        self.db_columns = [str(by_attname[c].column) for c in columns]
        self.converters = [(n, conv) for n, c in enumerate(columns) if (conv := _converter(by_attname[c])) is not None]

    def prepare(self, row: Sequence[Any]) -> Sequence[Any]:
        if not self.converters:
            return row
        out = list(row)
        for n, conv in self.converters:
            out[n] = conv(out[n])
        return out


class Writer:
    """Hands out primary keys and writes rows, inside the caller's transaction."""

    def __init__(self, progress: Progress | None = None):
        self.progress = progress
        self.written: dict[str, int] = {}
        self._next_sqlite_id: dict[str, int] = {}

    def ids(self, model: type[models.Model], n: int) -> list[int]:
        """``n`` new primary keys for ``model``, in increasing order, reserved for this seeding."""
        if n <= 0:
            return []
        table = model._meta.db_table
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute(
                    "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)", [table, n]
                )
                return [row[0] for row in cursor.fetchall()]
            start = self._next_sqlite_id.get(table)
            if start is None:
                start = self._sqlite_high_water(cursor, table) + 1
        self._next_sqlite_id[table] = start + n
        return list(range(start, start + n))

    @staticmethod
    def _sqlite_high_water(cursor, table: str) -> int:
        """Largest id ever used (AUTOINCREMENT never reuses the ids of deleted rows)."""
        quoted = connection.ops.quote_name(table)
        cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {quoted}")  # noqa: S608 - a model's table name
        high = cursor.fetchone()[0]
        cursor.execute("SELECT name FROM sqlite_master WHERE name = 'sqlite_sequence'")
        if cursor.fetchone():
            cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
            row = cursor.fetchone()
            high = max(high, row[0] if row else 0)
        return high

    def write(self, table: Table, rows: Iterable[Sequence[Any]], *, count_progress: bool = False) -> int:
        """Write ``rows`` (tuples in ``table.columns`` order); returns how many."""
        if connection.vendor == "postgresql":
            n = self._copy(table, rows, count_progress)
        else:
            n = self._insert(table, rows, count_progress)
        label = table.model._meta.label_lower
        self.written[label] = self.written.get(label, 0) + n
        return n

    def _copy(self, table: Table, rows: Iterable[Sequence[Any]], count_progress: bool) -> int:
        quote = connection.ops.quote_name
        columns = ", ".join(quote(c) for c in table.db_columns)
        sql = f"COPY {quote(table.name)} ({columns}) FROM STDIN"
        n = 0
        with connection.cursor() as cursor:
            raw = cursor.cursor  # the psycopg cursor under Django's wrapper
            with raw.copy(sql) as copy:
                for row in rows:
                    copy.write_row(table.prepare(row))
                    n += 1
                    if count_progress and self.progress and not n % 1000:
                        self.progress.advance(1000)
        if count_progress and self.progress:
            self.progress.advance(n % 1000)
        return n

    def _insert(self, table: Table, rows: Iterable[Sequence[Any]], count_progress: bool) -> int:
        quote = connection.ops.quote_name
        columns = ", ".join(quote(c) for c in table.db_columns)
        marks = ", ".join(["%s"] * len(table.columns))
        sql = f"INSERT INTO {quote(table.name)} ({columns}) VALUES ({marks})"  # noqa: S608 - model metadata
        n = 0
        batch: list[Sequence[Any]] = []
        with connection.cursor() as cursor:
            for row in rows:
                batch.append(table.prepare(row))
                if len(batch) >= SQLITE_BATCH:
                    cursor.executemany(sql, batch)
                    n += len(batch)
                    if count_progress and self.progress:
                        self.progress.advance(len(batch))
                    batch = []
            if batch:
                cursor.executemany(sql, batch)
                n += len(batch)
                if count_progress and self.progress:
                    self.progress.advance(len(batch))
        return n
