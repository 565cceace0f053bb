from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.utils import timezone

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
