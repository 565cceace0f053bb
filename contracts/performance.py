"""Contractor performance: a score per contract and per vendor, from what the monitoring recorded.

A contract's score (0–100) weighs three things, each on 0–100:

- on-time delivery (40 %): of the milestones accepted, or due and not accepted yet, the share accepted on or
  before their due date;
- KPI attainment (40 %): of the confirmed measurements, the share that met their target;
- penalties (20 %): 100 less the penalties charged as a share of the contract's penalty cap.

A part with nothing to measure yet is left out and the others are weighed among themselves; a contract with
nothing at all is "not rated yet" (``None``). A vendor's score is the average of its contracts' scores
weighted by their values. Everything is computed with a fixed number of queries for any number of contracts.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, F, Q, Sum

from contracts.models import Contract, ContractStatus, KpiMeasurement, MeasurementStatus, Penalty
from contracts.models import ContractMilestone as Milestone

WEIGHTS = {"on_time": 40, "kpi": 40, "penalties": 20}
MONITORED = (ContractStatus.ACTIVE, ContractStatus.COMPLETED, ContractStatus.TERMINATED)


@dataclass(frozen=True)
class Score:
    on_time: float | None  # per cent of milestones delivered on time
    kpi: float | None  # per cent of measurements that met their target
    penalties: float | None  # 100 less the penalties as a per cent of the cap
    score: float | None
    milestones_counted: int
    measurements_counted: int
    penalties_total: Decimal


def _combine(parts: dict[str, float | None]) -> float | None:
    weighed = [(WEIGHTS[name], value) for name, value in parts.items() if value is not None]
    if not weighed:
        return None
    total = sum(weight for weight, _value in weighed)
    return round(sum(weight * value for weight, value in weighed) / total, 1)


def contract_scores(contracts: list[Contract], *, today: datetime.date) -> dict[int, Score]:
    """The score of each contract (three queries whatever their number)."""
    ids = [c.pk for c in contracts]
    milestones = {
        row["contract_id"]: row
        for row in Milestone.objects.filter(contract_id__in=ids)
        .values("contract_id")
        .annotate(
            on_time=Count("id", filter=Q(accepted_on__isnull=False, accepted_on__lte=F("due_date"))),
            late_done=Count("id", filter=Q(accepted_on__isnull=False, accepted_on__gt=F("due_date"))),
            late_open=Count("id", filter=Q(accepted_on__isnull=True, due_date__lt=today)),
        )
    }
    measurements = {
        row["contract_id"]: row
        for row in KpiMeasurement.objects.filter(contract_id__in=ids, status=MeasurementStatus.CONFIRMED)
        .values("contract_id")
        .annotate(counted=Count("id"), met=Count("id", filter=Q(met=True)))
    }
    penalties = {
        row["contract_id"]: row["total"]
        for row in Penalty.objects.filter(contract_id__in=ids).values("contract_id").annotate(total=Sum("amount"))
    }
    scores = {}
    for contract in contracts:
        m = milestones.get(contract.pk, {"on_time": 0, "late_done": 0, "late_open": 0})
        counted = m["on_time"] + m["late_done"] + m["late_open"]
        on_time = round(100 * m["on_time"] / counted, 1) if counted else None
        k = measurements.get(contract.pk, {"counted": 0, "met": 0})
        kpi = round(100 * k["met"] / k["counted"], 1) if k["counted"] else None
        charged = penalties.get(contract.pk) or Decimal("0")
        cap = contract.value * contract.penalty_cap / 100
        penalty_part = None
        if counted or k["counted"]:
            penalty_part = round(100 - float(min(charged / cap, 1)) * 100, 1) if cap else 100.0
        parts = {"on_time": on_time, "kpi": kpi, "penalties": penalty_part}
        scores[contract.pk] = Score(
            on_time=on_time,
            kpi=kpi,
            penalties=penalty_part,
            score=_combine(parts),
            milestones_counted=counted,
            measurements_counted=k["counted"],
            penalties_total=charged,
        )
    return scores


def vendor_scores(vendor_ids, *, today: datetime.date) -> dict[int, dict]:
    """Per vendor: its score (value-weighted over its rated contracts) and how many contracts it rests on."""
    contracts = list(
        Contract.objects.filter(vendor_id__in=list(vendor_ids), status__in=MONITORED).only(
            "id", "vendor_id", "value", "penalty_cap"
        )
    )
    scores = contract_scores(contracts, today=today)
    result: dict[int, dict] = {}
    for contract in contracts:
        score = scores[contract.pk].score
        if score is None:
            continue
        entry = result.setdefault(contract.vendor_id, {"weighted": 0.0, "value": 0.0, "contracts": 0})
        weight = float(contract.value) or 1.0
        entry["weighted"] += score * weight
        entry["value"] += weight
        entry["contracts"] += 1
    return {
        vendor_id: {"score": round(entry["weighted"] / entry["value"], 1), "contracts": entry["contracts"]}
        for vendor_id, entry in result.items()
    }
