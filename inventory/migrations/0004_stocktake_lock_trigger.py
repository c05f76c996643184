"""A posted (or cancelled) stocktake is locked in the database too: on
PostgreSQL a trigger refuses any change to its lines, and any change to a
posted stocktake itself. (SQLite, for the quick start only, relies on the
services.)"""

from django.db import migrations

FORWARD = [
"""
CREATE OR REPLACE FUNCTION inventory_stocktake_line_locked() RETURNS trigger AS $$
DECLARE
    sheet_status text;
BEGIN
    SELECT status INTO sheet_status FROM inventory_stocktake
     WHERE id = COALESCE(NEW.stocktake_id, OLD.stocktake_id);
    IF sheet_status IN ('posted', 'cancelled') THEN
        RAISE EXCEPTION 'stocktake % is % and locked',
            COALESCE(NEW.stocktake_id, OLD.stocktake_id), sheet_status
            USING ERRCODE = 'check_violation';
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END
$$ LANGUAGE plpgsql
""",
"""
CREATE TRIGGER stocktake_line_locked
    BEFORE INSERT OR UPDATE OR DELETE ON inventory_stocktakeline
    FOR EACH ROW EXECUTE FUNCTION inventory_stocktake_line_locked()
""",
"""
CREATE OR REPLACE FUNCTION inventory_stocktake_posted_locked() RETURNS trigger AS $$
BEGIN
    IF OLD.status = 'posted' THEN
        RAISE EXCEPTION 'stocktake % is posted and locked', OLD.id
            USING ERRCODE = 'check_violation';
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END
$$ LANGUAGE plpgsql
""",
"""
CREATE TRIGGER stocktake_posted_locked
    BEFORE UPDATE OR DELETE ON inventory_stocktake
    FOR EACH ROW EXECUTE FUNCTION inventory_stocktake_posted_locked()
""",
]

BACKWARD = [
    "DROP TRIGGER IF EXISTS stocktake_line_locked ON inventory_stocktakeline",
    "DROP FUNCTION IF EXISTS inventory_stocktake_line_locked()",
    "DROP TRIGGER IF EXISTS stocktake_posted_locked ON inventory_stocktake",
    "DROP FUNCTION IF EXISTS inventory_stocktake_posted_locked()",
]


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for statement in FORWARD:
            schema_editor.execute(statement, params=None)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for statement in BACKWARD:
            schema_editor.execute(statement, params=None)


class Migration(migrations.Migration):

    dependencies = [("inventory", "0003_inventory_operations")]

    operations = [migrations.RunPython(forward, backward)]
