"""The personal key page: a person who may open sealed bids sees their key's fingerprint, or sets one up by
typing their password again (``accounts.keys``). Vendor users have no personal key here."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts import keys
from core.views_support import require as _require
from core.views_support import run_service as _run_service
from procurement.models import OpeningCommitteeMember

#: How many of the person's opening committees the page lists (newest first).
COMMITTEES_SHOWN = 20


class PersonalKeyForm(forms.Form):
    password = forms.CharField(
        label=gettext_lazy("Your password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        help_text=gettext_lazy("Your private key is locked with your password; type it again to create the key."),
    )


@login_required
def personal_key(request):
    _require(request, "accounts.manage_personal_key")
    user = request.user
    key = keys.active_key(user)
    form = None
    if key is None:
        form = PersonalKeyForm(request.POST if request.method == "POST" else None)
        if form.is_bound and form.is_valid():
            created = _run_service(
                form, lambda: keys.personal_key_create(user=user, password=form.cleaned_data["password"])
            )
            if created:
                messages.success(request, _("Your personal key was created."))
                return redirect("accounts:personal_key")
    seats = (
        OpeningCommitteeMember.objects.filter(user=user)
        .select_related("tender")
        .order_by("-nominated_at", "-id")[:COMMITTEES_SHOWN]
    )
    return render(request, "accounts/personal_key.html", {"key": key, "form": form, "seats": seats})
