"""The public tender page publishes the rules the evaluation will apply: the method, the weights, the pass
mark, the minimum number of bids, the tie-break rule and the abnormally-low threshold — the same values the
committee's ranking (``evaluation_services.rules_of``) uses, and nothing before the tender is public."""

from __future__ import annotations

import re
from decimal import Decimal
from html import unescape

import pytest
from django.utils import timezone

from procurement import evaluation_services
from procurement.models.tenders import ConsensusRule, EvaluationMethod, TenderStatus
from tests.procurement.tender_factories import TenderFactory, set_status, with_criteria

pytestmark = pytest.mark.django_db

TIE_RULE = (
    "Equal scores are ranked by the higher technical score, then the lower price, then the earlier submission, "
    "then the lower bid number."
)


def page_url(tender, lang: str = "en") -> str:
    return f"/{lang}/portal/tenders/{tender.reference}/"


def evaluation_facts(client, tender, lang: str = "en") -> dict[str, str]:
    """The "How bids will be evaluated" list of the public page, term → text."""
    response = client.get(page_url(tender, lang))
    assert response.status_code == 200
    html = response.content.decode()
    section = re.search(r'<section aria-labelledby="evaluation-heading">(.*?)</section>', html, re.S)
    assert section, "the page has no evaluation section"
    pairs = re.findall(r"<dt>(.*?)</dt>\s*<dd>(.*?)</dd>", section.group(1), re.S)
    return {unescape(term).strip(): " ".join(unescape(re.sub(r"<[^>]+>", "", value)).split()) for term, value in pairs}


def published(**fields):
    tender = with_criteria(TenderFactory(**fields))
    return set_status(tender, TenderStatus.PUBLISHED, published_at=timezone.now())


def test_a_quality_and_cost_tender_publishes_every_rule_of_its_evaluation(client, settings):
    settings.ABNORMALLY_LOW_PERCENT = 15
    tender = published(
        technical_weight=Decimal("80"),
        financial_weight=Decimal("20"),
        pass_mark=Decimal("72.5"),
        minimum_bids=3,
        consensus_rule=ConsensusRule.CHAIR_CONSENSUS,
    )
    facts = evaluation_facts(client, tender)
    assert facts == {
        "Evaluation method": "Quality- and cost-based (technical and financial weighting)",
        "Technical weight": "80%",
        "Financial weight": "20%",
        "Technical pass mark": "72.50 out of 100",
        "Minimum number of bids": "3",
        "Members' scores": "The consensus the chair records for every criterion",
        "Ties": TIE_RULE,
        "Abnormally low prices": (
            "A price more than 15% below the average of the other bids must be justified, or the bid is rejected."
        ),
    }
    # What is published is what the ranking applies.
    rules = evaluation_services.rules_of(tender)
    assert (rules.method, rules.technical_weight, rules.financial_weight, rules.pass_mark) == (
        EvaluationMethod.QUALITY_COST,
        Decimal("80"),
        Decimal("20"),
        Decimal("72.5"),
    )
    assert rules.abnormally_low_percent == Decimal(15)


def test_the_arabic_page_publishes_the_same_numbers(client):
    tender = published(technical_weight=Decimal("70"), financial_weight=Decimal("30"), pass_mark=Decimal("65"))
    values = " ".join(evaluation_facts(client, tender, "ar").values())
    for number in ("70%", "30%", "65", "20%"):
        assert number in values, number


def test_a_lowest_price_tender_does_not_publish_weights_it_will_not_use(client):
    tender = published(evaluation_method=EvaluationMethod.LOWEST_PRICE, pass_mark=Decimal("60"))
    facts = evaluation_facts(client, tender)
    assert facts["Evaluation method"] == "Lowest evaluated price among technically qualified bids"
    assert "Technical weight" not in facts and "Financial weight" not in facts
    assert facts["Technical pass mark"] == "60 out of 100"  # its criteria act as a pass mark only
    assert facts["Ties"] == TIE_RULE


@pytest.mark.parametrize("status", [TenderStatus.DRAFT, TenderStatus.PENDING_APPROVAL])
def test_the_rules_of_a_tender_not_yet_published_are_not_shown(client, status):
    tender = with_criteria(TenderFactory(pass_mark=Decimal("72.5")))
    set_status(tender, status)
    response = client.get(page_url(tender))
    assert response.status_code == 404
    assert b"72.50 out of 100" not in response.content
