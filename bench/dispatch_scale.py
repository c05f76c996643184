"""Benchmark one dispatch cycle at scale: 5,000 open same-city orders, 300
couriers, 20 zones, two real Celery workers on Redis (issue 5, benchmark 2;
target: the cycle under 60 s).

Usage (from the repository root)::

    .venv/bin/python bench/dispatch_scale.py [--orders 5000] [--couriers 300] [--zones 20]
        [--workers 2] [--seconds 2.5] [--cycles 2] [--keep-db]

One run:

1. drops and recreates the PostgreSQL database `rongtong_dispatch_bench`
   (`--pg-host/--pg-port/--pg-user`, default postgres@127.0.0.1:5432) and
   migrates it;
2. writes the scene in bulk: 20 zones over Shanghai (one district each, a
   store as hub), 300 active couriers (15 a zone) with on-boarding passed and
   a usable vehicle (e-bikes and tricycles), 5,000 confirmed same-city orders
   (1–3 lines of 0.3–3 kg SKUs, spread within ~4 km of their zone's centre,
   promised windows opening in the next 0–4 h, 10% urgent, 30% member).
   Shifts cover the whole day so the figures do not depend on the hour the
   benchmark runs. Orders are bulk-inserted as the sales seed writes history
   (no stock reservation): this measures dispatch, not order intake;
3. starts `--workers` Celery worker processes (`--pool=solo`, one task at a
   time each, a dedicated queue) with DATABASE_URL/REDIS_URL and waits until
   they answer a ping;
4. runs a cycle exactly as the `dispatch` job does (`dispatch_cycle`: one
   `dispatch_zone_task` per zone on the queue) and waits until every zone's
   DispatchRun has finished. The cycle time is from queueing to the last
   zone's write. `--cycles 2` runs a second cycle right after: a re-plan of
   the whole plan, warm-started from the first;
5. checks the result (no order with two active deliveries, no stop on an
   unfit courier, no vehicle over its weight or volume), prints the figures
   as text and one JSON line, stops the workers and drops the database.

`--seconds` is the per-zone solver budget. 20 zones on 2 workers is 10
zones per worker in sequence, so a cycle is about 10 × (budget + ~1 s of
reads and writes per zone); 2.5 s keeps it under 60 s on two cores shared
with PostgreSQL and leaves room for a slower machine.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import random
import statistics
import subprocess
import sys
import time
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DB_NAME = "rongtong_dispatch_bench"
QUEUE = "rongtong-dispatch-bench"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=5000)
    parser.add_argument("--couriers", type=int, default=300)
    parser.add_argument("--zones", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=2.5, help="solver budget per zone")
    parser.add_argument("--cycles", type=int, default=2)
    parser.add_argument("--seed", type=int, default=20250605)
    parser.add_argument("--keep-db", action="store_true")
    parser.add_argument("--pg-host", default=os.environ.get("PGHOST", "127.0.0.1"))
    parser.add_argument("--pg-port", default=os.environ.get("PGPORT", "5432"))
    parser.add_argument("--pg-user", default=os.environ.get("PGUSER", "postgres"))
    parser.add_argument("--redis-url", default=os.environ.get("REDIS_URL",
                                                              "redis://127.0.0.1:6379/0"))
    return parser.parse_args()


def admin_sql(args, sql: str) -> None:
    import psycopg

    with psycopg.connect(host=args.pg_host, port=args.pg_port, user=args.pg_user,
                         dbname="postgres", autocommit=True) as conn:
        conn.execute(sql)


def env_for(args) -> dict:
    return {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.dev", "DEBUG": "0",
            "DATABASE_URL": f"postgres://{args.pg_user}@{args.pg_host}:{args.pg_port}/{DB_NAME}",
            "REDIS_URL": args.redis_url, "DB_POOL_MAX": "4", "LOG_LEVEL": "WARNING"}


def prepare_database(args) -> None:
    admin_sql(args, f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
    admin_sql(args, f'CREATE DATABASE "{DB_NAME}"')
    result = subprocess.run([sys.executable, "manage.py", "migrate", "--no-input", "-v0"],
                            cwd=REPO, env=env_for(args), capture_output=True, text=True)
    if result.returncode:
        sys.exit(f"migrate failed:\n{result.stdout}\n{result.stderr}")


def build_scene(args) -> dict:
    """Bulk-write zones, couriers, vehicles, training and orders."""
    from django.db import connection, transaction
    from django.utils import timezone

    from delivery.enums import CourseKind, TrainingStatus, VehicleKind
    from delivery.models import (
        Courier,
        TrainingCourse,
        TrainingRecord,
        Vehicle,
        Zone,
        ZoneDistrict,
    )
    from inventory.enums import LocationKind
    from inventory.models import Location, Product, Sku
    from sales.enums import Fulfilment, OrderStatus, Priority
    from sales.models import Channel, Customer, Order, OrderLine

    rng = random.Random(args.seed)
    now = timezone.now()
    today = timezone.localdate()
    started = time.perf_counter()
    with transaction.atomic():
        channel = Channel.objects.create(code="bench", name="Bench", kind="own_shop")
        product = Product.objects.create(code="BENCH", name="基准商品", category="家居",
                                         price=Decimal("50.00"))
        skus = Sku.objects.bulk_create(
            Sku(product=product, code=f"BENCH-{i:02d}", name=f"基准商品 {i}",
                price=Decimal("50.00"), weight_grams=rng.choice([300, 500, 800, 1200, 2000,
                                                                 3000]))
            for i in range(20))
        cols = math.ceil(math.sqrt(args.zones))
        zones, hubs = [], []
        for z in range(args.zones):
            lat = 31.05 + 0.35 * (z // cols + 0.5) / cols
            lng = 121.25 + 0.40 * (z % cols + 0.5) / cols
            hubs.append(Location(code=f"BH{z:02d}", name=f"基准门店 {z}", kind=LocationKind.STORE,
                                 province="上海市", city="上海市", district=f"基准区{z:02d}",
                                 lat=Decimal(f"{lat:.6f}"), lng=Decimal(f"{lng:.6f}")))
        Location.objects.bulk_create(hubs)
        for z, hub in enumerate(hubs):
            zones.append(Zone(code=f"bench-{z:02d}", name=f"基准区{z:02d}",
                              centre_lat=hub.lat, centre_lng=hub.lng, hub=hub))
        Zone.objects.bulk_create(zones)
        ZoneDistrict.objects.bulk_create(ZoneDistrict(zone=zone, district=f"基准区{z:02d}")
                                         for z, zone in enumerate(zones))
        course = TrainingCourse.objects.create(code="onboarding", name="入职培训",
                                               kind=CourseKind.ONBOARDING)
        vehicles, couriers = [], []
        for c in range(args.couriers):
            kind = VehicleKind.TRICYCLE if c % 3 == 0 else VehicleKind.E_BIKE
            weight_kg, litres = (200, 800) if kind == VehicleKind.TRICYCLE else (60, 150)
            vehicles.append(Vehicle(
                plate=f"沪C{c:05d}", kind=kind, capacity_weight_kg=weight_kg,
                capacity_volume_l=litres, odometer_km=1000, last_maintenance_on=today,
                last_maintenance_km=900, maintenance_due_on=today + timedelta(days=90),
                maintenance_due_km=3900, insurance_policy_no=f"B{c:08d}",
                insurance_expires_on=today + timedelta(days=200)))
        Vehicle.objects.bulk_create(vehicles)
        for c, vehicle in enumerate(vehicles):
            couriers.append(Courier(
                employee_no=f"B{c:05d}", name=f"骑手{c}", phone=f"1370{c:07d}",
                hired_on=date(2024, 1, 1), status="active",
                shift_start=datetime.min.time(), shift_end=datetime.max.time().replace(
                    microsecond=0), vehicle=vehicle))
        Courier.objects.bulk_create(couriers)
        through = Courier.zones.through
        through.objects.bulk_create(through(courier_id=courier.pk,
                                            zone_id=zones[c % args.zones].pk)
                                    for c, courier in enumerate(couriers))
        TrainingRecord.objects.bulk_create(
            TrainingRecord(courier=courier, course=course, status=TrainingStatus.PASSED,
                           due_on=date(2024, 1, 5), completed_on=date(2024, 1, 4), score=90)
            for courier in couriers)
        customers = Customer.objects.bulk_create(
            Customer(name=f"客户{i}", phone=f"1590{i:07d}") for i in range(args.orders))
        orders, lines = [], []
        for i in range(args.orders):
            z = i % args.zones
            hub = hubs[z]
            angle, radius = rng.uniform(0, 2 * math.pi), 4000 * math.sqrt(rng.random())
            lat = float(hub.lat) + radius * math.sin(angle) / 110_574
            lng = float(hub.lng) + radius * math.cos(angle) / (
                111_320 * math.cos(math.radians(float(hub.lat))))
            start = now + timedelta(minutes=rng.randint(0, 240))
            orders.append(Order(
                number=f"BN{i:08d}", channel=channel, external_id=f"B{i}", customer=customers[i],
                status=OrderStatus.CONFIRMED, fulfilment=Fulfilment.DELIVERY,
                priority=rng.choices([Priority.URGENT, Priority.MEMBER, Priority.NORMAL],
                                     weights=[10, 30, 60])[0],
                province="上海市", city="上海市", district=f"基准区{z:02d}",
                line1=f"基准路 {i} 号", lat=Decimal(f"{lat:.6f}"), lng=Decimal(f"{lng:.6f}"),
                window_start=start, window_end=start + timedelta(hours=2),
                subtotal=Decimal("100.00"), total=Decimal("100.00"),
                paid_amount=Decimal("100.00"), review_deadline=now, created_at=now))
        Order.objects.bulk_create(orders, batch_size=1000)
        for order in orders:
            for sku in rng.sample(skus, rng.choices([1, 2, 3], weights=[60, 30, 10])[0]):
                quantity = rng.choice([1, 1, 2])
                lines.append(OrderLine(order=order, sku=sku, sku_code=sku.code, name=sku.name,
                                       quantity=quantity, unit_price=sku.price,
                                       line_total=sku.price * quantity))
        OrderLine.objects.bulk_create(lines, batch_size=2000)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return {"scene_seconds": round(time.perf_counter() - started, 1), "lines": len(lines)}


def start_workers(args) -> list[subprocess.Popen]:
    from config.celery import app

    with app.connection_for_write(args.redis_url) as conn, \
            contextlib.suppress(Exception):  # leftovers of an aborted run; none is fine
        conn.default_channel.queue_purge(QUEUE)
    workers = []
    for i in range(args.workers):
        workers.append(subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=solo",
             "--concurrency=1", "--loglevel=WARNING", "-Q", QUEUE, "-n", f"bench{i}@%h",
             "--without-gossip", "--without-mingle"],
            cwd=REPO, env=env_for(args), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            text=True))
    deadline = time.monotonic() + 90
    names = {f"bench{i}@" for i in range(args.workers)}
    while time.monotonic() < deadline:
        replies = app.control.ping(timeout=1.0) or []
        seen = {name.split("@")[0] + "@" for reply in replies for name in reply}
        if names <= seen:
            return workers
        if any(w.poll() is not None for w in workers):
            break
    stop_workers(workers)
    sys.exit("the Celery workers did not start:\n" + "\n".join(
        (w.stderr.read() or "")[-2000:] for w in workers if w.poll() is not None))


def stop_workers(workers) -> None:
    for worker in workers:
        worker.terminate()
    for worker in workers:
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()


def run_cycle(args, number: int) -> dict:
    from delivery.dispatch.cycle import dispatch_cycle
    from delivery.enums import DispatchRunStatus
    from delivery.models import DispatchRun

    before = set(DispatchRun.objects.values_list("pk", flat=True))
    started = time.perf_counter()
    queued = dispatch_cycle(queue=QUEUE, seconds=args.seconds)
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        runs = list(DispatchRun.objects.exclude(pk__in=before))
        done = [r for r in runs if r.status != DispatchRunStatus.RUNNING]
        if len(done) >= queued["zones_queued"]:
            break
        time.sleep(0.1)
    elapsed = time.perf_counter() - started
    runs = list(DispatchRun.objects.exclude(pk__in=before).order_by("zone_id"))
    statuses = {}
    for run in runs:
        statuses[run.status] = statuses.get(run.status, 0) + 1
    solver = [r.solver_seconds for r in runs if r.solver_seconds is not None]
    per_zone = [(r.finished_at - r.started_at).total_seconds() for r in runs if r.finished_at]
    return {
        "cycle": number, "seconds": round(elapsed, 2), "zones": len(runs), "statuses": statuses,
        "assigned": sum(r.counts.get("assigned", 0) for r in runs),
        "kept": sum(r.counts.get("kept", 0) for r in runs),
        "moved": sum(r.counts.get("moved", 0) for r in runs),
        "waiting": sum(r.counts.get("waiting", 0) for r in runs),
        "volume_trimmed": sum(r.counts.get("volume_trimmed", 0) for r in runs),
        "unassigned": sum(r.counts.get("unassigned", 0) for r in runs),
        "solver_seconds_mean": round(statistics.mean(solver), 2) if solver else None,
        "zone_seconds_mean": round(statistics.mean(per_zone), 2) if per_zone else None,
        "zone_seconds_max": round(max(per_zone), 2) if per_zone else None,
        "distance_km": round(sum(r.distance_m or 0 for r in runs) / 1000, 1),
        "lateness_min": round(sum(r.lateness_s or 0 for r in runs) / 60, 1),
        "errors": [r.error.splitlines()[-1] for r in runs if r.error][:3],
    }


def check(args) -> dict:
    from django.db.models import Count, F, Sum

    from delivery.enums import ACTIVE_DELIVERY_STATUSES
    from delivery.models import Delivery
    from delivery.selectors import couriers_dispatchable

    active = Delivery.objects.filter(status__in=ACTIVE_DELIVERY_STATUSES)
    doubles = active.values("order").annotate(n=Count("pk")).filter(n__gt=1).count()
    fit = set(couriers_dispatchable().values_list("pk", flat=True))
    unfit = active.exclude(courier_id__in=fit).count()
    loads = (active.values("courier_id", "courier__vehicle__capacity_weight_kg",
                           "courier__vehicle__capacity_volume_l")
             .annotate(w=Sum("weight_grams"), v=Sum("volume_l")))
    over = sum(1 for row in loads
               if row["w"] > row["courier__vehicle__capacity_weight_kg"] * 1000
               or row["v"] > row["courier__vehicle__capacity_volume_l"])
    late = active.filter(eta__gt=F("promised_end")).count()
    used = active.values("courier_id").distinct().count()
    return {"active_deliveries": active.count(), "orders_assigned_twice": doubles,
            "stops_on_unfit_couriers": unfit, "vehicles_over_capacity": over,
            "late_stops": late, "couriers_used": used}


def main() -> None:
    args = parse_args()
    for key, value in env_for(args).items():
        if key in ("DJANGO_SETTINGS_MODULE", "DATABASE_URL", "REDIS_URL", "DEBUG",
                   "DB_POOL_MAX", "LOG_LEVEL"):
            os.environ[key] = value
    sys.path.insert(0, str(REPO))
    print(f"dispatch_scale: {args.orders} orders, {args.couriers} couriers, {args.zones} zones, "
          f"{args.workers} workers, {args.seconds} s solver budget per zone", flush=True)
    prepare_database(args)
    import django

    django.setup()
    from django.db import connections

    workers = []
    try:
        scene = build_scene(args)
        print(f"  scene written in {scene['scene_seconds']} s ({scene['lines']} order lines)",
              flush=True)
        workers = start_workers(args)
        cycles = []
        for number in range(1, args.cycles + 1):
            result = run_cycle(args, number)
            cycles.append(result)
            label = "first plan" if number == 1 else "re-plan (warm start)"
            print(f"  cycle {number} ({label}): {result['seconds']} s, {result['zones']} zones "
                  f"{result['statuses']}, {result['assigned']} orders assigned, "
                  f"{result['kept']} kept, {result['moved']} moved between couriers, "
                  f"{result['unassigned'] + result['waiting']} left for later "
                  f"({result['volume_trimmed']} by volume); per zone "
                  f"{result['zone_seconds_mean']} s mean / {result['zone_seconds_max']} s max "
                  f"(solver {result['solver_seconds_mean']} s); {result['distance_km']} km, "
                  f"lateness {result['lateness_min']} min", flush=True)
            if result["errors"]:
                print(f"    errors: {result['errors']}")
        checks = check(args)
        print(f"  checks: {checks}")
        target = cycles[0]["seconds"] < 60 and not checks["orders_assigned_twice"] \
            and not checks["stops_on_unfit_couriers"] and not checks["vehicles_over_capacity"]
        print("  target (< 60 s, nothing assigned twice, no unfit courier, no overload): "
              + ("met" if target else "NOT met"))
        print(json.dumps({"args": {k: v for k, v in vars(args).items() if k != "redis_url"},
                          "scene": scene, "cycles": cycles, "checks": checks,
                          "target_met": target}, ensure_ascii=False, default=str))
    finally:
        stop_workers(workers)
        connections.close_all()
        if not args.keep_db:
            admin_sql(args, f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')


if __name__ == "__main__":
    main()
