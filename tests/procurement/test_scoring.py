"""Pure evaluation arithmetic (procurement.scoring): hand-computed examples, validation and properties.

No database: every test works on plain dataclasses. The arithmetic of each example is written out in the
comments so a reviewer can check it with pencil and paper.
"""

import datetime
import random
from decimal import Decimal, localcontext

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from procurement.scoring import (
    FIXED_BUDGET,
    LOWEST_PRICE,
    QUALITY_COST,
    TIE_BREAK,
    BidFacts,
    BidResult,
    CriterionRule,
    MissingScoreError,
    Rules,
    abnormally_low,
    aggregate_criterion,
    evaluate,
    spread,
    technical_score,
)

D = Decimal
T0 = datetime.datetime(2025, 3, 1, 9, 0, tzinfo=datetime.UTC)
CRITERIA_60_40 = [CriterionRule(id=1, weight=D(60)), CriterionRule(id=2, weight=D(40))]


def at(minutes: int) -> datetime.datetime:
    return T0 + datetime.timedelta(minutes=minutes)


def bid(bid_id, *, minutes=0, scores=None, price=None, **kwargs) -> BidFacts:
    return BidFacts(
        bid_id=bid_id,
        submitted_at=at(minutes),
        scores={k: D(v) for k, v in (scores or {}).items()},
        price=None if price is None else D(price),
        **kwargs,
    )


def by_id(results: list[BidResult]) -> dict[int, BidResult]:
    return {r.bid_id: r for r in results}


def ranking(results: list[BidResult]) -> list[int]:
    return [r.bid_id for r in results if r.rank is not None]


# --- aggregate_criterion / spread ------------------------------------------------------------------------


def test_aggregate_is_the_mean_of_member_scores():
    # (70 + 80 + 90) / 3 = 80
    assert aggregate_criterion([D(70), D(80), D(90)], None) == D(80)
    # (60 + 75) / 2 = 67.5
    assert aggregate_criterion([D(60), D(75)], None) == D("67.5")


def test_aggregate_keeps_full_precision_and_ignores_member_order():
    # (70 + 80 + 82) / 3 = 232 / 3 = 77.333... (not rounded to 77.33)
    value = aggregate_criterion([D(70), D(80), D(82)], None)
    assert value != D("77.33")
    assert abs(value * 3 - 232) < D("1e-50")
    assert aggregate_criterion([D(82), D(70), D(80)], None) == value
    assert aggregate_criterion([D(80), D(82), D(70)], None) == value


def test_consensus_overrides_the_mean():
    assert aggregate_criterion([D(60), D(90)], D(70)) == D(70)
    assert aggregate_criterion([], D("72.5")) == D("72.5")


def test_spread():
    assert spread([D(70), D(85), D(90)]) == D(20)  # 90 - 70
    assert spread([D(90), D(70), D(85)]) == D(20)
    assert spread([D(50)]) == 0
    assert spread([]) == 0


@pytest.mark.parametrize(
    ("members", "consensus", "message"),
    [
        ([], None, "at least one member score"),
        ([D(101)], None, "between 0 and 100"),
        ([D(-1)], None, "between 0 and 100"),
        ([D("NaN")], None, "finite"),
        ([80.0], None, "not float"),
        ([D(80)], D(120), "between 0 and 100"),
    ],
)
def test_aggregate_rejects_bad_scores(members, consensus, message):
    with pytest.raises(ValueError, match=message):
        aggregate_criterion(members, consensus)


def test_spread_rejects_bad_scores():
    with pytest.raises(ValueError, match="between 0 and 100"):
        spread([D(50), D(150)])


# --- technical score --------------------------------------------------------------------------------------


def test_two_criteria_weighted_60_40_from_member_averages():
    # Bid A: criterion 1 members 80, 90, 70 -> 80; criterion 2 members 60, 75 -> 67.5
    #        T = (60 * 80 + 40 * 67.5) / 100 = (4800 + 2700) / 100 = 75
    a = {1: aggregate_criterion([D(80), D(90), D(70)], None), 2: aggregate_criterion([D(60), D(75)], None)}
    assert technical_score(a, CRITERIA_60_40) == D(75)
    # Bid B: criterion 1 members 90, 95, 85 -> 90; criterion 2 members 50, 55, 60 -> 55
    #        T = (60 * 90 + 40 * 55) / 100 = (5400 + 2200) / 100 = 76
    b = {1: aggregate_criterion([D(90), D(95), D(85)], None), 2: aggregate_criterion([D(50), D(55), D(60)], None)}
    assert technical_score(b, CRITERIA_60_40) == D(76)


def test_technical_score_rounds_only_when_reported():
    # criterion 1: (70 + 80 + 82) / 3 = 77.333...; criterion 2: (90 + 91) / 2 = 90.5
    # T = (60 * 232/3 + 40 * 90.5) / 100 = (4640 + 3620) / 100 = 82.6 (up to the last of 60 digits)
    scores = {1: aggregate_criterion([D(70), D(80), D(82)], None), 2: aggregate_criterion([D(90), D(91)], None)}
    value = technical_score(scores, CRITERIA_60_40)
    assert abs(value - D("82.6")) < D("1e-50")
    rules = Rules(method=LOWEST_PRICE, criteria=CRITERIA_60_40, pass_mark=D(0))
    [result] = evaluate(rules, [BidFacts(bid_id=1, submitted_at=T0, scores=scores, price=D(100))])
    assert result.technical == D("82.60")


def test_technical_score_missing_criterion_is_key_and_value_error():
    with pytest.raises(MissingScoreError, match="no score for criterion 2") as caught:
        technical_score({1: D(80)}, CRITERIA_60_40)
    assert isinstance(caught.value, KeyError)
    assert isinstance(caught.value, ValueError)


@pytest.mark.parametrize(
    ("scores", "criteria", "message"),
    [
        ({1: D(80), 2: D(101)}, CRITERIA_60_40, "between 0 and 100"),
        ({1: D(80), 2: D(80), 3: D(80)}, CRITERIA_60_40, "unknown criterion 3"),
        ({1: D(80), 2: D(80)}, [CriterionRule(1, D(60)), CriterionRule(2, D(30))], "add up to 100"),
        ({1: D(80)}, [CriterionRule(1, D(60)), CriterionRule(1, D(40))], "appears twice"),
        ({}, [], "at least one criterion"),
    ],
)
def test_technical_score_validation(scores, criteria, message):
    with pytest.raises(ValueError, match=message):
        technical_score(scores, criteria)


# --- quality_cost -----------------------------------------------------------------------------------------


def test_quality_cost_70_30_three_bids():
    # Criteria 60/40, pass mark 70, technical 70 / financial 30.
    # A: T = (60*80 + 40*70)/100 = (4800 + 2800)/100 = 76   price 100 000
    # B: T = (60*90 + 40*85)/100 = (5400 + 3400)/100 = 88   price 110 000
    # C: T = (60*70 + 40*75)/100 = (4200 + 3000)/100 = 72   price  90 000  (lowest)
    # F = 90 000 / price * 100:
    #   F_A = 90 000/100 000*100 = 90;  F_B = 90 000/110 000*100 = 81.8181... -> 81.82;  F_C = 100
    # C = 70*T/100 + 30*F/100:
    #   C_A = 53.2 + 27 = 80.2
    #   C_B = 61.6 + 24.5454... = 86.1454... -> 86.15
    #   C_C = 50.4 + 30 = 80.4
    # Ranking: B (86.15), C (80.40), A (80.20).
    # Abnormally low? C: mean of others = (100 000 + 110 000)/2 = 105 000; 80% of it = 84 000; 90 000 is not below.
    rules = Rules(method=QUALITY_COST, criteria=CRITERIA_60_40, pass_mark=D(70))
    results = evaluate(
        rules,
        [
            bid(1, scores={1: 80, 2: 70}, price=100_000),
            bid(2, scores={1: 90, 2: 85}, price=110_000),
            bid(3, scores={1: 70, 2: 75}, price=90_000),
        ],
    )
    assert results == [
        BidResult(2, D("88.00"), True, D("81.82"), D("86.15"), False, None, 1, ()),
        BidResult(3, D("72.00"), True, D("100.00"), D("80.40"), False, None, 2, ()),
        BidResult(1, D("76.00"), True, D("90.00"), D("80.20"), False, None, 3, ()),
    ]


def test_quality_cost_without_criteria_uses_t_100():
    # No criteria: T = 100, so C = 70 + 30*F/100. Prices 100 and 125:
    # F = 100, 80  ->  C = 100, 70 + 24 = 94
    rules = Rules(method=QUALITY_COST, criteria=[], pass_mark=D(0))
    results = evaluate(rules, [bid(1, price=125), bid(2, price=100)])
    assert [(r.bid_id, r.technical, r.financial, r.combined, r.rank) for r in results] == [
        (2, None, D("100.00"), D("100.00"), 1),
        (1, None, D("80.00"), D("94.00"), 2),
    ]


# --- lowest_price -----------------------------------------------------------------------------------------


def test_lowest_price_ranks_by_price():
    # Prices 120, 100, 110 -> 100 first, 110 second, 120 third.
    # Abnormally low? 100 vs mean(120, 110) = 115 * 0.8 = 92: no.
    rules = Rules(method=LOWEST_PRICE, criteria=[], pass_mark=D(0))
    results = evaluate(rules, [bid(1, price=120), bid(2, price=100), bid(3, price=110)])
    assert [(r.bid_id, r.rank) for r in results] == [(2, 1), (3, 2), (1, 3)]
    assert all(r.technical is r.financial is r.combined is None for r in results)
    assert all(r.qualified and r.reasons == () for r in results)


def test_lowest_price_criteria_only_gate():
    # Criteria 60/40 pass mark 70: bid 1 is cheapest but T = (60*60 + 40*70)/100 = 64 < 70 -> not ranked.
    rules = Rules(method=LOWEST_PRICE, criteria=CRITERIA_60_40, pass_mark=D(70))
    results = by_id(
        evaluate(
            rules,
            [
                bid(1, scores={1: 60, 2: 70}, price=90),
                bid(2, scores={1: 80, 2: 80}, price=100),
                bid(3, scores={1: 95, 2: 95}, price=105),
            ],
        )
    )
    assert results[1].rank is None and results[1].reasons == ("below_pass_mark",)
    assert results[1].technical == D("64.00")
    assert (results[2].rank, results[3].rank) == (1, 2)


# --- fixed_budget -----------------------------------------------------------------------------------------


def test_fixed_budget_over_budget_bid_is_not_ranked():
    # Budget 500 000, criteria 60/40, pass mark 60.
    # A: T = (60*80 + 40*70)/100 = 76, price 480 000 (within)
    # B: T = (60*90 + 40*85)/100 = 88, price 520 000 (over budget -> not ranked despite the best T)
    # C: T = (60*70 + 40*75)/100 = 72, price 500 000 (equal to the budget: within)
    # Ranking by T: A (76), C (72).
    rules = Rules(method=FIXED_BUDGET, criteria=CRITERIA_60_40, pass_mark=D(60), budget=D(500_000))
    results = evaluate(
        rules,
        [
            bid(1, scores={1: 80, 2: 70}, price=480_000),
            bid(2, scores={1: 90, 2: 85}, price=520_000),
            bid(3, scores={1: 70, 2: 75}, price=500_000),
        ],
    )
    assert results == [
        BidResult(1, D("76.00"), True, None, None, False, True, 1, ()),
        BidResult(3, D("72.00"), True, None, None, False, True, 2, ()),
        BidResult(2, D("88.00"), True, None, None, False, False, None, ("over_budget",)),
    ]


def test_budget_is_informative_for_other_methods():
    rules = Rules(method=LOWEST_PRICE, criteria=[], pass_mark=D(0), budget=D(100))
    results = by_id(evaluate(rules, [bid(1, price=90), bid(2, price=110), bid(3)]))
    assert (results[1].within_budget, results[2].within_budget, results[3].within_budget) == (True, False, None)
    assert results[2].rank == 2 and "over_budget" not in results[2].reasons


# --- abnormally low prices --------------------------------------------------------------------------------


def test_abnormally_low_threshold():
    # mean of others = 100; 20 % below it = 80. Exactly 80 is not "more than 20 % below".
    assert abnormally_low(D(80), [D(100)], D(20)) is False
    assert abnormally_low(D("79.99"), [D(100)], D(20)) is True
    assert abnormally_low(D("79.99"), [D(90), D(110)], D(20)) is True
    assert abnormally_low(D(1), [], D(20)) is False


def test_abnormally_low_flagged_then_rejected():
    # Prices: 1 -> 100, 2 -> 110, 3 -> 60.
    # Bid 3: mean of others (100 + 110)/2 = 105; 105 * 0.8 = 84; 60 < 84 -> flagged.
    # Bid 1: mean(110, 60) = 85 * 0.8 = 68; 100 is not below. Bid 2: mean(100, 60) = 80 * 0.8 = 64: no.
    rules = Rules(method=LOWEST_PRICE, criteria=[], pass_mark=D(0))
    bids = [bid(1, price=100), bid(2, price=110), bid(3, price=60)]
    flagged = by_id(evaluate(rules, bids))
    assert flagged[3].abnormally_low is True
    assert flagged[3].reasons == ("abnormally_low",)
    assert flagged[3].rank == 1  # a flag alone excludes nothing
    assert not flagged[1].abnormally_low and not flagged[2].abnormally_low

    # The committee rejects the price: bid 3 leaves the ranking, bid 1 becomes first; flags do not move.
    bids[2] = bid(3, price=60, price_rejected=True)
    results = evaluate(rules, bids)
    assert [(r.bid_id, r.rank) for r in results] == [(1, 1), (2, 2), (3, None)]
    assert results[2].reasons == ("price_rejected", "abnormally_low")
    assert [r.abnormally_low for r in results] == [False, False, True]


def test_abnormally_low_ignores_unqualified_bids():
    # Bid 3 (price 10) is not responsive, so it is not in the pool: bid 1 is compared with bid 2 only.
    # mean(110) * 0.8 = 88; 100 is not below.
    rules = Rules(method=LOWEST_PRICE, criteria=[], pass_mark=D(0))
    results = by_id(evaluate(rules, [bid(1, price=100), bid(2, price=110), bid(3, price=10, responsive=False)]))
    assert not any(r.abnormally_low for r in results.values())


def test_rejected_price_in_quality_cost_changes_lowest_price():
    # Prices 100, 110, 60 (bid 3 rejected). Lowest candidate price is 100, not 60:
    # F_1 = 100, F_2 = 100/110*100 = 90.909... -> 90.91
    rules = Rules(method=QUALITY_COST, criteria=[], pass_mark=D(0))
    results = by_id(evaluate(rules, [bid(1, price=100), bid(2, price=110), bid(3, price=60, price_rejected=True)]))
    assert results[1].financial == D("100.00")
    assert results[2].financial == D("90.91")
    assert results[3].financial is None and results[3].rank is None


# --- ties -------------------------------------------------------------------------------------------------


def test_tie_broken_by_higher_technical_score_quality_cost():
    # Technical 50 / financial 50, criteria 60/40.
    # Bid 1: T = (60*90 + 40*90)/100 = 90, price 125 -> F = 100/125*100 = 80  -> C = 45 + 40 = 85
    # Bid 2: T = (60*70 + 40*70)/100 = 70, price 100 -> F = 100            -> C = 35 + 50 = 85
    # Equal C; higher T wins: bid 1 first, although it is dearer and submitted later.
    rules = Rules(
        method=QUALITY_COST,
        criteria=CRITERIA_60_40,
        pass_mark=D(0),
        technical_weight=D(50),
        financial_weight=D(50),
    )
    results = evaluate(
        rules,
        [bid(1, minutes=10, scores={1: 90, 2: 90}, price=125), bid(2, minutes=0, scores={1: 70, 2: 70}, price=100)],
    )
    assert [(r.bid_id, r.combined, r.rank, r.reasons) for r in results] == [
        (1, D("85.00"), 1, ("tie_broken",)),
        (2, D("85.00"), 2, ("tie_broken",)),
    ]


def test_tie_broken_by_higher_technical_score_lowest_price():
    # Same price 100; T_1 = 75, T_2 = 80 -> bid 2 first even though bid 1 was submitted earlier.
    rules = Rules(method=LOWEST_PRICE, criteria=CRITERIA_60_40, pass_mark=D(50))
    results = evaluate(
        rules,
        [bid(1, minutes=0, scores={1: 75, 2: 75}, price=100), bid(2, minutes=5, scores={1: 80, 2: 80}, price=100)],
    )
    assert ranking(results) == [2, 1]
    assert all(r.reasons == ("tie_broken",) for r in results)


def test_tie_broken_by_lower_price():
    # fixed_budget ranks by T: both T = 80; bid 2 is cheaper (400 < 450) -> first.
    rules = Rules(method=FIXED_BUDGET, criteria=CRITERIA_60_40, pass_mark=D(50), budget=D(500))
    results = evaluate(
        rules,
        [bid(1, minutes=0, scores={1: 80, 2: 80}, price=450), bid(2, minutes=5, scores={1: 80, 2: 80}, price=400)],
    )
    assert ranking(results) == [2, 1]
    assert all(r.reasons == ("tie_broken",) for r in results)


def test_tie_broken_by_earlier_submission():
    # lowest_price, same price, no criteria (T = 100 for both): bid 9 was submitted first -> first,
    # although its id is higher.
    rules = Rules(method=LOWEST_PRICE, criteria=[], pass_mark=D(0))
    results = evaluate(rules, [bid(4, minutes=30, price=100), bid(9, minutes=10, price=100)])
    assert ranking(results) == [9, 4]
    assert all(r.reasons == ("tie_broken",) for r in results)


def test_tie_broken_by_lower_bid_id_and_untied_bids_are_not_marked():
    # Bids 7 and 3: same price, same time -> bid 3 first. Bid 5 is cheaper and not tied.
    rules = Rules(method=LOWEST_PRICE, criteria=[], pass_mark=D(0))
    results = evaluate(rules, [bid(7, price=100), bid(5, price=95), bid(3, price=100)])
    assert [(r.bid_id, r.rank, r.reasons) for r in results] == [
        (5, 1, ()),
        (3, 2, ("tie_broken",)),
        (7, 3, ("tie_broken",)),
    ]


def test_tie_break_rule_is_published():
    for words in ("technical", "lower price", "earlier", "lower bid number"):
        assert words in TIE_BREAK


# --- exclusions -------------------------------------------------------------------------------------------


def test_non_responsive_and_below_pass_mark_bids_are_not_ranked():
    # Criteria 60/40, pass mark 70, quality_cost 70/30.
    # Bid 1: not responsive (T = (60*90 + 40*85)/100 = 88 still reported), price 90.
    # Bid 2: T = (60*60 + 40*70)/100 = 64 < 70, price 80.
    # Bid 3: T = (60*80 + 40*70)/100 = 76, price 100; the only candidate, so the lowest price is ITS price:
    #        F = 100, C = 0.7*76 + 30 = 83.2.
    # Bid 4: not responsive and never scored.
    rules = Rules(method=QUALITY_COST, criteria=CRITERIA_60_40, pass_mark=D(70))
    results = evaluate(
        rules,
        [
            bid(1, scores={1: 90, 2: 85}, price=90, responsive=False),
            bid(2, scores={1: 60, 2: 70}, price=80),
            bid(3, scores={1: 80, 2: 70}, price=100),
            bid(4, responsive=False),
        ],
    )
    assert results == [
        BidResult(3, D("76.00"), True, D("100.00"), D("83.20"), False, None, 1, ()),
        BidResult(1, D("88.00"), False, None, None, False, None, None, ("not_responsive",)),
        BidResult(2, D("64.00"), False, None, None, False, None, None, ("below_pass_mark",)),
        BidResult(4, None, False, None, None, False, None, None, ("not_responsive", "price_sealed")),
    ]


def test_pass_mark_is_inclusive_and_uses_full_precision():
    # T = 70 exactly qualifies; T = (60*(70+70+69.99)/3 ... ) just under 70 does not.
    rules = Rules(method=LOWEST_PRICE, criteria=CRITERIA_60_40, pass_mark=D(70))
    just_under = {1: aggregate_criterion([D(70), D(70), D("69.99")], None), 2: D(70)}
    # criterion 1 = 209.99/3 = 69.99666...; T = (60*69.99666... + 40*70)/100 = 69.998 -> reported 70.00
    results = by_id(
        evaluate(rules, [bid(1, scores={1: 70, 2: 70}, price=100), BidFacts(2, at(0), scores=just_under, price=D(100))])
    )
    assert results[1].qualified and results[1].rank == 1
    assert not results[2].qualified and results[2].technical == D("70.00")
    assert results[2].reasons == ("below_pass_mark",)


def test_sealed_price_is_not_ranked():
    rules = Rules(method=QUALITY_COST, criteria=CRITERIA_60_40, pass_mark=D(50))
    results = by_id(evaluate(rules, [bid(1, scores={1: 80, 2: 80}), bid(2, scores={1: 60, 2: 60}, price=100)]))
    assert results[1].rank is None
    assert results[1].reasons == ("price_sealed",)
    assert results[1].financial is None and results[1].combined is None
    assert results[1].qualified and results[1].technical == D("80.00")
    assert results[2].rank == 1


def test_results_are_ranked_first_then_unranked_by_bid_id():
    rules = Rules(method=LOWEST_PRICE, criteria=[], pass_mark=D(0))
    results = evaluate(
        rules, [bid(9, responsive=False, price=1), bid(2, price=50), bid(6), bid(1, price=70), bid(4, responsive=False)]
    )
    assert [(r.bid_id, r.rank) for r in results] == [(2, 1), (1, 2), (4, None), (6, None), (9, None)]


def test_no_bids():
    assert evaluate(Rules(method=QUALITY_COST, criteria=CRITERIA_60_40, pass_mark=D(70)), []) == []


def test_caller_decimal_context_does_not_matter():
    rules = Rules(method=QUALITY_COST, criteria=CRITERIA_60_40, pass_mark=D(70))
    bids = [bid(1, scores={1: 80, 2: 70}, price=100_000), bid(2, scores={1: 90, 2: 85}, price=110_000)]
    expected = evaluate(rules, bids)
    with localcontext() as ctx:
        ctx.prec = 3
        assert evaluate(rules, bids) == expected


# --- validation -------------------------------------------------------------------------------------------


def _rules(**changes) -> Rules:
    values = {"method": QUALITY_COST, "criteria": CRITERIA_60_40, "pass_mark": D(70)}
    values.update(changes)
    return Rules(**values)


GOOD_BID = bid(1, scores={1: 80, 2: 80}, price=100)


@pytest.mark.parametrize(
    ("rules", "bids", "message"),
    [
        (_rules(method="cheapest"), [GOOD_BID], "unknown evaluation method"),
        (_rules(criteria=[CriterionRule(1, D(60)), CriterionRule(2, D(30))]), [GOOD_BID], "add up to 100"),
        (_rules(criteria=[CriterionRule(1, D(120)), CriterionRule(2, D(-20))]), [GOOD_BID], "between 0 and 100"),
        (_rules(technical_weight=D(60)), [GOOD_BID], "technical and financial weights must add up to 100"),
        (_rules(pass_mark=D(120)), [GOOD_BID], "pass mark"),
        (_rules(method=FIXED_BUDGET), [GOOD_BID], "needs a budget"),
        (_rules(method=FIXED_BUDGET, budget=D(0)), [GOOD_BID], "budget must be greater than 0"),
        (_rules(abnormally_low_percent=D(100)), [GOOD_BID], "abnormally-low percent"),
        (_rules(), [bid(1, scores={1: 80, 2: 101}, price=100)], "score for criterion 2 must be between"),
        (_rules(), [bid(1, scores={1: 80, 2: 80}, price=0)], "price must be greater than 0"),
        (_rules(), [bid(1, scores={1: 80, 2: 80}, price=-5)], "price must be greater than 0"),
        (_rules(), [BidFacts(1, T0, scores={1: D(80), 2: D(80)}, price=100.0)], "not float"),
        (_rules(), [BidFacts(1, T0, scores={1: D(80), 2: D("NaN")}, price=D(1))], "finite"),
        (_rules(), [bid(1, scores={1: 80})], "bid 1: no score for criterion 2"),
        (_rules(), [bid(1, scores={1: 80, 2: 80, 3: 80})], "unknown criterion 3"),
        (_rules(criteria=[]), [bid(1, scores={1: 80})], "no criteria"),
        (_rules(), [GOOD_BID, GOOD_BID], "bid 1 appears twice"),
        (_rules(), [BidFacts(1, datetime.datetime(2025, 3, 1), scores=GOOD_BID.scores)], "timezone-aware"),
        (_rules(), [bid(1, scores={1: 80, 2: 80}, price_rejected=True)], "sealed"),
    ],
)
def test_validation_errors(rules, bids, message):
    with pytest.raises(ValueError, match=message):
        evaluate(rules, bids)


def test_partial_scores_are_fine_for_a_non_responsive_bid():
    [result] = evaluate(_rules(), [bid(1, scores={1: 80}, responsive=False)])
    assert result.technical is None and result.reasons == ("not_responsive", "price_sealed")


# --- properties -------------------------------------------------------------------------------------------

_SCORE = st.integers(0, 200).map(lambda n: D(n) / 2)  # 0, 0.5, ..., 100: exact, never NaN
_PRICE = st.one_of(
    st.sampled_from([D(100), D(120), D(150)]),  # few values -> plenty of ties
    st.integers(1, 100_000).map(lambda n: D(n).scaleb(-2)),
)


@st.composite
def _weights(draw) -> list[Decimal]:
    count = draw(st.integers(0, 3))
    if count == 0:
        return []
    cuts = sorted(draw(st.lists(st.integers(0, 100), min_size=count - 1, max_size=count - 1)))
    bounds = [0, *cuts, 100]
    return [D(high - low) for low, high in zip(bounds, bounds[1:], strict=False)]


@st.composite
def _case(draw):
    weights = draw(_weights())
    criteria = [CriterionRule(id=10 + i, weight=w) for i, w in enumerate(weights)]
    method = draw(st.sampled_from([QUALITY_COST, LOWEST_PRICE, FIXED_BUDGET]))
    tw = draw(st.integers(0, 100))
    rules = Rules(
        method=method,
        criteria=criteria,
        pass_mark=D(draw(st.sampled_from([0, 40, 60, 70]))),
        technical_weight=D(tw),
        financial_weight=D(100 - tw),
        budget=D(draw(st.sampled_from([120, 500, 1000]))) if method == FIXED_BUDGET else None,
        abnormally_low_percent=D(draw(st.sampled_from([0, 10, 20, 50]))),
    )
    ids = draw(st.lists(st.integers(1, 1000), min_size=0, max_size=7, unique=True))
    bids = []
    for bid_id in ids:
        members = {
            c.id: draw(st.lists(st.one_of(st.sampled_from([D(60), D(70), D(80)]), _SCORE), min_size=1, max_size=4))
            for c in criteria
        }
        price = draw(st.one_of(st.none(), _PRICE))
        bids.append(
            {
                "bid_id": bid_id,
                "submitted_at": at(draw(st.integers(0, 3))),
                "responsive": draw(st.sampled_from([True, True, True, False])),
                "members": members,
                "price": price,
                "price_rejected": price is not None and draw(st.integers(0, 4)) == 0,
            }
        )
    return rules, bids


def _build(spec: dict, rng: random.Random) -> BidFacts:
    scores = {}
    for criterion_id, members in spec["members"].items():
        members = list(members)
        rng.shuffle(members)
        scores[criterion_id] = aggregate_criterion(members, None)
    return BidFacts(
        bid_id=spec["bid_id"],
        submitted_at=spec["submitted_at"],
        responsive=spec["responsive"],
        scores=scores,
        price=spec["price"],
        price_rejected=spec["price_rejected"],
    )


@settings(max_examples=300, deadline=None)
@given(case=_case(), seed=st.integers(0, 2**32 - 1))
def test_ranking_ignores_order_of_bids_criteria_and_member_scores(case, seed):
    rules, specs = case
    rng = random.Random(seed)
    first = evaluate(rules, [_build(spec, rng) for spec in specs])

    shuffled_specs = list(specs)
    rng.shuffle(shuffled_specs)
    shuffled_criteria = list(rules.criteria)
    rng.shuffle(shuffled_criteria)
    shuffled_rules = Rules(**{**rules.__dict__, "criteria": shuffled_criteria})
    second = evaluate(shuffled_rules, [_build(spec, rng) for spec in shuffled_specs])

    assert {(r.bid_id, r.rank, r.combined) for r in first} == {(r.bid_id, r.rank, r.combined) for r in second}
    assert first == second

    ranks = sorted(r.rank for r in first if r.rank is not None)
    assert ranks == list(range(1, len(ranks) + 1))
    assert [r.rank for r in first[: len(ranks)]] == ranks  # ranked first, in rank order
    unranked = [r.bid_id for r in first[len(ranks) :]]
    assert unranked == sorted(unranked)
    for result in first:
        if result.rank is not None:
            assert result.qualified and "price_sealed" not in result.reasons
            assert "price_rejected" not in result.reasons and "over_budget" not in result.reasons
