"""The programme page's contracts dashboard: each phase's contracts, delivery against plan, spend against
budget, late milestones and penalties, computed in the same number of queries whatever the number of contracts."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation

from contracts.models import Contract, ContractMilestone, ContractStatus, MilestoneStatus, Payment, Penalty
from tests.contracts.test_contracts import drafted, final_award

pytestmark = pytest.mark.django_db


def contract_in(phase=None) -> Contract:
    award = final_award()
    contract = drafted(award)
    Contract.objects.filter(pk=contract.pk).update(
        status=ContractStatus.ACTIVE, activated_at=timezone.now(), phase=phase or contract.phase
    )
    contract.refresh_from_db()
    return contract


def paid(contract, amount: str) -> None:
    milestone = contract.milestones.get()
    ContractMilestone.objects.filter(pk=milestone.pk).update(
        status=MilestoneStatus.PAID, accepted_on=datetime.date(2029, 7, 10), paid_on=datetime.date(2029, 7, 20)
    )
    Payment.objects.create(
        contract=contract,
        milestone=milestone,
        gross=Decimal(amount),
        amount=Decimal(amount),
        calculation="-",
        paid_on=datetime.date(2029, 7, 20),
        reference=f"T-{contract.pk}",
        recorded_by=contract.created_by,
    )


def queries_for(client, url) -> tuple[int, str]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured), response.content.decode()


def test_the_programme_page_shows_each_phases_contracts_in_a_fixed_number_of_queries(client):
    first = contract_in()
    phase = first.phase
    with translation.override("en"):
        url = phase.programme.get_absolute_url()
    small, html = queries_for(client, url)
    assert "Contracts: delivery and spend" in html
    for _ in range(4):
        contract = contract_in(phase)
        paid(contract, "250000.00")
        Penalty.objects.create(contract=contract, kind="kpi", amount=Decimal("625.00"), calculation="-")
    large, html = queries_for(client, url)
    assert large == small, (small, large)
    # Five contracts of 1,250,000.00; four paid 250,000.00 after a late acceptance; one milestone still due.
    assert "6,250,000.00" in html and "1,000,000.00" in html and "2,500.00" in html
