from django import forms
from django.contrib import messages
from django.http import HttpResponse
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from import_export.formats import base_formats
from unfold.forms import BaseDialogForm
from unfold.widgets import UnfoldAdminTextInputWidget

from core.errors import DomainError

IMPORT_FORMATS = [base_formats.CSV, base_formats.XLSX]


class ReadOnlyAdminMixin:
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReasonForm(BaseDialogForm):
    reason = forms.CharField(label=_("Reason"), max_length=255, required=False,
                             widget=UnfoldAdminTextInputWidget)


def dialog(title, description):
    return {"title": title, "description": description, "form_class": ReasonForm,
            "form_submit_text": _("Confirm")}


def run_each(model_admin, request, objects, call, done_message, label=str) -> int:
    """Call a service for each object; report what it refused, and how many it did."""
    done = 0
    for obj in objects:
        try:
            call(obj)
        except DomainError as exc:
            model_admin.message_user(request, f"{label(obj)}: {exc.message}", messages.ERROR)
        else:
            done += 1
    if done:
        model_admin.message_user(request, done_message % {"n": done}, messages.SUCCESS)
    return done


def htmx_redirect(viewname: str, *args) -> HttpResponse:
    return HttpResponse(headers={"HX-Redirect": reverse(viewname, args=args)})
