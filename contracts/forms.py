"""Forms of the contract pages: the draft's terms, a KPI, a milestone, signing, termination, and the public
verifier."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from contracts.models import RISK_CATEGORIES, Contract, ContractKpi, ContractMilestone, RiskBearer
from contracts.services import TERMINATION_REASON_MAX_LENGTH, TERMINATION_REASON_MIN_LENGTH

PDF_MAGIC = b"%PDF-"


def _risk_field_name(code: str) -> str:
    return f"risk_{code}"


class ContractDraftForm(forms.ModelForm):
    """The draft's editable terms, with one choice per risk category of the OCDS PPP profile."""

    class Meta:
        model = Contract
        fields = [
            "title_en",
            "title_ar",
            "value",
            "currency",
            "start_date",
            "end_date",
            "payment_mechanism",
            "penalty_rate",
            "penalty_cap",
        ]
        widgets = {
            "start_date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "end_date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        allocation = self.instance.risk_allocation or {}
        for code, (title_en, _title_ar) in RISK_CATEGORIES.items():
            self.fields[_risk_field_name(code)] = forms.ChoiceField(
                label=title_en,
                choices=[("", "—"), *RiskBearer.choices],
                required=False,
                initial=allocation.get(code, ""),
            )

    def risk_fields(self):
        return [self[_risk_field_name(code)] for code in RISK_CATEGORIES]

    def term_fields(self):
        return [self[name] for name in self.Meta.fields]

    def service_data(self) -> dict:
        """The cleaned terms as ``contract_update_draft`` takes them."""
        data = {name: self.cleaned_data[name] for name in self.Meta.fields}
        data["risk_allocation"] = {
            code: self.cleaned_data[_risk_field_name(code)]
            for code in RISK_CATEGORIES
            if self.cleaned_data.get(_risk_field_name(code))
        }
        return data

    def _post_clean(self):
        # The service validates against the locked row; the form's instance is left untouched.
        pass


class KpiForm(forms.ModelForm):
    class Meta:
        model = ContractKpi
        fields = ["name_en", "name_ar", "target", "unit", "frequency"]

    def _post_clean(self):
        pass


class MilestoneForm(forms.ModelForm):
    class Meta:
        model = ContractMilestone
        fields = ["title_en", "title_ar", "due_date", "payment_amount"]
        widgets = {"due_date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")}

    def _post_clean(self):
        pass


class SignForm(forms.Form):
    password = forms.CharField(
        label=_("Your password"),
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        help_text=_("The password you sign in with: it unlocks your signing key."),
    )
    pkcs12 = forms.FileField(
        label=_("Your own certificate (PKCS#12 file, optional)"),
        required=False,
        help_text=_("Used for this one signature and never stored."),
    )
    pkcs12_password = forms.CharField(
        label=_("The certificate file's password"),
        required=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "off"}),
    )

    def clean_pkcs12(self):
        uploaded = self.cleaned_data.get("pkcs12")
        if uploaded and uploaded.size > settings.UPLOAD_MAX_BYTES:
            raise forms.ValidationError(_("The file is too large."))
        return uploaded


class SignerKeyForm(forms.Form):
    password = forms.CharField(
        label=_("Your password"),
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        help_text=_("Your signing key is encrypted under this password: nobody else can sign in your name."),
    )


class TerminateForm(forms.Form):
    """The reason for terminating the contract; its length is checked by ``contract_terminate``."""

    reason = forms.CharField(
        label=_("Reason for the termination"),
        widget=forms.Textarea(attrs={"rows": 6}),
        error_messages={"required": _("Give the reason for the termination.")},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reason"].help_text = gettext(
            "Between %(minimum)s and %(maximum)s characters. The reason is recorded with the contract and shown to "
            "everyone who can see it, the contractor included."
        ) % {"minimum": TERMINATION_REASON_MIN_LENGTH, "maximum": TERMINATION_REASON_MAX_LENGTH}


class VerifyForm(forms.Form):
    pdf = forms.FileField(label=_("Signed PDF"))

    def clean_pdf(self):
        uploaded = self.cleaned_data["pdf"]
        if uploaded.size > settings.UPLOAD_MAX_BYTES:
            raise forms.ValidationError(
                _("The file is too large: at most %(limit)s MB.")
                % {"limit": f"{settings.UPLOAD_MAX_BYTES / 1048576:.0f}"}
            )
        uploaded.seek(0)
        if uploaded.read(len(PDF_MAGIC)) != PDF_MAGIC:
            raise forms.ValidationError(_("This file is not a PDF."))
        uploaded.seek(0)
        return uploaded
