"""The desk's response times over time: for each of the last weeks, the median and the average time from
receipt to the first answer of the items received that week, drawn as two lines in SVG (no JavaScript) and given
as a table for screen readers. Right-to-left pages mirror the time axis."""

from __future__ import annotations

import datetime
import statistics

from django.db.models import QuerySet

WIDTH = 1000
HEIGHT = 220
WEEKS = 12


def _week_start(day: datetime.date) -> datetime.date:
    return day - datetime.timedelta(days=day.weekday())


def weekly_response_times(items: QuerySet, *, today: datetime.date, weeks: int = WEEKS) -> list[dict]:
    """One row per week (oldest first): items received, answered, answered within target, median and average
    hours to the first answer. One query: the receipt and first-answer times of the weeks' items."""
    first = _week_start(today) - datetime.timedelta(weeks=weeks - 1)
    start = datetime.datetime.combine(first, datetime.time.min, tzinfo=datetime.UTC)
    rows = {
        first + datetime.timedelta(weeks=index): {"received": 0, "within_target": 0, "hours": []}
        for index in range(weeks)
    }
    for received_at, answered_at, due_at in items.filter(received_at__gte=start).values_list(
        "received_at", "first_answered_at", "due_at"
    ):
        row = rows.get(_week_start(received_at.astimezone(datetime.UTC).date()))
        if row is None:
            continue
        row["received"] += 1
        if answered_at is not None:
            row["hours"].append((answered_at - received_at).total_seconds() / 3600)
            row["within_target"] += answered_at <= due_at
    result = []
    for week, row in rows.items():
        hours = row["hours"]
        result.append(
            {
                "week": week,
                "received": row["received"],
                "answered": len(hours),
                "within_target": row["within_target"],
                "median": round(statistics.median(hours), 1) if hours else None,
                "average": round(statistics.fmean(hours), 1) if hours else None,
            }
        )
    return result


def response_time_chart(weeks: list[dict], *, rtl: bool) -> dict | None:
    """Coordinates of the two lines (median, average) and the axis labels; None when nothing was answered."""
    values = [week[key] for week in weeks for key in ("median", "average") if week[key] is not None]
    if not values:
        return None
    top = max(values) * 1.1 or 1.0
    step = WIDTH / max(len(weeks) - 1, 1)

    def x(index: int) -> float:
        position = index * step
        return round(WIDTH - position if rtl else position, 1)

    def y(value: float) -> float:
        return round(HEIGHT - value / top * HEIGHT, 1)

    lines = {}
    for key in ("median", "average"):
        points = [(x(i), y(week[key])) for i, week in enumerate(weeks) if week[key] is not None]
        lines[key] = {"points": " ".join(f"{px},{py}" for px, py in points), "dots": points}
    return {
        "width": WIDTH,
        "height": HEIGHT,
        "median": lines["median"],
        "average": lines["average"],
        "labels": [{"x": x(i), "week": week["week"]} for i, week in enumerate(weeks)],
        "top": round(top, 1),
        "grid": [{"y": y(top * share), "hours": round(top * share, 1)} for share in (0.25, 0.5, 0.75, 1.0)],
    }
