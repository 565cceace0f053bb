"""Background work of the procurement app."""

import datetime
import hashlib
import logging
import zoneinfo

from django.conf import settings
from django.core.files.base import ContentFile
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django_tasks import default_task_backend, task

from core.pdf import load_weasyprint
from procurement.bid_services import receipt_digest
from procurement.models import BidReceipt
from procurement.tender_services import advance_deadlines

logger = logging.getLogger(__name__)

#: How often the deadline scheduler runs itself again on a database-backed worker.
DEADLINE_INTERVAL = datetime.timedelta(minutes=1)


@task()
def advance_deadlines_task() -> list[str]:
    """Close every tender whose submission deadline has passed, then schedule the next run.

    The next run is queued only on a backend that can defer work (the database workers); with the
    immediate backend of tests and the demo, run ``manage.py advance_deadlines`` from cron instead.
    """
    closed = advance_deadlines()
    if default_task_backend.supports_defer:
        advance_deadlines_task.using(run_after=timezone.now() + DEADLINE_INTERVAL).enqueue()
    return closed


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
