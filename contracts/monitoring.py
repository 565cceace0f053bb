"""Monitoring a contract in force: progress reports on milestones, the officer's decision, payments net of
penalties, KPI measurements and the performance failures they reveal, and the scheduler that marks overdue
milestones and accrues their liquidated damages.

Every function is one transaction that locks the contract row first (so that payments and penalties are
computed from a stable total), checks the actor's permission (``accounts/rules.py``), moves the milestone's
state machine, and appends an audit event with the figures and their calculation. The arithmetic is in
``contracts.penalties``. The sum of a contract's payments never exceeds its current value: checked here under
the lock, and refused by a database trigger as well (migration ``0004``).
"""

from __future__ import annotations

import datetime
import zoneinfo
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Sum
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django_fsm import TransitionNotAllowed

from audit.services import audit_event_append
from contracts import penalties
from contracts.models import (
    Contract,
    ContractKpi,
    ContractMilestone,
    ContractStatus,
    KpiMeasurement,
    MeasurementStatus,
    MilestoneStatus,
    Payment,
    Penalty,
    PenaltyKind,
    ProgressEvidence,
    ProgressReport,
    ReportDecision,
)
from contracts.notify import both_parties, contract_notify, contractor_signatories
from contracts.services import _decimal, _locked, _now
from core.exceptions import ActionRefused, require_perm
from core.uploads import inspect_upload
from procurement.tender_services import tender_officers

NARRATIVE_MAX_LENGTH = 10000
REASON_MIN_LENGTH = 10
MAX_EVIDENCE_FILES = 20
REFERENCE_MAX_LENGTH = 80


def local_date(moment: datetime.datetime) -> datetime.date:
    return moment.astimezone(zoneinfo.ZoneInfo(settings.DISPLAY_TIME_ZONE)).date()


def _require_active(contract: Contract) -> None:
    if contract.status != ContractStatus.ACTIVE:
        raise ActionRefused(
            _("The contract is “%(status)s”: only a contract in force is monitored.")
            % {"status": contract.get_status_display()}
        )


def _milestone_locked(milestone: ContractMilestone | int) -> tuple[Contract, ContractMilestone]:
    pk = milestone.pk if isinstance(milestone, ContractMilestone) else milestone
    contract_id = ContractMilestone.objects.values_list("contract_id", flat=True).get(pk=pk)
    contract = _locked(contract_id)
    locked = ContractMilestone.objects.select_for_update().get(pk=pk)
    locked.contract = contract
    return contract, locked


def _move(milestone: ContractMilestone, method, action: str, **kwargs) -> tuple[str, str]:
    source = milestone.status
    try:
        method(**kwargs)
    except TransitionNotAllowed as error:
        raise ActionRefused(
            _("The milestone is “%(status)s”: it cannot be %(action)s.")
            % {"status": milestone.get_status_display(), "action": action}
        ) from error
    return source, milestone.status


def _reason(reason: str, field: str = "reason") -> str:
    reason = (reason or "").strip()
    if len(reason) < REASON_MIN_LENGTH:
        raise ValidationError(
            {field: _("Give the reasons in at least %(count)s characters.") % {"count": REASON_MIN_LENGTH}}
        )
    return reason[:4000]


# Penalties -------------------------------------------------------------------------------------------------


def penalties_total(contract: Contract, *, excluding: Penalty | None = None) -> Decimal:
    rows = contract.penalties.all()
    if excluding is not None and excluding.pk:
        rows = rows.exclude(pk=excluding.pk)
    return penalties.money(rows.aggregate(total=Sum("amount"))["total"] or 0)


def outstanding_penalties(contract: Contract) -> Decimal:
    """Penalties charged and not yet deducted from a payment."""
    charged = penalties_total(contract)
    deducted = contract.payments.aggregate(total=Sum("penalties_deducted"))["total"] or Decimal("0")
    return penalties.money(max(Decimal("0"), charged - deducted))


def paid_total(contract: Contract) -> Decimal:
    return penalties.money(contract.payments.aggregate(total=Sum("amount"))["total"] or 0)


def _delay_penalty(contract: Contract, milestone: ContractMilestone, *, until: datetime.date, final: bool, now=None):
    """Create or update the milestone's delay penalty for the days from its due date to ``until``."""
    days = penalties.days_late(milestone.due_date, until)
    existing = Penalty.objects.filter(kind=PenaltyKind.DELAY, milestone=milestone).first()
    if days == 0 and existing is None:
        return None
    if existing is not None and existing.final:
        return existing
    if existing is not None and not final:
        days = max(days, existing.days)  # a scheduler run with an older clock never takes damages back
    calculation = penalties.delay_penalty(
        value=contract.value,
        rate_percent=contract.penalty_rate,
        cap_percent=contract.penalty_cap,
        days=days,
        already=penalties_total(contract, excluding=existing),
    )
    text = _("Milestone “%(milestone)s”, due %(due)s: %(calculation)s") % {
        "milestone": milestone.title_en,
        "due": milestone.due_date.isoformat(),
        "calculation": calculation.explanation,
    }
    if existing is None:
        penalty = Penalty.objects.create(
            contract=contract,
            kind=PenaltyKind.DELAY,
            milestone=milestone,
            days=days,
            amount=calculation.amount,
            calculation=text,
            final=final,
            created_at=now or _now(),
        )
        _penalty_audit(contract, penalty, before=None)
        return penalty
    before = {"days": existing.days, "amount": str(existing.amount), "final": existing.final}
    Penalty.objects.filter(pk=existing.pk).update(days=days, amount=calculation.amount, calculation=text, final=final)
    existing.refresh_from_db()
    if before != {"days": existing.days, "amount": str(existing.amount), "final": existing.final}:
        _penalty_audit(contract, existing, before=before)
    return existing


def _penalty_audit(contract: Contract, penalty: Penalty, *, before: dict | None) -> None:
    """Every penalty charged, and every change of its amount (damages accrue day by day until the milestone is
    accepted), is an event of its own: the contract's rule applied by the system, with its calculation."""
    audit_event_append(
        action="contract.penalty_charged" if before is None else "contract.penalty_updated",
        actor=None,
        obj=contract,
        payload={
            "penalty_id": penalty.pk,
            "kind": penalty.kind,
            "milestone_id": penalty.milestone_id,
            "measurement_id": penalty.measurement_id,
            "before": before,
            "after": {"days": penalty.days, "amount": str(penalty.amount), "final": penalty.final},
            "calculation": penalty.calculation,
        },
    )


# Progress reports ------------------------------------------------------------------------------------------


def progress_report_submit(
    *, actor, milestone: ContractMilestone, narrative: str, percent_complete: int, evidence=()
) -> ProgressReport:
    """The contractor reports on a milestone (planned or rejected → submitted), with evidence documents:
    ``evidence`` is a sequence of ``(title, uploaded_file)``."""
    with transaction.atomic():
        contract, milestone = _milestone_locked(milestone)
        require_perm(actor, "contracts.report_progress", contract)
        _require_active(contract)
        narrative = (narrative or "").strip()
        if not narrative:
            raise ValidationError({"narrative": _("Describe what was done.")})
        if len(narrative) > NARRATIVE_MAX_LENGTH:
            raise ValidationError(
                {"narrative": _("Keep the report under %(count)s characters.") % {"count": NARRATIVE_MAX_LENGTH}}
            )
        try:
            percent = int(percent_complete)
        except (TypeError, ValueError):
            raise ValidationError({"percent_complete": _("Enter a whole number from 0 to 100.")}) from None
        if not 0 <= percent <= 100:
            raise ValidationError({"percent_complete": _("Enter a whole number from 0 to 100.")})
        evidence = list(evidence or ())
        if len(evidence) > MAX_EVIDENCE_FILES:
            raise ValidationError(
                {"evidence": _("Attach at most %(count)s documents.") % {"count": MAX_EVIDENCE_FILES}}
            )
        checked = []
        for title, uploaded in evidence:
            try:
                checked.append(((title or uploaded.name or "").strip()[:255], uploaded, inspect_upload(uploaded)))
            except ValidationError as error:
                raise ValidationError({"evidence": [f"{uploaded.name}: {m}" for m in error.messages]}) from None
        now = _now()
        source, target = _move(milestone, milestone.submit, pgettext("milestone action", "reported on"), now=now)
        milestone.save()
        number = (milestone.reports.order_by("-number").values_list("number", flat=True).first() or 0) + 1
        report = ProgressReport.objects.create(
            milestone=milestone,
            number=number,
            narrative=narrative,
            percent_complete=percent,
            submitted_by=actor,
            submitted_at=now,
        )
        files = []
        for title, uploaded, inspected in checked:
            document = ProgressEvidence(
                report=report,
                title=title or uploaded.name,
                original_name=(uploaded.name or "")[:255],
                content_type=inspected.content_type,
                size=inspected.size,
                sha256=inspected.sha256,
            )
            document.file.save("evidence", uploaded, save=False)
            document.save()
            files.append({"title": document.title, "sha256": document.sha256, "size": document.size})
        audit_event_append(
            action="contract.progress_reported",
            actor=actor,
            obj=contract,
            payload={
                "milestone_id": milestone.pk,
                "report": number,
                "from": source,
                "to": target,
                "percent_complete": percent,
                "evidence": files,
            },
        )
        contract_notify(
            "contract.progress_reported",
            contract,
            recipients=tender_officers(contract.tender),
            milestone=milestone.title_en,
        )
    return report


def progress_report_decide(*, actor, report: ProgressReport, accept: bool, reason: str = "") -> ContractMilestone:
    """The officer accepts the reported milestone (its delay penalty, if late, becomes final) or rejects it
    with reasons (the contractor reports again)."""
    with transaction.atomic():
        contract, milestone = _milestone_locked(report.milestone_id)
        require_perm(actor, "contracts.monitor_contract", contract)
        if actor.pk == report.submitted_by_id or contract.vendor.memberships.filter(user=actor).exists():
            raise PermissionDenied("contracts.monitor_contract")
        _require_active(contract)
        report = ProgressReport.objects.select_for_update().get(pk=report.pk)
        if report.decision != ReportDecision.PENDING:
            raise ActionRefused(_("This report has already been decided."))
        latest = milestone.reports.order_by("-number").values_list("pk", flat=True).first()
        if latest != report.pk:
            raise ActionRefused(_("A later report on this milestone replaces this one."))
        now = _now()
        penalty = None
        if accept:
            reason = (reason or "").strip()[:4000]
            today = local_date(now)
            source, target = _move(milestone, milestone.accept, pgettext("milestone action", "accepted"), on=today)
            milestone.overdue_since = None
            milestone.save()
            penalty = _delay_penalty(contract, milestone, until=today, final=True)
            report.decision = ReportDecision.ACCEPTED
        else:
            reason = _reason(reason)
            source, target = _move(milestone, milestone.reject, pgettext("milestone action", "rejected"))
            milestone.save()
            report.decision = ReportDecision.REJECTED
        report.decision_reason = reason
        report.decided_by = actor
        report.decided_at = now
        report.save(update_fields=["decision", "decision_reason", "decided_by", "decided_at"])
        audit_event_append(
            action="contract.milestone_accepted" if accept else "contract.milestone_rejected",
            actor=actor,
            obj=contract,
            payload={
                "milestone_id": milestone.pk,
                "report": report.number,
                "from": source,
                "to": target,
                "reason": reason,
                "penalty": {"amount": str(penalty.amount), "days": penalty.days, "calculation": penalty.calculation}
                if penalty is not None
                else None,
            },
        )
        contract_notify(
            "contract.milestone_accepted" if accept else "contract.milestone_rejected",
            contract,
            recipients=contractor_signatories(contract) + [report.submitted_by],
            milestone=milestone.title_en,
            reason=reason,
        )
    return milestone


# Payments --------------------------------------------------------------------------------------------------


def payment_record(*, actor, milestone: ContractMilestone, paid_on: datetime.date, reference: str) -> Payment:
    """Record the payment of an accepted milestone: its amount less the outstanding penalties (as far as it
    goes); the contract's payments never exceed its current value."""
    with transaction.atomic():
        contract, milestone = _milestone_locked(milestone)
        require_perm(actor, "contracts.monitor_contract", contract)
        _require_active(contract)
        if milestone.status != MilestoneStatus.ACCEPTED:
            raise ActionRefused(
                _("The milestone is “%(status)s”: only an accepted milestone is paid.")
                % {"status": milestone.get_status_display()}
            )
        reference = (reference or "").strip()
        if not reference:
            raise ValidationError({"reference": _("Enter the payment's reference (e.g. the transfer number).")})
        if len(reference) > REFERENCE_MAX_LENGTH:
            raise ValidationError(
                {"reference": _("Keep the reference under %(count)s characters.") % {"count": REFERENCE_MAX_LENGTH}}
            )
        if contract.payments.filter(reference=reference).exists():
            raise ValidationError({"reference": _("A payment of this contract already has this reference.")})
        today = local_date(_now())
        if paid_on is None:
            raise ValidationError({"paid_on": _("Enter the date of the payment.")})
        if paid_on > today:
            raise ValidationError({"paid_on": _("A payment cannot be recorded in advance.")})
        if milestone.accepted_on and paid_on < milestone.accepted_on:
            raise ValidationError(
                {
                    "paid_on": _("A payment cannot precede the milestone's acceptance (%(date)s).")
                    % {"date": milestone.accepted_on.isoformat()}
                }
            )
        deduction = penalties.deduct(gross=milestone.payment_amount, outstanding=outstanding_penalties(contract))
        already = paid_total(contract)
        if already + deduction.net > contract.value:
            raise ActionRefused(
                _(
                    "This payment (%(amount)s) would take the total paid to %(total)s, above the contract's "
                    "current value (%(value)s)."
                )
                % {"amount": deduction.net, "total": already + deduction.net, "value": contract.value}
            )
        payment = Payment.objects.create(
            contract=contract,
            milestone=milestone,
            gross=deduction.gross,
            penalties_deducted=deduction.deducted,
            amount=deduction.net,
            calculation=deduction.explanation,
            paid_on=paid_on,
            reference=reference,
            recorded_by=actor,
            recorded_at=_now(),
        )
        source, target = _move(milestone, milestone.pay, pgettext("milestone action", "paid"), on=paid_on)
        milestone.save()
        audit_event_append(
            action="contract.payment_recorded",
            actor=actor,
            obj=contract,
            payload={
                "milestone_id": milestone.pk,
                "from": source,
                "to": target,
                "payment_id": payment.pk,
                "gross": str(payment.gross),
                "penalties_deducted": str(payment.penalties_deducted),
                "amount": str(payment.amount),
                "calculation": payment.calculation,
                "paid_on": paid_on.isoformat(),
                "reference": reference,
                "total_paid": str(already + payment.amount),
            },
        )
        contract_notify(
            "contract.payment_recorded",
            contract,
            recipients=contractor_signatories(contract),
            milestone=milestone.title_en,
            amount=str(payment.amount),
        )
    return payment


# KPI measurements ------------------------------------------------------------------------------------------


def _kpi_penalty(contract: Contract, measurement: KpiMeasurement) -> Penalty | None:
    kpi = measurement.kpi
    measurement.met = not penalties.misses_target(
        value=measurement.value, target=kpi.target, higher_is_better=kpi.higher_is_better
    )
    if measurement.met:
        return None
    calculation = penalties.kpi_failure_penalty(
        value=contract.value,
        rate_percent=contract.penalty_rate,
        cap_percent=contract.penalty_cap,
        failures=1,
        already=penalties_total(contract),
    )
    text = _("“%(kpi)s” measured %(value)s against a target of %(target)s (%(from)s – %(to)s): %(calculation)s") % {
        "kpi": kpi.name_en,
        "value": measurement.value.normalize(),
        "target": kpi.target.normalize(),
        "from": measurement.period_start.isoformat(),
        "to": measurement.period_end.isoformat(),
        "calculation": calculation.explanation,
    }
    penalty = Penalty.objects.create(
        contract=contract,
        kind=PenaltyKind.KPI,
        measurement=measurement,
        amount=calculation.amount,
        calculation=text,
        final=True,
        created_at=_now(),
    )
    _penalty_audit(contract, penalty, before=None)
    return penalty


def kpi_measurement_enter(
    *, actor, kpi: ContractKpi, period_start: datetime.date, period_end: datetime.date, value
) -> KpiMeasurement:
    """An officer's measurement is confirmed at once; the contractor's waits for an officer's confirmation."""
    with transaction.atomic():
        contract = _locked(kpi.contract_id)
        kpi = ContractKpi.objects.get(pk=kpi.pk, contract=contract)
        officer = actor.has_perm("contracts.monitor_contract", contract)
        if not officer and not actor.has_perm("contracts.report_progress", contract):
            raise PermissionDenied("contracts.monitor_contract")
        _require_active(contract)
        number = _decimal(value, "value")
        if abs(number) >= Decimal("1e11") or number.as_tuple().exponent < -3:
            raise ValidationError({"value": _("Enter a number with at most three decimal places.")})
        if period_start is None or period_end is None:
            raise ValidationError({"period_start": _("Enter the period measured.")})
        if period_end < period_start:
            raise ValidationError({"period_end": _("The period must end on or after its first day.")})
        today = local_date(_now())
        if period_end > today:
            raise ValidationError({"period_end": _("A period that has not ended yet cannot be measured.")})
        if contract.start_date and period_start < contract.start_date:
            raise ValidationError(
                {"period_start": _("The contract starts on %(date)s.") % {"date": contract.start_date.isoformat()}}
            )
        if kpi.measurements.exclude(status=MeasurementStatus.REJECTED).filter(period_start=period_start).exists():
            raise ValidationError({"period_start": _("This indicator already has a measurement for that period.")})
        now = _now()
        measurement = KpiMeasurement(
            kpi=kpi,
            contract=contract,
            period_start=period_start,
            period_end=period_end,
            value=number,
            status=MeasurementStatus.CONFIRMED if officer else MeasurementStatus.SUBMITTED,
            entered_by=actor,
            entered_at=now,
            confirmed_by=actor if officer else None,
            confirmed_at=now if officer else None,
        )
        measurement.save()
        penalty = _kpi_penalty(contract, measurement) if officer else None
        if officer:
            measurement.save(update_fields=["met"])
        audit_event_append(
            action="contract.kpi_measured",
            actor=actor,
            obj=contract,
            payload={
                "kpi_id": kpi.pk,
                "measurement_id": measurement.pk,
                "period": [period_start.isoformat(), period_end.isoformat()],
                "value": str(number),
                "status": measurement.status,
                "met": measurement.met,
                "penalty": str(penalty.amount) if penalty is not None else None,
            },
        )
        if not officer:
            contract_notify(
                "contract.kpi_submitted", contract, recipients=tender_officers(contract.tender), kpi=kpi.name_en
            )
    return measurement


def kpi_measurement_confirm(
    *, actor, measurement: KpiMeasurement, confirm: bool = True, reason: str = ""
) -> KpiMeasurement:
    """An officer confirms the contractor's measurement (a miss is then a performance failure) or rejects it."""
    with transaction.atomic():
        contract = _locked(measurement.contract_id)
        require_perm(actor, "contracts.monitor_contract", contract)
        _require_active(contract)
        measurement = KpiMeasurement.objects.select_for_update().select_related("kpi").get(pk=measurement.pk)
        if measurement.status != MeasurementStatus.SUBMITTED:
            raise ActionRefused(_("This measurement has already been decided."))
        now = _now()
        penalty = None
        if confirm:
            measurement.status = MeasurementStatus.CONFIRMED
            measurement.confirmed_by = actor
            measurement.confirmed_at = now
            penalty = _kpi_penalty(contract, measurement)
        else:
            measurement.status = MeasurementStatus.REJECTED
            measurement.rejection_reason = _reason(reason)
        measurement.save()
        audit_event_append(
            action="contract.kpi_confirmed" if confirm else "contract.kpi_rejected",
            actor=actor,
            obj=contract,
            payload={
                "measurement_id": measurement.pk,
                "met": measurement.met,
                "penalty": str(penalty.amount) if penalty is not None else None,
                "reason": measurement.rejection_reason,
            },
        )
    return measurement


# The scheduler ---------------------------------------------------------------------------------------------


def mark_overdue(*, now: datetime.datetime | None = None) -> list[int]:
    """Mark the milestones of contracts in force that are past their due date and not accepted, and accrue
    their liquidated damages to today; tell both parties the first time. Safe to run again and concurrently:
    each contract is handled under its row lock (rows another worker holds are skipped)."""
    now = now or _now()
    today = local_date(now)
    due = (
        ContractMilestone.objects.filter(
            contract__status=ContractStatus.ACTIVE,
            status__in=[MilestoneStatus.PLANNED, MilestoneStatus.SUBMITTED, MilestoneStatus.REJECTED],
            due_date__lt=today,
        )
        .values_list("contract_id", flat=True)
        .distinct()
    )
    newly: list[int] = []
    for contract_id in sorted(set(due)):
        with transaction.atomic():
            contract = (
                Contract.objects.select_for_update(skip_locked=True, of=("self",))
                .select_related("tender", "agency", "vendor")
                .filter(pk=contract_id, status=ContractStatus.ACTIVE)
                .first()
            )
            if contract is None:
                continue
            milestones = ContractMilestone.objects.select_for_update().filter(
                contract=contract,
                status__in=[MilestoneStatus.PLANNED, MilestoneStatus.SUBMITTED, MilestoneStatus.REJECTED],
                due_date__lt=today,
            )
            for milestone in milestones.order_by("due_date", "id"):
                first_time = milestone.overdue_since is None
                if first_time:
                    ContractMilestone.objects.filter(pk=milestone.pk).update(overdue_since=today)
                penalty = _delay_penalty(contract, milestone, until=today, final=False, now=now)
                if first_time:
                    newly.append(milestone.pk)
                    audit_event_append(
                        action="contract.milestone_overdue",
                        actor=None,
                        obj=contract,
                        payload={
                            "milestone_id": milestone.pk,
                            "due_date": milestone.due_date.isoformat(),
                            "penalty": str(penalty.amount) if penalty is not None else None,
                        },
                    )
                    contract_notify(
                        "contract.milestone_overdue",
                        contract,
                        recipients=both_parties(contract),
                        milestone=milestone.title_en,
                        due=milestone.due_date.isoformat(),
                    )
    return newly
