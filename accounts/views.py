"""Password reset (for people who cannot sign in) and password change (for people who are signed in).

Django's own views do the work; these subclasses add our templates, the person's language for the
e-mail (see ``PasswordResetRequestForm``) and the audit events. No token, uid or password is ever
written to the audit log.

Sealed bids: a committee member's personal private key is encrypted under a key derived from their
password (``procurement/sealing.py``). When that work is wired to accounts:
* a password CHANGE knows the old password, so it must re-wrap the key in the same transaction
  (``sealing.rewrap_personal_key(blob=..., old_password=..., new_password=...)``) — same key pair;
* a password RESET does not know the old password, so the old private key can no longer be unlocked:
  the member needs a NEW key pair (``generate_personal_keypair``), and shares already encrypted to the
  old public key must be recovered through the tender's recovery share.
"""

from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.urls import reverse_lazy

from accounts.forms import PasswordResetRequestForm
from audit.services import audit_event_append
from audit.services import client_details as _client


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

    def form_valid(self, form):
        # Sealed bids (see the module docstring): a reset means a new personal key pair.
        response = super().form_valid(form)
        user = form.user
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

    def form_valid(self, form):
        # Sealed bids (see the module docstring): re-wrap the personal key here with
        # procurement.sealing.rewrap_personal_key(old_password=form.cleaned_data["old_password"], ...).
        response = super().form_valid(form)
        user = form.user
        audit_event_append(
            action="auth.password_changed",
            actor=user,
            obj=user,
            payload=_client(self.request),
        )
        return response


class PasswordChangeDoneView(auth_views.PasswordChangeDoneView):
    template_name = "accounts/password_change_done.html"
