"""The PDF report of a contract's trail.

An auditor asks for it from the trail page (with the filters in force); it is rendered in the background
(``audit.tasks.render_trail_report``) and the page shows its progress. The report states what it covers (the
filters, the events up to the log's last event when it was asked for), whether the trail verifies up to the
latest signed checkpoint, the documents with their SHA-256, and each event with its time, actor, kind, change,
sequence number and hash. Its own SHA-256 goes to the audit log. It is a reading aid: the proof is the proof
bundle, which ``manage.py verify_audit_bundle`` checks offline.
"""

from __future__ import annotations

import hashlib
import json
import logging

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation

from audit.models import AuditEvent, TrailReport, TrailReportStatus
from audit.services import audit_event_append

logger = logging.getLogger(__name__)

#: Events in one PDF report at most; the CSV and JSON exports carry the whole trail.
TRAIL_REPORT_LIMIT = 5000
#: Characters of an event's change shown in the PDF (the exports and the event's page have all of it).
CHANGE_CHARS = 700
#: The filters a report keeps (those of the trail page).
FILTER_KEYS = ("kind", "actor", "since", "until")


@transaction.atomic
def trail_report_request(*, actor, contract, filters: dict, language: str) -> TrailReport:
    """Record an auditor's request for a PDF report of a contract's trail and render it after the commit."""
    from audit.tasks import render_trail_report

    last = AuditEvent.objects.order_by("-sequence").values_list("sequence", flat=True).first() or 0
    kept = {key: str(filters[key])[:200] for key in FILTER_KEYS if filters.get(key)}
    report = TrailReport.objects.create(
        contract=contract,
        requested_by=actor,
        requested_at=timezone.now(),
        language=language if language in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE,
        filters=kept,
        up_to_sequence=last,
    )
    audit_event_append(
        action="audit.trail_report_requested",
        actor=actor,
        obj=contract,
        payload={"report_id": report.pk, "filters": kept, "up_to_sequence": last, "language": report.language},
    )
    transaction.on_commit(lambda: render_trail_report.enqueue(report.pk), robust=True)
    return report


def _events(report: TrailReport):
    from audit.filters import TrailFilter
    from audit.trail import trail_filter

    filterset = TrailFilter(
        report.filters,
        queryset=AuditEvent.objects.filter(trail_filter(report.contract), sequence__lte=report.up_to_sequence),
    )
    return filterset.qs.order_by("sequence")


def trail_report_facts(report: TrailReport) -> dict:
    from audit.bundles import trail_integrity
    from audit.filters import TrailFilter
    from audit.trail import KIND_LABELS, kinds_of, trail_documents

    contract = report.contract
    rows = list(_events(report)[: TRAIL_REPORT_LIMIT + 1])
    truncated = len(rows) > TRAIL_REPORT_LIMIT
    events = []
    for event in rows[:TRAIL_REPORT_LIMIT]:
        change = json.dumps(event.payload, ensure_ascii=False, sort_keys=True) if event.payload else ""
        events.append(
            {
                "sequence": event.sequence,
                "time": event.occurred_at.strftime("%Y-%m-%d %H:%M:%S"),
                "actor": event.actor_label,
                "kinds": [str(KIND_LABELS[kind]) for kind in kinds_of(event.action)],
                "action": event.action,
                "object": event.object_label,
                "change": change if len(change) <= CHANGE_CHARS else change[:CHANGE_CHARS] + "…",
                "hash": event.hash,
            }
        )
    form = TrailFilter(report.filters).form
    filters = []
    if form.is_valid():
        for key, value in form.cleaned_data.items():
            if value:
                shown = KIND_LABELS.get(value, value) if key == "kind" else value
                filters.append((str(form.fields[key].label), str(shown)))
    return {
        "report": report,
        "contract": contract,
        "events": events,
        "truncated": truncated,
        "limit": TRAIL_REPORT_LIMIT,
        "filters": filters,
        "integrity": trail_integrity(contract),
        "documents": trail_documents(contract),
        "requested_at": report.requested_at.strftime("%Y-%m-%d %H:%M UTC"),
    }


def _trail_report_pdf(report: TrailReport) -> tuple[bytes, int]:
    from core.pdf import load_weasyprint

    weasyprint = load_weasyprint()
    facts = trail_report_facts(report)
    with translation.override(report.language):
        html = render_to_string("audit/trail_report_pdf.html", {"facts": facts})
    return weasyprint.HTML(string=html, base_url=str(settings.BASE_DIR)).write_pdf(), len(facts["events"])


def trail_report_render(report_id: int) -> str:
    """Render a requested report once and store it with its SHA-256 (logged). A failure is kept on the report
    and never raised: the auditor sees it and can ask again."""
    report = (
        TrailReport.objects.select_related("contract__tender__phase", "contract__vendor", "contract__agency")
        .filter(pk=report_id)
        .first()
    )
    if report is None:
        return ""
    if report.status == TrailReportStatus.RENDERED:
        return report.sha256
    try:
        content, count = _trail_report_pdf(report)
        digest = hashlib.sha256(content).hexdigest()
        with transaction.atomic():
            report.pdf.save(
                f"{report.contract.reference}-trail-report-{report.pk}.pdf", ContentFile(content), save=False
            )
            TrailReport.objects.filter(pk=report.pk).update(
                pdf=report.pdf.name,
                sha256=digest,
                events=count,
                status=TrailReportStatus.RENDERED,
                rendered_at=timezone.now(),
                error="",
            )
            audit_event_append(
                action="audit.trail_report_rendered",
                actor=None,
                obj=report.contract,
                payload={"report_id": report.pk, "sha256": digest, "size": len(content), "events": count},
            )
    except Exception as error:  # noqa: BLE001 - nothing may reach the caller; the error is kept on the report
        logger.exception("The trail report %s could not be rendered", report.pk)
        TrailReport.objects.filter(pk=report.pk).update(
            status=TrailReportStatus.FAILED, error=f"{type(error).__name__}: {error}"[:2000]
        )
        return ""
    return digest
