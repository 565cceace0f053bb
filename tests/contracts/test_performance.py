"""Contractor performance scores: per contract from the monitoring's records, per vendor weighted by value,
computed in a fixed number of queries, shown on the vendor's record and to later evaluation committees."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from contracts import performance
from contracts.models import (
    Contract,
    ContractStatus,
    KpiMeasurement,
    MeasurementStatus,
    MilestoneStatus,
    Penalty,
    PenaltyKind,
)
from contracts.models import ContractMilestone as Milestone
from tests.contracts.test_contracts import drafted, final_award

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2030, 1, 1)


def live(award=None) -> Contract:
    award = award or final_award()
    contract = drafted(award)
    Contract.objects.filter(pk=contract.pk).update(status=ContractStatus.ACTIVE, activated_at=timezone.now())
    contract.refresh_from_db()
    return contract


def milestone(contract, due, accepted=None):
    return Milestone.objects.create(
        contract=contract,
        order=9,
        title_en="M",
        title_ar="م",
        due_date=due,
        payment_amount=Decimal("1"),
        accepted_on=accepted,
        status=MilestoneStatus.ACCEPTED if accepted else MilestoneStatus.PLANNED,
    )


def measured(contract, met: bool, month: int):
    kpi = contract.kpis.get()
    return KpiMeasurement.objects.create(
        kpi=kpi,
        contract=contract,
        period_start=datetime.date(2029, month, 1),
        period_end=datetime.date(2029, month, 28),
        value=Decimal("99.9") if met else Decimal("90"),
        status=MeasurementStatus.CONFIRMED,
        met=met,
        entered_by=contract.created_by,
        entered_at=timezone.now(),
    )


def test_a_contract_with_nothing_to_measure_is_not_rated():
    contract = live()
    Milestone.objects.filter(contract=contract).update(due_date=datetime.date(2031, 1, 1))
    score = performance.contract_scores([contract], today=TODAY)[contract.pk]
    assert score.score is None and score.on_time is None and score.kpi is None


def test_the_score_weighs_on_time_delivery_kpis_and_penalties_by_hand():
    contract = live()  # value 1,250,000.00, cap 10 % = 125,000.00; its own milestone is due 2029-06-30
    Milestone.objects.filter(contract=contract).update(
        accepted_on=datetime.date(2029, 6, 1), status=MilestoneStatus.ACCEPTED
    )  # on time
    milestone(contract, datetime.date(2029, 3, 1), accepted=datetime.date(2029, 3, 20))  # late
    milestone(contract, datetime.date(2029, 9, 1))  # due, not accepted: late
    milestone(contract, datetime.date(2031, 1, 1))  # not due yet: not counted
    for month, met in ((1, True), (2, True), (3, True), (4, False)):
        measured(contract, met, month)
    Penalty.objects.create(contract=contract, kind=PenaltyKind.KPI, amount=Decimal("25000.00"), calculation="x")
    score = performance.contract_scores([contract], today=TODAY)[contract.pk]
    assert score.milestones_counted == 3 and score.on_time == 33.3
    assert score.measurements_counted == 4 and score.kpi == 75.0
    assert score.penalties == 80.0  # 25,000 of a 125,000 cap
    # (40 × 33.3 + 40 × 75 + 20 × 80) / 100 = 59.3
    assert score.score == 59.3


def test_a_vendors_score_is_weighted_by_value_and_computed_in_a_fixed_number_of_queries(
    django_assert_max_num_queries,
):
    award = final_award()
    first = live(award)
    measured(first, True, 1)  # 100 on KPIs and penalties: 100
    second_award = final_award()
    second = live(second_award)
    Contract.objects.filter(pk=second.pk).update(vendor=first.vendor, value=Decimal("3750000.00"))
    second.refresh_from_db()
    Milestone.objects.filter(contract__in=[first, second]).update(due_date=datetime.date(2031, 1, 1))  # not due
    measured(second, False, 1)  # 0 on KPIs, 100 on penalties: (40 × 0 + 20 × 100) / 60 = 33.3
    with django_assert_max_num_queries(4):
        scores = performance.vendor_scores([first.vendor_id], today=TODAY)
    # (100 × 1,250,000 + 33.3 × 3,750,000) / 5,000,000 = 50.0
    assert scores[first.vendor_id] == {"score": 50.0, "contracts": 2}
    many = [live() for _ in range(3)]
    with django_assert_max_num_queries(3):
        performance.contract_scores(many + [first, second], today=TODAY)
