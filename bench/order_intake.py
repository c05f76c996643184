"""Benchmark partner order intake (SPEC §9 ``POST /api/v1/partner/orders/``).

One run, from the repository root::

    .venv/bin/python bench/order_intake.py [--clients 16] [--seconds 20]
        [--workers N] [--threads T] [--sweep] [--explain-queries] [--profile 200]

What it does:

1. Drops and recreates ``rongtong_bench`` (and ``rongtong_bench_pgbench``) on
   the PostgreSQL server, migrates it with the production settings, and sets
   up one main warehouse, ``--skus`` SKUs with large stock (through
   ``inventory.services.stock_receive``) and a channel with a partner key.
2. Counts the SQL statements of one order intake in-process (Django test
   client, every statement captured with an execute wrapper, BEGIN/COMMIT
   marked) and, with ``--explain-queries``, prints them.
3. Starts gunicorn (``config.wsgi:application``), waits for ``/healthz``, and
   lets ``--clients`` keep-alive partner connections (spread over
   ``--client-procs`` asyncio processes, raw sockets) POST 3-line express
   orders for ``--warmup`` + ``--seconds`` seconds. Every reply must be 201
   with status ``confirmed``; anything else is counted as an error. With
   ``--sweep`` a few gunicorn settings are tried first and the best is used.
4. With ``--profile N``, times N in-process orders against the bench DB (wall,
   time inside SQL executes, process CPU) and cProfiles N more with a CPU clock.
5. With ``--floors``, measures what the machine does with the application
   out of the way: Django's 404 under the same gunicorn and clients, and the
   SQL of 24 real orders (captured in-process) replayed by ``pgbench -M
   prepared`` with no Python at all; then prints what the ratio target
   leaves for the application.
6. Runs PostgreSQL's TPC-B (``pgbench -i -s 10``; ``pgbench -c 16 -j 2 -T S``)
   on the same server and prints orders/s ÷ pgbench tps.

Gunicorn, the client processes and the bench databases are cleaned up on
exit, Ctrl-C or error (``--keep-db`` keeps the databases).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import multiprocessing as mp
import os
import random
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from decimal import Decimal
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
BENCH_DB = "rongtong_bench"
PGBENCH_DB = "rongtong_bench_pgbench"
ORDERS_PATH = "/api/v1/partner/orders/"
FLOOR_PATH = "/bench-floor-no-such-page/"
REPLAY_ORDERS = 24  # orders whose SQL --floors replays (one pgbench script each)
MARKER = "@@BENCH@@"

TARGET_ORDERS_PER_S = 250.0
TARGET_P99_MS = 150.0
TARGET_RATIO = 0.2

# gunicorn settings tried by --sweep: (worker class, workers, threads).
SWEEP = [("sync", 2, 1), ("sync", 3, 1), ("sync", 4, 1), ("sync", 6, 1),
         ("gthread", 2, 2), ("gthread", 2, 4), ("gthread", 2, 8), ("gthread", 3, 2),
         ("gthread", 4, 2)]


# --------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------

def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def percentile(sorted_values: list[float], q: float) -> float:
    """Nearest-rank percentile of an already sorted list."""
    if not sorted_values:
        return float("nan")
    rank = max(1, int(-(-q * len(sorted_values) // 100)))  # ceil
    return sorted_values[min(rank, len(sorted_values)) - 1]


def verdict(ok: bool) -> str:
    return "OK  " if ok else "MISS"


class Postgres:
    """Admin connection to the server (autocommit), through psycopg."""

    def __init__(self, host: str, port: int, user: str) -> None:
        self.host, self.port, self.user = host, port, user

    def url(self, db: str) -> str:
        return f"postgres://{self.user}@{self.host}:{self.port}/{db}"

    def execute(self, sql: str, params=None, db: str = "postgres") -> list[tuple]:
        import psycopg

        with psycopg.connect(host=self.host, port=self.port, user=self.user, dbname=db,
                             autocommit=True) as conn:
            cur = conn.execute(sql, params)
            return cur.fetchall() if cur.description else []

    def recreate(self, db: str) -> None:
        self.drop(db)
        self.execute(f'CREATE DATABASE "{db}"')

    def drop(self, db: str) -> None:
        self.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')

    def db_stats(self, db: str) -> dict[str, int]:
        rows = self.execute(
            "SELECT xact_commit, xact_rollback, tup_inserted, tup_updated, tup_deleted,"
            " tup_returned, tup_fetched FROM pg_stat_database WHERE datname = %s", (db,))
        keys = ("xact_commit", "xact_rollback", "tup_inserted", "tup_updated", "tup_deleted",
                "tup_returned", "tup_fetched")
        return dict(zip(keys, rows[0], strict=True)) if rows else {}


# --------------------------------------------------------------------------
# Child side: everything that needs Django runs in a subprocess of this file
# (`--internal setup|explain|profile`) with the bench environment.
# --------------------------------------------------------------------------

def _django():
    sys.path.insert(0, str(REPO))
    os.chdir(REPO)
    import django

    django.setup()


def _emit(payload) -> None:
    print(MARKER + json.dumps(payload, ensure_ascii=False), flush=True)


def internal_setup(n_skus: int) -> None:
    _django()
    from django.db import transaction

    from inventory.enums import LocationKind
    from inventory.models import Location, Product, Sku
    from inventory.services import stock_receive
    from sales.enums import ChannelKind
    from sales.models import Channel
    from sales.partner_keys import partner_key_create

    with transaction.atomic():
        location = Location.objects.create(
            code="BENCH-WH", name="Bench main warehouse", kind=LocationKind.WAREHOUSE,
            is_main_warehouse=True, province="上海市", city="上海市", district="浦东新区",
            lat=Decimal("31.230000"), lng=Decimal("121.470000"))
        products = Product.objects.bulk_create(
            Product(code=f"BP{i:04d}", name=f"基准商品 {i}", category="服饰",
                    price=Decimal(f"{19 + i % 80}.90")) for i in range(n_skus))
        skus = Sku.objects.bulk_create(
            Sku(product=product, code=f"BSKU{i:04d}", name=f"{product.name} 红色/M",
                attributes={"颜色": "红色", "尺码": "M"}, price=product.price)
            for i, product in enumerate(products))
        for sku in skus:
            stock_receive(sku=sku, location=location, quantity=10_000_000,
                          reason="bench stock")
        channel = Channel.objects.create(code="bench", name="Bench partner",
                                         kind=ChannelKind.MARKETPLACE,
                                         commission_rate=Decimal("0.0500"))
        channel.locations.add(location)
        _key, plain = partner_key_create(channel=channel, name="bench")
    _emit({"key": plain, "skus": [[sku.code, str(sku.price)] for sku in skus]})


def order_body(skus: list[list[str]], uid: str, phone: str, rng: random.Random) -> dict:
    """A 3-line express order; paid_amount equals the total. `uid` makes the
    external id and the address unique (the fraud check counts orders per
    address) and `phone` a new customer (the duplicate check looks for the
    same customer and total within 10 minutes)."""
    lines, total = [], Decimal("0.00")
    for code, price in rng.sample(skus, 3):
        quantity = rng.randint(1, 3)
        lines.append({"sku": code, "quantity": quantity, "unit_price": price})
        total += Decimal(price) * quantity
    return {
        "external_id": f"B-{uid}",
        "customer": {"name": "基准客户", "phone": phone, "email": "bench@example.com"},
        "lines": lines,
        "shipping_address": {"province": "上海市", "city": "上海市", "district": "浦东新区",
                             "line1": f"世纪大道 {uid} 号", "lat": "31.230000",
                             "lng": "121.470000"},
        "fulfilment": "express",
        "paid_amount": str(total),
    }


def _test_client(key: str):
    from django.test import Client

    return Client(HTTP_HOST="127.0.0.1", HTTP_AUTHORIZATION=f"Api-Key {key}")


def _post(client, body: dict, idem: str):
    response = client.post(ORDERS_PATH, data=json.dumps(body, ensure_ascii=False),
                           content_type="application/json", HTTP_IDEMPOTENCY_KEY=idem)
    data = response.json()
    if response.status_code != 201 or data.get("status") != "confirmed":
        raise RuntimeError(f"in-process order failed: {response.status_code} {data}")
    return data


@contextlib.contextmanager
def _captured(conn):
    """Record every statement run on `conn` as ("sql", sql, params, ms) and
    transaction control as ("tx", "BEGIN"/"COMMIT"/"ROLLBACK", None, ms)."""
    events: list[tuple[str, str, object, float]] = []

    def wrapper(execute, sql, params, many, context):
        start = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            events.append(("sql", sql, params, (time.perf_counter() - start) * 1000))

    original_set_autocommit, original_commit = conn.set_autocommit, conn.commit
    original_rollback = conn.rollback

    def set_autocommit(autocommit, *args, **kwargs):
        if not autocommit:
            events.append(("tx", "BEGIN", None, 0.0))
        return original_set_autocommit(autocommit, *args, **kwargs)

    def commit():
        start = time.perf_counter()
        try:
            return original_commit()
        finally:
            events.append(("tx", "COMMIT", None, (time.perf_counter() - start) * 1000))

    def rollback():
        events.append(("tx", "ROLLBACK", None, 0.0))
        return original_rollback()

    conn.set_autocommit, conn.commit, conn.rollback = set_autocommit, commit, rollback
    try:
        with conn.execute_wrapper(wrapper):
            yield events
    finally:
        conn.set_autocommit, conn.commit = original_set_autocommit, original_commit
        conn.rollback = original_rollback


def internal_explain(payload: dict) -> None:
    """Capture every statement (and BEGIN/COMMIT) of one order intake."""
    _django()
    from django.db import connections

    conn = connections["default"]
    rng = random.Random(7)
    client = _test_client(payload["key"])
    tag = f"{secrets.randbelow(10**6):06d}"
    # One order first: warms per-process caches (content types, translations).
    _post(client, order_body(payload["skus"], f"X{tag}-0", f"3{tag}0", rng), f"X{tag}-0")
    body = order_body(payload["skus"], f"X{tag}-1", f"3{tag}1", rng)
    start = time.perf_counter()
    with _captured(conn) as captured:
        _post(client, body, f"X{tag}-1")
    wall = (time.perf_counter() - start) * 1000
    events = []
    for kind, sql, params, ms in captured:
        if kind == "tx":
            text = "BEGIN  -- implicit, sent by psycopg before the next statement" \
                if sql == "BEGIN" else sql
        else:
            text = sql
            with contextlib.suppress(Exception):
                text = _inline(sql, params)
        events.append((kind, text, ms))
    _emit({"events": events, "wall_ms": wall})


def internal_replay(payload: dict, n: int) -> None:
    """The SQL of `n` in-process orders as pgbench scripts (one per order).

    Each script is the statements one real order ran, its parameters written
    in as literals except what must differ per transaction: the values
    derived from the order's unique id (Idempotency-Key, external id, address,
    phone, order number) become expressions of a random ``:k``, and the order
    and customer ids, which the statement drawing the order id returns, are
    taken from that statement with ``\\gset``. pgbench picks one script per
    transaction, so the SKUs vary as in the load. Run with ``-M prepared``, as
    the application's hot statements are prepared too."""
    _django()
    from django.db import connections

    from sales.models import Customer, Order

    conn = connections["default"]
    # The ids are told apart by value, so keep customer ids far from order
    # ids (both grow by one per order in the bench database).
    with conn.cursor() as cursor:
        cursor.execute("SELECT setval(pg_get_serial_sequence(%s, 'id'), "
                       "GREATEST(nextval(pg_get_serial_sequence(%s, 'id')), "
                       "nextval(pg_get_serial_sequence(%s, 'id'))) + 1000000)",
                       [Customer._meta.db_table, Customer._meta.db_table,
                        Order._meta.db_table])
    rng = random.Random(11)
    client = _test_client(payload["key"])
    tag = f"{secrets.randbelow(10**6):06d}"
    _post(client, order_body(payload["skus"], f"Y{tag}-0", f"4{tag}00", rng), f"Y{tag}-0")
    scripts = []
    for i in range(1, n + 1):
        uid, phone = f"Y{tag}-{i}", f"4{tag}{i:02d}"
        with _captured(conn) as captured:
            reply = _post(client, order_body(payload["skus"], uid, phone, rng), uid)
        order_id, customer_id = Order.objects.filter(number=reply["number"]).values_list(
            "pk", "customer_id").get()
        if min(order_id, customer_id) <= len(payload["skus"]) or order_id == customer_id:
            # Small ids could be mistaken for SKU ids or quantities.
            raise RuntimeError("replay needs distinct order and customer ids above the SKU "
                               "count; run it after the load")
        tokens = {uid: "'X' || CAST(:k AS text)", phone: "'4' || CAST(:k AS text)",
                  reply["number"]: "'R' || CAST(:k AS text)"}
        ids = {order_id: "CAST(:g_nextval AS bigint)", customer_id: "CAST(:g_id AS bigint)"}
        lines = ["\\set k random(1, 999999999999999)"]
        if sum("nextval(" in sql for kind, sql, _p, _ms in captured if kind == "sql") != 1:
            raise RuntimeError("replay expects one statement drawing the order id (nextval); "
                               "the intake's SQL changed, so update internal_replay")
        for kind, sql, params, _ms in captured:
            if kind == "tx":
                lines.append(f"{sql};")
                continue
            text = _pgbench_sql(sql, params, tokens, ids)
            lines.append(f"{text} \\gset g_" if "nextval(" in sql else f"{text};")
        scripts.append("\n".join(lines) + "\n")
    _emit({"scripts": scripts})


def _pgbench_sql(sql: str, params, tokens: dict[str, str], ids: dict[int, str]) -> str:
    """`sql` (psycopg %s placeholders) with `params` written in for pgbench."""
    pieces = sql.replace("\n", " ").split("%s")
    if len(pieces) - 1 != len(params or ()):
        raise RuntimeError(f"cannot write the parameters into: {sql[:200]}")
    out = [pieces[0].replace("%%", "%")]
    for value, piece in zip(params or (), pieces[1:], strict=True):
        out.append(_pgbench_value(value, tokens, ids))
        out.append(piece.replace("%%", "%"))
    return "".join(out)


def _pgbench_value(value, tokens: dict[str, str], ids: dict[int, str]) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return ids.get(value, str(value))
    if isinstance(value, float):
        return repr(value)
    if hasattr(value, "obj") and value.__class__.__name__ in ("Json", "Jsonb"):
        value = json.dumps(value.obj, ensure_ascii=False, separators=(",", ":"))
    elif hasattr(value, "isoformat"):
        value = value.isoformat()
    text = str(value)
    parts = re.split("(" + "|".join(re.escape(t) for t in tokens) + ")", text)
    out = []
    for part in parts:
        if part in tokens:
            out.append(tokens[part])
        elif part or len(parts) == 1:
            # A colon before a letter would read as a pgbench variable: split
            # the literal there (such a literal becomes text, not unknown).
            out.extend("'" + piece.replace("'", "''") + "'"
                       for piece in re.split(r"(?<=:)(?=[A-Za-z_\x80-\U0010ffff])", part))
    return "(" + " || ".join(out) + ")" if len(out) > 1 else out[0]


def _inline(sql: str, params) -> str:
    """SQL with its parameters inlined (for reading, not for running)."""
    if not params:
        return sql
    if isinstance(params, dict):
        return sql % {k: _literal(v) for k, v in params.items()}
    return sql % tuple(_literal(p) for p in params)


def _literal(value) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    text = str(value) if not isinstance(value, bytes | dict | list) else json.dumps(
        value, ensure_ascii=False, default=str)
    if len(text) > 60:
        text = text[:57] + "..."
    return "'" + text.replace("'", "''") + "'"


def internal_profile(payload: dict, n: int, top: int) -> None:
    """Timing (no profiler) and a cProfile of `n` in-process orders."""
    _django()
    import cProfile
    import io
    import pstats

    from django.db import connections

    conn = connections["default"]
    rng = random.Random(11)
    client = _test_client(payload["key"])
    tag = f"{secrets.randbelow(10**6):06d}"
    counter = iter(range(10**9))

    def one():
        i = next(counter)
        _post(client, order_body(payload["skus"], f"P{tag}-{i}",
                                 f"4{tag}{i:06d}", rng), f"P{tag}-{i}")

    for _ in range(20):  # warm up
        one()

    db = {"ms": 0.0, "n": 0}

    def wrapper(execute, sql, params, many, context):
        start = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            db["ms"] += (time.perf_counter() - start) * 1000
            db["n"] += 1

    with conn.execute_wrapper(wrapper):
        start, cpu_start = time.perf_counter(), time.process_time()
        for _ in range(n):
            one()
        wall = (time.perf_counter() - start) * 1000
        plain_cpu = (time.process_time() - cpu_start) * 1000
    cpu_start = time.process_time()
    profiler = cProfile.Profile(time.process_time)  # CPU, not time spent waiting
    profiler.enable()
    for _ in range(n):
        one()
    profiler.disable()
    cpu = (time.process_time() - cpu_start) * 1000

    stats = pstats.Stats(profiler)
    own = []
    repo = str(REPO) + "/"
    for (filename, line, func), (_cc, calls, _tt, cumtime, _callers) in stats.stats.items():
        if filename.startswith(repo) and not filename.startswith(
                (repo + "bench/", repo + ".venv/")):
            own.append((cumtime / n * 1000, calls / n,
                        f"{filename[len(repo):]}:{line}({func})"))
        elif func in LIBRARY_HOT_SPOTS and LIBRARY_HOT_SPOTS[func] in filename:
            own.append((cumtime / n * 1000, calls / n,
                        f"{_area(filename)} {Path(filename).name}:{line}({func})"))
    own.sort(reverse=True)
    by_area: Counter[str] = Counter()
    for (filename, _line, _func), (_cc, _nc, tottime, _ct, _callers) in stats.stats.items():
        by_area[_area(filename)] += tottime
    total = sum(by_area.values()) or 1.0
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).strip_dirs().sort_stats("cumulative").print_stats(top)
    cumulative = out.getvalue()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).strip_dirs().sort_stats("tottime").print_stats(top)
    _emit({
        "n": n, "wall_ms_per_order": wall / n, "db_ms_per_order": db["ms"] / n,
        "statements_per_order": db["n"] / n, "profiled_cpu_ms_per_order": cpu / n,
        "cpu_ms_per_order": plain_cpu / n,
        "areas": [(area, secs / total * 100) for area, secs in by_area.most_common(14)],
        "cumulative": _trim_pstats(cumulative), "tottime": _trim_pstats(out.getvalue()),
        "own": own[:top],
    })


# Library functions worth seeing next to Rongtong's own in the profile.
LIBRARY_HOT_SPOTS = {
    "execute_sql": "django/db/models/sql/compiler.py",
    "as_sql": "django/db/models/sql/compiler.py",
    "_execute_send": "psycopg/client_cursor.py",
    "wait": "psycopg/connection.py",
    "is_valid": "rest_framework/serializers.py",
    "data": "rest_framework/serializers.py",
    "get_fields": "rest_framework/serializers.py",
    "build_field": "rest_framework/serializers.py",
    "initial": "rest_framework/views.py",
    "bulk_create": "django/db/models/query.py",
    "first": "django/db/models/query.py",
    "save": "django/db/models/base.py",
    "__exit__": "django/db/transaction.py",
    "get_response": "django/core/handlers/base.py",
}


def _area(filename: str) -> str:
    """Which package a profiled function belongs to."""
    path = filename.replace("\\", "/")
    if "site-packages/" in path:
        package = path.split("site-packages/", 1)[1].split("/")[0]
        if package == "django":
            sub = path.split("site-packages/django/", 1)[1].split("/")
            return "django." + (sub[0] if len(sub) > 1 else sub[0].removesuffix(".py"))
        return package
    repo = str(REPO) + "/"
    if path.startswith(repo):
        return "rongtong:" + path[len(repo):].split("/")[0]
    if path.startswith("<") or path == "~":
        return "builtins (C)"
    return "python stdlib"


def _trim_pstats(text: str) -> str:
    lines = text.splitlines()
    start = next((i for i, line in enumerate(lines) if "ncalls" in line), 0)
    return "\n".join(lines[start:]).rstrip()


# --------------------------------------------------------------------------
# Load generator: asyncio + raw sockets, several processes
# --------------------------------------------------------------------------

async def _read_response(reader: asyncio.StreamReader) -> tuple[int, dict[str, str], bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            name, value = line.split(":", 1)
            headers[name.strip().lower()] = value.strip()
    if "content-length" in headers:
        body = await reader.readexactly(int(headers["content-length"]))
    elif headers.get("transfer-encoding", "").lower() == "chunked":
        chunks = []
        while True:
            size = int((await reader.readline()).split(b";")[0].strip(), 16)
            if size == 0:
                await reader.readline()
                break
            chunks.append(await reader.readexactly(size))
            await reader.readline()
        body = b"".join(chunks)
    else:
        body = await reader.read()
        headers["connection"] = "close"
    return status, headers, body


async def _connection(cid: str, port: int, key: str, skus: list, phone_prefix: str,
                      times: dict, result: dict, rng: random.Random, floor: bool) -> None:
    """One keep-alive partner connection posting orders (or, with `floor`,
    asking for a page that does not exist: Django's 404, the framework floor)."""
    reader = writer = None
    n = 0
    head = (f"POST {ORDERS_PATH} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            f"Authorization: Api-Key {key}\r\nContent-Type: application/json\r\n"
            "Connection: keep-alive\r\n")
    floor_request = (f"GET {FLOOR_PATH} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                     "Connection: keep-alive\r\n\r\n").encode()
    while time.time() < times["stop"]:
        uid = f"{cid}-{n}"
        if floor:
            request = floor_request
        else:
            body = json.dumps(order_body(skus, uid, f"{phone_prefix}{n:07d}", rng),
                              ensure_ascii=False).encode()
            request = (head + f"Idempotency-Key: {uid}\r\nContent-Length: {len(body)}"
                       "\r\n\r\n").encode() + body
        n += 1
        started = time.perf_counter()
        try:
            if writer is None:
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(request)
            status, headers, reply = await asyncio.wait_for(_read_response(reader), 60)
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError,
                ValueError) as exc:
            result["errors"][f"connection: {exc.__class__.__name__}"] += 1
            if writer is not None:
                writer.close()
            reader = writer = None
            await asyncio.sleep(0.01)
            continue
        elapsed = time.perf_counter() - started
        if headers.get("connection", "").lower() == "close":
            writer.close()
            reader = writer = None
        try:
            data = {} if floor else json.loads(reply)
        except ValueError:
            data = {}
        finished = time.time()
        if (status == 404) if floor else (status == 201 and data.get("status") == "confirmed"):
            if times["measure"] <= finished <= times["stop"]:
                result["ok"] += 1
                result["latencies"].append(elapsed * 1000)
            else:
                result["outside"] += 1
        else:
            kind = (f"HTTP {status} status={data.get('status')} "
                    f"reason={data.get('exception_reason') or data.get('code')}")
            result["errors"][kind] += 1
            result["samples"].setdefault(kind, reply[:300].decode("utf-8", "replace"))
    if writer is not None:
        writer.close()


def client_process(index: int, connections: int, port: int, key: str, skus: list,
                   run_no: int, times: dict, queue, floor: bool) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent stops us
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    result = {"ok": 0, "outside": 0, "latencies": [], "errors": Counter(), "samples": {}}
    rng = random.Random(run_no * 1000 + index)

    async def main() -> float:
        await asyncio.sleep(max(0.0, times["start"] - time.time()))
        cpu_measure = None
        tasks = [asyncio.create_task(_connection(
            f"r{run_no}p{index}c{c}", port, key, skus, f"1{run_no:02d}{index:02d}{c:03d}",
            times, result, rng, floor)) for c in range(connections)]

        async def mark() -> None:
            nonlocal cpu_measure
            await asyncio.sleep(max(0.0, times["measure"] - time.time()))
            cpu_measure = time.process_time()

        await asyncio.gather(mark(), *tasks)
        return time.process_time() - (cpu_measure or time.process_time())

    cpu = asyncio.run(main())
    result["cpu_s"] = cpu
    queue.put(result)


def proc_cpu(pid: int) -> float:
    """User + system CPU seconds of one process (0 if it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def postgres_backends(db: str) -> dict[int, float]:
    """pid → CPU seconds of the postgres backends connected to `db`."""
    backends = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                if (entry / "comm").read_text().strip() == "postgres":
                    title = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
                    if f" {db} " in title:
                        backends[int(entry.name)] = proc_cpu(int(entry.name))
    return backends


class BackendCpu:
    """CPU seconds used by one database's postgres backends over a window,
    sampled every `interval` s so that backends which connect and disconnect
    inside the window (pgbench's) are counted too."""

    def __init__(self, db: str, interval: float = 0.5) -> None:
        self.db, self.interval = db, interval
        self.first: dict[int, float] = {}
        self.last: dict[int, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _sample(self) -> None:
        for pid, cpu in postgres_backends(self.db).items():
            self.first.setdefault(pid, 0.0)
            self.last[pid] = cpu

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self._sample()

    def start(self) -> BackendCpu:
        self.first = postgres_backends(self.db)
        self.last = dict(self.first)
        self._thread.start()
        return self

    def stop(self) -> float:
        self._stop.set()
        self._thread.join()
        self._sample()
        return sum(self.last[pid] - self.first[pid] for pid in self.last)


def cpu_snapshot(pids: list[int]) -> dict:
    """CPU seconds of the given pids, of this process's finished children,
    and of the whole machine."""
    with open("/proc/stat") as stat:
        cpu = [int(v) for v in stat.readline().split()[1:]]
    tick = os.sysconf("SC_CLK_TCK")
    idle = cpu[3] + cpu[4]
    children = os.times()
    return {"app": sum(proc_cpu(pid) for pid in pids),
            "children": children.children_user + children.children_system,
            "busy": (sum(cpu) - idle) / tick, "total": sum(cpu) / tick,
            "at": time.monotonic()}


def machine_busy(seconds: float = 2.0) -> float:
    """Cores busy on the whole machine over the next `seconds`."""
    first = cpu_snapshot([])
    time.sleep(seconds)
    second = cpu_snapshot([])
    return (second["busy"] - first["busy"]) / (second["at"] - first["at"])


def wait_quiet(limit: float, threshold: float) -> None:
    """Wait (at most `limit` s) until other work leaves the cores alone."""
    if limit <= 0:
        return
    deadline, told = time.monotonic() + limit, False
    while True:
        busy = machine_busy()
        if busy < threshold:
            if told:
                log(f"machine quiet ({busy:.2f} cores busy)")
            return
        if time.monotonic() > deadline:
            log(f"machine still busy ({busy:.2f} cores) after {limit:g} s; going on")
            return
        if not told:
            log(f"waiting for other processes to leave the cores ({busy:.2f} busy)")
            told = True


def worker_pids(master: int) -> list[int]:
    pids = [master]
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError, ValueError):
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                if int(fields[1]) == master:
                    pids.append(int(entry.name))
    return pids


# --------------------------------------------------------------------------
# Parent side
# --------------------------------------------------------------------------

class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.pg = Postgres(args.pg_host, args.pg_port, args.pg_user)
        self.secret = secrets.token_urlsafe(48)
        self.gunicorn: subprocess.Popen | None = None
        self.children: list[subprocess.Popen] = []
        self.clients: list = []
        self.dbs_created: list[str] = []
        self.run_no = 0

    # -- environment and children ------------------------------------------

    def env(self, pool_max: int = 4) -> dict[str, str]:
        env = dict(os.environ)
        env.pop("REDIS_URL", None)  # eager Celery; the bench channel has no webhook
        env.update({
            "DJANGO_SETTINGS_MODULE": "config.settings.production",
            "DATABASE_URL": self.pg.url(BENCH_DB),
            "SECRET_KEY": self.secret,
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "SECURE_SSL_REDIRECT": "0",
            "DEBUG": "0",
            "DB_POOL_MAX": str(pool_max),
            "LOG_LEVEL": "WARNING",
            "PYTHONUNBUFFERED": "1",
        })
        return env

    def run(self, cmd: list[str], env: dict | None = None, capture: bool = True,
            timeout: float = 900) -> str:
        proc = subprocess.Popen(cmd, cwd=REPO, env=env or self.env(), text=True,
                                stdout=subprocess.PIPE if capture else None,
                                stderr=subprocess.PIPE if capture else None)
        self.children.append(proc)
        try:
            out, err = proc.communicate(timeout=timeout)
        finally:
            self.children.remove(proc)
        if proc.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd[:4])} … failed ({proc.returncode}):\n"
                               f"{(err or '')[-3000:]}\n{(out or '')[-2000:]}")
        return out or ""

    def internal(self, *args: str) -> dict:
        out = self.run([sys.executable, str(Path(__file__).resolve()), "--internal", *args])
        line = next((ln for ln in reversed(out.splitlines()) if ln.startswith(MARKER)), None)
        if line is None:
            raise RuntimeError(f"no result from --internal {args[0]}:\n{out[-2000:]}")
        return json.loads(line[len(MARKER):])

    # -- phases --------------------------------------------------------------

    def prepare(self) -> dict:
        log(f"creating database {BENCH_DB} and migrating (production settings)")
        self.pg.recreate(BENCH_DB)
        self.dbs_created.append(BENCH_DB)
        self.run([sys.executable, "manage.py", "migrate", "--no-input", "-v", "0"])
        log(f"setting up a channel, a partner key and {self.args.skus} stocked SKUs")
        setup = self.internal("setup", str(self.args.skus))
        # Planner statistics as autovacuum would have them (it may be off here).
        self.pg.execute("ANALYZE", db=BENCH_DB)
        autovacuum = self.pg.execute("SHOW autovacuum")[0][0]
        if autovacuum != "on":
            log(f"note: autovacuum is {autovacuum} on this server; ran ANALYZE after setup")
        setup["payload_file"] = str(self._payload_file(setup))
        return setup

    def _payload_file(self, setup: dict) -> Path:
        path = Path(f"/tmp/rongtong_bench_{os.getpid()}.json")  # noqa: S108
        path.write_text(json.dumps({"key": setup["key"], "skus": setup["skus"]}))
        self.payload_path = path
        return path

    def start_gunicorn(self, kind: str, workers: int, threads: int) -> int:
        port = free_port()
        self.error_log = Path(f"/tmp/rongtong_bench_gunicorn_{os.getpid()}.log")  # noqa: S108
        cmd = [str(BIN / "gunicorn"), "config.wsgi:application",
               "--bind", f"127.0.0.1:{port}", "--worker-class", kind,
               "--workers", str(workers), "--threads", str(threads),
               "--keep-alive", "5", "--backlog", "2048", "--timeout", "60",
               "--log-level", "warning", "--error-logfile", str(self.error_log),
               "--no-control-socket"]
        self.gunicorn = subprocess.Popen(cmd, cwd=REPO, env=self.env(pool_max=threads + 1),
                                         stdout=subprocess.DEVNULL,
                                         stderr=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + 60
        while True:
            if self.gunicorn.poll() is not None:
                raise RuntimeError(f"gunicorn exited ({self.gunicorn.returncode}):\n"
                                   + self.error_log.read_text()[-3000:])
            try:
                request = urllib.request.Request(f"http://127.0.0.1:{port}/healthz")
                with urllib.request.urlopen(request, timeout=2) as reply:  # noqa: S310
                    if reply.status == 200:
                        break
            except (urllib.error.URLError, OSError):
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("gunicorn did not answer /healthz within 60 s")
            time.sleep(0.2)
        return port

    def stop_gunicorn(self) -> None:
        proc, self.gunicorn = self.gunicorn, None
        if proc is None or proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=5)

    def load(self, setup: dict, kind: str, workers: int, threads: int, seconds: float,
             floor: bool = False) -> dict:
        """A timed load on a fresh gunicorn: orders, or with `floor` GETs of a
        page that does not exist (request handling alone)."""
        args = self.args
        self.run_no += 1
        wait_quiet(args.wait_quiet, args.quiet_threshold)
        log(f"gunicorn {kind} workers={workers} threads={threads}: starting")
        port = self.start_gunicorn(kind, workers, threads)
        try:
            procs = max(1, min(args.client_procs, args.clients))
            spread = [args.clients // procs + (1 if i < args.clients % procs else 0)
                      for i in range(procs)]
            now = time.time()
            times = {"start": now + 1.0, "measure": now + 1.0 + args.warmup}
            times["stop"] = times["measure"] + seconds
            ctx = mp.get_context("fork")
            queue = ctx.Queue()
            self.clients = [ctx.Process(target=client_process, daemon=True,
                                        args=(i, n, port, setup["key"], setup["skus"],
                                              self.run_no, times, queue, floor))
                            for i, n in enumerate(spread)]
            for proc in self.clients:
                proc.start()
            log(f"{args.clients} clients in {procs} processes: {args.warmup:g} s warm-up, "
                f"{seconds:g} s measured")
            # Statistics for the tables the warm-up filled, as autovacuum's
            # analyze would have them: with the empty-table statistics of the
            # setup, the planner seq-scans sales_order in the review query.
            time.sleep(max(0.0, times["measure"] - 1.0 - time.time()))
            self.pg.execute("ANALYZE", db=BENCH_DB)
            time.sleep(max(0.0, times["measure"] - time.time()))
            pids = worker_pids(self.gunicorn.pid)
            cpu0, db0 = cpu_snapshot(pids), self.pg.db_stats(BENCH_DB)
            backends = BackendCpu(BENCH_DB).start()
            time.sleep(max(0.0, times["stop"] - time.time()))
            cpu1 = cpu_snapshot(pids)
            postgres_cpu = backends.stop()
            try:
                results = [queue.get(timeout=120) for _ in self.clients]
            except Exception as exc:  # queue.Empty: a client process died or hung
                raise RuntimeError("a load generator process did not report") from exc
            for proc in self.clients:
                proc.join(timeout=10)
            self.clients = []
            time.sleep(1.2)  # let backends flush their statistics
            db1 = self.pg.db_stats(BENCH_DB)
        finally:
            self.stop_gunicorn()
        latencies = sorted(v for r in results for v in r["latencies"])
        errors: Counter[str] = Counter()
        samples: dict[str, str] = {}
        for r in results:
            errors.update(r["errors"])
            for kind_, sample in r["samples"].items():
                samples.setdefault(kind_, sample)
        window = cpu1["at"] - cpu0["at"]
        ok = len(latencies)
        orders = ok / seconds
        db = {k: (db1.get(k, 0) - db0.get(k, 0)) / max(ok, 1) for k in db0}
        return {
            "config": f"{kind} w={workers} t={threads}", "kind": kind, "workers": workers,
            "threads": threads, "ok": ok, "orders_per_s": orders,
            "p50": percentile(latencies, 50), "p95": percentile(latencies, 95),
            "p99": percentile(latencies, 99), "max": latencies[-1] if latencies else 0.0,
            "errors": sum(errors.values()), "error_kinds": errors, "samples": samples,
            "cpu_client": sum(r["cpu_s"] for r in results) / window,
            "cpu_app": (cpu1["app"] - cpu0["app"]) / window,
            "cpu_postgres": postgres_cpu / window,
            "cpu_machine": (cpu1["busy"] - cpu0["busy"]) / window,
            "cpu_capacity": (cpu1["total"] - cpu0["total"]) / window,
            "db_per_order": db,
        }

    def _pgbench_timed(self, options: list[str], db: str) -> tuple[str, dict[str, float]]:
        """Run pgbench on `db`; its output and the cores used by that
        database's backends, by pgbench and by the whole machine."""
        args = self.args
        conn = ["-h", args.pg_host, "-p", str(args.pg_port), "-U", args.pg_user]
        cpu0, backends = cpu_snapshot([]), BackendCpu(db).start()
        out = self.run(["pgbench", *options, *conn, db], env=dict(os.environ))
        cpu1, postgres_cpu = cpu_snapshot([]), backends.stop()
        window = cpu1["at"] - cpu0["at"]
        cpu = {"postgres": postgres_cpu / window,
               "pgbench": (cpu1["children"] - cpu0["children"]) / window,
               "machine": (cpu1["busy"] - cpu0["busy"]) / window}
        return out, cpu

    @staticmethod
    def _tps(out: str) -> float:
        match = re.search(r"tps = ([0-9.]+) \(without initial connection time\)", out)
        if match is None:
            raise RuntimeError(f"cannot read pgbench's tps:\n{out[-3000:]}")
        return float(match.group(1))

    def pgbench(self) -> float:
        args = self.args
        log(f"pgbench: initialising {PGBENCH_DB} (scale {args.pgbench_scale})")
        self.pg.recreate(PGBENCH_DB)
        self.dbs_created.append(PGBENCH_DB)
        conn = ["-h", args.pg_host, "-p", str(args.pg_port), "-U", args.pg_user]
        self.run(["pgbench", "-i", "-q", "-s", str(args.pgbench_scale), *conn, PGBENCH_DB],
                 env=dict(os.environ))
        wait_quiet(args.wait_quiet, args.quiet_threshold)
        log(f"pgbench: -c {args.pgbench_clients} -j 2 -T {args.seconds:g}")
        out, self.pgbench_cpu = self._pgbench_timed(
            ["-c", str(args.pgbench_clients), "-j", "2", "-T", str(int(args.seconds))],
            PGBENCH_DB)
        latency = re.search(r"latency average = ([0-9.]+) ms", out)
        self.pgbench_latency = float(latency.group(1)) if latency else float("nan")
        return self._tps(out)

    def replay(self, setup: dict) -> dict:
        """The SQL of real orders replayed by pgbench, no Python in the loop:
        what PostgreSQL alone can do with this work on this machine."""
        args = self.args
        log(f"floor: the SQL of {REPLAY_ORDERS} orders replayed by pgbench -M prepared, "
            f"-c {args.clients} -j 2 -T {args.seconds:g}")
        scripts = self.internal("replay", setup["payload_file"], str(REPLAY_ORDERS))["scripts"]
        folder = Path(tempfile.mkdtemp(prefix="rongtong_replay_"))
        try:
            files = []
            for i, text in enumerate(scripts):
                path = folder / f"order{i:02d}.sql"
                path.write_text(text)
                files += ["-f", str(path)]
            wait_quiet(args.wait_quiet, args.quiet_threshold)
            out, cpu = self._pgbench_timed(
                ["-n", "-M", "prepared", "-c", str(args.clients), "-j", "2",
                 "-T", str(int(args.seconds)), *files], BENCH_DB)
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        return {"tps": self._tps(out), **cpu}

    def cleanup(self) -> None:
        for proc in self.clients:
            with contextlib.suppress(Exception):
                proc.terminate()
                proc.join(timeout=5)
        self.clients = []
        for proc in list(self.children):
            with contextlib.suppress(Exception):
                proc.terminate()
                proc.wait(timeout=10)
        with contextlib.suppress(Exception):
            self.stop_gunicorn()
        if not self.args.keep_db:
            for db in self.dbs_created:
                try:
                    self.pg.drop(db)
                except Exception as exc:  # noqa: BLE001 - report and go on
                    log(f"could not drop {db}: {exc}")
            self.dbs_created = []
        for path in (getattr(self, "payload_path", None), getattr(self, "error_log", None)):
            if path is not None:
                with contextlib.suppress(OSError):
                    path.unlink()


# --------------------------------------------------------------------------
# Reporting
# --------------------------------------------------------------------------

def print_queries(explain: dict, full: bool) -> None:
    events = explain["events"]
    statements = [e for e in events if e[0] == "sql"]
    tx = [e for e in events if e[0] == "tx"]
    print(f"\nSQL statements for one order (POST {ORDERS_PATH}, in-process, "
          f"{explain['wall_ms']:.1f} ms wall):")
    width = len(str(len(events)))
    number = 0
    for kind, text, ms in events:
        text = " ".join(text.split())
        if kind == "sql":
            number += 1
            if not full:
                text = _abridge(text)
            print(f"  {number:>{width}}. [{ms:6.2f} ms] {text}")
        else:
            print(f"  {'':>{width}}  [{ms:6.2f} ms] -- {text}")
    savepoints = sum(1 for _k, t, _m in statements if t.startswith(("SAVEPOINT", "RELEASE")))
    print(f"  => {len(statements)} statements through Django ({savepoints} of them "
          f"SAVEPOINT/RELEASE) + {len(tx)} transaction-control round trips")


def _abridge(sql: str) -> str:
    match = re.match(r"^SELECT (.+?) FROM (.*)$", sql)
    if match and len(match.group(1)) > 70:
        columns = match.group(1).count(",") + 1
        sql = f"SELECT <{columns} columns> FROM {match.group(2)}"  # noqa: S608 - display only
    match = re.match(r"^(INSERT INTO \S+) \((.+?)\) VALUES (.*)$", sql)
    if match and len(match.group(2)) > 70:
        values = match.group(3)
        if len(values) > 160:
            values = values[:157] + "..."
        sql = f"{match.group(1)} (<{match.group(2).count(',') + 1} columns>) VALUES {values}"
    return sql if len(sql) <= 400 else sql[:397] + "..."


def cpu_per_order(result: dict) -> tuple[dict[str, float], float, float]:
    """CPU ms per order by party, the orders/s those costs allow on an idle
    machine, and the cores other processes took during the run."""
    rate = result["orders_per_s"]
    per_order = {k: result[k] / rate * 1000 if rate else 0.0
                 for k in ("cpu_app", "cpu_postgres", "cpu_client")}
    ceiling = result["cpu_capacity"] * 1000 / (sum(per_order.values()) or float("inf"))
    other = max(0.0, result["cpu_machine"] - result["cpu_app"] - result["cpu_postgres"]
                - result["cpu_client"])
    return per_order, ceiling, other


def print_load(result: dict, clients: int) -> None:
    per_order, ceiling, other = cpu_per_order(result)
    print(f"\n  gunicorn {result['config']}: {result['orders_per_s']:.1f} orders/s, "
          f"p50 {result['p50']:.1f} ms, p95 {result['p95']:.1f} ms, "
          f"p99 {result['p99']:.1f} ms, max {result['max']:.1f} ms, "
          f"{result['errors']} errors ({result['ok']} orders confirmed, {clients} clients)")
    print(f"    CPU (cores of {result['cpu_capacity']:.1f}): machine "
          f"{result['cpu_machine']:.2f}, gunicorn {result['cpu_app']:.2f}, "
          f"postgres (bench DB backends) {result['cpu_postgres']:.2f}, "
          f"load generator {result['cpu_client']:.2f}, "
          f"other processes {other:.2f}")
    print(f"    CPU per order: gunicorn {per_order['cpu_app']:.1f} ms, postgres "
          f"{per_order['cpu_postgres']:.1f} ms, load generator {per_order['cpu_client']:.1f} ms"
          f" => ceiling with all {result['cpu_capacity']:.0f} cores to ourselves ≈ "
          f"{ceiling:.0f} orders/s")
    db = result["db_per_order"]
    if db:
        print(f"    per order (pg_stat_database): {db['xact_commit']:.2f} commits, "
              f"{db['xact_rollback']:.2f} rollbacks, {db['tup_inserted']:.1f} rows inserted, "
              f"{db['tup_updated']:.1f} updated, {db['tup_fetched']:.0f} fetched")
    for kind, count in result["error_kinds"].most_common(8):
        print(f"    error ×{count}: {kind}\n      {result['samples'].get(kind, '')[:200]}")


def print_floors(floors: dict, main: dict, tps: float | None) -> None:
    """What the machine does with no application in the way, and what the
    ratio target leaves for the application."""
    sql, web = floors["sql"], floors["framework"]
    sql_pg = sql["postgres"] / sql["tps"] * 1000 if sql["tps"] else float("nan")
    sql_client = sql["pgbench"] / sql["tps"] * 1000 if sql["tps"] else float("nan")
    web_cost, _ceiling, _other = cpu_per_order(web)
    order_cost, _ceiling, _other = cpu_per_order(main)
    print("  floors (same machine, same number of clients):")
    print(f"    orders' SQL alone {sql['tps']:8.1f}   orders/s, pgbench -M prepared replaying "
          f"{REPLAY_ORDERS} captured orders; CPU ms per order: postgres {sql_pg:.2f}, "
          f"pgbench {sql_client:.2f}")
    print(f"    Django 404 alone  {web['orders_per_s']:8.1f}   requests/s; CPU ms per request: "
          f"gunicorn {web_cost['cpu_app']:.2f}, load generator {web_cost['cpu_client']:.2f}"
          + (f"; {web['errors']} errors" if web["errors"] else ""))
    if tps:
        print(f"    ratio with no Python at all: {sql['tps'] / tps:.3f} (the orders' SQL alone "
              "against TPC-B)")
        need = TARGET_RATIO * tps
        budget = main["cpu_capacity"] * 1000 / need
        left = budget - order_cost["cpu_postgres"] - order_cost["cpu_client"]
        print(f"    ratio {TARGET_RATIO:g} = {need:.0f} orders/s = {budget:.2f} CPU ms per order "
              f"in all; less postgres ({order_cost['cpu_postgres']:.2f}) and the load generator "
              f"({order_cost['cpu_client']:.2f}) leaves {left:.2f} ms for gunicorn, which "
              f"spends {web_cost['cpu_app']:.2f} on a 404 and {order_cost['cpu_app']:.2f} on "
              "an order")


def print_profile(profile: dict) -> None:
    print(f"\nProfile of {profile['n']} in-process orders (Django test client, bench DB):")
    python = profile["wall_ms_per_order"] - profile["db_ms_per_order"]
    print(f"  without profiler: wall {profile['wall_ms_per_order']:.2f} ms/order = "
          f"{profile['db_ms_per_order']:.2f} ms inside {profile['statements_per_order']:.1f} "
          f"SQL executes (round trip + psycopg) + {python:.2f} ms other Python; "
          f"process CPU {profile['cpu_ms_per_order']:.2f} ms/order")
    print(f"  under cProfile: {profile['profiled_cpu_ms_per_order']:.2f} ms CPU/order "
          "(the CPU-time figures below include the profiler's overhead; waiting for "
          "PostgreSQL is not in them)")
    print("  own CPU time by package (cProfile with a CPU clock, tottime):")
    for area, share in profile["areas"]:
        print(f"    {share:5.1f}%  {area}")
    print("\n  Rongtong functions and library hot spots, cumulative CPU ms per order "
          "(profiled):")
    for ms, calls, where in profile["own"]:
        print(f"    {ms:7.2f} ms  {calls:5.1f}×  {where}")
    print("\n  top functions by cumulative time:")
    print("    " + profile["cumulative"].replace("\n", "\n    "))
    print("\n  top functions by own time:")
    print("    " + profile["tottime"].replace("\n", "\n    "))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--warmup", type=float, default=3,
                        help="seconds of load before measuring (at least 1.5)")
    parser.add_argument("--workers", type=int, default=2,
                        help="gunicorn workers (default 2: one per core)")
    parser.add_argument("--threads", type=int, default=4,
                        help="threads per worker; > 1 uses the gthread worker, 1 the sync "
                             "worker (default 4)")
    parser.add_argument("--sweep", action="store_true",
                        help="try several gunicorn settings first, then use the best")
    parser.add_argument("--sweep-seconds", type=float, default=8)
    parser.add_argument("--client-procs", type=int, default=2,
                        help="load generator processes (asyncio, keep-alive sockets)")
    parser.add_argument("--skus", type=int, default=200)
    parser.add_argument("--explain-queries", action="store_true",
                        help="print every SQL statement of one order")
    parser.add_argument("--full-sql", action="store_true",
                        help="with --explain-queries, do not abridge column lists")
    parser.add_argument("--profile", type=int, default=0, metavar="N",
                        help="cProfile N in-process orders after the load")
    parser.add_argument("--profile-top", type=int, default=30)
    parser.add_argument("--floors", action="store_true",
                        help="also measure the floors: the orders' SQL replayed by pgbench "
                             "with no Python, and Django's 404 under the same gunicorn")
    parser.add_argument("--no-pgbench", action="store_true")
    parser.add_argument("--pgbench-clients", type=int, default=16)
    parser.add_argument("--pgbench-scale", type=int, default=10)
    parser.add_argument("--wait-quiet", type=float, default=0, metavar="SECONDS",
                        help="before each measurement, wait up to this long for the machine "
                             "to be nearly idle (shared machines)")
    parser.add_argument("--quiet-threshold", type=float, default=0.3, metavar="CORES")
    parser.add_argument("--keep-db", action="store_true",
                        help="leave the bench databases in place")
    parser.add_argument("--pg-host", default=os.environ.get("PGHOST", "127.0.0.1"))
    parser.add_argument("--pg-port", type=int, default=int(os.environ.get("PGPORT", "5432")))
    parser.add_argument("--pg-user", default=os.environ.get("PGUSER", "postgres"))
    parser.add_argument("--internal", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    args.warmup = max(args.warmup, 1.5)

    if args.internal:
        what, rest = args.internal[0], args.internal[1:]
        if what == "setup":
            internal_setup(int(rest[0]))
        elif what == "explain":
            internal_explain(json.loads(Path(rest[0]).read_text()))
        elif what == "replay":
            internal_replay(json.loads(Path(rest[0]).read_text()), int(rest[1]))
        elif what == "profile":
            internal_profile(json.loads(Path(rest[0]).read_text()), int(rest[1]),
                             int(rest[2]))
        else:
            parser.error(f"unknown --internal {what}")
        return 0

    def on_term(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, signal.default_int_handler)  # even when started with `&`
    bench = Bench(args)
    try:
        return run(bench, args)
    except KeyboardInterrupt:
        log("interrupted: cleaning up")
        return 130
    except RuntimeError as exc:  # a step failed; its output is in the message
        log(f"failed: {exc}")
        return 1
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        bench.cleanup()
        log("cleaned up (gunicorn stopped"
            + (", bench databases kept)" if args.keep_db else ", bench databases dropped)"))


def run(bench: Bench, args: argparse.Namespace) -> int:
    setup = bench.prepare()
    log("counting the SQL statements of one order (in-process)")
    explain = bench.internal("explain", setup["payload_file"])
    n_statements = sum(1 for e in explain["events"] if e[0] == "sql")
    n_tx = sum(1 for e in explain["events"] if e[0] == "tx")

    results = []
    if args.sweep:
        print(f"\nSweep ({args.clients} clients, {args.sweep_seconds:g} s each):")
        for kind, workers, threads in SWEEP:
            result = bench.load(setup, kind, workers, threads, args.sweep_seconds)
            print_load(result, args.clients)
            sys.stdout.flush()
            results.append(result)
        fine = [r for r in results if r["errors"] == 0 and r["p99"] < TARGET_P99_MS] or results
        best = max(fine, key=lambda r: r["orders_per_s"])
        kind, workers, threads = best["kind"], best["workers"], best["threads"]
        print(f"\n  best: {best['config']}")
    else:
        threads = max(1, args.threads)
        kind = "gthread" if threads > 1 else "sync"
        workers = max(1, args.workers)
    main_result = bench.load(setup, kind, workers, threads, args.seconds)

    profile = None
    if args.profile:
        log(f"profiling {args.profile} in-process orders")
        profile = bench.internal("profile", setup["payload_file"], str(args.profile),
                                 str(args.profile_top))

    floors = None
    if args.floors:
        log("floor: Django's 404 under the same gunicorn and clients")
        floors = {"framework": bench.load(setup, kind, workers, threads, args.seconds,
                                          floor=True),
                  "sql": bench.replay(setup)}

    tps = None
    if not args.no_pgbench:
        tps = bench.pgbench()

    if args.explain_queries:
        print_queries(explain, args.full_sql)
    if profile:
        print_profile(profile)
    print(f"\nMain run ({args.seconds:g} s):")
    print_load(main_result, args.clients)

    print("\n" + "=" * 72)
    print(f"Order intake, {args.clients} clients, {args.seconds:g} s, gunicorn "
          f"{main_result['config']} on {os.cpu_count()} cores")
    r = main_result
    print(f"  orders/s            {r['orders_per_s']:8.1f}   target >= {TARGET_ORDERS_PER_S:g}"
          f"   {verdict(r['orders_per_s'] >= TARGET_ORDERS_PER_S)}")
    print(f"  latency p50 (ms)    {r['p50']:8.1f}")
    print(f"  latency p95 (ms)    {r['p95']:8.1f}")
    print(f"  latency p99 (ms)    {r['p99']:8.1f}   target <  {TARGET_P99_MS:g}"
          f"   {verdict(r['p99'] < TARGET_P99_MS)}")
    print(f"  errors              {r['errors']:8d}   target 0"
          f"          {verdict(r['errors'] == 0)}")
    print(f"  SQL per order       {n_statements:8d}   (+{n_tx} BEGIN/COMMIT round trips)")
    per_order, ceiling, other = cpu_per_order(r)
    print(f"  CPU ms per order    {per_order['cpu_app']:8.1f}   gunicorn; postgres "
          f"{per_order['cpu_postgres']:.1f}, load generator {per_order['cpu_client']:.1f}")
    print(f"  idle-machine bound  {ceiling:8.0f}   orders/s if those CPU costs had every core")
    if other > 0.2:
        print(f"  WARNING: other processes used {other:.2f} of {r['cpu_capacity']:.0f} cores "
              "during the load; orders/s and latency are depressed accordingly")
    if tps is not None:
        ratio = r["orders_per_s"] / tps if tps else float("nan")
        print(f"  pgbench TPC-B tps   {tps:8.1f}   (-c {args.pgbench_clients} -j 2, "
              f"scale {args.pgbench_scale}, latency avg {bench.pgbench_latency:.1f} ms)")
        print(f"  orders/s / tps      {ratio:8.3f}   target >= {TARGET_RATIO:g}"
              f"   {verdict(ratio >= TARGET_RATIO)}")
        cpu = bench.pgbench_cpu
        pg_other = max(0.0, cpu["machine"] - cpu["postgres"] - cpu["pgbench"])
        print(f"  pgbench CPU (cores) postgres {cpu['postgres']:.2f}, pgbench {cpu['pgbench']:.2f}"
              f", other processes {pg_other:.2f}")
    if floors:
        print_floors(floors, r, tps)
    print("=" * 72)
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
