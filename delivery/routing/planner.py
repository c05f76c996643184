"""Route planner for delivery dispatch (pure Python, no Django).

The planner wraps PyVRP's iterated local search. The Django dispatch job
converts its models to the plain dataclasses of this module (integer units,
typically metres and seconds), calls :func:`plan_routes` and stores the
returned :class:`Plan`.

Time-window modes
-----------------
``hard_time_windows=False`` (the default, for day-to-day dispatch)
    Time windows and shift ends are *soft*: a stop that cannot be reached in
    time is still delivered, and lateness is minimised. Internally every unit
    of PyVRP "time warp" (the amount by which a route arrives after a window
    closes) costs ``lateness_penalty`` distance units, with a fixed (not
    adaptive) penalty, and the best plan is the one minimising
    ``distance + lateness_penalty * time_warp``. Time warp is PyVRP's measure of
    how late a route is; it can be smaller than the summed lateness of the
    real schedule, which keeps driving late once late. The ETAs and the
    lateness reported in the plan come from the real schedule, not from time
    warp. A late plan is still ``feasible``; see :attr:`Plan.on_time`.
``hard_time_windows=True`` (used by the Solomon benchmark)
    Time windows and shifts are hard constraints. PyVRP's adaptive penalties
    steer the search, and the returned plan is the best one without any
    lateness. If none was found, the best plan found is returned with
    ``feasible=False``.

Stops that cannot be served (not enough capacity in the fleet, or in hard
mode a window that cannot be met) are left out and listed in
:attr:`Plan.unassigned` when ``allow_unassigned`` is true (the default); each
dropped stop costs ``unassigned_penalty``, which is large, so stops are
dropped only when there is no other way. With ``allow_unassigned=False`` all
stops are mandatory and a fleet that is too small yields ``feasible=False``.

Pinned stops (:attr:`Stop.pinned_vehicle`) were already picked up by a
vehicle; they are kept on that vehicle's route: for every other vehicle the
edges into a pinned stop are made prohibitively long. Pinned stops are never
left out. Every route starts and ends at the depot (a vehicle's current
position on the road is not modelled).

Vehicles with the same capacity and shift and no pinned stops are
interchangeable; after solving, their routes are given to the vehicles whose
warm-start routes they overlap most, so re-planning keeps drivers on their
routes where possible.
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np
from pyvrp import (
    Client,
    CostEvaluator,
    Location,
    PenaltyManager,
    PenaltyParams,
    ProblemData,
    RandomNumberGenerator,
    Route,
    Solution,
    VehicleType,
)
from pyvrp import Depot as PyVrpDepot
from pyvrp.constants import MAX_VALUE
from pyvrp.exceptions import PenaltyBoundWarning
from pyvrp.search import (
    BinaryOperator,
    InsertOptionalClient,
    LocalSearch,
    NeighbourhoodParams,
    PerturbationManager,
    PerturbationParams,
    Relocate1,
    Relocate2,
    RemoveOptionalClient,
    ReplaceOptionalClient,
    Swap11,
    Swap21,
    Swap22,
    SwapTails,
    UnaryOperator,
    compute_neighbours,
)

__all__ = [
    "Depot",
    "Plan",
    "SolverParams",
    "Stop",
    "Vehicle",
    "plan_routes",
]

#: Latest representable time; used when a window or shift has no end.
HORIZON = 1 << 40

#: Distance of an edge into a stop pinned to another vehicle.
_FORBIDDEN = MAX_VALUE // 64


@dataclass(frozen=True, slots=True)
class Depot:
    """The depot every route starts and ends at.

    ``x``/``y`` are planar coordinates (e.g. metres); ``tw_early``/``tw_late``
    the opening hours in integer time units (e.g. seconds).
    """

    x: float
    y: float
    tw_early: int = 0
    tw_late: int = HORIZON


@dataclass(frozen=True, slots=True)
class Stop:
    """A delivery stop.

    ``demand`` uses the same unit as :attr:`Vehicle.capacity`; ``tw_early`` /
    ``tw_late`` bound the start of service, ``service`` is its duration.
    ``pinned_vehicle`` is the id of the vehicle that already carries the
    goods: re-planning keeps the stop on that vehicle's route, and the stop
    is never left unassigned.
    """

    id: str
    x: float
    y: float
    demand: int
    tw_early: int
    tw_late: int
    service: int
    pinned_vehicle: str | None = None


@dataclass(frozen=True, slots=True)
class Vehicle:
    """A vehicle: load capacity and working shift (leaves the depot no
    earlier than ``shift_start``, is back no later than ``shift_end``)."""

    id: str
    capacity: int
    shift_start: int
    shift_end: int


@dataclass
class Plan:
    """Result of :func:`plan_routes`.

    Attributes
    ----------
    routes
        Vehicle id to the ids of its stops in visiting order; every vehicle is
        present, unused vehicles with an empty list.
    distance
        Total travel distance (planner units).
    feasible
        Every stop is served, no vehicle is overloaded, pinned stops are on
        their vehicle and, with hard time windows, nothing is late.
    unassigned
        Ids of stops that are not on any route.
    etas
        Stop id to the planned start of service.
    loads
        Vehicle id to the total demand it carries.
    lateness
        Stop id to how late its service starts, for late stops only (real
        schedule: a late vehicle stays late, there is no time warp).
    overtime
        Vehicle id to how long after its shift end (or the depot closing) it
        returns, for such vehicles only.
    """

    routes: dict[str, list[str]]
    distance: int
    feasible: bool
    unassigned: list[str]
    etas: dict[str, int]
    loads: dict[str, int]
    lateness: dict[str, int] = field(default_factory=dict)
    overtime: dict[str, int] = field(default_factory=dict)

    @property
    def total_lateness(self) -> int:
        """Sum of the lateness of all stops plus all overtime."""
        return sum(self.lateness.values()) + sum(self.overtime.values())

    @property
    def on_time(self) -> bool:
        """True when no stop is late and every vehicle is back in time."""
        return not self.lateness and not self.overtime


@dataclass(frozen=True)
class SolverParams:
    """Tuning knobs of the search.

    The defaults are PyVRP 0.14's, except that the adaptive penalties are
    updated every 25 local searches instead of every 500: with budgets of a
    few seconds the default reacts too slowly (on the hardest Solomon
    instances at 10 s the mean gap fell from 1.3 % to 0.4 %).

    Attributes
    ----------
    num_neighbours, weight_wait_time
        Granular neighbourhood (PyVRP ``NeighbourhoodParams``).
    history_length, num_iters_no_improvement
        Late-acceptance history length and restart interval of the iterated
        local search (PyVRP ``IteratedLocalSearchParams``).
    min_perturbations, max_perturbations
        Size of the random perturbation before each local search.
    penalty_params
        Adaptive penalty settings (PyVRP ``PenaltyParams``).
    operators
        Local-search operators; those that do not apply are skipped.
    """

    num_neighbours: int = 50
    weight_wait_time: float = 0.2
    history_length: int = 300
    num_iters_no_improvement: int = 150_000
    min_perturbations: int = 1
    max_perturbations: int = 25
    penalty_params: PenaltyParams = field(
        default_factory=lambda: PenaltyParams(solutions_between_updates=25)
    )
    operators: tuple[type[UnaryOperator | BinaryOperator], ...] = (
        Relocate1,
        Relocate2,
        Swap11,
        Swap21,
        Swap22,
        SwapTails,
        RemoveOptionalClient,
        InsertOptionalClient,
        ReplaceOptionalClient,
    )


def plan_routes(
    *,
    depot: Depot,
    stops: Sequence[Stop],
    vehicles: Sequence[Vehicle],
    seconds: float,
    seed: int = 1,
    warm_start: Plan | None = None,
    lateness_penalty: int = 100,
    hard_time_windows: bool = False,
    allow_unassigned: bool = True,
    unassigned_penalty: int | None = None,
    distance_matrix: Sequence[Sequence[int]] | np.ndarray | None = None,
    duration_matrix: Sequence[Sequence[int]] | np.ndarray | None = None,
    speed: float = 1.0,
    params: SolverParams | None = None,
) -> Plan:
    """Plan delivery routes.

    Parameters
    ----------
    depot, stops, vehicles
        The problem. Stop and vehicle ids must be unique.
    seconds
        Wall-clock budget for the whole call (model building included).
        The search runs on a single thread.
    seed
        Seed of the search. The same seed replays the same moves, but the
        budget is wall-clock time, so results can differ with machine load.
    warm_start
        A previous plan to start from. Its routes are kept for vehicles and
        stops that still exist (vanished stops and vehicles are dropped, a
        pinned stop is moved to its vehicle); new stops are inserted by the
        search. The result is never worse than the repaired warm start.
    lateness_penalty
        Soft mode only: cost, in distance units, of one time unit of lateness.
    hard_time_windows
        Treat windows and shifts as hard constraints (see the module doc).
    allow_unassigned
        Allow leaving stops out when they cannot be served; otherwise every
        stop is mandatory.
    unassigned_penalty
        Cost of leaving a stop out; defaults to a value that dominates any
        distance and lateness.
    distance_matrix, duration_matrix
        Optional integer matrices indexed ``[depot, *stops]``. Without a
        distance matrix, rounded Euclidean distances between the coordinates
        are used. Without a duration matrix, durations are
        ``round(distance / speed)``.
    speed
        Distance units per time unit, used only to derive durations.
    params
        Search tuning (:class:`SolverParams`).

    Returns
    -------
    Plan
        The best plan found.
    """
    started = time.perf_counter()
    params = params or SolverParams()
    if not stops:
        return Plan(
            routes={v.id: [] for v in vehicles},
            distance=0,
            feasible=True,
            unassigned=[],
            etas={},
            loads={v.id: 0 for v in vehicles},
        )
    model = _Model.build(
        depot=depot,
        stops=stops,
        vehicles=vehicles,
        hard_time_windows=hard_time_windows,
        allow_unassigned=allow_unassigned,
        unassigned_penalty=unassigned_penalty,
        lateness_penalty=lateness_penalty,
        distance_matrix=distance_matrix,
        duration_matrix=duration_matrix,
        speed=speed,
    )
    initial = model.warm_solution(warm_start) if warm_start is not None else None
    deadline = started + max(0.0, seconds)
    with warnings.catch_warnings():
        # Expected when some stops cannot be served; the plan reports it.
        warnings.simplefilter("ignore", PenaltyBoundWarning)
        best = _search(
            model=model,
            deadline=deadline,
            seed=seed,
            initial=initial,
            hard_time_windows=hard_time_windows,
            lateness_penalty=lateness_penalty,
            params=params,
        )
    return model.to_plan(best, previous=warm_start)


# --------------------------------------------------------------------------
# Model building


@dataclass
class _Model:
    """PyVRP data for a planner problem plus the index mappings."""

    data: ProblemData
    neighbour_data: ProblemData
    depot: Depot
    stops: list[Stop]
    vehicles: list[Vehicle]
    hard_time_windows: bool
    unassigned_penalty: int  # 0 when every stop is mandatory
    type_vehicles: list[list[Vehicle]]  # vehicle type index -> vehicles
    vehicle_type: dict[str, int]  # vehicle id -> vehicle type index
    stop_index: dict[str, int]  # stop id -> client index
    distance: np.ndarray  # base (unforbidden) matrices
    duration: np.ndarray

    @classmethod
    def build(
        cls,
        *,
        depot: Depot,
        stops: Sequence[Stop],
        vehicles: Sequence[Vehicle],
        hard_time_windows: bool,
        allow_unassigned: bool,
        unassigned_penalty: int | None,
        lateness_penalty: int,
        distance_matrix: Sequence[Sequence[int]] | np.ndarray | None,
        duration_matrix: Sequence[Sequence[int]] | np.ndarray | None,
        speed: float,
    ) -> _Model:
        stops = list(stops)
        vehicles = list(vehicles)
        if not vehicles:
            raise ValueError("at least one vehicle is needed")
        stop_index = {stop.id: idx for idx, stop in enumerate(stops)}
        if len(stop_index) != len(stops):
            raise ValueError("stop ids must be unique")
        vehicle_ids = {vehicle.id for vehicle in vehicles}
        if len(vehicle_ids) != len(vehicles):
            raise ValueError("vehicle ids must be unique")
        for stop in stops:
            if stop.pinned_vehicle is not None and stop.pinned_vehicle not in vehicle_ids:
                raise ValueError(f"stop {stop.id} is pinned to unknown vehicle")

        size = len(stops) + 1
        if distance_matrix is None:
            xy = np.array([(depot.x, depot.y)] + [(s.x, s.y) for s in stops], dtype=float)
            diff = xy[:, None, :] - xy[None, :, :]
            distance = np.rint(np.sqrt((diff**2).sum(axis=2))).astype(np.int64)
        else:
            distance = np.array(distance_matrix, dtype=np.int64)  # a copy
        if duration_matrix is None:
            duration = np.rint(distance / speed).astype(np.int64)
        else:
            duration = np.array(duration_matrix, dtype=np.int64)
        for name, matrix in (("distance", distance), ("duration", duration)):
            if matrix.shape != (size, size):
                raise ValueError(f"{name} matrix must be {size}x{size} ([depot, *stops])")
            if (matrix < 0).any():
                raise ValueError(f"{name} matrix has negative entries")
        np.fill_diagonal(distance, 0)
        np.fill_diagonal(duration, 0)

        # Identical vehicles without pinned stops share one PyVRP vehicle
        # type (a smaller search space); a vehicle with pinned stops gets its
        # own type and routing profile.
        pinned_to = {s.pinned_vehicle for s in stops if s.pinned_vehicle is not None}
        type_vehicles: list[list[Vehicle]] = []
        type_key: dict[tuple[int, int, int], int] = {}
        vehicle_type: dict[str, int] = {}
        for vehicle in vehicles:
            if vehicle.id in pinned_to:
                idx = len(type_vehicles)
                type_vehicles.append([vehicle])
            else:
                key = (vehicle.capacity, vehicle.shift_start, vehicle.shift_end)
                if key not in type_key:
                    type_key[key] = len(type_vehicles)
                    type_vehicles.append([])
                idx = type_key[key]
                type_vehicles[idx].append(vehicle)
            vehicle_type[vehicle.id] = idx

        # Routing profiles: profile 0 forbids every pinned stop; the profile
        # of a pinned vehicle forbids only the stops pinned to others.
        profiles: dict[str | None, int] = {None: 0}
        distances = [distance.copy()]
        for vid in sorted(pinned_to):
            profiles[vid] = len(distances)
            distances.append(distance.copy())
        for idx, stop in enumerate(stops):
            if stop.pinned_vehicle is None:
                continue
            for vid, profile in profiles.items():
                if vid != stop.pinned_vehicle:
                    column = distances[profile][:, idx + 1]
                    column[:] = _FORBIDDEN
                    column[idx + 1] = 0
        durations = [duration] * len(distances)

        if unassigned_penalty is None:
            round_trip = int(distance.max()) * 2 + 1
            late_cost = 0
            if not hard_time_windows:
                # Bound on how late a stop can be: the span of all finite
                # times plus driving to and serving every stop.
                times = [depot.tw_early, depot.tw_late]
                times += [t for v in vehicles for t in (v.shift_start, v.shift_end)]
                times += [t for s in stops for t in (s.tw_early, s.tw_late)]
                finite = [t for t in times if t < HORIZON]
                span = max(finite) - min(finite) + sum(s.service for s in stops)
                span += len(stops) * int(duration.max())
                late_cost = lateness_penalty * span
            unassigned_penalty = 100 * round_trip + late_cost + 1

        clients = [
            Client(
                location=idx + 1,
                delivery=[stop.demand],
                service_duration=stop.service,
                tw_early=stop.tw_early,
                tw_late=stop.tw_late,
                required=not allow_unassigned or stop.pinned_vehicle is not None,
                prize=unassigned_penalty if allow_unassigned else 0,
                name=stop.id,
            )
            for idx, stop in enumerate(stops)
        ]
        vehicle_types = []
        for idx, group in enumerate(type_vehicles):
            first = group[0]
            pinned_vid = first.id if first.id in pinned_to else None
            vehicle_types.append(
                VehicleType(
                    num_available=len(group),
                    capacity=[first.capacity],
                    tw_early=first.shift_start,
                    tw_late=first.shift_end,
                    profile=profiles[pinned_vid],
                    name=f"type{idx}",
                )
            )
        locations = [Location(depot.x, depot.y, name="depot")] + [
            Location(stop.x, stop.y, name=stop.id) for stop in stops
        ]
        depots = [PyVrpDepot(location=0, tw_early=depot.tw_early, tw_late=depot.tw_late)]
        data = ProblemData(locations, clients, depots, vehicle_types, distances, durations)
        neighbour_data = data
        if len(distances) > 1:
            base_types = [vt.replace(profile=0) for vt in vehicle_types]
            neighbour_data = data.replace(
                vehicle_types=base_types,
                distance_matrices=[distance],
                duration_matrices=[duration],
            )
        return cls(
            data=data,
            neighbour_data=neighbour_data,
            depot=depot,
            stops=stops,
            vehicles=vehicles,
            hard_time_windows=hard_time_windows,
            unassigned_penalty=unassigned_penalty if allow_unassigned else 0,
            type_vehicles=type_vehicles,
            vehicle_type=vehicle_type,
            stop_index=stop_index,
            distance=distance,
            duration=duration,
        )

    def warm_solution(self, plan: Plan) -> Solution:
        """The previous plan restricted to the current stops and vehicles."""
        routes = []
        placed: set[str] = set()
        for vid, stop_ids in plan.routes.items():
            if vid not in self.vehicle_type:
                continue
            visits = []
            for sid in stop_ids:
                if sid not in self.stop_index or sid in placed:
                    continue
                pin = self.stops[self.stop_index[sid]].pinned_vehicle
                if pin is not None and pin != vid:
                    continue
                placed.add(sid)
                visits.append(self.stop_index[sid])
            if visits:
                routes.append(Route(self.data, visits, self.vehicle_type[vid]))
        return Solution(self.data, routes)

    def to_plan(self, solution: Solution, *, previous: Plan | None) -> Plan:
        """Translate a PyVRP solution to a :class:`Plan` with real ETAs."""
        by_type: dict[int, list[list[str]]] = {}
        starts: dict[tuple[str, ...], int] = {}
        for route in solution.routes():
            ids = [self.stops[act.idx].id for act in route if act.is_client()]
            by_type.setdefault(route.vehicle_type(), []).append(ids)
            starts[tuple(ids)] = route.start_time()

        routes: dict[str, list[str]] = {v.id: [] for v in self.vehicles}
        for vtype, group in enumerate(self.type_vehicles):
            for vehicle, ids in zip(
                group, _match_routes(group, by_type.get(vtype, []), previous), strict=True
            ):
                routes[vehicle.id] = ids

        etas: dict[str, int] = {}
        loads: dict[str, int] = {}
        lateness: dict[str, int] = {}
        overtime: dict[str, int] = {}
        distance = 0
        feasible = True
        for vehicle in self.vehicles:
            ids = routes[vehicle.id]
            loads[vehicle.id] = sum(self.stops[self.stop_index[s]].demand for s in ids)
            if loads[vehicle.id] > vehicle.capacity:
                feasible = False
            if any(
                self.stops[self.stop_index[s]].pinned_vehicle not in (None, vehicle.id) for s in ids
            ):
                feasible = False
            if not ids:
                continue
            earliest = max(vehicle.shift_start, self.depot.tw_early)
            # PyVRP's start avoids needless waiting; with lateness in the
            # plan, leaving as early as possible may be better.
            schedule = min(
                (
                    self._schedule(vehicle, ids, max(start, earliest))
                    for start in (starts[tuple(ids)], earliest)
                ),
                key=lambda sched: sum(sched.lateness.values()) + sched.overtime,
            )
            distance += schedule.distance
            etas.update(schedule.etas)
            lateness.update(schedule.lateness)
            if schedule.overtime:
                overtime[vehicle.id] = schedule.overtime

        unassigned = [s.id for s in self.stops if s.id not in etas]
        if unassigned or (self.hard_time_windows and (lateness or overtime)):
            feasible = False
        return Plan(
            routes=routes,
            distance=distance,
            feasible=feasible,
            unassigned=unassigned,
            etas=etas,
            loads=loads,
            lateness=lateness,
            overtime=overtime,
        )

    def _schedule(self, vehicle: Vehicle, ids: list[str], start: int) -> _Schedule:
        """Real (no time warp) schedule of a route leaving the depot at ``start``."""
        result = _Schedule()
        prev = 0
        clock = start
        for sid in ids:
            idx = self.stop_index[sid] + 1
            stop = self.stops[idx - 1]
            result.distance += int(self.distance[prev, idx])
            clock = max(clock + int(self.duration[prev, idx]), stop.tw_early)
            result.etas[sid] = clock
            if clock > stop.tw_late:
                result.lateness[sid] = clock - stop.tw_late
            clock += stop.service
            prev = idx
        result.distance += int(self.distance[prev, 0])
        clock += int(self.duration[prev, 0])
        result.overtime = max(0, clock - min(vehicle.shift_end, self.depot.tw_late))
        return result


@dataclass
class _Schedule:
    """Timing of one route."""

    distance: int = 0
    overtime: int = 0
    etas: dict[str, int] = field(default_factory=dict)
    lateness: dict[str, int] = field(default_factory=dict)


def _match_routes(
    vehicles: list[Vehicle], routes: list[list[str]], previous: Plan | None
) -> list[list[str]]:
    """Assign the routes of one vehicle type to its (interchangeable)
    vehicles, keeping each vehicle on the route most like its previous one."""
    result: list[list[str] | None] = [None] * len(vehicles)
    remaining = list(routes)
    if previous is not None and remaining:
        pairs = []
        for vi, vehicle in enumerate(vehicles):
            before = set(previous.routes.get(vehicle.id, ()))
            for ri, route in enumerate(remaining):
                overlap = len(before.intersection(route))
                if overlap:
                    pairs.append((-overlap, vi, ri))
        used: set[int] = set()
        for _, vi, ri in sorted(pairs):
            if result[vi] is None and ri not in used:
                result[vi] = remaining[ri]
                used.add(ri)
        remaining = [route for ri, route in enumerate(remaining) if ri not in used]
    for vi in range(len(vehicles)):
        if result[vi] is None:
            result[vi] = remaining.pop(0) if remaining else []
    return [route or [] for route in result]


# --------------------------------------------------------------------------
# Search


def _search(
    *,
    model: _Model,
    deadline: float,
    seed: int,
    initial: Solution | None,
    hard_time_windows: bool,
    lateness_penalty: int,
    params: SolverParams,
) -> Solution:
    """Iterated local search with late acceptance (PyVRP's algorithm).

    Mirrors :class:`pyvrp.IteratedLocalSearch`, but the incumbent is chosen
    by :func:`objective`, which implements the soft/hard time-window modes,
    and the whole run honours a wall-clock ``deadline``.
    """
    data = model.data
    rng = RandomNumberGenerator(seed=seed)
    neighbours = compute_neighbours(
        model.neighbour_data,
        NeighbourhoodParams(
            weight_wait_time=params.weight_wait_time,
            num_neighbours=params.num_neighbours,
        ),
    )
    perturbation = PerturbationManager(
        PerturbationParams(params.min_perturbations, params.max_perturbations)
    )
    ls = LocalSearch(data, rng, neighbours, perturbation)
    for op in params.operators:
        if op.supports(data):
            ls.add_operator(op(data))

    penalty_params = params.penalty_params
    if model.unassigned_penalty:
        # Overloading a vehicle (or, in hard mode, being late) must be able to
        # cost more than leaving a stop out, or stops are never dropped.
        penalty_params = replace(
            penalty_params,
            max_penalty=max(penalty_params.max_penalty, 4.0 * model.unassigned_penalty),
        )
    pm = PenaltyManager(params.penalty_params.midpoint_penalties(data), penalty_params)

    def evaluator() -> CostEvaluator:
        if hard_time_windows:
            return pm.cost_evaluator()
        loads, _, dist = pm.penalties()
        return CostEvaluator(loads, float(lateness_penalty), dist)

    def strict_evaluator() -> CostEvaluator:
        """Maximal penalties, to construct and repair starting plans."""
        if hard_time_windows:
            return pm.max_cost_evaluator()
        maximal = penalty_params.max_penalty
        return CostEvaluator([maximal] * data.num_load_dimensions, float(lateness_penalty), maximal)

    def objective(sol: Solution) -> float:
        """Cost of an acceptable plan, ``inf`` for others."""
        if sol.has_excess_load() or not sol.is_complete() or sol.has_excess_distance():
            return math.inf
        if hard_time_windows:
            return (
                math.inf
                if sol.has_time_warp()
                else float(sol.distance_cost() + sol.uncollected_prizes())
            )
        return float(fixed.penalised_cost(sol))

    fixed = CostEvaluator([0.0] * data.num_load_dimensions, float(lateness_penalty), 0.0)

    if initial is None:
        init = ls(Solution.make_random(data, rng), strict_evaluator(), exhaustive=True)
    else:
        # Repair the warm start (insert new stops, restore capacity and
        # windows) before searching, even if the budget is already spent.
        init = initial
        repaired = ls(initial, strict_evaluator(), exhaustive=True)
        if objective(repaired) <= objective(initial):
            init = repaired

    best = curr = init
    best_obj = objective(best)
    fallback = init  # best by penalised cost, used if nothing acceptable is found
    history: list[Solution | None] = [None] * params.history_length
    hist_idx = 0
    iters_no_improvement = 0
    while time.perf_counter() < deadline:
        if iters_no_improvement == params.num_iters_no_improvement:
            history = [None] * params.history_length
            curr = best
            iters_no_improvement = 0

        cost_eval = evaluator()
        cand = ls(curr, cost_eval, exhaustive=False)
        pm.register(cand)
        iters_no_improvement += 1

        cand_obj = objective(cand)
        if cand_obj < best_obj:
            best, best_obj = cand, cand_obj
            iters_no_improvement = 0
            improved = ls(cand, cost_eval, exhaustive=True)
            improved_obj = objective(improved)
            if improved_obj <= best_obj:
                best, best_obj = improved, improved_obj
        elif best_obj == math.inf and cost_eval.penalised_cost(cand) < cost_eval.penalised_cost(
            fallback
        ):
            fallback = cand

        cand_cost = cost_eval.penalised_cost(cand)
        curr_cost = cost_eval.penalised_cost(curr)
        late = history[hist_idx]
        late_cost = cost_eval.penalised_cost(late if late is not None else init)
        if cand_cost < late_cost or cand_cost < curr_cost:
            curr, curr_cost = cand, cand_cost
        if late is None or curr_cost < late_cost:
            history[hist_idx] = curr
        hist_idx = (hist_idx + 1) % params.history_length

    return best if best_obj < math.inf else fallback
