"""An ``httpx`` transport that answers PostgREST requests from a real PostgreSQL database.

It is not PostgREST. It understands the requests the ``supabase`` client
makes for supportchat (see ``docs/supabase.md``), and runs each one as
PostgREST would: verify the JWT, open a transaction, ``SET LOCAL ROLE`` to the
token's role, publish the claims in ``request.jwt.claims``, run one statement
(so row-level security, grants and the shipped functions decide), and answer
with PostgREST's JSON shapes, headers, status codes and error bodies.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import httpx
import jwt
import psycopg
from psycopg import sql

from .database import Catalog, EmulatedDatabase, Function
from .query import Columns, QueryError, order_by, select_list, where_clause
from .tokens import API_ROLES, JWT_SECRET, verify

T = TypeVar("T")

REST_PREFIX = "/rest/v1/"
SINGLE_OBJECT = "application/vnd.pgrst.object+json"


class PostgrestEmulator(httpx.BaseTransport):
    """Serves ``/rest/v1/…`` for one :class:`EmulatedDatabase`.

    ``max_rows`` caps every answer as Supabase's default API settings do.
    ``requests`` counts what was served, for tests that want to know.
    """

    def __init__(
        self, database: EmulatedDatabase, *, jwt_secret: str = JWT_SECRET, max_rows: int | None = 1000
    ) -> None:
        self.database = database
        self.jwt_secret = jwt_secret
        self.max_rows = max_rows
        self._served = itertools.count(1)
        self.requests = 0

    @property
    def catalog(self) -> Catalog:
        return self.database.catalog

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.requests = next(self._served)  # atomic under concurrent requests, unlike +=
        try:
            claims = self._authenticate(request)
            return self._dispatch(request, claims)
        except QueryError as error:
            return _error(error.status, error.code, error.message, error.details)
        except _RequestFailed as failed:
            return failed.response
        except psycopg.OperationalError as error:
            # No connection to be had: what PostgREST answers when its database is down.
            return _error(503, "PGRST000", "Could not connect with the database", str(error))

    # -- authentication ----------------------------------------------------

    def _authenticate(self, request: httpx.Request) -> dict[str, Any]:
        """The claims of the bearer token (the API key's when there is none), as PostgREST reads them."""
        apikey = request.headers.get("apikey")
        authorization = request.headers.get("authorization", "")
        token = authorization[7:].strip() if authorization.lower().startswith("bearer ") else apikey
        if not apikey:
            # Supabase's gateway refuses requests without an API key before PostgREST sees them.
            raise QueryError("No API key found in request", code="PGRST301", status=401)
        if not token:
            return {"role": "anon"}
        try:
            verify(apikey, secret=self.jwt_secret)
            claims = verify(token, secret=self.jwt_secret)
        except jwt.ExpiredSignatureError as error:
            raise QueryError("JWT expired", code="PGRST303", status=401) from error
        except jwt.InvalidTokenError as error:
            raise QueryError(f"invalid JWT: {error}", code="PGRST301", status=401) from error
        role = claims.get("role", "anon")
        if role not in API_ROLES:
            raise QueryError(f'role "{role}" does not exist', code="22023", status=401)
        return claims

    # -- routing -------------------------------------------------------------

    def _dispatch(self, request: httpx.Request, claims: dict[str, Any]) -> httpx.Response:
        path = request.url.path
        if not path.startswith(REST_PREFIX):
            return _error(404, "PGRST125", f"invalid path {path}")
        target = path[len(REST_PREFIX) :].strip("/")
        profile = request.headers.get("accept-profile") or request.headers.get("content-profile") or "public"
        if profile != "public":
            raise QueryError(f"the schema {profile!r} is not exposed", code="PGRST106", status=406)
        if target.startswith("rpc/"):
            if request.method != "POST":
                raise QueryError("only POST /rpc/<function> is emulated", code="PGRST117", status=405)
            return self._call(request, claims, target[4:])
        columns = self.catalog.columns.get(target)
        if columns is None:
            return _error(
                404,
                "PGRST205",
                f"Could not find the table 'public.{target}' in the schema cache",
            )
        table = Columns(target, columns)
        handlers = {"GET": self._read, "POST": self._insert, "PATCH": self._update, "DELETE": self._delete}
        handler = handlers.get(request.method)
        if handler is None:
            raise QueryError(f"{request.method} is not emulated", code="PGRST117", status=405)
        return handler(request, claims, table)

    # -- tables ----------------------------------------------------------------

    def _read(self, request: httpx.Request, claims: dict[str, Any], table: Columns) -> httpx.Response:
        params = list(request.url.params.multi_items())
        query = dict(params)
        where = where_clause(table, params)
        offset, limit = _window(request, query)
        if self.max_rows is not None:
            limit = self.max_rows if limit is None else min(limit, self.max_rows)
        relation = sql.Identifier("public", table.table)
        rows_sql = sql.SQL("select coalesce(json_agg(r), '[]')::text from (select {} from {} where {}{}{}) r").format(
            select_list(table, query.get("select")),
            relation,
            where.sql(),
            order_by(table, query.get("order")),
            sql.SQL(" limit {} offset {}").format(sql.Literal(limit), sql.Literal(offset))
            if limit is not None
            else sql.SQL(" offset {}").format(sql.Literal(offset)),
        )
        count_wanted = "count=exact" in request.headers.get("prefer", "")
        count_sql = sql.SQL("select count(*) from {} where {}").format(relation, where.sql())

        def run(conn: psycopg.Connection) -> tuple[str, int | None]:
            body = conn.execute(rows_sql, where.params).fetchone()
            total = conn.execute(count_sql, where.params).fetchone() if count_wanted else None
            return body[0] if body else "[]", total[0] if total else None

        body, total = self._in_transaction(claims, run)
        rows = json.loads(body)
        headers = {"Content-Range": _content_range(offset, len(rows), total)}
        return self._rows_response(request, 200, rows, headers)

    def _insert(self, request: httpx.Request, claims: dict[str, Any], table: Columns) -> httpx.Response:
        payload = _json_body(request)
        rows = payload if isinstance(payload, list) else [payload]
        if not all(isinstance(row, dict) for row in rows):
            raise QueryError("the body must be a JSON object or an array of objects", code="PGRST102")
        if "resolution=" in request.headers.get("prefer", ""):
            raise QueryError("upsert is not emulated", code="PGRST100")
        names = sorted({key for row in rows for key in row})
        relation = sql.Identifier("public", table.table)
        if names:
            column_list = sql.SQL(", ").join(table.identifier(name) for name in names)
            statement = sql.SQL(
                "with written as (insert into {} ({}) select {} from json_populate_recordset(null::{}, %s::json)"
                " returning *) select coalesce(json_agg(written), '[]')::text from written"
            ).format(relation, column_list, column_list, relation)
        else:
            statement = sql.SQL(
                "with written as (insert into {} default values returning *)"
                " select coalesce(json_agg(written), '[]')::text from written"
            ).format(relation)
        written = self._write(claims, statement, [json.dumps(rows)] if names else [])
        return self._written_response(request, 201, written)

    def _update(self, request: httpx.Request, claims: dict[str, Any], table: Columns) -> httpx.Response:
        payload = _json_body(request)
        if not isinstance(payload, dict) or not payload:
            raise QueryError("the body must be a non-empty JSON object", code="PGRST102")
        params = list(request.url.params.multi_items())
        where = where_clause(table, params)
        relation = sql.Identifier("public", table.table)
        assignments = sql.SQL(", ").join(
            sql.SQL("{} = (select new_values.{} from new_values)").format(table.identifier(name), sql.Identifier(name))
            for name in payload
        )
        # new_values stays out of the UPDATE's FROM, so the filters' bare column names mean the table's.
        statement = sql.SQL(
            "with new_values as (select * from json_populate_record(null::{}, %s::json)),"
            " written as (update {} set {} where {} returning {}.*)"
            " select coalesce(json_agg(written), '[]')::text from written"
        ).format(relation, relation, assignments, where.sql(), relation)
        written = self._write(claims, statement, [json.dumps(payload), *where.params])
        return self._written_response(request, 200, written)

    def _delete(self, request: httpx.Request, claims: dict[str, Any], table: Columns) -> httpx.Response:
        params = list(request.url.params.multi_items())
        where = where_clause(table, params)
        relation = sql.Identifier("public", table.table)
        statement = sql.SQL(
            "with written as (delete from {} where {} returning *)"
            " select coalesce(json_agg(written), '[]')::text from written"
        ).format(relation, where.sql())
        written = self._write(claims, statement, where.params)
        return self._written_response(request, 200, written)

    # -- functions -------------------------------------------------------------

    def _call(self, request: httpx.Request, claims: dict[str, Any], name: str) -> httpx.Response:
        arguments = _json_body(request) if request.content else {}
        if not isinstance(arguments, dict):
            raise QueryError("the arguments must be a JSON object", code="PGRST102")
        function = self._resolve(name, set(arguments))
        record = sql.SQL(", ").join(
            sql.SQL("{} {}").format(sql.Identifier(arg), sql.SQL(type_name))
            for arg, type_name in function.arguments
            if arg in arguments
        )
        call = sql.SQL("{}({})").format(
            sql.Identifier("public", function.name),
            sql.SQL(", ").join(
                sql.SQL("{} => args.{}").format(sql.Identifier(arg), sql.Identifier(arg))
                for arg, _ in function.arguments
                if arg in arguments
            ),
        )
        source = (
            sql.SQL("json_to_record(%s::json) as args({})").format(record) if arguments else sql.SQL("(select) as args")
        )
        if function.returns_set:
            statement = sql.SQL("select coalesce(json_agg(result), '[]')::text from {}, lateral {} as result").format(
                source, call
            )
        elif function.returns_row:
            statement = sql.SQL("select to_json(result)::text from {}, lateral {} as result").format(source, call)
        else:
            statement = sql.SQL("select to_json({})::text from {}").format(call, source)
        params = [json.dumps(arguments)] if arguments else []
        body = self._in_transaction(claims, lambda conn: _scalar(conn, statement, params))
        return httpx.Response(200, content=(body or "null").encode(), headers={"Content-Type": "application/json"})

    def _resolve(self, name: str, given: set[str]) -> Function:
        for function in self.catalog.functions.get(name, []):
            known = {arg for arg, _ in function.arguments}
            if given <= known and function.required <= given:
                return function
        raise QueryError(
            f"Could not find the function public.{name}({', '.join(sorted(given))}) in the schema cache",
            code="PGRST202",
            status=404,
        )

    # -- transactions and responses ------------------------------------------

    def _in_transaction(self, claims: dict[str, Any], work: Callable[[psycopg.Connection], T]) -> T:
        """Run ``work(conn)`` as PostgREST runs a request: one transaction, the token's role and claims."""
        role = str(claims.get("role", "anon"))
        with self.database.connection() as conn:
            try:
                with conn.transaction():
                    conn.execute(sql.SQL("set local role {}").format(sql.Identifier(role)))
                    conn.execute("select set_config('request.jwt.claims', %s, true)", [json.dumps(claims)])
                    return work(conn)
            except psycopg.Error as error:
                raise _RequestFailed(_database_error(error, anonymous=role == "anon")) from error

    def _write(self, claims: dict[str, Any], statement: sql.Composed, params: Sequence[object]) -> list[Any]:
        body = self._in_transaction(claims, lambda conn: _scalar(conn, statement, params))
        rows: list[Any] = json.loads(body or "[]")
        return rows

    def _rows_response(
        self, request: httpx.Request, status: int, rows: list[Any], headers: dict[str, str]
    ) -> httpx.Response:
        if request.headers.get("accept", "").startswith(SINGLE_OBJECT):
            if len(rows) != 1:
                return _error(
                    406,
                    "PGRST116",
                    "Cannot coerce the result to a single JSON object",
                    f"The result contains {len(rows)} rows",
                )
            return _json_response(status, rows[0], headers)
        return _json_response(status, rows, headers)

    def _written_response(self, request: httpx.Request, status: int, rows: list[Any]) -> httpx.Response:
        if "return=representation" in request.headers.get("prefer", ""):
            return self._rows_response(request, status, rows, {"Content-Range": _content_range(0, len(rows), None)})
        return httpx.Response(204 if status == 200 else status, headers={"Content-Range": f"*/{len(rows)}"})


class _RequestFailed(Exception):
    """A database error already rendered as PostgREST's answer."""

    def __init__(self, response: httpx.Response) -> None:
        super().__init__(response.status_code)
        self.response = response


def _scalar(conn: psycopg.Connection, statement: sql.Composed, params: Sequence[object]) -> Any:
    row = conn.execute(statement, params).fetchone()
    return row[0] if row else None


def _json_body(request: httpx.Request) -> Any:
    try:
        return json.loads(request.content or b"null")
    except ValueError as error:
        raise QueryError(f"the body is not JSON: {error}", code="PGRST102") from error


def _window(request: httpx.Request, query: dict[str, str]) -> tuple[int, int | None]:
    """Offset and limit from ``offset``/``limit`` or a ``Range: a-b`` header."""
    try:
        offset = int(query.get("offset", "0"))
        limit = int(query["limit"]) if "limit" in query else None
        range_header = request.headers.get("range")
        if range_header:
            start, _, end = range_header.partition("-")
            offset = int(start)
            limit = int(end) - offset + 1 if end else limit
    except ValueError as error:
        raise QueryError(f"bad limit, offset or range: {error}", code="PGRST103", status=416) from error
    if offset < 0 or (limit is not None and limit < 0):
        raise QueryError("negative limit or offset", code="PGRST103", status=416)
    return offset, limit


def _content_range(offset: int, returned: int, total: int | None) -> str:
    shown = f"{offset}-{offset + returned - 1}" if returned else "*"
    return f"{shown}/{'*' if total is None else total}"


def _json_response(status: int, payload: Any, headers: dict[str, str]) -> httpx.Response:
    return httpx.Response(
        status,
        content=json.dumps(payload).encode(),
        headers={"Content-Type": "application/json; charset=utf-8", **headers},
    )


def _error(status: int, code: str, message: str, details: str | None = None, hint: str | None = None) -> httpx.Response:
    return _json_response(status, {"code": code, "message": message, "details": details, "hint": hint}, {})


def _database_error(error: psycopg.Error, *, anonymous: bool) -> httpx.Response:
    """PostgREST's answer to a failed statement: the SQLSTATE as ``code``, its HTTP status."""
    if error.sqlstate is None and isinstance(error, psycopg.OperationalError):
        # The connection broke mid-request.
        return _error(503, "PGRST001", "Database client error. Retrying the connection.", str(error))
    diag = error.diag
    code = error.sqlstate or "XX000"
    return _error(
        _status_for(code, anonymous=anonymous),
        code,
        diag.message_primary or str(error),
        diag.message_detail,
        diag.message_hint,
    )


def _status_for(code: str, *, anonymous: bool) -> int:
    """PostgREST's table from SQLSTATE to HTTP status."""
    if code.startswith("PT") and code[2:].isdigit():
        return int(code[2:])
    exact = {"23503": 409, "23505": 409, "25006": 405, "P0001": 400, "42883": 404, "42P01": 404, "42P17": 500}
    if code in exact:
        return exact[code]
    if code == "42501":
        return 401 if anonymous else 403
    prefixes = {
        "08": 503, "09": 500, "0L": 403, "0P": 403, "25": 500, "28": 403, "2D": 500, "38": 500, "39": 500,
        "3B": 500, "40": 500, "53": 503, "54": 500, "55": 500, "57": 500, "58": 500, "F0": 500, "HV": 500,
        "P0": 500, "XX": 500,
    }  # fmt: skip
    return prefixes.get(code[:2], 400)
