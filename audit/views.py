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


TRAIL_EXPORT_LIMIT = 100_000


def _trail(request, contract):
    from audit.bundles import trail_filter
    from audit.filters import TrailFilter

    return TrailFilter(request.GET, queryset=AuditEvent.objects.filter(trail_filter(contract)))


@login_required
def contract_trail(request, pk: int):
    """An auditor follows a contract from its tender's preparation to its last payment: one timeline of the
    audit log's events, each with its actor, time, change, sequence number and hash; filters; whether the
    trail verifies up to the latest signed checkpoint. Opening it is logged."""
    from django.utils.cache import patch_cache_control

    from audit.bundles import trail_integrity
    from audit.services import audit_event_append
    from contracts.models import Contract

    _require_auditor(request)
    contract = get_object_or_404(Contract.objects.select_related("tender", "vendor", "agency"), pk=pk)
    filterset = _trail(request, contract)
    page = keyset_page(
        filterset.qs,
        key="sequence",
        after=request.GET.get("after"),
        before=request.GET.get("before"),
        size=50,
        to_python=int,
    )
    audit_event_append(
        action="audit.trail_viewed", actor=request.user, obj=contract, payload={"filters": request.GET.dict()}
    )
    response = render(
        request,
        "audit/contract_trail.html",
        {"contract": contract, "filter": filterset, "page": page, "integrity": trail_integrity(contract)},
    )
    patch_cache_control(response, private=True, no_store=True)
    return response


@login_required
def contract_trail_export(request, pk: int, fmt: str):
    """The (filtered) trail as CSV or JSON, streamed; the export is logged."""
    import csv
    import json

    from django.http import Http404, StreamingHttpResponse

    from audit.services import audit_event_append
    from contracts.models import Contract

    _require_auditor(request)
    if fmt not in ("csv", "json"):
        raise Http404
    contract = get_object_or_404(Contract.objects.select_related("tender"), pk=pk)
    rows = (
        _trail(request, contract)
        .qs.order_by("sequence")
        .values(
            "sequence",
            "occurred_at",
            "actor_label",
            "action",
            "object_type",
            "object_id",
            "object_label",
            "payload",
            "prev_hash",
            "hash",
        )[:TRAIL_EXPORT_LIMIT]
    )
    audit_event_append(
        action="audit.trail_exported",
        actor=request.user,
        obj=contract,
        payload={"format": fmt, "filters": request.GET.dict()},
    )

    class Echo:
        def write(self, value):
            return value

    def as_csv():
        writer = csv.writer(Echo())
        yield writer.writerow(
            [
                "sequence",
                "time_utc",
                "actor",
                "action",
                "object_type",
                "object_id",
                "object",
                "change",
                "prev_hash",
                "hash",
            ]
        )
        for row in rows.iterator(chunk_size=2000):
            yield writer.writerow(
                [
                    row["sequence"],
                    row["occurred_at"].isoformat(),
                    row["actor_label"],
                    row["action"],
                    row["object_type"],
                    row["object_id"],
                    row["object_label"],
                    json.dumps(row["payload"], ensure_ascii=False, sort_keys=True),
                    row["prev_hash"],
                    row["hash"],
                ]
            )

    def as_json():
        yield '{"contract":' + json.dumps(contract.reference) + ',"events":['
        first = True
        for row in rows.iterator(chunk_size=2000):
            row["occurred_at"] = row["occurred_at"].isoformat()
            yield ("" if first else ",") + json.dumps(row, ensure_ascii=False, sort_keys=True)
            first = False
        yield "]}"

    if fmt == "csv":
        response = StreamingHttpResponse(as_csv(), content_type="text/csv; charset=utf-8")
    else:
        response = StreamingHttpResponse(as_json(), content_type="application/json")
    response["Content-Disposition"] = f'attachment; filename="{contract.reference}-trail.{fmt}"'
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
def red_flags(request):
    """Computed red flags across all agencies, each with its explanation; opening the page is logged."""
    from itertools import groupby

    from audit.red_flags import red_flags as compute
    from audit.services import audit_event_append

    _require_auditor(request)
    flags = compute()
    audit_event_append(action="audit.red_flags_viewed", actor=request.user, payload={"flags": len(flags)})
    groups = [(kind, list(items)) for kind, items in groupby(flags, key=lambda flag: flag.title)]
    return render(request, "audit/red_flags.html", {"groups": groups, "count": len(flags)})
