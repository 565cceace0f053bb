"""The arithmetic of penalties and payments (``contracts/penalties.py``): examples computed by hand, and
properties that hold for any contract — a penalty is never negative and never takes the total past the cap;
a deduction never leaves a negative payment and loses no money."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from contracts.penalties import (
    cap_amount,
    daily_rate_amount,
    days_late,
    deduct,
    delay_penalty,
    kpi_failure_penalty,
    misses_target,
    money,
)

D = Decimal
VALUE = D("1250000.00")  # the contract of ``tests.contracts.test_contracts.drafted``: 0.05 % a day, cap 10 %
RATE = D("0.05")
CAP = D("10")


# The daily rate and the cap ----------------------------------------------------------------------------------


def test_the_daily_rate_is_the_rate_applied_to_the_value():
    # 0.05 % × 1,250,000.00 = 625.00
    assert daily_rate_amount(VALUE, RATE) == D("625.00")
    assert daily_rate_amount(VALUE, D("0")) == D("0.00")
    assert daily_rate_amount(D("0"), RATE) == D("0.00")
    # 1 % × 80,000.00 = 800.00
    assert daily_rate_amount(D("80000"), D("1")) == D("800.00")


@pytest.mark.parametrize(
    ("value", "rate", "expected"),
    [
        # 0.1 % × 12,345.00 = 12.345: half up gives 12.35 (half to even would give 12.34).
        ("12345.00", "0.1", "12.35"),
        # 0.1 % × 25.00 = 0.025 → 0.03
        ("25.00", "0.1", "0.03"),
        # 0.05 % × 1,234,567.89 = 617.283945 → 617.28
        ("1234567.89", "0.05", "617.28"),
        # 0.025 % × 999.99 = 0.2499975 → 0.25
        ("999.99", "0.025", "0.25"),
        # 0.001 % × 4.99 = 0.0000499 → 0.00
        ("4.99", "0.001", "0.00"),
        # 0.125 % × 1,001.00 = 1.25125 → 1.25
        ("1001.00", "0.125", "1.25"),
    ],
)
def test_the_daily_rate_is_rounded_half_up_to_the_cent(value, rate, expected):
    amount = daily_rate_amount(D(value), D(rate))
    assert amount == D(expected)
    assert amount.as_tuple().exponent == -2


@pytest.mark.parametrize(
    ("value", "cap", "expected"),
    [
        ("1250000.00", "10", "125000.00"),
        ("1250000.00", "0", "0.00"),
        # 7.5 % × 1,234,567.89 = 92,592.59175 → 92,592.59
        ("1234567.89", "7.5", "92592.59"),
        # 0.1 % × 12,345.00 = 12.345 → 12.35
        ("12345.00", "0.1", "12.35"),
        # 12.25 % × 10.10 = 1.23725 → 1.24
        ("10.10", "12.25", "1.24"),
    ],
)
def test_the_cap_is_a_share_of_the_value_rounded_half_up(value, cap, expected):
    assert cap_amount(D(value), D(cap)) == D(expected)


def test_money_rounds_half_up_to_the_cent():
    assert money(D("0.005")) == D("0.01")
    assert money(D("0.015")) == D("0.02")
    assert money(D("2.675")) == D("2.68")
    assert money(D("2.6749999")) == D("2.67")
    assert money(7) == D("7.00")


def test_days_late_counts_whole_days_after_the_due_date():
    due = datetime.date(2029, 6, 30)
    assert days_late(due, due) == 0
    assert days_late(due, due - datetime.timedelta(days=3)) == 0
    assert days_late(due, datetime.date(2029, 7, 1)) == 1
    assert days_late(due, datetime.date(2029, 7, 17)) == 17
    assert days_late(datetime.date(2028, 2, 28), datetime.date(2028, 3, 1)) == 2  # a leap year


# Delay penalties -------------------------------------------------------------------------------------------


def test_a_delay_of_seventeen_days():
    # 17 days × 0.05 % × 1,250,000.00 = 17 × 625.00 = 10,625.00
    calculation = delay_penalty(value=VALUE, rate_percent=RATE, cap_percent=CAP, days=17, already=D("0"))
    assert calculation.uncapped == D("10625.00")
    assert calculation.amount == D("10625.00")
    assert "17 day(s)" in calculation.explanation and "625.00" in calculation.explanation
    assert calculation.explanation.endswith("= 10625.00")
    assert "capped" not in calculation.explanation


def test_no_delay_costs_nothing():
    calculation = delay_penalty(value=VALUE, rate_percent=RATE, cap_percent=CAP, days=0, already=D("0"))
    assert (calculation.uncapped, calculation.amount) == (D("0.00"), D("0.00"))


def test_a_delay_on_an_awkward_value_multiplies_the_rounded_daily_rate():
    # One day: 0.1 % × 12,345.00 = 12.345 → 12.35; three days: 3 × 12.35 = 37.05 (as the calculation shows it).
    calculation = delay_penalty(value=D("12345.00"), rate_percent=D("0.1"), cap_percent=CAP, days=3, already=D("0"))
    assert calculation.amount == D("37.05")
    assert "3 × 12.35 = 37.05" in calculation.explanation
    # 0.05 % × 1,234,567.89 = 617.283945 → 617.28 a day; 17 × 617.28 = 10,493.76
    calculation = delay_penalty(value=D("1234567.89"), rate_percent=RATE, cap_percent=CAP, days=17, already=D("0"))
    assert calculation.amount == D("10493.76")


def test_the_cap_reached_partly_by_the_penalties_already_charged():
    # Cap: 10 % × 1,250,000.00 = 125,000.00; 120,000.00 already charged leaves 5,000.00 of the 10,625.00.
    calculation = delay_penalty(value=VALUE, rate_percent=RATE, cap_percent=CAP, days=17, already=D("120000.00"))
    assert calculation.uncapped == D("10625.00")
    assert calculation.amount == D("5000.00")
    assert "capped at 10% of the value (125000.00) less 120000.00 already charged: 5000.00" in calculation.explanation


def test_the_cap_reached_by_the_delay_alone():
    # 300 days × 625.00 = 187,500.00, capped at 125,000.00 (reached after 200 days).
    calculation = delay_penalty(value=VALUE, rate_percent=RATE, cap_percent=CAP, days=300, already=D("0"))
    assert (calculation.uncapped, calculation.amount) == (D("187500.00"), D("125000.00"))
    assert "capped" in calculation.explanation
    exactly = delay_penalty(value=VALUE, rate_percent=RATE, cap_percent=CAP, days=200, already=D("0"))
    assert exactly.amount == D("125000.00") and "capped" not in exactly.explanation


def test_the_cap_reached_fully_by_the_penalties_already_charged():
    calculation = delay_penalty(value=VALUE, rate_percent=RATE, cap_percent=CAP, days=17, already=D("125000.00"))
    assert calculation.amount == D("0.00")
    assert "capped" in calculation.explanation
    # Charged beyond the cap (the value amended down, say): nothing more, and never a negative penalty.
    beyond = delay_penalty(value=VALUE, rate_percent=RATE, cap_percent=CAP, days=17, already=D("130000.00"))
    assert beyond.amount == D("0.00")


def test_a_zero_cap_allows_no_penalty():
    calculation = delay_penalty(value=VALUE, rate_percent=RATE, cap_percent=D("0"), days=17, already=D("0"))
    assert (calculation.uncapped, calculation.amount) == (D("10625.00"), D("0.00"))


# KPI failures ----------------------------------------------------------------------------------------------


def test_a_kpi_failure_costs_one_days_rate():
    calculation = kpi_failure_penalty(value=VALUE, rate_percent=RATE, cap_percent=CAP, failures=1, already=D("0"))
    assert calculation.amount == D("625.00") == daily_rate_amount(VALUE, RATE)
    assert "1 failure(s)" in calculation.explanation and "625.00" in calculation.explanation
    three = kpi_failure_penalty(value=VALUE, rate_percent=RATE, cap_percent=CAP, failures=3, already=D("0"))
    assert three.amount == D("1875.00")


def test_a_kpi_failure_within_the_cap():
    # 124,700.00 already charged leaves 300.00 of the cap for a 625.00 failure.
    calculation = kpi_failure_penalty(
        value=VALUE, rate_percent=RATE, cap_percent=CAP, failures=1, already=D("124700.00")
    )
    assert (calculation.uncapped, calculation.amount) == (D("625.00"), D("300.00"))
    assert "capped" in calculation.explanation
    full = kpi_failure_penalty(value=VALUE, rate_percent=RATE, cap_percent=CAP, failures=1, already=D("125000.00"))
    assert full.amount == D("0.00")


# Deductions from payments ----------------------------------------------------------------------------------


def test_a_payment_with_nothing_outstanding_is_paid_in_full():
    deduction = deduct(gross=D("250000.00"), outstanding=D("0"))
    assert (deduction.gross, deduction.deducted, deduction.net, deduction.carried) == (
        D("250000.00"),
        D("0.00"),
        D("250000.00"),
        D("0.00"),
    )
    assert deduction.explanation == "250000.00 − penalties 0.00 = 250000.00"


def test_penalties_smaller_than_the_payment_are_deducted_in_full():
    deduction = deduct(gross=D("250000.00"), outstanding=D("10625.00"))
    assert (deduction.deducted, deduction.net, deduction.carried) == (D("10625.00"), D("239375.00"), D("0.00"))
    assert "carried" not in deduction.explanation


def test_penalties_larger_than_the_payment_are_carried_to_the_next():
    deduction = deduct(gross=D("100000.00"), outstanding=D("125000.00"))
    assert (deduction.deducted, deduction.net, deduction.carried) == (D("100000.00"), D("0.00"), D("25000.00"))
    assert "25000.00 of penalties carried to the next payment" in deduction.explanation
    following = deduct(gross=D("250000.00"), outstanding=deduction.carried)
    assert (following.deducted, following.net, following.carried) == (D("25000.00"), D("225000.00"), D("0.00"))


def test_penalties_equal_to_the_payment_leave_nothing_to_pay_and_nothing_to_carry():
    deduction = deduct(gross=D("625.00"), outstanding=D("625.00"))
    assert (deduction.deducted, deduction.net, deduction.carried) == (D("625.00"), D("0.00"), D("0.00"))


def test_a_milestone_without_payment():
    deduction = deduct(gross=D("0"), outstanding=D("625.00"))
    assert (deduction.deducted, deduction.net, deduction.carried) == (D("0.00"), D("0.00"), D("625.00"))


# Targets ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "target", "higher_is_better", "missed"),
    [
        ("99.4", "99.5", True, True),  # availability below its minimum
        ("99.499", "99.5", True, True),
        ("99.5", "99.5", True, False),  # at the target is a pass
        ("99.500", "99.5", True, False),
        ("99.9", "99.5", True, False),
        ("4.5", "4", False, True),  # response time above its maximum
        ("4.001", "4", False, True),
        ("4", "4", False, False),  # at the target is a pass
        ("4.000", "4.0", False, False),
        ("3.2", "4", False, False),
        ("0", "0", False, False),
        ("-1", "0", True, True),
    ],
)
def test_misses_target(value, target, higher_is_better, missed):
    assert misses_target(value=D(value), target=D(target), higher_is_better=higher_is_better) is missed


def test_misses_target_accepts_strings_and_numbers():
    assert misses_target(value="98.2", target=D("99.5"), higher_is_better=True) is True
    assert misses_target(value=5, target=5, higher_is_better=False) is False


# Properties ------------------------------------------------------------------------------------------------


def cents(maximum: int):
    return st.integers(min_value=0, max_value=maximum).map(lambda c: Decimal(c).scaleb(-2))


values = cents(10**16)  # up to 100 trillion, two places
rates = st.integers(min_value=0, max_value=100_000).map(lambda r: Decimal(r).scaleb(-3))  # 0–100 %, three places
caps = st.integers(min_value=0, max_value=10_000).map(lambda r: Decimal(r).scaleb(-2))  # 0–100 %, two places
already_charged = cents(10**16)


def check_penalty(calculation, *, value, rate, cap_percent, count, already):
    cap = cap_amount(value, cap_percent)
    assert calculation.amount >= 0
    assert calculation.amount.as_tuple().exponent == -2
    assert calculation.amount <= calculation.uncapped
    assert calculation.uncapped == money(daily_rate_amount(value, rate) * count)
    # Never past the cap: with what was already charged, unless the cap was already passed (then nothing).
    assert calculation.amount <= max(Decimal("0"), cap - already)
    if already <= cap:
        assert already + calculation.amount <= cap
    else:
        assert calculation.amount == 0
    # And no smaller than the rule allows.
    assert calculation.amount == min(calculation.uncapped, max(Decimal("0"), cap - already))
    assert ("capped" in calculation.explanation) is (calculation.amount < calculation.uncapped)


@given(value=values, rate=rates, cap_percent=caps, days=st.integers(0, 20_000), already=already_charged)
def test_a_delay_penalty_is_never_negative_and_never_passes_the_cap(value, rate, cap_percent, days, already):
    calculation = delay_penalty(value=value, rate_percent=rate, cap_percent=cap_percent, days=days, already=already)
    check_penalty(calculation, value=value, rate=rate, cap_percent=cap_percent, count=days, already=already)


@given(value=values, rate=rates, cap_percent=caps, failures=st.integers(0, 1000), already=already_charged)
def test_a_kpi_penalty_is_never_negative_and_never_passes_the_cap(value, rate, cap_percent, failures, already):
    calculation = kpi_failure_penalty(
        value=value, rate_percent=rate, cap_percent=cap_percent, failures=failures, already=already
    )
    check_penalty(calculation, value=value, rate=rate, cap_percent=cap_percent, count=failures, already=already)


@given(value=values, rate=rates, cap_percent=caps, days=st.lists(st.integers(0, 400), max_size=12))
def test_penalties_charged_one_after_another_never_pass_the_cap(value, rate, cap_percent, days):
    """Charged in turn, each with the total so far as ``already``, the penalties stop at the cap."""
    cap = cap_amount(value, cap_percent)
    total = Decimal("0.00")
    for count in days:
        total += delay_penalty(
            value=value, rate_percent=rate, cap_percent=cap_percent, days=count, already=total
        ).amount
        assert 0 <= total <= cap
    assert total == min(cap, money(sum((daily_rate_amount(value, rate) * count for count in days), Decimal(0))))


@given(gross=cents(10**16), outstanding=cents(10**16))
def test_a_deduction_never_leaves_a_negative_payment_and_loses_nothing(gross, outstanding):
    deduction = deduct(gross=gross, outstanding=outstanding)
    assert deduction.net >= 0 and deduction.deducted >= 0 and deduction.carried >= 0
    assert deduction.gross == gross
    assert deduction.gross == deduction.deducted + deduction.net
    assert outstanding == deduction.deducted + deduction.carried
    assert deduction.deducted == min(gross, outstanding)
    assert ("carried" in deduction.explanation) is (deduction.carried > 0)


@given(value=st.decimals(min_value=-(10**6), max_value=10**6, places=3), target=st.decimals(0, 10**6, places=3))
def test_a_measurement_misses_in_exactly_one_direction_unless_at_the_target(value, target):
    higher = misses_target(value=value, target=target, higher_is_better=True)
    lower = misses_target(value=value, target=target, higher_is_better=False)
    if value == target:
        assert not higher and not lower
    else:
        assert higher is not lower
        assert higher is (value < target)
