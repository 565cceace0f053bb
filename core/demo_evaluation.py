"""Demo tenders at each stage of the evaluation and the award, run through the real services.

* one in ``evaluation``: declarations made, one bid found not responsive, two members' score sheets submitted and
  the third member still scoring;
* one in ``award_pending``: scored, concluded, financial envelopes opened, an abnormally low price reviewed
  (justified) and the first-ranked bid recommended, waiting for the approver;
* one in ``standstill``: the award approved, and a complaint by the second-ranked bidder waiting for a decision;
* one ``awarded``: a bid disqualified under the pass mark, a consensus recorded where the members differed, the
  award approved and made final by the deadline scheduler once its standstill ended.

Each tender's whole story happened in the past: every step runs with the services' one clock
(``tender_services._now``) set to the day it happened, as ``demo_bids`` does for its opened tender; the award is
made final by ``advance_deadlines`` just after its standstill ended. Nothing else is patched. A tender that
exists (found by its English title) is left as it is.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from contextlib import contextmanager
from unittest import mock

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from core.demo_bids import make_bid
from core.demo_data import DEMO_PASSWORD
from core.demo_tenders import CRITERIA, name_committee, tender_data, tender_document
from procurement import evaluation_services as evaluation
from procurement import opening_services
from procurement import tender_services as services
from procurement.models import Bid, Complaint, EvaluationMember, Phase, PriceReview, Recommendation, Tender
from procurement.models.evaluation import PENDING_COMPLAINT_STATES
from procurement.models.tenders import AddendumStatus, TenderStatus

EVALUATION, AWARD_PENDING, STANDSTILL, AWARDED = "evaluation", "award_pending", "standstill", "awarded"

#: How each member's scores differ from the bid's base scores (the spread stays within the allowed limit).
MEMBER_OFFSETS = {"committee@demo.gov": 0, "committee2@demo.gov": 3, "committee3@demo.gov": -4}

# Each tender: where it stops, when it started (days ago), its bids — (bidder, total price, offer, base scores on
# the three CRITERIA) — the bids the chair finds not responsive (with the reason), member scores that differ
# from the others (bidder, member, criterion index) → score, with the consensus the chair records for them, and
# the complaint the second-ranked bidder files.
STAGES = [
    {
        "stage": AWARDED,
        "phase": 2,
        "title_en": "Penetration testing and security assessment of the government service bus",
        "title_ar": "اختبار الاختراق والتقييم الأمني لناقل الخدمات الحكومي",
        "category": "services",
        "value": "19500000",
        "days_ago": 90,
        "bids": [
            ("vendor@demo.gov", "18900000.00", "Security assessment, penetration tests and remediation", (85, 80, 78)),
            ("vendor5@demo.gov", "17200000.00", "Penetration testing and secure code review", (76, 72, 70)),
            ("vendor6@demo.gov", "16400000.00", "Vulnerability scanning and reporting", (65, 60, 62)),
        ],
        "not_responsive": {},
        "outliers": {("vendor5@demo.gov", "committee3@demo.gov", 1): 49},
        "consensus": {
            ("vendor5@demo.gov", 1): (
                70,
                "The committee agreed two comparable government projects are documented; the third member had "
                "counted only one of them.",
            )
        },
    },
    {
        "stage": STANDSTILL,
        "phase": 3,
        "title_en": "Identity and single sign-on platform for government services",
        "title_ar": "منصة الهوية والدخول الموحد للخدمات الحكومية",
        "category": "services",
        "value": "48000000",
        "days_ago": 55,
        "bids": [
            ("vendor@demo.gov", "44500000.00", "Identity platform, single sign-on for 200 services", (80, 76, 75)),
            ("vendor5@demo.gov", "46900000.00", "National identity federation and single sign-on", (84, 80, 79)),
            ("vendor6@demo.gov", "43800000.00", "Single sign-on and multi-factor authentication", (70, 72, 74)),
        ],
        "not_responsive": {},
        "outliers": {},
        "consensus": {},
        "complaint": (
            "Our financial offer is lower than the recommended bidder's. We ask that the scores on key staff be "
            "checked again: the CVs we submitted exceed every requirement of the terms of reference."
        ),
    },
    {
        "stage": AWARD_PENDING,
        "phase": 3,
        "title_en": "Mobile application for government services — design, build and support",
        "title_ar": "تطبيق الجوال للخدمات الحكومية — التصميم والبناء والدعم",
        "category": "services",
        "value": "32000000",
        "days_ago": 52,
        "bids": [
            ("vendor@demo.gov", "30200000.00", "Native mobile application, 3 years of support", (82, 78, 80)),
            ("vendor5@demo.gov", "31400000.00", "Cross-platform application and support", (78, 75, 74)),
            ("vendor6@demo.gov", "22100000.00", "Mobile application built on our existing platform", (76, 73, 75)),
        ],
        "not_responsive": {},
        "outliers": {},
        "consensus": {},
        "price_review": (
            PriceReview.Decision.JUSTIFIED,
            "The bidder reuses the mobile platform it already runs for two ministries; the committee checked the "
            "price breakdown line by line and the staffing it shows covers the full scope.",
        ),
    },
    {
        "stage": EVALUATION,
        "phase": 4,
        "title_en": "Digital payments gateway integration for government fees",
        "title_ar": "ربط بوابة المدفوعات الرقمية للرسوم الحكومية",
        "category": "services",
        "value": "15000000",
        "days_ago": 45,
        "bids": [
            ("vendor@demo.gov", "14200000.00", "Payments gateway integration for 60 fee types", (81, 77, 79)),
            ("vendor5@demo.gov", "13900000.00", "Payments integration and reconciliation service", (79, 80, 76)),
            ("vendor6@demo.gov", "12800000.00", "Gateway integration", (70, 70, 70)),
        ],
        "not_responsive": {
            "vendor6@demo.gov": "The bid security (bank guarantee) required by the instructions to bidders is missing."
        },
        "outliers": {},
        "consensus": {},
        # The last member has scored the first bidder only and has not submitted their sheet.
        "still_scoring": "committee3@demo.gov",
    },
]

TITLES = [spec["title_en"] for spec in STAGES]


@contextmanager
def _clock(moment: datetime.datetime) -> Iterator[None]:
    with mock.patch.object(services, "_now", return_value=moment):
        yield


def _user(email: str) -> User:
    return User.objects.get(email=email)


def _justification(criterion, score: int) -> str:
    if score >= 80:
        verdict = "Strong: exceeds the requirement, with evidence in the technical offer"
    elif score >= 70:
        verdict = "Adequate: meets the requirement, with minor gaps"
    else:
        verdict = "Weak: the offer does not show how the requirement is met"
    return f"{verdict} ({criterion.name_en})."


def _member_score(spec: dict, bidder: str, member: str, index: int, base: int) -> int:
    override = spec["outliers"].get((bidder, member, index))
    if override is not None:
        return override
    return max(0, min(100, base + MEMBER_OFFSETS.get(member, 0)))


def _create(spec: dict, *, programme, officer, approver, committee, start) -> Tender:
    phase = Phase.objects.get(programme=programme, order=spec["phase"])
    with _clock(start):
        tender = services.tender_create(
            actor=officer,
            phase=phase,
            data=tender_data(spec["title_en"], spec["title_ar"], spec["category"], spec["value"], start),
            criteria=CRITERIA,
        )
        services.tender_document_add(
            actor=officer,
            tender=tender,
            uploaded_file=tender_document("Terms of reference", tender.reference),
            title="Terms of reference",
        )
        name_committee(officer=officer, tender=tender, committee=committee)
        services.tender_submit_for_approval(actor=officer, tender=tender)
        services.tender_approve(actor=approver, tender=tender)  # the recovery share is discarded
    return tender


def _open(tender: Tender, committee: list[User]) -> None:
    """Two members of the opening committee confirm: the second opens (technical, or financial in evaluation)."""
    opening_services.opening_confirm(actor=committee[0], tender=tender, password=DEMO_PASSWORD)
    opening_services.opening_confirm(actor=committee[1], tender=tender, password=DEMO_PASSWORD)


def _score(spec: dict, tender: Tender, bids: dict[str, Bid], committee: list[User]) -> None:
    criteria = list(tender.criteria.order_by("order", "pk"))
    responsive = [
        (email, bids[email], base) for email, _p, _o, base in spec["bids"] if email not in spec["not_responsive"]
    ]
    for member in committee:
        still_scoring = member.email == spec.get("still_scoring")
        for position, (bidder, bid, base) in enumerate(responsive):
            if still_scoring and position > 0:
                break
            for index, criterion in enumerate(criteria):
                value = _member_score(spec, bidder, member.email, index, base[index])
                evaluation.score_save(
                    actor=member,
                    bid=bid,
                    criterion=criterion,
                    score=value,
                    justification=_justification(criterion, value),
                )
        if not still_scoring:
            evaluation.scores_submit(actor=member, tender=tender)


def _seed_stage(spec: dict, *, programme, officer, approver, committee) -> Tender:
    start = timezone.now() - datetime.timedelta(days=spec["days_ago"])
    tender = _create(spec, programme=programme, officer=officer, approver=approver, committee=committee, start=start)

    def day(days: int) -> datetime.datetime:
        return tender.submission_deadline + datetime.timedelta(days=days)

    chair = committee[0]
    bids: dict[str, Bid] = {}
    if "clarification" in spec:
        _clarify(spec, tender, officer=officer, approver=approver, start=start)
    with _clock(start + datetime.timedelta(days=3)):
        for email, price, offer, _scores in spec["bids"]:
            bids[email] = make_bid(tender, email, state="submitted", price=price, offer=offer)
    with _clock(day(1)):
        _open(tender, committee)
    with _clock(day(2)):
        for member in committee:
            evaluation.evaluation_member_add(actor=officer, tender=tender, user=member, is_chair=member == chair)
        evaluation.evaluation_start(actor=officer, tender=tender)
    with _clock(day(3)):
        for member in committee:
            for bid in bids.values():
                evaluation.declaration_make(actor=member, bid=bid, has_conflict=False)
        for email, bid in bids.items():
            reason = spec["not_responsive"].get(email, "")
            evaluation.compliance_decide(actor=chair, bid=bid, responsive=not reason, reason=reason)
    with _clock(day(5)):
        _score(spec, tender, bids, committee)
    if spec["stage"] == EVALUATION:
        return tender

    criteria = list(tender.criteria.order_by("order", "pk"))
    with _clock(day(8)):
        for (bidder, index), (value, reason) in spec["consensus"].items():
            evaluation.consensus_record(
                actor=chair, bid=bids[bidder], criterion=criteria[index], score=value, reason=reason
            )
        evaluation.technical_conclude(actor=chair, tender=tender)
    with _clock(day(9)):
        _open(tender, committee)
    with _clock(day(11)):
        if "price_review" in spec:
            decision, reason = spec["price_review"]
            for result in evaluation.evaluation_results(tender):
                if result.abnormally_low:
                    bid = Bid.objects.get(pk=result.bid_id)
                    evaluation.price_review(actor=chair, bid=bid, decision=decision, reason=reason)
        evaluation.recommend(
            actor=chair,
            tender=tender,
            reasons="Ranked first under the published quality- and cost-based method (70% technical, 30% "
            "financial), among the bids at or above the technical pass mark.",
        )
    if spec["stage"] == AWARD_PENDING:
        return tender

    with _clock(day(14)):
        recommendation = evaluation.award_approve(actor=approver, tender=tender)
    if spec["stage"] == STANDSTILL:
        second = next(r for r in recommendation.evaluation["results"] if r["rank"] == 2)
        complainant = next(email for email, bid in bids.items() if bid.pk == second["bid_id"])
        with _clock(day(16)):
            evaluation.complaint_file(actor=_user(complainant), tender=tender, grounds=spec["complaint"])
        return tender

    if "dismissed_complaint" in spec:
        # The second-ranked bidder complains; the approver (outside the committee) reviews and dismisses it.
        grounds, decision = spec["dismissed_complaint"]
        second = next(r for r in recommendation.evaluation["results"] if r["rank"] == 2)
        complainant = next(email for email, bid in bids.items() if bid.pk == second["bid_id"])
        with _clock(day(15)):
            complaint = evaluation.complaint_file(actor=_user(complainant), tender=tender, grounds=grounds)
        with _clock(day(16)):
            evaluation.complaint_review_start(actor=approver, complaint=complaint)
        with _clock(day(17)):
            evaluation.complaint_decide(actor=approver, complaint=complaint, upheld=False, decision=decision)

    # The standstill ended with nothing pending: the scheduler's run just after makes the award final.
    after = recommendation.standstill_ends_at + datetime.timedelta(hours=1)
    with _clock(after):
        services.advance_deadlines(now=after)
    return tender


def _clarify(spec: dict, tender: Tender, *, officer, approver, start) -> None:
    """While the tender is open: a bidder's question answered in public, and an addendum adding a document."""
    asker, question, answer = spec["clarification"]
    with _clock(start + datetime.timedelta(days=1)):
        asked = services.clarification_ask(actor=_user(asker), tender=tender, question=question)
        services.clarification_answer(actor=officer, clarification=asked, answer=answer)
    with _clock(start + datetime.timedelta(days=2)):
        tender.refresh_from_db()
        addendum = services.addendum_create(
            actor=officer,
            tender=tender,
            data={"summary_en": spec["addendum"][0], "summary_ar": spec["addendum"][1]},
            files=[("Site list", tender_document("Site list", tender.reference))],
        )
        if addendum.status == AddendumStatus.PENDING_APPROVAL:
            services.addendum_approve(actor=approver, addendum=addendum)
        tender.refresh_from_db()


def seed_demo_evaluation(*, programme, officer, approver, committee) -> int:
    """Create the demo tenders at the evaluation and award stages that do not exist yet; return how many."""
    made = 0
    for spec in STAGES:
        if Tender.objects.filter(title_en=spec["title_en"]).exists():
            continue
        with transaction.atomic():
            _seed_stage(spec, programme=programme, officer=officer, approver=approver, committee=committee)
        made += 1
    return made


def _latest_recommendation(tender: Tender) -> Recommendation | None:
    return Recommendation.objects.filter(tender=tender).select_related("bid__vendor").order_by("-id").first()


def _next_step(tender: Tender, approver_email: str) -> str:
    head = f"{tender.reference} “{tender.title_en}”"
    recommendation = _latest_recommendation(tender)
    winner = recommendation.bid.vendor if recommendation else None
    if tender.status == TenderStatus.EVALUATION:
        seats = EvaluationMember.objects.filter(tender=tender).select_related("user").order_by("id")
        chair = next((s.user.email for s in seats if s.is_chair), "the chair")
        scoring = [s.user.email for s in seats if s.scores_submitted_at is None]
        if scoring:
            return (
                f"{head} is in evaluation: {', '.join(scoring)} can finish and submit their scores; then the chair "
                f"{chair} concludes the technical evaluation."
            )
        return f"{head} is in evaluation: the chair {chair} can take it on to the recommendation."
    if tender.status == TenderStatus.AWARD_PENDING:
        return f"{head} awaits the award's approval: {approver_email} can approve (or return) the award to {winner}"
    if tender.status == TenderStatus.STANDSTILL:
        ends = timezone.localtime(recommendation.standstill_ends_at).date() if recommendation else "?"
        pending = (
            Complaint.objects.filter(tender=tender, status__in=PENDING_COMPLAINT_STATES)
            .select_related("bid__vendor")
            .first()
        )
        if pending:
            return (
                f"{head} is in its standstill (until {ends}): {approver_email} can decide the complaint that "
                f"{pending.bid.vendor} filed against the award to {winner}"
            )
        return f"{head} is in its standstill (until {ends}), which makes the award to {winner} final when it ends"
    if tender.status == TenderStatus.AWARDED:
        return (
            f"{head} was awarded to {winner} when its standstill ended; the evaluation report and every "
            "bidder's result are on the tender."
        )
    return f"{head} is now “{tender.get_status_display()}”."


def evaluation_demo_guide(approver_email: str = "approver@demo.gov") -> list[str]:
    """One line per demo tender of these stages: where it stands and who can do what next."""
    return [
        _next_step(tender, approver_email)
        for title in TITLES
        if (tender := Tender.objects.filter(title_en=title).first()) is not None
    ]
