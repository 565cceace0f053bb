"""Forms of the amendment pages: the amendment itself, a milestone or indicator change, a return reason."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from contracts.models import Contract, Frequency

DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class AmendmentForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason for the amendment"),
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=4000,
        help_text=_("Why the contract must change: both parties sign this text, and auditors read it."),
    )
    new_value = forms.DecimalField(
        label=_("New contract value"),
        required=False,
        max_digits=18,
        decimal_places=2,
        min_value=0,
        help_text=_("Leave empty to keep the current value."),
    )
    new_end_date = forms.DateField(
        label=_("New end date"),
        required=False,
        widget=DATE_WIDGET,
        help_text=_("Leave empty to keep the current end date."),
    )


class MilestoneChangeForm(forms.Form):
    milestone = forms.TypedChoiceField(
        label=_("Milestone"),
        coerce=int,
        empty_value=None,
        required=False,
        help_text=_("Choose a milestone to change it, or leave “New milestone” to add one."),
    )
    title_en = forms.CharField(label=_("Milestone (English)"), max_length=255, required=False)
    title_ar = forms.CharField(label=_("Milestone (Arabic)"), max_length=255, required=False)
    due_date = forms.DateField(label=_("Due"), widget=DATE_WIDGET, required=False)
    payment_amount = forms.DecimalField(
        label=_("Payment"), max_digits=18, decimal_places=2, min_value=0, required=False
    )
    waive = forms.BooleanField(
        label=_("Waive this milestone"),
        required=False,
        help_text=_("Drops the chosen milestone from the schedule (its payment too) once the amendment is in force."),
    )

    def __init__(self, *args, contract: Contract, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["milestone"].choices = [("", _("New milestone"))] + [
            (m.pk, f"{m.order}. {m.title_en}") for m in contract.milestones.order_by("order", "id")
        ]

    def clean(self):
        data = super().clean()
        if data.get("waive"):
            if not data.get("milestone"):
                self.add_error("milestone", _("Choose the milestone to waive."))
            return data
        if not data.get("milestone"):
            for name in ("title_en", "title_ar"):
                if not data.get(name):
                    self.add_error(name, _("A new milestone needs its title in both languages."))
        if data.get("due_date") is None and "due_date" not in self.errors:
            self.add_error("due_date", _("Enter the due date."))
        if data.get("payment_amount") is None and "payment_amount" not in self.errors:
            self.add_error("payment_amount", _("Enter the payment (0 if none)."))
        return data

    def service_data(self) -> dict:
        data = dict(self.cleaned_data)
        data["milestone_id"] = data.pop("milestone")
        return data


class KpiChangeForm(forms.Form):
    kpi = forms.TypedChoiceField(
        label=_("Indicator"),
        coerce=int,
        empty_value=None,
        required=False,
        help_text=_("Choose an indicator to change it, or leave “New indicator” to add one."),
    )
    name_en = forms.CharField(label=_("Indicator (English)"), max_length=255, required=False)
    name_ar = forms.CharField(label=_("Indicator (Arabic)"), max_length=255, required=False)
    target = forms.DecimalField(label=_("Target"), max_digits=14, decimal_places=3)
    unit = forms.CharField(label=_("Unit"), max_length=40, required=False)
    frequency = forms.ChoiceField(label=_("Measured"), choices=Frequency.choices, initial=Frequency.QUARTERLY)

    def __init__(self, *args, contract: Contract, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kpi"].choices = [("", _("New indicator"))] + [
            (k.pk, f"{k.order}. {k.name_en}") for k in contract.kpis.order_by("order", "id")
        ]

    def clean(self):
        data = super().clean()
        if not data.get("kpi"):
            for name in ("name_en", "name_ar", "unit"):
                if not data.get(name):
                    self.add_error(name, _("A new indicator needs its names and its unit."))
        return data

    def service_data(self) -> dict:
        data = dict(self.cleaned_data)
        data["kpi_id"] = data.pop("kpi")
        return data


class ReturnForm(forms.Form):
    reason = forms.CharField(
        label=_("Why it goes back to its drafter"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=4000,
    )
