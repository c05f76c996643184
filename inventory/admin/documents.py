"""Transfer orders, stocktakes and purchase requests: drafted in forms,
moved on by actions that call the services."""

import tablib
from django import forms
from django.contrib import admin, messages
from django.core import signing
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q, Sum
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from unfold.admin import ModelAdmin, TabularInline
from unfold.decorators import action, display
from unfold.widgets import UnfoldAdminFileFieldWidget

from core.errors import DomainError
from inventory.admin.base import dialog, htmx_redirect, run_each
from inventory.enums import PurchaseStatus, StocktakeStatus, TransferStatus
from inventory.imports import StrictIntegerWidget
from inventory.models import (
    PurchaseRequest,
    PurchaseRequestLine,
    Stocktake,
    StocktakeLine,
    TransferLine,
    TransferOrder,
)
from inventory.replenishment import (
    purchase_request_cancel,
    purchase_request_order,
    purchase_request_receive,
)
from inventory.services import MAX_UNITS
from inventory.stocktake import (
    stocktake_approve,
    stocktake_cancel,
    stocktake_counts_record,
    stocktake_reopen,
    stocktake_start,
    stocktake_submit,
    stocktake_variances,
)
from inventory.transfers import (
    document_number,
    transfer_cancel,
    transfer_draft_saved,
    transfer_receive,
    transfer_send,
)

STATUS_COLOURS = {
    TransferStatus.DRAFT: "info", TransferStatus.SENT: "warning",
    TransferStatus.RECEIVED: "success", TransferStatus.CANCELLED: "danger",
    StocktakeStatus.COUNTING: "info", StocktakeStatus.SUBMITTED: "warning",
    StocktakeStatus.POSTED: "success",
    PurchaseStatus.REQUESTED: "info", PurchaseStatus.ORDERED: "warning",
}


class DocumentAdmin(ModelAdmin):
    """Shared by the three documents: a status label, no deletion, actions
    that report the services' refusals instead of failing."""


    def has_delete_permission(self, request, obj=None):
        return False

    def has_act_permission(self, request, obj=None):
        return request.user.has_perm(f"inventory.change_{self.opts.model_name}")

    @display(description=_("status"), ordering="status", label=STATUS_COLOURS)
    def status_label(self, obj):
        return obj.status, obj.get_status_display()

    def _detail(self, request, object_id, call, done_message):
        obj = self.get_object(request, object_id)
        if obj is not None:
            run_each(self, request, [obj], call, done_message, label=lambda o: o.number)
        return htmx_redirect(f"admin:inventory_{self.opts.model_name}_change", object_id)


# --- transfer orders ------------------------------------------------------------------------

class ReceivedQuantityForm(forms.ModelForm):
    """A received quantity noted before receipt cannot exceed what was sent."""

    def clean(self):
        cleaned = super().clean()
        received = cleaned.get("received_quantity")
        quantity = cleaned.get("quantity", self.instance.quantity)
        if received is not None and quantity is not None and received > quantity:
            self.add_error("received_quantity",
                           gettext("Cannot exceed the quantity (%(n)d).") % {"n": quantity})
        return cleaned


class ReceivingLineInline(TabularInline):
    """Lines of a document that is drafted, then sent/ordered, then received:
    SKU and quantity are editable while drafting, the received quantity only
    while the goods are on their way."""

    form = ReceivedQuantityForm
    fields = ("sku", "quantity", "received_quantity")
    autocomplete_fields = ("sku",)
    drafting_status: str
    receiving_status: str

    def _status(self, obj):
        return obj.status if obj is not None else self.drafting_status

    def get_readonly_fields(self, request, obj=None):
        status = self._status(obj)
        if status == self.drafting_status:
            return ("received_quantity",)
        if status == self.receiving_status:
            return ("sku", "quantity")
        return ("sku", "quantity", "received_quantity")

    def has_add_permission(self, request, obj=None):
        return self._status(obj) == self.drafting_status and super().has_add_permission(
            request, obj)

    def has_delete_permission(self, request, obj=None):
        return self._status(obj) == self.drafting_status and super().has_delete_permission(
            request, obj)


class TransferLineInline(ReceivingLineInline):
    model = TransferLine
    extra = 1
    drafting_status = TransferStatus.DRAFT
    receiving_status = TransferStatus.SENT

    def has_change_permission(self, request, obj=None):
        return self._status(obj) in (TransferStatus.DRAFT, TransferStatus.SENT) and \
            super().has_change_permission(request, obj)

    def get_extra(self, request, obj=None, **kwargs):
        return 1 if self._status(obj) == TransferStatus.DRAFT else 0


class TransferOrderForm(forms.ModelForm):
    class Meta:
        model = TransferOrder
        fields = ("source", "destination", "reason")

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("source") and cleaned.get("source") == cleaned.get("destination"):
            self.add_error("destination", gettext("Source and destination must differ."))
        return cleaned


@admin.register(TransferOrder)
class TransferOrderAdmin(DocumentAdmin):
    form = TransferOrderForm
    list_display = ("number", "source", "destination", "status_label", "line_count",
                    "created_at", "sent_at", "received_at")
    list_filter = ("status", "source", "destination")
    search_fields = ("number", "lines__sku__code")
    list_select_related = ("source", "destination")
    inlines = [TransferLineInline]
    actions = ["send_selected", "receive_selected", "cancel_selected"]
    actions_detail = ["send_transfer", "receive_transfer", "cancel_transfer"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(line_count=Count("lines"))

    @display(description=_("lines"), ordering="line_count")
    def line_count(self, obj):
        return obj.line_count

    def get_readonly_fields(self, request, obj=None):
        base = ("number", "status", "created_by", "created_at", "sent_at", "received_at")
        if obj is not None and obj.status != TransferStatus.DRAFT:
            return ("source", "destination", "reason", *base)
        return base

    def save_model(self, request, obj, form, change):
        if obj.pk is None:
            obj.number = document_number("TO")
            obj.created_by = request.user
        if obj.pk is None or obj.status == TransferStatus.DRAFT:
            super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        transfer_draft_saved(transfer=form.instance, actor=request.user, created=not change)

    @action(description=_("Send the selected transfers (stock leaves the source)"),
            permissions=["act"])
    def send_selected(self, request, queryset):
        run_each(self, request, queryset.order_by("pk"),
                 lambda t: transfer_send(transfer=t, actor=request.user),
                 gettext("Transfers sent: %(n)d."), label=lambda t: t.number)

    @action(description=_("Receive the selected transfers in full (or as entered)"),
            permissions=["act"])
    def receive_selected(self, request, queryset):
        run_each(self, request, queryset.order_by("pk"),
                 lambda t: transfer_receive(transfer=t, actor=request.user),
                 gettext("Transfers received: %(n)d."), label=lambda t: t.number)

    @action(description=_("Cancel the selected draft transfers"), permissions=["act"])
    def cancel_selected(self, request, queryset):
        run_each(self, request, queryset.order_by("pk"),
                 lambda t: transfer_cancel(transfer=t, actor=request.user),
                 gettext("Transfers cancelled: %(n)d."), label=lambda t: t.number)

    @action(description=_("Send"), url_path="send", permissions=["act"],
            dialog=dialog(_("Send this transfer?"),
                          _("The stock leaves the source and is in transit until received.")))
    def send_transfer(self, request, form, object_id):
        return self._detail(request, object_id,
                            lambda t: transfer_send(transfer=t, actor=request.user),
                            gettext("Transfers sent: %(n)d."))

    @action(description=_("Receive"), url_path="receive", permissions=["act"],
            dialog=dialog(_("Receive this transfer?"),
                          _("Lines are received as entered (in full where left empty). "
                            "Give a reason if less arrived.")))
    def receive_transfer(self, request, form, object_id):
        reason = form.cleaned_data["reason"]
        return self._detail(request, object_id,
                            lambda t: transfer_receive(transfer=t, actor=request.user,
                                                       reason=reason),
                            gettext("Transfers received: %(n)d."))

    @action(description=_("Cancel"), url_path="cancel", permissions=["act"],
            dialog=dialog(_("Cancel this draft transfer?"), _("No stock has moved yet.")))
    def cancel_transfer(self, request, form, object_id):
        reason = form.cleaned_data["reason"]
        return self._detail(request, object_id,
                            lambda t: transfer_cancel(transfer=t, actor=request.user,
                                                      reason=reason),
                            gettext("Transfers cancelled: %(n)d."))


# --- stocktakes --------------------------------------------------------------------------------

class StocktakeLineInline(TabularInline):
    model = StocktakeLine
    extra = 0
    per_page = 50
    fields = ("sku", "book_quantity", "counted_quantity", "variance_units", "posted_delta")
    readonly_fields = ("sku", "book_quantity", "variance_units", "posted_delta")
    can_delete = False
    verbose_name_plural = _("count sheet")

    def has_add_permission(self, request, obj=None):
        return False

    def get_readonly_fields(self, request, obj=None):
        if obj is None or obj.status != StocktakeStatus.COUNTING:
            return (*self.readonly_fields, "counted_quantity")
        return self.readonly_fields

    @display(description=_("variance"))
    def variance_units(self, obj):
        return "" if obj.variance is None else f"{obj.variance:+d}"


class StocktakeStartForm(forms.ModelForm):
    class Meta:
        model = Stocktake
        fields = ("location", "category", "note")


class CountsImportForm(forms.Form):
    file = forms.FileField(label=_("Counts file (CSV or XLSX: sku, counted)"),
                           widget=UnfoldAdminFileFieldWidget)


def parse_counts(upload, stocktake: Stocktake) -> tuple[dict[int, int], list[dict]]:
    """Read `sku,counted` rows. Returns (SKU id → count, rows with errors)."""
    name = (upload.name or "").lower()
    raw = upload.read()
    try:
        if name.endswith(".xlsx"):
            dataset = tablib.Dataset().load(raw, format="xlsx")
        else:
            dataset = tablib.Dataset().load(raw.decode("utf-8-sig"), format="csv")
    except Exception as exc:  # noqa: BLE001 - any unreadable file is one form error
        raise forms.ValidationError(gettext("The file could not be read as CSV or XLSX."),
                                    code="unreadable") from exc
    headers = [str(h or "").strip().lower() for h in (dataset.headers or [])]
    if "sku" not in headers or "counted" not in headers:
        raise forms.ValidationError(gettext("The file needs the columns sku and counted."),
                                    code="columns")
    on_sheet = dict(stocktake.lines.values_list("sku__code", "sku_id"))
    counts: dict[int, int] = {}
    rows = []
    for number, values in enumerate(dataset, start=2):
        row = dict(zip(headers, values, strict=False))
        code = str(row.get("sku") or "").strip()
        text = str(row.get("counted") if row.get("counted") is not None else "").strip()
        errors = []
        if code not in on_sheet:
            errors.append(gettext("Not on this count sheet."))
        try:
            count = StrictIntegerWidget().clean(text)
            if count is None or not 0 <= count <= MAX_UNITS:
                raise ValueError
        except ValueError:
            errors.append(gettext("Enter a whole number, zero or more."))
            count = None
        if code in on_sheet and on_sheet[code] in counts:
            errors.append(gettext("This SKU appears twice in the file."))
        if not errors:
            counts[on_sheet[code]] = count
        rows.append({"number": number, "sku": code, "counted": text, "errors": errors})
    return counts, rows


@admin.register(Stocktake)
class StocktakeAdmin(DocumentAdmin):
    list_display = ("number", "location", "category", "status_label", "line_count",
                    "counted_count", "frozen_at", "posted_at")
    list_filter = ("status", "location")
    search_fields = ("number",)
    list_select_related = ("location", "category")
    inlines = [StocktakeLineInline]
    change_form_before_template = "inventory/admin/stocktake_links.html"
    actions_detail = ["submit_stocktake", "reopen_stocktake", "approve_stocktake",
                      "cancel_stocktake"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(
            line_count=Count("lines"),
            counted_count=Count("lines", filter=Q(lines__counted_quantity__isnull=False)))

    @display(description=_("lines"), ordering="line_count")
    def line_count(self, obj):
        return obj.line_count

    @display(description=_("counted"), ordering="counted_count")
    def counted_count(self, obj):
        return obj.counted_count

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = StocktakeStartForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("location", "category", "note")
        return ("number", "location", "category", "status", "note", "frozen_at",
                "created_by", "submitted_at", "posted_at", "posted_by")

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else self.get_fields(request, obj)

    def get_inlines(self, request, obj):
        return [] if obj is None else self.inlines

    def save_model(self, request, obj, form, change):
        if not change:
            started = stocktake_start(location=obj.location, category=obj.category,
                                      note=obj.note, actor=request.user)
            obj.__dict__.update({k: v for k, v in started.__dict__.items()
                                 if not k.startswith("_")})
            self.message_user(request, gettext("Book frozen for %(n)d SKUs. Enter or import "
                                               "the counts.") % {"n": started.lines.count()},
                              messages.SUCCESS)

    def save_formset(self, request, form, formset, change):
        if formset.model is not StocktakeLine:
            return super().save_formset(request, form, formset, change)
        counts = {f.instance.sku_id: f.cleaned_data["counted_quantity"]
                  for f in formset.forms
                  if f.has_changed() and f.cleaned_data.get("counted_quantity") is not None}
        if counts:
            try:
                stocktake_counts_record(stocktake=form.instance, counts=counts,
                                        actor=request.user, source="admin")
            except DomainError as exc:
                self.message_user(request, exc.message, messages.ERROR)

    def get_urls(self):
        return [
            path("<int:pk>/variances/", self.admin_site.admin_view(self.variances_view),
                 name="inventory_stocktake_variances"),
            path("<int:pk>/import-counts/", self.admin_site.admin_view(self.import_counts_view),
                 name="inventory_stocktake_import_counts"),
            *super().get_urls(),
        ]

    def variances_view(self, request, pk):
        if not self.has_view_permission(request):
            raise PermissionDenied
        stocktake = get_object_or_404(Stocktake.objects.select_related("location"), pk=pk)
        lines = list(stocktake_variances(stocktake))
        totals = stocktake.lines.aggregate(
            lines=Count("pk"), counted=Count("pk", filter=Q(counted_quantity__isnull=False)),
            book=Sum("book_quantity"), counted_units=Sum("counted_quantity"))
        context = {**self.admin_site.each_context(request), "opts": self.opts,
                   "title": gettext("Variances"), "subtitle": stocktake.number,
                   "stocktake": stocktake, "lines": lines, "totals": totals,
                   "loss_value": sum((line.variance_value for line in lines
                                      if line.variance_value < 0), 0),
                   "gain_value": sum((line.variance_value for line in lines
                                      if line.variance_value > 0), 0)}
        return TemplateResponse(request, "inventory/admin/stocktake_variances.html", context)

    def import_counts_view(self, request, pk):
        """Upload counts; preview them with row errors; apply only a clean file."""
        stocktake = get_object_or_404(Stocktake, pk=pk)
        if not self.has_act_permission(request):
            raise PermissionDenied
        signer = signing.Signer(salt=f"stocktake-counts-{stocktake.pk}")
        form = CountsImportForm()
        rows, status, token = [], 200, None
        if request.method == "POST" and "apply" in request.POST:
            try:
                counts = {int(k): v for k, v in signing.loads(
                    signer.unsign(request.POST["apply"]), salt="counts").items()}
                result = stocktake_counts_record(stocktake=stocktake, counts=counts,
                                                 actor=request.user, source="import")
            except (signing.BadSignature, KeyError, ValueError):
                self.message_user(request, gettext("The preview has expired; upload the file "
                                                   "again."), messages.ERROR)
            except DomainError as exc:
                self.message_user(request, exc.message, messages.ERROR)
            else:
                self.message_user(request, gettext("Counts recorded: %(n)d.")
                                  % {"n": result.recorded}, messages.SUCCESS)
                return redirect("admin:inventory_stocktake_change", stocktake.pk)
        elif request.method == "POST":
            form = CountsImportForm(request.POST, request.FILES)
            status = 400
            if form.is_valid():
                try:
                    counts, rows = parse_counts(form.cleaned_data["file"], stocktake)
                except forms.ValidationError as exc:
                    form.add_error("file", exc)
                else:
                    status = 200 if rows and not any(r["errors"] for r in rows) else 400
                    if status == 200:
                        token = signer.sign(signing.dumps(
                            {str(k): v for k, v in counts.items()}, salt="counts"))
        context = {**self.admin_site.each_context(request), "opts": self.opts,
                   "title": gettext("Import counts"), "subtitle": stocktake.number,
                   "stocktake": stocktake, "form": form, "rows": rows,
                   "token": token,
                   "error_rows": sum(1 for r in rows if r["errors"])}
        return TemplateResponse(request, "inventory/admin/stocktake_import.html", context,
                                status=status)

    def has_approve_permission(self, request, obj=None):
        return request.user.has_perm("inventory.approve_stocktake")

    @action(description=_("Submit for approval"), url_path="submit", permissions=["act"],
            dialog=dialog(_("Submit this count?"), _("Every line must have a count.")))
    def submit_stocktake(self, request, form, object_id):
        return self._detail(request, object_id,
                            lambda s: stocktake_submit(stocktake=s, actor=request.user),
                            gettext("Stocktakes submitted: %(n)d."))

    @action(description=_("Reopen for counting"), url_path="reopen", permissions=["act"],
            dialog=dialog(_("Reopen this count?"), _("Counts can be changed again.")))
    def reopen_stocktake(self, request, form, object_id):
        reason = form.cleaned_data["reason"]
        return self._detail(request, object_id,
                            lambda s: stocktake_reopen(stocktake=s, actor=request.user,
                                                       reason=reason),
                            gettext("Stocktakes reopened: %(n)d."))

    @action(description=_("Approve and post"), url_path="approve", permissions=["approve"],
            dialog=dialog(_("Approve this count and post the adjustments?"),
                          _("Each variance against the frozen book becomes a stock "
                            "adjustment. The count is then locked.")))
    def approve_stocktake(self, request, form, object_id):
        reason = form.cleaned_data["reason"]
        return self._detail(request, object_id,
                            lambda s: stocktake_approve(stocktake=s, actor=request.user,
                                                        reason=reason),
                            gettext("Stocktakes posted: %(n)d."))

    @action(description=_("Cancel"), url_path="cancel", permissions=["act"],
            dialog=dialog(_("Cancel this count?"), _("No stock changes.")))
    def cancel_stocktake(self, request, form, object_id):
        reason = form.cleaned_data["reason"]
        return self._detail(request, object_id,
                            lambda s: stocktake_cancel(stocktake=s, actor=request.user,
                                                       reason=reason),
                            gettext("Stocktakes cancelled: %(n)d."))


# --- purchase requests -------------------------------------------------------------------------

class PurchaseRequestLineInline(ReceivingLineInline):
    model = PurchaseRequestLine
    extra = 0
    drafting_status = PurchaseStatus.REQUESTED
    receiving_status = PurchaseStatus.ORDERED

    def has_change_permission(self, request, obj=None):
        return self._status(obj) in (PurchaseStatus.REQUESTED, PurchaseStatus.ORDERED) and \
            super().has_change_permission(request, obj)


@admin.register(PurchaseRequest)
class PurchaseRequestAdmin(DocumentAdmin):
    list_display = ("number", "location", "status_label", "line_count", "created_at",
                    "ordered_at", "received_at")
    list_filter = ("status", "location")
    search_fields = ("number", "lines__sku__code")
    list_select_related = ("location",)
    inlines = [PurchaseRequestLineInline]
    actions = ["order_selected", "receive_selected", "cancel_selected"]
    fields = ("number", "location", "status", "note", "created_by", "created_at",
              "ordered_at", "received_at")

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(line_count=Count("lines"))

    @display(description=_("lines"), ordering="line_count")
    def line_count(self, obj):
        return obj.line_count

    def get_readonly_fields(self, request, obj=None):
        base = ("number", "status", "created_by", "created_at", "ordered_at", "received_at")
        if obj is not None and obj.status != PurchaseStatus.REQUESTED:
            return ("location", "note", *base)
        return base

    def save_model(self, request, obj, form, change):
        if obj.pk is None:
            obj.number = document_number("PR")
            obj.created_by = request.user
        if obj.pk is None or obj.status == PurchaseStatus.REQUESTED:
            super().save_model(request, obj, form, change)

    @action(description=_("Mark the selected requests as ordered"), permissions=["act"])
    def order_selected(self, request, queryset):
        run_each(self, request, queryset.order_by("pk"),
                 lambda r: purchase_request_order(request=r, actor=request.user),
                 gettext("Purchase requests ordered: %(n)d."), label=lambda r: r.number)

    @action(description=_("Receive the selected requests (as entered, in full where empty)"),
            permissions=["act"])
    def receive_selected(self, request, queryset):
        run_each(self, request, queryset.order_by("pk"),
                 lambda r: purchase_request_receive(request=r, actor=request.user),
                 gettext("Purchase requests received: %(n)d."), label=lambda r: r.number)

    @action(description=_("Cancel the selected requests"), permissions=["act"])
    def cancel_selected(self, request, queryset):
        run_each(self, request, queryset.order_by("pk"),
                 lambda r: purchase_request_cancel(request=r, actor=request.user),
                 gettext("Purchase requests cancelled: %(n)d."), label=lambda r: r.number)

