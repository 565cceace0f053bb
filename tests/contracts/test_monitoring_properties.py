"""Monitoring as a whole, by property: for any contract (value, penalty rate, cap) and schedule, and any
sequence of what its parties may try — report on a milestone, accept or reject the report, pay, enter and
confirm KPI measurements, run the overdue scheduler later — the money stays within the contract's rules:
never more paid than the value, never more charged than the cap, every payment its gross less the penalties
deducted from it, never more deducted than charged, and nothing paid that was not accepted first.

Each example builds its own contract inside a transaction that is rolled back at its end, so that the
examples never see each other's rows."""

from __future__ import annotations

import calendar
import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from hypothesis import HealthCheck, currently_in_test_context, event, example, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from contracts import monitoring
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
    ProgressReport,
)
from contracts.penalties import cap_amount
from core.exceptions import ActionRefused
from tests.contracts.test_contracts import drafted, final_award
from tests.procurement.bid_factories import clock

pytestmark = pytest.mark.django_db

ZONE = ZoneInfo(settings.DISPLAY_TIME_ZONE)
START = datetime.date(2027, 1, 1)  # the contract's start date (``drafted``)
NARRATIVE = "Works completed as scheduled; the acceptance tests are attached."
REASON = "The acceptance tests are not signed by the engineer."


def at(day: datetime.date, hour: int = 10) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(hour), tzinfo=ZONE)


def month(index: int) -> tuple[datetime.date, datetime.date]:
    """The ``index``-th month of the contract (0: its first), as a measurement period."""
    year, month0 = divmod(START.month - 1 + index, 12)
    first = datetime.date(START.year + year, month0 + 1, 1)
    return first, first.replace(day=calendar.monthrange(first.year, first.month)[1])


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


@pytest.fixture
def award():
    return final_award()


def note(text: str) -> None:
    """A statistic for ``--hypothesis-show-statistics`` (when run by Hypothesis)."""
    if currently_in_test_context():
        event(text)


class _Rollback(Exception):
    """Ends an example, undoing everything it wrote."""


# Strategies --------------------------------------------------------------------------------------------------


def _cents(maximum: int):
    return st.integers(min_value=0, max_value=maximum).map(lambda c: Decimal(c).scaleb(-2))


#: Small awkward amounts (where decimal and binary arithmetic part ways) as well as large ones.
amounts = st.one_of(_cents(1_000), _cents(100_000_000), _cents(100_000_000_000))


@st.composite
def terms(draw):
    payments = draw(st.lists(amounts, min_size=1, max_size=4))
    slack = draw(st.one_of(st.just(Decimal("0.00")), amounts))  # payments summing to the value, or less
    return {
        "value": sum(payments, Decimal("0.00")) + slack,
        "penalty_rate": Decimal(draw(st.integers(0, 1000))).scaleb(-3),  # 0–1 % a day, three places
        "penalty_cap": Decimal(draw(st.integers(0, 2000))).scaleb(-2),  # 0–20 %, two places
        "milestones": [(amount, START + datetime.timedelta(days=draw(st.integers(20, 400)))) for amount in payments],
    }


milestone_index = st.integers(0, 3)
step = st.tuples(
    st.integers(0, 90),  # days to move the clock on first
    st.one_of(
        # the whole way at once: report, accept and pay (each step still checked on its own)
        st.tuples(st.just("deliver"), milestone_index),
        st.tuples(st.just("report"), milestone_index),
        st.tuples(st.just("decide"), milestone_index, st.sampled_from([True, True, False])),
        st.tuples(st.just("pay"), milestone_index),
        # which KPI, a miss or a pass, by how much (thousandths), entered by the officer or the contractor
        st.tuples(st.just("kpi"), st.integers(0, 1), st.booleans(), st.integers(0, 500), st.booleans()),
        st.tuples(st.just("confirm"), st.booleans()),
        st.tuples(st.just("overdue")),
    ),
)


# The contract and its steps ----------------------------------------------------------------------------------


def build(award, drawn) -> tuple[Contract, list[ContractMilestone], list[ContractKpi]]:
    """A contract in force with the drawn terms and schedule, an availability KPI (a minimum) and a response
    time KPI (a maximum)."""
    contract = drafted(award)
    Contract.objects.filter(pk=contract.pk).update(
        status=ContractStatus.ACTIVE,
        activated_at=timezone.now(),
        value=drawn["value"],
        penalty_rate=drawn["penalty_rate"],
        penalty_cap=drawn["penalty_cap"],
    )
    contract.refresh_from_db()
    first = contract.milestones.get()
    milestones = []
    for order, (amount, due) in enumerate(drawn["milestones"], start=1):
        if order == 1:
            ContractMilestone.objects.filter(pk=first.pk).update(due_date=due, payment_amount=amount)
        else:
            ContractMilestone.objects.create(
                contract=contract,
                order=order,
                title_en=f"Milestone {order}",
                title_ar=f"المرحلة {order}",
                due_date=due,
                payment_amount=amount,
            )
    milestones = list(contract.milestones.order_by("order", "id"))
    ContractKpi.objects.create(
        contract=contract,
        order=2,
        name_en="Response time",
        name_ar="زمن الاستجابة",
        target=Decimal("4.000"),
        unit="h",
        higher_is_better=False,
    )
    kpis = list(contract.kpis.order_by("order", "id"))
    assert [k.higher_is_better for k in kpis] == [True, False]
    return contract, milestones, kpis


class Run:
    """The state of one example: the contract, the clock, and what the test knows happened."""

    def __init__(self, award, contract, milestones, kpis):
        self.award = award
        self.contract = contract
        self.milestones = milestones
        self.kpis = kpis
        self.today = START + datetime.timedelta(days=30)
        self.next_period = dict.fromkeys((k.pk for k in kpis), 0)
        self.accepted: set[int] = set()  # milestones the officer accepted (through the service)
        self.penalties = Decimal("0")
        self.references = 0

    def milestone(self, index: int) -> ContractMilestone:
        return self.milestones[index % len(self.milestones)]

    def do(self, action: tuple) -> None:
        kind, *args = action
        a = self.award
        if kind == "report":
            with clock(at(self.today)):
                monitoring.progress_report_submit(
                    actor=a.signatory, milestone=self.milestone(args[0]), narrative=NARRATIVE, percent_complete=100
                )
        elif kind == "decide":
            milestone, accept = self.milestone(args[0]), args[1]
            latest = ProgressReport.objects.filter(milestone=milestone).order_by("-number").first()
            if latest is None:
                return
            with clock(at(self.today, 14)):
                monitoring.progress_report_decide(actor=a.officer, report=latest, accept=accept, reason=REASON)
            if accept:
                self.accepted.add(milestone.pk)
        elif kind == "pay":
            self.references += 1
            milestone = self.milestone(args[0])
            with clock(at(self.today, 16)):
                monitoring.payment_record(
                    actor=a.officer, milestone=milestone, paid_on=self.today, reference=f"TRX-{self.references}"
                )
        elif kind == "kpi":
            kpi = self.kpis[args[0]]
            miss, margin, by_officer = args[1], Decimal(args[2]).scaleb(-3), args[3]
            if miss:
                margin += Decimal("0.001")
            below = miss if kpi.higher_is_better else not miss
            value = kpi.target - margin if below else kpi.target + margin
            start, end = month(self.next_period[kpi.pk])
            with clock(at(self.today)):
                monitoring.kpi_measurement_enter(
                    actor=a.officer if by_officer else a.signatory,
                    kpi=kpi,
                    period_start=start,
                    period_end=end,
                    value=value,
                )
            self.next_period[kpi.pk] += 1
        elif kind == "confirm":
            submitted = (
                KpiMeasurement.objects.filter(contract=self.contract, status=MeasurementStatus.SUBMITTED)
                .order_by("-id")
                .first()
            )
            if submitted is None:
                return
            with clock(at(self.today, 12)):
                monitoring.kpi_measurement_confirm(
                    actor=a.officer, measurement=submitted, confirm=args[0], reason=REASON
                )
        elif kind == "overdue":
            monitoring.mark_overdue(now=at(self.today, 2))
        else:  # pragma: no cover
            raise AssertionError(kind)

    def check(self) -> None:
        contract = Contract.objects.get(pk=self.contract.pk)
        assert monitoring.paid_total(contract) <= contract.value
        charged = monitoring.penalties_total(contract)
        assert charged <= cap_amount(contract.value, contract.penalty_cap)
        assert charged >= self.penalties, "penalties were taken back"
        self.penalties = charged
        assert not Penalty.objects.filter(contract=contract, amount__lt=0).exists()
        deducted = Decimal("0")
        for payment in Payment.objects.filter(contract=contract).select_related("milestone"):
            assert payment.amount == payment.gross - payment.penalties_deducted
            assert payment.amount >= 0 and payment.penalties_deducted >= 0
            assert payment.gross == payment.milestone.payment_amount
            assert payment.milestone_id in self.accepted, "paid without being accepted"
            assert payment.milestone.status == MilestoneStatus.PAID
            assert payment.milestone.accepted_on is not None and payment.milestone.accepted_on <= payment.paid_on
            deducted += payment.penalties_deducted
        assert deducted <= charged
        assert deducted == (
            Payment.objects.filter(contract=contract).aggregate(total=Sum("penalties_deducted"))["total"] or 0
        )
        assert monitoring.outstanding_penalties(contract) == charged - deducted
        for milestone in ContractMilestone.objects.filter(contract=contract, status=MilestoneStatus.PAID):
            assert milestone.pk in self.accepted, "paid without being accepted"
            assert Payment.objects.filter(milestone=milestone).exists()


def play(award, drawn, steps) -> None:
    """One example: build the contract, take the steps (ignoring the ones refused in the current state) and
    check the invariants after each; then roll everything back."""
    try:
        with transaction.atomic():
            run = Run(award, *build(award, drawn))
            run.check()
            for advance, action in steps:
                run.today += datetime.timedelta(days=advance)  # the clock only moves on
                if action[0] == "deliver":
                    actions = [("report", action[1]), ("decide", action[1], True), ("pay", action[1])]
                else:
                    actions = [action]
                for each in actions:
                    try:
                        run.do(each)
                    except (ActionRefused, ValidationError):
                        note(f"{each[0]}: refused")  # not allowed in the current state: nothing changes
                    else:
                        note(f"{each[0]}: done")
                    run.check()
            note(f"payments: {Payment.objects.filter(contract=run.contract).count()}")
            note(f"penalties: {Penalty.objects.filter(contract=run.contract, amount__gt=0).count()}")
            raise _Rollback
    except _Rollback:
        pass


SETTINGS = hypothesis_settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

#: Found by this test (shrunk): 2.95 paid 10 days late at 0.17 % a day, capped at 0.17 % (0.01): the payment
#: of 2.95 − 0.01 = 2.94 is refused by the CHECK constraint ``payment_net_of_penalties`` on SQLite, where
#: 2.95 − 0.01 = 2.9400000000000004 in binary floating point (now rounded to the cent, migration 0007).
NET_OF_PENALTIES_IN_FLOATS = {
    "value": Decimal("2.95"),
    "penalty_rate": Decimal("0.170"),
    "penalty_cap": Decimal("0.17"),
    "milestones": [(Decimal("2.95"), datetime.date(2027, 1, 21))],
}
#: And a schedule paid to the value: 0.10 + 0.20 = 0.30000000000000004 > 0.30 in the SQLite trigger
#: ``contracts_payment_within_value_insert`` (migration 0004), so the second payment was refused
#: (migration 0007 compares to the cent).
PAID_TO_THE_VALUE_IN_FLOATS = {
    "value": Decimal("0.30"),
    "penalty_rate": Decimal("0.000"),
    "penalty_cap": Decimal("10.00"),
    "milestones": [(Decimal("0.10"), datetime.date(2027, 6, 30)), (Decimal("0.20"), datetime.date(2027, 6, 30))],
}


@SETTINGS
@example(drawn=NET_OF_PENALTIES_IN_FLOATS, steps=[(0, ("deliver", 0))])
@given(drawn=terms(), steps=st.lists(step, min_size=1, max_size=15))
def test_monitoring_keeps_payments_and_penalties_within_the_contract(award, drawn, steps):
    play(award, drawn, steps)


def test_a_schedule_paid_exactly_to_the_value(award):
    play(award, PAID_TO_THE_VALUE_IN_FLOATS, [(0, ("deliver", 0)), (0, ("deliver", 1))])
