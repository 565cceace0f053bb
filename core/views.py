import re

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.db.models import Prefetch
from django.shortcuts import render
from django.utils import timezone, translation
from django.views.i18n import set_language as django_set_language

from core.dashboard import dashboard_for
from portal import selectors as portal_selectors
from procurement.models import Phase, Programme

HOME_PROGRAMMES = 6
HOME_LIST_SIZE = 10


def home(request):
    """The public front page: tenders open for bids (closing soonest first), the contracts signed lately, the
    programmes with each phase's progress, and the search. A fixed number of queries whatever the data."""
    programmes = list(
        Programme.objects.select_related("sponsor_agency")
        .prefetch_related(Prefetch("phases", queryset=Phase.objects.order_by("order")))
        .order_by("-start_date", "code")[:HOME_PROGRAMMES]
    )
    today = timezone.localdate()
    progress = portal_selectors.phases_progress(
        [p for programme in programmes for p in programme.phases.all()], today=today
    )
    by_programme: dict[int, list] = {}
    for row in progress:
        by_programme.setdefault(row.phase.programme_id, []).append(row)
    return render(
        request,
        "core/home.html",
        {
            "programmes": [(programme, by_programme.get(programme.pk, [])) for programme in programmes],
            "open_tenders": portal_selectors.open_tenders(timezone.now(), limit=HOME_LIST_SIZE),
            "recent_contracts": portal_selectors.recent_contracts(limit=HOME_LIST_SIZE),
            "today": today,
        },
    )


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
