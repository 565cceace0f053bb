"""Red flags for auditors: each computed from the records with its explanation, in a fixed number of queries;
the page is for auditors only and opening it is logged."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone, translation

from accounts.roles import Role
from audit.models import AuditEvent
from audit.red_flags import red_flags
from contracts.models import Contract, ContractMilestone, ContractStatus
from procurement.models import Addendum, Bid, EvaluationMember, Tender
from procurement.models.tenders import AddendumStatus
from tests.accounts.factories import UserFactory
from tests.contracts.test_contracts import drafted, final_award

pytestmark = pytest.mark.django_db


def kinds() -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for flag in red_flags():
        found.setdefault(flag.kind, []).append(flag.explanation)
    return found


def test_each_red_flag_is_computed_with_its_explanation(django_assert_max_num_queries):
    first = final_award()  # one bid only: a single bidder
    second = final_award()
    Bid.objects.filter(tender=second.tender).update(vendor=first.vendor)
    member = UserFactory(roles=[Role.COMMITTEE_MEMBER], email="member@example.gov")
    for award in (first, second):
        EvaluationMember.objects.create(tender=award.tender, user=member, appointed_by=award.officer)
    Tender.objects.filter(pk=first.tender.pk).update(
        published_at=first.tender.submission_deadline - datetime.timedelta(days=9)
    )
    for number in (2, 3):
        Addendum.objects.create(
            tender=first.tender,
            number=number,
            summary_en="Another change.",
            summary_ar="تغيير آخر.",
            status=AddendumStatus.ISSUED,
            created_by=first.officer,
            issued_at=timezone.now(),
        )
    contract = drafted(first)
    Contract.objects.filter(pk=contract.pk).update(status=ContractStatus.ACTIVE)
    ContractMilestone.objects.filter(contract=contract).update(overdue_since=datetime.date(2029, 7, 1))
    with django_assert_max_num_queries(10):
        found = kinds()
    assert any(first.tender.reference in text and "Only one bid" in text for text in found["single_bidder"])
    assert any("9 days" in text for text in found["short_bidding"])
    assert any("3 addenda" in text for text in found["many_addenda"])
    assert any("1 overdue milestone" in text for text in found["late_milestones"])
    assert any("member@example.gov" in text and "2 tenders" in text for text in found["repeated_pair"])
    # The same number of queries with many more tenders.
    for _ in range(3):
        final_award()
    with django_assert_max_num_queries(10):
        kinds()


def test_only_auditors_see_the_red_flags_and_opening_them_is_logged(client):
    final_award()
    with translation.override("en"):
        from django.urls import reverse

        url = reverse("audit:red_flags")
    officer = UserFactory(roles=[Role.PROCUREMENT_OFFICER])
    client.force_login(officer)
    assert client.get(url).status_code == 403
    auditor = UserFactory(roles=[Role.AUDITOR])
    client.force_login(auditor)
    response = client.get(url)
    assert response.status_code == 200 and "Single bidder" in response.content.decode()
    assert AuditEvent.objects.filter(action="audit.red_flags_viewed", actor_id=auditor.pk).exists()
