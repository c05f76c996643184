"""Dispatch: plan a zone's routes with the route planner and write the plan
(`zone.dispatch_zone`), fan the zones out to Celery (`cycle`), and the
dispatcher's manual moves (`moves.delivery_move`)."""
