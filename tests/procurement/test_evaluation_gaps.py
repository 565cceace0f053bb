"""Gaps an audit of the evaluation found, closed: the tender's minimum number of bids, the chair-consensus
rule, the prices published after the financial opening, and what a recused member reads in the matrix.

The scenarios reuse the helpers of ``test_evaluation_services`` (the committee as a namespace ``ctx``) and
``test_evaluation_views`` (the same through the pages, ``world``)."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied

from audit.models import AuditEvent
from core.exceptions import ActionRefused
from procurement import evaluation_services as ev
from procurement import tender_services
from procurement.models import PriceReview, Recommendation, TechnicalScore
from procurement.models.bids import BidStatus
from procurement.models.tenders import ConsensusRule, EvaluationMethod, TenderStatus
from tests.procurement import tender_factories
from tests.procurement.bid_factories import audit_events, bidder, evaluation_ready
from tests.procurement.test_evaluation_services import (
    P,
    Q,
    R,
    S,
    at,
    comply,
    declare,
    notified,
    open_financial,
    quality_cost_scenario,
    recipients,
    score,
    status_of,
    uniform_sheets,
)
from tests.procurement.test_evaluation_views import comply_all, declare_all, evaluators, in_evaluation, text, url

pytestmark = pytest.mark.django_db

TOO_FEW = (
    "Only 1 bid qualifies, fewer than the minimum of 2 this tender requires: the tender should be declared "
    "unsuccessful."
)


@pytest.fixture(autouse=True)
def _own_media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


def officers_of(tender) -> set[int]:
    return {u.pk for u in tender_services.tender_officers(tender)}


def assert_nothing_recommended(tender) -> None:
    assert not Recommendation.objects.filter(tender=tender).exists()
    assert status_of(tender) == TenderStatus.EVALUATION
    assert not audit_events("tender.award_recommended", tender_id=tender.pk)
    assert not notified(tender, "award.recommended")


# 1. The minimum number of bids ---------------------------------------------------------------------


def test_one_qualified_bid_of_a_minimum_of_two_cannot_be_recommended_and_the_tender_ends_unsuccessful():
    ctx = evaluation_ready(prices=("1000.00", "1100.00"), committee=3, minimum_bids=2)
    tender = ctx.tender
    with at(tender, hours=1):
        declare(ctx)
        comply(ctx)
        score(ctx, uniform_sheets(ctx, {0: (80, 80), 1: (50, 50)}))  # the second is under the pass mark
        ev.technical_conclude(actor=ctx.chair, tender=tender)
    assert [status_of(b) for b in ctx.bids] == [BidStatus.QUALIFIED, BidStatus.DISQUALIFIED]
    # The officers learn at once that the tender falls short of its minimum.
    [notice] = notified(tender, "evaluation.none_qualified")[:1]
    assert recipients(tender, "evaluation.none_qualified") == officers_of(tender)
    assert notice.context == {"qualified": 1, "minimum": 2}

    open_financial(ctx)
    with at(tender, hours=4), pytest.raises(ActionRefused) as refused:
        ev.recommend(actor=ctx.chair, tender=tender, reasons="The only qualified bid.")
    assert str(refused.value) == TOO_FEW
    assert_nothing_recommended(tender)
    assert [status_of(b) for b in ctx.bids] == [BidStatus.QUALIFIED, BidStatus.DISQUALIFIED]

    # The chair cannot end the tender; the officer can, and every bidder is told why.
    reason = "Only one bid qualified; the tender requires at least two."
    with at(tender, hours=5), pytest.raises(PermissionDenied):
        tender_services.tender_mark_unsuccessful(actor=ctx.chair, tender=tender, reason=reason)
    assert status_of(tender) == TenderStatus.EVALUATION
    with at(tender, hours=5):
        tender_services.tender_mark_unsuccessful(actor=ctx.officer, tender=tender, reason=reason)
    tender.refresh_from_db()
    assert (tender.status, tender.unsuccessful_reason) == (TenderStatus.UNSUCCESSFUL, reason)
    assert {a.pk for a in ctx.admins} <= recipients(tender, "tender.unsuccessful")
    assert all(n.context["reason"] == reason for n in notified(tender, "tender.unsuccessful"))
    with at(tender, hours=6), pytest.raises(ActionRefused):
        ev.recommend(actor=ctx.chair, tender=tender, reasons="Too late.")
    assert not Recommendation.objects.filter(tender=tender).exists()


def test_enough_qualified_bids_are_not_reported_short():
    ctx = evaluation_ready(prices=("1000.00", "1100.00"), committee=3, minimum_bids=2)
    with at(ctx.tender, hours=1):
        declare(ctx)
        comply(ctx)
        score(ctx, uniform_sheets(ctx, {0: (80, 80), 1: (75, 75)}))
        ev.technical_conclude(actor=ctx.chair, tender=ctx.tender)
    assert not notified(ctx.tender, "evaluation.none_qualified")
    assert ev.minimum_bids_problem(ctx.tender) is None
    open_financial(ctx)
    with at(ctx.tender, hours=4):
        recommendation = ev.recommend(actor=ctx.chair, tender=ctx.tender, reasons="Best combined score.")
    assert recommendation.bid_id == ctx.bids[0].pk


@pytest.fixture
def no_criteria(monkeypatch):
    """Tenders published without technical criteria (a lowest-price tender needs none)."""
    monkeypatch.setattr(tender_factories, "with_criteria", lambda tender: tender)


def lowest_price_without_technical_stage(prices: tuple[str, ...], *, not_responsive=None):
    ctx = evaluation_ready(prices=prices, committee=3, minimum_bids=2, evaluation_method=EvaluationMethod.LOWEST_PRICE)
    assert ctx.criteria == []
    with at(ctx.tender, hours=1):
        declare(ctx)
        comply(ctx, not_responsive=not_responsive)
        for user in ctx.members:  # nothing to score: each member submits an empty sheet
            ev.scores_submit(actor=user, tender=ctx.tender)
        ev.technical_conclude(actor=ctx.chair, tender=ctx.tender)
    return ctx


def test_lowest_price_tender_without_technical_stage_enforces_the_minimum_too(no_criteria):
    ctx = lowest_price_without_technical_stage(("1000.00", "950.00"), not_responsive={1: "No bid security."})
    tender = ctx.tender
    assert [status_of(b) for b in ctx.bids] == [BidStatus.QUALIFIED, BidStatus.DISQUALIFIED]
    assert recipients(tender, "evaluation.none_qualified") == officers_of(tender)
    with at(tender, hours=4), pytest.raises(ActionRefused) as refused:
        ev.recommend(actor=ctx.chair, tender=tender, reasons="Lowest evaluated price.")
    assert str(refused.value) == TOO_FEW
    assert_nothing_recommended(tender)


def test_a_rejected_abnormally_low_price_that_leaves_too_few_bids_blocks_the_recommendation(no_criteria):
    ctx = lowest_price_without_technical_stage(("1000.00", "700.00"))  # 700 is 30 % below the other price
    tender = ctx.tender
    assert [status_of(b) for b in ctx.bids] == [BidStatus.QUALIFIED, BidStatus.QUALIFIED]
    assert not notified(tender, "evaluation.none_qualified")  # two qualify, as the tender requires
    with at(tender, hours=4):
        ev.price_review(
            actor=ctx.chair, bid=ctx.bids[1], decision=PriceReview.Decision.REJECTED, reason="Below cost; no evidence."
        )
    # The rejection leaves one bid: the officers are told now, not when someone tries to recommend.
    [notice] = notified(tender, "evaluation.none_qualified")
    assert notice.context == {"qualified": 1, "minimum": 2} and notice.recipient_id in officers_of(tender)
    with at(tender, hours=5), pytest.raises(ActionRefused) as refused:
        ev.recommend(actor=ctx.chair, tender=tender, reasons="The only price left.")
    assert str(refused.value) == TOO_FEW
    assert_nothing_recommended(tender)
    # Changing the decision again once short does not tell the officers twice.
    with at(tender, hours=6):
        ev.price_review(actor=ctx.chair, bid=ctx.bids[1], decision=PriceReview.Decision.REJECTED, reason="Again.")
    assert len(notified(tender, "evaluation.none_qualified")) == 1


def test_the_chair_is_shown_why_there_is_no_recommend_form_and_a_forced_post_changes_nothing(client):
    ctx = evaluation_ready(prices=("1000.00", "1100.00"), committee=3, minimum_bids=2)
    tender = ctx.tender
    with at(tender, hours=1):
        declare(ctx)
        comply(ctx)
        score(ctx, uniform_sheets(ctx, {0: (80, 80), 1: (50, 50)}))
        ev.technical_conclude(actor=ctx.chair, tender=tender)
    open_financial(ctx)
    client.force_login(ctx.chair)
    page = text(client.get(url("evaluation_workspace", tender.pk)))
    assert "Ranking" in page and TOO_FEW in page
    assert url("evaluation_recommend", tender.pk) not in page
    response = client.post(url("evaluation_recommend", tender.pk), {"recommend-reasons": "Anyway."}, follow=True)
    assert TOO_FEW in text(response)
    assert_nothing_recommended(tender)


# 2. The chair-consensus rule -------------------------------------------------------------------------


def test_chair_consensus_rule_needs_a_consensus_on_every_criterion_and_ranks_by_it():
    ctx = evaluation_ready(prices=("1000.00", "1100.00"), committee=3, consensus_rule=ConsensusRule.CHAIR_CONSENSUS)
    tender = ctx.tender
    first, second = ctx.bids
    c1, c2 = ctx.criteria
    # Members agree within the allowed spread. By the averages the first bid would win (T 78 and 75: combined
    # 84.60 against 79.77); by the consensus the chair records, the second does.
    sheets = {0: {0: (80, 70), 1: (75, 75)}, 1: {0: (82, 72), 1: (75, 75)}, 2: {0: (84, 74), 1: (75, 75)}}
    consensus = {(0, 0): "70", (0, 1): "70", (1, 0): "90", (1, 1): "85"}
    with at(tender, hours=1):
        declare(ctx)
        comply(ctx)
        score(ctx, sheets)
        before = AuditEvent.objects.filter(tender_id=tender.pk).count()
        with pytest.raises(ActionRefused) as refused:
            ev.technical_conclude(actor=ctx.chair, tender=tender)
        for bid in ctx.bids:
            for criterion in ctx.criteria:
                assert f"Record the committee's consensus for {bid.vendor} on “{criterion.name}”" in str(refused.value)
        # A member who is not the chair cannot record it.
        with pytest.raises(ActionRefused, match="Only the chair"):
            ev.consensus_record(actor=ctx.members[1], bid=first, criterion=c1, score="99", reason="I insist.")
        for (b, c), value in list(consensus.items())[:3]:
            ev.consensus_record(
                actor=ctx.chair, bid=ctx.bids[b], criterion=ctx.criteria[c], score=value, reason="Agreed in session."
            )
        with pytest.raises(ActionRefused) as refused:
            ev.technical_conclude(actor=ctx.chair, tender=tender)
        assert str(refused.value) == f"Record the committee's consensus for {second.vendor} on “{c2.name}”."
        assert [status_of(b) for b in ctx.bids] == [BidStatus.OPENED, BidStatus.OPENED]
        assert AuditEvent.objects.filter(tender_id=tender.pk).count() == before + 3  # the three consensus rows
        ev.consensus_record(actor=ctx.chair, bid=second, criterion=c2, score="85", reason="Agreed in session.")
        ev.technical_conclude(actor=ctx.chair, tender=tender)
    [concluded] = audit_events("evaluation.technical_concluded", tender_id=tender.pk)
    assert {(b["bid_id"], b["technical"]) for b in concluded.payload["bids"]} == {
        (first.pk, "70.00"),
        (second.pk, "88.00"),
    }
    open_financial(ctx)
    with at(tender, hours=4):
        recommendation = ev.recommend(actor=ctx.chair, tender=tender, reasons="Best combined score.")
    by_bid = {r["bid_id"]: r for r in recommendation.evaluation["results"]}
    assert recommendation.bid_id == second.pk
    assert (by_bid[second.pk]["technical"], by_bid[second.pk]["combined"], by_bid[second.pk]["rank"]) == (
        "88.00",
        "88.87",
        1,
    )
    assert (by_bid[first.pk]["technical"], by_bid[first.pk]["combined"], by_bid[first.pk]["rank"]) == (
        "70.00",
        "79.00",
        2,
    )
    assert {(c["bid_id"], c["criterion_id"], Decimal(c["score"])) for c in recommendation.evaluation["consensus"]} == {
        (ctx.bids[b].pk, ctx.criteria[c].pk, Decimal(value)) for (b, c), value in consensus.items()
    }


# 3. Prices published after the financial opening ---------------------------------------------------


def record_prices(client, tender) -> tuple[str, dict[str, str]]:
    """The opening-record page, and the prices of its CSV by bidder."""
    page = client.get(url("opening_record", tender.pk))
    assert page.status_code == 200
    export = client.get(url("opening_record_csv", tender.pk))
    assert export.status_code == 200
    rows = list(csv.reader(io.StringIO(export.content.decode("utf-8-sig"))))
    header, body = rows[0], rows[1:]
    prices = {
        row[header.index("Bidder")]: row[header.index("Total price")]
        for row in body
        if row[header.index("Total price")]
    }
    return text(page), prices


def test_bidders_read_the_qualified_prices_after_the_financial_opening_and_never_a_disqualified_one(client):
    ctx = quality_cost_scenario(through="technical")
    tender = ctx.tender
    names = [bid.vendor.legal_name_en for bid in ctx.bids]
    client.force_login(ctx.admins[Q])
    page, prices = record_prices(client, tender)
    assert prices == {} and not any(price in page for price in ("1000.00", "780.00", "500.00", "900.00"))

    open_financial(ctx)
    for reader in (ctx.admins[Q], ctx.admins[R], ctx.admins[S]):  # a qualified bidder and two disqualified ones
        client.force_login(reader)
        page, prices = record_prices(client, tender)
        assert prices == {names[P]: "1000.00", names[Q]: "780.00"}
        assert "1000.00" in page and "780.00" in page
        assert "900.00" not in page and "500.00" not in page  # S under the pass mark, R not responsive


def test_a_vendor_that_did_not_bid_cannot_read_the_opening_record(client, vendor_user):
    ctx = quality_cost_scenario(through="financial")
    _vendor, outsider = bidder()
    for user in (outsider, vendor_user):
        client.force_login(user)
        for target in (url("opening_record", ctx.tender.pk), url("opening_record_csv", ctx.tender.pk)):
            response = client.get(target)
            assert response.status_code == 403, target
            assert b"1000.00" not in response.content and b"780.00" not in response.content


# 4. A recused member and the score matrix ----------------------------------------------------------

RECUSED_SCORES = ("61.25", "63.75")


def test_a_recused_member_reads_the_matrix_without_the_bid_they_are_recused_from(client):
    world = in_evaluation()
    recused, recused_bid = world.members[0], world.bids[0]
    declare_all(world, conflict={(recused.pk, recused_bid.pk)})
    comply_all(world)
    for m, user in enumerate(evaluators(world)):
        for b, bid in enumerate(world.bids):
            if (user, bid) == (recused, recused_bid):
                continue
            for c, criterion in enumerate(world.criteria):
                ev.score_save(
                    actor=user,
                    bid=bid,
                    criterion=criterion,
                    score=RECUSED_SCORES[c] if b == 0 else "80",
                    justification=f"SECRET-{m}-{b}-{c}",
                )
        ev.scores_submit(actor=user, tender=world.tender)
    assert ev.all_scores_in(world.tender)
    assert not TechnicalScore.objects.filter(member__user=recused, bid=recused_bid).exists()

    client.force_login(world.chair)  # the scores are there for those who may read them
    page = text(client.get(url("evaluation_workspace", world.tender.pk)))
    assert "SECRET-0-0-0" in page and "SECRET-2-0-1" in page and RECUSED_SCORES[0] in page

    client.force_login(recused)
    page = text(client.get(url("evaluation_workspace", world.tender.pk)))
    assert "Score matrix" in page and "SECRET-0-1-0" in page and "SECRET-2-2-1" in page  # the other bids' rows
    assert "SECRET-0-0-" not in page and "SECRET-2-0-" not in page
    assert not any(value in page for value in RECUSED_SCORES)
    # Nor by another way in: the bid's score page and the matrix exports.
    for target in (
        url("evaluation_scores", world.tender.pk, recused_bid.pk),
        url("evaluation_matrix_csv", world.tender.pk),
        url("evaluation_matrix_xlsx", world.tender.pk),
        url("evaluation_report_pdf", world.tender.pk),  # the report holds every bid's scores and justifications
    ):
        response = client.get(target)
        assert response.status_code == 403, target
        assert b"SECRET-" not in response.content
