"""Benchmark the dispatch route planner on the 56 Solomon VRPTW instances.

Runs ``python -m delivery.routing.solomon FILE --seconds S`` for every
instance, one at a time (the planner is single-threaded, so one core stays
free), checks each plan independently against the instance file (every
customer exactly once, capacity, time windows, depot hours, fleet size, and
the distance recomputed with the DIMACS convention) and compares the
distance with the best-known solutions in ``solomon_bks.csv``.

Usage (from the repository root)::

    python bench/dispatch.py [--data DIR] [--seconds 10] [--only PATTERN]

``PATTERN`` is a glob (``R2*``) or a name prefix (``RC1``, ``C101``).
``DIR`` defaults to ``../shared/bench/vrp`` relative to the repository root
and must contain ``solomon/*.txt`` and ``solomon_bks.csv``.
"""

from __future__ import annotations

import argparse
import csv
import fnmatch
import json
import math
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEFAULT_DATA = REPO.parent / "shared" / "bench" / "vrp"


@dataclass(frozen=True)
class Customer:
    """One row of a Solomon file (index 0 is the depot), times scaled by 10."""

    x: float
    y: float
    demand: int
    ready: int
    due: int
    service: int


@dataclass(frozen=True)
class Instance:
    """A Solomon instance as needed for verification."""

    name: str
    vehicles: int
    capacity: int
    nodes: list[Customer]

    def dist(self, i: int, j: int) -> int:
        """DIMACS distance in tenths: truncate(10 * Euclidean)."""
        a, b = self.nodes[i], self.nodes[j]
        return int(10 * math.sqrt((a.x - b.x) ** 2 + (a.y - b.y) ** 2))


@dataclass
class Check:
    """Outcome of the independent verification of one plan."""

    feasible: bool
    distance: float
    vehicles: int
    problems: list[str]


def read_solomon(*, path: Path) -> Instance:
    """Parse a Solomon text file (without the planner's code)."""
    lines = [line.split() for line in path.read_text().splitlines()]
    lines = [parts for parts in lines if parts]
    name = lines[0][0]
    head = next(i for i, parts in enumerate(lines) if parts[0].upper() == "NUMBER")
    vehicles, capacity = int(lines[head + 1][0]), int(lines[head + 1][1])
    nodes = []
    for parts in lines[head + 2 :]:
        if not parts[0].isdigit() or len(parts) < 7:
            continue
        x, y, demand, ready, due, service = (float(v) for v in parts[1:7])
        nodes.append(
            Customer(
                x=x,
                y=y,
                demand=int(demand),
                ready=round(10 * ready),
                due=round(10 * due),
                service=round(10 * service),
            )
        )
    return Instance(name=name, vehicles=vehicles, capacity=capacity, nodes=nodes)


def verify(*, instance: Instance, routes: list[list[int]]) -> Check:
    """Check a plan against the instance; recompute its distance."""
    problems: list[str] = []
    customers = len(instance.nodes) - 1
    seen = [v for route in routes for v in route]
    if any(not 1 <= v <= customers for v in seen):
        problems.append("unknown customer number")
        return Check(False, math.nan, len(routes), problems)
    if len(seen) != len(set(seen)):
        problems.append("customer visited twice")
    if len(set(seen)) != customers:
        problems.append(f"{customers - len(set(seen))} customers not visited")
    used = [route for route in routes if route]
    if len(used) > instance.vehicles:
        problems.append(f"{len(used)} routes > fleet {instance.vehicles}")
    depot = instance.nodes[0]
    total = 0
    for r, route in enumerate(used, start=1):
        load = sum(instance.nodes[v].demand for v in route)
        if load > instance.capacity:
            problems.append(f"route {r}: load {load} > {instance.capacity}")
        clock, prev = depot.ready, 0
        for v in route:
            node = instance.nodes[v]
            total += instance.dist(prev, v)
            clock = max(clock + instance.dist(prev, v), node.ready)
            if clock > node.due:
                problems.append(f"route {r}: customer {v} served at {clock / 10} > {node.due / 10}")
            clock += node.service
            prev = v
        total += instance.dist(prev, 0)
        clock += instance.dist(prev, 0)
        if clock > depot.due:
            problems.append(f"route {r}: back at {clock / 10} > {depot.due / 10}")
    return Check(not problems, total / 10, len(used), problems)


def read_bks(*, path: Path) -> dict[str, tuple[int, float]]:
    """instance name -> (vehicles, distance) of the best-known solution."""
    with path.open(newline="") as fh:
        return {
            row["instance"]: (int(row["vehicles"]), float(row["distance"]))
            for row in csv.DictReader(fh)
        }


def run_planner(*, path: Path, seconds: float, seed: int) -> tuple[dict | None, float, str]:
    """Run the solomon CLI once; return (parsed JSON or None, wall time, stderr)."""
    cmd = [
        sys.executable,
        "-m",
        "delivery.routing.solomon",
        str(path),
        "--seconds",
        str(seconds),
        "--seed",
        str(seed),
    ]
    start = time.perf_counter()
    proc = subprocess.run(
        cmd, cwd=REPO, capture_output=True, text=True, timeout=seconds * 5 + 60, check=False
    )
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        return None, wall, proc.stderr.strip()
    try:
        return json.loads(proc.stdout.strip().splitlines()[-1]), wall, proc.stderr.strip()
    except (json.JSONDecodeError, IndexError):
        return None, wall, f"bad output: {proc.stdout[:200]!r}"


def main(argv: list[str] | None = None) -> int:
    """CLI entry point; exit status 1 when some plan is infeasible."""
    parser = argparse.ArgumentParser(description="Solomon benchmark of the dispatch planner")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="benchmark data dir")
    parser.add_argument("--seconds", type=float, default=10.0, help="seconds per instance")
    parser.add_argument("--seed", type=int, default=1, help="planner seed")
    parser.add_argument(
        "--only",
        default=None,
        help="instance glob ('R2*', '*10[18]') or name prefix ('RC2', 'C101')",
    )
    args = parser.parse_args(argv)

    bks = read_bks(path=args.data / "solomon_bks.csv")
    files = sorted((args.data / "solomon").glob("*.txt"))
    if args.only:
        pattern = args.only if any(c in args.only for c in "*?[") else f"{args.only}*"
        files = [f for f in files if fnmatch.fnmatch(f.stem.upper(), pattern.upper())]
    if not files:
        print("no instances selected", file=sys.stderr)
        return 2

    print(f"Solomon VRPTW, {args.seconds:g} s per instance, seed {args.seed}, single core")
    header = (
        f"{'instance':<9}{'veh':>4}{'distance':>10}{'bks veh':>8}{'bks':>9}"
        f"{'gap %':>8}{'feasible':>9}{'wall s':>8}  notes"
    )
    print(header)
    print("-" * len(header))
    gaps: list[float] = []
    walls: list[float] = []
    feasible = 0
    for path in files:
        instance = read_solomon(path=path)
        result, wall, err = run_planner(path=path, seconds=args.seconds, seed=args.seed)
        walls.append(wall)
        bks_veh, bks_dist = bks.get(instance.name, (0, math.nan))
        if result is None:
            print(
                f"{instance.name:<9}{'-':>4}{'-':>10}{bks_veh:>8}{bks_dist:>9.1f}"
                f"{'-':>8}{'no':>9}{wall:>8.1f}  planner failed: {err[-200:]}",
                flush=True,
            )
            continue
        check = verify(instance=instance, routes=result["routes"])
        gap = 100 * (check.distance - bks_dist) / bks_dist
        notes = "; ".join(check.problems[:3])
        if abs(check.distance - result["distance"]) > 0.05:
            notes = f"planner said {result['distance']}; " + notes
        if bool(result["feasible"]) != check.feasible:
            notes = f"planner flag {result['feasible']}; " + notes
        if check.feasible:
            feasible += 1
            gaps.append(gap)
        print(
            f"{instance.name:<9}{check.vehicles:>4}{check.distance:>10.1f}{bks_veh:>8}"
            f"{bks_dist:>9.1f}{gap:>8.2f}{'yes' if check.feasible else 'NO':>9}"
            f"{wall:>8.1f}  {notes}",
            flush=True,
        )

    print("-" * len(header))
    print(f"instances: {len(files)}   feasible: {feasible}/{len(files)}")
    if gaps:
        print(
            f"distance gap to best known (feasible plans): mean {statistics.fmean(gaps):.2f} %, "
            f"worst {max(gaps):.2f} %, best {min(gaps):.2f} %"
        )
    print(
        f"wall time per instance: mean {statistics.fmean(walls):.1f} s, max {max(walls):.1f} s "
        f"(solver budget {args.seconds:g} s)"
    )
    return 0 if feasible == len(files) else 1


if __name__ == "__main__":
    raise SystemExit(main())
