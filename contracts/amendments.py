"""Amendments (change orders) to an active contract.

An officer of the agency drafts the amendment (a new value, a new end date, new or changed milestones and
indicators, and the reason); an approver who did not draft it approves it (four eyes), which freezes it into
a contract version of its own whose PDF names the signed contract by its SHA-256; both parties sign that PDF
like the contract itself (``services.contract_sign``), and the second signature brings the amendment into
force: the contract's current terms become the original plus the amendments in force.

The value may move, over all amendments together, by at most ``CONTRACT_AMENDMENT_MAX_PERCENT`` of the value
as first signed. Each public function is one transaction that locks the contract row first and appends an
audit event; a refusal changes nothing.
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from audit.services import audit_event_append
from contracts.models import (
    OPEN_AMENDMENT_STATES,
    AmendmentStatus,
    Contract,
    ContractAmendment,
    ContractKpi,
    ContractMilestone,
    ContractStatus,
    ContractVersion,
    Frequency,
    MilestoneStatus,
)
from contracts.notify import agency_approvers, both_parties, contract_notify
from contracts.services import _decimal, _locked, _now, _party
from core.exceptions import ActionRefused, require_perm

REASON_MIN_LENGTH = 10
REASON_MAX_LENGTH = 4000
#: The most milestone or indicator changes one amendment may carry.
MAX_CHANGES = 100

MILESTONE_FIELDS = ("title_en", "title_ar", "due_date", "payment_amount")
KPI_FIELDS = ("name_en", "name_ar", "target", "unit", "frequency")


def max_percent() -> Decimal:
    return Decimal(str(getattr(settings, "CONTRACT_AMENDMENT_MAX_PERCENT", 25)))


def original_value(contract: Contract) -> Decimal:
    """The value of the contract as first signed (its first version's terms), or its value if not frozen."""
    first = contract.versions.filter(amendment__isnull=True).order_by("number").values_list("terms", flat=True).first()
    if first and first.get("value") is not None:
        return Decimal(first["value"])
    return contract.value


def _clean_reason(reason: str, field: str = "reason") -> str:
    reason = (reason or "").strip()
    if len(reason) < REASON_MIN_LENGTH:
        raise ValidationError(
            {field: _("Explain the reason in at least %(count)s characters.") % {"count": REASON_MIN_LENGTH}}
        )
    if len(reason) > REASON_MAX_LENGTH:
        raise ValidationError({field: _("Keep the reason under %(count)s characters.") % {"count": REASON_MAX_LENGTH}})
    return reason


def _locked_amendment(amendment: ContractAmendment | int) -> tuple[Contract, ContractAmendment]:
    """Lock the contract, then the amendment (always in that order, as every contract service does)."""
    pk = amendment.pk if isinstance(amendment, ContractAmendment) else amendment
    contract_id = ContractAmendment.objects.values_list("contract_id", flat=True).get(pk=pk)
    contract = _locked(contract_id)
    locked = ContractAmendment.objects.select_for_update().get(pk=pk)
    locked.contract = contract
    return contract, locked


def _amend_transition(amendment: ContractAmendment, method, action: str, **kwargs) -> tuple[str, str]:
    from django_fsm import TransitionNotAllowed

    source = amendment.status
    try:
        method(**kwargs)
    except TransitionNotAllowed as error:
        raise ActionRefused(
            _("The amendment is now “%(status)s”: it cannot be %(action)s.")
            % {"status": amendment.get_status_display(), "action": action}
        ) from error
    return source, amendment.status


def _require_amendment_draft(amendment: ContractAmendment) -> None:
    if amendment.status != AmendmentStatus.DRAFT:
        raise ActionRefused(
            _("The amendment is “%(status)s”: only a draft can be changed.")
            % {"status": amendment.get_status_display()}
        )


# What an amendment would make of the contract ---------------------------------------------------


def _milestone_dict(milestone: ContractMilestone) -> dict[str, str]:
    return {
        "title_en": milestone.title_en,
        "title_ar": milestone.title_ar,
        "due_date": milestone.due_date.isoformat(),
        "payment_amount": str(milestone.payment_amount),
    }


def _kpi_dict(kpi: ContractKpi) -> dict[str, str]:
    return {
        "name_en": kpi.name_en,
        "name_ar": kpi.name_ar,
        "target": str(kpi.target.normalize()),
        "unit": kpi.unit,
        "frequency": kpi.frequency,
    }


def resulting_terms(contract: Contract, amendment: ContractAmendment) -> dict[str, Any]:
    """The contract's terms as they would stand with this amendment in force, each change with its before."""
    milestones = {m.pk: m for m in contract.milestones.order_by("order", "due_date", "id")}
    kpis = {k.pk: k for k in contract.kpis.order_by("order", "id")}
    changes = amendment.changes or {}
    milestone_changes = []
    for change in changes.get("milestones", []):
        before = milestones.get(change.get("id"))
        milestone_changes.append(
            {
                "id": change.get("id"),
                "before": _milestone_dict(before) if before else None,
                "after": {name: change[name] for name in MILESTONE_FIELDS} | {"waived": bool(change.get("waive"))},
            }
        )
    kpi_changes = []
    for change in changes.get("kpis", []):
        before = kpis.get(change.get("id"))
        kpi_changes.append(
            {
                "id": change.get("id"),
                "before": _kpi_dict(before) if before else None,
                "after": {name: change[name] for name in KPI_FIELDS},
            }
        )
    changed = {c["id"]: c["after"] for c in milestone_changes if c["id"]}
    schedule = [
        changed.get(pk, _milestone_dict(m))
        for pk, m in milestones.items()
        if m.status != MilestoneStatus.WAIVED and not changed.get(pk, {}).get("waived")
    ]
    schedule += [c["after"] for c in milestone_changes if not c["id"]]
    value = amendment.new_value if amendment.new_value is not None else contract.value
    end_date = amendment.new_end_date or contract.end_date
    return {
        "value": {"before": contract.value, "after": value},
        "end_date": {"before": contract.end_date, "after": end_date},
        "milestones": milestone_changes,
        "kpis": kpi_changes,
        "schedule": schedule,
    }


def amendment_problems(contract: Contract, amendment: ContractAmendment) -> list[str]:
    """Why the amendment cannot go forward as it stands (empty: it can)."""
    problems = []
    terms = resulting_terms(contract, amendment)
    value, end_date = terms["value"]["after"], terms["end_date"]["after"]
    if (
        (amendment.new_value is None or amendment.new_value == contract.value)
        and (amendment.new_end_date is None or amendment.new_end_date == contract.end_date)
        and not terms["milestones"]
        and not terms["kpis"]
    ):
        problems.append(
            _("The amendment changes nothing: change the value, the end date, a milestone or an indicator.")
        )
    original = original_value(contract)
    limit = max_percent()
    if original > 0:
        moved = abs(value - original) / original * 100
        if moved > limit:
            problems.append(
                _(
                    "The value would move by %(moved)s%% from %(original)s as first signed; amendments may move it "
                    "by at most %(limit)s%%. A larger change needs a new tender."
                )
                % {"moved": moved.quantize(Decimal("0.01")), "original": original, "limit": limit}
            )
    from contracts.monitoring import paid_total

    paid = paid_total(contract)
    if value < paid:
        problems.append(_("The value cannot fall below what has already been paid (%(paid)s).") % {"paid": paid})
    if contract.start_date and end_date and end_date <= contract.start_date:
        problems.append(_("The end date must come after the start date (%(start)s).") % {"start": contract.start_date})
    total = sum((Decimal(m["payment_amount"]) for m in terms["schedule"]), Decimal("0"))
    if total > value:
        problems.append(
            _("The milestone payments (%(total)s) would exceed the contract's value (%(value)s).")
            % {"total": total, "value": value}
        )
    if contract.start_date and end_date:
        outside = [
            m["title_en"]
            for m in terms["schedule"]
            if not contract.start_date.isoformat() <= m["due_date"] <= end_date.isoformat()
        ]
        if outside:
            problems.append(_("Milestones outside the contract term: %(titles)s.") % {"titles": ", ".join(outside)})
    return problems


# Drafting ----------------------------------------------------------------------------------------


def _check_value(contract: Contract, new_value) -> Decimal | None:
    if new_value in (None, ""):
        return None
    value = _decimal(new_value, "new_value")
    if value <= 0:
        raise ValidationError({"new_value": _("The value must be more than zero.")})
    if value.as_tuple().exponent < -2:
        raise ValidationError({"new_value": _("Use at most two decimal places.")})
    original, limit = original_value(contract), max_percent()
    if original > 0 and abs(value - original) / original * 100 > limit:
        raise ValidationError(
            {
                "new_value": _(
                    "Amendments may move the value by at most %(limit)s%% of %(original)s, its value as first "
                    "signed: between %(low)s and %(high)s."
                )
                % {
                    "limit": limit,
                    "original": original,
                    "low": (original * (100 - limit) / 100).quantize(Decimal("0.01")),
                    "high": (original * (100 + limit) / 100).quantize(Decimal("0.01")),
                }
            }
        )
    return value


def _check_end_date(contract: Contract, new_end_date) -> datetime.date | None:
    if not new_end_date:
        return None
    if contract.start_date and new_end_date <= contract.start_date:
        raise ValidationError(
            {
                "new_end_date": _("The end date must come after the start date (%(start)s).")
                % {"start": contract.start_date}
            }
        )
    return new_end_date


def amendment_create(*, actor, contract: Contract, reason: str, new_value=None, new_end_date=None) -> ContractAmendment:
    """Draft an amendment to an active contract (at most one amendment is under way at a time)."""
    with transaction.atomic():
        contract = _locked(contract)
        require_perm(actor, "contracts.amend_contract", contract)
        if contract.status != ContractStatus.ACTIVE:
            raise ActionRefused(
                _("The contract is “%(status)s”: only a contract in force can be amended.")
                % {"status": contract.get_status_display()}
            )
        if contract.amendments.filter(status__in=OPEN_AMENDMENT_STATES).exists():
            raise ActionRefused(_("An amendment to this contract is already under way: finish or withdraw it first."))
        reason = _clean_reason(reason)
        value = _check_value(contract, new_value)
        end_date = _check_end_date(contract, new_end_date)
        number = (contract.amendments.order_by("-number").values_list("number", flat=True).first() or 0) + 1
        amendment = ContractAmendment.objects.create(
            contract=contract,
            number=number,
            reason=reason,
            new_value=value,
            new_end_date=end_date,
            changes={"milestones": [], "kpis": []},
            drafted_by=actor,
            drafted_at=_now(),
        )
        audit_event_append(
            action="contract.amendment_drafted",
            actor=actor,
            obj=amendment,
            payload={
                "contract_id": contract.pk,
                "number": number,
                "new_value": str(value) if value is not None else None,
                "new_end_date": end_date.isoformat() if end_date else None,
                "reason": reason,
            },
        )
    return amendment


def amendment_update(*, actor, amendment: ContractAmendment, reason: str, new_value=None, new_end_date=None):
    with transaction.atomic():
        contract, amendment = _locked_amendment(amendment)
        require_perm(actor, "contracts.amend_contract", contract)
        _require_amendment_draft(amendment)
        before = {
            "reason": amendment.reason,
            "new_value": str(amendment.new_value) if amendment.new_value is not None else None,
            "new_end_date": amendment.new_end_date.isoformat() if amendment.new_end_date else None,
        }
        amendment.reason = _clean_reason(reason)
        amendment.new_value = _check_value(contract, new_value)
        amendment.new_end_date = _check_end_date(contract, new_end_date)
        amendment.save(update_fields=["reason", "new_value", "new_end_date"])
        after = {
            "reason": amendment.reason,
            "new_value": str(amendment.new_value) if amendment.new_value is not None else None,
            "new_end_date": amendment.new_end_date.isoformat() if amendment.new_end_date else None,
        }
        audit_event_append(
            action="contract.amendment_updated",
            actor=actor,
            obj=amendment,
            payload={"number": amendment.number, "before": before, "after": after},
        )
    return amendment


def _clean_text(value, field: str, max_length: int = 255) -> str:
    value = (value or "").strip()
    if not value:
        raise ValidationError({field: _("This field is required.")})
    if len(value) > max_length:
        raise ValidationError({field: _("Keep it under %(count)s characters.") % {"count": max_length}})
    return value


def _count_changes(amendment: ContractAmendment) -> int:
    changes = amendment.changes or {}
    return len(changes.get("milestones", [])) + len(changes.get("kpis", []))


def _store_change(amendment: ContractAmendment, kind: str, change: dict) -> None:
    changes = {"milestones": [], "kpis": [], **(amendment.changes or {})}
    items = [c for c in changes[kind] if change["id"] is None or c.get("id") != change["id"]]
    if len(items) == len(changes[kind]) and _count_changes(amendment) >= MAX_CHANGES:
        raise ActionRefused(_("An amendment carries at most %(count)s changes.") % {"count": MAX_CHANGES})
    items.append(change)
    changes[kind] = items
    amendment.changes = changes
    amendment.save(update_fields=["changes"])


def amendment_change_milestone(
    *,
    actor,
    amendment: ContractAmendment,
    milestone_id=None,
    title_en="",
    title_ar="",
    due_date=None,
    payment_amount="0",
    waive: bool = False,
) -> ContractAmendment:
    """Add a milestone (``milestone_id`` None), change an existing one's titles, due date and payment, or waive
    an existing one (``waive``: dropped from the schedule once the amendment is in force)."""
    with transaction.atomic():
        contract, amendment = _locked_amendment(amendment)
        require_perm(actor, "contracts.amend_contract", contract)
        _require_amendment_draft(amendment)
        existing = None
        if milestone_id:
            existing = contract.milestones.filter(pk=milestone_id).first()
            if existing is None:
                raise ValidationError({"milestone": _("Choose a milestone of this contract.")})
            if existing.status in (MilestoneStatus.ACCEPTED, MilestoneStatus.PAID):
                raise ValidationError(
                    {"milestone": _("This milestone is already accepted or paid: an amendment cannot change it.")}
                )
        if waive:
            if existing is None:
                raise ValidationError({"milestone": _("Choose the milestone to waive.")})
            due_date = existing.due_date
            payment_amount = existing.payment_amount
            title_en, title_ar = existing.title_en, existing.title_ar
        if due_date is None:
            raise ValidationError({"due_date": _("Enter the due date.")})
        amount = _decimal(payment_amount, "payment_amount")
        if amount < 0:
            raise ValidationError({"payment_amount": _("An amount cannot be negative.")})
        change = {
            "id": existing.pk if existing else None,
            "title_en": _clean_text(title_en or (existing.title_en if existing else ""), "title_en"),
            "title_ar": _clean_text(title_ar or (existing.title_ar if existing else ""), "title_ar"),
            "due_date": due_date.isoformat(),
            "payment_amount": str(amount.quantize(Decimal("0.01"))),
            "waive": bool(waive),
        }
        _store_change(amendment, "milestones", change)
        audit_event_append(
            action="contract.amendment_changed",
            actor=actor,
            obj=amendment,
            payload={
                "number": amendment.number,
                "milestone": change,
                "before": _milestone_dict(existing) if existing else None,
            },
        )
    return amendment


def amendment_change_kpi(
    *,
    actor,
    amendment: ContractAmendment,
    kpi_id=None,
    name_en="",
    name_ar="",
    target=None,
    unit="",
    frequency=Frequency.QUARTERLY,
) -> ContractAmendment:
    """Add an indicator (``kpi_id`` None), or change an existing one's target, unit or frequency."""
    with transaction.atomic():
        contract, amendment = _locked_amendment(amendment)
        require_perm(actor, "contracts.amend_contract", contract)
        _require_amendment_draft(amendment)
        existing = None
        if kpi_id:
            existing = contract.kpis.filter(pk=kpi_id).first()
            if existing is None:
                raise ValidationError({"kpi": _("Choose an indicator of this contract.")})
        if frequency not in Frequency.values:
            raise ValidationError({"frequency": _("Choose how often it is measured.")})
        target_value = _decimal(target, "target")
        change = {
            "id": existing.pk if existing else None,
            "name_en": _clean_text(name_en or (existing.name_en if existing else ""), "name_en"),
            "name_ar": _clean_text(name_ar or (existing.name_ar if existing else ""), "name_ar"),
            "target": str(target_value.normalize()),
            "unit": _clean_text(unit or (existing.unit if existing else ""), "unit", 40),
            "frequency": frequency,
        }
        _store_change(amendment, "kpis", change)
        audit_event_append(
            action="contract.amendment_changed",
            actor=actor,
            obj=amendment,
            payload={"number": amendment.number, "kpi": change, "before": _kpi_dict(existing) if existing else None},
        )
    return amendment


def amendment_remove_change(*, actor, amendment: ContractAmendment, kind: str, index: int) -> ContractAmendment:
    with transaction.atomic():
        contract, amendment = _locked_amendment(amendment)
        require_perm(actor, "contracts.amend_contract", contract)
        _require_amendment_draft(amendment)
        changes = {"milestones": [], "kpis": [], **(amendment.changes or {})}
        if kind not in ("milestones", "kpis") or not 0 <= index < len(changes[kind]):
            raise ActionRefused(_("That change is no longer in the amendment."))
        removed = changes[kind].pop(index)
        amendment.changes = changes
        amendment.save(update_fields=["changes"])
        audit_event_append(
            action="contract.amendment_change_removed",
            actor=actor,
            obj=amendment,
            payload={"number": amendment.number, "kind": kind, "removed": removed},
        )
    return amendment


# The four eyes -----------------------------------------------------------------------------------


def amendment_submit(*, actor, amendment: ContractAmendment) -> ContractAmendment:
    """Send the draft to an approver (draft → pending approval), once it changes something and stays in limits."""
    with transaction.atomic():
        contract, amendment = _locked_amendment(amendment)
        require_perm(actor, "contracts.amend_contract", contract)
        problems = amendment_problems(contract, amendment) if amendment.status == AmendmentStatus.DRAFT else []
        if problems:
            raise ActionRefused(" ".join(problems))
        source, target = _amend_transition(
            amendment, amendment.submit, pgettext("amendment action", "submitted"), now=_now()
        )
        amendment.save()
        audit_event_append(
            action="contract.amendment_submitted",
            actor=actor,
            obj=amendment,
            payload={"number": amendment.number, "from": source, "to": target},
        )
        approvers = [user for user in agency_approvers(contract) if user.pk != amendment.drafted_by_id]
        contract_notify("contract.amendment_submitted", contract, recipients=approvers, amendment=amendment)
    return amendment


def _require_other_approver(actor, amendment: ContractAmendment) -> None:
    if actor.pk == amendment.drafted_by_id:
        raise ActionRefused(_("You drafted this amendment: another approver must decide on it."))


def amendment_return(*, actor, amendment: ContractAmendment, reason: str) -> ContractAmendment:
    """Send the amendment back to its drafter with the approver's reason (pending approval → draft)."""
    with transaction.atomic():
        contract, amendment = _locked_amendment(amendment)
        require_perm(actor, "contracts.approve_amendment", contract)
        _require_other_approver(actor, amendment)
        reason = _clean_reason(reason)
        source, target = _amend_transition(
            amendment, amendment.send_back, pgettext("amendment action", "returned"), reason=reason
        )
        amendment.save()
        audit_event_append(
            action="contract.amendment_returned",
            actor=actor,
            obj=amendment,
            payload={"number": amendment.number, "from": source, "to": target, "reason": reason},
        )
        contract_notify(
            "contract.amendment_returned",
            contract,
            recipients=[amendment.drafted_by],
            amendment=amendment,
            reason=reason,
        )
    return amendment


def contract_signed_sha256(contract: Contract) -> str:
    """The SHA-256 of the contract as signed by both parties (its latest own version's last signature)."""
    version = contract.versions.filter(amendment__isnull=True).order_by("-number").first()
    if version is None:
        return ""
    last = version.signatures.order_by("-signed_at", "-id").first()
    return last.sha256 if last else version.pdf_sha256


def _signed_sha256(version: ContractVersion | None) -> str:
    if version is None:
        return ""
    last = version.signatures.order_by("-signed_at", "-id").first()
    return last.sha256 if last else ""


def amendment_terms(
    contract: Contract, amendment: ContractAmendment, *, number: int, frozen_at: datetime.datetime
) -> dict[str, Any]:
    """Everything the amendment's PDF states, as plain JSON: the PDF is rendered from this alone."""
    terms = resulting_terms(contract, amendment)

    def date(value):
        return value.isoformat() if value else None

    earlier = contract.amendments.filter(status=AmendmentStatus.IN_FORCE).select_related("version").order_by("number")
    return {
        "kind": "amendment",
        "reference": f"{contract.reference}-A{amendment.number}",
        "contract_reference": contract.reference,
        "contract_number": str(contract.number),
        "contract_sha256": contract_signed_sha256(contract),
        "earlier_amendments": [
            {"number": a.number, "sha256": _signed_sha256(getattr(a, "version", None))} for a in earlier
        ],
        "amendment_number": amendment.number,
        "version": number,
        "frozen_at": frozen_at.astimezone(datetime.UTC).isoformat(),
        "title_en": contract.title_en,
        "title_ar": contract.title_ar,
        "agency": {"name_en": contract.agency.name_en, "name_ar": contract.agency.name_ar},
        "vendor": _party(contract.vendor),
        "currency": contract.currency,
        "reason": amendment.reason,
        "value": {"before": str(terms["value"]["before"]), "after": str(terms["value"]["after"])}
        if terms["value"]["before"] != terms["value"]["after"]
        else None,
        "end_date": {"before": date(terms["end_date"]["before"]), "after": date(terms["end_date"]["after"])}
        if terms["end_date"]["before"] != terms["end_date"]["after"]
        else None,
        "milestones": [{"before": c["before"], "after": c["after"]} for c in terms["milestones"]],
        "kpis": [{"before": c["before"], "after": c["after"]} for c in terms["kpis"]],
        "drafted_by": amendment.drafted_by.full_name or amendment.drafted_by.email,
        "approved_by": amendment.approved_by.full_name or amendment.approved_by.email,
    }


def amendment_approve(*, actor, amendment: ContractAmendment) -> ContractVersion:
    """Approve the amendment (pending approval → awaiting signatures): it is frozen into a version of the
    contract whose PDF, rendered in the background, both parties then sign."""
    with transaction.atomic():
        contract, amendment = _locked_amendment(amendment)
        require_perm(actor, "contracts.approve_amendment", contract)
        _require_other_approver(actor, amendment)
        if contract.status != ContractStatus.ACTIVE:
            raise ActionRefused(
                _("The contract is “%(status)s”: only a contract in force can be amended.")
                % {"status": contract.get_status_display()}
            )
        if amendment.status == AmendmentStatus.PENDING_APPROVAL:
            problems = amendment_problems(contract, amendment)
            if problems:
                raise ActionRefused(" ".join(problems))
        now = _now()
        source, target = _amend_transition(
            amendment, amendment.approve, pgettext("amendment action", "approved"), by=actor, now=now
        )
        amendment.save()
        number = (contract.versions.order_by("-number").values_list("number", flat=True).first() or 0) + 1
        version = ContractVersion.objects.create(
            contract=contract,
            amendment=amendment,
            number=number,
            frozen_at=now,
            frozen_by=actor,
            terms=amendment_terms(contract, amendment, number=number, frozen_at=now),
        )
        audit_event_append(
            action="contract.amendment_approved",
            actor=actor,
            obj=amendment,
            payload={
                "number": amendment.number,
                "from": source,
                "to": target,
                "version": number,
                "version_id": version.pk,
                "contract_sha256": version.terms["contract_sha256"],
            },
        )

        def render() -> None:
            from contracts.tasks import render_contract_pdf

            render_contract_pdf.enqueue(version.pk)

        transaction.on_commit(render, robust=True)
    return version


def amendment_withdraw(*, actor, amendment: ContractAmendment) -> ContractAmendment:
    """Withdraw an amendment that is not in force yet and that nobody has signed."""
    with transaction.atomic():
        contract, amendment = _locked_amendment(amendment)
        if not (
            actor.has_perm("contracts.amend_contract", contract)
            or actor.has_perm("contracts.approve_amendment", contract)
        ):
            raise PermissionDenied("contracts.amend_contract")
        version = ContractVersion.objects.filter(amendment=amendment).first()
        if version is not None and version.signatures.exists():
            raise ActionRefused(_("A party has already signed this amendment: it can no longer be withdrawn."))
        source, target = _amend_transition(
            amendment, amendment.withdraw, pgettext("amendment action", "withdrawn"), now=_now()
        )
        amendment.save()
        audit_event_append(
            action="contract.amendment_withdrawn",
            actor=actor,
            obj=amendment,
            payload={"number": amendment.number, "from": source, "to": target},
        )
    return amendment


def apply_amendment(*, actor, contract: Contract, amendment: ContractAmendment, now, sha256: str) -> None:
    """Bring a signed amendment into force, inside the signing transaction: the contract's value, end date,
    milestones and indicators become what it states."""
    terms = resulting_terms(contract, amendment)
    _amend_transition(
        amendment, amendment.bring_into_force, pgettext("amendment action", "brought into force"), now=now
    )
    amendment.save()
    before = {"value": str(contract.value), "end_date": contract.end_date.isoformat() if contract.end_date else None}
    contract.value = terms["value"]["after"]
    contract.end_date = terms["end_date"]["after"]
    contract.save(update_fields=["value", "end_date", "updated_at"])
    next_milestone = (contract.milestones.order_by("-order").values_list("order", flat=True).first() or 0) + 1
    for change in terms["milestones"]:
        fields = dict(change["after"], payment_amount=Decimal(change["after"]["payment_amount"]))
        fields["due_date"] = datetime.date.fromisoformat(fields["due_date"])
        if fields.pop("waived", False):
            ContractMilestone.objects.filter(
                pk=change["id"],
                contract=contract,
                status__in=[MilestoneStatus.PLANNED, MilestoneStatus.SUBMITTED, MilestoneStatus.REJECTED],
            ).update(amendment=amendment, status=MilestoneStatus.WAIVED, overdue_since=None)
            continue
        if change["id"]:
            ContractMilestone.objects.filter(pk=change["id"], contract=contract).update(amendment=amendment, **fields)
        else:
            ContractMilestone.objects.create(contract=contract, order=next_milestone, amendment=amendment, **fields)
            next_milestone += 1
    next_kpi = (contract.kpis.order_by("-order").values_list("order", flat=True).first() or 0) + 1
    for change in terms["kpis"]:
        fields = dict(change["after"], target=Decimal(change["after"]["target"]))
        if change["id"]:
            ContractKpi.objects.filter(pk=change["id"], contract=contract).update(amendment=amendment, **fields)
        else:
            ContractKpi.objects.create(contract=contract, order=next_kpi, amendment=amendment, **fields)
            next_kpi += 1
    audit_event_append(
        action="contract.amendment_in_force",
        actor=actor,
        obj=amendment,
        payload={
            "number": amendment.number,
            "sha256": sha256,
            "before": before,
            "after": {"value": str(contract.value), "end_date": contract.end_date.isoformat()},
            "milestones": [{"id": c["id"], "after": c["after"]} for c in terms["milestones"]],
            "kpis": [{"id": c["id"], "after": c["after"]} for c in terms["kpis"]],
        },
    )
    contract_notify("contract.amendment_in_force", contract, recipients=both_parties(contract), amendment=amendment)


__all__ = [
    "amendment_approve",
    "amendment_change_kpi",
    "amendment_change_milestone",
    "amendment_create",
    "amendment_remove_change",
    "amendment_return",
    "amendment_submit",
    "amendment_update",
    "amendment_withdraw",
    "amendment_problems",
    "apply_amendment",
    "original_value",
    "resulting_terms",
]
