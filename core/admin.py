from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin as BaseGroupAdmin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.models import Group, User
from django_celery_beat import admin as beat_admin
from django_celery_beat import models as beat_models
from unfold.admin import ModelAdmin
from unfold.forms import AdminPasswordChangeForm, UserChangeForm, UserCreationForm

from core.models import AuditEvent, JobRun

# Re-register auth and beat screens with the theme's styling.
admin.site.unregister(User)
admin.site.unregister(Group)


@admin.register(User)
class UserAdmin(BaseUserAdmin, ModelAdmin):
    form = UserChangeForm
    add_form = UserCreationForm
    change_password_form = AdminPasswordChangeForm
    list_filter = ("is_staff", "is_superuser", "is_active", "groups")


@admin.register(Group)
class GroupAdmin(BaseGroupAdmin, ModelAdmin):
    pass


for model in (beat_models.PeriodicTask, beat_models.IntervalSchedule,
              beat_models.CrontabSchedule, beat_models.SolarSchedule,
              beat_models.ClockedSchedule):
    admin.site.unregister(model)


@admin.register(beat_models.PeriodicTask)
class PeriodicTaskAdmin(beat_admin.PeriodicTaskAdmin, ModelAdmin):
    pass


@admin.register(beat_models.CrontabSchedule)
class CrontabScheduleAdmin(beat_admin.CrontabScheduleAdmin, ModelAdmin):
    pass


@admin.register(beat_models.IntervalSchedule)
class IntervalScheduleAdmin(ModelAdmin):
    pass


@admin.register(JobRun)
class JobRunAdmin(ModelAdmin):
    list_display = ("name", "trigger", "status", "started_at", "finished_at",
                    "duration_seconds", "counts")
    list_filter = ("status", "trigger", "name")
    search_fields = ("name", "error")
    readonly_fields = [f.name for f in JobRun._meta.fields]
    date_hierarchy = "started_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(AuditEvent)
class AuditEventAdmin(ModelAdmin):
    list_display = ("created_at", "actor", "actor_label", "action", "target_type", "target_id",
                    "reason")
    list_filter = ("action", "target_type")
    search_fields = ("target_id", "actor_label", "reason")
    readonly_fields = [f.name for f in AuditEvent._meta.fields]
    date_hierarchy = "created_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


