"""Reads that shape data for the programme pages: the phase timeline and the budget chart."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Prefetch, QuerySet

from procurement.models import Bid, BidEnvelope, Phase, Programme, Tender
from procurement.models.bids import BidStatus

CHART_WIDTH = 1000
ROW_HEIGHT = 54
BAR_HEIGHT = 22
LABEL_GAP = 20  # the phase's name sits above its bar
AXIS_HEIGHT = 40


@dataclass
class TimelineBar:
    phase: Phase
    x: float
    y: float
    width: float
    status: str
    label_x: float
    label_y: float
    label_anchor: str


def _anchor(left_aligned: bool, rtl: bool) -> str:
    """SVG text-anchor for text that should start at (left_aligned) or end at the given x.

    Right-to-left text (direction="rtl") starts on its right, so the anchor names swap."""
    if rtl:
        return "end" if left_aligned else "start"
    return "start" if left_aligned else "end"


def _position(day: datetime.date, start: datetime.date, span_days: int, rtl: bool) -> float:
    fraction = (day - start).days / span_days
    x = fraction * CHART_WIDTH
    return CHART_WIDTH - x if rtl else x


def programme_timeline(programme: Programme, phases: list[Phase], *, today: datetime.date, rtl: bool) -> dict:
    """Bars for each phase on a time axis from the programme's start to its end (mirrored in Arabic)."""
    span = max((programme.end_date - programme.start_date).days, 1)
    bars = []
    for index, phase in enumerate(phases):
        left = _position(phase.start_date, programme.start_date, span, rtl)
        right = _position(phase.end_date, programme.start_date, span, rtl)
        x, width = min(left, right), max(abs(right - left), 4)
        top = AXIS_HEIGHT + index * ROW_HEIGHT
        # The name goes above the bar, aligned with whichever end of the bar leaves it more room.
        room_right = CHART_WIDTH - x
        room_left = x + width
        anchor_start = room_right >= room_left
        bars.append(
            TimelineBar(
                phase=phase,
                x=round(x, 1),
                y=top + LABEL_GAP,
                width=round(width, 1),
                status=phase.status(today),
                label_x=round(x if anchor_start else x + width, 1),
                label_y=top + LABEL_GAP - 6,
                label_anchor=_anchor(anchor_start, rtl),
            )
        )
    years = []
    for year in range(programme.start_date.year, programme.end_date.year + 2):
        day = datetime.date(year, 1, 1)
        if programme.start_date <= day <= programme.end_date:
            years.append({"year": year, "x": round(_position(day, programme.start_date, span, rtl), 1)})
    today_x = None
    if programme.start_date <= today <= programme.end_date:
        today_x = round(_position(today, programme.start_date, span, rtl), 1)
    return {
        "bars": bars,
        "years": years,
        "today_x": today_x,
        "width": CHART_WIDTH,
        "height": AXIS_HEIGHT + max(len(phases), 1) * ROW_HEIGHT + 8,
        "bar_height": BAR_HEIGHT,
        "margin": 40,
        "text_direction": "rtl" if rtl else "ltr",
    }


def programme_budget_chart(programme: Programme, phases: list[Phase], *, rtl: bool) -> dict:
    """Horizontal bars: each phase's share of the programme budget, and what is not yet allocated."""
    total = programme.budget or Decimal("0")
    allocated = sum((p.budget for p in phases), Decimal("0"))
    rows = []
    for index, phase in enumerate(phases):
        share = float(phase.budget / total) if total else 0.0
        width = round(share * CHART_WIDTH, 1)
        top = index * ROW_HEIGHT
        rows.append(
            {
                "phase": phase,
                "share": round(share * 100, 1),
                "width": width,
                "x": CHART_WIDTH - width if rtl else 0,
                "y": top + LABEL_GAP,
                "label_y": top + LABEL_GAP - 6,
                "label_x": CHART_WIDTH if rtl else 0,
                "label_anchor": _anchor(not rtl, rtl),
            }
        )
    return {
        "rows": rows,
        "allocated": allocated,
        "unallocated": max(total - allocated, Decimal("0")),
        "allocated_share": round(float(allocated / total) * 100, 1) if total else 0.0,
        "width": CHART_WIDTH,
        "height": max(len(phases), 1) * ROW_HEIGHT,
        "bar_height": BAR_HEIGHT,
        "text_direction": "rtl" if rtl else "ltr",
    }


def programme_contracts(programme: Programme, phases: list[Phase], *, today: datetime.date, rtl: bool) -> dict:
    """Each phase's contracts (signed, in force or ended): their number and value, what was paid against the
    phase's budget, milestones delivered against those due, late milestones and penalties. Four queries
    whatever the number of contracts."""
    from django.db.models import Count, F, Q, Sum

    from contracts.models import Contract, ContractMilestone, Payment, Penalty
    from contracts.performance import MONITORED

    contracts = (
        Contract.objects.filter(phase__in=phases, status__in=MONITORED)
        .values("phase_id")
        .annotate(count=Count("id"), value=Sum("value"))
    )
    milestones = (
        ContractMilestone.objects.filter(contract__phase__in=phases, contract__status__in=MONITORED)
        .values("contract__phase_id")
        .annotate(
            due=Count("id", filter=Q(due_date__lte=today)),
            delivered=Count("id", filter=Q(accepted_on__isnull=False)),
            late=Count(
                "id",
                filter=Q(accepted_on__isnull=True, due_date__lt=today)
                | Q(accepted_on__isnull=False, accepted_on__gt=F("due_date")),
            ),
        )
    )
    paid = Payment.objects.filter(contract__phase__in=phases).values("contract__phase_id").annotate(total=Sum("amount"))
    penalties = (
        Penalty.objects.filter(contract__phase__in=phases).values("contract__phase_id").annotate(total=Sum("amount"))
    )
    by_phase = {row["phase_id"]: row for row in contracts}
    milestone_rows = {row["contract__phase_id"]: row for row in milestones}
    paid_by = {row["contract__phase_id"]: row["total"] for row in paid}
    penalties_by = {row["contract__phase_id"]: row["total"] for row in penalties}
    rows = []
    for index, phase in enumerate(phases):
        c = by_phase.get(phase.pk, {"count": 0, "value": Decimal("0")})
        m = milestone_rows.get(phase.pk, {"due": 0, "delivered": 0, "late": 0})
        spent = paid_by.get(phase.pk) or Decimal("0")
        budget = phase.budget or Decimal("0")
        share = float(spent / budget) if budget else 0.0
        width = round(min(share, 1.0) * CHART_WIDTH, 1)
        top = index * ROW_HEIGHT
        rows.append(
            {
                "phase": phase,
                "contracts": c["count"],
                "value": c["value"] or Decimal("0"),
                "paid": spent,
                "spent_share": round(share * 100, 1),
                "due": m["due"],
                "delivered": m["delivered"],
                "late": m["late"],
                "penalties": penalties_by.get(phase.pk) or Decimal("0"),
                "width": width,
                "x": CHART_WIDTH - width if rtl else 0,
                "y": top + LABEL_GAP,
                "label_y": top + LABEL_GAP - 6,
                "label_x": CHART_WIDTH if rtl else 0,
                "label_anchor": _anchor(not rtl, rtl),
            }
        )
    return {
        "rows": rows,
        "any": any(row["contracts"] for row in rows),
        "width": CHART_WIDTH,
        "height": max(len(phases), 1) * ROW_HEIGHT,
        "bar_height": BAR_HEIGHT,
        "text_direction": "rtl" if rtl else "ltr",
    }


def registered_bids(tender: Tender) -> QuerySet[Bid]:
    """The tender's bid register (the web's page and the API's list): every bid but the drafts, with its vendor
    and the envelopes of every version (metadata only: never the draft nor an envelope's content)."""
    envelopes = BidEnvelope.objects.select_related("version").defer("content", "problem").order_by("kind")
    return (
        Bid.objects.filter(tender=tender)
        .exclude(status=BidStatus.DRAFT)
        .select_related("vendor")
        .defer("draft")
        .prefetch_related(Prefetch("envelopes", queryset=envelopes))
    )
