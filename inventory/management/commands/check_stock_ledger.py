from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from inventory.selectors import stock_in_transit_mismatch, stock_ledger_drift

HELD = ("in_transit", "returned", "quarantine")


def _pair(values: dict | None) -> tuple[int, int]:
    values = values or {}
    return values.get("on_hand", 0), values.get("reserved", 0)


def _held(values: dict | None) -> tuple[int, int, int]:
    values = values or {}
    return tuple(values.get(state, 0) for state in HELD)


class Command(BaseCommand):
    help = _("Recompute every stock balance (on hand, reserved, in transit, returned, "
             "quarantine) from the ledger and report drift; check in-transit stock against "
             "the transfers on the road.")

    def handle(self, *args, **options):
        drift = stock_ledger_drift()
        for row in drift:
            line = _("SKU %(sku)s at location %(location)s: book %(book)s, ledger %(ledger)s") % {
                "sku": row["sku_id"], "location": row["location_id"],
                "book": _pair(row["book"]), "ledger": _pair(row["ledger"])}
            if _held(row["book"]) != _held(row["ledger"]):
                line += " — " + _("in transit/returned/quarantine: book %(book)s, ledger "
                                  "%(ledger)s") % {"book": _held(row["book"]),
                                                   "ledger": _held(row["ledger"])}
            self.stdout.write(line)
        transit = stock_in_transit_mismatch()
        for row in transit:
            self.stdout.write(_("SKU %(sku)s at location %(location)s: in transit %(book)d, "
                                "but transfers on the road carry %(transfers)d") % {
                "sku": row["sku_id"], "location": row["location_id"], "book": row["book"],
                "transfers": row["transfers"]})
        if drift or transit:
            raise CommandError(_("%(n)d stock balances disagree with the ledger; "
                                 "%(t)d in-transit balances disagree with the transfers.")
                               % {"n": len(drift), "t": len(transit)})
        self.stdout.write(self.style.SUCCESS(_("Book and ledger agree.")))
