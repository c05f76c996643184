"""Delivery policies as small functions over plain values (STYLE rule 9):
maintenance due dates, parcel size, service times, promises, carrier prices
and carrier ranking. No database here; unit-testable on their own.

Numbers that ops may tune are read from settings when present
(`DELIVERY_<NAME>`), else the defaults below."""

from __future__ import annotations

import math
import secrets
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.conf import settings

from core.money import money


def setting(name: str, default):
    return getattr(settings, f"DELIVERY_{name}", default)


# Courier speed door to door in the city (detours, lifts, parking included).
SPEED_M_PER_S = 3.5
# Time at a stop: finding the door, hand-over, inspection by the customer.
SERVICE_BASE_SECONDS = 240
SERVICE_PER_EXTRA_ITEM_SECONDS = 30
# Parcel volume when the goods carry no dimensions.
LITRES_PER_ITEM = 3
# Planner load unit: 100 g (the solver takes integers).
WEIGHT_UNIT_GRAMS = 100
# Soft windows: one second late costs as much as this many metres driven.
LATENESS_PENALTY_M_PER_S = 10
MAX_HANDOVER_ATTEMPTS = 5
MAINTENANCE_WARN_DAYS = 7
MAINTENANCE_WARN_KM = 200
INSURANCE_WARN_DAYS = 14
LICENCE_WARN_DAYS = 30


def dispatch_horizon() -> timedelta:
    """Orders whose window opens later than this are left for a later cycle."""
    return timedelta(hours=setting("DISPATCH_HORIZON_HOURS", 6))


def solver_seconds() -> float:
    """Per-zone solver budget of one dispatch cycle (see bench/dispatch_scale.py)."""
    return float(setting("SOLVER_SECONDS", 2.5))


def replan_keeps_assignments() -> bool:
    """Re-planning keeps assigned (not yet picked-up) stops on their courier
    while the courier may be dispatched: routes change by insertion and
    re-ordering, not by shuffling stops between couriers every cycle
    (a dispatcher moves stops by hand). False lets every re-plan rebalance."""
    return bool(setting("REPLAN_KEEPS_ASSIGNMENTS", True))


def max_stops_per_zone() -> int:
    return int(setting("MAX_STOPS_PER_ZONE", 600))


def stall_hours() -> int:
    return int(setting("SHIPMENT_STALL_HOURS", 48))


# --- vehicles --------------------------------------------------------------------------


def maintenance_due(*, last_on: date, last_km: int, interval_days: int,
                    interval_km: int) -> tuple[date, int]:
    """Next maintenance: whichever comes first, a date or an odometer reading."""
    return last_on + timedelta(days=interval_days), last_km + interval_km


def vehicle_fit_problems(*, today: date, status: str, insurance_expires_on: date,
                         maintenance_due_on: date, maintenance_due_km: int, odometer_km: int,
                         failed_equipment: int) -> list[str]:
    """Why a vehicle may not be dispatched (empty: it may). Mirrors the
    `vehicles_usable` selector, for messages."""
    from delivery.enums import VehicleStatus

    problems = []
    if status != VehicleStatus.ACTIVE:
        problems.append("not_in_service")
    if insurance_expires_on < today:
        problems.append("insurance_expired")
    if maintenance_due_on < today or odometer_km >= maintenance_due_km:
        problems.append("maintenance_overdue")
    if failed_equipment:
        problems.append("equipment_failed")
    return problems


# --- parcels and stops -----------------------------------------------------------------


def parcel_volume_l(items: int) -> int:
    return max(1, items) * LITRES_PER_ITEM


def service_seconds(items: int) -> int:
    return SERVICE_BASE_SECONDS + SERVICE_PER_EXTRA_ITEM_SECONDS * max(0, items - 1)


def load_units(weight_grams: int) -> int:
    """Planner demand: started 100 g, at least 1."""
    return max(1, math.ceil(weight_grams / WEIGHT_UNIT_GRAMS))


def capacity_units(capacity_kg: int) -> int:
    return capacity_kg * 1000 // WEIGHT_UNIT_GRAMS


def promised_window(*, window_start: datetime | None, window_end: datetime | None,
                    created_at: datetime, promise_hours: int
                    ) -> tuple[datetime | None, datetime]:
    """The order's promised window; without one, the priority's promise
    counted from when the order came in."""
    if window_end is not None:
        return window_start, window_end
    return window_start, created_at + timedelta(hours=promise_hours)


# --- express carriers ------------------------------------------------------------------


def carrier_price(*, first_kg: Decimal, extra_kg: Decimal, weight_grams: int) -> Decimal:
    """First kilogram, then each started kilogram (half-up to the fen)."""
    extra = max(0, math.ceil(weight_grams / 1000) - 1)
    return money(first_kg + extra_kg * extra)


@dataclass(frozen=True)
class CarrierRecord:
    shipments: int
    damaged: int
    lost: int
    complaints: int
    late: int

    def rate(self, count: int) -> Decimal:
        if not self.shipments:
            return Decimal("0")
        return (Decimal(count) / Decimal(self.shipments)).quantize(Decimal("0.0001"))

    @property
    def damage_rate(self) -> Decimal:
        return self.rate(self.damaged)

    @property
    def loss_rate(self) -> Decimal:
        return self.rate(self.lost)

    @property
    def complaint_rate(self) -> Decimal:
        return self.rate(self.complaints)

    @property
    def late_rate(self) -> Decimal:
        return self.rate(self.late)


@dataclass(frozen=True)
class CarrierCandidate:
    carrier_id: int
    code: str
    name: str
    price: Decimal
    promise_hours: int
    record: CarrierRecord


@dataclass(frozen=True)
class CarrierOption:
    carrier_id: int
    code: str
    name: str
    price: Decimal
    promise_hours: int
    damage_rate: Decimal
    loss_rate: Decimal
    complaint_rate: Decimal
    late_rate: Decimal
    score: Decimal
    reasons: list[str] = field(default_factory=list)


# Weights of the record in the score: a lost parcel is worse than a late one.
RECORD_WEIGHTS = {"damage": Decimal(3), "loss": Decimal(10), "complaint": Decimal(2),
                  "late": Decimal(1)}


def carrier_rank(candidates: list[CarrierCandidate]) -> list[CarrierOption]:
    """Best first: the price, raised by the carrier's record on our own
    shipments (damage, loss, complaints, lateness), and a little by a longer
    promise. Ties: cheaper, then code."""
    options = []
    for c in candidates:
        record = c.record
        penalty = (RECORD_WEIGHTS["damage"] * record.damage_rate
                   + RECORD_WEIGHTS["loss"] * record.loss_rate
                   + RECORD_WEIGHTS["complaint"] * record.complaint_rate
                   + RECORD_WEIGHTS["late"] * record.late_rate)
        promise = Decimal(c.promise_hours) / Decimal(240)
        score = (c.price * (Decimal(1) + penalty + promise)).quantize(Decimal("0.01"))
        reasons = []
        if record.shipments == 0:
            reasons.append("no_record_yet")
        options.append(CarrierOption(
            carrier_id=c.carrier_id, code=c.code, name=c.name, price=c.price,
            promise_hours=c.promise_hours, damage_rate=record.damage_rate,
            loss_rate=record.loss_rate, complaint_rate=record.complaint_rate,
            late_rate=record.late_rate, score=score, reasons=reasons))
    return sorted(options, key=lambda o: (o.score, o.price, o.code))


def handover_code_new() -> str:
    """The six-digit code the customer tells the courier at the door."""
    return f"{secrets.randbelow(10**6):06d}"
