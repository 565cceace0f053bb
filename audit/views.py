from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, render
from django.utils.translation import gettext as _

from audit.filters import AuditEventFilter
from audit.models import AuditCheckpoint, AuditEvent
from core.pagination import keyset_page
from core.uploads import open_hashed


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
    request.audit_view_logged = True
    response = HttpResponse(
        json.dumps(bundle, ensure_ascii=False, separators=(",", ":")), content_type="application/json"
    )
    response["Content-Disposition"] = f'attachment; filename="{contract.reference}-proof-bundle.json"'
    patch_cache_control(response, private=True, no_store=True)
    return response


TRAIL_EXPORT_LIMIT = 100_000


def trail_events(data, contract):
    from audit.filters import TrailFilter
    from audit.trail import trail_filter

    return TrailFilter(data, queryset=AuditEvent.objects.filter(trail_filter(contract)))


def trail_contract(pk: int):
    from contracts.models import Contract

    return get_object_or_404(Contract.objects.select_related("tender__phase__programme", "vendor", "agency"), pk=pk)


@login_required
def contract_trail(request, pk: int):
    """An auditor follows a contract from its tender's preparation to its last payment: one timeline of the
    audit log's events, each with its actor, time, change, sequence number and hash; filters; whether the
    trail verifies up to the latest signed checkpoint. Opening it is logged."""
    _require_auditor(request)
    contract = trail_contract(pk)
    return _trail_page(request, contract, trail_events(request.GET, contract), filters=request.GET.dict())


def _trail_page(request, contract, filterset, *, filters: dict, status: int = 200):
    """The trail page with ``filterset`` (bound to the query, or to a refused report request's filters, which
    it shows again with their errors); its opening is logged with the filters."""
    from django.utils.cache import patch_cache_control

    from audit.bundles import trail_integrity
    from audit.services import audit_event_append
    from audit.trail import KIND_LABELS, check_documents, kinds_of, trail_documents

    page = keyset_page(
        filterset.qs,
        key="sequence",
        after=request.GET.get("after"),
        before=request.GET.get("before"),
        size=50,
        to_python=int,
    )
    documents = trail_documents(contract)
    check = request.GET.get("check") == "documents"
    checks = check_documents(contract, documents) if check else {}
    audit_event_append(
        action="audit.trail_viewed",
        actor=request.user,
        obj=contract,
        payload={
            "filters": filters,
            **({"documents_checked": {key: row["ok"] for key, row in checks.items()}} if check else {}),
        },
    )
    request.audit_view_logged = True
    for event in page.items:
        event.kinds = [KIND_LABELS[kind] for kind in kinds_of(event.action)]
    response = render(
        request,
        "audit/contract_trail.html",
        {
            "contract": contract,
            "filter": filterset,
            "page": page,
            "integrity": trail_integrity(contract),
            "documents": [(document, checks.get(document.key)) for document in documents],
            "checked": check,
        },
        status=status,
    )
    patch_cache_control(response, private=True, no_store=True)
    return response


def _refuse_altered(request, contract, document, *, found: str | None, payload: dict):
    """A stored file that no longer matches its recorded SHA-256 is not served: the page says what was expected
    and what was found, and the mismatch is logged."""
    from django.utils.cache import patch_cache_control

    from audit.services import audit_event_append

    audit_event_append(
        action="audit.document_integrity_failed",
        actor=request.user,
        obj=contract,
        payload={
            **payload,
            "file": document.file.name,
            "expected_sha256": document.sha256,
            "found_sha256": found or "",
        },
    )
    response = render(
        request,
        "audit/document_mismatch.html",
        {"contract": contract, "document": document, "found": found},
        status=409,
    )
    patch_cache_control(response, private=True, no_store=True)
    return response


@login_required
def contract_document(request, pk: int, key: str):
    """An auditor downloads a document of a contract's trail: its SHA-256 is recomputed as it is read and
    compared with the one recorded when it was stored; a document that no longer matches is not served as if
    it were the original — the page says what was expected and what was found. Both are logged."""
    from django.http import FileResponse, Http404
    from django.utils.cache import patch_cache_control

    from audit.services import audit_event_append
    from audit.trail import trail_document
    from contracts.models import Contract

    _require_auditor(request)
    contract = get_object_or_404(Contract.objects.select_related("tender__phase"), pk=pk)
    document = trail_document(contract, key)
    if document is None or not document.file:
        raise Http404
    handle, found = open_hashed(document.file)
    request.audit_view_logged = True
    if found != document.sha256:
        if handle is not None:
            handle.close()
        return _refuse_altered(request, contract, document, found=found, payload={"document": key})
    try:
        audit_event_append(
            action="audit.document_downloaded",
            actor=request.user,
            obj=contract,
            payload={"document": key, "sha256": found},
        )
    except BaseException:
        handle.close()
        raise
    response = FileResponse(handle, as_attachment=True, filename=document.name)
    response["X-Content-SHA256"] = found
    response["X-Content-Type-Options"] = "nosniff"
    patch_cache_control(response, private=True, no_store=True)
    return response


@login_required
def contract_trail_export(request, pk: int, fmt: str):
    """The (filtered) trail as CSV or JSON, streamed; the export is logged."""
    import csv
    import json

    from django.http import Http404, StreamingHttpResponse

    from audit.services import audit_event_append
    from audit.trail import kinds_of
    from contracts.models import Contract

    _require_auditor(request)
    if fmt not in ("csv", "json"):
        raise Http404
    contract = get_object_or_404(Contract.objects.select_related("tender__phase"), pk=pk)
    rows = (
        trail_events(request.GET, contract)
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
    request.audit_view_logged = True

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
                "kinds",
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
                    " ".join(kinds_of(row["action"])),
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
            row["kinds"] = kinds_of(row["action"])
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
    request.audit_view_logged = True
    groups = [(kind, list(items)) for kind, items in groupby(flags, key=lambda flag: flag.title)]
    return render(request, "audit/red_flags.html", {"groups": groups, "count": len(flags)})


@login_required
def trail_report_request(request, pk: int):
    """An auditor asks for a PDF report of the trail, with the filters in force; it is rendered in the
    background and its page shows the progress. Filters that the trail page would refuse are refused here too:
    the page is shown again with them and their errors, and no report is made."""
    from django.http import HttpResponseNotAllowed
    from django.shortcuts import redirect
    from django.utils import translation

    from audit.reports import FILTER_KEYS
    from audit.reports import trail_report_request as request_report

    _require_auditor(request)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    contract = trail_contract(pk)
    filters = {key: value for key, value in request.POST.dict().items() if key in FILTER_KEYS}
    filterset = trail_events(filters, contract)
    if not filterset.is_valid():
        messages.error(request, _("The report was not prepared: correct the filters below."))
        return _trail_page(request, contract, filterset, filters=filters, status=400)
    report = request_report(actor=request.user, contract=contract, filters=filters, language=translation.get_language())
    request.audit_view_logged = True
    return redirect("audit:trail_report", report.pk)


@login_required
def trail_report(request, pk: int):
    """The report's progress (the page refreshes itself while it is being prepared) and, once ready, its
    download with its SHA-256."""
    from django.utils.cache import patch_cache_control

    from audit.models import TrailReport, TrailReportStatus

    _require_auditor(request)
    report = get_object_or_404(TrailReport.objects.select_related("contract", "requested_by"), pk=pk)
    if report.status == TrailReportStatus.RENDERING:
        # The page reloads itself every few seconds while it waits; the request itself was logged
        # (audit.trail_report_requested), its polls are not.
        request.audit_view_logged = True
    response = render(request, "audit/trail_report.html", {"report": report, "contract": report.contract})
    patch_cache_control(response, private=True, no_store=True)
    return response


@login_required
def trail_report_download(request, pk: int):
    """The rendered report, served from the one open file whose SHA-256 was just checked against the one the
    audit log recorded for it; an altered report is not served."""
    from django.http import FileResponse, Http404
    from django.utils.cache import patch_cache_control

    from audit.models import TrailReport, TrailReportStatus
    from audit.services import audit_event_append
    from audit.trail import TrailDocument

    _require_auditor(request)
    report = get_object_or_404(TrailReport.objects.select_related("contract__tender__phase"), pk=pk)
    if report.status != TrailReportStatus.RENDERED or not report.pdf:
        raise Http404
    filename = f"{report.contract.reference}-trail-{report.pk}.pdf"
    handle, found = open_hashed(report.pdf)
    request.audit_view_logged = True
    if found != report.sha256:
        if handle is not None:
            handle.close()
        document = TrailDocument(
            key=f"trail-report-{report.pk}",
            kind=_("Trail report"),
            title=filename,
            sha256=report.sha256,
            file=report.pdf,
        )
        return _refuse_altered(request, report.contract, document, found=found, payload={"report_id": report.pk})
    try:
        audit_event_append(
            action="audit.trail_report_downloaded",
            actor=request.user,
            obj=report.contract,
            payload={"report_id": report.pk, "sha256": report.sha256},
        )
    except BaseException:
        handle.close()
        raise
    response = FileResponse(handle, as_attachment=True, filename=filename, content_type="application/pdf")
    response["X-Content-SHA256"] = found
    patch_cache_control(response, private=True, no_store=True)
    return response
