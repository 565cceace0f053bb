"""The demo's contract: the internal certificate authority (created once), and the contract of the awarded demo
tender drafted through the services, frozen into its bilingual PDF, signed by the contractor's administrator and
countersigned by the agency's officer — in force.

Idempotent: an existing CA is kept, and nothing is done when the awarded tender already has a contract.
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from io import StringIO

from django.core.management import call_command

from accounts.models import User
from contracts import services
from contracts.models import RISK_CATEGORIES, Contract, ContractStatus
from contracts.tasks import render_contract_pdf
from core.demo_data import DEMO_PASSWORD
from core.demo_evaluation import AWARDED, STAGES
from procurement.models import Recommendation, Tender
from procurement.models.evaluation import RecommendationStatus

#: Who bears each risk (OCDS PPP risk categories); anything not listed is the contractor's.
PUBLIC_RISKS = {"landAvailability": "public", "changeInLaw": "public", "forceMajeure": "shared"}


def _awarded_tender() -> Tender | None:
    spec = next(spec for spec in STAGES if spec["stage"] == AWARDED)
    return Tender.objects.filter(title_en=spec["title_en"]).first()


def ensure_contract_ca() -> bool:
    """Create the contract CA and its time-stamp authority if they are missing; return whether it was made."""
    paths = services.authority_paths()
    if all(path.exists() for path in paths.values()):
        return False
    call_command("contracts_ca_init", force=True, stdout=StringIO())
    return True


def demo_contract() -> Contract | None:
    tender = _awarded_tender()
    if tender is None:
        return None
    return Contract.objects.filter(tender=tender).order_by("-id").first()


def seed_demo_contracts(*, officer) -> int:
    """Bring the awarded demo tender's contract into force; return how many contracts were made (0 or 1)."""
    tender = _awarded_tender()
    if tender is None or Contract.objects.filter(tender=tender).exists():
        return 0
    recommendation = (
        Recommendation.objects.select_related("bid__vendor")
        .filter(tender=tender, status=RecommendationStatus.FINAL)
        .first()
    )
    if recommendation is None:
        return 0
    ensure_contract_ca()
    contract = services.contract_create_from_award(actor=officer, tender=tender)
    start = datetime.date(datetime.date.today().year + 1, 1, 1)
    allocation = dict.fromkeys(RISK_CATEGORIES, "private")
    allocation.update(PUBLIC_RISKS)
    services.contract_update_draft(
        actor=officer,
        contract=contract,
        data={
            "start_date": start,
            "end_date": start.replace(year=start.year + 3) - datetime.timedelta(days=1),
            "payment_mechanism": "availability",
            "penalty_rate": "0.05",
            "penalty_cap": "10",
            "risk_allocation": allocation,
        },
    )
    services.contract_kpi_add(
        actor=officer,
        contract=contract,
        name_en="Critical findings remediated within 30 days",
        name_ar="معالجة الثغرات الحرجة خلال 30 يومًا",
        target="95",
        unit="%",
        frequency="quarterly",
    )
    contract.refresh_from_db()
    services.contract_milestone_add(
        actor=officer,
        contract=contract,
        title_en="First penetration test report accepted",
        title_ar="قبول تقرير اختبار الاختراق الأول",
        due_date=start + datetime.timedelta(days=120),
        payment_amount=str((contract.value / 4).quantize(Decimal("0.01"))),
    )
    contract.refresh_from_db()
    version = services.contract_freeze(actor=officer, contract=contract)
    # Rendered now (the freeze's own hook runs after the demo's transaction commits, and then finds it done).
    render_contract_pdf.call(version.pk)
    vendor_admin = User.objects.get(email="vendor@demo.gov")
    for signer in (vendor_admin, officer):
        services.signer_key_issue(user=signer, password=DEMO_PASSWORD)
        services.contract_sign(actor=signer, contract=contract, password=DEMO_PASSWORD)
    contract.refresh_from_db()
    if contract.status != ContractStatus.ACTIVE:
        raise RuntimeError(f"The demo contract {contract.reference} is “{contract.status}”, not active.")
    return 1


def contract_demo_guide() -> list[str]:
    """How to find and check the demo contract."""
    contract = demo_contract()
    if contract is None:
        return []
    version = contract.versions.order_by("-number").first()
    signature = version.signatures.order_by("-signed_at", "-id").first() if version else None
    lines = [
        f"{contract.reference} “{contract.title_en}” with {contract.vendor} is “{contract.get_status_display()}”, "
        f"signed by {', '.join(s.signer.email for s in version.signatures.order_by('signed_at', 'id'))}."
        if version
        else f"{contract.reference} is “{contract.get_status_display()}”."
    ]
    if signature is not None:
        path = signature.pdf.path if hasattr(signature.pdf, "path") else signature.pdf.name
        ca = services.authority_paths()["ca_cert"]
        lines.append(f"Verify its signatures: manage.py verify_signatures {path} --trust {ca}")
    return lines


__all__ = ["contract_demo_guide", "demo_contract", "ensure_contract_ca", "seed_demo_contracts"]
