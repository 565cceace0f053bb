import math

from django import forms
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm
from django.core.exceptions import ValidationError
from django.utils import formats, timezone, translation
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from accounts import throttle
from audit.services import client_address


class SignInForm(AuthenticationForm):
    username = forms.EmailField(
        label=_("E-mail address"),
        widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"}),
    )
    error_messages = {
        "invalid_login": _("The e-mail address or password is not correct. Passwords are case-sensitive."),
        "inactive": _("This account is inactive."),
    }

    def clean(self):
        email = self.cleaned_data.get("username")
        if email is not None and self.cleaned_data.get("password"):
            # Before the password is checked: a refused attempt never reaches authenticate().
            ip = client_address(self.request)
            refusal = throttle.sign_in_refusal(email=email, ip=ip)
            if refusal is not None:
                throttle.record_throttled(email=email, ip=ip)
                raise self.throttled_error(refusal)
        return super().clean()

    @staticmethod
    def throttled_error(refusal: throttle.Refusal) -> ValidationError:
        minutes = max(1, math.ceil((refusal.retry_at - throttle.now()).total_seconds() / 60))
        time = formats.time_format(timezone.localtime(refusal.retry_at), "TIME_FORMAT")
        message = ngettext(
            "Too many unsuccessful sign-in attempts. For your security, signing in is paused: "
            "try again after %(time)s (in %(minutes)d minute).",
            "Too many unsuccessful sign-in attempts. For your security, signing in is paused: "
            "try again after %(time)s (in %(minutes)d minutes).",
            minutes,
        ) % {"time": time, "minutes": minutes}
        return ValidationError(message, code="throttled")


class PasswordResetRequestForm(PasswordResetForm):
    email = forms.EmailField(
        label=_("E-mail address"),
        max_length=254,
        widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"}),
    )

    def send_mail(
        self,
        subject_template_name,
        email_template_name,
        context,
        from_email,
        to_email,
        html_email_template_name=None,
    ):
        """Write the e-mail (subject, body and the link's language prefix) in the person's language."""
        language = getattr(context["user"], "preferred_language", "") or settings.LANGUAGE_CODE
        with translation.override(language):
            super().send_mail(
                subject_template_name,
                email_template_name,
                context,
                from_email,
                to_email,
                html_email_template_name=html_email_template_name,
            )
