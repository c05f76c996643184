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
from datetime import datetime
from decimal import Decimal
from functools import cache

from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.models import Model
from django.db.models.fields import Field

# psycopg prepares a statement on the server once this connection has run
# it this many times (our statements only: Django's own cursors bind on the
# client and never prepare).
PREPARE_THRESHOLD = 2


@contextmanager
def cursor():
    """A cursor for this module's statements. On PostgreSQL it binds the
    parameters on the server, so a statement the connection runs again
    (a pooled connection runs the intake's statements over and over) is
    parsed and planned once; the values travel apart from the SQL instead
    of being quoted into it. One such cursor is kept per connection (it is
    not closed here). Django's wrappers (query capture, execute wrappers,
    error translation) still apply."""
    conn = connections[DEFAULT_DB_ALIAS]
    if conn.vendor != "postgresql":
        with conn.cursor() as cur:
            yield cur
        return
    batch = _batch_of(conn)
    if batch is not None and batch.statements:
        _send(batch)  # a statement of ours may read what is waiting
    conn.close_if_health_check_failed()
    conn.ensure_connection()
    raw = conn.connection
    kept = getattr(conn, "rongtong_cursor", None)
    if kept is None or kept.closed or kept.connection is not raw:
        from django.db.backends.postgresql.base import ServerBindingCursor

        if raw.prepare_threshold is None:
            raw.prepare_threshold = PREPARE_THRESHOLD
        kept = conn.rongtong_cursor = ServerBindingCursor(raw)
    with conn.wrap_database_errors:
        yield conn._prepare_cursor(kept)


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
    conn = connections[DEFAULT_DB_ALIAS]  # not the proxy: one look-up per statement
    preps = _preparers(model, names, conn.vendor)
    params: list = []
    for row in rows:
        for prepare, value in zip(preps, row, strict=True):
            params.append(prepare(value, conn))
    sql = (f"INSERT INTO {table(model)} ({column_list(model, names)}) VALUES "
           f"{row_placeholders(len(preps), len(rows))}")
    return sql, params


_TEXT = frozenset({"CharField", "TextField", "SlugField", "EmailField", "URLField"})


@cache
def _preparers(model: type[Model], names: tuple[str, ...], vendor: str) -> tuple:
    """Per column, a function doing what `field.get_db_prep_save` does. On
    PostgreSQL the common cases are short-cut (they were most of an
    intake's insert preparation): None, text as str, Decimal, aware
    datetimes, booleans and keys pass unchanged, other integers get the
    typed wrapper Django gives them; anything else goes through the field."""
    out = []
    for field in fields_of(model, names):
        prep_save = field.get_db_prep_save
        if vendor != "postgresql" or field.get_internal_type() == "JSONField":
            out.append(lambda value, conn, f=prep_save: f(value, conn))
            continue
        kind = (field.target_field if field.is_relation else field).get_internal_type()
        int_type = connection.ops.integerfield_type_map.get(kind) if hasattr(
            connection.ops, "integerfield_type_map") else None
        out.append(_fast_preparer(prep_save, kind, int_type))
    return tuple(out)


def _fast_preparer(prep_save, kind: str, int_type):
    if int_type is not None:
        def prepare(value, conn):
            if value is None:
                return None
            return int_type(value) if type(value) is int else prep_save(value, conn)
        return prepare
    plain: tuple[type, ...] = ()
    if kind in _TEXT:
        plain = (str,)
    elif kind == "DecimalField":
        plain = (Decimal,)
    elif kind == "BooleanField":
        plain = (bool,)
    elif kind in ("AutoField", "BigAutoField", "SmallAutoField"):
        plain = (int,)  # Django passes a primary key (and a key to it) as a plain int
    if kind == "DateTimeField":
        def prepare(value, conn):
            if value is None or (type(value) is datetime and value.tzinfo is not None):
                return value
            return prep_save(value, conn)
        return prepare

    def prepare(value, conn):
        return value if value is None or type(value) in plain else prep_save(value, conn)
    return prepare


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
    a related object saved since it was assigned gives its new id, and the
    `auto_now`/`auto_now_add` fields are stamped (their `pre_save`)."""
    plan = _object_plan(model, names)
    rows = []
    for obj in objs:
        row = []
        for field, attname, stamped, related in plan:
            if stamped:
                row.append(field.pre_save(obj, add=True))
                continue
            value = getattr(obj, attname)
            if value is None and related:
                cached = field.get_cached_value(obj, None)
                if cached is not None:
                    if cached.pk is None:
                        raise ValueError(f"{model.__name__}.{field.name}: the related "
                                         "object is not saved")
                    value = cached.pk
                    setattr(obj, attname, value)
            row.append(value)
        rows.append(row)
    return insert_values(model, names, rows)


@cache
def _object_plan(model: type[Model], names: tuple[str, ...]) -> tuple:
    return tuple((f, f.attname, bool(getattr(f, "auto_now", False)
                                     or getattr(f, "auto_now_add", False)),
                  bool(f.is_relation and f.many_to_one)) for f in fields_of(model, names))


def prep(model: type[Model], name: str, value):
    """`value` prepared for a comparison with `model.name` (a WHERE parameter)."""
    return model._meta.get_field(name).get_db_prep_value(value, connection)


# --- one round trip for a transaction's closing writes --------------------------------

class _Batch:
    def __init__(self) -> None:
        self.statements: list[tuple[str, list]] = []
        self.touched: set = set()


def _batch_of(conn) -> _Batch | None:
    return getattr(conn, "rongtong_write_batch", None)


@contextmanager
def write_batch():
    """Writes made through `write()` inside this block wait, and run at its
    end as one statement on PostgreSQL (each a data-modifying WITH): a
    transaction's closing writes then cost one round trip. Elsewhere (and
    in a nested block) nothing changes: `write()` runs at once.

    Each write is a plain INSERT/UPDATE/DELETE (no WITH of its own). A
    statement run through this module's `cursor()` sends what is waiting
    first, so it reads it; an ORM query does not: inside the block, read
    nothing the waiting writes change through the ORM. PostgreSQL applies only one
    of two changes to the same row within one statement, so a write names
    the rows it updates (`touches`) and a second write to one of them first
    sends what is waiting. An error in a waiting write surfaces at the end
    of the block; nothing is written if the block raises."""
    conn = connections[DEFAULT_DB_ALIAS]
    if conn.vendor != "postgresql" or _batch_of(conn) is not None:
        yield
        return
    conn.rongtong_write_batch = batch = _Batch()
    try:
        yield
    finally:
        conn.rongtong_write_batch = None
    _send(batch)


def _send(batch: _Batch) -> None:
    statements, batch.statements, batch.touched = batch.statements, [], set()
    if not statements:
        return
    *first, (last, last_params) = statements
    text = ", ".join(f"w{i} AS ({t})" for i, (t, _p) in enumerate(first))
    with cursor() as cur:
        cur.execute(f"WITH {text} {last}" if first else last,
                    [p for _t, ps in first for p in ps] + last_params)


def batching() -> bool:
    return _batch_of(connections[DEFAULT_DB_ALIAS]) is not None


def write(text: str, params: list, *, touches: Iterable = ()) -> None:
    """Run a write now, or at the end of the enclosing `write_batch`.
    `touches`: keys of the existing rows it updates or deletes (e.g.
    `("inventory_stocklevel", 12)`)."""
    conn = connections[DEFAULT_DB_ALIAS]
    batch = _batch_of(conn)
    if batch is None:
        with cursor() as cur:
            cur.execute(text, params)
        return
    touches = set(touches)
    if touches & batch.touched:
        _send(batch)
    batch.statements.append((text, params))
    batch.touched |= touches
