from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _

# Management approves (SPEC §0; core.departments): it gets these besides
# reading inventory. Store sales, which owns inventory, has them already.
APPROVAL_PERMISSIONS = ["approve_stocktake", "approve_replenishment"]


def approval_permissions_sync(sender, using="default", **kwargs) -> None:
    """post_migrate: management may approve stocktakes and replenishment."""
    if sender.label != "inventory":
        return
    from django.contrib.auth.models import Group, Permission

    from core.departments import Department

    perms = Permission.objects.using(using).filter(content_type__app_label="inventory",
                                                   codename__in=APPROVAL_PERMISSIONS)
    group, _created = Group.objects.using(using).get_or_create(name=Department.MANAGEMENT)
    group.permissions.add(*perms)


class InventoryConfig(AppConfig):
    name = "inventory"
    verbose_name = _("Inventory")

    def ready(self) -> None:
        # Registers the store-sales department dashboard (core.views.DASHBOARDS).
        from inventory import views  # noqa: F401

        post_migrate.connect(approval_permissions_sync, sender=self,
                             dispatch_uid="inventory.approvals")
