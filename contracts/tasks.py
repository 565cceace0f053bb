"""Background work of the contracts app: rendering a frozen contract version's PDF (the contract or an
amendment)."""

from __future__ import annotations

import datetime
import hashlib
import logging

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import translation
from django_tasks import task

from audit.services import audit_event_append
from contracts import signing
from contracts.models import RISK_BEARERS, RISK_CATEGORIES, ContractVersion, Frequency, PaymentMechanism, RenderStatus
from contracts.signing import SignatureField
from core.pdf import load_weasyprint

logger = logging.getLogger(__name__)

#: The signature fields, in signing order; their boxes are the template's ``#sig-<name>`` areas.
SIGNATURE_FIELDS = ("vendor", "agency")
#: WeasyPrint lays out in CSS pixels (96 per inch); PDF user space is in points (72 per inch).
PX_TO_PT = 0.75

#: Arabic labels of the choices printed in the PDF (the English ones are the choices' own labels).
PAYMENT_MECHANISM_AR = {
    PaymentMechanism.AVAILABILITY: "دفعات الإتاحة",
    PaymentMechanism.USER_FEES: "رسوم المستخدمين",
    PaymentMechanism.MIXED: "مختلط (دفعات الإتاحة ورسوم المستخدمين)",
}
FREQUENCY_AR = {
    Frequency.MONTHLY: "شهريًا",
    Frequency.QUARTERLY: "كل ثلاثة أشهر",
    Frequency.SEMI_ANNUAL: "كل ستة أشهر",
    Frequency.ANNUAL: "سنويًا",
}
DOCUMENT_KIND_LABELS = {
    "tender_document": ("Tender document", "وثيقة المنافسة"),
    "addendum": ("Addendum", "ملحق"),
    "bid_envelope": ("Winning bid", "العرض الفائز"),
}


def _english(choices, value: str) -> str:
    with translation.override("en"):
        return str(dict(choices.choices).get(value, value))


def contract_facts(version: ContractVersion) -> dict:
    """What the PDF states: the version's frozen terms, with the labels of their codes in both languages."""
    terms = dict(version.terms)
    frozen_at = datetime.datetime.fromisoformat(terms["frozen_at"]).astimezone(datetime.UTC)
    terms["frozen_at_display"] = frozen_at.strftime("%Y-%m-%d %H:%M UTC")
    terms["frozen_at_iso"] = frozen_at.replace(microsecond=0).isoformat()
    terms["payment_mechanism_labels"] = (
        _english(PaymentMechanism, terms["payment_mechanism"]),
        PAYMENT_MECHANISM_AR.get(terms["payment_mechanism"], terms["payment_mechanism"]),
    )
    bearers = list(RISK_BEARERS)
    terms["risk_bearers"] = [{"code": b, "en": RISK_BEARERS[b][0], "ar": RISK_BEARERS[b][1]} for b in bearers]
    terms["risks"] = [
        {
            "code": row["code"],
            "en": RISK_CATEGORIES.get(row["code"], (row["code"], row["code"]))[0],
            "ar": RISK_CATEGORIES.get(row["code"], (row["code"], row["code"]))[1],
            "marks": [row["bearer"] == b for b in bearers],
        }
        for row in terms.get("risk_allocation", [])
    ]
    for kpi in terms.get("kpis", []):
        kpi["frequency_labels"] = (_english(Frequency, kpi["frequency"]), FREQUENCY_AR.get(kpi["frequency"], ""))
    for document in terms.get("documents", []):
        document["kind_labels"] = DOCUMENT_KIND_LABELS.get(document["kind"], (document["kind"], document["kind"]))
    return terms


def amendment_facts(version: ContractVersion) -> dict:
    """What an amendment's PDF states: its frozen terms, with the labels of their codes in both languages."""
    terms = dict(version.terms)
    frozen_at = datetime.datetime.fromisoformat(terms["frozen_at"]).astimezone(datetime.UTC)
    terms["frozen_at_display"] = frozen_at.strftime("%Y-%m-%d %H:%M UTC")
    terms["frozen_at_iso"] = frozen_at.replace(microsecond=0).isoformat()
    for change in terms.get("kpis", []):
        for side in ("before", "after"):
            if change.get(side):
                frequency = change[side]["frequency"]
                change[side]["frequency_labels"] = (_english(Frequency, frequency), FREQUENCY_AR.get(frequency, ""))
    return terms


def _render(version: ContractVersion) -> tuple[bytes, list[SignatureField]]:
    """The PDF's bytes and the boxes of its signature areas (found in the laid-out last page)."""
    weasyprint = load_weasyprint()
    if version.terms.get("kind") == "amendment":
        template, facts = "contracts/amendment_pdf.html", amendment_facts(version)
    else:
        template, facts = "contracts/contract_pdf.html", contract_facts(version)
    with translation.override("en"):
        html = render_to_string(template, {"facts": facts})
    document = weasyprint.HTML(string=html, base_url=str(settings.BASE_DIR)).render()
    boxes = []
    for name in SIGNATURE_FIELDS:
        anchor = f"sig-{name}"
        found = [(number, page) for number, page in enumerate(document.pages) if anchor in page.anchors]
        if not found:
            raise ValueError(f"The template has no signature area #{anchor}.")
        page_number, page = found[0]
        x1, y1, x2, y2 = page.anchors[anchor]
        # CSS pixels from the top left of the page; PDF points from the bottom left.
        height = page.height * PX_TO_PT
        box = (x1 * PX_TO_PT, height - y2 * PX_TO_PT, x2 * PX_TO_PT, height - y1 * PX_TO_PT)
        boxes.append(SignatureField(name, page_number, tuple(round(value) for value in box)))
    return document.write_pdf(), boxes


def render_version_pdf(version: ContractVersion) -> bytes:
    """The version's PDF with its empty signature fields: the same frozen version always gives the same bytes."""
    content, signature_fields = _render(version)
    frozen_at = datetime.datetime.fromisoformat(version.terms["frozen_at"]).astimezone(datetime.UTC)
    return signing.add_signature_fields(content, signature_fields, modified_at=frozen_at.replace(microsecond=0))


@task()
def render_contract_pdf(version_id: int) -> str:
    """Render a frozen contract version's bilingual PDF once, add the empty signature fields, store it with
    its SHA-256 and write the SHA-256 to the audit log.

    A failure is written on the version (status ``failed`` and the error) and never raised: rendering can
    be started again.
    """
    version = ContractVersion.objects.select_related("contract__tender__phase").filter(pk=version_id).first()
    if version is None:
        return ""
    if version.status == RenderStatus.RENDERED and version.pdf:
        return version.pdf_sha256
    try:
        content = render_version_pdf(version)
        digest = hashlib.sha256(content).hexdigest()
        name = f"{version.terms.get('reference', version.contract_id)}-v{version.number}.pdf"
        with transaction.atomic():
            version.pdf.save(name, ContentFile(content), save=False)
            ContractVersion.objects.filter(pk=version.pk).update(
                pdf=version.pdf.name, pdf_sha256=digest, status=RenderStatus.RENDERED, error=""
            )
            audit_event_append(
                action="contract.pdf_rendered",
                actor=None,
                obj=version.contract,
                payload={"version": version.number, "file": version.pdf.name, "sha256": digest, "size": len(content)},
            )
            from contracts.notify import contract_notify, contractor_signatories

            contract_notify(
                "contract.amendment_ready_to_sign" if version.amendment_id else "contract.ready_to_sign",
                version.contract,
                recipients=contractor_signatories(version.contract),
                amendment=version.amendment,
            )
    except Exception as error:  # noqa: BLE001 - nothing may reach the caller; the error is kept on the version
        logger.exception("The PDF of contract version %s could not be rendered", version.pk)
        ContractVersion.objects.filter(pk=version.pk).update(
            status=RenderStatus.FAILED, error=f"{type(error).__name__}: {error}"[:2000]
        )
        return ""
    return digest
