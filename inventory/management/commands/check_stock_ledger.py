from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from inventory.selectors import stock_ledger_drift


class Command(BaseCommand):
    help = _("Recompute every stock balance from the ledger and report drift.")

    def handle(self, *args, **options):
        drift = stock_ledger_drift()
        for row in drift:
            self.stdout.write(_("SKU %(sku)s at location %(location)s: book %(book)s, "
                                "ledger %(ledger)s") % {
                "sku": row["sku_id"], "location": row["location_id"],
                "book": row["book"], "ledger": row["ledger"]})
        if drift:
            raise CommandError(_("%(n)d stock balances disagree with the ledger.")
                               % {"n": len(drift)})
        self.stdout.write(self.style.SUCCESS(_("Book and ledger agree.")))
