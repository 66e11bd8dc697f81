"""Query results as text: an aligned table, CSV or JSON lines.

Shared by the commands that print rows (`query`, `alerts`, `status`, `demo`),
so none of them has to import another command's module.

    >>> print(format_rows(["kind", "n"], [("defection", 3)], "csv"))
    kind,n
    defection,3
"""

from __future__ import annotations

import csv
import io
import json
from typing import Sequence


def format_rows(columns: Sequence[str], rows: Sequence[Sequence], fmt: str) -> str:
    """Render query results as an aligned table, CSV or JSON lines."""
    if fmt == "json":
        return "\n".join(json.dumps(dict(zip(columns, row)), default=str, ensure_ascii=False) for row in rows)
    if fmt == "csv":
        buf = io.StringIO()
        writer = csv.writer(buf)
        writer.writerow(columns)
        writer.writerows(rows)
        return buf.getvalue().rstrip("\n")
    cells = [[_cell(v) for v in row] for row in rows]
    widths = [min(60, max([len(c)] + [len(r[i]) for r in cells])) for i, c in enumerate(columns)]
    fit = lambda text, w: text if len(text) <= w else text[: w - 1] + "…"  # noqa: E731
    lines = [" | ".join(fit(c, w).ljust(w) for c, w in zip(columns, widths))]
    lines.append("-+-".join("-" * w for w in widths))
    lines += [" | ".join(fit(v, w).ljust(w) for v, w in zip(row, widths)) for row in cells]
    lines.append(f"({len(rows)} row{'s' if len(rows) != 1 else ''})")
    return "\n".join(lines)


def _cell(value) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, list):
        return "[" + ", ".join(str(v) for v in value) + "]"
    return str(value).replace("\n", " ")
