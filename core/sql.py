"""Hand-written SQL for the hot paths (order intake, stock posting).

The ORM's per-statement Python work (building the query, preparing each
value, making model instances) was most of an order intake's CPU time
(`bench/order_intake.py`). These helpers keep what the ORM does for
correctness — column names from the models, each value prepared by its
field (`get_db_prep_save`), each value read back through the field's
converters — and drop the rest. The SQL they build is plain and portable
(PostgreSQL, and SQLite for the quick start); a caller that adds
PostgreSQL-only SQL says so and keeps a portable branch.

Every statement still goes through Django's cursor, so transactions,
`execute_wrapper`s and the test runner's query capture see it."""

from collections.abc import Iterable, Sequence
from contextlib import contextmanager
from functools import cache

from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.models import Model
from django.db.models.fields import Field

# psycopg prepares a statement on the server once this connection has run
# it this many times (our statements only: Django's own cursors bind on the
# client and never prepare).
PREPARE_THRESHOLD = 2


def cursor():
    """A cursor for this module's statements. On PostgreSQL it binds the
    parameters on the server, so a statement the connection runs again
    (a pooled connection runs the intake's statements over and over) is
    parsed and planned once; the values travel apart from the SQL instead
    of being quoted into it. Django's wrappers (query capture, execute
    wrappers, error translation) still apply."""
    conn = connections[DEFAULT_DB_ALIAS]
    if conn.vendor != "postgresql":
        return conn.cursor()
    from django.db.backends.postgresql.base import ServerBindingCursor

    conn.close_if_health_check_failed()
    conn.ensure_connection()
    raw = conn.connection
    if raw.prepare_threshold is None:
        raw.prepare_threshold = PREPARE_THRESHOLD
    with conn.wrap_database_errors:
        return conn._prepare_cursor(ServerBindingCursor(raw))


def _field(model: type[Model], name: str) -> Field:
    field = model._meta.get_field(name)
    if not field.concrete or field.many_to_many:
        raise ValueError(f"{model.__name__}.{name} is not a column")
    return field


@cache
def fields_of(model: type[Model], names: tuple[str, ...]) -> tuple[Field, ...]:
    return tuple(_field(model, name) for name in names)


@cache
def quoted(name: str) -> str:
    return connection.ops.quote_name(name)


@cache
def table(model: type[Model]) -> str:
    return quoted(model._meta.db_table)


@cache
def column_list(model: type[Model], names: tuple[str, ...], alias: str = "") -> str:
    prefix = f"{alias}." if alias else ""
    return ", ".join(prefix + quoted(f.column) for f in fields_of(model, names))


def row_placeholders(width: int, count: int) -> str:
    row = "(" + ", ".join(["%s"] * width) + ")"
    return ", ".join([row] * count)


def in_list(count: int) -> str:
    """`(%s, %s, …)` for an IN clause (portable; never empty)."""
    if count < 1:
        raise ValueError("an IN list needs at least one value")
    return "(" + ", ".join(["%s"] * count) + ")"


def insert_values(model: type[Model], names: tuple[str, ...],
                  rows: Sequence[Sequence]) -> tuple[str, list]:
    """`INSERT INTO t (…) VALUES (…), (…)` and its parameters, each value
    prepared by its field as the ORM would. No RETURNING (add it)."""
    fields = fields_of(model, names)
    conn = connections[DEFAULT_DB_ALIAS]  # not the proxy: one look-up per statement
    params: list = []
    for row in rows:
        for field, value in zip(fields, row, strict=True):
            params.append(field.get_db_prep_save(value, conn))
    sql = (f"INSERT INTO {table(model)} ({column_list(model, names)}) VALUES "
           f"{row_placeholders(len(fields), len(rows))}")
    return sql, params


@cache
def _converters(model: type[Model], names: tuple[str, ...], vendor: str) -> tuple:
    out = []
    for field in fields_of(model, names):
        col = field.get_col(model._meta.db_table)
        converters = connection.ops.get_db_converters(col) + field.get_db_converters(connection)
        out.append((col, tuple(converters)))
    return tuple(out)


def load(model: type[Model], names: tuple[str, ...], rows: Iterable[Sequence],
         offset: int = 0) -> list[Model]:
    """Model instances from raw rows whose columns `offset…` are `names`
    (in that order), converted as the ORM converts them; other fields are
    deferred."""
    converters = _converters(model, names, connection.vendor)
    attnames = {f.attname for f in fields_of(model, names)}
    width = len(names)
    out = []
    for row in rows:
        values = []
        for (col, funcs), value in zip(converters, row[offset:offset + width], strict=True):
            for func in funcs:
                value = func(value, col, connection)
            values.append(value)
        out.append(model.from_db(connection.alias, attnames, _in_field_order(model, names,
                                                                             values)))
    return out


def _in_field_order(model: type[Model], names: tuple[str, ...], values: list) -> list:
    """from_db wants the values in the model's field order."""
    order = _field_order(model, names)
    return [values[i] for i in order]


@cache
def _field_order(model: type[Model], names: tuple[str, ...]) -> tuple[int, ...]:
    position = {f.attname: i for i, f in enumerate(fields_of(model, names))}
    return tuple(position[f.attname] for f in model._meta.concrete_fields
                 if f.attname in position)


def insert_objects(model: type[Model], names: tuple[str, ...],
                   objs: Sequence[Model]) -> tuple[str, list]:
    """`insert_values` for model instances, prepared as `bulk_create` does:
    related objects saved since assignment give their new ids, and each
    field's `pre_save` runs (`auto_now`, `auto_now_add`)."""
    fields = fields_of(model, names)
    rows = []
    for obj in objs:
        obj._prepare_related_fields_for_save(operation_name="bulk_create")
        rows.append([field.pre_save(obj, add=True) for field in fields])
    return insert_values(model, names, rows)


def prep(model: type[Model], name: str, value):
    """`value` prepared for a comparison with `model.name` (a WHERE parameter)."""
    return model._meta.get_field(name).get_db_prep_value(value, connection)


# --- one round trip for a transaction's closing writes --------------------------------

def _batch_of(conn) -> list | None:
    return getattr(conn, "rongtong_write_batch", None)


@contextmanager
def write_batch():
    """Writes made through `write()` inside this block wait, and run at its
    end as one statement on PostgreSQL (each a data-modifying WITH): a
    transaction's closing writes then cost one round trip. Elsewhere (and
    in a nested block) nothing changes: `write()` runs at once.

    Only for writes nothing inside the block reads back, each a plain
    INSERT/UPDATE/DELETE (no WITH of its own). An error in a
    waiting write surfaces at the end of the block; nothing is written if
    the block raises."""
    conn = connections[DEFAULT_DB_ALIAS]
    if conn.vendor != "postgresql" or _batch_of(conn) is not None:
        yield
        return
    conn.rongtong_write_batch = []
    try:
        yield
        pending = conn.rongtong_write_batch
    finally:
        conn.rongtong_write_batch = None
    if not pending:
        return
    *first, (last, last_params) = pending
    text = ", ".join(f"w{i} AS ({t})" for i, (t, _p) in enumerate(first))
    with cursor() as cur:
        cur.execute(f"WITH {text} {last}" if first else last,
                    [p for _t, ps in first for p in ps] + last_params)


def batching() -> bool:
    return _batch_of(connections[DEFAULT_DB_ALIAS]) is not None


def write(text: str, params: list) -> None:
    """Run a write now, or at the end of the enclosing `write_batch`."""
    conn = connections[DEFAULT_DB_ALIAS]
    pending = _batch_of(conn)
    if pending is not None:
        pending.append((text, params))
        return
    with cursor() as cur:
        cur.execute(text, params)
