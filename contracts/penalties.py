"""The arithmetic of penalties and payments, by the contract's rule, in Decimal and nothing else.

The contract states a penalty rate (per cent of its value per day of delay) and a cap (per cent of its value,
over the whole contract). A milestone accepted after its due date attracts the daily rate for each day of
delay; a KPI measurement that misses its target is a performance failure and attracts one day's rate. No
penalty takes the total past the cap. Penalties are deducted from the next payment (as far as it goes; what
is left is deducted from the one after). Amounts are rounded half up to the cent, once, where they are made.

Every function returns its result with the words of its calculation, so that the page, the audit log and the
contractor all see how a figure came about.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
ZERO = Decimal("0.00")


def money(value) -> Decimal:
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def daily_rate_amount(value: Decimal, rate_percent: Decimal) -> Decimal:
    """One day's penalty: the rate (per cent of the value) applied to the value."""
    return money(Decimal(value) * Decimal(rate_percent) / 100)


def cap_amount(value: Decimal, cap_percent: Decimal) -> Decimal:
    return money(Decimal(value) * Decimal(cap_percent) / 100)


def days_late(due: datetime.date, done: datetime.date) -> int:
    """Whole days after the due date (0 when on time or early)."""
    return max(0, (done - due).days)


@dataclass(frozen=True)
class Calculation:
    uncapped: Decimal
    amount: Decimal
    explanation: str


def _cap_note(cap_percent, cap: Decimal, already: Decimal, amount: Decimal) -> str:
    return f"; capped at {cap_percent}% of the value ({cap}) less {money(already)} already charged: {amount}"


def _capped(uncapped: Decimal, *, already: Decimal, cap: Decimal) -> Decimal:
    room = max(ZERO, money(cap) - money(already))
    return min(money(uncapped), room)


def delay_penalty(
    *, value: Decimal, rate_percent: Decimal, cap_percent: Decimal, days: int, already: Decimal
) -> Calculation:
    """The penalty for ``days`` of delay, given the penalties ``already`` charged on the contract."""
    daily = daily_rate_amount(value, rate_percent)
    uncapped = money(daily * days)
    cap = cap_amount(value, cap_percent)
    amount = _capped(uncapped, already=already, cap=cap)
    explanation = f"{days} day(s) × {rate_percent}% × {money(value)} = {days} × {daily} = {uncapped}"
    if amount < uncapped:
        explanation += _cap_note(cap_percent, cap, already, amount)
    return Calculation(uncapped, amount, explanation)


def kpi_failure_penalty(
    *, value: Decimal, rate_percent: Decimal, cap_percent: Decimal, failures: int, already: Decimal
) -> Calculation:
    """The penalty for ``failures`` performance failures: one day's rate each, within the cap."""
    daily = daily_rate_amount(value, rate_percent)
    uncapped = money(daily * failures)
    cap = cap_amount(value, cap_percent)
    amount = _capped(uncapped, already=already, cap=cap)
    explanation = f"{failures} failure(s) × one day's rate ({rate_percent}% × {money(value)} = {daily}) = {uncapped}"
    if amount < uncapped:
        explanation += _cap_note(cap_percent, cap, already, amount)
    return Calculation(uncapped, amount, explanation)


@dataclass(frozen=True)
class Deduction:
    gross: Decimal
    deducted: Decimal
    net: Decimal
    carried: Decimal  # penalties left for the next payment
    explanation: str


def deduct(*, gross: Decimal, outstanding: Decimal) -> Deduction:
    """A payment of ``gross`` less the ``outstanding`` penalties, as far as it goes."""
    gross, outstanding = money(gross), money(outstanding)
    deducted = min(gross, outstanding)
    net = gross - deducted
    carried = outstanding - deducted
    explanation = f"{gross} − penalties {deducted} = {net}"
    if carried:
        explanation += f" ({carried} of penalties carried to the next payment)"
    return Deduction(gross, deducted, net, carried, explanation)


def misses_target(*, value: Decimal, target: Decimal, higher_is_better: bool) -> bool:
    """Whether a measurement misses its target (at the target is a pass)."""
    return Decimal(value) < Decimal(target) if higher_is_better else Decimal(value) > Decimal(target)
