"""The `Store` a command names: a DuckDB file (`--db PATH`) or a Parquet dataset (`--parquet DIR`).

    store = open_store(db="news.duckdb")           # DuckDBStore
    store = open_store(parquet="gs://bucket/news")  # ParquetStore

The one place that picks a store's kind; everything after it asks the `Store`.
Only a Parquet store imports Beam, so opening a DuckDB file never loads it.
"""

from __future__ import annotations

from typing import Optional

from newswatch.sinks.duckdb import DuckDBStore
from newswatch.sinks.store import Store


def open_store(db: Optional[str] = None, parquet: Optional[str] = None, lock_timeout_s: float = 5.0) -> Store:
    """`ParquetStore(parquet)` when a directory is given, else `DuckDBStore(db, lock_timeout_s)`."""
    if parquet:
        from newswatch.sinks.parquet_read import ParquetStore

        return ParquetStore(parquet)
    return DuckDBStore(db, lock_timeout_s)
