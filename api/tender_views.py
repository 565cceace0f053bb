"""Tenders over the API: drafting, the opening committee, what is published with a tender, and its workflow.

Each endpoint checks what the matching web view checks (the same rules, through ``user.has_perm``), then calls
the one service the web view calls (``procurement.tender_services``, ``procurement.opening_services``); the
services check everything again, audit the change and refuse with ``PermissionDenied`` (403),
``ActionRefused`` (409) or ``ValidationError`` (400), which ``api/problems.py`` turns into problem details.
A tender the caller may not see answers 404, as if it did not exist.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.db.models import Exists, OuterRef
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext_lazy as _
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, generics, permissions, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import PersonalKey
from api.idempotency import idempotent
from api.pagination import KeysetPagination
from api.parsers import CappedMultiPartParser, LimitedJSONParser
from api.permissions import HasObjectRule
from api.tender_serializers import (
    MAX_ADDENDUM_DOCUMENTS,
    AddendumCreateSerializer,
    AddendumSerializer,
    AddendumTransitionSerializer,
    AnswerInputSerializer,
    ClarificationSerializer,
    CommentsTransitionSerializer,
    CommitteeMemberInputSerializer,
    EmptyTransitionSerializer,
    OpeningCommitteeSerializer,
    QuestionInputSerializer,
    ReasonTransitionSerializer,
    TenderCreateSerializer,
    TenderDetailSerializer,
    TenderDocumentSerializer,
    TenderDocumentUploadSerializer,
    TenderTransitionResultSerializer,
    TenderTransitionSerializer,
    TenderUpdateSerializer,
    TenderWrittenSerializer,
)
from api.views import IDEMPOTENCY_PARAMETER, TenderViewSet
from core.views_support import require
from procurement import opening_services
from procurement import tender_services as services
from procurement.models import Addendum, Clarification, OpeningCommitteeMember, Tender, TenderDocument
from procurement.models.tenders import AddendumStatus
from procurement.opening_forms import CommitteeMemberForm
from procurement.workflow import TenderActions, addendum_can_be_approved, tender_actions, transition_label

TENDER_ID = OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH, description="The tender's id.")
NAME = OpenApiParameter(
    "name",
    OpenApiTypes.STR,
    OpenApiParameter.PATH,
    description="The transition: submit, approve, return, close, cancel or mark_unsuccessful.",
)
REFUSALS = {
    400: OpenApiResponse(description="Invalid request (the messages for each field in `errors`)"),
    403: OpenApiResponse(description="Not allowed for the caller"),
    404: OpenApiResponse(description="No such tender, or not visible to the caller"),
    409: OpenApiResponse(description="Refused in the tender's present state (wrong state, deadline, four eyes)"),
    422: OpenApiResponse(description="Idempotency-Key reused with another body"),
}


def visible_tender(request, pk) -> Tender:
    """The tender if the caller may see it (the rule ``procurement.view_tender``, as on the web); else 404."""
    related = ("agency", "phase__programme", "created_by", "submitted_by", "approved_by")
    tender = get_object_or_404(Tender.objects.select_related(*related), pk=pk)
    if not request.user.has_perm("procurement.view_tender", tender):
        raise exceptions.NotFound()
    return tender


def tender_answer(request, tender: Tender, serializer_class=TenderWrittenSerializer, **extra) -> dict:
    tender.shows_internals = request.user.has_perm("procurement.view_tender_internals", tender)
    for name, value in extra.items():
        setattr(tender, name, value)
    return serializer_class(tender, context={"request": request}).data


def _service_data(validated: dict) -> dict:
    return {name: validated[name] for name in services.TENDER_FIELDS if name in validated}


def _criteria(validated: dict) -> list[dict] | None:
    if "criteria" not in validated:
        return None
    return [dict(item) for item in validated["criteria"]]


# The tenders: read as the read-only resource, plus drafting -----------------------------------------


class TenderResourceViewSet(TenderViewSet):
    """Tenders: read by anyone as on the portal and the officers' list; drafted and edited by the officers of
    the tender's agency (``tender_create``, ``tender_update``, the services of the web form)."""

    # Reads are public; a write needs a caller (anonymous: 401 before the idempotency record is looked up).
    permission_classes = [permissions.IsAuthenticatedOrReadOnly, HasObjectRule]

    def get_serializer_class(self):
        if self.action == "create":
            return TenderCreateSerializer
        if self.action == "partial_update":
            return TenderUpdateSerializer
        if self.action == "retrieve":
            return TenderDetailSerializer
        return super().get_serializer_class()

    @extend_schema(
        summary="Create a draft tender",
        parameters=[IDEMPOTENCY_PARAMETER],
        request=TenderCreateSerializer,
        responses={201: TenderWrittenSerializer, **REFUSALS},
    )
    @idempotent
    def create(self, request, *args, **kwargs):
        require(request, "procurement.add_tender")
        if request.user.agency_id is None:
            raise exceptions.PermissionDenied(_("Only an officer of an agency prepares tenders."))
        serializer = TenderCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        tender = services.tender_create(
            actor=request.user, phase=data["phase"], data=_service_data(data), criteria=_criteria(data)
        )
        return Response(tender_answer(request, tender), status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Change a draft tender",
        request=TenderUpdateSerializer,
        responses={200: TenderWrittenSerializer, **{k: v for k, v in REFUSALS.items() if k != 422}},
    )
    def partial_update(self, request, *args, **kwargs):
        tender = self.get_object()
        require(request, "procurement.change_tender", tender)
        serializer = TenderUpdateSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        tender = services.tender_update(
            actor=request.user, tender=tender, data=_service_data(data), criteria=_criteria(data)
        )
        return Response(tender_answer(request, tender))


# What is published with a tender --------------------------------------------------------------------


class NumberKeysetPagination(KeysetPagination):
    ordering = "number"


class TenderChildList(generics.ListAPIView):
    """A list that belongs to one tender: everything for those who see its internals, otherwise what the
    portal publishes (the tender itself must be visible to the caller, or the answer is 404)."""

    permission_classes = [permissions.IsAuthenticatedOrReadOnly]
    pagination_class = KeysetPagination
    filter_backends = [DjangoFilterBackend]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return self.queryset
        tender = visible_tender(self.request, self.kwargs["pk"])
        internals = self.request.user.has_perm("procurement.view_tender_internals", tender)
        return self.rows(tender, internals=internals)

    def rows(self, tender: Tender, *, internals: bool):
        raise NotImplementedError


@extend_schema(parameters=[TENDER_ID])
class TenderDocumentList(TenderChildList):
    """The tender's documents: those of the tender and of issued addenda (all of them for its officers,
    approvers and auditors). An officer attaches documents to a draft with a multipart POST."""

    serializer_class = TenderDocumentSerializer
    queryset = TenderDocument.objects.none()
    filterset_fields = {"superseded_by": ["isnull"]}
    parser_classes = [LimitedJSONParser, CappedMultiPartParser]

    def rows(self, tender: Tender, *, internals: bool):
        documents = tender.documents.select_related("addendum")
        return documents if internals else documents.published()

    def get_serializer_class(self):
        if self.request is not None and self.request.method == "POST":
            return TenderDocumentUploadSerializer
        return TenderDocumentSerializer

    @extend_schema(
        summary="Attach a document to a draft tender",
        parameters=[IDEMPOTENCY_PARAMETER],
        request={"multipart/form-data": TenderDocumentUploadSerializer},
        responses={201: TenderDocumentSerializer, **REFUSALS},
    )
    @idempotent
    def post(self, request, pk: int):
        tender = visible_tender(request, pk)
        require(request, "procurement.change_tender", tender)
        serializer = TenderDocumentUploadSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        document = services.tender_document_add(
            actor=request.user,
            tender=tender,
            uploaded_file=serializer.validated_data["file"],
            title=serializer.validated_data["title"],
        )
        return Response(TenderDocumentSerializer(document).data, status=status.HTTP_201_CREATED)


@extend_schema(parameters=[TENDER_ID])
class TenderClarificationList(TenderChildList):
    """The tender's questions and answers: the answered ones (every question for its officers, approvers and
    auditors). Who asked is never shown."""

    serializer_class = ClarificationSerializer
    queryset = Clarification.objects.none()
    pagination_class = NumberKeysetPagination
    filterset_fields = {"answered_at": ["isnull"]}

    def rows(self, tender: Tender, *, internals: bool):
        clarifications = tender.clarifications.all()
        return clarifications if internals else clarifications.filter(answered_at__isnull=False)

    def get_serializer_class(self):
        if self.request is not None and self.request.method == "POST":
            return QuestionInputSerializer
        return ClarificationSerializer

    @extend_schema(
        summary="Ask a question about a published tender (vendors, until its clarification deadline)",
        parameters=[IDEMPOTENCY_PARAMETER],
        request=QuestionInputSerializer,
        responses={201: ClarificationSerializer, **REFUSALS},
    )
    @idempotent
    def post(self, request, pk: int):
        tender = visible_tender(request, pk)
        require(request, "procurement.ask_clarification", tender)
        serializer = QuestionInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        clarification = services.clarification_ask(
            actor=request.user, tender=tender, question=serializer.validated_data["question"]
        )
        return Response(ClarificationSerializer(clarification).data, status=status.HTTP_201_CREATED)


@extend_schema(
    parameters=[
        TENDER_ID,
        OpenApiParameter("number", OpenApiTypes.INT, OpenApiParameter.PATH, description="The question's number."),
    ]
)
class ClarificationAnswerView(APIView):
    """The tender's officer answers a question; the answer is published at once to every vendor."""

    permission_classes = [permissions.IsAuthenticated]
    serializer_class = AnswerInputSerializer

    @extend_schema(
        summary="Answer a question and publish the answer (while the tender is open for bids)",
        parameters=[IDEMPOTENCY_PARAMETER],
        request=AnswerInputSerializer,
        responses={200: ClarificationSerializer, **REFUSALS},
    )
    @idempotent
    def post(self, request, pk: int, number: int):
        tender = visible_tender(request, pk)
        require(request, "procurement.answer_clarification", tender)  # before the lookup: unanswered ones are hidden
        clarification = get_object_or_404(Clarification, tender=tender, number=number)
        serializer = AnswerInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        clarification = services.clarification_answer(
            actor=request.user, clarification=clarification, answer=serializer.validated_data["answer"]
        )
        return Response(ClarificationSerializer(clarification).data)


class AddendumMultiPartParser(CappedMultiPartParser):
    max_files = MAX_ADDENDUM_DOCUMENTS


@extend_schema(parameters=[TENDER_ID])
class TenderAddendumList(TenderChildList):
    """The tender's addenda: the issued ones (also those still being prepared or approved, for its officers,
    approvers and auditors)."""

    serializer_class = AddendumSerializer
    queryset = Addendum.objects.none()
    pagination_class = NumberKeysetPagination
    filterset_fields = ["status"]

    parser_classes = [LimitedJSONParser, AddendumMultiPartParser]

    def rows(self, tender: Tender, *, internals: bool):
        addenda = tender.addenda.all()
        return addenda if internals else addenda.filter(status=AddendumStatus.ISSUED)

    def get_serializer_class(self):
        if self.request is not None and self.request.method == "POST":
            return AddendumCreateSerializer
        return AddendumSerializer

    @extend_schema(
        summary="Prepare an addendum to a published tender (issued at once unless it needs approval)",
        parameters=[IDEMPOTENCY_PARAMETER],
        request={"application/json": AddendumCreateSerializer, "multipart/form-data": AddendumCreateSerializer},
        responses={201: AddendumSerializer, **REFUSALS},
    )
    @idempotent
    def post(self, request, pk: int):
        tender = visible_tender(request, pk)
        require(request, "procurement.add_addendum", tender)
        serializer = AddendumCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        addendum = services.addendum_create(
            actor=request.user, tender=tender, data=serializer.service_data(), files=serializer.files()
        )
        return Response(AddendumSerializer(addendum).data, status=status.HTTP_201_CREATED)


ADDENDUM_NUMBER = OpenApiParameter(
    "number", OpenApiTypes.INT, OpenApiParameter.PATH, description="The addendum's number within the tender."
)
ADDENDUM_TRANSITION = OpenApiParameter(
    "name", OpenApiTypes.STR, OpenApiParameter.PATH, description="The transition: approve."
)


def visible_addendum(request, pk: int, number: int) -> Addendum:
    """The addendum of a tender the caller may see: an issued one, or any for those who see the tender's internals
    (404 otherwise, as the addenda list hides the others)."""
    tender = visible_tender(request, pk)
    addenda = Addendum.objects.filter(tender=tender)
    if not request.user.has_perm("procurement.view_tender_internals", tender):
        addenda = addenda.filter(status=AddendumStatus.ISSUED)
    addendum = get_object_or_404(addenda, number=number)
    addendum.tender = tender
    return addendum


#: The addendum's moves, as the tender page offers them: (label, whether it is offered, the web view's service).
ADDENDUM_TRANSITIONS = {
    "approve": (
        _("approve and issue"),
        addendum_can_be_approved,
        lambda user, addendum: services.addendum_approve(actor=user, addendum=addendum),
    ),
}


@extend_schema(parameters=[TENDER_ID, ADDENDUM_NUMBER])
class AddendumTransitionList(APIView):
    """The transitions the caller may perform on the addendum now (the button the tender page shows them)."""

    permission_classes = [permissions.AllowAny]

    @extend_schema(
        summary="Addendum transitions available now", responses={200: AddendumTransitionSerializer(many=True)}
    )
    def get(self, request, pk: int, number: int):
        addendum = visible_addendum(request, pk, number)
        rows = [
            {"name": name, "label": str(label), "required_fields": []}
            for name, (label, offered, _perform) in ADDENDUM_TRANSITIONS.items()
            if offered(addendum, request.user)
        ]
        return Response(AddendumTransitionSerializer(rows, many=True).data)


@extend_schema(parameters=[TENDER_ID, ADDENDUM_NUMBER, ADDENDUM_TRANSITION])
class AddendumTransitionView(APIView):
    """Approve an addendum that changes the value or the criteria: it is issued at once (someone other than
    who prepared it, an approver for the tender)."""

    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(
        summary="Perform an addendum transition",
        parameters=[IDEMPOTENCY_PARAMETER],
        request=EmptyTransitionSerializer,
        responses={200: AddendumSerializer, **REFUSALS},
    )
    @idempotent
    def post(self, request, pk: int, number: int, name: str):
        if name not in ADDENDUM_TRANSITIONS:
            raise exceptions.NotFound(_("This addendum has no transition of that name."))
        addendum = visible_addendum(request, pk, number)
        serializer = EmptyTransitionSerializer(data=request.data if request.data is not None else {})
        serializer.is_valid(raise_exception=True)
        _label, _offered, perform = ADDENDUM_TRANSITIONS[name]
        return Response(AddendumSerializer(perform(request.user, addendum)).data)


# The opening committee ------------------------------------------------------------------------------


def committee_answer(tender: Tender) -> dict:
    members = (
        tender.opening_committee.select_related("user")
        .annotate(has_key=Exists(PersonalKey.objects.active().filter(user=OuterRef("user_id"))))
        .order_by("nominated_at", "id")
    )
    return OpeningCommitteeSerializer(
        {"members": list(members), "problems": [str(p) for p in opening_services.opening_committee_errors(tender)]}
    ).data


@extend_schema(parameters=[TENDER_ID])
class OpeningCommitteeView(APIView):
    """The tender's opening committee (named while it is a draft; at least three members with personal keys
    before it can be submitted), as on the committee page."""

    permission_classes = [permissions.IsAuthenticated]
    serializer_class = CommitteeMemberInputSerializer

    @extend_schema(summary="The opening committee", responses={200: OpeningCommitteeSerializer, **REFUSALS})
    def get(self, request, pk: int):
        tender = visible_tender(request, pk)
        require(request, "procurement.view_tender_internals", tender)
        return Response(committee_answer(tender))

    @extend_schema(
        summary="Name a member of the opening committee",
        parameters=[IDEMPOTENCY_PARAMETER],
        request=CommitteeMemberInputSerializer,
        responses={201: OpeningCommitteeSerializer, **REFUSALS},
    )
    @idempotent
    def post(self, request, pk: int):
        tender = visible_tender(request, pk)
        require(request, "procurement.manage_opening_committee", tender)
        serializer = CommitteeMemberInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        form = CommitteeMemberForm({"user": serializer.validated_data["user"]}, tender=tender)
        if not form.is_valid():
            raise serializers.ValidationError({field: list(errors) for field, errors in form.errors.items()})
        opening_services.opening_committee_add(actor=request.user, tender=tender, user=form.cleaned_data["user"])
        return Response(committee_answer(tender), status=status.HTTP_201_CREATED)


@extend_schema(
    parameters=[
        TENDER_ID,
        OpenApiParameter("member", OpenApiTypes.INT, OpenApiParameter.PATH, description="The member's id."),
    ]
)
class OpeningCommitteeMemberView(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(summary="Remove a member of the opening committee", responses={204: None, **REFUSALS})
    def delete(self, request, pk: int, member: int):
        tender = visible_tender(request, pk)
        require(request, "procurement.manage_opening_committee", tender)
        seat = get_object_or_404(OpeningCommitteeMember.objects.select_related("user"), pk=member, tender=tender)
        opening_services.opening_committee_remove(actor=request.user, tender=tender, member=seat)
        return Response(status=status.HTTP_204_NO_CONTENT)


# Transitions ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Transition:
    """One move of the tender's workflow as the tender page offers it.

    ``offered`` reads the web page's ``TenderActions``; ``permission`` (when set) is checked before the body is
    read, as the web's confirmation page does; ``perform`` calls the web view's service.
    """

    fsm_name: str
    offered: Callable[[TenderActions], bool]
    serializer: type[serializers.Serializer]
    perform: Callable[..., Tender]
    permission: str | None = None

    @property
    def label(self) -> str:
        return transition_label(self.fsm_name)

    @property
    def required_fields(self) -> list[str]:
        return [name for name, field in self.serializer().fields.items() if field.required]


TRANSITIONS: dict[str, Transition] = {
    "submit": Transition(
        "submit_for_approval",
        lambda actions: actions.submit,
        EmptyTransitionSerializer,
        lambda user, tender, data: services.tender_submit_for_approval(actor=user, tender=tender),
    ),
    "approve": Transition(
        "approve_and_publish",
        lambda actions: actions.approve,
        EmptyTransitionSerializer,
        lambda user, tender, data: services.tender_approve(actor=user, tender=tender),
    ),
    "return": Transition(
        "return_to_draft",
        lambda actions: actions.return_to_draft,
        CommentsTransitionSerializer,
        lambda user, tender, data: services.tender_return(actor=user, tender=tender, comments=data["comments"]),
        permission="procurement.approve_tender",
    ),
    "close": Transition(
        "close",
        lambda actions: actions.close,
        EmptyTransitionSerializer,
        lambda user, tender, data: services.tender_close(actor=user, tender=tender),
    ),
    "cancel": Transition(
        "cancel",
        lambda actions: actions.cancel,
        ReasonTransitionSerializer,
        lambda user, tender, data: services.tender_cancel(actor=user, tender=tender, reason=data["reason"]),
        permission="procurement.cancel_tender",
    ),
    "mark_unsuccessful": Transition(
        "mark_unsuccessful",
        lambda actions: actions.mark_unsuccessful,
        ReasonTransitionSerializer,
        lambda user, tender, data: services.tender_mark_unsuccessful(actor=user, tender=tender, reason=data["reason"]),
        permission="procurement.mark_unsuccessful_tender",
    ),
}


@extend_schema(parameters=[TENDER_ID])
class TenderTransitionList(APIView):
    """The transitions the caller may perform on the tender now (the buttons the tender page shows them)."""

    permission_classes = [permissions.AllowAny]

    @extend_schema(summary="Transitions available now", responses={200: TenderTransitionSerializer(many=True)})
    def get(self, request, pk: int):
        tender = visible_tender(request, pk)
        actions = tender_actions(tender, request.user, timezone.now())
        rows = [
            {"name": name, "label": transition.label, "required_fields": transition.required_fields}
            for name, transition in TRANSITIONS.items()
            if transition.offered(actions)
        ]
        return Response(TenderTransitionSerializer(rows, many=True).data)


@extend_schema(parameters=[TENDER_ID, NAME])
class TenderTransitionView(APIView):
    """Perform one transition; the answer is the tender after it (and, after ``approve``, its recovery share,
    once)."""

    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(
        summary="Perform a transition",
        parameters=[IDEMPOTENCY_PARAMETER],
        request={
            "application/json": {
                "type": "object",
                "description": '{} for submit, approve and close; {"comments": …} for return; '
                '{"reason": …} for cancel and mark_unsuccessful.',
                "properties": {"comments": {"type": "string"}, "reason": {"type": "string"}},
                "additionalProperties": False,
            }
        },
        responses={200: TenderTransitionResultSerializer, **REFUSALS},
    )
    @idempotent(withheld_fields=("recovery_share",))
    def post(self, request, pk: int, name: str):
        transition = TRANSITIONS.get(name)
        if transition is None:
            raise exceptions.NotFound(_("This tender has no transition of that name."))
        tender = visible_tender(request, pk)
        if transition.permission is not None:
            require(request, transition.permission, tender)
        serializer = transition.serializer(data=request.data if request.data is not None else {})
        serializer.is_valid(raise_exception=True)
        tender = transition.perform(request.user, tender, serializer.validated_data)
        share = getattr(tender, "recovery_share", None)
        response = Response(tender_answer(request, tender, TenderTransitionResultSerializer, recovery_share=share))
        patch_cache_control(response, no_cache=True, no_store=True, must_revalidate=True, private=True)
        return response
