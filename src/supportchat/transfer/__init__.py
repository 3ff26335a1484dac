"""Export and import of a whole desk, streamed, in constant memory.

An export is JSON Lines: a header line, then one line per ticket holding the
ticket, its messages and its recorded changes (a :class:`ThreadRecord`).
:func:`iter_threads` reads a store in batches, :func:`write_jsonl` and
:func:`write_csv` write what it yields, :func:`read_jsonl` and
:func:`import_threads` load such a file into a store. Nothing here holds more
than one batch in memory, whatever the size of the desk.
"""

from .formats import CSV_COLUMNS, FORMAT_VERSION, read_jsonl, write_csv, write_jsonl
from .loader import ImportReport, import_threads
from .records import ThreadRecord
from .source import iter_threads

__all__ = [
    "CSV_COLUMNS",
    "FORMAT_VERSION",
    "ImportReport",
    "ThreadRecord",
    "import_threads",
    "iter_threads",
    "read_jsonl",
    "write_csv",
    "write_jsonl",
]
