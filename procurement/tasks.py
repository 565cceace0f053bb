"""Background work of the procurement app."""

import datetime
import hashlib
import logging
import zoneinfo

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django_tasks import default_task_backend, task

from audit.services import audit_event_append
from core.pdf import load_weasyprint
from procurement import scoring
from procurement.bid_services import receipt_digest
from procurement.models import BidReceipt, ComplianceDecision, PriceReview, Recommendation
from procurement.models.tenders import EvaluationMethod
from procurement.tender_services import advance_deadlines

logger = logging.getLogger(__name__)

#: How often the deadline scheduler runs itself again on a database-backed worker.
DEADLINE_INTERVAL = datetime.timedelta(minutes=1)


@task()
def advance_deadlines_task() -> list[str]:
    """Perform every time-driven transition that is due (``advance_deadlines``: tenders, awards, overdue
    milestones, vendors' expired documents and debarments), then schedule the next run.

    The next run is queued only on a backend that can defer work (the database workers), and is queued even
    when this run fails, so one failure does not stop the scheduler; with the immediate backend of tests and
    the demo, run ``manage.py advance_deadlines`` from cron instead.
    """
    try:
        return advance_deadlines()
    finally:
        if default_task_backend.supports_defer:
            advance_deadlines_task.using(run_after=timezone.now() + DEADLINE_INTERVAL).enqueue()


# Bid receipts ------------------------------------------------------------------------------------

#: The receipt's envelopes in the order they are printed.
_ENVELOPE_ORDER = {"technical": 0, "financial": 1, "file": 2}


def _zone(name: str):
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo(settings.DISPLAY_TIME_ZONE)


def _exact(moment: datetime.datetime) -> str:
    """A time to the microsecond, as the server recorded it (the receipt's time is the proof)."""
    return moment.strftime("%Y-%m-%d %H:%M:%S.%f")


def receipt_facts(receipt: BidReceipt) -> dict:
    """What a receipt states, the same on its page and in its PDF: who, what, when (UTC and the tender
    agency's time), which version, and each sealed envelope's SHA-256 and size. Never the bid's content."""
    bid = receipt.bid
    tender = bid.tender
    zone_name = tender.agency.time_zone or settings.DISPLAY_TIME_ZONE
    zone = _zone(zone_name)
    utc = receipt.server_time.astimezone(datetime.UTC)
    local = receipt.server_time.astimezone(zone)
    envelopes = sorted(
        (dict(e) for e in receipt.envelopes if isinstance(e, dict)),
        key=lambda e: (_ENVELOPE_ORDER.get(e.get("envelope"), 9), str(e.get("label", ""))),
    )
    return {
        "receipt": receipt,
        "bid": bid,
        "tender": tender,
        "vendor": bid.vendor,
        "number": str(receipt.number),
        "action": receipt.action,
        "version": receipt.version,
        "utc": _exact(utc),
        "utc_iso": utc.isoformat(),
        "local": _exact(local),
        "local_offset": local.strftime("%z")[:3] + ":" + local.strftime("%z")[3:],
        "zone": zone_name,
        "envelopes": envelopes,
        "audit_sequence": receipt.audit_sequence,
        "audit_hash": receipt.audit_hash,
        "digest": receipt_digest(receipt),
    }


def _receipt_pdf(receipt: BidReceipt) -> bytes:
    weasyprint = load_weasyprint()
    facts = receipt_facts(receipt)
    # Both languages are printed side by side whatever the language of whoever caused the rendering.
    with translation.override("en"):
        html = render_to_string("procurement/bids/receipt_pdf.html", {"facts": facts})
    # The document's dates are the receipt's own time (see the template), not the time of rendering.
    return weasyprint.HTML(string=html, base_url=str(settings.BASE_DIR)).write_pdf()


@task()
def render_bid_receipt_pdf(receipt_id: int) -> str:
    """Render a receipt's bilingual PDF once and store it with its SHA-256.

    A failure is written on the receipt (``pdf_error``) and never raised: the receipt itself, its page and
    the bid are valid without the PDF, which can be rendered again.
    """
    receipt = BidReceipt.objects.select_related("bid__tender__agency", "bid__vendor").filter(pk=receipt_id).first()
    if receipt is None:
        return ""
    if receipt.pdf:
        return receipt.pdf_sha256
    try:
        content = _receipt_pdf(receipt)
        digest = hashlib.sha256(content).hexdigest()
        receipt.pdf.save(f"{receipt.number}.pdf", ContentFile(content), save=False)
        BidReceipt.objects.filter(pk=receipt.pk).update(pdf=receipt.pdf.name, pdf_sha256=digest, pdf_error="")
    except Exception as error:  # noqa: BLE001 - nothing may reach the caller; the error is kept on the receipt
        logger.exception("The PDF of bid receipt %s could not be rendered", receipt.number)
        BidReceipt.objects.filter(pk=receipt.pk).update(pdf_error=f"{type(error).__name__}: {error}"[:2000])
        return ""
    return digest


# Evaluation reports ------------------------------------------------------------------------------

#: The reasons ``procurement.scoring`` gives a result, in both languages of the report.
REASON_LABELS = {
    scoring.NOT_RESPONSIVE: ("Not responsive", "غير مستوفٍ للمتطلبات الإدارية"),
    scoring.BELOW_PASS_MARK: ("Below the pass mark", "دون الحد الأدنى للنجاح الفني"),
    scoring.PRICE_SEALED: ("Price not opened", "السعر لم يُفتح"),
    scoring.PRICE_REJECTED: ("Abnormally low price rejected", "رُفض السعر المنخفض بشكل غير طبيعي"),
    scoring.OVER_BUDGET: ("Over the budget", "يتجاوز الميزانية"),
    scoring.ABNORMALLY_LOW: ("Abnormally low price", "سعر منخفض بشكل غير طبيعي"),
    scoring.TIE_BROKEN: ("Tie broken by the published rule", "كُسر التعادل وفق القاعدة المعلنة"),
}

#: The published tie-break rule in Arabic; printed only beside the exact English text it translates.
TIE_BREAK_AR = {
    scoring.TIE_BREAK: (
        "إذا تساوت درجة الترتيب لعرضين أو أكثر (قبل التقريب)، يتقدم العرض ذو الدرجة الفنية الأعلى؛ فإن تساويا "
        "فالعرض ذو السعر الأقل؛ فإن تساويا فالعرض المقدَّم أولًا؛ فإن تساويا فالعرض ذو الرقم الأصغر."
    ),
}


def _in_both(value) -> tuple[str, str]:
    """A lazily translated text (a choice label) in English and in Arabic."""
    with translation.override("en"):
        english = str(value)
    with translation.override("ar"):
        arabic = str(value)
    return english, arabic


def _matrix(tender, results: list[dict], member_emails: list[str]) -> list[dict]:
    """The score matrix, one table per bid that was scored: a row per criterion, a column per member."""
    from procurement import evaluation_services

    if not evaluation_services.all_scores_in(tender):
        return []
    matrix = evaluation_services.score_matrix(tender)
    names = {r["bid_id"]: r for r in results}
    tables = []
    for row in matrix["rows"]:
        if not any(cell["scores"] or cell["consensus"] for cell in row["cells"]):
            continue  # not responsive or every member recused: nothing was scored
        bid = row["bid"]
        lines = []
        justifications = []
        for cell in row["cells"]:
            by_member = {score.member.user.email: score for score in cell["scores"]}
            lines.append(
                {
                    "criterion": cell["criterion"],
                    "scores": [by_member.get(email) for email in member_emails],
                    "spread": cell["spread"],
                    "over_spread": cell["over_spread"],
                    "consensus": cell["consensus"],
                    "agreed": cell["agreed"],
                }
            )
            justifications += [{"criterion": cell["criterion"], "score": score} for score in cell["scores"]]
        result = names.get(bid.pk, {})
        tables.append(
            {
                "bid": bid,
                "bidder": result.get("bidder") or bid.vendor.legal_name_en,
                "bidder_ar": result.get("bidder_ar") or bid.vendor.legal_name_ar,
                "lines": lines,
                "justifications": justifications,
            }
        )
    return tables


def evaluation_report_facts(recommendation: Recommendation) -> dict:
    """What the evaluation report states: the rules, the committee and its declarations, compliance, the score
    matrix, the results and the ranking as they stood when the committee recommended, and the recommendation.

    The results, members and declarations come from the recommendation's own record (``evaluation``); the
    scores, compliance decisions and price reviews, which cannot change once recommended, from their tables.
    """
    tender = recommendation.tender
    snapshot = recommendation.evaluation or {}
    results = [dict(r) for r in snapshot.get("results", [])]
    for result in results:
        result["reason_labels"] = [REASON_LABELS.get(code, (code, code)) for code in result.get("reasons", [])]
    by_bid = {r["bid_id"]: r for r in results}
    members = [dict(m) for m in snapshot.get("members", [])]
    member_emails = sorted(m["member"] for m in members)
    names = {m["member"]: m.get("name") or m["member"] for m in members}
    declarations = [
        {
            **d,
            "name": names.get(d["member"], d["member"]),
            "bidder": by_bid.get(d["bid_id"], {}).get("bidder", ""),
            "bidder_ar": by_bid.get(d["bid_id"], {}).get("bidder_ar", ""),
        }
        for d in snapshot.get("declarations", [])
    ]
    declarations.sort(key=lambda d: (not d["conflict"], d["name"], d["bid_id"]))
    compliance = {c.bid_id: c for c in ComplianceDecision.objects.filter(bid_id__in=by_bid)}
    reviews = {r.bid_id: r for r in PriceReview.objects.filter(bid_id__in=by_bid)}
    ordered = sorted(results, key=lambda r: (r.get("rank") is None, r.get("rank") or 0, r["bid_id"]))
    zone = _zone(tender.agency.time_zone or settings.DISPLAY_TIME_ZONE)
    recommended_at = recommendation.recommended_at.astimezone(datetime.UTC)
    winner = by_bid.get(recommendation.bid_id, {})
    method = snapshot.get("method") or tender.evaluation_method
    tie_break = snapshot.get("tie_break", "")
    return {
        "recommendation": recommendation,
        "tender": tender,
        "number": f"{tender.reference}-R{recommendation.pk}",
        "method": method,
        "method_label": _in_both(EvaluationMethod(method).label)
        if method in EvaluationMethod.values
        else (method,) * 2,
        "consensus_rule": _in_both(tender.get_consensus_rule_display()),
        "quality_cost": method == EvaluationMethod.QUALITY_COST,
        "tie_break": tie_break,
        "tie_break_ar": TIE_BREAK_AR.get(tie_break, ""),
        "criteria": list(tender.criteria.order_by("order", "pk")),
        "members": sorted(members, key=lambda m: (not m.get("chair"), m.get("name", ""))),
        "member_columns": [names[email] for email in member_emails],
        "declarations": declarations,
        "compliance": [
            {"result": r, "decision": compliance.get(r["bid_id"])} for r in sorted(results, key=lambda r: r["bid_id"])
        ],
        "matrix": _matrix(tender, results, member_emails),
        "spread_limit": settings.EVALUATION_SCORE_SPREAD,
        "results": sorted(results, key=lambda r: r["bid_id"]),
        "ranking": [r for r in ordered if r.get("rank")],
        "price_reviews": [{"result": by_bid[bid_id], "review": review} for bid_id, review in sorted(reviews.items())],
        "flagged": [r for r in results if r.get("abnormally_low")],
        "winner": winner,
        "recommended_at_utc": recommended_at.strftime("%Y-%m-%d %H:%M UTC"),
        "recommended_at_local": recommendation.recommended_at.astimezone(zone).strftime("%Y-%m-%d %H:%M"),
        "recommended_at_iso": recommended_at.replace(microsecond=0).isoformat(),
        "zone": zone.key,
    }


def _evaluation_report_pdf(recommendation: Recommendation) -> bytes:
    weasyprint = load_weasyprint()
    facts = evaluation_report_facts(recommendation)
    # One document in both languages, whoever caused the rendering; its dates are the recommendation's.
    with translation.override("en"):
        html = render_to_string("procurement/evaluation/report_pdf.html", {"facts": facts})
    return weasyprint.HTML(string=html, base_url=str(settings.BASE_DIR)).write_pdf()


@task()
def render_evaluation_report(recommendation_id: int) -> str:
    """Render a recommendation's bilingual evaluation report once, store it with its SHA-256 on the
    recommendation (the tender's record of its evaluation) and write the SHA-256 to the audit log.

    A failure is written on the recommendation (``report_error``) and never raised: the recommendation stands
    without its report, which can be rendered again.
    """
    recommendation = (
        Recommendation.objects.select_related("tender__agency", "bid__vendor").filter(pk=recommendation_id).first()
    )
    if recommendation is None:
        return ""
    if recommendation.report:
        return recommendation.report_sha256
    try:
        content = _evaluation_report_pdf(recommendation)
        digest = hashlib.sha256(content).hexdigest()
        name = f"{recommendation.tender.reference}-evaluation-report-{recommendation.pk}.pdf"
        with transaction.atomic():
            recommendation.report.save(name, ContentFile(content), save=False)
            Recommendation.objects.filter(pk=recommendation.pk).update(
                report=recommendation.report.name, report_sha256=digest, report_error=""
            )
            audit_event_append(
                action="evaluation.report_rendered",
                actor=None,
                obj=recommendation.tender,
                payload={
                    "recommendation_id": recommendation.pk,
                    "file": recommendation.report.name,
                    "sha256": digest,
                    "size": len(content),
                },
            )
    except Exception as error:  # noqa: BLE001 - nothing may reach the caller; the error is kept on the record
        logger.exception("The evaluation report of recommendation %s could not be rendered", recommendation.pk)
        Recommendation.objects.filter(pk=recommendation.pk).update(
            report="", report_sha256="", report_error=f"{type(error).__name__}: {error}"[:2000]
        )
        return ""
    return digest
