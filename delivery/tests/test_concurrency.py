"""No order is assigned twice: overlapping dispatch runs, a run whose plan
went stale, a worker killed in the middle of its write, real Celery workers
— all against PostgreSQL (delivery.dispatch.zone explains the three layers)."""

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from django.db import IntegrityError, connection, connections, transaction
from django.db.models import Count
from django.utils import timezone

from delivery.dispatch import zone as zone_module
from delivery.dispatch.zone import dispatch_zone, plan_compute, plan_write, snapshot_take
from delivery.enums import ACTIVE_DELIVERY_STATUSES, DeliveryStatus, DispatchRunStatus
from delivery.models import Delivery, DispatchRun, Zone
from delivery.tests.factories import CourierFactory, Shop, ZoneFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
ROOT = Path(__file__).resolve().parents[2]
DISTRICT = "浦东新区"


@pytest.fixture
def setup():
    zone = ZoneFactory(code="pd", districts=[DISTRICT])
    for _ in range(3):
        CourierFactory(zones=[zone])
    shop = Shop()
    orders = [shop.order(district=DISTRICT) for _ in range(12)]
    return zone, orders


def assert_each_order_once(orders):
    counts = dict(Delivery.objects.filter(status__in=ACTIVE_DELIVERY_STATUSES)
                  .values_list("order_id").annotate(n=Count("pk")))
    assert counts == {order.pk: 1 for order in orders}


def run_in_threads(target, n: int = 2):
    barrier = threading.Barrier(n)
    results, errors = [], []

    def work():
        try:
            with contextlib.suppress(threading.BrokenBarrierError):
                barrier.wait(timeout=20)
            results.append(target())
        except Exception as exc:  # noqa: BLE001 - reported by the test
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work) for _ in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results, errors


def test_overlapping_runs_of_a_zone_assign_each_order_once(setup):
    zone, orders = setup
    results, errors = run_in_threads(lambda: dispatch_zone(zone_id=zone.pk, seconds=1.0))
    assert not errors
    assert {r.status for r in results} <= {DispatchRunStatus.SUCCEEDED, DispatchRunStatus.SKIPPED}
    assert_each_order_once(orders)


def test_without_the_planning_lock_the_plan_version_still_stops_a_double_write(
        setup, monkeypatch):
    """Both runs plan on the same version; the second to write finds the plan
    changed and plans again from fresh data."""
    zone, orders = setup

    @contextlib.contextmanager
    def always(*, zone_id):
        yield True

    monkeypatch.setattr(zone_module, "zone_planning_lock", always)
    both_planned = threading.Barrier(2)
    calls = []

    def plan_after_both_snapshots(snapshot, *, seconds):
        calls.append(snapshot.version)
        if len(calls) <= 2:
            with contextlib.suppress(threading.BrokenBarrierError):
                both_planned.wait(timeout=20)
        return plan_compute(snapshot, seconds=seconds)

    monkeypatch.setattr(zone_module, "plan_compute", plan_after_both_snapshots)
    results, errors = run_in_threads(lambda: dispatch_zone(zone_id=zone.pk, seconds=0.5))
    assert not errors
    assert calls[:2] == [0, 0] and len(calls) == 3  # the loser planned again
    assert sorted(r.counts["assigned"] for r in results) == [0, 12]
    assert_each_order_once(orders)


def test_the_write_rechecks_every_order_under_its_row_lock(setup):
    """Even a write that skipped the version check assigns nothing twice."""
    zone, orders = setup
    snapshot = snapshot_take(zone_id=zone.pk)
    result = plan_compute(snapshot, seconds=0.3)
    assert plan_write(snapshot, result)["assigned"] == 12
    Zone.objects.filter(pk=zone.pk).update(plan_version=snapshot.version)  # defeat the check
    snapshot.existing = {}  # and pretend nothing was there
    counts = plan_write(snapshot, result)
    assert counts["assigned"] == 0 and counts["skipped"] == 12
    assert_each_order_once(orders)


def test_the_unique_index_refuses_a_second_active_delivery(setup):
    zone, orders = setup
    dispatch_zone(zone_id=zone.pk, seconds=0.3)
    first = Delivery.objects.first()
    twin = Delivery(order=first.order, zone=zone, courier=first.courier, weight_grams=1,
                    volume_l=1, items=1, promised_end=first.promised_end, handover_code="1",
                    assigned_at=timezone.now())
    with pytest.raises(IntegrityError), transaction.atomic():
        twin.save()
    # A closed delivery does not count: the order may be delivered again later.
    Delivery.objects.filter(pk=first.pk).update(status=DeliveryStatus.CANCELLED)
    twin.save()


KILLED_WORKER = """
import sys, time
import django
django.setup()
from delivery.dispatch import zone as z
real = z._notifications_for
def stall(deliveries):
    real(deliveries)
    print("IN_WRITE", flush=True)
    time.sleep(120)
z._notifications_for = stall
z.dispatch_zone(zone_id=int(sys.argv[1]), seconds=0.3)
"""


def _worker_env() -> dict:
    db = connection.settings_dict
    return {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.dev", "DEBUG": "0",
            "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
            "DB_POOL_MAX": "2"}


def test_a_worker_killed_in_the_middle_of_its_write_leaves_nothing_behind(setup):
    zone, orders = setup
    proc = subprocess.Popen([sys.executable, "-c", KILLED_WORKER, str(zone.pk)], cwd=ROOT,
                            env=_worker_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    try:
        line = proc.stdout.readline()
        assert line.strip() == "IN_WRITE", proc.stderr.read() if proc.poll() else line
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    # Its transaction is rolled back and its planning lock released with its
    # session; the run record it started is left `running` (closed later).
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        run = dispatch_zone(zone_id=zone.pk, seconds=0.3)
        if run.status != DispatchRunStatus.SKIPPED:
            break
        time.sleep(0.5)
    assert run.status == DispatchRunStatus.SUCCEEDED, run.note or run.error
    assert run.counts["assigned"] == 12
    assert_each_order_once(orders)
    assert DispatchRun.objects.filter(status=DispatchRunStatus.RUNNING).count() == 1


@pytest.mark.redis
def test_zones_are_dispatched_by_real_celery_workers(redis_url):
    from config.celery import app

    shop = Shop()
    zones, orders = [], []
    for i in range(2):
        zone = ZoneFactory(code=f"w{i}", districts=[f"区{i}"])
        CourierFactory(zones=[zone])
        orders += [shop.order(district=f"区{i}") for _ in range(3)]
        zones.append(zone)
    env = {**_worker_env(), "REDIS_URL": redis_url}
    queue = f"rongtong-dlv-test-{os.getpid()}"
    workers = [subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=solo",
         "--concurrency=1", "--loglevel=WARNING", "-Q", queue, "-n", f"dlv{i}@%h"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for i in range(2)]
    try:
        with app.connection_for_write(redis_url) as conn:
            for zone in zones:
                app.send_task("delivery.tasks.dispatch_zone_task", args=[zone.pk],
                              kwargs={"seconds": 0.5}, queue=queue, connection=conn)
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if DispatchRun.objects.filter(status=DispatchRunStatus.SUCCEEDED).count() == 2:
                break
            time.sleep(0.5)
        assert DispatchRun.objects.filter(status=DispatchRunStatus.SUCCEEDED).count() == 2
        assert_each_order_once(orders)
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            worker.wait(timeout=30)
