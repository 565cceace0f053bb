"""The person's own API tokens, on their account pages: make one (its secret shown once), list, revoke."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from api.forms import ApiTokenForm
from api.models import ApiToken
from api.services import api_token_issue, api_token_revoke
from core.exceptions import ActionRefused
from core.views_support import run_service


@never_cache
@login_required
def token_list(request):
    """GET: the list and the form. POST: make a token and show its secret on this answer only (never stored,
    never put in the session; the page is not cached)."""
    issued = None
    if request.method == "POST":
        form = ApiTokenForm(request.POST)
        if form.is_valid():
            issued = run_service(
                form,
                lambda: api_token_issue(
                    user=request.user,
                    name=form.cleaned_data["name"],
                    expires_in_days=form.cleaned_data["expires_in_days"],
                ),
                fallback_field="name",
            )
            if issued is not None:
                form = ApiTokenForm()
    else:
        form = ApiTokenForm()
    tokens = ApiToken.objects.filter(user=request.user).order_by("-id")[:100]
    return render(
        request,
        "api/token_list.html",
        {"form": form, "issued": issued, "tokens": tokens},
        status=200,
    )


@login_required
@require_POST
def token_revoke(request, pk: int):
    token = get_object_or_404(ApiToken, pk=pk, user=request.user)
    try:
        api_token_revoke(token=token, actor=request.user)
    except ActionRefused as refusal:
        messages.error(request, refusal.message)
    else:
        messages.success(request, _("The token “%(name)s” is revoked.") % {"name": token.name})
    return redirect("api_tokens:list")
