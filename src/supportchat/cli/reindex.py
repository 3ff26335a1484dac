"""``supportchat db reindex``: rebuild the full-text search index from the rows."""

from __future__ import annotations

from .config import open_engine, sql_url
from .options import DatabaseUrl, JsonOutput
from .output import emit_json, handled, out, progress_bar

__all__ = ["reindex"]


@handled
def reindex(database_url: DatabaseUrl = None, json_output: JsonOutput = False) -> None:
    """Rebuild the search index of every ticket and message, with progress.

    The migrations build the index (an adopted or imported database's too)
    and every write keeps it; this is for an index suspected damaged, or
    rows written around supportchat with its triggers dropped. Searches keep
    answering from the old index until the rebuild commits.
    """
    from ..sqlschema.search import rebuild, rows_to_index

    engine = open_engine(sql_url(database_url))
    try:
        with progress_bar("Indexing", rows_to_index(engine)) as advance:
            indexed = rebuild(engine, progress=advance)
    finally:
        engine.dispose()
    if json_output:
        emit_json({"indexed": indexed})
    else:
        out().print(", ".join(f"{count} rows of {table}" for table, count in indexed.items()) + " indexed.")
