"""Arithmetic of tender evaluation: pure functions over ``Decimal``, no Django, no database.

The services load the facts (criteria, agreed scores, opened prices, committee decisions) and call
:func:`evaluate`; everything here is deterministic and independent of the order of its inputs.

Numbers
-------
Every quantity is a :class:`~decimal.Decimal` (ints are accepted, floats are refused). Arithmetic runs in a
private decimal context of 60 significant digits, whatever context the caller has set, and nothing is rounded
until the end: only the values *reported* in :class:`BidResult` (``technical``, ``financial``, ``combined``)
are rounded to 2 decimal places, half up (ROUND_HALF_UP). Comparisons (pass mark, ranking, ties) use the
unrounded values, so two bids can both show ``85.33`` and still be ranked 1 and 2 without a tie-break.

Formulas
--------
* Score of one criterion for one bid (:func:`aggregate_criterion`): the committee's consensus score if one
  was recorded, otherwise the arithmetic mean of the members' scores. Scores are 0..100.
  :func:`spread` (max - min of the members' scores) tells the chair where members disagree.
* Technical score ``T`` (:func:`technical_score`): ``T = sum(weight_i * score_i) / 100`` over the tender's
  criteria, whose weights add up to 100; ``T`` is therefore 0..100.
* A bid is *qualified* when it is administratively responsive and, if the tender has criteria, ``T`` is at
  least the pass mark. Only qualified bids whose financial envelope is open (price known) and whose price was
  not rejected by the committee are *candidates* for ranking.
* ``quality_cost``: ``F = lowest candidate price / price * 100`` and
  ``C = technical_weight * T / 100 + financial_weight * F / 100`` (``T = 100`` when there are no criteria;
  the two weights add up to 100). Candidates are ranked by ``C``, highest first.
* ``lowest_price``: candidates are ranked by price, lowest first (criteria, if any, act only as a pass mark).
* ``fixed_budget``: a candidate priced above the budget is not ranked (``over_budget``); the others are
  ranked by ``T``, highest first.
* Abnormally low price (:func:`abnormally_low`): a price is flagged when it is *more than*
  ``abnormally_low_percent`` % below the mean of the prices of the other qualified, priced bids, i.e.
  ``price < mean(others) * (100 - percent) / 100``. The pool includes bids whose price the committee has
  rejected, so rejecting one price never changes the flags of the others. A flag alone excludes nothing:
  the committee investigates and, if it rejects the price, the bid is passed with ``price_rejected=True``.
* ``within_budget`` is ``price <= budget`` whenever a budget and a price are known (for information only
  under the other methods).

Published tie-break rule (:data:`TIE_BREAK`)
--------------------------------------------
When candidates have exactly the same ranking value (``C``, price or ``T`` depending on the method, compared
without rounding), they are ordered by: higher technical score, then lower price, then earlier submission
time, then lower bid id. Every bid of such a group gets the reason ``tie_broken``. Ranks are 1..k with no
gaps and no shared ranks.

Reasons
-------
``BidResult.reasons`` lists every code that applies, in this fixed order: ``not_responsive``,
``below_pass_mark``, ``price_sealed``, ``price_rejected``, ``over_budget``, ``abnormally_low``,
``tie_broken``.

A ranking that leaves some qualified bid with a sealed price is provisional: under ``quality_cost`` the
lowest candidate price (hence every ``F``) may change once that envelope is opened.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Context, Decimal, localcontext

QUALITY_COST = "quality_cost"
LOWEST_PRICE = "lowest_price"
FIXED_BUDGET = "fixed_budget"
METHODS = (QUALITY_COST, LOWEST_PRICE, FIXED_BUDGET)

NOT_RESPONSIVE = "not_responsive"
BELOW_PASS_MARK = "below_pass_mark"  # noqa: S105 (a reason code, not a password)
PRICE_SEALED = "price_sealed"
PRICE_REJECTED = "price_rejected"
OVER_BUDGET = "over_budget"
ABNORMALLY_LOW = "abnormally_low"
TIE_BROKEN = "tie_broken"
REASONS = (NOT_RESPONSIVE, BELOW_PASS_MARK, PRICE_SEALED, PRICE_REJECTED, OVER_BUDGET, ABNORMALLY_LOW, TIE_BROKEN)

TIE_BREAK = (
    "If two or more bids have exactly the same ranking score (compared before rounding), the bid with the "
    "higher technical score ranks higher; if they are still equal, the bid with the lower price; if still "
    "equal, the bid submitted earlier; if still equal, the bid with the lower bid number."
)

HUNDRED = Decimal(100)
_ZERO = Decimal(0)
_CENT = Decimal("0.01")
# Private context: results never depend on the caller's precision, rounding or traps.
_CONTEXT = Context(prec=60, rounding=ROUND_HALF_EVEN)


class MissingScoreError(KeyError, ValueError):
    """A criterion has no score for a bid (both a ``KeyError`` and a ``ValueError``)."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


@dataclass(frozen=True)
class CriterionRule:
    id: int
    weight: Decimal  # the weights of a tender's criteria add up to 100


@dataclass(frozen=True)
class BidFacts:
    bid_id: int
    submitted_at: datetime.datetime  # timezone-aware
    responsive: bool = True  # administrative compliance
    scores: Mapping[int, Decimal] = field(default_factory=dict)  # criterion id -> agreed score 0..100
    price: Decimal | None = None  # None while the financial envelope is sealed
    price_rejected: bool = False  # abnormally low price rejected by the committee


@dataclass(frozen=True)
class Rules:
    method: str
    criteria: Sequence[CriterionRule]
    pass_mark: Decimal  # 0..100, applies to the technical score when there are criteria
    technical_weight: Decimal = Decimal(70)  # quality_cost only; technical + financial = 100
    financial_weight: Decimal = Decimal(30)
    budget: Decimal | None = None  # fixed_budget: bids above it are not ranked
    abnormally_low_percent: Decimal = Decimal(20)  # % below the mean of the other priced bids


@dataclass(frozen=True)
class BidResult:
    bid_id: int
    technical: Decimal | None  # weighted technical score 0..100, 2 dp (None if no criteria)
    qualified: bool  # responsive and technical >= pass_mark (or no criteria)
    financial: Decimal | None  # quality_cost: lowest price / price * 100, 2 dp
    combined: Decimal | None  # quality_cost: tw*T/100 + fw*F/100, 2 dp
    abnormally_low: bool
    within_budget: bool | None
    rank: int | None  # 1 = recommended; None = not ranked
    reasons: tuple[str, ...]


# ---------------------------------------------------------------------------------------------------------
# Validation helpers


def _number(value: object, what: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, Decimal | int):
        raise ValueError(f"{what} must be a Decimal or an int, not {type(value).__name__} ({value!r})")
    number = Decimal(value)
    if not number.is_finite():
        raise ValueError(f"{what} must be a finite number, got {number}")
    return number


def _in_range(value: object, what: str, low: Decimal = _ZERO, high: Decimal = HUNDRED) -> Decimal:
    number = _number(value, what)
    if not low <= number <= high:
        raise ValueError(f"{what} must be between {low} and {high}, got {number}")
    return number


def _score(value: object, what: str) -> Decimal:
    return _in_range(value, what)


def _price(value: object, what: str) -> Decimal:
    number = _number(value, what)
    if number <= 0:
        raise ValueError(f"{what} must be greater than 0, got {number}")
    return number


def _percent(value: object) -> Decimal:
    number = _number(value, "abnormally-low percent")
    if not _ZERO <= number < HUNDRED:
        raise ValueError(f"abnormally-low percent must be at least 0 and below 100, got {number}")
    return number


def _criteria(criteria: Sequence[CriterionRule]) -> list[tuple[int, Decimal]]:
    """Validated ``(id, weight)`` pairs sorted by id (so results never depend on the criteria's order)."""
    pairs: dict[int, Decimal] = {}
    for criterion in criteria:
        if isinstance(criterion.id, bool) or not isinstance(criterion.id, int):
            raise ValueError(f"criterion id must be an int, got {criterion.id!r}")
        if criterion.id in pairs:
            raise ValueError(f"criterion {criterion.id} appears twice")
        pairs[criterion.id] = _in_range(criterion.weight, f"weight of criterion {criterion.id}")
    if pairs:
        total = sum(pairs.values(), _ZERO)
        if total != HUNDRED:
            raise ValueError(f"criterion weights must add up to 100, they add up to {total}")
    return sorted(pairs.items())


def _weighted(scores: Mapping[int, Decimal], criteria: list[tuple[int, Decimal]], bid: str = "") -> Decimal:
    known = {criterion_id for criterion_id, _ in criteria}
    unknown = sorted(set(scores) - known, key=repr)
    if unknown:
        raise ValueError(f"{bid}score given for unknown criterion {unknown[0]!r}")
    total = _ZERO
    for criterion_id, weight in criteria:
        if criterion_id not in scores:
            raise MissingScoreError(f"{bid}no score for criterion {criterion_id}")
        total += weight * _score(scores[criterion_id], f"{bid}score for criterion {criterion_id}")
    return total / HUNDRED


def _round(value: Decimal | None) -> Decimal | None:
    return None if value is None else value.quantize(_CENT, rounding=ROUND_HALF_UP)


# ---------------------------------------------------------------------------------------------------------
# Public building blocks


def aggregate_criterion(member_scores: Sequence[Decimal], consensus: Decimal | None) -> Decimal:
    """The agreed score of one criterion: ``consensus`` if given, else the mean of the members' scores.

    Full precision (not rounded); every score must be 0..100. Independent of the order of ``member_scores``.
    """
    with localcontext(_CONTEXT):
        values = sorted(_score(value, "member score") for value in member_scores)
        if consensus is not None:
            return _score(consensus, "consensus score")
        if not values:
            raise ValueError("a criterion needs at least one member score or a consensus score")
        return sum(values, _ZERO) / len(values)


def spread(member_scores: Sequence[Decimal]) -> Decimal:
    """Highest minus lowest member score (0 when fewer than two scores)."""
    with localcontext(_CONTEXT):
        values = [_score(value, "member score") for value in member_scores]
        if len(values) < 2:
            return _ZERO
        return max(values) - min(values)


def technical_score(scores: Mapping[int, Decimal], criteria: Sequence[CriterionRule]) -> Decimal:
    """``sum(weight * score) / 100`` over ``criteria``, full precision.

    Raises :class:`MissingScoreError` (a ``KeyError`` and a ``ValueError``) if a criterion has no score, and
    ``ValueError`` for scores outside 0..100, scores of unknown criteria, or weights not adding up to 100.
    """
    with localcontext(_CONTEXT):
        pairs = _criteria(criteria)
        if not pairs:
            raise ValueError("a technical score needs at least one criterion")
        return _weighted(scores, pairs)


def abnormally_low(price: Decimal, other_prices: Sequence[Decimal], percent: Decimal) -> bool:
    """True when ``price`` is more than ``percent`` % below the mean of ``other_prices`` (False if none)."""
    with localcontext(_CONTEXT):
        price = _price(price, "price")
        others = sorted(_price(other, "other price") for other in other_prices)
        percent = _percent(percent)
        if not others:
            return False
        mean = sum(others, _ZERO) / len(others)
        return price < mean * (HUNDRED - percent) / HUNDRED


# ---------------------------------------------------------------------------------------------------------
# Evaluation


@dataclass
class _Work:
    facts: BidFacts
    price: Decimal | None
    technical: Decimal | None  # full precision; None if no criteria or unscored (non-responsive only)
    qualified: bool
    reasons: set[str]
    abnormally_low: bool = False
    within_budget: bool | None = None
    financial: Decimal | None = None
    combined: Decimal | None = None
    rank: int | None = None


def _check_rules(rules: Rules) -> tuple[list[tuple[int, Decimal]], dict[str, Decimal | None]]:
    if rules.method not in METHODS:
        raise ValueError(f"unknown evaluation method {rules.method!r}; expected one of {', '.join(METHODS)}")
    criteria = _criteria(rules.criteria)
    values: dict[str, Decimal | None] = {
        "pass_mark": _in_range(rules.pass_mark, "pass mark"),
        "percent": _percent(rules.abnormally_low_percent),
        "budget": None if rules.budget is None else _price(rules.budget, "budget"),
        "tw": None,
        "fw": None,
    }
    if rules.method == QUALITY_COST:
        tw = _in_range(rules.technical_weight, "technical weight")
        fw = _in_range(rules.financial_weight, "financial weight")
        if tw + fw != HUNDRED:
            raise ValueError(f"technical and financial weights must add up to 100, they add up to {tw + fw}")
        values["tw"], values["fw"] = tw, fw
    if rules.method == FIXED_BUDGET and values["budget"] is None:
        raise ValueError("the fixed_budget method needs a budget")
    return criteria, values


def _check_bid(facts: BidFacts, criteria: list[tuple[int, Decimal]], pass_mark: Decimal) -> _Work:
    if isinstance(facts.bid_id, bool) or not isinstance(facts.bid_id, int):
        raise ValueError(f"bid id must be an int, got {facts.bid_id!r}")
    label = f"bid {facts.bid_id}: "
    if not isinstance(facts.submitted_at, datetime.datetime) or facts.submitted_at.utcoffset() is None:
        raise ValueError(f"{label}submission time must be a timezone-aware datetime, got {facts.submitted_at!r}")
    price = None if facts.price is None else _price(facts.price, f"{label}price")
    if facts.price_rejected and price is None:
        raise ValueError(f"{label}a price cannot be rejected while the financial envelope is sealed")
    reasons: set[str] = set()
    if not facts.responsive:
        reasons.add(NOT_RESPONSIVE)
    technical = None
    if criteria:
        try:
            technical = _weighted(facts.scores, criteria, label)
        except MissingScoreError:
            if facts.responsive:  # a responsive bid must be scored on every criterion
                raise
            for value in facts.scores.values():  # still refuse nonsense in a partial score sheet
                _score(value, f"{label}score")
    elif facts.scores:
        raise ValueError(f"{label}scores given but the tender has no criteria")
    if technical is not None and technical < pass_mark:
        reasons.add(BELOW_PASS_MARK)
    qualified = facts.responsive and (not criteria or (technical is not None and technical >= pass_mark))
    if price is None:
        reasons.add(PRICE_SEALED)
    if facts.price_rejected:
        reasons.add(PRICE_REJECTED)
    return _Work(facts=facts, price=price, technical=technical, qualified=qualified, reasons=reasons)


def evaluate(rules: Rules, bids: Sequence[BidFacts]) -> list[BidResult]:
    """Evaluate and rank ``bids`` under ``rules`` (see the module docstring for every formula).

    Returns one :class:`BidResult` per bid: ranked bids by rank, then unranked bids by bid id.
    Raises ``ValueError`` on invalid rules or facts.
    """
    with localcontext(_CONTEXT):
        criteria, values = _check_rules(rules)
        pass_mark = values["pass_mark"]
        assert pass_mark is not None
        works: list[_Work] = []
        seen: set[int] = set()
        for facts in bids:
            work = _check_bid(facts, criteria, pass_mark)
            if facts.bid_id in seen:
                raise ValueError(f"bid {facts.bid_id} appears twice")
            seen.add(facts.bid_id)
            works.append(work)
        works.sort(key=lambda w: w.facts.bid_id)

        # Abnormally low: among qualified, priced bids (rejected ones included, so flags stay stable).
        pool = [w for w in works if w.qualified and w.price is not None]
        percent = values["percent"]
        assert percent is not None
        for work in pool:
            others = [other.price for other in pool if other is not work and other.price is not None]
            if abnormally_low(work.price, others, percent):  # type: ignore[arg-type]
                work.abnormally_low = True
                work.reasons.add(ABNORMALLY_LOW)

        budget = values["budget"]
        for work in works:
            if budget is not None and work.price is not None:
                work.within_budget = work.price <= budget
                if rules.method == FIXED_BUDGET and not work.within_budget:
                    work.reasons.add(OVER_BUDGET)

        candidates = [
            w
            for w in works
            if w.qualified
            and w.price is not None
            and not w.facts.price_rejected
            and (rules.method != FIXED_BUDGET or w.within_budget)
        ]

        def tech(work: _Work) -> Decimal:
            return HUNDRED if work.technical is None else work.technical

        if rules.method == QUALITY_COST and candidates:
            tw, fw = values["tw"], values["fw"]
            assert tw is not None and fw is not None
            lowest = min(w.price for w in candidates if w.price is not None)
            for work in candidates:
                assert work.price is not None
                work.financial = lowest / work.price * HUNDRED
                work.combined = tw * tech(work) / HUNDRED + fw * work.financial / HUNDRED

        def primary(work: _Work) -> Decimal:  # smaller sorts first
            if rules.method == QUALITY_COST:
                assert work.combined is not None
                return -work.combined
            if rules.method == LOWEST_PRICE:
                assert work.price is not None
                return work.price
            return -tech(work)

        def order(work: _Work) -> tuple:
            return (primary(work), -tech(work), work.price, work.facts.submitted_at, work.facts.bid_id)

        candidates.sort(key=order)
        keys = [primary(w) for w in candidates]
        for position, work in enumerate(candidates):
            work.rank = position + 1
            if keys.count(keys[position]) > 1:
                work.reasons.add(TIE_BROKEN)

        ranked = [w for w in works if w.rank is not None]
        ranked.sort(key=lambda w: w.rank)  # type: ignore[arg-type, return-value]
        unranked = [w for w in works if w.rank is None]
        return [
            BidResult(
                bid_id=w.facts.bid_id,
                technical=_round(w.technical),
                qualified=w.qualified,
                financial=_round(w.financial),
                combined=_round(w.combined),
                abnormally_low=w.abnormally_low,
                within_budget=w.within_budget,
                rank=w.rank,
                reasons=tuple(code for code in REASONS if code in w.reasons),
            )
            for w in ranked + unranked
        ]
