"""Forms of the officers' tender pages. They check what was typed; the services decide the rest."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.uploads import ALLOWED_DESCRIPTION, inspect_upload
from procurement.models import Phase, Tender
from procurement.tender_services import TENDER_FIELDS

ARABIC = {"dir": "rtl", "lang": "ar"}
CRITERION_FIELDS = ("name_en", "name_ar", "description_en", "description_ar", "weight")
MAX_CRITERIA = 20


class DateTimeLocalInput(forms.DateTimeInput):
    """``<input type="datetime-local">``: the browser shows a date and time picker, no script needed."""

    input_type = "datetime-local"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%dT%H:%M", **kwargs)


def _time_zone_help() -> str:
    return _("In your time zone (%(zone)s).") % {"zone": timezone.get_current_timezone_name()}


def _datetime_field(label, *, required: bool = True, help_text: str = "") -> forms.DateTimeField:
    # Django parses the ISO text a browser sends (2026-05-01T10:00) and reads it in the active time zone.
    return forms.DateTimeField(label=label, required=required, widget=DateTimeLocalInput(), help_text=help_text)


def upload_help() -> str:
    return _("%(kinds)s; at most %(limit)s MB. The file is checked by its content, not its name.") % {
        "kinds": ALLOWED_DESCRIPTION,
        "limit": f"{settings.UPLOAD_MAX_BYTES / 1048576:.0f}",
    }


def checked_upload(uploaded):
    """Refuse an empty, too large or unaccepted file with the message the service would give (used where
    several files are sent at once, so that the message lands on the right one)."""
    if uploaded:
        inspect_upload(uploaded)
    return uploaded


# The tender ---------------------------------------------------------------------------------------


class TenderForm(forms.ModelForm):
    """Every term of a draft tender. The criteria are a formset beside it."""

    class Meta:
        model = Tender
        fields = ["phase", *TENDER_FIELDS]
        widgets = {
            "title_ar": forms.TextInput(attrs=ARABIC),
            "description_en": forms.Textarea(attrs={"rows": 5}),
            "description_ar": forms.Textarea(attrs={**ARABIC, "rows": 5}),
            "method_justification": forms.Textarea(attrs={"rows": 3}),
            "clarification_deadline": DateTimeLocalInput(),
            "submission_deadline": DateTimeLocalInput(),
            "opening_time": DateTimeLocalInput(),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        phases = Phase.objects.select_related("programme").order_by("programme__code", "order")
        self.fields["phase"].queryset = phases
        # The phases grouped under their programme (the same queryset still validates the choice).
        groups: dict[str, list[tuple[int, str]]] = {}
        for phase in phases:
            label = f"{phase.programme.code} · {phase.programme.name}"
            groups.setdefault(label, []).append((phase.pk, str(phase)))
        self.fields["phase"].choices = [("", "---------"), *groups.items()]
        zone_help = _time_zone_help()
        for name in ("clarification_deadline", "submission_deadline", "opening_time"):
            self.fields[name].help_text = zone_help


class CriterionForm(forms.Form):
    name_en = forms.CharField(label=_("Criterion (English)"), max_length=255)
    name_ar = forms.CharField(label=_("Criterion (Arabic)"), max_length=255, widget=forms.TextInput(attrs=ARABIC))
    description_en = forms.CharField(
        label=_("What is scored (English)"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    description_ar = forms.CharField(
        label=_("What is scored (Arabic)"), required=False, widget=forms.Textarea(attrs={**ARABIC, "rows": 2})
    )
    weight = forms.DecimalField(
        label=_("Weight (%)"),
        max_digits=5,
        decimal_places=2,
        min_value=Decimal("0.01"),
        max_value=Decimal("100"),
    )


class BaseCriterionFormSet(forms.BaseFormSet):
    def add_fields(self, form, index) -> None:
        super().add_fields(form, index)
        if "DELETE" in form.fields:
            form.fields["DELETE"].label = _("Remove this criterion")

    def clean(self) -> None:
        if any(self.errors):
            return
        criteria = self.criteria()
        if criteria:
            total = sum((c["weight"] for c in criteria), Decimal("0"))
            if total != 100:
                raise ValidationError(
                    _("The criteria weights must add up to 100 (now %(total)s).") % {"total": f"{total:g}"}
                )

    def criteria(self) -> list[dict]:
        """The criteria in the order shown, leaving out empty and removed rows."""
        return [
            {name: form.cleaned_data[name] for name in CRITERION_FIELDS}
            for form in self.forms
            if form.cleaned_data and not self._should_delete_form(form)
        ]


CriterionFormSet = forms.formset_factory(
    CriterionForm,
    formset=BaseCriterionFormSet,
    extra=3,
    can_delete=True,
    max_num=MAX_CRITERIA,
    validate_max=True,
)


def criteria_initial(tender: Tender | None) -> list[dict]:
    if tender is None or not tender.pk:
        return []
    return [{name: getattr(c, name) for name in CRITERION_FIELDS} for c in tender.criteria.order_by("order", "id")]


def typed_rows(data, prefix: str, fields=CRITERION_FIELDS) -> list[dict]:
    """The rows of a formset as they were typed, without validating them (to show them again)."""
    try:
        total = min(int(data.get(f"{prefix}-TOTAL_FORMS", 0)), MAX_CRITERIA)
    except (TypeError, ValueError):
        return []
    rows = []
    for index in range(total):
        row = {name: data.get(f"{prefix}-{index}-{name}", "") for name in fields}
        if any(str(value).strip() for value in row.values()):
            rows.append(row)
    return rows


class TenderDocumentForm(forms.Form):
    title = forms.CharField(label=_("Document title"), max_length=255)
    file = forms.FileField(label=_("File"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Size and content are checked by the service (its message is shown on this field).
        self.fields["file"].help_text = upload_help()


# Clarifications and the approver's and officer's reasons ------------------------------------------------


class AnswerForm(forms.Form):
    answer = forms.CharField(
        label=_("Answer"),
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Published to every vendor, without naming who asked."),
    )


class ReturnForm(forms.Form):
    comments = forms.CharField(
        label=_("Comments for the officer"),
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_("Say what must change before the tender can be approved."),
    )


class CancelForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason for the cancellation"),
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_("Everyone who downloaded the documents or asked a question is told this reason."),
    )


class UnsuccessfulForm(forms.Form):
    reason = forms.CharField(
        label=_("Why the tender is unsuccessful"),
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_("For example: fewer valid bids than the minimum, or no bid qualified."),
    )


# Addenda ------------------------------------------------------------------------------------------


class AddendumForm(forms.Form):
    summary_en = forms.CharField(label=_("What changes (English)"), widget=forms.Textarea(attrs={"rows": 4}))
    summary_ar = forms.CharField(label=_("What changes (Arabic)"), widget=forms.Textarea(attrs={**ARABIC, "rows": 4}))
    new_clarification_deadline = _datetime_field(_("New clarification deadline"), required=False)
    new_submission_deadline = _datetime_field(_("New submission deadline"), required=False)
    new_opening_time = _datetime_field(_("New bid opening time"), required=False)
    new_estimated_value = forms.DecimalField(
        label=_("New estimated value"),
        required=False,
        min_value=Decimal("0"),
        max_digits=18,
        decimal_places=2,
        help_text=_("Changing the value needs the steering committee's approval."),
    )
    replace_criteria = forms.BooleanField(
        label=_("Replace the technical criteria with the list below"),
        required=False,
        help_text=_("Changing the criteria needs the steering committee's approval."),
    )

    def __init__(self, *args, tender: Tender, **kwargs):
        super().__init__(*args, **kwargs)
        zone_help = _time_zone_help()
        for name, current in (
            ("new_clarification_deadline", tender.clarification_deadline),
            ("new_submission_deadline", tender.submission_deadline),
            ("new_opening_time", tender.opening_time),
        ):
            now_shown = timezone.localtime(current).strftime("%Y-%m-%d %H:%M")
            self.fields[name].help_text = _("Now %(when)s. Leave empty to keep it; a deadline can only move later.") % {
                "when": now_shown
            } + (" " + zone_help)

    def service_data(self, criteria: list[dict] | None) -> dict:
        """What ``addendum_create`` takes: the summaries, and only the changes that were asked for."""
        data = {"summary_en": self.cleaned_data["summary_en"], "summary_ar": self.cleaned_data["summary_ar"]}
        for name in (
            "new_clarification_deadline",
            "new_submission_deadline",
            "new_opening_time",
            "new_estimated_value",
        ):
            if self.cleaned_data.get(name) is not None:
                data[name] = self.cleaned_data[name]
        if criteria is not None:
            # Stored as JSON: weights as text, so that 33.33 stays 33.33.
            data["new_criteria"] = [{**c, "weight": str(c["weight"])} for c in criteria]
        return data


class AddendumDocumentForm(forms.Form):
    title = forms.CharField(
        label=_("Document title"),
        max_length=255,
        required=False,
        help_text=_("A document with the same title as a current one replaces it."),
    )
    file = forms.FileField(label=_("File"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["file"].help_text = upload_help()

    def clean_file(self):
        return checked_upload(self.cleaned_data.get("file"))

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("title") and not cleaned.get("file") and "file" not in self.errors:
            self.add_error("file", _("Choose the file for this title."))
        return cleaned


class BaseAddendumDocumentFormSet(forms.BaseFormSet):
    def files_for_service(self) -> list[tuple[str, object]]:
        return [
            (form.cleaned_data.get("title") or form.cleaned_data["file"].name, form.cleaned_data["file"])
            for form in self.forms
            if form.cleaned_data.get("file")
        ]


AddendumDocumentFormSet = forms.formset_factory(
    AddendumDocumentForm, formset=BaseAddendumDocumentFormSet, extra=3, max_num=3, validate_max=True
)
