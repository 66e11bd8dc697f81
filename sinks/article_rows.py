"""An enriched article as the rows both sinks write: one `articles` row and its `mentions` rows.

    article_row(enriched, fallback_version)  # column -> value, times as ISO text
    mention_rows(enriched)                   # one per mention

The DuckDB writer (`sinks/duckdb_rows.py`) inserts them as they are; the
Parquet writer (`sinks/parquet.py`) turns their times into datetimes first.
Which extractor version an article without mentions gets is each writer's
choice (`fallback_version`): they differ, see `article_row`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Optional

if TYPE_CHECKING:  # the records module imports Beam; `newswatch report` reaches the DuckDB writer's rows without it
    from newswatch.records import EnrichedArticle

# Label and mention fields stored as lists (the records hold tuples).
LIST_COLUMNS = frozenset({"orgs", "locations", "ranks", "units"})


def article_row(enriched: "EnrichedArticle", fallback_version: Optional[str]) -> dict:
    """The article's fields and labels, and the extractor version of its mentions.

    An article without mentions was still read by the extractor, so it gets
    `fallback_version`: the DuckDB writer passes the version of the first new
    article of its transaction (None when that one has no mentions), the
    Parquet writer the first version in its file's group.
    """
    row = enriched.article._asdict()
    row.update({c: (list(v) if c in LIST_COLUMNS else v) for c, v in enriched.labels._asdict().items()})
    row["extractor_version"] = enriched.mentions[0].extractor_version if enriched.mentions else fallback_version
    return row


def mention_rows(enriched: "EnrichedArticle") -> list[dict]:
    """One row per mention of the article, lists as lists."""
    return [{**m._asdict(), **{c: list(getattr(m, c)) for c in LIST_COLUMNS}} for m in enriched.mentions]
