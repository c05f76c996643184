"""Staff screens for inventory (store sales owns them; other departments
read them, per core.departments). Stock never changes through a model form:
every change is an action or a small form that calls a service, which
writes the ledger movement, the book and the audit row together."""

from inventory.admin import catalogue, documents, replenishment, stock  # noqa: F401
