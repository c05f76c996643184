"""Benchmark the ``inventory_alerts`` job at scale (issue 4).

From the repository root::

    .venv/bin/python bench/inventory_alerts.py [--skus 10000] [--locations 5]
        [--low-share 0.15] [--slowest N] [--keep-db] [--pg-host 127.0.0.1]
        [--pg-port 5432] [--pg-user postgres]

What it does:

1. Drops and recreates ``rongtong_bench_inventory`` on the PostgreSQL server and
   migrates it (``config.settings.dev`` with ``DATABASE_URL`` pointing at it,
   ``DEBUG=0``, no Redis).
2. Builds ``--skus`` × ``--locations`` SKU-locations (50,000 by default: a main
   warehouse and stores) with a year of ledger movements each — an opening
   receipt, a restock about every four weeks and a day's shipments (``consume``)
   most weeks, ~55 rows per SKU-location, ~2.8 million rows — bulk-loaded with
   ``COPY``. Each book (``StockLevel``) is the sum of its ledger, and each
   SKU-location has a safety stock and reorder point derived from its demand;
   about ``--low-share`` of them end at or below the reorder point (some at 0).
   Then ``ANALYZE``.
3. Runs ``inventory_alerts`` through the job runner (``core.scheduling.job_run``,
   so the run is recorded as in production) twice: the first run opens every
   alert and drafts every suggestion (the heavy, cold case); the second is the
   steady state every 15 minutes. For each it prints the wall time and the
   number of SQL statements, and checks the target (< 5 s) and that the second
   run duplicated nothing.
4. Drops the database (``--keep-db`` keeps it).
"""

from __future__ import annotations

import argparse
import math
import os
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BENCH_DB = "rongtong_bench_inventory"
TARGET_SECONDS = 5.0
SEED = 20250601


def admin_execute(args, sql: str) -> None:
    import psycopg

    with psycopg.connect(host=args.pg_host, port=args.pg_port, user=args.pg_user,
                         dbname="postgres", autocommit=True) as conn:
        conn.execute(sql)


def setup_django(args) -> None:
    os.environ["DATABASE_URL"] = (f"postgres://{args.pg_user}@{args.pg_host}:{args.pg_port}/"
                                  f"{BENCH_DB}")
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.dev"
    os.environ["DEBUG"] = "0"
    os.environ.pop("REDIS_URL", None)
    sys.path.insert(0, str(REPO))
    os.chdir(REPO)
    import django

    django.setup()


def build(args) -> dict:
    """Catalogue, locations, a year of ledger, books and policies, via COPY."""
    from django.db import connection

    from inventory.enums import LocationKind, MovementKind
    from inventory.models import Location

    rng = random.Random(SEED)
    now = datetime.now(UTC)
    year_ago = now - timedelta(days=365)
    locations = [Location.objects.create(code="B-WH", name="Bench warehouse",
                                         kind=LocationKind.WAREHOUSE, is_main_warehouse=True)]
    locations += [Location.objects.create(code=f"B-ST{i:02d}", name=f"Bench store {i}",
                                          kind=LocationKind.STORE)
                  for i in range(1, args.locations)]
    products = max(args.skus // 10, 1)
    counts = {"movements": 0}
    with connection.cursor() as cursor:
        cur = cursor.cursor
        with cur.copy("COPY inventory_product (code, name, category, description, price, "
                      "is_active, title, attributes, video_url) FROM STDIN") as copy:
            for p in range(products):
                copy.write_row((f"BP{p:06d}", f"Bench product {p}", "", "", "99.00", True, "",
                                "{}", ""))
        cur.execute("SELECT id FROM inventory_product ORDER BY id")
        product_ids = [row[0] for row in cur.fetchall()]
        with cur.copy("COPY inventory_sku (product_id, code, name, attributes, price, "
                      "unit_cost, weight_grams, is_active) FROM STDIN") as copy:
            for s in range(args.skus):
                copy.write_row((product_ids[s % products], f"BS{s:06d}", f"Bench SKU {s}",
                                "{}", "99.00", "45.00", 500, True))
        cur.execute("SELECT id FROM inventory_sku ORDER BY id")
        sku_ids = [row[0] for row in cur.fetchall()]

        levels, policies = [], []
        with cur.copy("COPY inventory_stockmovement (sku_id, location_id, kind, on_hand_delta, "
                      "reserved_delta, in_transit_delta, returned_delta, quarantine_delta, "
                      "reference, reason, created_at) FROM STDIN") as copy:
            for location in locations:
                lead = 14 if location.is_main_warehouse else 3
                scale = 4 if location.is_main_warehouse else 1
                for sku_id in sku_ids:
                    weekly = rng.choice((0, 1, 2, 3, 5, 8, 13)) * scale  # demand per week
                    safety = math.ceil(1.65 * math.sqrt(weekly) * math.sqrt(lead / 7))
                    rop = math.ceil(weekly / 7 * lead) + safety
                    roll = rng.random()
                    if roll < args.low_share * 0.2:
                        final = 0
                    elif roll < args.low_share:
                        final = rng.randint(0, rop) if rop else 0
                    else:
                        final = rop + rng.randint(1, max(rop, 10) * 2)
                    rows, sold = [], 0
                    for week in range(52):
                        at = year_ago + timedelta(days=7 * week + rng.random() * 7)
                        if weekly and rng.random() < 0.8:
                            qty = max(1, int(rng.gauss(weekly, weekly / 3)))
                            sold += qty
                            rows.append((MovementKind.CONSUME, -qty, at))
                        if week % 4 == 3:
                            rows.append((MovementKind.RECEIPT, None, at))
                    receipts = [i for i, row in enumerate(rows) if row[1] is None]
                    needed = final + sold
                    opening = needed // 2 if receipts else needed
                    share = (needed - opening) // len(receipts) if receipts else 0
                    restocked = opening
                    for i in receipts:
                        rows[i] = (MovementKind.RECEIPT, share, rows[i][2])
                        restocked += share
                    opening += needed - restocked  # remainder
                    balance = opening
                    copy.write_row((sku_id, location.pk, MovementKind.OPENING, opening, 0, 0, 0,
                                    0, "", "bench opening", year_ago))
                    for kind, delta, at in rows:
                        # A day's shipments; their reservations came and went
                        # the same day, so reserved nets to zero.
                        copy.write_row((sku_id, location.pk, kind, delta, 0, 0, 0, 0, "", "",
                                        at))
                        balance += delta
                    counts["movements"] += 1 + len(rows)
                    levels.append((sku_id, location.pk, balance))
                    policies.append((sku_id, location.pk, safety, rop, lead,
                                     f"{weekly / 7:.3f}"))
        with cur.copy("COPY inventory_stocklevel (sku_id, location_id, on_hand, reserved, "
                      "in_transit, returned, quarantine, updated_at) FROM STDIN") as copy:
            for sku_id, location_id, on_hand in levels:
                copy.write_row((sku_id, location_id, on_hand, 0, 0, 0, 0, now))
        with cur.copy("COPY inventory_stockpolicy (sku_id, location_id, method, safety_stock, "
                      "reorder_point, lead_time_days, review_days, history_weeks, "
                      "avg_daily_sales, updated_at) FROM STDIN") as copy:
            for sku_id, location_id, safety, rop, lead, avg in policies:
                copy.write_row((sku_id, location_id, "computed", safety, rop, lead, 7, 8, avg,
                                now))
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    counts.update(sku_locations=len(levels), skus=len(sku_ids), locations=len(locations),
                  low=sum(1 for (_s, _l, on_hand), p in zip(levels, policies, strict=True)
                          if on_hand <= p[3]))
    return counts


def run_job(slowest: int) -> tuple[float, int, dict]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from core.scheduling import job_run

    with CaptureQueriesContext(connection) as queries:
        started = time.perf_counter()
        run = job_run(name="inventory_alerts")
        elapsed = time.perf_counter() - started
    for query in sorted(queries.captured_queries, key=lambda q: -float(q["time"]))[:slowest]:
        print(f"    {float(query['time']):6.3f} s  {query['sql'][:150]}")
    return elapsed, len(queries.captured_queries), run.counts


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--skus", type=int, default=10_000)
    parser.add_argument("--locations", type=int, default=5)
    parser.add_argument("--low-share", type=float, default=0.15)
    parser.add_argument("--keep-db", action="store_true")
    parser.add_argument("--slowest", type=int, default=0,
                        help="print the N slowest SQL statements of each run")
    parser.add_argument("--pg-host", default=os.environ.get("PGHOST", "127.0.0.1"))
    parser.add_argument("--pg-port", type=int, default=int(os.environ.get("PGPORT", "5432")))
    parser.add_argument("--pg-user", default=os.environ.get("PGUSER", "postgres"))
    args = parser.parse_args()

    admin_execute(args, f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)')
    admin_execute(args, f'CREATE DATABASE "{BENCH_DB}"')
    try:
        setup_django(args)
        from django.core.management import call_command
        from django.db import connection

        started = time.perf_counter()
        call_command("migrate", verbosity=0)
        print(f"migrated in {time.perf_counter() - started:.1f} s")
        started = time.perf_counter()
        counts = build(args)
        print(f"built {counts['sku_locations']:,} SKU-locations ({counts['skus']:,} SKUs × "
              f"{counts['locations']} locations), {counts['movements']:,} movements in "
              f"{time.perf_counter() - started:.1f} s; {counts['low']:,} at or below their "
              "reorder point")
        from inventory.selectors import stock_ledger_drift

        started = time.perf_counter()
        drift = stock_ledger_drift()
        print(f"ledger check: {len(drift)} drifting balances "
              f"({time.perf_counter() - started:.1f} s)")

        ok = True
        results = []
        for label in ("first run (opens every alert)", "second run (steady state)"):
            elapsed, queries, job_counts = run_job(args.slowest)
            results.append(job_counts)
            verdict = "OK" if elapsed < TARGET_SECONDS else "SLOWER THAN TARGET"
            ok &= elapsed < TARGET_SECONDS
            print(f"inventory_alerts {label}: {elapsed:.2f} s, {queries} SQL statements, "
                  f"{job_counts} — target < {TARGET_SECONDS:.0f} s: {verdict}")
        duplicates = results[1].get("alerts_opened", 0) + results[1].get(
            "suggestions_drafted", 0)
        print(f"second run opened {results[1].get('alerts_opened')} alerts and drafted "
              f"{results[1].get('suggestions_drafted')} suggestions (expected 0)")
        ok &= duplicates == 0 and not drift
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM inventory_stockalert WHERE status = 'open'")
            print(f"open alerts: {cursor.fetchone()[0]:,}")
        connection.close()
        return 0 if ok else 1
    finally:
        if not args.keep_db:
            try:
                from django.db import connections

                connections.close_all()
            except Exception:  # noqa: BLE001, S110 - Django may not be set up yet
                pass
            admin_execute(args, f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)')


if __name__ == "__main__":
    sys.exit(main())
