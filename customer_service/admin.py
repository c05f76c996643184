from django.contrib import admin
from unfold.admin import ModelAdmin, TabularInline

from customer_service.models import ReturnLine, ReturnRequest


class ReturnLineInline(TabularInline):
    model = ReturnLine
    extra = 0
    readonly_fields = ("order_line", "quantity")
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(ReturnRequest)
class ReturnRequestAdmin(ModelAdmin):
    list_display = ("order", "kind", "status", "within_no_reason_window", "requested_by",
                    "created_at")
    list_filter = ("kind", "status", "within_no_reason_window")
    search_fields = ("order__number", "order__external_id", "reason")
    readonly_fields = ("order", "kind", "status", "reason", "within_no_reason_window",
                       "requested_by", "created_at")
    inlines = [ReturnLineInline]

    def has_add_permission(self, request):
        return False
