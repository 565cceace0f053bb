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


@login_required
def contract_bundle(request, pk: int):
    """An auditor downloads the proof bundle of a contract (``manage.py verify_audit_bundle`` checks it offline);
    the download itself is logged."""
    import json

    from django.http import HttpResponse
    from django.utils.cache import patch_cache_control

    from audit.bundles import build_bundle
    from audit.services import audit_event_append
    from contracts.models import Contract

    _require_auditor(request)
    contract = get_object_or_404(Contract.objects.select_related("tender"), pk=pk)
    bundle = build_bundle(contract)
    audit_event_append(
        action="audit.bundle_downloaded",
        actor=request.user,
        obj=contract,
        payload={
            "checkpoint": bundle["checkpoint"]["sequence"],
            "events": len(bundle["events"]),
            "documents": [d["sha256"] for d in bundle["documents"]],
        },
    )
    response = HttpResponse(
        json.dumps(bundle, ensure_ascii=False, separators=(",", ":")), content_type="application/json"
    )
    response["Content-Disposition"] = f'attachment; filename="{contract.reference}-proof-bundle.json"'
    patch_cache_control(response, private=True, no_store=True)
    return response
