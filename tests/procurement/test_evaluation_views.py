"""The evaluation and award pages: the committee, the members' workspace (declarations first, scores alone,
the matrix only once every member has submitted), the chair's steps, the approver's award page, the
bidders' results and complaints — and what each kind of attacker is refused."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from django.urls import reverse

from accounts.roles import Role
from audit.models import AuditEvent
from procurement import evaluation_services, opening_services, sealing
from procurement.models import Complaint, ConflictDeclaration, EvaluationMember, PriceReview, TechnicalScore
from procurement.models.bids import BidStatus
from procurement.models.evaluation import ComplaintStatus, RecommendationStatus
from procurement.models.tenders import TenderStatus
from tests.accounts.factories import UserFactory
from tests.html_checks import check_page
from tests.procurement.bid_factories import (
    PASSWORD,
    bidder,
    clock,
    open_bids,
    past_deadline,
    published_tender,
    submitted_bid,
)

pytestmark = pytest.mark.django_db

CANARY = b"%PDF-1.7\nCANARY-EVALUATED-DOCUMENT\n%%EOF\n"


@pytest.fixture(autouse=True)
def _fast_keys_and_own_media(monkeypatch, settings, tmp_path):
    monkeypatch.setattr(sealing, "SCRYPT_N", 2**10)
    settings.MEDIA_ROOT = str(tmp_path / "media")


def url(name: str, *args) -> str:
    return reverse(f"procurement:{name}", args=args)


def text(response) -> str:
    return response.content.decode()


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


def opened_tender(prices=("1000.00", "1100.00", "600.00")) -> SimpleNamespace:
    """A published tender whose bids (one per price) were opened; the evaluation committee not yet named."""
    tender, opening_members, _recovery = published_tender()
    admins = [bidder()[1] for _ in prices]
    bids = [
        submitted_bid(tender, admin, price=price, answer=f"Approach {n}", content=CANARY)[0]
        for n, (admin, price) in enumerate(zip(admins, prices, strict=True))
    ]
    open_bids(tender, opening_members)
    tender.refresh_from_db()
    assert tender.status == TenderStatus.OPENED
    criteria = list(tender.criteria.order_by("order", "pk"))
    return SimpleNamespace(
        tender=tender,
        officer=tender.created_by,
        opening_members=opening_members,
        admins=admins,
        bids=bids,
        criteria=criteria,
        chair=UserFactory(roles=[Role.COMMITTEE_MEMBER], full_name="Chair Person"),
        members=[
            UserFactory(roles=[Role.COMMITTEE_MEMBER], full_name="Second Member"),
            UserFactory(roles=[Role.COMMITTEE_MEMBER], full_name="Third Member"),
        ],
        approver=UserFactory(agency=tender.agency, roles=[Role.APPROVER], full_name="Award Approver"),
    )


def in_evaluation(**kwargs) -> SimpleNamespace:
    """An opened tender whose committee (a chair and two members) is appointed and whose evaluation started."""
    world = opened_tender(**kwargs)
    for user, chair in [(world.chair, True), *[(m, False) for m in world.members]]:
        evaluation_services.evaluation_member_add(actor=world.officer, tender=world.tender, user=user, is_chair=chair)
    evaluation_services.evaluation_start(actor=world.officer, tender=world.tender)
    world.tender.refresh_from_db()
    return world


def evaluators(world) -> list:
    return [world.chair, *world.members]


def declare_all(world, *, conflict: dict | None = None) -> None:
    conflict = conflict or {}
    for user in evaluators(world):
        for bid in world.bids:
            recused = (user.pk, bid.pk) in conflict
            evaluation_services.declaration_make(
                actor=user, bid=bid, has_conflict=recused, statement="My brother runs it." if recused else ""
            )


def comply_all(world) -> None:
    for bid in world.bids:
        evaluation_services.compliance_decide(actor=world.chair, bid=bid, responsive=True)


def score_sheet_data(world, scores: dict) -> dict:
    """Form data for a score sheet: ``scores`` maps each criterion's index to (score, justification)."""
    data = {}
    for index, (score, justification) in scores.items():
        criterion = world.criteria[index]
        data[f"score_{criterion.pk}"] = score
        data[f"justification_{criterion.pk}"] = justification
    return data


# The score each member gives each bid on each criterion: bid index -> member index -> (criterion 1, criterion 2).
# Bid 1, criterion 1 spreads 30 points (over the limit of 20): the chair records a consensus of 80.
SCORES = {
    0: [("90", "90"), ("90", "90"), ("90", "90")],
    1: [("60", "80"), ("90", "80"), ("90", "80")],
    2: [("72", "72"), ("72", "72"), ("72", "72")],
}


def score_and_submit_all(world) -> None:
    for m, user in enumerate(evaluators(world)):
        for b, bid in enumerate(world.bids):
            for c, criterion in enumerate(world.criteria):
                evaluation_services.score_save(
                    actor=user,
                    bid=bid,
                    criterion=criterion,
                    score=SCORES[b][m][c],
                    justification=f"Reason {m}-{b}-{c}",
                )
        evaluation_services.scores_submit(actor=user, tender=world.tender)


def open_financial(world) -> None:
    with clock(past_deadline(world.tender, seconds=120)):
        for member in world.opening_members[:2]:
            opening_services.opening_confirm(actor=member, tender=world.tender, password=PASSWORD)
    world.tender.refresh_from_db()


def recommended(world) -> SimpleNamespace:
    declare_all(world)
    comply_all(world)
    score_and_submit_all(world)
    evaluation_services.consensus_record(
        actor=world.chair, bid=world.bids[1], criterion=world.criteria[0], score="80", reason="Agreed in the meeting."
    )
    evaluation_services.technical_conclude(actor=world.chair, tender=world.tender)
    open_financial(world)
    evaluation_services.price_review(
        actor=world.chair, bid=world.bids[2], decision=PriceReview.Decision.JUSTIFIED, reason="Own factory."
    )
    evaluation_services.recommend(actor=world.chair, tender=world.tender, reasons="Best value for money.")
    world.tender.refresh_from_db()
    return world


# The whole path through the pages -----------------------------------------------------------------


def test_the_whole_path_from_committee_to_decided_complaint(client):
    world = opened_tender()
    tender, bids = world.tender, world.bids

    # The officer appoints the committee and starts the evaluation.
    client.force_login(world.officer)
    page = client.get(url("evaluation_committee", tender.pk))
    assert page.status_code == 200
    report = check_page(text(page))
    assert not report.unlabelled_controls and not report.duplicate_ids
    assert "Appoint a chair" in text(page)
    response = client.post(url("evaluation_committee", tender.pk), {"user": world.chair.pk, "is_chair": "on"})
    assert response.status_code == 302
    for member in world.members:
        client.post(url("evaluation_committee", tender.pk), {"user": member.pk, "is_external": "on"})
    assert EvaluationMember.objects.filter(tender=tender).count() == 3
    assert EvaluationMember.objects.get(tender=tender, is_chair=True).user == world.chair
    assert client.post(url("evaluation_start", tender.pk)).status_code == 302
    tender.refresh_from_db()
    assert tender.status == TenderStatus.EVALUATION

    # Every member declares first: until then the bid's name is shown, but no way to its content.
    client.force_login(world.chair)
    page = text(client.get(url("evaluation_workspace", tender.pk)))
    assert str(bids[0].vendor) in page
    assert url("opened_envelope", tender.pk, bids[0].pk, "technical") not in page
    assert url("evaluation_scores", tender.pk, bids[0].pk) not in page
    for user in evaluators(world):
        client.force_login(user)
        for bid in bids:
            response = client.post(
                url("evaluation_declare", tender.pk, bid.pk), {f"declare-{bid.pk}-has_conflict": "no"}
            )
            assert response.status_code == 302, response
    assert ConflictDeclaration.objects.filter(member__tender=tender, has_conflict=False).count() == 9

    # The chair records compliance; the content is now open to the members.
    client.force_login(world.chair)
    page = text(client.get(url("evaluation_workspace", tender.pk)))
    assert url("opened_envelope", tender.pk, bids[0].pk, "technical") in page
    assert client.get(url("opened_envelope", tender.pk, bids[0].pk, "technical")).status_code == 200
    for bid in bids:
        response = client.post(
            url("evaluation_compliance", tender.pk, bid.pk), {f"compliance-{bid.pk}-responsive": "yes"}
        )
        assert response.status_code == 302

    # Each member scores alone and submits.
    for m, user in enumerate(evaluators(world)):
        client.force_login(user)
        for b, bid in enumerate(bids):
            scores = {c: (SCORES[b][m][c], f"Justification {m}-{b}-{c}") for c in range(2)}
            response = client.post(url("evaluation_scores", tender.pk, bid.pk), score_sheet_data(world, scores))
            assert response.status_code == 302, text(response)
        page = text(client.get(url("evaluation_workspace", tender.pk)))
        assert "Score matrix" not in page
        if m < 2:  # the last member's scores are still missing: nobody sees anyone else's
            other = (m + 1) % 3
            assert f"Justification {other}-0-0" not in page
        assert client.post(url("evaluation_submit", tender.pk)).status_code == 302
    assert all(seat.scores_submitted_at for seat in EvaluationMember.objects.filter(tender=tender))

    # Every member has submitted: the matrix is shown, the spread is flagged, the chair records a consensus.
    page = text(client.get(url("evaluation_workspace", tender.pk)))  # the third member
    assert "Score matrix" in page and "Justification 0-1-0" in page
    assert "Record the committee" not in page  # consensus forms are the chair's
    client.force_login(world.chair)
    page = client.get(url("evaluation_workspace", tender.pk))
    assert "over the limit" in text(page)
    assert not check_page(text(page)).unlabelled_controls
    prefix = f"consensus-{bids[1].pk}-{world.criteria[0].pk}"
    response = client.post(
        url("evaluation_consensus", tender.pk, bids[1].pk, world.criteria[0].pk),
        {f"{prefix}-score": "80", f"{prefix}-reason": "Agreed in the meeting."},
    )
    assert response.status_code == 302
    assert client.post(url("evaluation_conclude", tender.pk)).status_code == 302
    assert {b.status for b in type(bids[0]).objects.filter(tender=tender)} == {BidStatus.QUALIFIED}
    assert "Financial opening" in text(client.get(url("evaluation_workspace", tender.pk)))

    # The financial opening (two opening-committee members), then the ranking with the abnormally low price.
    open_financial(world)
    page = text(client.get(url("evaluation_workspace", tender.pk)))
    assert "Ranking" in page and "abnormally low" in page
    response = client.post(
        url("evaluation_recommend", tender.pk), {"recommend-reasons": "Best value for money."}, follow=True
    )
    assert "Review the abnormally low prices first" in text(response)
    prefix = f"price-{bids[2].pk}"
    client.post(
        url("evaluation_price_review", tender.pk, bids[2].pk),
        {f"{prefix}-decision": "justified", f"{prefix}-reason": "They own the factory."},
    )
    response = client.post(url("evaluation_recommend", tender.pk), {"recommend-reasons": "Best value for money."})
    assert response.status_code == 302
    tender.refresh_from_db()
    assert tender.status == TenderStatus.AWARD_PENDING

    # The approver, who did not sit on the committee, approves.
    client.force_login(world.approver)
    page = client.get(url("award_detail", tender.pk))
    assert page.status_code == 200
    assert "Best value for money." in text(page) and str(bids[0].vendor) in text(page)
    assert not check_page(text(page)).unlabelled_controls
    assert client.post(url("award_approve", tender.pk)).status_code == 302
    tender.refresh_from_db()
    assert tender.status == TenderStatus.STANDSTILL

    # Each bidder sees the winner, the reasons and only its own scores.
    client.force_login(world.admins[1])
    page = client.get(url("award_results", tender.pk))
    assert page.status_code == 200
    body = text(page)
    assert str(bids[0].vendor) in body  # the winner
    assert "Best value for money." in body
    assert "72.36" in body  # its own combined score
    assert "80.40" not in body and str(bids[2].vendor) not in body  # nothing of the third bidder
    assert not check_page(body).unlabelled_controls

    # It complains during the standstill; an approver outside the committee reviews and dismisses it.
    response = client.post(url("complaint_file", tender.pk), {"grounds": "The scores of bid 2 are wrong."})
    assert response.status_code == 302
    complaint = Complaint.objects.get(tender=tender)
    assert "The scores of bid 2 are wrong." in text(client.get(url("award_results", tender.pk)))
    client.force_login(world.approver)
    assert "The scores of bid 2 are wrong." not in text(client.get(url("complaint_list", tender.pk)))
    assert str(bids[1].vendor) in text(client.get(url("complaint_list", tender.pk)))
    assert "Start review" in text(client.get(url("complaint_detail", tender.pk, complaint.pk)))
    assert client.post(url("complaint_review_start", tender.pk, complaint.pk)).status_code == 302
    response = client.post(
        url("complaint_decide", tender.pk, complaint.pk),
        {"upheld": "dismissed", "decision": "The scores follow the published criteria."},
    )
    assert response.status_code == 302
    complaint.refresh_from_db()
    assert complaint.status == ComplaintStatus.DISMISSED
    client.force_login(world.admins[1])
    assert "The scores follow the published criteria." in text(client.get(url("award_results", tender.pk)))


def test_an_upheld_complaint_sends_the_tender_back_to_evaluation(client):
    world = recommended(in_evaluation())
    evaluation_services.award_approve(actor=world.approver, tender=world.tender)
    complaint = evaluation_services.complaint_file(actor=world.admins[2], tender=world.tender, grounds="Unfair.")
    client.force_login(world.approver)
    client.post(url("complaint_review_start", world.tender.pk, complaint.pk))
    client.post(
        url("complaint_decide", world.tender.pk, complaint.pk), {"upheld": "upheld", "decision": "Score again."}
    )
    world.tender.refresh_from_db()
    assert world.tender.status == TenderStatus.EVALUATION
    client.force_login(world.admins[2])
    assert "sent the tender back to evaluation" in text(client.get(url("award_results", world.tender.pk)))


def test_bad_scores_are_refused_with_a_message_and_nothing_is_half_saved(client):
    world = in_evaluation()
    declare_all(world)
    comply_all(world)
    client.force_login(world.members[0])
    bid = world.bids[0]
    data = score_sheet_data(world, {0: ("85", "Good approach."), 1: ("140", "Too good.")})
    response = client.post(url("evaluation_scores", world.tender.pk, bid.pk), data)
    assert response.status_code == 200
    assert "Good approach." in text(response)  # what was typed is kept
    assert not TechnicalScore.objects.filter(bid=bid).exists()
    data = score_sheet_data(world, {0: ("85", ""), 1: ("", "")})
    response = client.post(url("evaluation_scores", world.tender.pk, bid.pk), data)
    assert "Justify the score in writing." in text(response)
    assert not TechnicalScore.objects.filter(bid=bid).exists()


def test_a_conflict_needs_a_statement_and_the_form_is_shown_again(client):
    world = in_evaluation()
    bid = world.bids[0]
    client.force_login(world.members[0])
    response = client.post(
        url("evaluation_declare", world.tender.pk, bid.pk), {f"declare-{bid.pk}-has_conflict": "yes"}
    )
    assert response.status_code == 200
    assert "Describe the conflict of interest." in text(response)
    assert not ConflictDeclaration.objects.exists()


# Attackers ---------------------------------------------------------------------------------------


def test_a_recused_member_cannot_open_the_bid_content(client):
    world = in_evaluation()
    recused_bid = world.bids[0]
    member = world.members[0]
    client.force_login(member)
    client.post(
        url("evaluation_declare", world.tender.pk, recused_bid.pk),
        {f"declare-{recused_bid.pk}-has_conflict": "yes", f"declare-{recused_bid.pk}-statement": "My brother."},
    )
    page = text(client.get(url("evaluation_workspace", world.tender.pk)))
    assert "recused" in page
    assert url("opened_envelope", world.tender.pk, recused_bid.pk, "technical") not in page
    for target in (
        url("opened_envelope", world.tender.pk, recused_bid.pk, "technical"),
        url("opened_envelope", world.tender.pk, recused_bid.pk, "financial"),
        url("opened_bid_file", world.tender.pk, recused_bid.pk, "offer"),
        url("evaluation_scores", world.tender.pk, recused_bid.pk),
    ):
        response = client.get(target)
        assert response.status_code in (403, 404), target
        body = b"".join(response) if hasattr(response, "streaming_content") else response.content
        assert b"CANARY" not in body and b"Approach 0" not in body
    response = client.post(
        url("evaluation_scores", world.tender.pk, recused_bid.pk),
        score_sheet_data(world, {0: ("50", "x"), 1: ("50", "x")}),
    )
    assert response.status_code == 403
    assert not TechnicalScore.objects.filter(bid=recused_bid).exists()


def test_a_member_who_has_not_declared_cannot_open_the_bid(client):
    world = in_evaluation()
    client.force_login(world.members[0])
    assert client.get(url("evaluation_scores", world.tender.pk, world.bids[0].pk)).status_code == 403
    response = client.get(url("opened_envelope", world.tender.pk, world.bids[0].pk, "technical"))
    assert response.status_code == 403 and b"Approach 0" not in response.content


def test_a_member_never_sees_the_others_scores_before_all_have_submitted(client):
    world = in_evaluation()
    declare_all(world)
    comply_all(world)
    for m, user in enumerate(evaluators(world)):
        for b, bid in enumerate(world.bids):
            for c, criterion in enumerate(world.criteria):
                evaluation_services.score_save(
                    actor=user, bid=bid, criterion=criterion, score=SCORES[b][m][c], justification=f"SECRET-{m}-{b}-{c}"
                )
    evaluation_services.scores_submit(actor=world.chair, tender=world.tender)
    evaluation_services.scores_submit(actor=world.members[0], tender=world.tender)
    for m, user in enumerate(evaluators(world)):
        client.force_login(user)
        pages = [text(client.get(url("evaluation_workspace", world.tender.pk)))]
        pages += [text(client.get(url("evaluation_scores", world.tender.pk, bid.pk))) for bid in world.bids]
        for page in pages:
            assert "Score matrix" not in page
            for other in {0, 1, 2} - {m}:
                assert f"SECRET-{other}-" not in page
        assert f"SECRET-{m}-0-0" in pages[1]  # one's own sheet is there
    # The tender's officer cannot read them either, before all are in.
    client.force_login(world.officer)
    assert "SECRET-" not in text(client.get(url("evaluation_committee", world.tender.pk)))
    assert client.get(url("evaluation_workspace", world.tender.pk)).status_code == 403

    evaluation_services.scores_submit(actor=world.members[1], tender=world.tender)
    client.force_login(world.members[0])
    page = text(client.get(url("evaluation_workspace", world.tender.pk)))
    assert "Score matrix" in page and "SECRET-2-0-0" in page


def test_a_committee_member_cannot_approve_the_award(client):
    world = recommended(in_evaluation())
    for user in (world.members[0], world.chair):
        client.force_login(user)
        response = client.post(url("award_approve", world.tender.pk), follow=True)
        assert "someone else must decide on the award" in text(response)
    world.tender.refresh_from_db()
    assert world.tender.status == TenderStatus.AWARD_PENDING
    assert AuditEvent.objects.filter(action="award.approval_refused").count() == 2


def test_an_approver_who_sat_on_the_committee_cannot_approve(client):
    world = opened_tender()
    both = UserFactory(agency=world.tender.agency, roles=[Role.APPROVER, Role.COMMITTEE_MEMBER])
    world.members[1] = both
    for user, chair in [(world.chair, True), *[(m, False) for m in world.members]]:
        evaluation_services.evaluation_member_add(actor=world.officer, tender=world.tender, user=user, is_chair=chair)
    evaluation_services.evaluation_start(actor=world.officer, tender=world.tender)
    world.tender.refresh_from_db()
    recommended(world)

    client.force_login(both)
    page = text(client.get(url("award_detail", world.tender.pk)))
    assert "Approve the award" not in page
    assert "someone else must decide on the award" in page
    response = client.post(url("award_approve", world.tender.pk), follow=True)
    assert "someone else must decide on the award" in " ".join(messages_of(response))
    response = client.post(url("award_return", world.tender.pk), {"comments": "Again."}, follow=True)
    assert "someone else must decide on the award" in " ".join(messages_of(response))
    world.tender.refresh_from_db()
    assert world.tender.status == TenderStatus.AWARD_PENDING
    assert world.tender.recommendations.get().status == RecommendationStatus.PENDING

    client.force_login(world.approver)  # an approver outside the committee may
    response = client.post(url("award_return", world.tender.pk), {"comments": "Check the low price."})
    assert response.status_code == 302
    world.tender.refresh_from_db()
    assert world.tender.status == TenderStatus.EVALUATION
    client.force_login(world.chair)
    assert "Check the low price." in text(client.get(url("evaluation_workspace", world.tender.pk)))


def test_bidders_see_only_their_own_result_and_others_nothing(client, vendor_user):
    world = recommended(in_evaluation())
    evaluation_services.award_approve(actor=world.approver, tender=world.tender)
    client.force_login(world.admins[0])  # the winner
    page = text(client.get(url("award_results", world.tender.pk)))
    assert "Your bid is the one recommended" in page
    assert "72.36" not in page and str(world.bids[1].vendor) not in page
    assert str(world.bids[2].vendor) not in page

    outsider = bidder()[1]  # a verified vendor that did not bid
    for user in (outsider, vendor_user, world.officer, world.chair):
        client.force_login(user)
        assert client.get(url("award_results", world.tender.pk)).status_code == 403
        assert client.post(url("complaint_file", world.tender.pk), {"grounds": "Me too."}).status_code == 403
    assert not Complaint.objects.exists()
    client.force_login(outsider)
    assert client.get(url("award_detail", world.tender.pk)).status_code == 403


def test_a_complaint_after_the_standstill_is_refused(client):
    world = recommended(in_evaluation())
    recommendation = evaluation_services.award_approve(actor=world.approver, tender=world.tender)
    client.force_login(world.admins[1])
    with clock(recommendation.standstill_ends_at):
        page = text(client.get(url("award_results", world.tender.pk)))
        assert "File the complaint" not in page
        response = client.post(url("complaint_file", world.tender.pk), {"grounds": "Late."})
    assert "only during the standstill" in text(response)
    assert not Complaint.objects.exists()


def test_an_officer_of_another_agency_is_refused_every_page(client, other_officer):
    world = recommended(in_evaluation())
    evaluation_services.award_approve(actor=world.approver, tender=world.tender)
    complaint = evaluation_services.complaint_file(actor=world.admins[1], tender=world.tender, grounds="Unfair.")
    tender, bid, criterion = world.tender, world.bids[0], world.criteria[0]
    seat = EvaluationMember.objects.filter(tender=tender).first()
    client.force_login(other_officer)
    pages = [
        url("evaluation_committee", tender.pk),
        url("evaluation_workspace", tender.pk),
        url("evaluation_scores", tender.pk, bid.pk),
        url("award_detail", tender.pk),
        url("award_results", tender.pk),
        url("complaint_list", tender.pk),
        url("complaint_detail", tender.pk, complaint.pk),
    ]
    for page in pages:
        response = client.get(page)
        assert response.status_code == 403, page
        assert b"Unfair." not in response.content
    actions = [
        url("evaluation_committee", tender.pk),
        url("evaluation_member_remove", tender.pk, seat.pk),
        url("evaluation_start", tender.pk),
        url("evaluation_declare", tender.pk, bid.pk),
        url("evaluation_compliance", tender.pk, bid.pk),
        url("evaluation_scores", tender.pk, bid.pk),
        url("evaluation_submit", tender.pk),
        url("evaluation_consensus", tender.pk, bid.pk, criterion.pk),
        url("evaluation_conclude", tender.pk),
        url("evaluation_price_review", tender.pk, bid.pk),
        url("evaluation_recommend", tender.pk),
        url("award_approve", tender.pk),
        url("award_return", tender.pk),
        url("complaint_file", tender.pk),
        url("complaint_review_start", tender.pk, complaint.pk),
        url("complaint_decide", tender.pk, complaint.pk),
    ]
    for action in actions:
        assert client.post(action, {"user": other_officer.pk, "comments": "x"}).status_code == 403, action
    world.tender.refresh_from_db()
    assert world.tender.status == TenderStatus.STANDSTILL
    complaint.refresh_from_db()
    assert complaint.status == ComplaintStatus.SUBMITTED


def test_the_tender_page_links_to_evaluation_and_award(client):
    world = recommended(in_evaluation())
    client.force_login(world.officer)
    page = text(client.get(world.tender.get_absolute_url()))
    assert url("evaluation_committee", world.tender.pk) in page
    assert url("award_detail", world.tender.pk) in page
    assert f'"{url("evaluation_workspace", world.tender.pk)}"' not in page  # the officer is not on the committee
    assert "Sealed bids" in page


def test_the_progress_strip_shows_where_the_evaluation_stands(client):
    world = in_evaluation()
    declare_all(world)
    client.force_login(world.chair)
    page = text(client.get(url("evaluation_workspace", world.tender.pk)))
    assert '<li aria-current="step"><span class="chip status-in_progress">2. Compliance' in page


def test_the_workspace_needs_a_bounded_number_of_queries(client, django_assert_max_num_queries):
    """A chair's workspace with three bids and three members, while scoring and once ranked: a fixed budget of
    queries. (The services it calls read some facts bid by bid, so the budget is for this committee's size.)"""
    world = in_evaluation()
    declare_all(world)
    comply_all(world)
    client.force_login(world.chair)
    with django_assert_max_num_queries(30):
        response = client.get(url("evaluation_workspace", world.tender.pk))
    assert response.status_code == 200
    assert text(response).count("Technical envelope") == 3

    score_and_submit_all(world)
    evaluation_services.consensus_record(
        actor=world.chair, bid=world.bids[1], criterion=world.criteria[0], score="80", reason="Agreed."
    )
    evaluation_services.technical_conclude(actor=world.chair, tender=world.tender)
    open_financial(world)
    with django_assert_max_num_queries(55):
        response = client.get(url("evaluation_workspace", world.tender.pk))
    assert "Ranking" in text(response) and "Score matrix" in text(response)


@pytest.mark.parametrize("language", ["en", "ar"])
def test_the_evaluation_pages_are_accessible_in_both_languages(client, language):
    world = in_evaluation()
    declare_all(world, conflict={(world.members[0].pk, world.bids[2].pk)})
    comply_all(world)
    tender = world.tender
    undeclared = in_evaluation(prices=("900.00",))
    checked = []
    for user, target in [
        (world.officer, url("evaluation_committee", tender.pk)),
        (world.chair, url("evaluation_workspace", tender.pk)),
        (world.members[0], url("evaluation_workspace", tender.pk)),
        (world.members[0], url("evaluation_scores", tender.pk, world.bids[0].pk)),
        (undeclared.chair, url("evaluation_workspace", undeclared.tender.pk)),
    ]:
        client.force_login(user)
        response = client.get(target.replace("/en/", f"/{language}/", 1))
        assert response.status_code == 200, target
        report = check_page(text(response))
        assert report.lang == language and report.dir == ("rtl" if language == "ar" else "ltr")
        assert report.main_count == 1
        assert not report.unlabelled_controls, (target, report.unlabelled_controls)
        assert not report.duplicate_ids, (target, report.duplicate_ids)
        assert not report.dangling_references, (target, report.dangling_references)
        checked.append(target)
    assert len(checked) == 5


def test_refusals_are_said_clearly_and_change_nothing(client):
    world = in_evaluation()
    declare_all(world)
    bid = world.bids[0]
    client.force_login(world.members[0])  # not the chair
    response = client.post(
        url("evaluation_compliance", world.tender.pk, bid.pk), {f"compliance-{bid.pk}-responsive": "yes"}
    )
    assert "Only the chair" in text(response)
    response = client.post(url("evaluation_submit", world.tender.pk), follow=True)
    assert "has not yet decided whether" in " ".join(messages_of(response))
    assert not EvaluationMember.objects.filter(scores_submitted_at__isnull=False).exists()

    recommended_world = recommended(in_evaluation())
    tender = recommended_world.tender
    evaluation_services.award_approve(actor=recommended_world.approver, tender=tender)
    client.force_login(recommended_world.approver)
    response = client.post(url("award_approve", tender.pk), follow=True)  # a second approval
    assert "no recommendation awaiting this step" in " ".join(messages_of(response))
    complaint = evaluation_services.complaint_file(actor=recommended_world.admins[1], tender=tender, grounds="Unfair.")
    client.force_login(recommended_world.chair)  # a committee member cannot decide a complaint on its evaluation
    assert client.get(url("complaint_detail", tender.pk, complaint.pk)).status_code == 403
    client.force_login(recommended_world.officer)  # the officer may read it, not decide it
    page = text(client.get(url("complaint_detail", tender.pk, complaint.pk)))
    assert "Unfair." in page and "Start review" not in page
    assert client.post(url("complaint_review_start", tender.pk, complaint.pk)).status_code == 403
    complaint.refresh_from_db()
    assert complaint.status == ComplaintStatus.SUBMITTED
