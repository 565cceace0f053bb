"""The demo's contracts, in every state, all made through the services: the internal certificate authority
(created once); the awarded demo tender's contract, signed by the contractor's administrator and countersigned by
the agency's officer — in force, with amendment 1 in force (signed by both) and amendment 2 waiting for the
approver; and three more awarded tenders whose contracts are terminated (and drafted again), awaiting the agency's
countersignature, and completed.

Idempotent: an existing CA is kept, and a tender that already has a contract is left alone.
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from io import StringIO

from django.core.management import call_command
from django.db import transaction

from accounts.models import User
from contracts import amendments, monitoring, services
from contracts.models import RISK_CATEGORIES, Contract, ContractStatus, ContractVersion
from contracts.tasks import render_contract_pdf
from core.demo_data import DEMO_PASSWORD
from core.demo_evaluation import AWARDED, STAGES, _clock, _seed_stage
from core.demo_tenders import tender_document
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


#: More awarded tenders, for the contracts in the other states (bids: bidder, price, offer, base scores).
CONTRACT_STAGES = [
    {
        "stage": AWARDED,
        "contract": "terminated_and_redrafted",
        "phase": 2,
        "title_en": "Smart street lighting control for the new districts",
        "title_ar": "التحكم الذكي في إنارة الشوارع للأحياء الجديدة",
        "category": "services",
        "value": "7400000",
        "days_ago": 80,
        "bids": [
            ("vendor6@demo.gov", "7150000.00", "Lighting control platform and field gateways", (84, 80, 79)),
            ("vendor5@demo.gov", "7290000.00", "Networked lighting management", (75, 73, 71)),
        ],
        "not_responsive": {},
        "outliers": {},
        "consensus": {},
        "termination": (
            "The frozen text named the wrong payment mechanism (user fees instead of availability payments); the "
            "contract is terminated before signature and drafted again from the same award."
        ),
    },
    {
        "stage": AWARDED,
        "contract": "awaiting_agency",
        "phase": 2,
        "title_en": "Operation of the government contact centre",
        "title_ar": "تشغيل مركز الاتصال الحكومي",
        "category": "services",
        "value": "12600000",
        "days_ago": 75,
        "bids": [
            ("vendor5@demo.gov", "12100000.00", "Contact centre operation, 120 agents, 24/7", (86, 82, 80)),
            ("vendor@demo.gov", "12350000.00", "Omnichannel contact centre", (74, 72, 70)),
        ],
        "not_responsive": {},
        "outliers": {},
        "consensus": {},
    },
    {
        "stage": AWARDED,
        "contract": "monitored",
        "phase": 2,
        "title_en": "Managed network services for government buildings",
        "title_ar": "خدمات الشبكات المُدارة للمباني الحكومية",
        "category": "services",
        "value": "10400000",
        "days_ago": 85,
        "bids": [
            ("vendor6@demo.gov", "9800000.00", "Managed LAN/WAN for 40 buildings, 24/7 NOC", (85, 83, 81)),
            ("vendor5@demo.gov", "10150000.00", "Managed network and security services", (77, 74, 72)),
        ],
        "not_responsive": {},
        "outliers": {},
        "consensus": {},
        "clarification": (
            "vendor5@demo.gov",
            "Are the 40 buildings' current switches to be reused or replaced?",
            "Replaced: the site list added by addendum gives each building's current equipment and its end of "
            "support date.",
        ),
        "addendum": (
            "Site list with each building's current network equipment added.",
            "إضافة قائمة المواقع مع معدات الشبكة الحالية في كل مبنى.",
        ),
        "dismissed_complaint": (
            "Our security operations design was scored below the winner's although it covers more buildings.",
            "Dismissed: each member's scores are justified in writing against the published criteria, and the "
            "coverage of buildings is the same in both bids.",
        ),
    },
    {
        "stage": AWARDED,
        "contract": "completed",
        "phase": 1,
        "title_en": "Data centre cooling retrofit",
        "title_ar": "تحديث أنظمة التبريد في مركز البيانات",
        "category": "services",
        "value": "3900000",
        "days_ago": 70,
        "bids": [
            ("vendor@demo.gov", "3750000.00", "Cooling retrofit with free-air economisers", (83, 81, 80)),
            ("vendor6@demo.gov", "3820000.00", "Cooling audit and retrofit", (72, 70, 69)),
        ],
        "not_responsive": {},
        "outliers": {},
        "consensus": {},
    },
]


def _tender(title_en: str) -> Tender | None:
    return Tender.objects.filter(title_en=title_en).first()


def _user(email: str) -> User:
    return User.objects.get(email=email)


def _draft(contract: Contract, *, officer, start: datetime.date, years: int, kpi: tuple, milestone: tuple) -> Contract:
    """Complete a drafted contract's terms: term, mechanism, risks, one indicator and one milestone."""
    allocation = dict.fromkeys(RISK_CATEGORIES, "private")
    allocation.update(PUBLIC_RISKS)
    services.contract_update_draft(
        actor=officer,
        contract=contract,
        data={
            "start_date": start,
            "end_date": start.replace(year=start.year + years) - datetime.timedelta(days=1),
            "payment_mechanism": "availability",
            "penalty_rate": "0.05",
            "penalty_cap": "10",
            "risk_allocation": allocation,
        },
    )
    name_en, name_ar, target, unit = kpi
    services.contract_kpi_add(
        actor=officer,
        contract=contract,
        name_en=name_en,
        name_ar=name_ar,
        target=target,
        unit=unit,
        frequency="quarterly",
    )
    contract.refresh_from_db()
    title_en, title_ar, days = milestone
    services.contract_milestone_add(
        actor=officer,
        contract=contract,
        title_en=title_en,
        title_ar=title_ar,
        due_date=start + datetime.timedelta(days=days),
        payment_amount=str((contract.value / 4).quantize(Decimal("0.01"))),
    )
    contract.refresh_from_db()
    return contract


def _freeze(contract: Contract, *, officer) -> ContractVersion:
    version = services.contract_freeze(actor=officer, contract=contract)
    # Rendered now (the freeze's own hook runs after the demo's transaction commits, and then finds it done).
    render_contract_pdf.call(version.pk)
    return version


def _sign(contract: Contract, *signers: User) -> None:
    for signer in signers:
        if not signer.signer_keys.filter(retired_at__isnull=True).exists():
            services.signer_key_issue(user=signer, password=DEMO_PASSWORD)
        services.contract_sign(actor=signer, contract=contract, password=DEMO_PASSWORD)


def _next_year() -> datetime.date:
    return datetime.date(datetime.date.today().year + 1, 1, 1)


def _amend(contract: Contract, *, officer, approver, vendor_admin) -> None:
    """Amendment 1 in force (signed by both parties), amendment 2 waiting for the approver."""
    first = amendments.amendment_create(
        actor=officer,
        contract=contract,
        reason="The assessment is extended to the payment gateway connected to the service bus in the meantime, "
        "which adds a second penetration test and six months to the term.",
        new_value=str((contract.value * Decimal("1.05")).quantize(Decimal("0.01"))),
        new_end_date=contract.end_date + datetime.timedelta(days=182),
    )
    amendments.amendment_change_milestone(
        actor=officer,
        amendment=first,
        title_en="Payment gateway penetration test report accepted",
        title_ar="قبول تقرير اختبار اختراق بوابة المدفوعات",
        due_date=contract.start_date + datetime.timedelta(days=300),
        payment_amount=str((contract.value * Decimal("0.05")).quantize(Decimal("0.01"))),
    )
    amendments.amendment_submit(actor=officer, amendment=first)
    version = amendments.amendment_approve(actor=approver, amendment=first)
    render_contract_pdf.call(version.pk)
    _sign(contract, vendor_admin, officer)
    contract.refresh_from_db()
    kpi = contract.kpis.order_by("order", "id").first()
    second = amendments.amendment_create(
        actor=officer,
        contract=contract,
        reason="The regulator now requires critical findings to be remediated within 21 days; the indicator's "
        "target is raised accordingly.",
    )
    amendments.amendment_change_kpi(actor=officer, amendment=second, kpi_id=kpi.pk, target="98", frequency="monthly")
    amendments.amendment_submit(actor=officer, amendment=second)


def _amend_kpi(contract: Contract, *, officer, approver, vendor_admin) -> None:
    """An amendment in force that raises a KPI's target (the contract's value is unchanged)."""
    contract.refresh_from_db()
    kpi = contract.kpis.order_by("order", "id").first()
    amendment = amendments.amendment_create(
        actor=officer,
        contract=contract,
        reason="The new ministries' buildings joined the network carry emergency services, so the availability "
        "target is raised.",
    )
    amendments.amendment_change_kpi(
        actor=officer, amendment=amendment, kpi_id=kpi.pk, target="99.7", frequency="monthly"
    )
    amendments.amendment_submit(actor=officer, amendment=amendment)
    version = amendments.amendment_approve(actor=approver, amendment=amendment)
    render_contract_pdf.call(version.pk)
    _sign(contract, vendor_admin, officer)


def _seed_active(*, officer, approver) -> int:
    """The awarded demo tender's contract, in force, with its amendments."""
    tender = _awarded_tender()
    if tender is None or Contract.objects.filter(tender=tender).exists():
        return 0
    if not Recommendation.objects.filter(tender=tender, status=RecommendationStatus.FINAL).exists():
        return 0
    contract = services.contract_create_from_award(actor=officer, tender=tender)
    contract = _draft(
        contract,
        officer=officer,
        start=_next_year(),
        years=3,
        kpi=("Critical findings remediated within 30 days", "معالجة الثغرات الحرجة خلال 30 يومًا", "95", "%"),
        milestone=("First penetration test report accepted", "قبول تقرير اختبار الاختراق الأول", 120),
    )
    _freeze(contract, officer=officer)
    vendor_admin = _user("vendor@demo.gov")
    _sign(contract, vendor_admin, officer)
    contract.refresh_from_db()
    if contract.status != ContractStatus.ACTIVE:
        raise RuntimeError(f"The demo contract {contract.reference} is “{contract.status}”, not active.")
    _amend(contract, officer=officer, approver=approver, vendor_admin=vendor_admin)
    return 1


def _deliver(contract: Contract, *, contractor: User, officer: User) -> None:
    """Its one milestone reported on, accepted and paid around its due date (the services' clock is moved
    there, as the evaluation demo does)."""
    milestone = contract.milestones.get()
    moment = datetime.datetime.combine(milestone.due_date, datetime.time(9), tzinfo=datetime.UTC)
    with _clock(moment - datetime.timedelta(days=4)):
        report = monitoring.progress_report_submit(
            actor=contractor,
            milestone=milestone,
            narrative="Free-air economisers installed in both halls; cooling load measured over two weeks at 31% "
            "below the baseline. Commissioning report attached to the site file.",
            percent_complete=100,
        )
    with _clock(moment - datetime.timedelta(days=2)):
        monitoring.progress_report_decide(actor=officer, report=report, accept=True, reason="Commissioning verified.")
    with _clock(moment + datetime.timedelta(days=12)):
        paid_on = monitoring.local_date(moment + datetime.timedelta(days=12))
        monitoring.payment_record(
            actor=officer, milestone=milestone, paid_on=paid_on, reference=f"TRX-{contract.reference}-1"
        )


def _at(day: datetime.date, hour: int = 9) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(hour), tzinfo=datetime.UTC)


def _monitor(contract: Contract, *, contractor: User, officer: User) -> None:
    """A contract well into its term, with a history (its dates back-dated for the demo): milestone 1 accepted
    on time and paid; milestone 2 rejected, reported again, accepted late and paid less its damages; milestone
    3 overdue with damages accruing; milestone 4 still ahead; quarterly KPI measurements, one a failure."""
    first, second, third, _fourth = list(contract.milestones.order_by("order", "id"))
    day = datetime.timedelta(days=1)
    with _clock(_at(first.due_date - 5 * day)):
        report = monitoring.progress_report_submit(
            actor=contractor,
            milestone=first,
            narrative="Network operations centre staffed 24/7; 12 buildings migrated to the managed LAN.",
            percent_complete=100,
            evidence=[
                ("Migration acceptance sheets", tender_document("Migration acceptance sheets", contract.reference))
            ],
        )
    with _clock(_at(first.due_date - 3 * day)):
        monitoring.progress_report_decide(actor=officer, report=report, accept=True, reason="Migration verified.")
    with _clock(_at(first.due_date + 10 * day)):
        monitoring.payment_record(
            actor=officer, milestone=first, paid_on=first.due_date + 10 * day, reference=f"TRX-{contract.reference}-1"
        )
    with _clock(_at(second.due_date - 6 * day)):
        report = monitoring.progress_report_submit(
            actor=contractor,
            milestone=second,
            narrative="WAN links to the remaining 28 buildings installed.",
            percent_complete=90,
        )
    with _clock(_at(second.due_date - 4 * day)):
        monitoring.progress_report_decide(
            actor=officer,
            report=report,
            accept=False,
            reason="Failover was not tested in six buildings; the acceptance test report must cover all 28.",
        )
    with _clock(_at(second.due_date + 8 * day)):
        report = monitoring.progress_report_submit(
            actor=contractor,
            milestone=second,
            narrative="Failover tested in all 28 buildings; the acceptance test report now covers every site.",
            percent_complete=100,
        )
    with _clock(_at(second.due_date + 10 * day)):
        monitoring.progress_report_decide(actor=officer, report=report, accept=True, reason="Complete now.")
    with _clock(_at(second.due_date + 20 * day)):
        monitoring.payment_record(
            actor=officer, milestone=second, paid_on=second.due_date + 20 * day, reference=f"TRX-{contract.reference}-2"
        )
    kpi = contract.kpis.get()
    quarter = contract.start_date
    values = ["99.7", "99.6", "98.9", "99.8"]
    for index, value in enumerate(values):
        end = (quarter.replace(day=1) + datetime.timedelta(days=95)).replace(day=1) - day
        with _clock(_at(end + 5 * day)):
            if index < len(values) - 1:
                monitoring.kpi_measurement_enter(
                    actor=officer, kpi=kpi, period_start=quarter, period_end=end, value=value
                )
            else:
                submitted = monitoring.kpi_measurement_enter(
                    actor=contractor, kpi=kpi, period_start=quarter, period_end=end, value=value
                )
                monitoring.kpi_measurement_confirm(actor=officer, measurement=submitted)
        quarter = end + day
    monitoring.mark_overdue()
    third.refresh_from_db()


def _seed_other(spec: dict, *, programme, officer, approver, committee) -> int:
    tender = _tender(spec["title_en"])
    if tender is None:
        with transaction.atomic():
            tender = _seed_stage(spec, programme=programme, officer=officer, approver=approver, committee=committee)
    if Contract.objects.filter(tender=tender).exists():
        return 0
    winner = _user(spec["bids"][0][0])
    kpi = ("Service availability", "إتاحة الخدمة", "99.5", "%")
    milestone = ("Service in operation", "بدء تشغيل الخدمة", 90)
    contract = services.contract_create_from_award(actor=officer, tender=tender)
    if spec["contract"] == "monitored":
        today = datetime.date.today()
        start = (today - datetime.timedelta(days=500)).replace(day=1)
        contract = _draft(
            contract,
            officer=officer,
            start=start,
            years=4,
            kpi=("Network availability", "إتاحة الشبكة", "99.5", "%"),
            milestone=("Operations centre and first 12 buildings", "مركز العمليات وأول 12 مبنى", 120),
        )
        for title_en, title_ar, due in (
            ("Remaining 28 buildings connected", "ربط المباني الـ28 المتبقية", start + datetime.timedelta(days=300)),
            (
                "Security operations integration",
                "التكامل مع مركز العمليات الأمنية",
                today - datetime.timedelta(days=40),
            ),
            ("Network refresh, year 3", "تحديث الشبكة في السنة الثالثة", today + datetime.timedelta(days=120)),
        ):
            services.contract_milestone_add(
                actor=officer,
                contract=contract,
                title_en=title_en,
                title_ar=title_ar,
                due_date=due,
                payment_amount=str((contract.value / 5).quantize(Decimal("0.01"))),
            )
        contract.refresh_from_db()
        _freeze(contract, officer=officer)
        _sign(contract, winner, officer)
        _monitor(contract, contractor=winner, officer=officer)
        _amend_kpi(contract, officer=officer, approver=approver, vendor_admin=winner)
        return 1
    if spec["contract"] == "completed":
        # A short contract whose term has already run: signed, delivered, and marked completed by the approver.
        today = datetime.date.today()
        start = today.replace(year=today.year - 1, month=1, day=1)
        contract = _draft(contract, officer=officer, start=start, years=1, kpi=kpi, milestone=milestone)
        _freeze(contract, officer=officer)
        _sign(contract, winner, officer)
        _deliver(contract, contractor=winner, officer=officer)
        services.contract_complete(actor=approver, contract=contract)
        return 1
    contract = _draft(contract, officer=officer, start=_next_year(), years=5, kpi=kpi, milestone=milestone)
    _freeze(contract, officer=officer)
    if spec["contract"] == "awaiting_agency":
        _sign(contract, winner)  # the agency's countersignature is the demo's next step
        return 1
    # Terminated before signature, then drafted again from the same award.
    services.contract_terminate(actor=approver, contract=contract, reason=spec["termination"])
    services.contract_create_from_award(actor=officer, tender=tender)
    return 2


def seed_demo_contracts(*, officer, programme=None, committee=None) -> int:
    """Create the demo contracts that do not exist yet; return how many were made."""
    ensure_contract_ca()
    approver = _user("approver@demo.gov")
    with transaction.atomic():
        made = _seed_active(officer=officer, approver=approver)
    if programme is None or committee is None:
        return made
    for spec in CONTRACT_STAGES:
        with transaction.atomic():
            made += _seed_other(spec, programme=programme, officer=officer, approver=approver, committee=committee)
    monitoring.mark_overdue()  # damages accrued to today
    return made


def _next_step(contract: Contract) -> str:
    if contract.status == ContractStatus.DRAFT:
        return "officer@demo.gov completes its terms and freezes it for signature"
    if contract.status == ContractStatus.AWAITING_SIGNATURES:
        version = contract.versions.filter(amendment__isnull=True).order_by("-number").first()
        signed = set(version.signatures.values_list("party", flat=True)) if version else set()
        return "officer@demo.gov countersigns it" if "vendor" in signed else "the contractor's administrator signs it"
    pending = contract.amendments.filter(status="pending_approval").order_by("number").first()
    if pending is not None:
        return f"approver@demo.gov decides on amendment {pending.number}"
    overdue = contract.milestones.filter(overdue_since__isnull=False).order_by("due_date").first()
    if overdue is not None:
        signatory = contract.vendor.memberships.filter(is_administrator=True).select_related("user").first()
        who = signatory.user.email if signatory else "the contractor"
        return (
            f"“{overdue.title_en}” is overdue (damages accruing): {who} reports on it, officer@demo.gov decides; "
            "its monitoring page shows payments, penalties and KPIs"
        )
    return ""


def contract_demo_guide() -> list[str]:
    """One line per demo contract: its state, its amendments, and who does what next; how to verify one."""
    titles = [_awarded_tender().title_en] if _awarded_tender() else []
    titles += [spec["title_en"] for spec in CONTRACT_STAGES]
    contracts = Contract.objects.filter(tender__title_en__in=titles).select_related("tender", "vendor")
    lines = []
    for contract in contracts.order_by("tender_id", "id"):
        line = f"{contract.reference} “{contract.title_en}” with {contract.vendor}: {contract.get_status_display()}"
        in_force = contract.amendments.filter(status="in_force").count()
        if in_force:
            line += f", {in_force} amendment(s) in force"
        step = _next_step(contract)
        lines.append(line + (f" — next: {step}." if step else "."))
    contract = demo_contract()
    version = (
        contract.versions.filter(amendment__isnull=True).order_by("-number").first() if contract is not None else None
    )
    signature = version.signatures.order_by("-signed_at", "-id").first() if version else None
    if signature is not None:
        path = signature.pdf.path if hasattr(signature.pdf, "path") else signature.pdf.name
        ca = services.authority_paths()["ca_cert"]
        lines.append(f"Verify the signatures of {contract.reference}: manage.py verify_signatures {path} --trust {ca}")
    return lines


__all__ = ["contract_demo_guide", "demo_contract", "ensure_contract_ca", "seed_demo_contracts"]
