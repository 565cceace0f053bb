import re

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.utils import timezone, translation
from django.views.i18n import set_language as django_set_language

from core.dashboard import dashboard_for
from procurement.models import Programme


def home(request):
    """The public front page: the programme and its phases, for everyone."""
    programmes = (
        Programme.objects.select_related("sponsor_agency")
        .prefetch_related("phases")
        .order_by("-start_date", "code")[:6]
    )
    return render(request, "core/home.html", {"programmes": programmes, "today": timezone.localdate()})


@login_required
def dashboard(request):
    return render(request, "core/dashboard.html", {"panels": dashboard_for(request.user)})


_LANGUAGE_CODES = "|".join(re.escape(code) for code, _name in settings.LANGUAGES)
_LANGUAGE_PREFIX = re.compile(rf"^/({_LANGUAGE_CODES})/")


def set_language(request):
    """Django's set_language, reading ``next`` in the language of its own /xx/ prefix.

    Django resolves ``next`` in the language of the cookie or the browser, so when those differ from the
    page's prefix the address would not be translated and the visitor would stay in the old language.
    """
    match = _LANGUAGE_PREFIX.match(request.POST.get("next", request.GET.get("next", "")))
    if match:
        with translation.override(match.group(1)):
            return django_set_language(request)
    return django_set_language(request)
