"""Password reset (for people who cannot sign in) and password change (for people who are signed in).

Django's own views do the work; these subclasses add our templates, the person's language for the
e-mail (see ``PasswordResetRequestForm``) and the audit events. No token, uid or password is ever
written to the audit log.

Sealed bids: a person's personal private key is encrypted under a key derived from their password
(``accounts/keys.py``). A password change knows the old password and re-wraps the same key in the same
transaction; a reset does not, so the old key is retired and a new one made with the new password.
"""

from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.db import transaction
from django.urls import reverse_lazy

from accounts import keys
from accounts.forms import PasswordResetRequestForm
from audit.services import audit_event_append
from audit.services import client_details as _client
from contracts.signer_keys import signer_key_retire, signer_key_rewrap


class PasswordResetView(auth_views.PasswordResetView):
    """Ask for a reset link. The answer is the same whether or not the address has an account."""

    form_class = PasswordResetRequestForm
    template_name = "accounts/password_reset_form.html"
    email_template_name = "accounts/email/password_reset_body.txt"
    subject_template_name = "accounts/email/password_reset_subject.txt"
    success_url = reverse_lazy("accounts:password_reset_done")

    def form_valid(self, form):
        response = super().form_valid(form)
        # Only what was typed: whether an account exists is not recorded either (nor shown).
        audit_event_append(
            action="auth.password_reset_requested",
            actor=self.request.user,
            actor_label="" if self.request.user.is_authenticated else "anonymous",
            payload={"attempted_email": form.cleaned_data["email"][:254]},
        )
        return response


class PasswordResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "accounts/password_reset_done.html"


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "accounts/password_reset_confirm.html"
    success_url = reverse_lazy("accounts:password_reset_complete")

    @transaction.atomic
    def form_valid(self, form):
        response = super().form_valid(form)
        user = form.user
        keys.personal_key_replace(user=user, new_password=form.cleaned_data["new_password1"], reason="password reset")
        signer_key_retire(user=user, reason="password reset")
        audit_event_append(
            action="auth.password_reset_completed",
            actor=user,
            obj=user,
            payload=_client(self.request),
        )
        return response


class PasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = "accounts/password_reset_complete.html"


class PasswordChangeView(auth_views.PasswordChangeView):
    """For a signed-in person; Django keeps them signed in here and signs out their other sessions."""

    template_name = "accounts/password_change_form.html"
    success_url = reverse_lazy("accounts:password_change_done")

    @transaction.atomic
    def form_valid(self, form):
        response = super().form_valid(form)
        user = form.user
        keys.personal_key_rewrap(
            user=user, old_password=form.cleaned_data["old_password"], new_password=form.cleaned_data["new_password1"]
        )
        signer_key_rewrap(
            user=user, old_password=form.cleaned_data["old_password"], new_password=form.cleaned_data["new_password1"]
        )
        audit_event_append(
            action="auth.password_changed",
            actor=user,
            obj=user,
            payload=_client(self.request),
        )
        return response


class PasswordChangeDoneView(auth_views.PasswordChangeDoneView):
    template_name = "accounts/password_change_done.html"
