"""Every write of the evaluation and the award: one transaction each, the tender row locked, who and when
checked, the audit log written, people told after the commit.

The order of work (SYSTEM.md, Evaluation and Four eyes):

1. officers appoint the evaluation committee (a chair, at least the tender's quorum) and start the evaluation;
2. each member declares, per bidder, no conflict of interest or a conflict (recused) before seeing its bid;
3. the chair records administrative compliance per bid;
4. each member scores each responsive bid on each criterion alone and submits their sheet; nobody sees another
   member's scores until every member has submitted;
5. the chair records consensus scores (required where members differ by more than the allowed spread, or for
   every criterion when the tender's rule says so) and concludes the technical evaluation: bids under the pass
   mark are disqualified with the reason;
6. two members of the opening committee open the financial envelopes of the qualified bids
   (``opening_services.opening_confirm``; lowest-price tenders opened both at once);
7. the chair reviews abnormally low prices and recommends the first-ranked bid (``procurement/scoring.py``),
   but only if at least the tender's minimum number of bids still qualify; otherwise the tender's officers are
   told (when the technical evaluation concludes, or a rejected price leaves too few) to declare it unsuccessful;
8. an approver who neither sat on the committee nor recommended approves (standstill) or returns it;
9. during the standstill a bidder may complain; someone outside the committee decides; an upheld complaint
   sends the tender back to evaluation; the scheduler makes the award final when the standstill ends with
   no complaint pending.
"""

from __future__ import annotations

import datetime
import hashlib
import json
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django_fsm import TransitionNotAllowed

from accounts.models import User
from accounts.roles import Role
from audit.services import audit_event_append
from core.exceptions import ActionRefused, require_perm
from notifications.services import notify
from procurement import scoring, tender_services
from procurement.models import (
    Bid,
    BidEnvelope,
    Complaint,
    ComplianceDecision,
    ConflictDeclaration,
    ConsensusScore,
    EvaluationMember,
    PriceReview,
    Recommendation,
    TechnicalScore,
    Tender,
    TenderCriterion,
)
from procurement.models.bids import BidStatus, EnvelopeKind, EnvelopeState
from procurement.models.evaluation import PENDING_COMPLAINT_STATES, ComplaintStatus, RecommendationStatus
from procurement.models.tenders import ConsensusRule, TenderStatus
from procurement.tender_services import _atomic_recording_refusals, _locked, _RecordedRefusal, tender_officers

#: Bids that take part in the evaluation (opened, then qualified or disqualified, finally awarded or not).
EVALUATED_STATES = [
    BidStatus.OPENED,
    BidStatus.QUALIFIED,
    BidStatus.DISQUALIFIED,
    BidStatus.AWARDED,
    BidStatus.NOT_AWARDED,
]


def _now() -> datetime.datetime:
    return tender_services._now()


def _transition(obj, method, message: str, **kwargs) -> tuple[str, str]:
    source = obj.status
    try:
        method(**kwargs)
    except TransitionNotAllowed as error:
        raise ActionRefused(message) from error
    return source, obj.status


def _in_state(tender: Tender, *states: str) -> None:
    if tender.status not in states:
        raise ActionRefused(
            _("The tender is now “%(status)s”: this cannot be done now.") % {"status": tender.get_status_display()}
        )


def _bidder_users(tender: Tender, vendor_ids=None) -> list[User]:
    users = User.objects.filter(vendor_membership__vendor__bids__tender=tender, is_active=True)
    if vendor_ids is not None:
        users = users.filter(vendor_membership__vendor_id__in=vendor_ids)
    return list(users.distinct())


def evaluated_bids(tender: Tender):
    return Bid.objects.filter(tender=tender, status__in=EVALUATED_STATES).select_related("vendor").order_by("id")


# The committee -----------------------------------------------------------------------------------


def members(tender: Tender) -> list[EvaluationMember]:
    return list(EvaluationMember.objects.filter(tender=tender).select_related("user"))


def member_of(user, tender: Tender) -> EvaluationMember | None:
    if user is None or not user.is_authenticated:
        return None
    return EvaluationMember.objects.filter(tender=tender, user=user).first()


def _member(actor, tender: Tender) -> EvaluationMember:
    member = member_of(actor, tender)
    if member is None:
        raise PermissionDenied("procurement.evaluate")
    return member


def _chair(actor, tender: Tender) -> EvaluationMember:
    member = _member(actor, tender)
    if not member.is_chair:
        raise ActionRefused(_("Only the chair of the evaluation committee can do this."))
    return member


def committee_problems(tender: Tender) -> list[str]:
    """What keeps the committee from proceeding (empty when it may)."""
    seats = members(tender)
    problems = []
    if len(seats) < tender.evaluation_quorum:
        problems.append(
            _("The evaluation committee has %(count)s members; its quorum is %(quorum)s.")
            % {"count": len(seats), "quorum": tender.evaluation_quorum}
        )
    if not any(seat.is_chair for seat in seats):
        problems.append(_("Appoint a chair of the evaluation committee."))
    return problems


@transaction.atomic
def evaluation_member_add(*, actor, tender: Tender, user: User, is_chair: bool = False, is_external: bool = False):
    tender = _locked(tender)
    require_perm(actor, "procurement.manage_evaluation_committee", tender)
    _in_state(tender, TenderStatus.CLOSED, TenderStatus.OPENED, TenderStatus.EVALUATION)
    if not user.is_active or user.has_role(Role.VENDOR_USER):
        raise ValidationError({"user": _("Vendor users cannot sit on an evaluation committee.")})
    is_agency_officer = user.has_role(Role.PROCUREMENT_OFFICER) and user.agency_id == tender.agency_id
    if not (user.has_role(Role.COMMITTEE_MEMBER) or is_agency_officer):
        raise ValidationError(
            {"user": _("Only committee members, or procurement officers of this agency, can evaluate its bids.")}
        )
    if EvaluationMember.objects.filter(tender=tender, user=user).exists():
        raise ValidationError({"user": _("%(name)s is already on the evaluation committee.") % {"name": user}})
    if is_chair and EvaluationMember.objects.filter(tender=tender, is_chair=True).exists():
        raise ValidationError({"is_chair": _("The committee already has a chair.")})
    if TechnicalScore.objects.filter(member__tender=tender).exists():
        raise ActionRefused(_("Scoring has begun: the committee can no longer change."))
    member = EvaluationMember.objects.create(
        tender=tender, user=user, is_chair=is_chair, is_external=is_external, appointed_by=actor, appointed_at=_now()
    )
    audit_event_append(
        action="evaluation.member_appointed",
        actor=actor,
        obj=tender,
        payload={"member_id": user.pk, "member": user.email, "chair": is_chair, "external": is_external},
    )
    notify(recipients=[user], kind="evaluation.appointed", tender=tender)
    return member


@transaction.atomic
def evaluation_member_remove(*, actor, tender: Tender, member: EvaluationMember) -> None:
    tender = _locked(tender)
    require_perm(actor, "procurement.manage_evaluation_committee", tender)
    if member.tender_id != tender.pk:
        raise PermissionDenied("procurement.manage_evaluation_committee")
    if member.declarations.exists():
        raise ActionRefused(_("A member who has made declarations stays on the record of the committee."))
    _in_state(tender, TenderStatus.CLOSED, TenderStatus.OPENED, TenderStatus.EVALUATION)
    if tender.status == TenderStatus.EVALUATION and len(members(tender)) - 1 < tender.evaluation_quorum:
        raise ActionRefused(_("Appoint a replacement first: the committee cannot fall below its quorum."))
    user = member.user
    member.delete()
    audit_event_append(
        action="evaluation.member_removed",
        actor=actor,
        obj=tender,
        payload={"member_id": user.pk, "member": user.email},
    )


@transaction.atomic
def evaluation_start(*, actor, tender: Tender) -> Tender:
    tender = _locked(tender)
    require_perm(actor, "procurement.manage_evaluation_committee", tender)
    problems = committee_problems(tender)
    if tender.status == TenderStatus.OPENED and problems:
        raise ActionRefused(" ".join(problems))
    source, target = _transition(tender, tender.start_evaluation, _("The evaluation can start once bids are opened."))
    tender.save(update_fields=["status", "updated_at"])
    audit_event_append(
        action="tender.evaluation_started",
        actor=actor,
        obj=tender,
        payload={"from": source, "to": target, "members": [m.user.email for m in members(tender)]},
    )
    notify(recipients=[m.user for m in members(tender)], kind="evaluation.started", tender=tender)
    return tender


# Declarations and compliance --------------------------------------------------------------------


def declaration_of(member: EvaluationMember, bid: Bid) -> ConflictDeclaration | None:
    return ConflictDeclaration.objects.filter(member=member, bid=bid).first()


def may_see_bid(user, bid: Bid) -> bool:
    """An evaluation member sees a bid only after declaring no conflict of interest for it."""
    member = member_of(user, bid.tender)
    if member is None:
        return False
    declaration = declaration_of(member, bid)
    return declaration is not None and not declaration.has_conflict


@transaction.atomic
def declaration_make(*, actor, bid: Bid, has_conflict: bool, statement: str = "") -> ConflictDeclaration:
    tender = _locked(bid.tender_id)
    member = _member(actor, tender)
    _in_state(tender, TenderStatus.EVALUATION)
    bid = Bid.objects.get(pk=bid.pk, tender=tender)
    if bid.status not in EVALUATED_STATES:
        raise ActionRefused(_("This bid is not under evaluation."))
    statement = (statement or "").strip()
    if has_conflict and not statement:
        raise ValidationError({"statement": _("Describe the conflict of interest.")})
    if declaration_of(member, bid) is not None:
        raise ActionRefused(_("You have already made your declaration for this bidder; it cannot be changed."))
    declaration = ConflictDeclaration.objects.create(
        member=member, bid=bid, has_conflict=has_conflict, statement=statement, declared_at=_now()
    )
    audit_event_append(
        action="evaluation.conflict_declared" if has_conflict else "evaluation.no_conflict_declared",
        actor=actor,
        obj=tender,
        payload={"bid_id": bid.pk, "vendor_id": bid.vendor_id, "conflict": has_conflict, "statement": statement},
    )
    if has_conflict:
        notify(recipients=tender_officers(tender), kind="evaluation.member_recused", tender=tender)
    return declaration


def _seen_by(actor, bid: Bid) -> EvaluationMember:
    member = _member(actor, bid.tender)
    declaration = declaration_of(member, bid)
    if declaration is None:
        raise ActionRefused(_("Declare whether you have a conflict of interest with this bidder first."))
    if declaration.has_conflict:
        raise PermissionDenied("recused")
    return member


@transaction.atomic
def compliance_decide(*, actor, bid: Bid, responsive: bool, reason: str = "") -> ComplianceDecision:
    tender = _locked(bid.tender_id)
    bid = Bid.objects.select_related("tender").get(pk=bid.pk, tender=tender)
    _chair(actor, tender)
    _seen_by(actor, bid)
    _in_state(tender, TenderStatus.EVALUATION)
    if bid.status != BidStatus.OPENED:
        raise ActionRefused(_("The technical evaluation of this bid is concluded."))
    reason = (reason or "").strip()
    if not responsive and not reason:
        raise ValidationError({"reason": _("Say why the bid is not responsive; the bidder is told.")})
    before = ComplianceDecision.objects.filter(bid=bid).values("responsive", "reason").first()
    decision, _created = ComplianceDecision.objects.update_or_create(
        bid=bid, defaults={"responsive": responsive, "reason": reason, "decided_by": actor, "decided_at": _now()}
    )
    audit_event_append(
        action="evaluation.compliance_decided",
        actor=actor,
        obj=tender,
        payload={"bid_id": bid.pk, "before": before, "after": {"responsive": responsive, "reason": reason}},
    )
    return decision


# Scores ------------------------------------------------------------------------------------------


def _score_value(value: Any) -> Decimal:
    try:
        score = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        score = None
    if score is None or not score.is_finite() or score < 0 or score > 100 or score.as_tuple().exponent < -2:
        raise ValidationError({"score": _("A score is from 0 to 100, with at most two decimal places.")})
    return score


@transaction.atomic
def score_save(*, actor, bid: Bid, criterion: TenderCriterion, score: Any, justification: str) -> TechnicalScore:
    tender = _locked(bid.tender_id)
    bid = Bid.objects.select_related("tender").get(pk=bid.pk, tender=tender)
    _in_state(tender, TenderStatus.EVALUATION)
    member = _seen_by(actor, bid)
    if member.scores_submitted_at is not None:
        raise ActionRefused(_("You have submitted your scores; they can no longer change."))
    if criterion.tender_id != tender.pk:
        raise ValidationError({"criterion": _("This criterion is not one of the tender's.")})
    compliance = ComplianceDecision.objects.filter(bid=bid).first()
    if compliance is None or not compliance.responsive or bid.status != BidStatus.OPENED:
        raise ActionRefused(_("Only bids the chair found responsive are scored."))
    value = _score_value(score)
    justification = (justification or "").strip()
    if not justification:
        raise ValidationError({"justification": _("Justify the score in writing.")})
    saved, _created = TechnicalScore.objects.update_or_create(
        member=member,
        bid=bid,
        criterion=criterion,
        defaults={"score": value, "justification": justification, "updated_at": _now()},
    )
    return saved


def sheet_problems(member: EvaluationMember) -> list[str]:
    """What the member still has to do before submitting their scores."""
    tender = member.tender
    criteria = list(tender.criteria.all())
    problems = []
    scored = set(TechnicalScore.objects.filter(member=member).values_list("bid_id", "criterion_id"))
    declared = {d.bid_id: d for d in ConflictDeclaration.objects.filter(member=member)}
    for bid in evaluated_bids(tender):
        if bid.pk not in declared:
            problems.append(_("Declare your interests for %(bidder)s.") % {"bidder": bid.vendor})
            continue
        if declared[bid.pk].has_conflict:
            continue
        compliance = ComplianceDecision.objects.filter(bid=bid).first()
        if compliance is None:
            problems.append(
                _("The chair has not yet decided whether %(bidder)s is responsive.") % {"bidder": bid.vendor}
            )
            continue
        if not compliance.responsive:
            continue
        missing = [c for c in criteria if (bid.pk, c.pk) not in scored]
        if missing:
            problems.append(
                _("Score %(bidder)s on: %(criteria)s.")
                % {"bidder": bid.vendor, "criteria": ", ".join(c.name for c in missing)}
            )
    return problems


@transaction.atomic
def scores_submit(*, actor, tender: Tender) -> EvaluationMember:
    tender = _locked(tender)
    _in_state(tender, TenderStatus.EVALUATION)
    member = _member(actor, tender)
    if member.scores_submitted_at is not None:
        raise ActionRefused(_("You have already submitted your scores."))
    problems = sheet_problems(member)
    if problems:
        raise ActionRefused(" ".join(problems))
    member.scores_submitted_at = _now()
    member.save(update_fields=["scores_submitted_at"])
    sheet = [
        {"bid_id": s.bid_id, "criterion_id": s.criterion_id, "score": f"{s.score:f}", "justification": s.justification}
        for s in TechnicalScore.objects.filter(member=member).order_by("bid_id", "criterion_id")
    ]
    # Only a fingerprint of the sheet now: the scores themselves go to the log with the recommendation, once
    # everyone has submitted, so that nobody reads them early in the log either.
    digest = hashlib.sha256(json.dumps(sheet, sort_keys=True).encode()).hexdigest()
    audit_event_append(
        action="evaluation.scores_submitted",
        actor=actor,
        obj=tender,
        payload={"scores": len(sheet), "sheet_sha256": digest},
    )
    if all_scores_in(tender):
        notify(
            recipients=[m.user for m in members(tender)],
            kind="evaluation.all_scores_in",
            tender=tender,
        )
    return member


def all_scores_in(tender: Tender) -> bool:
    seats = members(tender)
    return bool(seats) and all(seat.scores_submitted_at is not None for seat in seats)


def may_see_scores(user, tender: Tender) -> bool:
    """Members see the others' scores only once everyone has submitted; auditors and the tender's officers
    may read them once they are all in, too."""
    if not all_scores_in(tender):
        return False
    return member_of(user, tender) is not None or user.has_perm("procurement.view_evaluation", tender)


def score_matrix(tender: Tender) -> dict:
    """Per bid and criterion: every member's score, the spread, whether it exceeds the limit, the consensus and
    the agreed score. Call only when ``all_scores_in``."""
    criteria = list(tender.criteria.order_by("order", "pk"))
    scores: dict[tuple[int, int], list[TechnicalScore]] = {}
    for score in TechnicalScore.objects.filter(bid__tender=tender).select_related("member__user"):
        scores.setdefault((score.bid_id, score.criterion_id), []).append(score)
    consensus = {(c.bid_id, c.criterion_id): c for c in ConsensusScore.objects.filter(bid__tender=tender)}
    limit = Decimal(settings.EVALUATION_SCORE_SPREAD)
    rows = []
    for bid in evaluated_bids(tender):
        cells = []
        for criterion in criteria:
            entries = sorted(scores.get((bid.pk, criterion.pk), []), key=lambda s: s.member.user.email)
            values = [s.score for s in entries]
            agreed = consensus.get((bid.pk, criterion.pk))
            cells.append(
                {
                    "criterion": criterion,
                    "scores": entries,
                    "spread": scoring.spread(values),
                    "over_spread": scoring.spread(values) > limit,
                    "consensus": agreed,
                    "agreed": scoring.aggregate_criterion(values, agreed.score if agreed else None) if values else None,
                }
            )
        rows.append({"bid": bid, "cells": cells})
    return {"criteria": criteria, "rows": rows, "spread_limit": limit}


@transaction.atomic
def consensus_record(*, actor, bid: Bid, criterion: TenderCriterion, score: Any, reason: str) -> ConsensusScore:
    tender = _locked(bid.tender_id)
    bid = Bid.objects.select_related("tender").get(pk=bid.pk, tender=tender)
    _in_state(tender, TenderStatus.EVALUATION)
    _chair(actor, tender)
    _seen_by(actor, bid)
    if not all_scores_in(tender):
        raise ActionRefused(_("A consensus is recorded once every member has submitted their scores."))
    if bid.status != BidStatus.OPENED or criterion.tender_id != tender.pk:
        raise ActionRefused(_("The technical evaluation of this bid is concluded."))
    value = _score_value(score)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Record how the committee reached this score.")})
    saved, _created = ConsensusScore.objects.update_or_create(
        bid=bid,
        criterion=criterion,
        defaults={"score": value, "reason": reason, "recorded_by": actor, "recorded_at": _now()},
    )
    audit_event_append(
        action="evaluation.consensus_recorded",
        actor=actor,
        obj=tender,
        payload={"bid_id": bid.pk, "criterion_id": criterion.pk, "score": f"{value:f}", "reason": reason},
    )
    return saved


class _Sheets:
    """Every score and consensus of a tender's bids, read in two queries (so that a page or an export costs
    the same number of queries whatever the number of bids, members and criteria)."""

    def __init__(self, tender: Tender):
        self.scores: dict[tuple[int, int], list[Decimal]] = {}
        for bid_id, criterion_id, score in TechnicalScore.objects.filter(bid__tender=tender).values_list(
            "bid_id", "criterion_id", "score"
        ):
            self.scores.setdefault((bid_id, criterion_id), []).append(score)
        self.consensus = {(c.bid_id, c.criterion_id): c for c in ConsensusScore.objects.filter(bid__tender=tender)}


def _agreed_scores(
    tender: Tender, bid: Bid, criteria, problems: list[str], sheets: _Sheets | None = None
) -> dict[int, Decimal]:
    sheets = sheets or _Sheets(tender)
    limit = Decimal(settings.EVALUATION_SCORE_SPREAD)
    agreed = {}
    for criterion in criteria:
        values = sheets.scores.get((bid.pk, criterion.pk), [])
        consensus = sheets.consensus.get((bid.pk, criterion.pk))
        needs_consensus = tender.consensus_rule == ConsensusRule.CHAIR_CONSENSUS or scoring.spread(values) > limit
        if consensus is None and needs_consensus:
            problems.append(
                _("Record the committee's consensus for %(bidder)s on “%(criterion)s”.")
                % {"bidder": bid.vendor, "criterion": criterion.name}
            )
            continue
        if not values and consensus is None:
            problems.append(_("Nobody scored %(bidder)s.") % {"bidder": bid.vendor})
            continue
        agreed[criterion.pk] = scoring.aggregate_criterion(values, consensus.score if consensus else None)
    return agreed


@transaction.atomic
def technical_conclude(*, actor, tender: Tender) -> list[Bid]:
    """Qualify the responsive bids at or above the pass mark; disqualify the others with the reason."""
    tender = _locked(tender)
    _in_state(tender, TenderStatus.EVALUATION)
    _chair(actor, tender)
    problems = committee_problems(tender)
    criteria = list(tender.criteria.all())
    bids = list(evaluated_bids(tender).filter(status=BidStatus.OPENED))
    if not bids:
        raise ActionRefused(_("There is no bid left to evaluate technically."))
    if not all_scores_in(tender):
        problems.append(_("Every member must submit their scores first."))
    decided = []
    sheets = _Sheets(tender)
    for bid in bids:
        compliance = ComplianceDecision.objects.filter(bid=bid).first()
        if compliance is None:
            problems.append(_("Decide whether %(bidder)s is responsive.") % {"bidder": bid.vendor})
            continue
        if not compliance.responsive:
            decided.append((bid, False, _("Not responsive: %(reason)s") % {"reason": compliance.reason}, None))
            continue
        available = ConflictDeclaration.objects.filter(bid=bid, has_conflict=False).count()
        if available < tender.evaluation_quorum:
            problems.append(
                _("Only %(count)s members without a conflict can evaluate %(bidder)s; the quorum is %(quorum)s.")
                % {"count": available, "bidder": bid.vendor, "quorum": tender.evaluation_quorum}
            )
            continue
        agreed = _agreed_scores(tender, bid, criteria, problems, sheets)
        if criteria and len(agreed) != len(criteria):
            continue
        exact = (
            scoring.technical_score(agreed, [scoring.CriterionRule(id=c.pk, weight=c.weight) for c in criteria])
            if criteria
            else None
        )
        # Compared at full precision (as scoring.evaluate does); rounded half up only to be shown.
        technical = exact.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP) if exact is not None else None
        if exact is not None and exact < tender.pass_mark:
            reason = _("Technical score %(score)s is below the pass mark %(mark)s.") % {
                "score": technical,
                "mark": tender.pass_mark,
            }
            decided.append((bid, False, reason, technical))
        else:
            decided.append((bid, True, "", technical))
    if problems:
        raise ActionRefused(" ".join(str(p) for p in problems))
    results = []
    for bid, qualified, reason, technical in decided:
        if qualified:
            bid.qualify()
        else:
            bid.disqualify(reason=reason)
        bid.save(update_fields=["status", "disqualification_reason"])
        results.append(
            {
                "bid_id": bid.pk,
                "vendor_id": bid.vendor_id,
                "qualified": qualified,
                "technical": f"{technical:f}" if technical is not None else None,
                "reason": reason,
            }
        )
    audit_event_append(action="evaluation.technical_concluded", actor=actor, obj=tender, payload={"bids": results})
    for bid, qualified, reason, technical in decided:
        notify(
            recipients=_bidder_users(tender, [bid.vendor_id]),
            kind="bid.qualified" if qualified else "bid.disqualified",
            tender=tender,
            context={"reason": reason, "score": str(technical) if technical is not None else ""},
        )
    _tell_officers_if_short(tender)
    return [bid for bid, *_rest in decided]


# The tender's minimum number of bids ------------------------------------------------------------


def qualifying_count(tender: Tender) -> int:
    """How many bids can still be awarded: responsive, technically qualified and with a price the committee has
    not rejected as abnormally low."""
    return (
        Bid.objects.filter(tender=tender, status=BidStatus.QUALIFIED)
        .exclude(price_review__decision=PriceReview.Decision.REJECTED)
        .count()
    )


def minimum_bids_problem(tender: Tender) -> str | None:
    """Why no award can be recommended because too few bids qualify (None when enough do)."""
    count = qualifying_count(tender)
    if count >= tender.minimum_bids:
        return None
    if count == 0:
        return _("No bid qualifies: the tender should be declared unsuccessful.")
    return ngettext(
        "Only %(count)s bid qualifies, fewer than the minimum of %(minimum)s this tender requires: the tender "
        "should be declared unsuccessful.",
        "Only %(count)s bids qualify, fewer than the minimum of %(minimum)s this tender requires: the tender "
        "should be declared unsuccessful.",
        count,
    ) % {"count": count, "minimum": tender.minimum_bids}


def _tell_officers_if_short(tender: Tender, *, before: int | None = None) -> None:
    """Tell the tender's officers, once, that too few bids qualify, so that they declare it unsuccessful: when
    the technical evaluation concludes, or when a rejected price leaves fewer bids than the minimum."""
    count = qualifying_count(tender)
    if count >= tender.minimum_bids or (before is not None and before < tender.minimum_bids):
        return
    notify(
        recipients=tender_officers(tender),
        kind="evaluation.none_qualified",
        tender=tender,
        context={"qualified": count, "minimum": tender.minimum_bids},
    )


# Prices, ranking and the recommendation ---------------------------------------------------------


def _price_from(envelope: BidEnvelope | None) -> Decimal | None:
    if envelope is None or not envelope.content:
        return None
    try:
        price = Decimal(str(envelope.content.get("total_price")))
    except (InvalidOperation, TypeError):
        return None
    return price if price.is_finite() and price > 0 else None


def bid_prices(tender: Tender) -> dict[int, Decimal | None]:
    """The price of every evaluated bid whose financial envelope is opened (one query)."""
    envelopes = BidEnvelope.objects.filter(
        bid__tender=tender, kind=EnvelopeKind.FINANCIAL, state=EnvelopeState.OPENED
    ).select_related("version")
    current = dict(evaluated_bids(tender).values_list("pk", "version"))
    return {
        e.bid_id: _price_from(e) for e in envelopes if e.bid_id in current and e.version.number == current[e.bid_id]
    }


def rules_of(tender: Tender) -> scoring.Rules:
    return scoring.Rules(
        method=tender.evaluation_method,
        criteria=[scoring.CriterionRule(id=c.pk, weight=c.weight) for c in tender.criteria.all()],
        pass_mark=tender.pass_mark,
        technical_weight=tender.technical_weight,
        financial_weight=tender.financial_weight,
        budget=tender.estimated_value if tender.evaluation_method == scoring.FIXED_BUDGET else None,
        abnormally_low_percent=Decimal(settings.ABNORMALLY_LOW_PERCENT),
    )


def bid_facts(tender: Tender) -> list[scoring.BidFacts]:
    criteria = list(tender.criteria.all())
    bids = list(evaluated_bids(tender))
    compliance = {c.bid_id: c for c in ComplianceDecision.objects.filter(bid__tender=tender)}
    reviews = {r.bid_id: r for r in PriceReview.objects.filter(bid__tender=tender)}
    prices = bid_prices(tender)
    sheets = _Sheets(tender)
    facts = []
    for bid in bids:
        decision = compliance.get(bid.pk)
        review = reviews.get(bid.pk)
        facts.append(
            scoring.BidFacts(
                bid_id=bid.pk,
                submitted_at=bid.submitted_at,
                responsive=decision is not None and decision.responsive,
                scores=_agreed_scores(tender, bid, criteria, [], sheets)
                if criteria and bid.status != BidStatus.OPENED
                else {},
                price=prices.get(bid.pk),
                price_rejected=review is not None and review.decision == PriceReview.Decision.REJECTED,
            )
        )
    return facts


def evaluation_results(tender: Tender) -> list[scoring.BidResult]:
    return scoring.evaluate(rules_of(tender), bid_facts(tender))


@transaction.atomic
def price_review(*, actor, bid: Bid, decision: str, reason: str) -> PriceReview:
    tender = _locked(bid.tender_id)
    bid = Bid.objects.select_related("tender", "vendor").get(pk=bid.pk, tender=tender)
    _in_state(tender, TenderStatus.EVALUATION)
    _chair(actor, tender)
    _seen_by(actor, bid)
    if decision not in PriceReview.Decision.values:
        raise ValidationError({"decision": _("Choose whether the price is justified or rejected.")})
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Give the reason; the bidder is told.")})
    if evaluated_bids(tender).filter(status=BidStatus.OPENED).exists():
        raise ActionRefused(_("Conclude the technical evaluation first."))
    flagged = {r.bid_id for r in evaluation_results(tender) if r.abnormally_low}
    if bid.pk not in flagged:
        raise ActionRefused(_("This price is not flagged as abnormally low."))
    before = qualifying_count(tender)
    review, _created = PriceReview.objects.update_or_create(
        bid=bid, defaults={"decision": decision, "reason": reason, "decided_by": actor, "decided_at": _now()}
    )
    audit_event_append(
        action="evaluation.price_reviewed",
        actor=actor,
        obj=tender,
        payload={"bid_id": bid.pk, "decision": decision, "reason": reason},
    )
    _tell_officers_if_short(tender, before=before)
    return review


def _snapshot(tender: Tender, results: list[scoring.BidResult]) -> dict:
    bids = {b.pk: b for b in evaluated_bids(tender)}
    prices = bid_prices(tender)
    return {
        "compliance": [
            {"bid_id": c.bid_id, "responsive": c.responsive, "reason": c.reason}
            for c in ComplianceDecision.objects.filter(bid__tender=tender).order_by("bid_id")
        ],
        "scores": [
            {
                "bid_id": t.bid_id,
                "criterion_id": t.criterion_id,
                "member": t.member.user.email,
                "score": f"{t.score:f}",
                "justification": t.justification,
            }
            for t in TechnicalScore.objects.filter(bid__tender=tender)
            .select_related("member__user")
            .order_by("bid_id", "criterion_id", "member__user__email")
        ],
        "consensus": [
            {"bid_id": c.bid_id, "criterion_id": c.criterion_id, "score": f"{c.score:f}", "reason": c.reason}
            for c in ConsensusScore.objects.filter(bid__tender=tender).order_by("bid_id", "criterion_id")
        ],
        "price_reviews": [
            {"bid_id": r.bid_id, "decision": r.decision, "reason": r.reason}
            for r in PriceReview.objects.filter(bid__tender=tender).order_by("bid_id")
        ],
        "method": tender.evaluation_method,
        "tie_break": scoring.TIE_BREAK,
        "members": [
            {"member": m.user.email, "name": str(m.user), "chair": m.is_chair, "external": m.is_external}
            for m in members(tender)
        ],
        "declarations": [
            {"member": d.member.user.email, "bid_id": d.bid_id, "conflict": d.has_conflict, "statement": d.statement}
            for d in ConflictDeclaration.objects.filter(member__tender=tender).select_related("member__user")
        ],
        "results": [
            {
                "bid_id": r.bid_id,
                "bidder": bids[r.bid_id].vendor.legal_name_en if r.bid_id in bids else "",
                "bidder_ar": bids[r.bid_id].vendor.legal_name_ar if r.bid_id in bids else "",
                "technical": f"{r.technical:f}" if r.technical is not None else None,
                "financial": f"{r.financial:f}" if r.financial is not None else None,
                "combined": f"{r.combined:f}" if r.combined is not None else None,
                "price": f"{prices[r.bid_id]:f}" if prices.get(r.bid_id) is not None else None,
                "qualified": r.qualified,
                "abnormally_low": r.abnormally_low,
                "rank": r.rank,
                "reasons": list(r.reasons),
                "disqualification": bids[r.bid_id].disqualification_reason if r.bid_id in bids else "",
            }
            for r in results
        ],
    }


@transaction.atomic
def recommend(*, actor, tender: Tender, reasons: str) -> Recommendation:
    """The chair recommends the first-ranked bid: the tender awaits the award's approval."""
    tender = _locked(tender)
    _in_state(tender, TenderStatus.EVALUATION)
    _chair(actor, tender)
    reasons = (reasons or "").strip()
    if not reasons:
        raise ValidationError({"reasons": _("Give the reasons for the recommendation; every bidder is told them.")})
    if evaluated_bids(tender).filter(status=BidStatus.OPENED).exists():
        raise ActionRefused(_("Conclude the technical evaluation first."))
    too_few = minimum_bids_problem(tender)
    if too_few:
        raise ActionRefused(too_few)
    qualified = list(evaluated_bids(tender).filter(status=BidStatus.QUALIFIED))
    prices = bid_prices(tender)
    if any(prices.get(bid.pk) is None for bid in qualified):
        raise ActionRefused(_("The financial envelopes of the qualified bids must be opened first."))
    results = evaluation_results(tender)
    unreviewed = [r for r in results if r.abnormally_low and not PriceReview.objects.filter(bid_id=r.bid_id).exists()]
    if unreviewed:
        raise ActionRefused(_("Review the abnormally low prices first (justified or rejected, with the reason)."))
    first = next((r for r in results if r.rank == 1), None)
    if first is None:
        raise ActionRefused(_("No bid can be ranked: the tender should be declared unsuccessful."))
    winner = Bid.objects.get(pk=first.bid_id)
    recommendation = Recommendation.objects.create(
        tender=tender,
        bid=winner,
        evaluation=_snapshot(tender, results),
        reasons=reasons,
        recommended_by=actor,
        recommended_at=_now(),
    )
    source, target = _transition(tender, tender.recommend_award, _("The tender is not in evaluation."))
    tender.save(update_fields=["status", "updated_at"])
    audit_event_append(
        action="tender.award_recommended",
        actor=actor,
        obj=tender,
        payload={
            "from": source,
            "to": target,
            "recommendation_id": recommendation.pk,
            "bid_id": winner.pk,
            "vendor_id": winner.vendor_id,
            "reasons": reasons,
            "results": recommendation.evaluation["results"],
            "scores": recommendation.evaluation["scores"],
            "consensus": recommendation.evaluation["consensus"],
        },
    )

    def render() -> None:
        from procurement.tasks import render_evaluation_report

        render_evaluation_report.enqueue(recommendation.pk)

    transaction.on_commit(render, robust=True)
    notify(recipients=tender_services.tender_approvers(tender), kind="award.recommended", tender=tender)
    return recommendation


# The award ---------------------------------------------------------------------------------------


def _live_recommendation(tender: Tender, status: str) -> Recommendation:
    recommendation = (
        Recommendation.objects.select_for_update().filter(tender=tender, status=status).order_by("-id").first()
    )
    if recommendation is None:
        raise ActionRefused(_("There is no recommendation awaiting this step."))
    return recommendation


def _four_eyes(actor, tender: Tender, recommendation: Recommendation, action: str) -> None:
    if member_of(actor, tender) is not None or actor.pk == recommendation.recommended_by_id:
        raise _RecordedRefusal(
            _("You sat on the evaluation committee, so someone else must decide on the award."),
            tender=tender,
            actor=actor,
            action=f"award.{action}_refused",
            payload={"reason": "four eyes"},
        )


@_atomic_recording_refusals
def award_approve(*, actor, tender: Tender) -> Recommendation:
    tender = _locked(tender)
    recommendation = _live_recommendation(tender, RecommendationStatus.PENDING)
    _four_eyes(actor, tender, recommendation, "approval")
    require_perm(actor, "procurement.approve_award", tender)
    now = _now()
    ends = now + datetime.timedelta(days=settings.STANDSTILL_DAYS)
    recommendation.approve(by=actor, now=now, standstill_ends_at=ends)
    recommendation.save(update_fields=["status", "decided_by", "decided_at", "standstill_ends_at"])
    source, target = _transition(tender, tender.approve_award, _("The tender does not await an award."))
    tender.save(update_fields=["status", "updated_at"])
    audit_event_append(
        action="tender.award_approved",
        actor=actor,
        obj=tender,
        payload={
            "from": source,
            "to": target,
            "recommendation_id": recommendation.pk,
            "standstill_ends_at": ends.isoformat(),
        },
    )
    _tell_bidders(tender, recommendation)
    return recommendation


def _tell_bidders(tender: Tender, recommendation: Recommendation) -> None:
    """Every bidder learns its own scores, the winner and the reasons (one notification per bidder)."""
    results = {r["bid_id"]: r for r in recommendation.evaluation.get("results", [])}
    winner = recommendation.bid.vendor
    for bid in evaluated_bids(tender):
        own = results.get(bid.pk, {})
        notify(
            recipients=_bidder_users(tender, [bid.vendor_id]),
            kind="award.result",
            tender=tender,
            context={
                "winner": str(winner),
                "won": "yes" if bid.pk == recommendation.bid_id else "no",
                "technical": own.get("technical") or "—",
                "financial": own.get("financial") or "—",
                "combined": own.get("combined") or "—",
                "rank": str(own.get("rank") or "—"),
                "reasons": recommendation.reasons,
                "disqualification": own.get("disqualification") or "",
                "standstill_ends": recommendation.standstill_ends_at.isoformat()
                if recommendation.standstill_ends_at
                else "",
            },
        )


@_atomic_recording_refusals
def award_return(*, actor, tender: Tender, comments: str) -> Recommendation:
    tender = _locked(tender)
    recommendation = _live_recommendation(tender, RecommendationStatus.PENDING)
    _four_eyes(actor, tender, recommendation, "return")
    require_perm(actor, "procurement.approve_award", tender)
    comments = (comments or "").strip()
    if not comments:
        raise ValidationError({"comments": _("Say what the committee must reconsider.")})
    recommendation.return_to_committee(by=actor, now=_now(), comments=comments)
    recommendation.save(update_fields=["status", "decided_by", "decided_at", "comments"])
    source, target = _transition(tender, tender.return_recommendation, _("The tender does not await an award."))
    tender.save(update_fields=["status", "updated_at"])
    audit_event_append(
        action="tender.award_returned",
        actor=actor,
        obj=tender,
        payload={"from": source, "to": target, "recommendation_id": recommendation.pk, "comments": comments},
    )
    notify(
        recipients=[m.user for m in members(tender)],
        kind="award.returned",
        tender=tender,
        context={"comments": comments},
    )
    return recommendation


# Complaints --------------------------------------------------------------------------------------


@_atomic_recording_refusals
def complaint_file(*, actor, tender: Tender, grounds: str) -> Complaint:
    tender = _locked(tender)
    from procurement.bid_services import vendor_of

    vendor = vendor_of(actor)
    bid = (
        Bid.objects.filter(tender=tender, vendor=vendor, status__in=[*EVALUATED_STATES, BidStatus.NOT_AWARDED])
        .order_by("-id")
        .first()
        if vendor is not None
        else None
    )
    if bid is None:
        raise PermissionDenied("procurement.file_complaint")
    now = _now()
    recommendation = Recommendation.objects.filter(tender=tender, status=RecommendationStatus.APPROVED).first()
    if tender.status != TenderStatus.STANDSTILL or recommendation is None or now >= recommendation.standstill_ends_at:
        raise _RecordedRefusal(
            _("Complaints are accepted only during the standstill period."),
            tender=tender,
            actor=actor,
            action="complaint.refused",
            payload={"reason": "outside the standstill"},
        )
    grounds = (grounds or "").strip()
    if not grounds:
        raise ValidationError({"grounds": _("State the grounds of the complaint.")})
    if Complaint.objects.filter(tender=tender, bid=bid, status__in=PENDING_COMPLAINT_STATES).exists():
        raise ActionRefused(_("Your earlier complaint is still being decided."))
    complaint = Complaint.objects.create(
        tender=tender, bid=bid, recommendation=recommendation, filed_by=actor, filed_at=now, grounds=grounds
    )
    audit_event_append(
        action="complaint.filed", actor=actor, obj=complaint, payload={"bid_id": bid.pk, "grounds": grounds}
    )
    notify(
        recipients=tender_officers(tender) + tender_services.tender_approvers(tender),
        kind="complaint.filed",
        tender=tender,
    )
    return complaint


def _locked_complaint(complaint: Complaint) -> tuple[Tender, Complaint]:
    tender = _locked(complaint.tender_id)
    return tender, Complaint.objects.select_for_update().get(pk=complaint.pk)


def _outside_committee(actor, tender: Tender, complaint: Complaint) -> None:
    if member_of(actor, tender) is not None or actor.pk == complaint.recommendation.recommended_by_id:
        raise _RecordedRefusal(
            _("A member of the evaluation committee cannot decide a complaint against its evaluation."),
            tender=tender,
            actor=actor,
            action="complaint.decision_refused",
            payload={"reason": "four eyes", "complaint_id": complaint.pk},
        )
    require_perm(actor, "procurement.decide_complaint", tender)


@_atomic_recording_refusals
def complaint_review_start(*, actor, complaint: Complaint) -> Complaint:
    tender, complaint = _locked_complaint(complaint)
    _outside_committee(actor, tender, complaint)
    _transition(complaint, complaint.start_review, _("This complaint is already under review or decided."), by=actor)
    complaint.save(update_fields=["status", "reviewer"])
    audit_event_append(action="complaint.review_started", actor=actor, obj=complaint, payload={})
    return complaint


@_atomic_recording_refusals
def complaint_decide(*, actor, complaint: Complaint, upheld: bool, decision: str) -> Complaint:
    tender, complaint = _locked_complaint(complaint)
    _outside_committee(actor, tender, complaint)
    if complaint.status == ComplaintStatus.UNDER_REVIEW and complaint.reviewer_id != actor.pk:
        raise ActionRefused(_("The person reviewing the complaint decides it."))
    decision = (decision or "").strip()
    if not decision:
        raise ValidationError({"decision": _("Give the decision and its reasons; the complainant is told.")})
    now = _now()
    method = complaint.uphold if upheld else complaint.dismiss
    _transition(complaint, method, _("Only a complaint under review can be decided."), decision=decision, now=now)
    complaint.save(update_fields=["status", "decision", "decided_at"])
    audit_event_append(
        action="complaint.upheld" if upheld else "complaint.dismissed",
        actor=actor,
        obj=complaint,
        payload={"decision": decision},
    )
    if upheld:
        recommendation = Recommendation.objects.select_for_update().get(pk=complaint.recommendation_id)
        if recommendation.status == RecommendationStatus.APPROVED:
            recommendation.overturn()
            recommendation.save(update_fields=["status"])
        if tender.status == TenderStatus.STANDSTILL:
            source, target = _transition(tender, tender.reopen_evaluation, _("The tender is not in its standstill."))
            tender.save(update_fields=["status", "updated_at"])
            # The committee evaluates again: every bid is open to compliance, scores and conclusion once more
            # (earlier scores stay, editable; members submit their sheets again). Opened envelopes stay opened.
            reopened = []
            for bid in (
                Bid.objects.select_for_update(of=("self",))
                .filter(tender=tender, status__in=[BidStatus.QUALIFIED, BidStatus.DISQUALIFIED])
                .order_by("pk")
            ):
                bid.reopen()
                bid.save(update_fields=["status", "disqualification_reason"])
                reopened.append(bid.pk)
            EvaluationMember.objects.filter(tender=tender).update(scores_submitted_at=None)
            audit_event_append(
                action="tender.evaluation_reopened",
                actor=actor,
                obj=tender,
                payload={"from": source, "to": target, "complaint_id": complaint.pk, "bids_reopened": reopened},
            )
        notify(
            recipients=_bidder_users(tender) + [m.user for m in members(tender)],
            kind="complaint.upheld",
            tender=tender,
            context={"decision": decision},
        )
    else:
        notify(
            recipients=_bidder_users(tender, [complaint.bid.vendor_id]),
            kind="complaint.dismissed",
            tender=tender,
            context={"decision": decision},
        )
    return complaint


# The end of the standstill (run by the deadline scheduler) ---------------------------------------


def finalise_awards(*, now: datetime.datetime) -> list[str]:
    """Make final every approved award whose standstill has ended with no complaint pending. Idempotent."""
    finalised = []
    due = Recommendation.objects.filter(
        status=RecommendationStatus.APPROVED, standstill_ends_at__lte=now, tender__status=TenderStatus.STANDSTILL
    ).values_list("tender_id", flat=True)
    for tender_id in list(due):
        with transaction.atomic():
            tender = (
                Tender.objects.select_for_update(skip_locked=True, of=("self",))
                .filter(pk=tender_id, status=TenderStatus.STANDSTILL)
                .first()
            )
            if tender is None:
                continue
            if Complaint.objects.filter(tender=tender, status__in=PENDING_COMPLAINT_STATES).exists():
                continue
            recommendation = Recommendation.objects.select_for_update().get(
                tender=tender, status=RecommendationStatus.APPROVED
            )
            if recommendation.standstill_ends_at > now:
                continue
            recommendation.finalise()
            recommendation.save(update_fields=["status"])
            source = tender.status
            tender.finalise_award()
            tender.save(update_fields=["status", "updated_at"])
            for bid in Bid.objects.select_for_update(of=("self",)).filter(tender=tender, status=BidStatus.QUALIFIED):
                if bid.pk == recommendation.bid_id:
                    bid.award()
                else:
                    bid.lose()
                bid.save(update_fields=["status"])
            audit_event_append(
                action="tender.awarded",
                actor=None,
                obj=tender,
                payload={
                    "from": source,
                    "to": tender.status,
                    "recommendation_id": recommendation.pk,
                    "bid_id": recommendation.bid_id,
                    "vendor_id": recommendation.bid.vendor_id,
                },
            )
            notify(
                recipients=_bidder_users(tender) + tender_officers(tender),
                kind="tender.awarded",
                tender=tender,
                context={"winner": str(recommendation.bid.vendor)},
            )
            finalised.append(tender.reference)
    return finalised
