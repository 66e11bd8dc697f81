"""The data behind the analyst report: what `newswatch.report` collects and `report_html` renders."""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple, Optional

NEWEST_LIMIT = 50  # rows in the "newest reports" list


class Section(NamedTuple):
    """One query's result, with the SQL that produced it."""

    sql: str
    columns: list[str]
    rows: list[tuple]


class ReportData(NamedTuple):
    """Everything the page shows."""

    source: str  # the --db path or --parquet directory
    since: Optional[datetime]
    topic: str
    generated_at: datetime
    incidents: bool  # counted per incident (else per original article)
    sections: dict[str, Section]
    regions: list[tuple[str, int, int]]  # (state/region, defection reports, conscription reports)
    unplaced: tuple[int, int]  # reports whose places map to no state/region
