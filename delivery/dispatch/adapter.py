"""The adapter between the delivery models and the route planner
(`delivery.routing`, owned by the routing work): plain values in, plain
values out, no database.

- Coordinates: latitude/longitude projected to metres on a plane tangent at
  the zone's centre (equirectangular; a zone spans a few kilometres, where
  the error is far below a street's width).
- Time: integer seconds after `now`; windows that are already over become
  [0, 0] so the stop is planned as late as it really is (soft windows: the
  planner minimises lateness, it never refuses a late stop).
- Load: the planner takes one capacity dimension, weight in 100 g units,
  with volume folded in conservatively (see `build_problem`). Volume is also
  checked exactly after planning: stops that would overfill a vehicle's
  volume are taken off its route and wait for the next cycle.
- Pinned stops (picked up: the goods are in the courier's box) stay on
  their courier. A courier who may no longer take new stops but still holds
  picked-up goods is planned with exactly that load as capacity.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from delivery import policy
from delivery.routing import Depot, Plan, Stop, Vehicle

EARTH_M_PER_DEG_LAT = 110_574.0
EARTH_M_PER_DEG_LNG_EQUATOR = 111_320.0


def project(lat: float, lng: float, *, centre_lat: float, centre_lng: float
            ) -> tuple[float, float]:
    """(x, y) in metres east and north of the centre."""
    x = (lng - centre_lng) * EARTH_M_PER_DEG_LNG_EQUATOR * math.cos(math.radians(centre_lat))
    y = (lat - centre_lat) * EARTH_M_PER_DEG_LAT
    return x, y


def stop_key(order_id: int) -> str:
    return f"o{order_id}"


def courier_key(courier_id: int) -> str:
    return f"c{courier_id}"


@dataclass(frozen=True)
class StopIn:
    order_id: int
    lat: float | None
    lng: float | None
    weight_grams: int
    volume_l: int
    items: int
    promised_start: datetime | None
    promised_end: datetime
    delivery_id: int | None = None       # an existing active delivery
    pinned_courier: int | None = None    # picked up by this courier


@dataclass(frozen=True)
class CourierIn:
    courier_id: int
    capacity_kg: int
    capacity_l: int
    shift_start: datetime
    shift_end: datetime
    may_take_new: bool = True            # False: only keeps its picked-up stops


@dataclass
class Problem:
    depot: Depot
    stops: list[Stop]
    vehicles: list[Vehicle]
    warm_start: Plan | None
    now: datetime


@dataclass
class RouteOut:
    courier_id: int
    order_ids: list[int] = field(default_factory=list)
    etas: dict[int, datetime] = field(default_factory=dict)


@dataclass
class PlanOut:
    routes: dict[int, RouteOut]
    unassigned: list[int]
    distance_m: int
    lateness_s: int
    volume_trimmed: list[int]


def _seconds(moment: datetime | None, now: datetime) -> int:
    if moment is None:
        return 0
    return max(0, int((moment - now).total_seconds()))


def build_problem(*, centre: tuple[float, float], depot_at: tuple[float, float],
                  stops: list[StopIn], couriers: list[CourierIn],
                  previous_routes: dict[int, list[int]], now: datetime) -> Problem:
    """Planner input for one zone. `previous_routes` (courier → order ids in
    visiting order, from the current plan) becomes the warm start."""
    clat, clng = centre
    dx, dy = project(depot_at[0], depot_at[1], centre_lat=clat, centre_lng=clng)
    depot = Depot(x=dx, y=dy)
    planner_stops = []
    pinned_units: dict[int, int] = {}
    # Volume folded into the one load dimension: a litre counts as many load
    # units as the vehicle with the most weight capacity per litre allows, so
    # a route that fits by load fits every vehicle's volume too (conservative
    # for roomier vehicles; `read_plan` still checks volume exactly).
    per_litre = max((policy.capacity_units(c.capacity_kg) / c.capacity_l
                     for c in couriers if c.capacity_l > 0), default=0.0)
    for stop in stops:
        if stop.lat is None or stop.lng is None:
            x, y = 0.0, 0.0  # no coordinates: the zone's centre
        else:
            x, y = project(stop.lat, stop.lng, centre_lat=clat, centre_lng=clng)
        key = stop_key(stop.order_id)
        early = _seconds(stop.promised_start, now)
        late = max(early, _seconds(stop.promised_end, now))
        units = max(policy.load_units(stop.weight_grams), math.ceil(stop.volume_l * per_litre))
        if stop.pinned_courier is not None:
            pinned_units[stop.pinned_courier] = pinned_units.get(stop.pinned_courier, 0) + units
        planner_stops.append(Stop(
            id=key, x=x, y=y, demand=units, tw_early=early, tw_late=late,
            service=policy.service_seconds(stop.items),
            pinned_vehicle=(courier_key(stop.pinned_courier)
                            if stop.pinned_courier is not None else None)))
    vehicles = []
    for courier in couriers:
        capacity = policy.capacity_units(courier.capacity_kg)
        if not courier.may_take_new:
            capacity = pinned_units.get(courier.courier_id, 0)
        else:
            capacity = max(capacity, pinned_units.get(courier.courier_id, 0))
        start = _seconds(courier.shift_start, now)
        end = max(start + 1, _seconds(courier.shift_end, now))
        vehicles.append(Vehicle(id=courier_key(courier.courier_id), capacity=capacity,
                                shift_start=start, shift_end=end))
    known = {c.courier_id for c in couriers}
    routes = {courier_key(cid): [stop_key(oid) for oid in order_ids]
              for cid, order_ids in previous_routes.items() if cid in known and order_ids}
    warm = None
    if routes:
        warm = Plan(routes=routes, distance=0, feasible=True, unassigned=[], etas={}, loads={})
    return Problem(depot=depot, stops=planner_stops, vehicles=vehicles, warm_start=warm,
                   now=now)


def read_plan(*, plan: Plan, problem: Problem, stops: list[StopIn],
              couriers: list[CourierIn]) -> PlanOut:
    """Planner output back to order ids and aware ETAs, with the volume check."""
    by_key = {stop_key(s.order_id): s for s in stops}
    capacity_l = {c.courier_id: c.capacity_l for c in couriers}
    routes: dict[int, RouteOut] = {}
    unassigned = [by_key[k].order_id for k in plan.unassigned]
    trimmed: list[int] = []
    for vkey, keys in plan.routes.items():
        courier_id = int(vkey[1:])
        route = RouteOut(courier_id=courier_id)
        volume = 0
        for key in keys:
            stop = by_key[key]
            if (stop.pinned_courier is None
                    and volume + stop.volume_l > capacity_l.get(courier_id, 0)):
                trimmed.append(stop.order_id)
                continue
            volume += stop.volume_l
            route.order_ids.append(stop.order_id)
            if key in plan.etas:
                route.etas[stop.order_id] = problem.now + timedelta(seconds=plan.etas[key])
        routes[courier_id] = route
    return PlanOut(routes=routes, unassigned=unassigned + trimmed,
                   distance_m=int(plan.distance), lateness_s=int(plan.total_lateness),
                   volume_trimmed=trimmed)


def route_etas(*, depot_xy: tuple[float, float], stops: list[tuple[str, float, float, int,
                                                                     datetime | None]],
               start: datetime) -> dict[str, datetime]:
    """ETAs along a fixed route (a dispatcher's manual order): drive at the
    planner's speed, wait for a window to open, serve, go on. `stops` are
    (key, x, y, service seconds, window start)."""
    clock = start
    here = depot_xy
    etas = {}
    for key, x, y, service, opens in stops:
        metres = math.hypot(x - here[0], y - here[1])
        clock = clock + timedelta(seconds=round(metres / policy.SPEED_M_PER_S))
        if opens is not None and clock < opens:
            clock = opens
        etas[key] = clock
        clock = clock + timedelta(seconds=service)
        here = (x, y)
    return etas
