"""Publish the job's private DuckDB store as the analyst database: views over Parquet.

DuckDB lets one process write a file only while no other process has it
open, even read-only. So the job never writes the file analysts open:

    news.duckdb                       the analyst database: views only. Point every client here
                                      (newswatch query, duckdb -readonly, Python, a BI tool)
    news.duckdb.job/store.duckdb      the job's private store; only newswatch opens it
    news.duckdb.job/parquet/T/current -> gNNNNNN/   the published rows of table T

Every `publish_interval_s` the job exports what changed in the store:

- append-only tables (`INCREMENTAL`) as new segments `seg-LO-HI.parquet`
  holding the rows with LO < rowid <= HI; the largest HI on disk is the
  watermark, so a rerun or a restart after a crash exports nothing twice;
- their few mutable columns (an article's `duplicate_of`, changed by a
  relink) as a small snapshot `T.mutable/current/data.parquet`, joined in by
  the view;
- every other table (feeds, errors, runs, alerts, and any table added to
  `sinks/schema.py` later) as one full snapshot, rewritten when it changed.

Files appear by atomic rename; compaction merges small segments into a new
generation directory and swaps the `current` symlink, so a query sees either
all old or all new files. The views glob `current/*.parquet`, and DuckDB
expands a glob on every query: a session held open for hours sees new rows
without reconnecting. The analyst file itself is rebuilt (beside it, then
renamed over it) only when the set of tables or views changes.

    Publisher("news.duckdb").publish_once()
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import threading
import time
from typing import NamedTuple, Optional

import duckdb

from newswatch.sinks.duckdb import DuckDBStore, note_available, note_unavailable, store_unavailable

log = logging.getLogger(__name__)

# Tables whose rows are only ever appended (never deleted: rowids must stay put), with the
# key and the columns a later UPDATE may change. Every other table is published whole.
INCREMENTAL: dict[str, tuple[str, tuple[str, ...]]] = {
    "articles": ("article_id", ("duplicate_of", "duplicate_kind")),
    "mentions": ("mention_id", ()),
    "feed_polls": ("feed_url", ()),
}
MAX_SEGMENTS = 48  # more than this in a table's current generation triggers a compaction
SMALL_SEGMENT_BYTES = 64 << 20  # segments below this size are merged by a compaction
OLD_GENERATION_GRACE_S = 600.0  # a replaced generation stays readable this long for running queries


def job_dir(db_path: str) -> str:
    """The job's private directory beside the analyst database."""
    return os.path.abspath(db_path) + ".job"


def store_path(db_path: str) -> str:
    """The job's private DuckDB store for the analyst database `db_path`."""
    return os.path.join(job_dir(db_path), "store.duckdb")


def parquet_root(db_path: str) -> str:
    """Where the published Parquet files of `db_path` live."""
    return os.path.join(job_dir(db_path), "parquet")


def resolve_store(db_path: str) -> str:
    """The private store behind the analyst database `db_path`, adopting an older newswatch's file."""
    adopt_legacy_file(db_path)
    return store_path(db_path)


def adopt_legacy_file(db_path: str) -> None:
    """Move a database written by an older newswatch (tables, not views) to the private store."""
    store = store_path(db_path)
    if os.path.exists(store) or not os.path.exists(db_path):
        return
    with DuckDBStore(db_path).reader() as con:
        legacy = con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = 'articles' AND table_type = 'BASE TABLE'"
        ).fetchone()[0]
    if not legacy:
        return
    os.makedirs(job_dir(db_path), exist_ok=True)
    # Copied, not moved: a session still open on the old file keeps its lock on that
    # inode, which would otherwise become the store and stall the job's writes.
    for suffix in (".wal", ""):  # the file last: its rename is what makes the store exist
        if os.path.exists(db_path + suffix):
            try:
                shutil.copyfile(db_path + suffix, store + suffix + ".adopting")
            except OSError:  # a full disk: the old file stays as it was
                for leftover in (store + ".wal", store + suffix + ".adopting"):
                    if os.path.exists(leftover):
                        os.remove(leftover)
                raise
            os.replace(store + suffix + ".adopting", store + suffix)
    if os.path.exists(db_path + ".wal"):  # it belongs to the old file, not to the views that replace it
        os.remove(db_path + ".wal")
    log.info("copied the tables of %s to the job's private store %s; %s now holds views", db_path, store, db_path)


class PublishStats(NamedTuple):
    """What one publication wrote."""

    rows: dict[str, int]  # new rows exported per incremental table
    snapshots: list[str]  # tables whose full snapshot was rewritten
    compacted: list[str]
    seconds: float


class Publisher:
    """Exports the private store of `db_path` as Parquet and keeps the analyst views over it."""

    def __init__(self, db_path: str, interval_s: float = 5.0, lock_timeout_s: float = 2.0):
        self.db_path = os.path.abspath(db_path)
        self.root = parquet_root(db_path)
        self.interval_s = interval_s
        self._store = DuckDBStore(store_path(db_path), lock_timeout_s)
        self._fingerprints: dict[str, tuple] = {}
        self._stop = threading.Event()
        self._thread: Optional[threading.Thread] = None

    # ------------------------------------------------------------ one pass

    def publish_once(self) -> PublishStats:
        """Export what changed since the last publication; idempotent."""
        started = time.monotonic()
        adopt_legacy_file(self.db_path)  # never replace an older newswatch's tables by views
        rows: dict[str, int] = {}
        snapshots: list[str] = []
        compacted: list[str] = []
        with self._store.transaction() as con:  # one consistent snapshot of every table
            mine = "schema_name = 'main' AND database_name = current_database() AND NOT internal"
            tables = [r[0] for r in con.execute(
                f"SELECT table_name FROM duckdb_tables() WHERE {mine} ORDER BY 1").fetchall()]
            views = [r[0] for r in con.execute(
                f"SELECT sql FROM duckdb_views() WHERE {mine} ORDER BY view_oid").fetchall()]
            for table in tables:
                if table in INCREMENTAL:
                    # Mutable values first: a query between the two files then misses a new row
                    # rather than showing it without its duplicate_of.
                    mutable = INCREMENTAL[table][1]
                    if mutable and self._export_snapshot(con, table, f"{table}.mutable", mutable):
                        snapshots.append(f"{table}.mutable")
                    rows[table] = self._export_new_rows(con, table)
                    if self._compact_if_needed(con, table):
                        compacted.append(table)
                elif self._export_snapshot(con, table, table, None):
                    snapshots.append(table)
        self._write_views(tables, views)
        self._drop_old_generations()
        stats = PublishStats(rows, snapshots, compacted, time.monotonic() - started)
        _write_json(os.path.join(self.root, "published.json"), {"at": time.time(), **stats._asdict()})
        return stats

    def _dir(self, name: str) -> str:
        return os.path.join(self.root, name)

    def _current(self, name: str) -> str:
        """The current generation directory of `name`, created on first use."""
        link = os.path.join(self._dir(name), "current")
        if not os.path.islink(link):
            os.makedirs(os.path.join(self._dir(name), "g000001"), exist_ok=True)
            _swap_symlink(link, "g000001")
        return os.path.realpath(link)

    def _copy(self, con, select: str, target: str, params: Optional[list] = None) -> None:
        """COPY a query to `target` through a temporary name, then rename: readers never see half a file."""
        # Not *.parquet: the views' glob must never match a file still being written.
        tmp = os.path.join(os.path.dirname(target), f".{os.path.basename(target)}.tmp-{os.getpid()}")
        con.execute(f"COPY ({select}) TO '{_sql_str(tmp)}' (FORMAT parquet, COMPRESSION zstd)", params or [])
        os.replace(tmp, target)

    def _export_new_rows(self, con, table: str) -> int:
        current = self._current(table)
        segments = _segments(current)
        watermark = max((hi for _, hi, _ in segments), default=-1)
        top = con.execute(f'SELECT coalesce(max(rowid), -1) FROM "{table}"').fetchone()[0]
        if top < watermark:  # the store was replaced: its rowids mean something else now
            log.warning("store %s is older than its published %s; republishing the table", self._store.path, table)
            current = self._new_generation(table, [])
            segments, watermark = [], -1
        if not segments:  # an empty file gives the view its columns before the first row arrives
            self._copy(con, f'SELECT * FROM "{table}" LIMIT 0', os.path.join(current, "seg-empty.parquet"))
        if top <= watermark:
            return 0
        count = con.execute(f'SELECT count(*) FROM "{table}" WHERE rowid > ? AND rowid <= ?',
                            [watermark, top]).fetchone()[0]
        self._copy(con, f'SELECT * FROM "{table}" WHERE rowid > ? AND rowid <= ? ORDER BY rowid',
                   os.path.join(current, _segment_name(watermark, top)), [watermark, top])
        return count

    def _export_snapshot(self, con, table: str, name: str, columns: Optional[tuple[str, ...]]) -> bool:
        """Rewrite the snapshot `name` of `table` (all columns, or the key and `columns`) when it changed."""
        if columns is None:
            select = f'SELECT * FROM "{table}"'
        else:
            key = INCREMENTAL[table][0]
            cols = ", ".join(f'"{c}"' for c in (key,) + columns)
            select = f'SELECT {cols} FROM "{table}" WHERE ' + " OR ".join(f'"{c}" IS NOT NULL' for c in columns)
        fingerprint = tuple(con.execute(f"SELECT count(*), sum(hash(t)) FROM ({select}) t").fetchone())
        target = os.path.join(self._current(name), "data.parquet")
        if self._fingerprints.get(name) == fingerprint and os.path.exists(target):
            return False
        self._copy(con, select, target)
        self._fingerprints[name] = fingerprint
        return True

    # ------------------------------------------------------------ compaction

    def _compact_if_needed(self, con, table: str) -> bool:
        segments = _segments(self._current(table))
        if len(segments) <= MAX_SEGMENTS:
            return False
        small = [s for s in segments if os.path.getsize(s[2]) < SMALL_SEGMENT_BYTES]
        if len(small) < 2:
            return False
        lo, hi = min(s[0] for s in small), max(s[1] for s in small)
        keep = [s[2] for s in segments if s not in small]
        current = self._new_generation(table, keep)
        files = ", ".join(f"'{_sql_str(s[2])}'" for s in small)
        self._copy(con, f"SELECT * FROM read_parquet([{files}], union_by_name=true)",
                   os.path.join(current, _segment_name(lo, hi)))
        _swap_symlink(os.path.join(self._dir(table), "current"), os.path.basename(current))
        return True

    def _new_generation(self, table: str, keep: list[str]) -> str:
        """A new generation directory holding hard links to `keep`; made current by the caller (or now if empty)."""
        gens = sorted(g for g in os.listdir(self._dir(table)) if g.startswith("g"))
        new = os.path.join(self._dir(table), f"g{int(gens[-1][1:]) + 1:06d}")
        os.makedirs(new)
        for path in keep:
            os.link(path, os.path.join(new, os.path.basename(path)))
        if not keep:
            _swap_symlink(os.path.join(self._dir(table), "current"), os.path.basename(new))
        return new

    def _drop_old_generations(self) -> None:
        now = time.time()
        for name in os.listdir(self.root) if os.path.isdir(self.root) else []:
            if not os.path.isdir(self._dir(name)):
                continue
            current = os.path.basename(os.path.realpath(os.path.join(self._dir(name), "current")))
            for gen in os.listdir(self._dir(name)):
                path = os.path.join(self._dir(name), gen)
                if gen.startswith("g") and gen != current and now - os.path.getmtime(path) > OLD_GENERATION_GRACE_S:
                    shutil.rmtree(path, ignore_errors=True)

    # ------------------------------------------------------------ the analyst file

    def _write_views(self, tables: list[str], views: list[str]) -> None:
        """(Re)build the analyst database when its tables or views changed; never touch it otherwise."""
        statements = []
        for table in tables:
            scan = _scan(self._dir(table))
            mutable = INCREMENTAL.get(table, ("", ()))[1]
            if mutable:
                key = INCREMENTAL[table][0]
                replace = ", ".join(f'm."{c}" AS "{c}"' for c in mutable)
                scan = (f'SELECT s.* REPLACE ({replace}) FROM {scan} s '
                        f'LEFT JOIN {_scan(self._dir(table + ".mutable"))} m USING ("{key}")')
            else:
                scan = f"SELECT * FROM {scan}"
            statements.append(f'CREATE VIEW "{table}" AS {scan};')
        statements += [v.rstrip().rstrip(";") + ";" for v in views]
        fingerprint = hashlib.sha256("\n".join(statements).encode()).hexdigest()
        marker = os.path.join(self.root, "views.json")
        if os.path.exists(self.db_path) and _read_json(marker).get("fingerprint") == fingerprint:
            return
        tmp = os.path.join(os.path.dirname(self.db_path), f".{os.path.basename(self.db_path)}.tmp-{os.getpid()}")
        for leftover in (tmp, tmp + ".wal"):
            if os.path.exists(leftover):
                os.remove(leftover)
        con = duckdb.connect(tmp)
        try:
            for statement in statements:
                con.execute(statement)
            con.execute("CHECKPOINT")
        finally:
            con.close()
        os.replace(tmp, self.db_path)  # readers holding the old file keep its views until they reconnect
        _write_json(marker, {"fingerprint": fingerprint, "tables": tables})

    # ------------------------------------------------------------ background

    def try_publish(self) -> Optional[PublishStats]:
        """publish_once, but an unavailable store is logged (one line a minute, shared with the writers)."""
        try:
            stats = self.publish_once()
        except Exception as exc:
            if not store_unavailable(exc):
                raise
            note_unavailable(self._store.path, exc, f"{self.db_path} not updated meanwhile")
            return None
        note_available(self._store.path)
        return stats

    def start(self) -> "Publisher":
        """Publish now, then every `interval_s` in a daemon thread until `stop()`."""
        adopt_legacy_file(self.db_path)
        self._store.init()
        self.try_publish()
        self._thread = threading.Thread(target=self._loop, name="newswatch-publish", daemon=True)
        self._thread.start()
        return self

    def _loop(self) -> None:
        while not self._stop.wait(self.interval_s):
            try:
                self.try_publish()
            except Exception:  # a bug here must not kill ingestion; it is logged with its traceback
                log.exception("publishing %s failed", self.db_path)

    def stop(self) -> None:
        """Stop the thread and publish one last time."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=60)
        self.try_publish()


def publish_parquet_dataset(directory: str, db_path: str) -> None:
    """Write `db_path` as an analyst file of views over a cluster run's Parquet dataset (`--sink parquet:DIR`).

    The same idea as the job's publication: a file of views over globs, rebuilt
    beside it and renamed over it, so sessions already open are never locked.
    """
    from newswatch.sinks.parquet_read import create_views

    db_path = os.path.abspath(db_path)
    tmp = os.path.join(os.path.dirname(db_path), f".{os.path.basename(db_path)}.tmp-{os.getpid()}")
    con = duckdb.connect(tmp)
    try:
        create_views(con, directory)
        con.execute("CHECKPOINT")
    finally:
        con.close()
    os.replace(tmp, db_path)


def _scan(directory: str) -> str:
    return f"read_parquet('{_sql_str(os.path.join(directory, 'current', '*.parquet'))}', union_by_name=true)"


def _segment_name(lo: int, hi: int) -> str:
    return f"seg-{lo + 1:012d}-{hi:012d}.parquet"


def _segments(directory: str) -> list[tuple[int, int, str]]:
    """(last rowid before, last rowid, path) of each segment in a generation directory."""
    out = []
    for name in sorted(os.listdir(directory)):
        parts = name[: -len(".parquet")].split("-") if name.endswith(".parquet") else []
        if len(parts) == 3 and parts[0] == "seg":
            out.append((int(parts[1]) - 1, int(parts[2]), os.path.join(directory, name)))
    return out


def _swap_symlink(link: str, target: str) -> None:
    tmp = f"{link}.tmp-{os.getpid()}"
    if os.path.lexists(tmp):
        os.remove(tmp)
    os.symlink(target, tmp)
    os.replace(tmp, link)


def _sql_str(text: str) -> str:
    return text.replace("'", "''")


def last_published(db_path: str) -> Optional[float]:
    """Epoch seconds of the last publication to `db_path`, or None."""
    return _read_json(os.path.join(parquet_root(db_path), "published.json")).get("at")


def _write_json(path: str, data: dict) -> None:
    with open(path + ".tmp", "w") as f:
        json.dump(data, f)
    os.replace(path + ".tmp", path)


def _read_json(path: str) -> dict:
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return {}
