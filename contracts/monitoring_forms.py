"""Forms of the monitoring page: a progress report with its evidence, the officer's decision, a payment, a
KPI measurement and its confirmation."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from contracts.monitoring import MAX_EVIDENCE_FILES, NARRATIVE_MAX_LENGTH

DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        files = data if isinstance(data, list | tuple) else ([data] if data else [])
        return [single(item, initial) for item in files]


class ProgressReportForm(forms.Form):
    narrative = forms.CharField(
        label=_("What was done"),
        widget=forms.Textarea(attrs={"rows": 5}),
        max_length=NARRATIVE_MAX_LENGTH,
        help_text=_("The work delivered for this milestone, and where the evidence shows it."),
    )
    percent_complete = forms.IntegerField(label=_("Per cent complete"), min_value=0, max_value=100)
    evidence = MultipleFileField(
        label=_("Evidence documents"),
        required=False,
        help_text=_("PDF, Word, Excel, PNG, JPEG or ZIP; each is kept with its SHA-256."),
    )

    def clean_evidence(self):
        files = self.cleaned_data.get("evidence") or []
        if len(files) > MAX_EVIDENCE_FILES:
            raise forms.ValidationError(_("Attach at most %(count)s documents.") % {"count": MAX_EVIDENCE_FILES})
        for uploaded in files:
            if uploaded.size > settings.UPLOAD_MAX_BYTES:
                raise forms.ValidationError(_("%(name)s is too large.") % {"name": uploaded.name})
        return files


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("Decision"),
        choices=[("accept", _("Accept the milestone")), ("reject", _("Reject it"))],
        widget=forms.RadioSelect,
    )
    reason = forms.CharField(
        label=_("Reasons"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        max_length=4000,
        help_text=_("Required to reject: the contractor reads them and reports again."),
    )


class PaymentForm(forms.Form):
    paid_on = forms.DateField(label=_("Paid on"), widget=DATE_WIDGET)
    reference = forms.CharField(label=_("Payment reference"), max_length=80)


class MeasurementForm(forms.Form):
    period_start = forms.DateField(label=_("Period from"), widget=DATE_WIDGET)
    period_end = forms.DateField(label=_("Period to"), widget=DATE_WIDGET)
    value = forms.DecimalField(label=_("Measured value"), max_digits=14, decimal_places=3)


class MeasurementDecisionForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("Decision"),
        choices=[("confirm", _("Confirm the measurement")), ("reject", _("Reject it"))],
        widget=forms.RadioSelect,
    )
    reason = forms.CharField(label=_("Reasons"), widget=forms.Textarea(attrs={"rows": 2}), required=False)
