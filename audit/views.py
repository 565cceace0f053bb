from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, render

from audit.filters import AuditEventFilter
from audit.models import AuditCheckpoint, AuditEvent
from core.pagination import keyset_page


def _require_auditor(request) -> None:
    if not request.user.has_perm("audit.view_auditevent"):
        raise PermissionDenied


@login_required
def event_list(request):
    _require_auditor(request)
    filterset = AuditEventFilter(request.GET, queryset=AuditEvent.objects.all())
    page = keyset_page(
        filterset.qs,
        key="sequence",
        descending=True,
        after=request.GET.get("after"),
        before=request.GET.get("before"),
        size=50,
        to_python=int,
    )
    checkpoint = AuditCheckpoint.objects.order_by("-sequence").first()
    return render(request, "audit/event_list.html", {"filter": filterset, "page": page, "checkpoint": checkpoint})


@login_required
def event_detail(request, sequence: int):
    _require_auditor(request)
    event = get_object_or_404(AuditEvent, sequence=sequence)
    return render(request, "audit/event_detail.html", {"event": event})
