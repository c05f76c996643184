"""Departments (SPEC §0; 001 第五章, 第七章) are permission groups.

A department gets every permission on the apps it owns and view permission on
the apps it needs to read. Management and the supervision group read
everything; management also approves (approval permissions are granted by the
apps that define them). Groups are created by a migration; their permissions
are (re)synchronised after every migrate, because permissions only exist once
each app has migrated."""

from django.db import models
from django.utils.translation import pgettext_lazy


class Department(models.TextChoices):
    MARKETING = "marketing", pgettext_lazy("department", "Marketing")
    ECOMMERCE = "ecommerce", pgettext_lazy("department", "E-commerce")
    STORE_SALES = "store_sales", pgettext_lazy("department", "Store sales")
    DELIVERY = "delivery", pgettext_lazy("department", "Delivery")
    CUSTOMER_SERVICE = "customer_service", pgettext_lazy("department", "Customer service")
    TECH_SUPPORT = "tech_support", pgettext_lazy("department", "Technical support")
    FINANCE = "finance", pgettext_lazy("department", "Finance")
    MANAGEMENT = "management", pgettext_lazy("department", "Management")
    SUPERVISION = "supervision", pgettext_lazy("department", "Supervision group")


DOMAIN_APPS = ["sales", "inventory", "marketing", "delivery", "customer_service", "finance", "risk"]

# department -> (apps with full rights, apps it may read)
OWNERSHIP: dict[str, tuple[list[str], list[str]]] = {
    Department.MARKETING: (["marketing"], ["sales", "inventory", "customer_service"]),
    Department.ECOMMERCE: (["sales"], ["inventory", "marketing", "delivery", "customer_service"]),
    Department.STORE_SALES: (["sales", "inventory"], ["marketing", "customer_service"]),
    Department.DELIVERY: (["delivery"], ["sales", "inventory"]),
    Department.CUSTOMER_SERVICE: (["customer_service"], ["sales", "delivery", "inventory"]),
    Department.TECH_SUPPORT: (["core", "django_celery_beat", "axes"], []),
    Department.FINANCE: (["finance"], ["sales", "marketing", "delivery"]),
    Department.MANAGEMENT: ([], [*DOMAIN_APPS, "core"]),
    Department.SUPERVISION: ([], [*DOMAIN_APPS, "core"]),
}

# Department dashboards each department may open besides its own.
READS_ALL_DASHBOARDS = {Department.MANAGEMENT, Department.SUPERVISION}


def user_departments(user) -> set[str]:
    if not user.is_authenticated:
        return set()
    if user.is_superuser:
        return {d.value for d in Department}
    cached = getattr(user, "_department_codes", None)
    if cached is None:
        valid = {d.value for d in Department}
        cached = {name for name in user.groups.values_list("name", flat=True) if name in valid}
        user._department_codes = cached
    return cached


def user_can_open_dashboard(user, department: str) -> bool:
    mine = user_departments(user)
    return department in mine or bool(mine & READS_ALL_DASHBOARDS)


def department_permissions_sync(sender, using="default", **kwargs) -> None:
    """post_migrate: grant each department the permissions of `sender`'s app."""
    from django.contrib.auth.models import Group, Permission

    label = sender.label
    perms = list(
        Permission.objects.using(using).filter(content_type__app_label=label)
    )
    if not perms:
        return
    for code, (full, read) in OWNERSHIP.items():
        if label in full:
            wanted = perms
        elif label in read:
            wanted = [p for p in perms if p.codename.startswith("view_")]
        else:
            continue
        group, _created = Group.objects.using(using).get_or_create(name=code)
        group.permissions.add(*wanted)
