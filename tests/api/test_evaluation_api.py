"""Opening, evaluation, award and complaints over the API (``api/evaluation_views.py``): the same services as
the web, the same rules — a member sees only their own scores until every member has submitted, four eyes on
the award, complaints only during the standstill."""

from __future__ import annotations

import pytest

from audit.models import AuditEvent
from procurement import sealing
from procurement.models import Complaint, ConflictDeclaration, EvaluationMember, TechnicalScore
from procurement.models.bids import BidStatus, OpeningStatus
from procurement.models.evaluation import ComplaintStatus, RecommendationStatus
from procurement.models.tenders import TenderStatus
from tests.api.conftest import assert_problem, bearer
from tests.procurement.bid_factories import (
    PASSWORD,
    bidder,
    clock,
    evaluation_member,
    evaluation_ready,
    past_deadline,
    published_tender,
    submitted_bid,
)
from tests.procurement.test_evaluation_services import (
    CONFLICT,
    NOT_RESPONSIVE,
    PRICES,
    SHEETS,
    P,
    Q,
    S,
    approve,
    approver_for,
    at,
    comply,
    declare,
    quality_cost_scenario,
    score,
    status_of,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fast_keys_and_own_media(monkeypatch, settings, tmp_path):
    monkeypatch.setattr(sealing, "SCRYPT_N", 2**10)
    settings.MEDIA_ROOT = str(tmp_path / "media")


def as_(api_client, user):
    api_client.credentials(**bearer(user))
    return api_client


def post(api_client, user, url, data=None, *, headers=None):
    return as_(api_client, user).post(url, data or {}, format="json", headers=headers)


def get(api_client, user, url):
    return as_(api_client, user).get(url)


# Opening --------------------------------------------------------------------------------------------------------


def test_two_committee_members_open_the_bids_over_the_api(api_client):
    tender, opening, _recovery = published_tender()
    for price in ("1000.00", "1200.00"):
        _vendor, admin = bidder()
        submitted_bid(tender, admin, price=price)
    url = f"/api/v1/tenders/{tender.pk}/opening/confirm/"
    with clock(past_deadline(tender, seconds=5)):
        wrong = post(api_client, opening[0], url, {"password": "not-it"})
        body = assert_problem(wrong, 400)
        assert "password" in body["errors"]
        assert AuditEvent.objects.filter(action="tender.opening_refused", actor=opening[0]).exists()

        first = post(api_client, opening[0], url, {"password": PASSWORD})
        assert first.status_code == 200, first.content
        assert first.json()["status"] == OpeningStatus.WAITING and first.json()["completed"] is False
        again = post(api_client, opening[0], url, {"password": PASSWORD})
        assert_problem(again, 409)

        second = post(api_client, opening[1], url, {"password": PASSWORD})
        assert second.status_code == 200, second.content
        assert second.json()["completed"] is True
    assert status_of(tender) == TenderStatus.OPENED
    assert set(tender.bids.values_list("status", flat=True)) == {BidStatus.OPENED}


def test_an_outsider_cannot_open_the_bids(api_client, auditor):
    tender, _opening, _recovery = published_tender()
    with clock(past_deadline(tender, seconds=5)):
        response = post(api_client, auditor, f"/api/v1/tenders/{tender.pk}/opening/confirm/", {"password": PASSWORD})
    assert response.status_code in (403, 409)
    assert_problem(response, response.status_code)
    assert not tender.openings.filter(status=OpeningStatus.COMPLETED).exists()


# Declarations and scores ------------------------------------------------------------------------------------------


def _sheet(ctx, values):
    return {
        "scores": [
            {"criterion": c.pk, "score": str(v), "justification": f"Evidence for {c.name_en}."}
            for c, v in zip(ctx.criteria, values, strict=True)
        ]
    }


def test_members_declare_and_score_and_see_nobody_elses_scores_until_all_are_in(api_client, auditor):
    ctx = evaluation_ready(prices=PRICES[:2], committee=3)
    tender, chair, (_a, b, c) = ctx.tender, ctx.chair, ctx.members
    base = f"/api/v1/tenders/{tender.pk}/evaluation/"
    with at(tender, hours=1):
        # Declarations: c is recused for the second bid.
        for member in ctx.members:
            for number, bid in enumerate(ctx.bids):
                conflict = member == c and number == 1
                data = {"has_conflict": conflict, "statement": "My cousin runs it." if conflict else ""}
                response = post(api_client, member, f"{base}bids/{bid.pk}/declaration/", data)
                assert response.status_code == 200, response.content
        body = get(api_client, c, base).json()
        recused = next(row for row in body["bids"] if row["id"] == ctx.bids[1].pk)
        assert recused["recused"] is True and "compliance" not in recused and "status" not in recused
        # Compliance is the chair's alone.
        assert_problem(post(api_client, b, f"{base}bids/{ctx.bids[0].pk}/compliance/", {"responsive": True}), 409)
        for bid in ctx.bids:
            assert post(api_client, chair, f"{base}bids/{bid.pk}/compliance/", {"responsive": True}).status_code == 200
        # A recused member cannot score the bid; a bad score saves nothing.
        assert_problem(post(api_client, c, f"{base}bids/{ctx.bids[1].pk}/scores/", _sheet(ctx, (70, 70))), 403)
        bad = _sheet(ctx, (80, 80))
        bad["scores"][1]["score"] = "101"
        assert_problem(post(api_client, b, f"{base}bids/{ctx.bids[0].pk}/scores/", bad), 400)
        assert not TechnicalScore.objects.filter(member__user=b).exists()
        # Everyone scores; chair and b submit, c has not.
        for member, values in ((chair, (80, 80)), (b, (60, 80)), (c, (82, 80))):
            for number, bid in enumerate(ctx.bids):
                if member == c and number == 1:
                    continue
                response = post(api_client, member, f"{base}bids/{bid.pk}/scores/", _sheet(ctx, values))
                assert response.status_code == 200, response.content
        for member in (chair, b):
            assert post(api_client, member, f"{base}transitions/submit/").status_code == 200
        # Nobody sees anybody else's scores yet: only their own.
        for member in ctx.members:
            seen = get(api_client, member, base).json()
            assert seen["matrix"] is None and seen["all_scores_in"] is False
            assert {s["bid"] for s in seen["my_scores"]} <= {bid.pk for bid in ctx.bids}
            assert len(seen["my_scores"]) == (2 if member == c else 4)
        assert get(api_client, auditor, base).json()["matrix"] is None
        assert "my_scores" in get(api_client, b, base).json()
        assert all(s["score"] in ("60", "80", "60.00", "80.00") for s in get(api_client, b, base).json()["my_scores"])
        # Once c submits, the matrix shows — without the bid c is recused from, for c.
        assert post(api_client, c, f"{base}transitions/submit/").status_code == 200
        for_c = get(api_client, c, base).json()
        assert for_c["matrix"] and {row["bid"] for row in for_c["matrix"]} == {ctx.bids[0].pk}
        for_chair = get(api_client, chair, base).json()
        assert {row["bid"] for row in for_chair["matrix"]} == {bid.pk for bid in ctx.bids}
        assert get(api_client, auditor, base).json()["role"] == "overseer"


def test_an_outsider_sees_no_evaluation_and_an_auditors_post_is_refused_and_logged(api_client, auditor):
    ctx = evaluation_ready(prices=PRICES[:2], committee=3)
    base = f"/api/v1/tenders/{ctx.tender.pk}/evaluation/"
    _vendor, stranger = bidder()
    response = get(api_client, stranger, base)
    assert response.status_code in (403, 404)
    url = f"{base}bids/{ctx.bids[0].pk}/declaration/"
    with at(ctx.tender, hours=1):
        refused = post(api_client, auditor, url, {"has_conflict": False})
    assert_problem(refused, 403)
    event = AuditEvent.objects.filter(action="audit.change_refused", actor=auditor).latest("sequence")
    assert event.payload["path"] == url and event.payload["status"] == 403
    assert not ConflictDeclaration.objects.filter(member__tender=ctx.tender).exists()


# Recommendation, award and complaints -------------------------------------------------------------------------------


def test_chair_recommends_and_an_approver_outside_the_committee_approves_then_a_complaint_is_dismissed(
    api_client, django_assert_max_num_queries
):
    ctx = quality_cost_scenario(through="reviewed")
    tender, chair = ctx.tender, ctx.chair
    base = f"/api/v1/tenders/{tender.pk}/"
    with at(tender, hours=5):
        offered = get(api_client, chair, f"{base}evaluation/transitions/").json()
        assert "recommend" in [t["name"] for t in offered]
        assert_problem(
            post(api_client, ctx.members[1], f"{base}evaluation/transitions/recommend/", {"reasons": "x"}), 409
        )
        assert_problem(post(api_client, chair, f"{base}evaluation/transitions/recommend/", {"reasons": ""}), 400)
        response = post(
            api_client, chair, f"{base}evaluation/transitions/recommend/", {"reasons": "Best combined score."}
        )
        assert response.status_code == 200, response.content
    assert status_of(tender) == TenderStatus.AWARD_PENDING
    recommendation = tender.recommendations.get()
    assert recommendation.bid_id == ctx.bids[0].pk

    approver = approver_for(tender)
    with at(tender, hours=6):
        # A committee member cannot approve (four eyes), nor can the chair who recommended.
        for member in (chair, ctx.members[1]):
            body = assert_problem(post(api_client, member, f"{base}award/transitions/approve/"), 409)
            assert "evaluation committee" in body["detail"]
            assert AuditEvent.objects.filter(action="award.approval_refused", actor=member).exists()
        assert status_of(tender) == TenderStatus.AWARD_PENDING
        names = [t["name"] for t in get(api_client, approver, f"{base}award/transitions/").json()]
        assert names == ["approve", "return"]
        approved = post(api_client, approver, f"{base}award/transitions/approve/")
        assert approved.status_code == 200, approved.content
        assert approved.json()["status"] == RecommendationStatus.APPROVED
        assert_problem(post(api_client, approver, f"{base}award/transitions/approve/"), 409)
    assert status_of(tender) == TenderStatus.STANDSTILL
    assert AuditEvent.objects.filter(action="tender.award_approved", actor=approver).exists()

    # A bidder complains during the standstill; someone outside the committee dismisses it.
    complainant, other_bidder = ctx.admins[S], ctx.admins[Q]
    with at(tender, days=1):
        assert_problem(post(api_client, complainant, f"{base}complaints/", {"grounds": ""}), 400)
        filed = post(api_client, complainant, f"{base}complaints/", {"grounds": "Our approach deserved 70."})
        assert filed.status_code == 201, filed.content
        complaint_id = filed.json()["id"]
        assert_problem(post(api_client, chair, f"{base}complaints/", {"grounds": "x"}), 403)
    assert [c["id"] for c in get(api_client, complainant, f"{base}complaints/").json()["results"]] == [complaint_id]
    assert get(api_client, other_bidder, f"{base}complaints/").json()["results"] == []
    with django_assert_max_num_queries(25):
        listed = get(api_client, approver, f"{base}complaints/?status=submitted").json()["results"]
    assert [c["id"] for c in listed] == [complaint_id]
    assert get(api_client, approver, f"{base}complaints/?status=dismissed").json()["results"] == []
    transitions = f"{base}complaints/{complaint_id}/transitions/"
    with at(tender, days=2):
        assert_problem(post(api_client, ctx.members[1], f"{transitions}review/"), 403)
        assert post(api_client, approver, f"{transitions}review/").status_code == 200
        decided = post(api_client, approver, f"{transitions}decide/", {"upheld": False, "decision": "Justified."})
        assert decided.status_code == 200, decided.content
        assert decided.json()["status"] == ComplaintStatus.DISMISSED
    assert status_of(Complaint.objects.get(pk=complaint_id)) == ComplaintStatus.DISMISSED
    assert status_of(tender) == TenderStatus.STANDSTILL


def test_an_approver_returns_the_recommendation_over_the_api(api_client):
    ctx = quality_cost_scenario(through="recommended")
    approver = approver_for(ctx.tender)
    url = f"/api/v1/tenders/{ctx.tender.pk}/award/transitions/return/"
    with at(ctx.tender, hours=6):
        assert_problem(post(api_client, approver, url, {"comments": ""}), 400)
        response = post(api_client, approver, url, {"comments": "Reconsider the staffing scores."})
    assert response.status_code == 200, response.content
    assert response.json()["status"] == RecommendationStatus.RETURNED
    assert status_of(ctx.tender) == TenderStatus.EVALUATION


def test_a_complaint_outside_the_standstill_is_refused(api_client):
    ctx = quality_cost_scenario(through="recommended")
    _approver, recommendation = approve(ctx)
    with clock(recommendation.standstill_ends_at):
        response = post(
            api_client, ctx.admins[S], f"/api/v1/tenders/{ctx.tender.pk}/complaints/", {"grounds": "Too late?"}
        )
    assert_problem(response, 409)
    assert not Complaint.objects.exists()


# The committee ------------------------------------------------------------------------------------------------------


def test_an_officer_appoints_and_removes_members_then_starts_the_evaluation(api_client):
    ctx = evaluation_ready(prices=PRICES[:2], committee=2, quorum=3, start=False)
    tender, officer = ctx.tender, ctx.officer
    base = f"/api/v1/tenders/{tender.pk}/evaluation/"
    newcomer, spare = evaluation_member(), evaluation_member()
    with clock(past_deadline(tender, seconds=120)):
        assert_problem(post(api_client, officer, f"{base}transitions/start/"), 409)  # below the quorum
        assert_problem(post(api_client, ctx.chair, f"{base}members/", {"user": newcomer.pk}), 403)
        assert_problem(post(api_client, officer, f"{base}members/", {"user": newcomer.pk, "extra": 1}), 400)
        for user in (newcomer, spare):
            response = post(api_client, officer, f"{base}members/", {"user": user.pk})
            assert response.status_code == 201, response.content
        seat = EvaluationMember.objects.get(tender=tender, user=spare)
        removed = as_(api_client, officer).delete(f"{base}members/{seat.pk}/")
        assert removed.status_code == 204
        names = [t["name"] for t in get(api_client, officer, f"{base}transitions/").json()]
        assert names == ["start"]
        started = post(api_client, officer, f"{base}transitions/start/", headers={"Idempotency-Key": "start-1"})
        assert started.status_code == 200, started.content
        replay = post(api_client, officer, f"{base}transitions/start/", headers={"Idempotency-Key": "start-1"})
        assert replay.status_code == 200
    assert status_of(tender) == TenderStatus.EVALUATION
    assert EvaluationMember.objects.filter(tender=tender).count() == 3


def test_consensus_conclusion_financial_opening_and_price_review_over_the_api(api_client):
    """The main scenario of the service tests from the submitted sheets on, every step over the API."""
    ctx = evaluation_ready(prices=PRICES, committee=4, quorum=3)
    tender, chair = ctx.tender, ctx.chair
    base = f"/api/v1/tenders/{tender.pk}/"
    with at(tender, hours=1):
        declare(ctx, conflicts=CONFLICT)
        comply(ctx, not_responsive=NOT_RESPONSIVE)
        score(ctx, SHEETS)
        # P's first criterion differs by more than the allowed spread: no conclusion before the consensus.
        assert_problem(post(api_client, chair, f"{base}evaluation/transitions/conclude/"), 409)
        consensus = {"criterion": ctx.criteria[0].pk, "score": "85", "reason": "Agreed in the meeting."}
        assert_problem(
            post(api_client, ctx.members[1], f"{base}evaluation/bids/{ctx.bids[P].pk}/consensus/", consensus), 409
        )
        response = post(api_client, chair, f"{base}evaluation/bids/{ctx.bids[P].pk}/consensus/", consensus)
        assert response.status_code == 200, response.content
        cell = next(
            row
            for row in response.json()["matrix"]
            if row["bid"] == ctx.bids[P].pk and row["criterion"] == ctx.criteria[0].pk
        )
        assert float(cell["consensus"]) == 85 and cell["over_spread"] is True
        concluded = post(api_client, chair, f"{base}evaluation/transitions/conclude/")
        assert concluded.status_code == 200, concluded.content
    assert status_of(ctx.bids[S]) == BidStatus.DISQUALIFIED
    with at(tender, hours=3):
        for member in ctx.opening[:2]:
            opened = post(api_client, member, f"{base}opening/confirm/", {"password": PASSWORD})
            assert opened.status_code == 200, opened.content
        assert opened.json()["completed"] is True
    with at(tender, hours=4):
        assert_problem(post(api_client, chair, f"{base}evaluation/transitions/recommend/", {"reasons": "Best."}), 409)
        review = {"decision": "justified", "reason": "Own stock of routers."}
        assert_problem(post(api_client, chair, f"{base}evaluation/bids/{ctx.bids[P].pk}/price-review/", review), 409)
        assert_problem(
            post(
                api_client, chair, f"{base}evaluation/bids/{ctx.bids[Q].pk}/price-review/", {**review, "decision": "?"}
            ),
            400,
        )
        reviewed = post(api_client, chair, f"{base}evaluation/bids/{ctx.bids[Q].pk}/price-review/", review)
        assert reviewed.status_code == 200, reviewed.content
        recommended = post(api_client, chair, f"{base}evaluation/transitions/recommend/", {"reasons": "Best."})
        assert recommended.status_code == 200, recommended.content
        assert recommended.json()["recommendation"]["bid"] == ctx.bids[P].pk
    assert status_of(tender) == TenderStatus.AWARD_PENDING
