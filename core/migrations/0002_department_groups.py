from django.db import migrations

DEPARTMENTS = [
    "marketing", "ecommerce", "store_sales", "delivery", "customer_service",
    "tech_support", "finance", "management", "supervision",
]


def create_groups(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for name in DEPARTMENTS:
        Group.objects.get_or_create(name=name)


def remove_groups(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=DEPARTMENTS).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [migrations.RunPython(create_groups, remove_groups)]
