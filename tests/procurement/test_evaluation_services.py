"""Evaluation and award through the services (``procurement/evaluation_services.py``): the committee, its
declarations, compliance, independent scores, consensus, the financial opening, abnormally low prices, the
recommendation, the four-eyes approval, the standstill, complaints and the scheduler that makes awards final.

The main scenario (quality- and cost-based, weights 70/30, criteria 60/40, pass mark 70):

=======  ======  ==========================  ===========================================================
bidder   price   technical                   outcome
=======  ======  ==========================  ===========================================================
P (0)    1000    C1 consensus 85, C2 80: 83  F = 780/1000*100 = 78; C = 58.1 + 23.4 = 81.50 — rank 1
Q (1)     780    C1 75, C2 70: 73            abnormally low (780 < 0.8 * 1000), justified; F = 100;
                                             C = 51.1 + 30 = 81.10 — rank 2
R (2)     500    —                           not responsive (missing bank guarantee)
S (3)     900    C1 50, C2 50: 50            below the pass mark: disqualified, price stays sealed
=======  ======  ==========================  ===========================================================

Committee of four (A chairs; quorum 3); D is recused for Q. P's C1 scores 90/85/80/55 spread 35 points, more
than ``EVALUATION_SCORE_SPREAD``: the chair records the consensus 85.
"""

from __future__ import annotations

import datetime
import json
from decimal import Decimal

import pytest
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError

from accounts.roles import Role
from audit.models import AuditEvent
from core.exceptions import ActionRefused
from notifications.models import Notification
from procurement import evaluation_services as ev
from procurement import opening_services, sealing, tender_services
from procurement.models import (
    BidEnvelope,
    BidOpening,
    Complaint,
    ComplianceDecision,
    ConflictDeclaration,
    EvaluationMember,
    PriceReview,
    Recommendation,
    TechnicalScore,
)
from procurement.models.bids import BidStatus, EnvelopeKind, EnvelopeState, OpeningStatus
from procurement.models.evaluation import ComplaintStatus, RecommendationStatus
from procurement.models.tenders import EvaluationMethod, TenderStatus
from tests.accounts.factories import UserFactory
from tests.procurement.bid_factories import (
    PASSWORD,
    audit_events,
    bidder,
    clock,
    evaluation_member,
    evaluation_ready,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fast_keys_and_own_media(monkeypatch, settings, tmp_path):
    monkeypatch.setattr(sealing, "SCRYPT_N", 2**10)
    settings.MEDIA_ROOT = str(tmp_path / "media")


# Helpers -----------------------------------------------------------------------------------------

P, Q, R, S = 0, 1, 2, 3
A, B, C, D = 0, 1, 2, 3
PRICES = ("1000.00", "780.00", "500.00", "900.00")
NOT_RESPONSIVE = {R: "The bank guarantee is missing."}
CONFLICT = {(D, Q)}
#: member -> bid -> (C1, C2)
SHEETS = {
    A: {P: (90, 80), Q: (75, 70), S: (50, 50)},
    B: {P: (85, 80), Q: (75, 70), S: (50, 50)},
    C: {P: (80, 80), Q: (75, 70), S: (50, 50)},
    D: {P: (55, 80), S: (50, 50)},
}
RECUSAL = "My brother-in-law is a director of this bidder."


def at(tender, **delta):
    """The clock, moved to some time after the tender's submission deadline."""
    return clock(tender.submission_deadline + datetime.timedelta(**delta))


def moment(tender, **delta) -> datetime.datetime:
    return tender.submission_deadline + datetime.timedelta(**delta)


def declare(ctx, *, conflicts=frozenset()) -> None:
    for m, user in enumerate(ctx.members):
        for b, bid in enumerate(ctx.bids):
            if (m, b) in conflicts:
                ev.declaration_make(actor=user, bid=bid, has_conflict=True, statement=RECUSAL)
            else:
                ev.declaration_make(actor=user, bid=bid, has_conflict=False)


def comply(ctx, *, not_responsive=None) -> None:
    not_responsive = not_responsive or {}
    for b, bid in enumerate(ctx.bids):
        reason = not_responsive.get(b)
        ev.compliance_decide(actor=ctx.chair, bid=bid, responsive=reason is None, reason=reason or "")


def score(ctx, sheets, *, submit=True) -> None:
    for m, sheet in sheets.items():
        user = ctx.members[m]
        for b, values in sheet.items():
            for criterion, value in zip(ctx.criteria, values, strict=True):
                ev.score_save(
                    actor=user,
                    bid=ctx.bids[b],
                    criterion=criterion,
                    score=str(value),
                    justification=f"{criterion.name_en}: evidence in section {b + 1} of the offer.",
                )
        if submit:
            ev.scores_submit(actor=user, tender=ctx.tender)


def uniform_sheets(ctx, per_bid: dict) -> dict:
    """Every member gives each bid the same scores."""
    return {m: dict(per_bid) for m in range(len(ctx.members))}


def open_financial(ctx, *, hours=3):
    with at(ctx.tender, hours=hours):
        opening_services.opening_confirm(actor=ctx.opening[0], tender=ctx.tender, password=PASSWORD)
        return opening_services.opening_confirm(actor=ctx.opening[1], tender=ctx.tender, password=PASSWORD)


def envelope(bid, kind=EnvelopeKind.FINANCIAL) -> BidEnvelope:
    bid.refresh_from_db()
    return BidEnvelope.objects.get(bid=bid, version__number=bid.version, kind=kind)


def status_of(obj) -> str:
    obj.refresh_from_db()
    return obj.status


def approver_for(tender, **kwargs):
    return UserFactory(agency=tender.agency, roles=[Role.APPROVER], preferred_language="en", **kwargs)


def actions_since(tender, sequence: int) -> list[str]:
    """The tender's actions in order (the notifications each one sends are audited too: see
    ``notified_kinds_since``)."""
    return list(
        AuditEvent.objects.filter(tender_id=tender.pk, sequence__gt=sequence)
        .exclude(action="notification.sent")
        .order_by("sequence")
        .values_list("action", flat=True)
    )


def notified_kinds_since(tender, sequence: int) -> set[str]:
    return {
        event.payload["kind"]
        for event in AuditEvent.objects.filter(tender_id=tender.pk, sequence__gt=sequence, action="notification.sent")
    }


def last_sequence() -> int:
    event = AuditEvent.objects.order_by("-sequence").first()
    return event.sequence if event else 0


def notified(tender, kind) -> list:
    return list(Notification.objects.filter(tender=tender, kind=kind).order_by("id"))


def recipients(tender, kind) -> set[int]:
    return {n.recipient_id for n in notified(tender, kind)}


def quality_cost_scenario(*, through="technical"):
    """The main scenario of the module docstring, taken as far as ``through``: ``"technical"`` (concluded),
    ``"financial"`` (prices opened), ``"reviewed"`` (Q's price justified), ``"recommended"``."""
    ctx = evaluation_ready(prices=PRICES, committee=4, quorum=3)
    tender = ctx.tender
    with at(tender, hours=1):
        declare(ctx, conflicts=CONFLICT)
        comply(ctx, not_responsive=NOT_RESPONSIVE)
        score(ctx, SHEETS)
        ev.consensus_record(
            actor=ctx.chair,
            bid=ctx.bids[P],
            criterion=ctx.criteria[0],
            score="85",
            reason="The committee agreed the approach is strong; member D's concern about staffing is covered by C2.",
        )
        ev.technical_conclude(actor=ctx.chair, tender=tender)
    if through == "technical":
        return ctx
    open_financial(ctx)
    if through == "financial":
        return ctx
    with at(tender, hours=4):
        ev.price_review(
            actor=ctx.chair,
            bid=ctx.bids[Q],
            decision=PriceReview.Decision.JUSTIFIED,
            reason="The bidder showed its own stock of routers and its supplier contract.",
        )
    if through == "reviewed":
        return ctx
    with at(tender, hours=5):
        ev.recommend(actor=ctx.chair, tender=tender, reasons="Best combined score under the published weights.")
    return ctx


def approve(ctx, approver=None, *, hours=6):
    approver = approver or approver_for(ctx.tender)
    with at(ctx.tender, hours=hours):
        recommendation = ev.award_approve(actor=approver, tender=ctx.tender)
    return approver, recommendation


# The whole path: closed → awarded ----------------------------------------------------------------


def test_quality_cost_tender_from_closed_to_awarded_with_audit_and_notifications():
    ctx = evaluation_ready(prices=PRICES, committee=4, quorum=3)
    tender = ctx.tender
    assert tender.status == TenderStatus.EVALUATION
    assert all(status_of(bid) == BidStatus.OPENED for bid in ctx.bids)
    first_opened = audit_events("tender.bids_opened", tender_id=tender.pk)[0].sequence
    chair, members = ctx.chair, ctx.members

    with at(tender, hours=1):
        declare(ctx, conflicts=CONFLICT)
        comply(ctx, not_responsive=NOT_RESPONSIVE)
        score(ctx, SHEETS)
        # P's C1 scores spread more than the allowed limit: concluding now is refused with the reason.
        values = [Decimal(SHEETS[m][P][0]) for m in SHEETS]
        assert max(values) - min(values) > settings.EVALUATION_SCORE_SPREAD
        matrix = ev.score_matrix(tender)
        flagged = [
            (row["bid"].pk, cell["criterion"].pk)
            for row in matrix["rows"]
            for cell in row["cells"]
            if cell["over_spread"]
        ]
        assert flagged == [(ctx.bids[P].pk, ctx.criteria[0].pk)]
        with pytest.raises(ActionRefused, match="consensus"):
            ev.technical_conclude(actor=chair, tender=tender)
        assert all(status_of(bid) == BidStatus.OPENED for bid in ctx.bids)
        ev.consensus_record(
            actor=chair, bid=ctx.bids[P], criterion=ctx.criteria[0], score="85", reason="Agreed after discussion."
        )
        ev.technical_conclude(actor=chair, tender=tender)

    assert [status_of(bid) for bid in ctx.bids] == [
        BidStatus.QUALIFIED,
        BidStatus.QUALIFIED,
        BidStatus.DISQUALIFIED,
        BidStatus.DISQUALIFIED,
    ]
    assert ctx.bids[R].disqualification_reason == "Not responsive: The bank guarantee is missing."
    assert ctx.bids[S].disqualification_reason == "Technical score 50.00 is below the pass mark 70.00."

    # Financial opening: two members of the opening committee; only the qualified bids' prices.
    opening = open_financial(ctx)
    assert opening.status == OpeningStatus.COMPLETED and opening.stage == "financial"
    assert {entry["bid_id"] for entry in opening.record["bids"]} == {ctx.bids[P].pk, ctx.bids[Q].pk}
    assert envelope(ctx.bids[P]).content["total_price"] == "1000.00"
    assert envelope(ctx.bids[Q]).content["total_price"] == "780.00"
    for loser in (ctx.bids[R], ctx.bids[S]):
        sealed = envelope(loser)
        assert sealed.state == EnvelopeState.SEALED and sealed.content is None
    assert status_of(tender) == TenderStatus.EVALUATION

    results = {r.bid_id: r for r in ev.evaluation_results(tender)}
    assert results[ctx.bids[Q].pk].abnormally_low and not results[ctx.bids[P].pk].abnormally_low
    with at(tender, hours=4):
        with pytest.raises(ActionRefused, match="abnormally low"):
            ev.recommend(actor=chair, tender=tender, reasons="Best combined score.")
        ev.price_review(
            actor=chair,
            bid=ctx.bids[Q],
            decision=PriceReview.Decision.JUSTIFIED,
            reason="Own stock and a supplier contract.",
        )
        recommendation = ev.recommend(actor=chair, tender=tender, reasons="Best combined score under the weights.")
    assert recommendation.bid_id == ctx.bids[P].pk and recommendation.status == RecommendationStatus.PENDING
    assert status_of(tender) == TenderStatus.AWARD_PENDING
    approvers_then = {u.pk for u in tender_services.tender_approvers(tender)}
    by_bid = {r["bid_id"]: r for r in recommendation.evaluation["results"]}
    assert (by_bid[ctx.bids[P].pk]["technical"], by_bid[ctx.bids[P].pk]["financial"]) == ("83.00", "78.00")
    assert (by_bid[ctx.bids[P].pk]["combined"], by_bid[ctx.bids[P].pk]["rank"]) == ("81.50", 1)
    assert (by_bid[ctx.bids[Q].pk]["combined"], by_bid[ctx.bids[Q].pk]["rank"]) == ("81.10", 2)
    assert by_bid[ctx.bids[Q].pk]["abnormally_low"] is True
    assert by_bid[ctx.bids[S].pk]["rank"] is None and by_bid[ctx.bids[R].pk]["rank"] is None

    approver, recommendation = approve(ctx)
    assert status_of(tender) == TenderStatus.STANDSTILL
    assert recommendation.status == RecommendationStatus.APPROVED and recommendation.decided_by == approver
    ends = moment(tender, hours=6) + datetime.timedelta(days=settings.STANDSTILL_DAYS)
    assert recommendation.standstill_ends_at == ends

    # Before the end of the standstill nothing happens; after it, the scheduler makes the award final.
    assert tender_services.advance_deadlines(now=ends - datetime.timedelta(seconds=1)) == []
    assert status_of(tender) == TenderStatus.STANDSTILL
    assert tender_services.advance_deadlines(now=ends) == [tender.reference]
    assert tender_services.advance_deadlines(now=ends + datetime.timedelta(days=1)) == []  # idempotent
    assert status_of(tender) == TenderStatus.AWARDED
    assert status_of(recommendation) == RecommendationStatus.FINAL
    assert [status_of(bid) for bid in ctx.bids] == [
        BidStatus.AWARDED,
        BidStatus.NOT_AWARDED,
        BidStatus.DISQUALIFIED,  # disqualified bids keep their status and its reason
        BidStatus.DISQUALIFIED,
    ]

    # The audit log, in order.
    declarations = []
    for m in range(4):
        for b in range(4):
            declarations.append(
                "evaluation.conflict_declared" if (m, b) in CONFLICT else "evaluation.no_conflict_declared"
            )
    assert actions_since(tender, first_opened - 1) == [
        "tender.bids_opened",
        *["evaluation.member_appointed"] * 4,
        "tender.evaluation_started",
        *declarations,
        *["evaluation.compliance_decided"] * 4,
        *["evaluation.scores_submitted"] * 4,
        "evaluation.consensus_recorded",
        "evaluation.technical_concluded",
        "tender.opening_confirmed",
        "tender.bids_opened",
        "evaluation.price_reviewed",
        "tender.award_recommended",
        "tender.award_approved",
        "tender.awarded",
    ]
    concluded = audit_events("evaluation.technical_concluded", tender_id=tender.pk)[0]
    assert {b["bid_id"]: b["qualified"] for b in concluded.payload["bids"]} == {
        ctx.bids[P].pk: True,
        ctx.bids[Q].pk: True,
        ctx.bids[R].pk: False,
        ctx.bids[S].pk: False,
    }
    assert audit_events("tender.awarded", tender_id=tender.pk)[0].actor is None  # the scheduler
    recusal = audit_events("evaluation.conflict_declared", tender_id=tender.pk)[0]
    assert recusal.actor == members[D] and recusal.payload["bid_id"] == ctx.bids[Q].pk
    assert recusal.payload["statement"] == RECUSAL

    # Notifications: kinds and recipients.
    admin_ids = [admin.pk for admin in ctx.admins]
    officer_ids = {u.pk for u in tender_services.tender_officers(tender)}
    assert recipients(tender, "evaluation.appointed") == {m.pk for m in members}
    assert recipients(tender, "evaluation.started") == {m.pk for m in members}
    assert recipients(tender, "evaluation.member_recused") == officer_ids
    assert recipients(tender, "evaluation.all_scores_in") == {m.pk for m in members}
    assert recipients(tender, "bid.qualified") == {admin_ids[P], admin_ids[Q]}
    assert recipients(tender, "bid.disqualified") == {admin_ids[R], admin_ids[S]}
    disqualified = {n.recipient_id: n.context for n in notified(tender, "bid.disqualified")}
    assert disqualified[admin_ids[S]]["reason"] == "Technical score 50.00 is below the pass mark 70.00."
    assert approvers_then and recipients(tender, "award.recommended") == approvers_then
    assert not recipients(tender, "award.recommended") & {m.pk for m in members}
    assert recipients(tender, "tender.awarded") == set(admin_ids) | officer_ids

    # award.result: one per bidder, each with its OWN scores and never another's.
    results = notified(tender, "award.result")
    assert sorted(n.recipient_id for n in results) == sorted(admin_ids)
    context = {n.recipient_id: n.context for n in results}
    own = {
        P: {"technical": "83.00", "financial": "78.00", "combined": "81.50", "rank": "1", "won": "yes"},
        Q: {"technical": "73.00", "financial": "100.00", "combined": "81.10", "rank": "2", "won": "no"},
        R: {"technical": "—", "financial": "—", "combined": "—", "rank": "—", "won": "no"},
        S: {"technical": "50.00", "financial": "—", "combined": "—", "rank": "—", "won": "no"},
    }
    numbers = {value for scores in own.values() for key, value in scores.items() if key not in ("won",)} - {"—"}
    for b, expected in own.items():
        got = context[admin_ids[b]]
        assert {key: got[key] for key in expected} == expected
        assert got["winner"] == str(ctx.vendors[P])
        assert got["reasons"] == "Best combined score under the weights."
        assert got["standstill_ends"] == ends.isoformat()
        others = numbers - set(expected.values()) - {"1", "2"}
        assert not [n for n in others if n in json.dumps(got)], (b, got)
    assert context[admin_ids[R]]["disqualification"] == "Not responsive: The bank guarantee is missing."

    # Who was told what is itself in the audit log, in the tender's scope (and so in the contract's trail).
    told = set(Notification.objects.filter(tender=tender).values_list("kind", flat=True))
    assert notified_kinds_since(tender, 0) == told
    logged = [
        pk
        for event in AuditEvent.objects.filter(tender_id=tender.pk, action="notification.sent")
        if event.payload["kind"] == "award.result"
        for pk in event.payload["notifications"]
    ]
    assert sorted(logged) == sorted(n.pk for n in results)


# Complaints ----------------------------------------------------------------------------------------


def test_upheld_complaint_sends_tender_back_to_evaluation_then_award_is_final():
    ctx = quality_cost_scenario(through="recommended")
    tender = ctx.tender
    approver, first = approve(ctx)
    ends = first.standstill_ends_at
    reviewer = approver_for(tender)
    mark = last_sequence()

    with at(tender, days=2):
        complaint = ev.complaint_file(
            actor=ctx.admins[Q], tender=tender, grounds="Member D's score of 55 on P's approach was ignored."
        )
    assert complaint.status == ComplaintStatus.SUBMITTED and complaint.bid_id == ctx.bids[Q].pk
    assert complaint.recommendation_id == first.pk
    complaint_events = audit_events("complaint.filed", tender_id=tender.pk)
    assert complaint_events[0].actor == ctx.admins[Q]
    assert recipients(tender, "complaint.filed") >= {approver.pk, reviewer.pk}

    # A committee member cannot review it (refused and recorded).
    with at(tender, days=3), pytest.raises(ActionRefused, match="committee"):
        ev.complaint_review_start(actor=ctx.members[B], complaint=complaint)
    assert audit_events("complaint.decision_refused", tender_id=tender.pk)
    assert status_of(complaint) == ComplaintStatus.SUBMITTED

    with at(tender, days=3):
        ev.complaint_review_start(actor=reviewer, complaint=complaint)
        with pytest.raises(ValidationError):
            ev.complaint_decide(actor=reviewer, complaint=complaint, upheld=True, decision="  ")
        assert status_of(complaint) == ComplaintStatus.UNDER_REVIEW
        ev.complaint_decide(
            actor=reviewer, complaint=complaint, upheld=True, decision="The consensus was not reasoned enough."
        )
    assert status_of(complaint) == ComplaintStatus.UPHELD
    assert status_of(first) == RecommendationStatus.OVERTURNED
    assert status_of(tender) == TenderStatus.EVALUATION
    # The old standstill's end changes nothing now.
    assert tender_services.advance_deadlines(now=ends + datetime.timedelta(seconds=1)) == []
    assert status_of(tender) == TenderStatus.EVALUATION
    upheld_to = recipients(tender, "complaint.upheld")
    assert upheld_to == {a.pk for a in ctx.admins} | {m.pk for m in ctx.members}

    # The committee evaluates again: every bid is open to it once more, and every member submits again.
    assert {status_of(b) for b in ctx.bids} == {BidStatus.OPENED}
    assert all(ev.member_of(m, tender).scores_submitted_at is None for m in ctx.members)
    with at(tender, days=4), pytest.raises(ActionRefused, match="technical evaluation"):
        ev.recommend(actor=ctx.chair, tender=tender, reasons="Too early.")
    with at(tender, days=4):
        # Member D's score now counts: the consensus on P's approach is lowered (the outcome can change).
        for member in ctx.members:
            ev.scores_submit(actor=member, tender=tender)
        ev.consensus_record(
            actor=ctx.chair,
            bid=ctx.bids[P],
            criterion=ctx.criteria[0],
            score="80",
            reason="Re-examined after the complaint: member D's staffing concern is reflected.",
        )
        ev.technical_conclude(actor=ctx.chair, tender=tender)
        second = ev.recommend(
            actor=ctx.chair, tender=tender, reasons="Re-examined after the complaint; Q now ranks first."
        )
    assert second.pk != first.pk and second.status == RecommendationStatus.PENDING
    _approver, second = approve(ctx, approver, hours=24 * 5)
    assert status_of(tender) == TenderStatus.STANDSTILL
    assert tender_services.advance_deadlines(now=second.standstill_ends_at) == [tender.reference]
    assert status_of(tender) == TenderStatus.AWARDED
    assert status_of(second) == RecommendationStatus.FINAL
    assert status_of(first) == RecommendationStatus.OVERTURNED
    # The upheld complaint changed the outcome: the complainant Q wins.
    assert first.bid_id == ctx.bids[P].pk and second.bid_id == ctx.bids[Q].pk
    assert status_of(ctx.bids[Q]) == BidStatus.AWARDED and status_of(ctx.bids[P]) == BidStatus.NOT_AWARDED

    assert actions_since(tender, mark) == [
        "complaint.filed",
        "complaint.decision_refused",
        "complaint.review_started",
        "complaint.upheld",
        "tender.evaluation_reopened",
        "evaluation.scores_submitted",
        "evaluation.scores_submitted",
        "evaluation.scores_submitted",
        "evaluation.scores_submitted",
        "evaluation.consensus_recorded",
        "evaluation.technical_concluded",
        "tender.award_recommended",
        "tender.award_approved",
        "tender.awarded",
    ]
    reopened = audit_events("tender.evaluation_reopened", tender_id=tender.pk)[0]
    assert reopened.payload == {
        "from": "standstill",
        "to": "evaluation",
        "complaint_id": complaint.pk,
        "bids_reopened": sorted(b.pk for b in ctx.bids),
    }
    p_result = next(r for r in second.evaluation["results"] if r["bid_id"] == ctx.bids[P].pk)
    assert (
        p_result["technical"]
        != next(r for r in first.evaluation["results"] if r["bid_id"] == ctx.bids[P].pk)["technical"]
    )
    # Each bidder was told the result twice (one per approval), always its own.
    assert sorted(n.recipient_id for n in notified(tender, "award.result")) == sorted([a.pk for a in ctx.admins] * 2)


def test_a_bid_qualified_again_after_an_upheld_complaint_has_its_financial_envelope_opened_then():
    ctx = quality_cost_scenario(through="recommended")
    tender = ctx.tender
    approve(ctx)
    reviewer = approver_for(tender)
    with at(tender, days=2):
        complaint = ev.complaint_file(actor=ctx.admins[S], tender=tender, grounds="Our approach deserved 80.")
        ev.complaint_review_start(actor=reviewer, complaint=complaint)
        ev.complaint_decide(actor=reviewer, complaint=complaint, upheld=True, decision="S was under-scored.")
    assert envelope(ctx.bids[S]).state == EnvelopeState.SEALED  # S was disqualified: its price never opened
    with at(tender, days=3):
        score(ctx, {m: {S: (80, 80)} for m in (A, B, C, D)})
        ev.technical_conclude(actor=ctx.chair, tender=tender)
        assert status_of(ctx.bids[S]) == BidStatus.QUALIFIED
        with pytest.raises(ActionRefused, match="financial envelopes"):
            ev.recommend(actor=ctx.chair, tender=tender, reasons="Too early.")
    # A second financial ceremony opens only S's envelope (nothing is opened twice).
    opening = open_financial(ctx, hours=24 * 4)
    assert [entry["bid_id"] for entry in opening.record["bids"]] == [ctx.bids[S].pk]
    assert envelope(ctx.bids[S]).state == EnvelopeState.OPENED
    with at(tender, days=5):
        again = ev.recommend(actor=ctx.chair, tender=tender, reasons="Re-evaluated after the complaint.")
    assert again.status == RecommendationStatus.PENDING
    with at(tender, days=5), pytest.raises(ActionRefused, match="nothing to open"):
        opening_services.opening_confirm(actor=ctx.opening[0], tender=tender, password=PASSWORD)


def test_dismissed_complaint_blocks_finalisation_until_decided_then_award_is_final():
    ctx = quality_cost_scenario(through="recommended")
    tender = ctx.tender
    approver, recommendation = approve(ctx)
    ends = recommendation.standstill_ends_at
    with at(tender, days=1):
        complaint = ev.complaint_file(actor=ctx.admins[S], tender=tender, grounds="Our approach deserved 70.")
        with pytest.raises(ActionRefused, match="still being decided"):
            ev.complaint_file(actor=ctx.admins[S], tender=tender, grounds="Again.")
    assert Complaint.objects.filter(tender=tender).count() == 1

    # Pending (submitted, then under review): the end of the standstill does not make the award final.
    assert tender_services.advance_deadlines(now=ends) == []
    assert status_of(tender) == TenderStatus.STANDSTILL
    with at(tender, days=12):
        ev.complaint_review_start(actor=approver, complaint=complaint)
    assert tender_services.advance_deadlines(now=ends + datetime.timedelta(days=2)) == []
    assert status_of(tender) == TenderStatus.STANDSTILL

    with at(tender, days=13):
        ev.complaint_decide(
            actor=approver, complaint=complaint, upheld=False, decision="The scores were justified in writing."
        )
    assert status_of(complaint) == ComplaintStatus.DISMISSED
    assert status_of(recommendation) == RecommendationStatus.APPROVED
    assert recipients(tender, "complaint.dismissed") == {ctx.admins[S].pk}
    assert tender_services.advance_deadlines(now=ends + datetime.timedelta(days=3)) == [tender.reference]
    assert status_of(tender) == TenderStatus.AWARDED
    assert status_of(recommendation) == RecommendationStatus.FINAL
    assert [
        e.action
        for e in AuditEvent.objects.filter(tender_id=tender.pk).exclude(action="notification.sent").order_by("sequence")
    ][-4:] == [
        "complaint.filed",
        "complaint.review_started",
        "complaint.dismissed",
        "tender.awarded",
    ]


# Visibility ----------------------------------------------------------------------------------------


def test_nobody_sees_scores_until_every_member_has_submitted():
    ctx = evaluation_ready(prices=PRICES[:2], committee=3)
    tender, officer = ctx.tender, ctx.officer
    auditor = UserFactory(roles=[Role.AUDITOR])
    with at(tender, hours=1):
        declare(ctx)
        comply(ctx)
        sheets = uniform_sheets(ctx, {0: (80, 80), 1: (75, 75)})
        score(ctx, {A: sheets[A], B: sheets[B]})  # A and B submit, C has not
        score(ctx, {C: sheets[C]}, submit=False)
    for user in [*ctx.members, officer, auditor]:
        assert ev.may_see_scores(user, tender) is False
    assert not ev.all_scores_in(tender)
    with at(tender, hours=1), pytest.raises(ActionRefused, match="every member"):
        ev.consensus_record(actor=ctx.chair, bid=ctx.bids[0], criterion=ctx.criteria[0], score="80", reason="x")
    with at(tender, hours=2):
        ev.scores_submit(actor=ctx.members[C], tender=tender)
    for user in [*ctx.members, officer, auditor]:
        assert ev.may_see_scores(user, tender) is True
    outsider = evaluation_member()
    assert ev.may_see_scores(outsider, tender) is False
    assert ev.may_see_scores(ctx.admins[0], tender) is False


def test_recused_member_cannot_see_or_score_the_bid():
    ctx = evaluation_ready(prices=PRICES[:2], committee=4, quorum=3)
    tender = ctx.tender
    recused, bid = ctx.members[D], ctx.bids[0]
    with at(tender, hours=1):
        declare(ctx, conflicts={(D, 0)})
        comply(ctx)
    assert ev.may_see_bid(recused, bid) is False
    assert recused.has_perm("procurement.read_bid_content", bid) is False
    assert ev.may_see_bid(recused, ctx.bids[1]) is True
    assert recused.has_perm("procurement.read_bid_content", ctx.bids[1]) is True
    assert ev.may_see_bid(ctx.members[B], bid) is True
    with at(tender, hours=1), pytest.raises(PermissionDenied):
        ev.score_save(actor=recused, bid=bid, criterion=ctx.criteria[0], score="70", justification="Fine.")
    assert not TechnicalScore.objects.filter(bid=bid).exists()
    # The recused member's sheet is complete without that bid.
    with at(tender, hours=1):
        score(ctx, {D: {1: (80, 80)}})
    assert ev.sheet_problems(ev.member_of(recused, tender)) == []


def test_recused_member_who_is_an_officer_cannot_read_the_bid_either():
    ctx = evaluation_ready(prices=PRICES[:2], committee=3, quorum=3)
    tender = ctx.tender
    staff = UserFactory(agency=tender.agency, roles=[Role.PROCUREMENT_OFFICER], preferred_language="en")
    with at(tender, hours=1):
        ev.evaluation_member_add(actor=ctx.officer, tender=tender, user=staff)
        ev.declaration_make(actor=staff, bid=ctx.bids[0], has_conflict=True, statement=RECUSAL)
    assert ev.may_see_bid(staff, ctx.bids[0]) is False
    assert staff.has_perm("procurement.read_bid_content", ctx.bids[0]) is False


def test_an_officer_or_opening_member_on_the_committee_reads_nothing_before_declaring():
    """Whatever else they are (an officer of the agency, a member of the opening committee), an evaluation
    member reads a bid only after declaring no conflict with its bidder."""
    ctx = evaluation_ready(prices=PRICES[:2], committee=3, quorum=3)
    tender = ctx.tender
    staff = UserFactory(agency=tender.agency, roles=[Role.PROCUREMENT_OFFICER], preferred_language="en")
    opener = ctx.opening[2]
    assert staff.has_perm("procurement.read_bid_content", ctx.bids[0]) is True  # before joining the committee
    with at(tender, hours=1):
        ev.evaluation_member_add(actor=ctx.officer, tender=tender, user=staff)
        ev.evaluation_member_add(actor=ctx.officer, tender=tender, user=opener)
    for person in (staff, opener):
        assert person.has_perm("procurement.read_bid_content", ctx.bids[0]) is False
    with at(tender, hours=2):
        ev.declaration_make(actor=staff, bid=ctx.bids[0], has_conflict=False)
    assert staff.has_perm("procurement.read_bid_content", ctx.bids[0]) is True
    assert staff.has_perm("procurement.read_bid_content", ctx.bids[1]) is False


def test_member_who_has_not_declared_cannot_see_or_score():
    ctx = evaluation_ready(prices=PRICES[:2], committee=3)
    tender, member = ctx.tender, ctx.members[B]
    with at(tender, hours=1):
        ev.declaration_make(actor=ctx.chair, bid=ctx.bids[0], has_conflict=False)
        ev.compliance_decide(actor=ctx.chair, bid=ctx.bids[0], responsive=True)
        assert ev.may_see_bid(member, ctx.bids[0]) is False
        assert member.has_perm("procurement.read_bid_content", ctx.bids[0]) is False
        with pytest.raises(ActionRefused, match="Declare whether you have a conflict"):
            ev.score_save(actor=member, bid=ctx.bids[0], criterion=ctx.criteria[0], score="70", justification="Ok.")
        with pytest.raises(ActionRefused, match="Declare your interests"):
            ev.scores_submit(actor=member, tender=tender)
    assert not TechnicalScore.objects.exists()
    assert ev.member_of(member, tender).scores_submitted_at is None
    # Someone outside the committee cannot declare or score at all.
    outsider = evaluation_member()
    with at(tender, hours=1), pytest.raises(PermissionDenied):
        ev.declaration_make(actor=outsider, bid=ctx.bids[0], has_conflict=False)


# Bad input: a clear message, nothing half-saved -------------------------------------------------


@pytest.fixture
def scoring_ctx():
    """Two bids (the second not responsive), three members who declared no conflict."""
    ctx = evaluation_ready(prices=PRICES[:2], committee=3)
    with at(ctx.tender, hours=1):
        declare(ctx)
        comply(ctx, not_responsive={1: "No signed declaration."})
    return ctx


@pytest.mark.parametrize(
    ("value", "justification", "error", "message"),
    [
        ("100.01", "Good.", ValidationError, "from 0 to 100"),
        ("-1", "Good.", ValidationError, "from 0 to 100"),
        ("101", "Good.", ValidationError, "from 0 to 100"),
        ("70.125", "Good.", ValidationError, "two decimal places"),
        ("seventy", "Good.", ValidationError, "from 0 to 100"),
        ("NaN", "Good.", ValidationError, "from 0 to 100"),
        ("70", "   ", ValidationError, "Justify"),
        ("70", "", ValidationError, "Justify"),
    ],
)
def test_bad_scores_are_refused_and_nothing_saved(scoring_ctx, value, justification, error, message):
    ctx = scoring_ctx
    with at(ctx.tender, hours=1), pytest.raises(error, match=message):
        ev.score_save(
            actor=ctx.members[B], bid=ctx.bids[0], criterion=ctx.criteria[0], score=value, justification=justification
        )
    assert not TechnicalScore.objects.exists()


def test_edge_scores_are_accepted(scoring_ctx):
    ctx = scoring_ctx
    with at(ctx.tender, hours=1):
        for value in ("0", "100", "99.99", "0.5"):
            saved = ev.score_save(
                actor=ctx.members[B], bid=ctx.bids[0], criterion=ctx.criteria[0], score=value, justification="Ok."
            )
            saved.refresh_from_db()
            assert saved.score == Decimal(value)
    assert TechnicalScore.objects.count() == 1  # the member may revise until they submit


def test_scoring_a_non_responsive_bid_is_refused(scoring_ctx):
    ctx = scoring_ctx
    with at(ctx.tender, hours=1), pytest.raises(ActionRefused, match="responsive"):
        ev.score_save(actor=ctx.chair, bid=ctx.bids[1], criterion=ctx.criteria[0], score="80", justification="Ok.")
    assert not TechnicalScore.objects.exists()


def test_scores_cannot_change_after_submitting(scoring_ctx):
    ctx = scoring_ctx
    with at(ctx.tender, hours=1):
        score(ctx, {B: {0: (80, 70)}})
        with pytest.raises(ActionRefused, match="submitted your scores"):
            ev.score_save(
                actor=ctx.members[B], bid=ctx.bids[0], criterion=ctx.criteria[0], score="10", justification="Changed."
            )
        with pytest.raises(ActionRefused, match="already submitted"):
            ev.scores_submit(actor=ctx.members[B], tender=ctx.tender)
    assert sorted(TechnicalScore.objects.values_list("score", flat=True)) == [Decimal("70"), Decimal("80")]
    assert len(audit_events("evaluation.scores_submitted", tender_id=ctx.tender.pk)) == 1


def test_incomplete_sheet_cannot_be_submitted(scoring_ctx):
    ctx = scoring_ctx
    with at(ctx.tender, hours=1):
        ev.score_save(actor=ctx.chair, bid=ctx.bids[0], criterion=ctx.criteria[0], score="80", justification="Ok.")
        with pytest.raises(ActionRefused, match="Team experience"):
            ev.scores_submit(actor=ctx.chair, tender=ctx.tender)
    assert ev.member_of(ctx.chair, ctx.tender).scores_submitted_at is None


def test_second_declaration_and_conflict_without_statement_are_refused():
    ctx = evaluation_ready(prices=PRICES[:2], committee=3)
    member, bid = ctx.members[B], ctx.bids[0]
    with at(ctx.tender, hours=1):
        with pytest.raises(ValidationError, match="Describe the conflict"):
            ev.declaration_make(actor=member, bid=bid, has_conflict=True, statement="  ")
        assert not ConflictDeclaration.objects.exists()
        ev.declaration_make(actor=member, bid=bid, has_conflict=False)
        with pytest.raises(ActionRefused, match="already made your declaration"):
            ev.declaration_make(actor=member, bid=bid, has_conflict=True, statement=RECUSAL)
    declaration = ConflictDeclaration.objects.get()
    assert declaration.has_conflict is False
    assert len(audit_events("evaluation.no_conflict_declared", tender_id=ctx.tender.pk)) == 1
    assert not audit_events("evaluation.conflict_declared", tender_id=ctx.tender.pk)


def test_compliance_is_the_chairs_and_needs_a_reason():
    ctx = evaluation_ready(prices=PRICES[:2], committee=3)
    with at(ctx.tender, hours=1):
        declare(ctx)
        with pytest.raises(ActionRefused, match="chair"):
            ev.compliance_decide(actor=ctx.members[B], bid=ctx.bids[0], responsive=True)
        with pytest.raises(ValidationError, match="not responsive"):
            ev.compliance_decide(actor=ctx.chair, bid=ctx.bids[0], responsive=False, reason="")
    assert not ComplianceDecision.objects.exists()


def test_committee_below_quorum_or_without_chair_cannot_start():
    ctx = evaluation_ready(prices=PRICES[:2], committee=2, quorum=3, start=False)
    tender = ctx.tender
    with at(tender, hours=1), pytest.raises(ActionRefused, match="quorum is 3"):
        ev.evaluation_start(actor=ctx.officer, tender=tender)
    assert status_of(tender) == TenderStatus.OPENED
    assert not audit_events("tender.evaluation_started", tender_id=tender.pk)
    with at(tender, hours=1):
        ev.evaluation_member_add(actor=ctx.officer, tender=tender, user=evaluation_member())
        ev.evaluation_start(actor=ctx.officer, tender=tender)
    assert status_of(tender) == TenderStatus.EVALUATION

    unchaired = evaluation_ready(prices=PRICES[:1], committee=0, quorum=2, start=False)
    with at(unchaired.tender, hours=1):
        for _ in range(2):
            ev.evaluation_member_add(actor=unchaired.officer, tender=unchaired.tender, user=evaluation_member())
        with pytest.raises(ActionRefused, match="chair"):
            ev.evaluation_start(actor=unchaired.officer, tender=unchaired.tender)
    assert status_of(unchaired.tender) == TenderStatus.OPENED


def test_committee_cannot_be_staffed_by_vendors_nor_started_by_a_member():
    ctx = evaluation_ready(prices=PRICES[:1], committee=3, start=False)
    with at(ctx.tender, hours=1):
        with pytest.raises(ValidationError, match="Vendor users"):
            ev.evaluation_member_add(actor=ctx.officer, tender=ctx.tender, user=ctx.admins[0])
        with pytest.raises(ValidationError, match="already has a chair"):
            ev.evaluation_member_add(actor=ctx.officer, tender=ctx.tender, user=evaluation_member(), is_chair=True)
        with pytest.raises(PermissionDenied):
            ev.evaluation_start(actor=ctx.chair, tender=ctx.tender)
    assert len(ev.members(ctx.tender)) == 3


def test_per_bid_quorum_after_recusals():
    """With a committee of 3 and quorum 3, one recusal leaves the bid without a quorum: it cannot conclude."""
    ctx = evaluation_ready(prices=PRICES[:2], committee=3, quorum=3)
    with at(ctx.tender, hours=1):
        declare(ctx, conflicts={(C, 1)})
        comply(ctx)
        score(ctx, {A: {0: (80, 80), 1: (80, 80)}, B: {0: (80, 80), 1: (80, 80)}, C: {0: (80, 80)}})
        with pytest.raises(ActionRefused, match="Only 2 members without a conflict"):
            ev.technical_conclude(actor=ctx.chair, tender=ctx.tender)
    assert {status_of(b) for b in ctx.bids} == {BidStatus.OPENED}
    assert not audit_events("evaluation.technical_concluded", tender_id=ctx.tender.pk)


def test_financial_opening_waits_for_the_technical_conclusion_and_skips_disqualified_bids():
    ctx = evaluation_ready(prices=PRICES[:3], committee=3)
    tender = ctx.tender
    with at(tender, hours=1):
        declare(ctx)
        comply(ctx, not_responsive={2: "Unsigned."})
        score(ctx, uniform_sheets(ctx, {0: (80, 80), 1: (40, 40)}))
    with at(tender, hours=2), pytest.raises(ActionRefused, match="after the technical evaluation is concluded"):
        opening_services.opening_confirm(actor=ctx.opening[0], tender=tender, password=PASSWORD)
    assert not BidOpening.objects.filter(tender=tender, stage="financial").exists()
    assert all(envelope(bid).state == EnvelopeState.SEALED for bid in ctx.bids)
    with at(tender, hours=2):
        ev.technical_conclude(actor=ctx.chair, tender=tender)
    open_financial(ctx)
    assert envelope(ctx.bids[0]).state == EnvelopeState.OPENED
    for loser in ctx.bids[1:]:
        assert status_of(loser) == BidStatus.DISQUALIFIED
        sealed = envelope(loser)
        assert sealed.state == EnvelopeState.SEALED and sealed.content is None and sealed.opened_at is None
    with pytest.raises(ActionRefused, match="already been opened"):
        open_financial(ctx, hours=4)


def test_recommendation_needs_reasons_and_reviews_of_abnormally_low_prices():
    ctx = quality_cost_scenario(through="financial")
    tender = ctx.tender
    with at(tender, hours=4):
        with pytest.raises(ValidationError, match="reasons"):
            ev.recommend(actor=ctx.chair, tender=tender, reasons="   ")
        with pytest.raises(ActionRefused, match="abnormally low"):
            ev.recommend(actor=ctx.chair, tender=tender, reasons="Best.")
        with pytest.raises(ActionRefused, match="not flagged"):
            ev.price_review(actor=ctx.chair, bid=ctx.bids[P], decision="justified", reason="Fine.")
        with pytest.raises(ValidationError):
            ev.price_review(actor=ctx.chair, bid=ctx.bids[Q], decision="maybe", reason="Fine.")
        with pytest.raises(ActionRefused, match="chair"):
            ev.recommend(actor=ctx.members[B], tender=tender, reasons="Best.")
    assert not Recommendation.objects.exists() and not PriceReview.objects.exists()
    assert status_of(tender) == TenderStatus.EVALUATION


def test_recommendation_before_the_technical_conclusion_or_financial_opening_is_refused():
    ctx = evaluation_ready(prices=PRICES[:2], committee=3)
    tender = ctx.tender
    with at(tender, hours=1):
        declare(ctx)
        comply(ctx)
        score(ctx, uniform_sheets(ctx, {0: (80, 80), 1: (75, 75)}))
        with pytest.raises(ActionRefused, match="Conclude the technical evaluation first"):
            ev.recommend(actor=ctx.chair, tender=tender, reasons="Best.")
        ev.technical_conclude(actor=ctx.chair, tender=tender)
        with pytest.raises(ActionRefused, match="financial envelopes"):
            ev.recommend(actor=ctx.chair, tender=tender, reasons="Best.")
    assert not Recommendation.objects.exists()


def test_price_rejected_by_the_committee_excludes_the_bid_from_the_ranking():
    ctx = quality_cost_scenario(through="financial")
    with at(ctx.tender, hours=4):
        ev.price_review(actor=ctx.chair, bid=ctx.bids[Q], decision="rejected", reason="Below cost; no evidence.")
        recommendation = ev.recommend(actor=ctx.chair, tender=ctx.tender, reasons="Only P remains.")
    by_bid = {r["bid_id"]: r for r in recommendation.evaluation["results"]}
    assert recommendation.bid_id == ctx.bids[P].pk
    assert by_bid[ctx.bids[P].pk]["financial"] == "100.00"  # Q's rejected price is not the lowest
    assert by_bid[ctx.bids[Q].pk]["rank"] is None and "price_rejected" in by_bid[ctx.bids[Q].pk]["reasons"]


# Four eyes on the award ----------------------------------------------------------------------------


def test_approval_by_a_committee_member_is_refused_and_recorded():
    ctx = quality_cost_scenario(through="recommended")
    tender = ctx.tender
    # A member of the committee who is also an approver of the agency.
    dual = UserFactory(agency=tender.agency, roles=[Role.COMMITTEE_MEMBER, Role.APPROVER], preferred_language="en")
    EvaluationMember.objects.create(tender=tender, user=dual, appointed_by=ctx.officer)
    for actor in (dual, ctx.chair):  # the chair also made the recommendation
        with at(tender, hours=6), pytest.raises(ActionRefused, match="sat on the evaluation committee"):
            ev.award_approve(actor=actor, tender=tender)
    refusals = audit_events("award.approval_refused", tender_id=tender.pk)
    assert [(e.actor, e.payload) for e in refusals] == [
        (dual, {"reason": "four eyes"}),
        (ctx.chair, {"reason": "four eyes"}),
    ]
    assert status_of(tender) == TenderStatus.AWARD_PENDING
    assert Recommendation.objects.get().status == RecommendationStatus.PENDING
    assert not notified(tender, "award.result")


def test_approval_by_someone_without_the_right_and_a_second_approval_are_refused():
    ctx = quality_cost_scenario(through="recommended")
    tender = ctx.tender
    officer = UserFactory(agency=tender.agency, roles=[Role.PROCUREMENT_OFFICER])
    with at(tender, hours=6), pytest.raises(PermissionDenied):
        ev.award_approve(actor=officer, tender=tender)
    approver, recommendation = approve(ctx)
    with at(tender, hours=7), pytest.raises(ActionRefused, match="no recommendation awaiting"):
        ev.award_approve(actor=approver_for(tender), tender=tender)
    assert status_of(recommendation) == RecommendationStatus.APPROVED
    assert recommendation.decided_by == approver
    assert len(audit_events("tender.award_approved", tender_id=tender.pk)) == 1
    assert len(notified(tender, "award.result")) == len(ctx.admins)


def test_returned_recommendation_goes_back_to_the_committee():
    ctx = quality_cost_scenario(through="recommended")
    tender = ctx.tender
    approver = approver_for(tender)
    with at(tender, hours=6):
        with pytest.raises(ValidationError):
            ev.award_return(actor=approver, tender=tender, comments="")
        returned = ev.award_return(actor=approver, tender=tender, comments="Explain Q's price review.")
    assert returned.status == RecommendationStatus.RETURNED
    assert status_of(tender) == TenderStatus.EVALUATION
    assert recipients(tender, "award.returned") == {m.pk for m in ctx.members}
    with at(tender, hours=7):
        again = ev.recommend(actor=ctx.chair, tender=tender, reasons="Q's price review is in the file.")
    assert again.status == RecommendationStatus.PENDING


def test_complaint_after_the_standstill_is_refused_and_recorded():
    ctx = quality_cost_scenario(through="recommended")
    tender = ctx.tender
    _approver, recommendation = approve(ctx)
    with clock(recommendation.standstill_ends_at), pytest.raises(ActionRefused, match="only during the standstill"):
        ev.complaint_file(actor=ctx.admins[Q], tender=tender, grounds="Too late, but still.")
    assert not Complaint.objects.exists()
    refused = audit_events("complaint.refused", tender_id=tender.pk)
    assert [(e.actor, e.payload) for e in refused] == [(ctx.admins[Q], {"reason": "outside the standstill"})]


def test_complaint_after_the_standstill_is_refused_with_a_clear_message():
    """The refusal itself, with its message."""
    ctx = quality_cost_scenario(through="recommended")
    tender = ctx.tender
    _approver, recommendation = approve(ctx)
    with clock(recommendation.standstill_ends_at), pytest.raises(ActionRefused) as refused:
        ev.complaint_file(actor=ctx.admins[Q], tender=tender, grounds="Too late, but still.")
    assert str(refused.value) == "Complaints are accepted only during the standstill period."
    assert not Complaint.objects.exists()
    assert status_of(tender) == TenderStatus.STANDSTILL


def test_complaint_before_the_standstill_or_from_a_non_bidder_is_refused():
    ctx = quality_cost_scenario(through="recommended")
    tender = ctx.tender
    with at(tender, hours=6), pytest.raises(ActionRefused, match="only during the standstill"):
        ev.complaint_file(actor=ctx.admins[Q], tender=tender, grounds="Early.")
    approve(ctx)
    _vendor, stranger = bidder()
    for outsider in (stranger, ctx.officer, ctx.members[B], UserFactory(roles=[Role.AUDITOR])):
        with at(tender, days=1), pytest.raises(PermissionDenied):
            ev.complaint_file(actor=outsider, tender=tender, grounds="We did not bid but object.")
    with at(tender, days=1), pytest.raises(ValidationError, match="grounds"):
        ev.complaint_file(actor=ctx.admins[Q], tender=tender, grounds="  ")
    assert not Complaint.objects.exists()
    assert not notified(tender, "complaint.filed")


# Other methods --------------------------------------------------------------------------------------


def test_lowest_price_tender_opens_both_envelopes_at_once_and_awards_the_lowest_price():
    ctx = evaluation_ready(
        prices=("1000.00", "950.00", "1100.00"), committee=3, evaluation_method=EvaluationMethod.LOWEST_PRICE
    )
    tender = ctx.tender
    opening = BidOpening.objects.get(tender=tender)
    assert opening.stage == "both"
    assert all(envelope(bid).content["total_price"] for bid in ctx.bids)  # prices opened with the technical part
    with at(tender, hours=1):
        declare(ctx)
        comply(ctx)
        score(ctx, uniform_sheets(ctx, {0: (80, 80), 1: (75, 75), 2: (90, 90)}))
        ev.technical_conclude(actor=ctx.chair, tender=tender)
    with pytest.raises(ActionRefused, match="already been opened"):
        open_financial(ctx)
    with at(tender, hours=4):
        recommendation = ev.recommend(actor=ctx.chair, tender=tender, reasons="Lowest evaluated price.")
    assert recommendation.bid_id == ctx.bids[1].pk
    ranks = {r["bid_id"]: r["rank"] for r in recommendation.evaluation["results"]}
    assert ranks == {ctx.bids[1].pk: 1, ctx.bids[0].pk: 2, ctx.bids[2].pk: 3}
    _approver, recommendation = approve(ctx)
    assert tender_services.advance_deadlines(now=recommendation.standstill_ends_at) == [tender.reference]
    assert [status_of(b) for b in ctx.bids] == [BidStatus.NOT_AWARDED, BidStatus.AWARDED, BidStatus.NOT_AWARDED]
    assert status_of(tender) == TenderStatus.AWARDED


def test_fixed_budget_tender_awards_the_best_technical_score_within_the_budget():
    ctx = evaluation_ready(
        prices=("1200.00", "950.00", "900.00"),
        committee=3,
        evaluation_method=EvaluationMethod.FIXED_BUDGET,
        estimated_value=Decimal("1000.00"),
    )
    tender = ctx.tender
    with at(tender, hours=1):
        declare(ctx)
        comply(ctx)
        score(ctx, uniform_sheets(ctx, {0: (95, 95), 1: (85, 80), 2: (75, 75)}))
        ev.technical_conclude(actor=ctx.chair, tender=tender)
    open_financial(ctx)
    with at(tender, hours=4):
        recommendation = ev.recommend(actor=ctx.chair, tender=tender, reasons="Best technical offer within budget.")
    by_bid = {r["bid_id"]: r for r in recommendation.evaluation["results"]}
    assert recommendation.bid_id == ctx.bids[1].pk  # the best (95) is over the budget
    assert by_bid[ctx.bids[0].pk]["rank"] is None and "over_budget" in by_bid[ctx.bids[0].pk]["reasons"]
    assert (by_bid[ctx.bids[1].pk]["technical"], by_bid[ctx.bids[1].pk]["rank"]) == ("83.00", 1)
    assert by_bid[ctx.bids[2].pk]["rank"] == 2
    _approver, recommendation = approve(ctx)
    assert tender_services.advance_deadlines(now=recommendation.standstill_ends_at) == [tender.reference]
    assert status_of(tender) == TenderStatus.AWARDED
    assert [status_of(b) for b in ctx.bids] == [BidStatus.NOT_AWARDED, BidStatus.AWARDED, BidStatus.NOT_AWARDED]


# Unsuccessful ----------------------------------------------------------------------------------------


def test_no_bid_qualifies_then_the_tender_is_declared_unsuccessful():
    ctx = evaluation_ready(prices=PRICES[:2], committee=3)
    tender = ctx.tender
    with at(tender, hours=1):
        declare(ctx)
        comply(ctx, not_responsive={1: "No bid security."})
        score(ctx, uniform_sheets(ctx, {0: (60, 60)}))
        ev.technical_conclude(actor=ctx.chair, tender=tender)
    assert {status_of(b) for b in ctx.bids} == {BidStatus.DISQUALIFIED}
    assert recipients(tender, "evaluation.none_qualified") == {u.pk for u in tender_services.tender_officers(tender)}
    with pytest.raises(ActionRefused, match="No bid qualified technically"):
        open_financial(ctx)
    with at(tender, hours=4), pytest.raises(ActionRefused) as refused:
        ev.recommend(actor=ctx.chair, tender=tender, reasons="Nothing to recommend.")
    assert str(refused.value) == "No bid qualifies: the tender should be declared unsuccessful."
    assert not Recommendation.objects.exists()
    with at(tender, hours=5):
        tender_services.tender_mark_unsuccessful(
            actor=ctx.officer, tender=tender, reason="No bid reached the technical pass mark."
        )
    tender.refresh_from_db()
    assert tender.status == TenderStatus.UNSUCCESSFUL
    assert tender.unsuccessful_reason == "No bid reached the technical pass mark."
    [event] = audit_events("tender.unsuccessful", tender_id=tender.pk)
    assert event.actor == ctx.officer
    assert event.payload == {
        "from": "evaluation",
        "to": "unsuccessful",
        "reason": "No bid reached the technical pass mark.",
    }
    assert {a.pk for a in ctx.admins} <= recipients(tender, "tender.unsuccessful")
    assert all(envelope(bid).content is None for bid in ctx.bids)  # no price was ever decrypted
