"""Route planning for delivery dispatch (pure Python, importable without Django)."""

from delivery.routing.planner import Depot, Plan, SolverParams, Stop, Vehicle, plan_routes

__all__ = ["Depot", "Plan", "SolverParams", "Stop", "Vehicle", "plan_routes"]
