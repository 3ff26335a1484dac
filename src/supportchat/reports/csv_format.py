"""A report as CSV: one line per group and a last ``total`` line; the columns flatten the JSON.

Column names join the JSON's keys with ``_`` (``first_response_wall_median``);
an absent figure is an empty cell. The numbers are the JSON's, digit for digit.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from .report import Report, ReportRow

__all__ = ["report_csv", "row_columns"]


def _flatten(prefix: str, value: Any, into: dict[str, Any]) -> None:
    if isinstance(value, dict):
        for key, inner in value.items():
            _flatten(f"{prefix}_{key}" if prefix else key, inner, into)
    else:
        into[prefix] = value


def row_columns(row: ReportRow) -> dict[str, Any]:
    """The row as flat columns, in the JSON's order."""
    flat: dict[str, Any] = {}
    _flatten("", row.model_dump(mode="json"), flat)
    return flat


def _cell(value: Any) -> str:
    return "" if value is None else str(value)


def report_csv(report: Report) -> str:
    """The CSV text of ``report`` (header line first)."""
    lines = [row_columns(row) for row in [*report.rows, report.total]]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(lines[0].keys())
    for line in lines:
        writer.writerow(_cell(v) for v in line.values())
    return out.getvalue()
