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


# --- follow-up tickets -----------------------------------------------------------------

from django.contrib import messages  # noqa: E402
from django.utils.translation import gettext  # noqa: E402
from django.utils.translation import gettext_lazy as _  # noqa: E402
from unfold.decorators import action  # noqa: E402

from core.errors import DomainError  # noqa: E402
from customer_service.models import Ticket, TicketEvent  # noqa: E402
from customer_service.services import ticket_transition  # noqa: E402


class TicketEventInline(TabularInline):
    model = TicketEvent
    extra = 0
    can_delete = False
    fields = ("created_at", "from_status", "to_status", "actor_label", "note")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Ticket)
class TicketAdmin(ModelAdmin):
    list_display = ("pk", "kind", "status", "subject", "order", "opened_by", "created_at")
    list_filter = ("kind", "status")
    search_fields = ("subject", "order__number", "source_key")
    list_select_related = ("order",)
    readonly_fields = ("kind", "status", "order", "subject", "description", "source_key",
                       "opened_by", "created_at", "resolved_at")
    inlines = [TicketEventInline]
    actions = ["start_selected", "resolve_selected", "close_selected"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_act_permission(self, request, obj=None):
        return request.user.has_perm("customer_service.change_ticket")

    def _move(self, request, queryset, to_status):
        done = 0
        for ticket in queryset.order_by("pk"):
            try:
                ticket_transition(ticket=ticket, to_status=to_status, actor=request.user)
            except DomainError as exc:
                self.message_user(request, f"#{ticket.pk}: {exc.message}", messages.ERROR)
            else:
                done += 1
        if done:
            self.message_user(request, gettext("Tickets updated: %(n)d.") % {"n": done},
                              messages.SUCCESS)

    @action(description=_("Start working on the selected tickets"), permissions=["act"])
    def start_selected(self, request, queryset):
        self._move(request, queryset, Ticket.Status.IN_PROGRESS)

    @action(description=_("Mark the selected tickets resolved"), permissions=["act"])
    def resolve_selected(self, request, queryset):
        self._move(request, queryset, Ticket.Status.RESOLVED)

    @action(description=_("Close the selected tickets"), permissions=["act"])
    def close_selected(self, request, queryset):
        self._move(request, queryset, Ticket.Status.CLOSED)
