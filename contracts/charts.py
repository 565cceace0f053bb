"""The pictures of a contract's monitoring page, as numbers the template draws in SVG (no JavaScript): the
milestones on the contract's term against plan, payments and penalties against the value, and each KPI's
measurements against its target. Every chart is also given as a table for screen readers. Right-to-left
pages mirror the time axis."""

from __future__ import annotations

import datetime
from decimal import Decimal

WIDTH = 1000
ROW = 34
AXIS = 34
TREND_HEIGHT = 180


def _x(day: datetime.date, start: datetime.date, span: int, rtl: bool) -> float:
    fraction = min(max((day - start).days / span, 0.0), 1.0)
    x = fraction * WIDTH
    return round(WIDTH - x if rtl else x, 1)


def milestone_timeline(contract, milestones, *, today: datetime.date, rtl: bool) -> dict | None:
    """One row per milestone: its due date (a diamond) and, once accepted, when (a dot); overdue ones marked."""
    if not contract.start_date or not contract.end_date:
        return None
    start, end = contract.start_date, contract.end_date
    span = max((end - start).days, 1)
    rows = []
    for index, milestone in enumerate(milestones):
        y = AXIS + index * ROW + ROW / 2
        done = milestone.accepted_on
        late = done > milestone.due_date if done else today > milestone.due_date
        rows.append(
            {
                "milestone": milestone,
                "y": y,
                "due_x": _x(milestone.due_date, start, span, rtl),
                "done_x": _x(done, start, span, rtl) if done else None,
                "late": late,
                "label_x": WIDTH if rtl else 0,
                "label_anchor": "start",
            }
        )
    years = [
        {"year": year, "x": _x(datetime.date(year, 1, 1), start, span, rtl)}
        for year in range(start.year + 1, end.year + 1)
    ]
    if len(years) > 12:
        step = -(-len(years) // 12)
        years = years[::step]
    return {
        "rows": rows,
        "years": years,
        "today_x": _x(today, start, span, rtl) if start <= today <= end else None,
        "width": WIDTH,
        "height": AXIS + max(len(rows), 1) * ROW + 8,
        "direction": "rtl" if rtl else "ltr",
    }


def money_bar(*, value: Decimal, paid: Decimal, penalties: Decimal, rtl: bool) -> dict:
    """Payments and penalties as shares of the contract's current value, on one bar."""
    value = value or Decimal("0")

    def share(amount: Decimal) -> float:
        return round(float(amount / value) * WIDTH, 1) if value else 0.0

    paid_width, penalty_width = share(paid), share(penalties)
    paid_x = WIDTH - paid_width if rtl else 0.0
    penalty_x = paid_x - penalty_width if rtl else paid_width
    return {
        "width": WIDTH,
        "paid_width": paid_width,
        "paid_x": paid_x,
        "penalty_width": penalty_width,
        "penalty_x": round(penalty_x, 1),
        "paid_percent": round(float(paid / value) * 100, 1) if value else 0.0,
        "penalty_percent": round(float(penalties / value) * 100, 1) if value else 0.0,
    }


def kpi_trend(kpi, measurements, *, rtl: bool) -> dict | None:
    """The confirmed measurements of one KPI in time order, as a line, with its target as a dashed line."""
    points = [m for m in measurements if m.status == "confirmed"]
    if not points:
        return None
    values = [float(m.value) for m in points] + [float(kpi.target)]
    low, high = min(values), max(values)
    if high == low:
        low, high = low - 1, high + 1
    pad = (high - low) * 0.1
    low, high = low - pad, high + pad

    def y(value: float) -> float:
        return round(TREND_HEIGHT - (value - low) / (high - low) * TREND_HEIGHT, 1)

    count = len(points)
    step = WIDTH / max(count - 1, 1)
    dots = []
    for index, measurement in enumerate(points):
        x = index * step if count > 1 else WIDTH / 2
        dots.append(
            {
                "measurement": measurement,
                "x": round(WIDTH - x if rtl else x, 1),
                "y": y(float(measurement.value)),
                "met": measurement.met,
            }
        )
    return {
        "kpi": kpi,
        "dots": dots,
        "line": " ".join(f"{d['x']},{d['y']}" for d in dots),
        "target_y": y(float(kpi.target)),
        "width": WIDTH,
        "height": TREND_HEIGHT,
    }
