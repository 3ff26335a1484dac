"""The export file formats: JSON Lines (round-trips) and CSV (for spreadsheets).

A JSON Lines export starts with a header line naming the format and its
version, then holds one :class:`ThreadRecord` per line. CSV holds one row per
ticket without the conversation; it is for reading, not for importing.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import TextIO

import pydantic

from ..models import utc_iso
from .records import ThreadRecord

__all__ = [
    "CSV_COLUMNS",
    "FORMAT_NAME",
    "FORMAT_VERSION",
    "TransferFormatError",
    "read_jsonl",
    "write_csv",
    "write_jsonl",
]

FORMAT_NAME = "supportchat-export"
FORMAT_VERSION = 1
CSV_COLUMNS = (
    "id",
    "ticket_number",
    "user_id",
    "subject",
    "description",
    "priority",
    "status",
    "category",
    "assigned_to",
    "created_at",
    "updated_at",
    "resolved_at",
    "message_count",
    "unread_from_user",
    "unread_from_admin",
)
#: A spreadsheet runs a cell starting with one of these as a formula; user
#: text is prefixed with an apostrophe so that it stays text.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class TransferFormatError(ValueError):
    """A line of an import file is not what the format says; names the line."""

    def __init__(self, line_number: int, reason: str) -> None:
        super().__init__(f"line {line_number}: {reason}")
        self.line_number = line_number


def write_jsonl(records: Iterable[ThreadRecord], out: TextIO) -> int:
    """Write the header and one line per record; returns how many records."""
    header = {"format": FORMAT_NAME, "version": FORMAT_VERSION, "exported_at": utc_iso(datetime.now(UTC))}
    out.write(json.dumps(header) + "\n")
    count = 0
    for record in records:
        out.write(record.to_json())
        out.write("\n")
        count += 1
    return count


def _spreadsheet_safe(text: str) -> str:
    return "'" + text if text.startswith(_FORMULA_START) else text


def write_csv(records: Iterable[ThreadRecord], out: TextIO) -> int:
    """Write a header row and one row per ticket; returns how many tickets."""
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    count = 0
    for record in records:
        ticket = record.ticket
        writer.writerow(
            (
                ticket.id,
                ticket.ticket_number,
                ticket.user_id,
                _spreadsheet_safe(ticket.subject),
                _spreadsheet_safe(ticket.description),
                ticket.priority.value,
                ticket.status.value,
                ticket.category.value,
                "" if ticket.assigned_to is None else ticket.assigned_to,
                utc_iso(ticket.created_at),
                utc_iso(ticket.updated_at),
                "" if ticket.resolved_at is None else utc_iso(ticket.resolved_at),
                ticket.message_count,
                ticket.unread_from_user,
                ticket.unread_from_admin,
            )
        )
        count += 1
    return count


def read_jsonl(lines: Iterable[str]) -> Iterator[ThreadRecord]:
    """The records of a JSON Lines export, one at a time; blank lines are skipped.

    Raises :class:`TransferFormatError` naming the first bad line.
    """
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        if number == 1 and line.lstrip().startswith('{"format"'):
            _check_header(line)
            continue
        try:
            yield ThreadRecord.from_json(line)
        except pydantic.ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(part) for part in first["loc"]) or "record"
            raise TransferFormatError(number, f"{where}: {first['msg']}") from None


def _check_header(line: str) -> None:
    try:
        header = json.loads(line)
    except json.JSONDecodeError:
        raise TransferFormatError(1, "the header is not valid JSON") from None
    if header.get("format") != FORMAT_NAME:
        raise TransferFormatError(1, f"not a {FORMAT_NAME} file")
    if header.get("version") != FORMAT_VERSION:
        raise TransferFormatError(
            1, f"format version {header.get('version')!r} is not supported (expected {FORMAT_VERSION})"
        )
