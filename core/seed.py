"""Demo staff: one user per department, password `demo-<department>`."""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from core.departments import Department


def seed(*, stdout) -> None:
    User = get_user_model()
    for dept in Department:
        user, created = User.objects.get_or_create(
            username=f"demo_{dept.value}",
            defaults={"is_staff": True, "email": f"{dept.value}@demo.rongtong.local"},
        )
        if created:
            user.set_password(f"demo-{dept.value}")
            user.save(update_fields=["password"])
        user.groups.add(Group.objects.get(name=dept.value))
    stdout.write(f"  {len(Department)} department demo users (password demo-<department>)")
