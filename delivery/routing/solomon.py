"""Solve a Solomon VRPTW instance with the dispatch planner.

Usage (from the repository root)::

    python -m delivery.routing.solomon FILE --seconds S [--seed N]

Prints one line of JSON: ``{"vehicles": int, "distance": float, "feasible":
bool, "routes": [[customer numbers in visiting order], ...]}``.

The instance is converted to the planner's dataclasses and solved by
:func:`delivery.routing.planner.plan_routes` (hard time windows, all stops
mandatory), so this measures the real dispatch planner. Distances follow the
DIMACS convention of the published best-known solutions: the Euclidean
distance times 10, truncated to an integer; travel times are the same
values, and all times are scaled by 10 as well. The reported distance is
divided by 10 again.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import vrplib

from delivery.routing.planner import Depot, Plan, Stop, Vehicle, plan_routes

#: DIMACS scale factor: one decimal of precision.
SCALE = 10


@dataclass(frozen=True)
class SolomonProblem:
    """A Solomon instance in the planner's (scaled, integer) units."""

    name: str
    depot: Depot
    stops: list[Stop]
    vehicles: list[Vehicle]
    matrix: np.ndarray


def load_problem(*, path: str | Path) -> SolomonProblem:
    """Read a Solomon text file into planner dataclasses (DIMACS units).

    Customer ``i`` of the file becomes the stop with id ``str(i)``.
    """
    inst = vrplib.read_instance(str(path), instance_format="solomon")
    coords = np.asarray(inst["node_coord"], dtype=float)
    diff = coords[:, None, :] - coords[None, :, :]
    matrix = (SCALE * np.sqrt((diff**2).sum(axis=2))).astype(np.int64)  # truncates
    tw = np.asarray(inst["time_window"], dtype=np.int64) * SCALE
    service = np.asarray(inst["service_time"], dtype=np.int64) * SCALE
    demand = np.asarray(inst["demand"], dtype=np.int64)
    depot = Depot(
        x=float(coords[0, 0]), y=float(coords[0, 1]), tw_early=int(tw[0, 0]), tw_late=int(tw[0, 1])
    )
    stops = [
        Stop(
            id=str(i),
            x=float(coords[i, 0]),
            y=float(coords[i, 1]),
            demand=int(demand[i]),
            tw_early=int(tw[i, 0]),
            tw_late=int(tw[i, 1]),
            service=int(service[i]),
        )
        for i in range(1, len(coords))
    ]
    vehicles = [
        Vehicle(
            id=f"v{k + 1}",
            capacity=int(inst["capacity"]),
            shift_start=int(tw[0, 0]),
            shift_end=int(tw[0, 1]),
        )
        for k in range(int(inst["vehicles"]))
    ]
    return SolomonProblem(
        name=str(inst.get("name", Path(path).stem)),
        depot=depot,
        stops=stops,
        vehicles=vehicles,
        matrix=matrix,
    )


def solve_problem(*, problem: SolomonProblem, seconds: float, seed: int = 1) -> Plan:
    """Solve with the dispatch planner in benchmark mode (hard windows)."""
    return plan_routes(
        depot=problem.depot,
        stops=problem.stops,
        vehicles=problem.vehicles,
        seconds=seconds,
        seed=seed,
        hard_time_windows=True,
        allow_unassigned=False,
        distance_matrix=problem.matrix,
        duration_matrix=problem.matrix,
    )


def plan_to_json(*, plan: Plan) -> dict:
    """The CLI's JSON shape: non-empty routes as customer numbers."""
    routes = [[int(sid) for sid in ids] for ids in plan.routes.values() if ids]
    return {
        "vehicles": len(routes),
        "distance": plan.distance / SCALE,
        "feasible": plan.feasible,
        "routes": routes,
    }


def main(argv: Sequence[str] | None = None) -> int:
    """CLI entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("file", type=Path, help="Solomon instance (.txt)")
    parser.add_argument("--seconds", type=float, default=10.0, help="time budget")
    parser.add_argument("--seed", type=int, default=1, help="random seed")
    args = parser.parse_args(argv)
    plan = solve_problem(problem=load_problem(path=args.file), seconds=args.seconds, seed=args.seed)
    sys.stdout.write(json.dumps(plan_to_json(plan=plan)) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
