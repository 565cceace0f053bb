"""Opening, evaluation, award and complaints over the API.

Each endpoint finds the tender the caller may see (``visible_tender``: else 404), checks what the matching web
view checks (``procurement/opening_views.py``, ``procurement/evaluation_views.py``), then calls the one service
the web view calls (``opening_services``, ``evaluation_services``): the services check everything again, audit
the change and refuse with ``PermissionDenied`` (403), ``ActionRefused`` (409) or ``ValidationError`` (400).

What a committee member reads is what the web workspace shows them: their own declarations and scores, a bid
they are recused from only by name, and nobody else's scores before every member has submitted.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.shortcuts import get_object_or_404
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, generics, permissions, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from api.evaluation_serializers import (
    CommentsSerializer,
    ComplaintDecisionInputSerializer,
    ComplaintSerializer,
    ComplianceInputSerializer,
    ConsensusInputSerializer,
    DeclarationInputSerializer,
    EvaluationMemberInputSerializer,
    EvaluationSerializer,
    GroundsSerializer,
    NoPayloadSerializer,
    OpeningConfirmSerializer,
    OpeningSerializer,
    PriceReviewInputSerializer,
    ReasonsSerializer,
    RecommendationSerializer,
    ScoreSheetInputSerializer,
    TransitionSerializer,
)
from api.idempotency import idempotent
from api.pagination import KeysetPagination
from api.tender_views import visible_tender
from api.views import IDEMPOTENCY_PARAMETER
from procurement import evaluation_services as services
from procurement import opening_services
from procurement.bid_services import vendor_of
from procurement.evaluation_forms import EvaluationMemberForm
from procurement.models import (
    Bid,
    Complaint,
    ComplianceDecision,
    ConflictDeclaration,
    EvaluationMember,
    Recommendation,
    TechnicalScore,
    Tender,
)
from procurement.models.bids import BidStatus, OpeningStatus
from procurement.models.evaluation import RecommendationStatus
from procurement.models.tenders import TenderStatus

TENDER_ID = OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH, description="The tender's id.")
REFUSALS = {
    400: OpenApiResponse(description="Invalid request (the messages for each field in `errors`)"),
    403: OpenApiResponse(description="Not allowed for the caller"),
    404: OpenApiResponse(description="No such tender (or bid, complaint, transition), or not visible to the caller"),
    409: OpenApiResponse(description="Refused in the present state (wrong state, four eyes, already done)"),
    422: OpenApiResponse(description="Idempotency-Key reused with another body"),
}


# Shared pieces ------------------------------------------------------------------------------------------------


def _input(serializer_class, request) -> dict:
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def _private(response: Response) -> Response:
    patch_cache_control(response, private=True, no_store=True)
    return response


def _member_or_403(request, tender: Tender) -> EvaluationMember:
    """As the workspace: only a member of the evaluation committee (with the right to evaluate)."""
    member = services.member_of(request.user, tender)
    if member is None or not request.user.has_perm("procurement.evaluate", tender):
        raise exceptions.PermissionDenied()
    return member


def _require(request, permission: str, tender: Tender) -> None:
    if not request.user.has_perm(permission, tender):
        raise exceptions.PermissionDenied()


def _evaluated_bid(tender: Tender, bid_pk: int) -> Bid:
    return get_object_or_404(Bid.objects.select_related("vendor", "tender"), pk=bid_pk, tender=tender)


def _criterion(tender: Tender, pk: int, field: str = "criterion"):
    criterion = tender.criteria.filter(pk=pk).first()
    if criterion is None:
        raise exceptions.ValidationError({field: [_("This criterion is not one of the tender's.")]})
    return criterion


@dataclass(frozen=True)
class Transition:
    """One action: offered when the web page would show its button; performed by the service alone."""

    name: str
    label: Any
    payload: type[serializers.Serializer]
    offered: Callable[[Any, Tender], bool]
    perform: Callable[[Any, Tender, dict], Any]

    def describe(self, url: str) -> dict:
        fields = [name for name, field in self.payload().fields.items() if field.required]
        return {"name": self.name, "label": str(self.label), "fields": fields, "url": url}


def _offered(request, tender: Tender, transitions: dict[str, Transition], base: str) -> list[dict]:
    return [t.describe(f"{base}{t.name}/") for t in transitions.values() if t.offered(request.user, tender)]


# The opening ceremony -----------------------------------------------------------------------------------------


def _opening_answer(opening) -> dict:
    return OpeningSerializer(
        {
            "id": opening.pk,
            "stage": opening.stage,
            "status": opening.status,
            "completed": opening.status == OpeningStatus.COMPLETED,
            "expires_at": opening.expires_at,
        }
    ).data


@extend_schema(parameters=[TENDER_ID])
class OpeningConfirmView(APIView):
    """One opening-committee member's confirmation with their password: the first waits for a second, distinct
    member; the second opens the envelopes (technical, then — after the technical evaluation — financial)."""

    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(
        summary="Confirm the opening of the bids",
        parameters=[IDEMPOTENCY_PARAMETER],
        request=OpeningConfirmSerializer,
        responses={200: OpeningSerializer, **REFUSALS},
    )
    @idempotent
    def post(self, request, pk: int):
        tender = visible_tender(request, pk)
        data = _input(OpeningConfirmSerializer, request)
        try:
            opening = opening_services.opening_confirm(
                actor=request.user, tender=tender, password=data["password"], recovery_share=data["recovery_share"]
            )
        except opening_services.WrongOpeningPassword as refusal:
            raise exceptions.ValidationError({"password": [refusal.message]}) from None
        return _private(Response(_opening_answer(opening)))


# The evaluation: what the caller sees ----------------------------------------------------------------------------


def _recommendation_answer(recommendation: Recommendation | None) -> dict | None:
    if recommendation is None:
        return None
    return RecommendationSerializer(
        {
            "id": recommendation.pk,
            "status": recommendation.status,
            "bid": recommendation.bid_id,
            "bidder": str(recommendation.bid.vendor),
            "reasons": recommendation.reasons,
            "recommended_at": recommendation.recommended_at,
            "decided_at": recommendation.decided_at,
            "standstill_ends_at": recommendation.standstill_ends_at,
            "comments": recommendation.comments,
            "results": recommendation.evaluation.get("results", []),
        }
    ).data


def _latest_recommendation(tender: Tender, *statuses: str) -> Recommendation | None:
    recommendations = Recommendation.objects.filter(tender=tender).select_related("bid__vendor")
    if statuses:
        recommendations = recommendations.filter(status__in=statuses)
    return recommendations.order_by("-id").first()


def _matrix(tender: Tender, hidden: set[int]) -> list[dict]:
    matrix = services.score_matrix(tender)
    rows = []
    for row in matrix["rows"]:
        if row["bid"].pk in hidden:
            continue
        for cell in row["cells"]:
            rows.append(
                {
                    "bid": row["bid"].pk,
                    "criterion": cell["criterion"].pk,
                    "scores": [
                        {"member": s.member.user.email, "score": f"{s.score:f}", "justification": s.justification}
                        for s in cell["scores"]
                    ],
                    "spread": f"{cell['spread']:f}",
                    "over_spread": cell["over_spread"],
                    "consensus": f"{cell['consensus'].score:f}" if cell["consensus"] else None,
                    "agreed": f"{cell['agreed']:f}" if cell["agreed"] is not None else None,
                }
            )
    return rows


def _evaluation_answer(request, tender: Tender) -> dict:
    user = request.user
    member = services.member_of(user, tender)
    if member is not None and not user.has_perm("procurement.evaluate", tender):
        member = None
    if member is None and not user.has_perm("procurement.view_evaluation", tender):
        raise exceptions.PermissionDenied()
    bids = list(services.evaluated_bids(tender))
    compliance = {c.bid_id: c for c in ComplianceDecision.objects.filter(bid__in=bids)}
    seats = services.members(tender)
    answer: dict[str, Any] = {
        "tender": tender.pk,
        "status": tender.status,
        "criteria": [
            {"id": c.pk, "name": str(c), "weight": f"{c.weight:f}"} for c in tender.criteria.order_by("order", "pk")
        ],
        "members": [
            {
                "id": seat.pk,
                "user": seat.user_id,
                "name": str(seat.user),
                "chair": seat.is_chair,
                "external": seat.is_external,
                "submitted": seat.scores_submitted_at is not None,
            }
            for seat in seats
        ],
        "all_scores_in": services.all_scores_in(tender),
        "recommendation": _recommendation_answer(_latest_recommendation(tender)),
        "transitions": _offered(request, tender, EVALUATION_TRANSITIONS, f"{request.path}transitions/"),
    }
    hidden: set[int] = set()
    if member is not None:
        declarations = {d.bid_id: d for d in ConflictDeclaration.objects.filter(member=member)}
        hidden = {bid_id for bid_id, d in declarations.items() if d.has_conflict}
        rows = []
        for bid in bids:
            declaration = declarations.get(bid.pk)
            seen = declaration is not None and not declaration.has_conflict
            row = {"id": bid.pk, "bidder": str(bid.vendor), "declaration": None, "recused": False}
            if declaration is not None:
                row["declaration"] = "conflict" if declaration.has_conflict else "no_conflict"
                row["recused"] = declaration.has_conflict
            if seen:
                decision = compliance.get(bid.pk)
                row["status"] = bid.status
                row["compliance"] = {"responsive": decision.responsive, "reason": decision.reason} if decision else None
            rows.append(row)
        mine = (
            TechnicalScore.objects.filter(member=member).exclude(bid_id__in=hidden).order_by("bid_id", "criterion_id")
        )
        submitted = member.scores_submitted_at is not None
        answer.update(
            role="chair" if member.is_chair else "member",
            bids=rows,
            my_scores=[
                {
                    "bid": s.bid_id,
                    "criterion": s.criterion_id,
                    "score": f"{s.score:f}",
                    "justification": s.justification,
                }
                for s in mine
            ],
            submitted=submitted,
            sheet_problems=[str(p) for p in services.sheet_problems(member)]
            if tender.status == TenderStatus.EVALUATION and not submitted
            else [],
        )
    else:
        answer.update(
            role="overseer",
            bids=[
                {
                    "id": bid.pk,
                    "bidder": str(bid.vendor),
                    "status": bid.status,
                    "compliance": {"responsive": compliance[bid.pk].responsive, "reason": compliance[bid.pk].reason}
                    if bid.pk in compliance
                    else None,
                }
                for bid in bids
            ],
            my_scores=None,
            submitted=None,
            sheet_problems=[],
        )
    answer["matrix"] = (
        _matrix(tender, hidden) if answer["all_scores_in"] and services.may_see_scores(user, tender) else None
    )
    return EvaluationSerializer(answer).data


def _is_chair(user, tender: Tender) -> bool:
    member = services.member_of(user, tender)
    return member is not None and member.is_chair


def _in_evaluation(tender: Tender) -> bool:
    return tender.status == TenderStatus.EVALUATION


def _may_submit(user, tender: Tender) -> bool:
    member = services.member_of(user, tender)
    return _in_evaluation(tender) and member is not None and member.scores_submitted_at is None


def _may_conclude(user, tender: Tender) -> bool:
    return (
        _in_evaluation(tender)
        and _is_chair(user, tender)
        and services.all_scores_in(tender)
        and services.evaluated_bids(tender).filter(status=BidStatus.OPENED).exists()
    )


def _may_recommend(user, tender: Tender) -> bool:
    return (
        _in_evaluation(tender)
        and _is_chair(user, tender)
        and services.evaluated_bids(tender).exists()
        and not services.evaluated_bids(tender).filter(status=BidStatus.OPENED).exists()
    )


def _guard_member(perform):
    """The workspace's check (a member of the committee) before the service's own."""

    def run(user, tender, data):
        if services.member_of(user, tender) is None or not user.has_perm("procurement.evaluate", tender):
            raise exceptions.PermissionDenied()
        return perform(user, tender, data)

    return run


def _guard_officer(perform):
    def run(user, tender, data):
        if not user.has_perm("procurement.manage_evaluation_committee", tender):
            raise exceptions.PermissionDenied()
        return perform(user, tender, data)

    return run


EVALUATION_TRANSITIONS = {
    t.name: t
    for t in (
        Transition(
            "start",
            gettext_lazy("Start the evaluation"),
            NoPayloadSerializer,
            lambda user, tender: (
                tender.status == TenderStatus.OPENED
                and user.has_perm("procurement.manage_evaluation_committee", tender)
            ),
            _guard_officer(lambda user, tender, data: services.evaluation_start(actor=user, tender=tender)),
        ),
        Transition(
            "submit",
            gettext_lazy("Submit my scores"),
            NoPayloadSerializer,
            _may_submit,
            _guard_member(lambda user, tender, data: services.scores_submit(actor=user, tender=tender)),
        ),
        Transition(
            "conclude",
            gettext_lazy("Conclude the technical evaluation"),
            NoPayloadSerializer,
            _may_conclude,
            _guard_member(lambda user, tender, data: services.technical_conclude(actor=user, tender=tender)),
        ),
        Transition(
            "recommend",
            gettext_lazy("Recommend the award"),
            ReasonsSerializer,
            _may_recommend,
            _guard_member(
                lambda user, tender, data: services.recommend(actor=user, tender=tender, reasons=data["reasons"])
            ),
        ),
    )
}


@extend_schema(parameters=[TENDER_ID])
class EvaluationView(APIView):
    """The evaluation as the caller may see it: a member's own workspace (declarations, their scores, the
    others' only once all are in), or — for the tender's officers, approvers and auditors — its progress."""

    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(
        summary="The evaluation, as the caller may see it", responses={200: EvaluationSerializer, **REFUSALS}
    )
    def get(self, request, pk: int):
        tender = visible_tender(request, pk)
        return _private(Response(_evaluation_answer(request, tender)))


@extend_schema(parameters=[TENDER_ID])
class EvaluationTransitionListView(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(
        summary="The evaluation's transitions the caller may perform now",
        responses={200: TransitionSerializer(many=True), **REFUSALS},
    )
    def get(self, request, pk: int):
        tender = visible_tender(request, pk)
        return Response(
            TransitionSerializer(_offered(request, tender, EVALUATION_TRANSITIONS, request.path), many=True).data
        )


def _perform(request, tender: Tender, transitions: dict[str, Transition], name: str):
    transition = transitions.get(name)
    if transition is None:
        raise exceptions.NotFound()
    data = _input(transition.payload, request)
    return transition.perform(request.user, tender, data)


@extend_schema(
    parameters=[
        TENDER_ID,
        OpenApiParameter(
            "name", OpenApiTypes.STR, OpenApiParameter.PATH, description="start, submit, conclude or recommend."
        ),
    ]
)
class EvaluationTransitionView(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(
        summary="Perform a transition of the evaluation",
        description="Payloads — `start`, `submit`, `conclude`: {}; `recommend`: reasons.",
        parameters=[IDEMPOTENCY_PARAMETER],
        request={"application/json": OpenApiTypes.OBJECT},
        responses={200: EvaluationSerializer, **REFUSALS},
    )
    @idempotent
    def post(self, request, pk: int, name: str):
        tender = visible_tender(request, pk)
        _perform(request, tender, EVALUATION_TRANSITIONS, name)
        tender.refresh_from_db()
        return _private(Response(_evaluation_after(request, tender)))


def _evaluation_after(request, tender: Tender) -> dict:
    """The evaluation as the caller sees it after an action (or a 200 with nothing if they no longer may)."""
    try:
        return _evaluation_answer(request, tender)
    except exceptions.PermissionDenied:
        return {}


# The committee --------------------------------------------------------------------------------------------------


@extend_schema(parameters=[TENDER_ID])
class EvaluationMembersView(APIView):
    """Appoint a member of the evaluation committee (officers of the tender's agency, before it starts)."""

    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(
        summary="Appoint a member of the evaluation committee",
        parameters=[IDEMPOTENCY_PARAMETER],
        request=EvaluationMemberInputSerializer,
        responses={201: EvaluationSerializer, **REFUSALS},
    )
    @idempotent
    def post(self, request, pk: int):
        tender = visible_tender(request, pk)
        _require(request, "procurement.view_tender_internals", tender)
        _require(request, "procurement.manage_evaluation_committee", tender)
        data = _input(EvaluationMemberInputSerializer, request)
        form = EvaluationMemberForm(
            {"user": data["user"], "is_chair": data["is_chair"], "is_external": data["is_external"]}, tender=tender
        )
        if not form.is_valid():
            raise exceptions.ValidationError({field: list(errors) for field, errors in form.errors.items()})
        services.evaluation_member_add(actor=request.user, tender=tender, **form.cleaned_data)
        return _private(Response(_evaluation_after(request, tender), status=status.HTTP_201_CREATED))


@extend_schema(
    parameters=[
        TENDER_ID,
        OpenApiParameter("member", OpenApiTypes.INT, OpenApiParameter.PATH, description="The seat's id."),
    ]
)
class EvaluationMemberView(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(summary="Remove a member of the evaluation committee", responses={204: None, **REFUSALS})
    def delete(self, request, pk: int, member: int):
        tender = visible_tender(request, pk)
        _require(request, "procurement.manage_evaluation_committee", tender)
        seat = get_object_or_404(EvaluationMember.objects.select_related("user"), pk=member, tender=tender)
        services.evaluation_member_remove(actor=request.user, tender=tender, member=seat)
        return Response(status=status.HTTP_204_NO_CONTENT)


# One bid: declaration, compliance, scores, consensus, price review ------------------------------------------------

BID_PARAMETERS = [
    TENDER_ID,
    OpenApiParameter("bid", OpenApiTypes.INT, OpenApiParameter.PATH, description="The bid's id."),
]


class BidActionBase(APIView):
    """A member's action on one bid of the tender: the workspace's check, then the one service."""

    permission_classes = [permissions.IsAuthenticated]
    input_serializer: type[serializers.Serializer]

    def act(self, user, tender: Tender, bid: Bid, data: dict):  # pragma: no cover - overridden
        raise NotImplementedError

    @idempotent
    def post(self, request, pk: int, bid: int):
        tender = visible_tender(request, pk)
        _member_or_403(request, tender)
        found = _evaluated_bid(tender, bid)
        data = _input(self.input_serializer, request)
        self.act(request.user, tender, found, data)
        return _private(Response(_evaluation_after(request, tender)))


def _action_schema(summary: str, input_serializer):
    return extend_schema(
        summary=summary,
        parameters=[*BID_PARAMETERS, IDEMPOTENCY_PARAMETER],
        request=input_serializer,
        responses={200: EvaluationSerializer, **REFUSALS},
    )


class DeclarationView(BidActionBase):
    input_serializer = DeclarationInputSerializer

    def act(self, user, tender, bid, data):
        services.declaration_make(actor=user, bid=bid, has_conflict=data["has_conflict"], statement=data["statement"])

    @_action_schema("Declare a conflict of interest with the bidder, or none", DeclarationInputSerializer)
    def post(self, request, pk: int, bid: int):
        return super().post(request, pk, bid)


class ComplianceView(BidActionBase):
    input_serializer = ComplianceInputSerializer

    def act(self, user, tender, bid, data):
        services.compliance_decide(actor=user, bid=bid, responsive=data["responsive"], reason=data["reason"])

    @_action_schema("Record the bid's administrative compliance (the chair)", ComplianceInputSerializer)
    def post(self, request, pk: int, bid: int):
        return super().post(request, pk, bid)


class ScoresView(BidActionBase):
    """Save the caller's scores of the bid: every row, or none (a refused row leaves nothing saved)."""

    input_serializer = ScoreSheetInputSerializer

    def act(self, user, tender, bid, data):
        rows = [(_criterion(tender, row["criterion"]), row) for row in data["scores"]]
        with transaction.atomic():
            for criterion, row in rows:
                services.score_save(
                    actor=user, bid=bid, criterion=criterion, score=row["score"], justification=row["justification"]
                )

    @_action_schema("Save my scores of the bid", ScoreSheetInputSerializer)
    def post(self, request, pk: int, bid: int):
        return super().post(request, pk, bid)


class ConsensusView(BidActionBase):
    input_serializer = ConsensusInputSerializer

    def act(self, user, tender, bid, data):
        criterion = _criterion(tender, data["criterion"])
        services.consensus_record(actor=user, bid=bid, criterion=criterion, score=data["score"], reason=data["reason"])

    @_action_schema("Record the committee's consensus score (the chair)", ConsensusInputSerializer)
    def post(self, request, pk: int, bid: int):
        return super().post(request, pk, bid)


class PriceReviewView(BidActionBase):
    input_serializer = PriceReviewInputSerializer

    def act(self, user, tender, bid, data):
        services.price_review(actor=user, bid=bid, decision=data["decision"], reason=data["reason"])

    @_action_schema("Review an abnormally low price (the chair)", PriceReviewInputSerializer)
    def post(self, request, pk: int, bid: int):
        return super().post(request, pk, bid)


# The award --------------------------------------------------------------------------------------------------------


def _may_decide_award(user, tender: Tender) -> bool:
    recommendation = _latest_recommendation(tender)
    return (
        recommendation is not None
        and recommendation.status == RecommendationStatus.PENDING
        and user.has_perm("procurement.approve_award", tender)
        and services.member_of(user, tender) is None
        and user.pk != recommendation.recommended_by_id
    )


AWARD_TRANSITIONS = {
    t.name: t
    for t in (
        Transition(
            "approve",
            gettext_lazy("Approve the award"),
            NoPayloadSerializer,
            _may_decide_award,
            lambda user, tender, data: services.award_approve(actor=user, tender=tender),
        ),
        Transition(
            "return",
            gettext_lazy("Return to the committee"),
            CommentsSerializer,
            _may_decide_award,
            lambda user, tender, data: services.award_return(actor=user, tender=tender, comments=data["comments"]),
        ),
    )
}


@extend_schema(parameters=[TENDER_ID])
class AwardView(APIView):
    """The latest recommendation (as on the award page: officers, approvers, auditors)."""

    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(summary="The recommendation of the award", responses={200: RecommendationSerializer, **REFUSALS})
    def get(self, request, pk: int):
        tender = visible_tender(request, pk)
        _require(request, "procurement.view_evaluation", tender)
        recommendation = _latest_recommendation(tender)
        if recommendation is None:
            raise exceptions.NotFound()
        return _private(Response(_recommendation_answer(recommendation)))


@extend_schema(parameters=[TENDER_ID])
class AwardTransitionListView(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(
        summary="The award's transitions the caller may perform now",
        responses={200: TransitionSerializer(many=True), **REFUSALS},
    )
    def get(self, request, pk: int):
        tender = visible_tender(request, pk)
        _require(request, "procurement.view_evaluation", tender)
        return Response(
            TransitionSerializer(_offered(request, tender, AWARD_TRANSITIONS, request.path), many=True).data
        )


@extend_schema(
    parameters=[
        TENDER_ID,
        OpenApiParameter("name", OpenApiTypes.STR, OpenApiParameter.PATH, description="approve or return."),
    ]
)
class AwardTransitionView(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(
        summary="Approve the award or return it to the committee (an approver who did not sit on it)",
        description="Payloads — `approve`: {}; `return`: comments.",
        parameters=[IDEMPOTENCY_PARAMETER],
        request={"application/json": OpenApiTypes.OBJECT},
        responses={200: RecommendationSerializer, **REFUSALS},
    )
    @idempotent
    def post(self, request, pk: int, name: str):
        tender = visible_tender(request, pk)
        _require(request, "procurement.view_evaluation", tender)
        recommendation = _perform(request, tender, AWARD_TRANSITIONS, name)
        recommendation = Recommendation.objects.select_related("bid__vendor").get(pk=recommendation.pk)
        return _private(Response(_recommendation_answer(recommendation)))


# Complaints -------------------------------------------------------------------------------------------------------


def _complainant_vendor(request, tender: Tender):
    """The web's ``_bidder_bid``: a bidder's people (with the right to complain) who bid on the tender."""
    if not request.user.has_perm("procurement.file_complaint"):
        return None
    vendor = vendor_of(request.user)
    if vendor is None or not Bid.objects.filter(tender=tender, vendor=vendor).exclude(status=BidStatus.DRAFT).exists():
        return None
    return vendor


@extend_schema(parameters=[TENDER_ID])
class ComplaintListView(generics.ListAPIView):
    """Complaints about the award, newest first (keyset pages, filter by ``status``): a bidder files one during
    the standstill and reads its own; the tender's officers, approvers and auditors read them all."""

    permission_classes = [permissions.IsAuthenticated]
    serializer_class = ComplaintSerializer
    pagination_class = KeysetPagination
    filter_backends = [DjangoFilterBackend]
    filterset_fields = ["status"]
    queryset = Complaint.objects.none()

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Complaint.objects.none()
        request = self.request
        tender = visible_tender(request, self.kwargs["pk"])
        complaints = Complaint.objects.filter(tender=tender).select_related("bid__vendor")
        if not request.user.has_perm("procurement.view_tender_internals", tender):
            vendor = _complainant_vendor(request, tender)
            if vendor is None:
                raise exceptions.PermissionDenied()
            complaints = complaints.filter(bid__vendor=vendor)
        return complaints

    def list(self, request, *args, **kwargs):
        return _private(super().list(request, *args, **kwargs))

    @extend_schema(
        summary="File a complaint (a bidder, during the standstill)",
        parameters=[IDEMPOTENCY_PARAMETER],
        request=GroundsSerializer,
        responses={201: ComplaintSerializer, **REFUSALS},
    )
    @idempotent
    def post(self, request, pk: int):
        tender = visible_tender(request, pk)
        if _complainant_vendor(request, tender) is None:
            raise exceptions.PermissionDenied()
        data = _input(GroundsSerializer, request)
        complaint = services.complaint_file(actor=request.user, tender=tender, grounds=data["grounds"])
        complaint = Complaint.objects.select_related("bid__vendor").get(pk=complaint.pk)
        return _private(Response(ComplaintSerializer(complaint).data, status=status.HTTP_201_CREATED))


COMPLAINT_TRANSITIONS = {"review", "decide"}


@extend_schema(
    parameters=[
        TENDER_ID,
        OpenApiParameter("complaint", OpenApiTypes.INT, OpenApiParameter.PATH, description="The complaint's id."),
        OpenApiParameter("name", OpenApiTypes.STR, OpenApiParameter.PATH, description="review or decide."),
    ]
)
class ComplaintTransitionView(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(
        summary="Start the review of a complaint, or decide it (someone outside the committee)",
        description="Payloads — `review`: {}; `decide`: upheld, decision.",
        parameters=[IDEMPOTENCY_PARAMETER],
        request={"application/json": OpenApiTypes.OBJECT},
        responses={200: ComplaintSerializer, **REFUSALS},
    )
    @idempotent
    def post(self, request, pk: int, complaint: int, name: str):
        if name not in COMPLAINT_TRANSITIONS:
            raise exceptions.NotFound()
        tender = visible_tender(request, pk)
        _require(request, "procurement.view_tender_internals", tender)
        found = get_object_or_404(Complaint.objects.select_related("recommendation"), pk=complaint, tender=tender)
        if name == "review":
            _input(NoPayloadSerializer, request)
            services.complaint_review_start(actor=request.user, complaint=found)
        else:
            data = _input(ComplaintDecisionInputSerializer, request)
            services.complaint_decide(
                actor=request.user, complaint=found, upheld=data["upheld"], decision=data["decision"]
            )
        found = Complaint.objects.select_related("bid__vendor").get(pk=found.pk)
        return _private(Response(ComplaintSerializer(found).data))
