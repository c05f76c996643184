from rest_framework.permissions import DjangoModelPermissions


class DepartmentModelPermissions(DjangoModelPermissions):
    """Staff API default: model permissions, including `view_` for reads.

    Department groups hold those permissions (core.departments), so a user
    reads and writes exactly what their department owns."""

    perms_map = {
        **DjangoModelPermissions.perms_map,
        "GET": ["%(app_label)s.view_%(model_name)s"],
        "HEAD": ["%(app_label)s.view_%(model_name)s"],
        "OPTIONS": ["%(app_label)s.view_%(model_name)s"],
    }
