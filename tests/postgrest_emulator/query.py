"""PostgREST's query-string language, parsed into parameterised SQL.

Identifiers are checked against the catalog and quoted with
:class:`psycopg.sql.Identifier`; types come from the catalog; every value from
the request travels as a bound parameter. Only the subset supportchat's store
and tests use is understood; anything else is refused with ``PGRST100`` rather
than guessed at.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from psycopg import sql

#: Query parameters that are not column filters.
RESERVED = frozenset({"select", "order", "limit", "offset", "columns", "on_conflict"})
LOGIC_KEYS = frozenset({"or", "and", "not.or", "not.and"})

_COMPARISONS = {"eq": "=", "neq": "<>", "gt": ">", "gte": ">=", "lt": "<", "lte": "<="}
_PATTERNS = {"like": "like", "ilike": "ilike", "match": "~", "imatch": "~*"}
_IS_VALUES = {"null": "null", "true": "true", "false": "false", "unknown": "unknown"}


class QueryError(Exception):
    """A request the emulator cannot read: answered ``400`` with ``code`` (PostgREST's)."""

    def __init__(self, message: str, *, code: str = "PGRST100", status: int = 400, details: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.status = status
        self.details = details


@dataclass
class Where:
    """A boolean SQL expression and its parameters."""

    parts: list[sql.Composable] = field(default_factory=list)
    params: list[object] = field(default_factory=list)

    def sql(self) -> sql.Composable:
        if not self.parts:
            return sql.SQL("true")
        return sql.SQL(" and ").join(sql.SQL("({})").format(part) for part in self.parts)


class Columns:
    """The columns of one table, by name, with their SQL types."""

    def __init__(self, table: str, types: Mapping[str, str]) -> None:
        self.table = table
        self.types = dict(types)

    def identifier(self, column: str) -> sql.Identifier:
        if column not in self.types:
            raise QueryError(
                f"column {self.table}.{column} does not exist", code="42703", details=f"table {self.table}"
            )
        return sql.Identifier(column)

    def cast(self, column: str) -> sql.Composable:
        # The type name is catalog output (format_type), never request text.
        return sql.SQL(self.types[column])


def select_list(columns: Columns, select: str | None) -> sql.Composable:
    """``select=*`` or ``select=a,b``; embedding, aliases and casts are not emulated."""
    if select is None or select.strip() in ("", "*"):
        return sql.SQL("*")
    names = [name.strip() for name in select.split(",")]
    return sql.SQL(", ").join(columns.identifier(name) for name in names)


def order_by(columns: Columns, order: str | None) -> sql.Composable:
    """``order=a.desc,b.asc.nullslast`` as an ORDER BY clause (empty when absent)."""
    if not order:
        return sql.SQL("")
    terms: list[sql.Composable] = []
    for term in order.split(","):
        column, *modifiers = term.strip().split(".")
        pieces: list[sql.Composable] = [columns.identifier(column)]
        for modifier in modifiers:
            keyword = {"asc": "asc", "desc": "desc", "nullsfirst": "nulls first", "nullslast": "nulls last"}.get(
                modifier
            )
            if keyword is None:
                raise QueryError(f"unknown ordering {modifier!r} in {term!r}")
            pieces.append(sql.SQL(keyword))
        terms.append(sql.SQL(" ").join(pieces))
    return sql.SQL(" order by ") + sql.SQL(", ").join(terms)


def where_clause(columns: Columns, params: list[tuple[str, str]]) -> Where:
    """Every column filter and logic tree in the query string, ANDed together."""
    where = Where()
    for key, value in params:
        if key in RESERVED:
            continue
        if key in LOGIC_KEYS:
            negated = key.startswith("not.")
            operator = key.removeprefix("not.")
            if not (value.startswith("(") and value.endswith(")")):
                raise QueryError(f"{key}= needs a parenthesised list, got {value!r}")
            expression = _logic(columns, operator, _split_top(value[1:-1]), where.params)
            where.parts.append(sql.SQL("not ({})").format(expression) if negated else expression)
        else:
            where.parts.append(_filter(columns, key, value, where.params))
    return where


def _logic(columns: Columns, operator: str, items: list[str], params: list[object]) -> sql.Composable:
    parts: list[sql.Composable] = []
    for item in items:
        negated = item.startswith("not.")
        body = item.removeprefix("not.")
        for nested in ("and", "or"):
            if body.startswith(nested + "(") and body.endswith(")"):
                part = _logic(columns, nested, _split_top(body[len(nested) + 1 : -1]), params)
                parts.append(sql.SQL("not ({})").format(part) if negated else sql.SQL("({})").format(part))
                break
        else:
            # A condition: the column comes first (``col.not.eq.x`` negates itself).
            column, dot, condition = item.partition(".")
            if not dot:
                raise QueryError(f"cannot read the condition {item!r}")
            parts.append(sql.SQL("({})").format(_filter(columns, column, condition, params, quoted=True)))
    return sql.SQL(f" {operator} ").join(parts)


def _filter(
    columns: Columns, column: str, condition: str, params: list[object], *, quoted: bool = False
) -> sql.Composable:
    identifier = columns.identifier(column)
    negated = condition.startswith("not.")
    operator, dot, raw = condition.removeprefix("not.").partition(".")
    if not dot:
        raise QueryError(f"cannot read the filter {column}={condition!r}")
    value = _unquote(raw) if quoted else raw
    expression: sql.Composable
    if operator in _COMPARISONS:
        params.append(value)
        expression = sql.SQL("{} {} cast(%s as {})").format(
            identifier, sql.SQL(_COMPARISONS[operator]), columns.cast(column)
        )
    elif operator in ("like", "ilike"):
        params.append(value.replace("*", "%"))
        expression = sql.SQL("{}::text {} %s").format(identifier, sql.SQL(_PATTERNS[operator]))
    elif operator in ("match", "imatch"):
        params.append(value)
        expression = sql.SQL("{}::text {} %s").format(identifier, sql.SQL(_PATTERNS[operator]))
    elif operator == "in":
        if not (raw.startswith("(") and raw.endswith(")")):
            raise QueryError(f"in. needs a parenthesised list, got {raw!r}")
        params.append([_unquote(item) for item in _split_top(raw[1:-1])])
        expression = sql.SQL("{} = any(cast(%s as {}[]))").format(identifier, columns.cast(column))
    elif operator == "is":
        keyword = _IS_VALUES.get(value.lower())
        if keyword is None:
            raise QueryError(f"is. takes null, true, false or unknown, not {value!r}")
        expression = sql.SQL("{} is {}").format(identifier, sql.SQL(keyword))
    else:
        raise QueryError(f"the operator {operator!r} is not emulated")
    return sql.SQL("not ({})").format(expression) if negated else expression


def _split_top(text: str) -> list[str]:
    """Split on commas outside double quotes and parentheses."""
    items: list[str] = []
    current: list[str] = []
    depth = 0
    in_quotes = False
    escaped = False
    for char in text:
        if escaped:
            escaped = False
        elif in_quotes and char == "\\":
            escaped = True
        elif char == '"':
            in_quotes = not in_quotes
        elif not in_quotes and char == "(":
            depth += 1
        elif not in_quotes and char == ")":
            depth -= 1
        elif not in_quotes and depth == 0 and char == ",":
            items.append("".join(current))
            current = []
            continue
        current.append(char)
    if in_quotes or depth != 0:
        raise QueryError(f"unbalanced quotes or parentheses in {text!r}")
    items.append("".join(current))
    return items


def _unquote(value: str) -> str:
    """A value of a list or logic tree: ``"…"`` with ``\\`` escapes, or bare."""
    if len(value) >= 2 and value[0] == value[-1] == '"':
        out: list[str] = []
        escaped = False
        for char in value[1:-1]:
            if escaped:
                out.append(char)
                escaped = False
            elif char == "\\":
                escaped = True
            else:
                out.append(char)
        return "".join(out)
    return value
