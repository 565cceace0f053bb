from django import forms
from django.contrib.auth import password_validation
from django.utils.translation import gettext_lazy as _

from procurement.forms import DateInput
from vendors.models import Debarment, DocumentKind, Vendor, VendorCategory


class VendorRegistrationForm(forms.ModelForm):
    """The company and its first user; the user becomes the vendor's administrator."""

    categories = forms.ModelMultipleChoiceField(
        label=_("What the company offers"),
        queryset=VendorCategory.objects.order_by("code"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    website = forms.URLField(label=_("Website"), required=False, assume_scheme="https")
    full_name = forms.CharField(label=_("Your full name"), max_length=200)
    user_email = forms.EmailField(
        label=_("Your e-mail address"), help_text=_("You sign in with it; we send a confirmation link to it.")
    )
    password = forms.CharField(
        label=_("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=password_validation.password_validators_help_text_html(),
    )
    password_again = forms.CharField(
        label=_("Password again"), strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )

    class Meta:
        model = Vendor
        fields = [
            "legal_name_en",
            "legal_name_ar",
            "commercial_registration_number",
            "tax_number",
            "address",
            "phone",
            "email",
            "website",
            "categories",
        ]
        widgets = {
            "legal_name_ar": forms.TextInput(attrs={"dir": "rtl", "lang": "ar"}),
            "address": forms.Textarea(attrs={"rows": 3}),
        }

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("password") and cleaned.get("password_again") != cleaned.get("password"):
            self.add_error("password_again", _("The two passwords differ. Type the same password twice."))
        return cleaned

    USER_FIELDS = ("full_name", "user_email", "password", "password_again")

    def company_fields(self) -> list:
        return [self[name] for name in self.fields if name not in self.USER_FIELDS]

    def user_fields(self) -> list:
        return [self[name] for name in self.USER_FIELDS]

    def company_data(self) -> dict:
        return {name: self.cleaned_data.get(name) or "" for name in self.Meta.fields if name != "categories"}


class InvitationAcceptForm(forms.Form):
    full_name = forms.CharField(label=_("Your full name"), max_length=200)
    password = forms.CharField(
        label=_("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=password_validation.password_validators_help_text_html(),
    )
    password_again = forms.CharField(
        label=_("Password again"), strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("password") and cleaned.get("password_again") != cleaned.get("password"):
            self.add_error("password_again", _("The two passwords differ. Type the same password twice."))
        return cleaned


class InviteForm(forms.Form):
    email = forms.EmailField(label=_("Colleague's e-mail address"))


class VendorDocumentForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind of document"), choices=DocumentKind.choices)
    file = forms.FileField(label=_("File"), help_text=_("PDF, Word, Excel, PNG, JPEG or ZIP; at most 25 MB."))
    issued_on = forms.DateField(label=_("Issued on"), widget=DateInput())
    expires_on = forms.DateField(
        label=_("Expires on"),
        required=False,
        widget=DateInput(),
        help_text=_("Required for the commercial registration, tax and social insurance certificates."),
    )


class SuspendForm(forms.Form):
    reason = forms.CharField(label=_("Reason for suspension"), widget=forms.Textarea(attrs={"rows": 3}))


class DebarForm(forms.ModelForm):
    class Meta:
        model = Debarment
        fields = ["reason", "legal_reference", "starts_on", "ends_on"]
        widgets = {
            "reason": forms.Textarea(attrs={"rows": 3}),
            "starts_on": DateInput(),
            "ends_on": DateInput(),
        }
