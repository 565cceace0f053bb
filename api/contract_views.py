"""The contracts API beyond the read-only list: drafting from the award, the contract's transitions (freeze,
sign, terminate, complete), amendments and their four-eyes decision, and monitoring (progress reports, KPI
measurements, payments).

Views are thin: each finds the contract among those the caller may see (``contracts_listed_for`` and the rule
``contracts.view_contract``; anything else is a 404), then calls the one service the web page calls — which
checks the permission, the state and the four eyes, and writes the audit event. A transition is *listed* for
the caller when the web page would offer its button; performing one is always left to the service to decide.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db.models import Prefetch
from django.http import FileResponse
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_filters.rest_framework import DjangoFilterBackend
from django_fsm import can_proceed
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, generics, permissions, renderers, serializers, status
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.response import Response
from rest_framework.settings import api_settings

from api.contract_serializers import (
    AmendmentInputSerializer,
    AmendmentKpiChangeSerializer,
    AmendmentMilestoneChangeSerializer,
    AmendmentSerializer,
    ContractStateSerializer,
    ContractTermsSerializer,
    ContractTransitionSerializer,
    KpiInputSerializer,
    KpiMeasurementInputSerializer,
    KpiMeasurementSerializer,
    KpiSerializer,
    MilestoneInputSerializer,
    MilestoneSerializer,
    NoPayloadSerializer,
    OptionalReasonSerializer,
    PasswordSerializer,
    PaymentInputSerializer,
    PaymentSerializer,
    ProgressEvidenceSerializer,
    ProgressReportInputSerializer,
    ProgressReportSerializer,
    ReasonSerializer,
    SignerKeySerializer,
)
from api.exceptions import Conflict
from api.idempotency import idempotent
from api.pagination import KeysetPagination
from api.parsers import CappedMultiPartParser, LimitedJSONParser
from api.views import IDEMPOTENCY_PARAMETER
from audit.services import audit_event_append
from contracts import amendments as amendment_services
from contracts import monitoring
from contracts import services as contract_services
from contracts.filters import contracts_listed_for
from contracts.models import (
    AmendmentStatus,
    Contract,
    ContractAmendment,
    ContractKpi,
    ContractMilestone,
    ContractSignature,
    ContractStatus,
    ContractVersion,
    KpiMeasurement,
    MeasurementStatus,
    Payment,
    ProgressEvidence,
    ProgressReport,
    RenderStatus,
    ReportDecision,
)
from core.exceptions import ActionRefused
from core.uploads import open_hashed
from procurement.models import Tender
from procurement.tender_filters import tenders_listed_for

# Shared pieces -----------------------------------------------------------------------------------------------


def _schema_only(view) -> bool:
    return getattr(view, "swagger_fake_view", False)


def visible_contract(request, pk) -> Contract:
    """The contract ``pk`` if the caller may see it (the contracts list's reach and the web page's rule), else 404:
    another agency's contract, or another company's, does not exist for the caller."""
    contracts = contracts_listed_for(request.user)
    contract = (
        None
        if contracts is None
        else contracts.select_related("tender", "agency", "vendor", "phase").filter(pk=pk).first()
    )
    if contract is None or not request.user.has_perm("contracts.view_contract", contract):
        raise exceptions.NotFound()
    return contract


def _input(serializer_class, request) -> dict:
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def _contract_state(contract: Contract) -> dict:
    """The contract as it is now, with its versions, their PDFs and signatures."""
    contract = (
        Contract.objects.select_related("tender", "agency", "vendor", "phase")
        .prefetch_related(
            Prefetch(
                "versions",
                queryset=ContractVersion.objects.order_by("number").prefetch_related(
                    Prefetch("signatures", queryset=ContractSignature.objects.select_related("version"))
                ),
            )
        )
        .get(pk=contract.pk)
    )
    return ContractStateSerializer(contract).data


@dataclass(frozen=True)
class Transition:
    """One action on an object: offered when ``offered`` says the web page would show its button; performed by
    ``perform``, which calls the service (the service alone decides whether it is allowed)."""

    name: str
    label: Any
    payload: type[serializers.Serializer]
    offered: Callable[[Any, Any], bool]
    perform: Callable[[Any, Any, dict], Any]

    def describe(self, url: str) -> dict:
        fields = [name for name, field in self.payload().fields.items() if field.required]
        return {"name": self.name, "label": str(self.label), "fields": fields, "url": url}


class TransitionsBase(generics.GenericAPIView):
    """``GET …/transitions/`` lists what the caller may do now; ``GET …/transitions/<name>/`` describes one;
    ``POST …/transitions/<name>/`` performs it and answers with the updated resource."""

    permission_classes = [permissions.IsAuthenticated]
    serializer_class = ContractTransitionSerializer
    pagination_class = None
    queryset = Contract.objects.none()  # the objects are found by ``load``; this only names the model
    transitions: dict[str, Transition] = {}

    def load(self, request, **kwargs):  # pragma: no cover - overridden
        raise NotImplementedError

    def represent(self, obj) -> dict:  # pragma: no cover - overridden
        raise NotImplementedError

    def transition(self, name: str) -> Transition:
        if name not in self.transitions:
            raise exceptions.NotFound()
        return self.transitions[name]

    def url_of(self, request, name: str) -> str:
        path = request.path
        if self.kwargs.get("name"):
            path = path[: -len(f"{self.kwargs['name']}/")]
        return f"{path}{name}/"


class TransitionListBase(TransitionsBase):
    def get(self, request, **kwargs):
        obj = self.load(request, **kwargs)
        offered = [
            t.describe(self.url_of(request, t.name)) for t in self.transitions.values() if t.offered(request.user, obj)
        ]
        return Response(ContractTransitionSerializer(offered, many=True).data)


class TransitionPerformBase(TransitionsBase):
    def get(self, request, name: str, **kwargs):
        transition = self.transition(name)
        obj = self.load(request, **kwargs)
        body = transition.describe(self.url_of(request, name))
        body["offered"] = transition.offered(request.user, obj)
        return Response(body)

    @idempotent
    def post(self, request, name: str, **kwargs):
        transition = self.transition(name)
        obj = self.load(request, **kwargs)
        data = _input(transition.payload, request)
        result = transition.perform(request.user, obj, data)
        return Response(self.represent(result if result is not None else obj))


TRANSITION_REQUEST = {"application/json": OpenApiTypes.OBJECT}


def _transition_schema(resource: str, names: dict[str, Transition], response):
    payloads = "; ".join(f"`{name}`: " + (", ".join(t.describe("")["fields"]) or "{}") for name, t in names.items())
    return extend_schema(
        parameters=[IDEMPOTENCY_PARAMETER],
        request=TRANSITION_REQUEST,
        responses={
            200: response,
            400: OpenApiResponse(description="Invalid payload"),
            403: OpenApiResponse(description="Not allowed for the caller"),
            404: OpenApiResponse(description="No such transition, or not visible to the caller"),
            409: OpenApiResponse(description="Refused in the present state"),
        },
        description=f"Perform a transition of the {resource}. Payloads — {payloads}.",
    )


class ListCreateBase(generics.ListAPIView):
    """A list of a contract's rows (keyset pages, filters) and, by POST, the one service that adds a row."""

    permission_classes = [permissions.IsAuthenticated]
    pagination_class = KeysetPagination
    filter_backends = [DjangoFilterBackend]
    input_serializer: type[serializers.Serializer]
    model: type

    def contract(self) -> Contract:
        if not hasattr(self, "_contract"):
            self._contract = visible_contract(self.request, self.kwargs["pk"])
        return self._contract

    def get_queryset(self):
        if _schema_only(self):
            return self.model.objects.none()
        return self.rows(self.contract())

    def rows(self, contract: Contract):  # pragma: no cover - overridden
        raise NotImplementedError

    def create(self, request, contract: Contract, data: dict):  # pragma: no cover - overridden
        raise NotImplementedError

    @idempotent
    def post(self, request, *args, **kwargs):
        contract = self.contract()
        data = _input(self.input_serializer, request)
        created = self.create(request, contract, data)
        return Response(self.get_serializer(created).data, status=status.HTTP_201_CREATED)


def _create_schema(input_serializer, output_serializer):
    return extend_schema(
        parameters=[IDEMPOTENCY_PARAMETER],
        request=input_serializer,
        responses={
            201: output_serializer,
            400: OpenApiResponse(description="Invalid request"),
            403: OpenApiResponse(description="Not allowed for the caller"),
            404: OpenApiResponse(description="Not visible to the caller"),
            409: OpenApiResponse(description="Refused in the present state"),
        },
    )


def _row_of(queryset, pk, field: str = "pk"):
    """A row of the contract, or a 400 naming the field (the caller sent an id that is not the contract's)."""
    row = queryset.filter(pk=pk).first()
    if row is None:
        raise exceptions.ValidationError({field: [_("Choose one of this contract's.")]})
    return row


# Drafting the contract ---------------------------------------------------------------------------------------


class TenderContractCreateView(generics.GenericAPIView):
    """Draft the contract of a tender whose award is final (an officer of the tender's agency)."""

    permission_classes = [permissions.IsAuthenticated]
    serializer_class = ContractStateSerializer
    pagination_class = None

    @_create_schema(NoPayloadSerializer, ContractStateSerializer)
    @idempotent
    def post(self, request, pk: int):
        listed = tenders_listed_for(request.user)
        tenders = Tender.objects.public() if listed is None else Tender.objects.public() | listed
        tender = tenders.select_related("agency").filter(pk=pk).first()
        if tender is None:
            raise exceptions.NotFound()
        _input(NoPayloadSerializer, request)
        contract = contract_services.contract_create_from_award(actor=request.user, tender=tender)
        return Response(_contract_state(contract), status=status.HTTP_201_CREATED)


class ContractTermsView(generics.GenericAPIView):
    """The draft contract's terms: ``PATCH`` changes those sent (officers of the agency, while a draft)."""

    permission_classes = [permissions.IsAuthenticated]
    serializer_class = ContractStateSerializer
    pagination_class = None

    @extend_schema(
        request=ContractTermsSerializer,
        responses={
            200: ContractStateSerializer,
            400: OpenApiResponse(description="Invalid terms"),
            403: OpenApiResponse(description="Not allowed for the caller"),
            404: OpenApiResponse(description="Not visible to the caller"),
            409: OpenApiResponse(description="Not a draft"),
        },
    )
    def patch(self, request, pk: int):
        contract = visible_contract(request, pk)
        data = _input(ContractTermsSerializer, request)
        contract_services.contract_update_draft(actor=request.user, contract=contract, data=data)
        return Response(_contract_state(contract))


class MilestoneListView(ListCreateBase):
    """The contract's milestones; ``POST`` adds one to a draft (officers of the agency)."""

    serializer_class = MilestoneSerializer
    input_serializer = MilestoneInputSerializer
    model = ContractMilestone
    filterset_fields = ["status"]

    def rows(self, contract):
        return contract.milestones.all()

    def create(self, request, contract, data):
        return contract_services.contract_milestone_add(actor=request.user, contract=contract, **data)

    @_create_schema(MilestoneInputSerializer, MilestoneSerializer)
    def post(self, request, *args, **kwargs):
        return super().post(request, *args, **kwargs)


class KpiListView(ListCreateBase):
    """The contract's performance indicators; ``POST`` adds one to a draft (officers of the agency)."""

    serializer_class = KpiSerializer
    input_serializer = KpiInputSerializer
    model = ContractKpi
    filterset_fields = ["frequency"]

    def rows(self, contract):
        return contract.kpis.all()

    def create(self, request, contract, data):
        return contract_services.contract_kpi_add(actor=request.user, contract=contract, **data)

    @_create_schema(KpiInputSerializer, KpiSerializer)
    def post(self, request, *args, **kwargs):
        return super().post(request, *args, **kwargs)


# The contract's transitions -------------------------------------------------------------------------------------


def _sign(user, contract, data):
    try:
        contract_services.contract_sign(actor=user, contract=contract, password=data["password"])
    except contract_services.WrongSigningPassword as refusal:
        raise _password_error(refusal) from None
    return contract


def _password_error(refusal: ActionRefused) -> exceptions.ValidationError:
    """The services refuse a wrong password like any action (and record it); it is the caller's input, hence a
    400 on the ``password`` field here. Any other refusal stays a 409."""
    return exceptions.ValidationError({"password": [refusal.message]})


class SigningKeyView(generics.GenericAPIView):
    """Issue the caller a signing key, certified by the internal CA, its private key encrypted under their
    password (any earlier key is retired). Needed once before the ``sign`` transition."""

    permission_classes = [permissions.IsAuthenticated]
    serializer_class = SignerKeySerializer
    pagination_class = None

    @_create_schema(PasswordSerializer, SignerKeySerializer)
    @idempotent
    def post(self, request, pk: int):
        visible_contract(request, pk)
        data = _input(PasswordSerializer, request)
        try:
            key = contract_services.signer_key_issue(user=request.user, password=data["password"])
        except contract_services.WrongSigningPassword as refusal:
            raise _password_error(refusal) from None
        return Response(SignerKeySerializer(key).data, status=status.HTTP_201_CREATED)


CONTRACT_TRANSITIONS = {
    t.name: t
    for t in (
        Transition(
            "freeze",
            gettext_lazy("Freeze for signature"),
            NoPayloadSerializer,
            lambda user, c: c.status == ContractStatus.DRAFT and user.has_perm("contracts.freeze_contract", c),
            lambda user, c, data: contract_services.contract_freeze(actor=user, contract=c) and c,
        ),
        Transition(
            "sign",
            gettext_lazy("Sign"),
            PasswordSerializer,
            lambda user, c: contract_services.turn_to_sign(user, c) is not None,
            _sign,
        ),
        Transition(
            "terminate",
            gettext_lazy("Terminate"),
            ReasonSerializer,
            lambda user, c: can_proceed(c.terminate) and user.has_perm("contracts.terminate_contract", c),
            lambda user, c, data: contract_services.contract_terminate(actor=user, contract=c, reason=data["reason"]),
        ),
        Transition(
            "complete",
            gettext_lazy("Mark completed"),
            NoPayloadSerializer,
            lambda user, c: (
                can_proceed(c.complete)
                and user.has_perm("contracts.complete_contract", c)
                and not contract_services.completion_problem(c)
            ),
            lambda user, c, data: contract_services.contract_complete(actor=user, contract=c),
        ),
    )
}


class ContractTransitionMixin:
    transitions = CONTRACT_TRANSITIONS

    def load(self, request, pk: int, **kwargs):
        return visible_contract(request, pk)

    def represent(self, contract) -> dict:
        return _contract_state(contract)


class ContractTransitionListView(ContractTransitionMixin, TransitionListBase):
    """The contract's transitions the caller may perform now (freeze, sign, terminate, complete)."""

    @extend_schema(responses={200: ContractTransitionSerializer(many=True)})
    def get(self, request, **kwargs):
        return super().get(request, **kwargs)


class ContractTransitionView(ContractTransitionMixin, TransitionPerformBase):
    """Perform a transition of the contract. ``sign`` signs for the caller's party with the signing key unlocked
    by their password; the signed PDF is listed in the answer's ``versions[].signatures[].pdf_url``. After
    ``freeze``, the version's PDF is rendered in the background: ``versions[].status`` is ``rendering`` until its
    ``pdf_url`` is set."""

    @extend_schema(responses={200: ContractTransitionSerializer})
    def get(self, request, name: str, **kwargs):
        return super().get(request, name, **kwargs)

    @_transition_schema("contract", CONTRACT_TRANSITIONS, ContractStateSerializer)
    def post(self, request, name: str, **kwargs):
        return super().post(request, name, **kwargs)


# PDFs ---------------------------------------------------------------------------------------------------------


class PdfRenderer(renderers.BaseRenderer):
    media_type = "application/pdf"
    format = "pdf"
    charset = None
    render_style = "binary"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if isinstance(data, bytes | bytearray) or data is None:
            return data
        # An error (a problem-details dict, already given the problem+json content type): written as JSON.
        return renderers.JSONRenderer().render(data, accepted_media_type, renderer_context)


def _pdf(field_file, filename: str) -> FileResponse:
    field_file.open("rb")
    response = FileResponse(field_file, as_attachment=True, filename=filename, content_type="application/pdf")
    patch_cache_control(response, private=True, no_store=True)
    return response


class VersionPdfView(generics.GenericAPIView):
    """A frozen version's PDF (before any signature), once rendered."""

    permission_classes = [permissions.IsAuthenticated]
    renderer_classes = [*api_settings.DEFAULT_RENDERER_CLASSES, PdfRenderer]
    pagination_class = None

    @extend_schema(responses={(200, "application/pdf"): OpenApiTypes.BINARY})
    def get(self, request, pk: int, number: int):
        contract = visible_contract(request, pk)
        version = ContractVersion.objects.filter(contract=contract, number=number).first()
        if version is None or version.status != RenderStatus.RENDERED or not version.pdf:
            raise exceptions.NotFound()
        return _pdf(version.pdf, f"{contract.reference}-v{version.number}.pdf")


class SignaturePdfView(generics.GenericAPIView):
    """The PDF as it stood right after one party's signature."""

    permission_classes = [permissions.IsAuthenticated]
    renderer_classes = [*api_settings.DEFAULT_RENDERER_CLASSES, PdfRenderer]
    pagination_class = None

    @extend_schema(responses={(200, "application/pdf"): OpenApiTypes.BINARY})
    def get(self, request, pk: int, signature_pk: int):
        contract = visible_contract(request, pk)
        signature = (
            ContractSignature.objects.select_related("version")
            .filter(pk=signature_pk, version__contract=contract)
            .first()
        )
        if signature is None:
            raise exceptions.NotFound()
        return _pdf(signature.pdf, f"{contract.reference}-v{signature.version.number}-signed-{signature.party}.pdf")


# Amendments ---------------------------------------------------------------------------------------------------


def visible_amendment(request, pk: int, number: int) -> ContractAmendment:
    contract = visible_contract(request, pk)
    amendment = ContractAmendment.objects.filter(contract=contract, number=number).first()
    if amendment is None:
        raise exceptions.NotFound()
    amendment.contract = contract
    return amendment


class AmendmentListView(ListCreateBase):
    """The contract's amendments; ``POST`` drafts one (officers of the agency, contract in force)."""

    serializer_class = AmendmentSerializer
    input_serializer = AmendmentInputSerializer
    model = ContractAmendment
    filterset_fields = ["status"]

    def rows(self, contract):
        return contract.amendments.all()

    def create(self, request, contract, data):
        return amendment_services.amendment_create(actor=request.user, contract=contract, **data)

    @_create_schema(AmendmentInputSerializer, AmendmentSerializer)
    def post(self, request, *args, **kwargs):
        return super().post(request, *args, **kwargs)


class AmendmentDetailView(generics.GenericAPIView):
    permission_classes = [permissions.IsAuthenticated]
    serializer_class = AmendmentSerializer
    pagination_class = None

    @extend_schema(operation_id="contracts_amendment_retrieve")
    def get(self, request, pk: int, number: int):
        return Response(AmendmentSerializer(visible_amendment(request, pk, number)).data)


class AmendmentChangeBase(generics.GenericAPIView):
    permission_classes = [permissions.IsAuthenticated]
    serializer_class = AmendmentSerializer
    pagination_class = None
    input_serializer: type[serializers.Serializer]

    def change(self, user, amendment, data):  # pragma: no cover - overridden
        raise NotImplementedError

    @idempotent
    def post(self, request, pk: int, number: int):
        amendment = visible_amendment(request, pk, number)
        data = _input(self.input_serializer, request)
        changed = self.change(request.user, amendment, data)
        return Response(AmendmentSerializer(changed).data)


def _change_schema(input_serializer):
    return extend_schema(
        parameters=[IDEMPOTENCY_PARAMETER],
        request=input_serializer,
        responses={
            200: AmendmentSerializer,
            400: OpenApiResponse(description="Invalid change"),
            403: OpenApiResponse(description="Not allowed for the caller"),
            404: OpenApiResponse(description="Not visible to the caller"),
            409: OpenApiResponse(description="Not a draft"),
        },
    )


class AmendmentMilestoneChangeView(AmendmentChangeBase):
    """Add a milestone change (a new milestone, a change to one, or its waiver) to a draft amendment."""

    input_serializer = AmendmentMilestoneChangeSerializer

    def change(self, user, amendment, data):
        return amendment_services.amendment_change_milestone(actor=user, amendment=amendment, **data)

    @_change_schema(AmendmentMilestoneChangeSerializer)
    def post(self, request, pk: int, number: int):
        return super().post(request, pk, number)


class AmendmentKpiChangeView(AmendmentChangeBase):
    """Add an indicator change (a new indicator, or a change to one) to a draft amendment."""

    input_serializer = AmendmentKpiChangeSerializer

    def change(self, user, amendment, data):
        return amendment_services.amendment_change_kpi(actor=user, amendment=amendment, **data)

    @_change_schema(AmendmentKpiChangeSerializer)
    def post(self, request, pk: int, number: int):
        return super().post(request, pk, number)


def _may_withdraw(user, amendment) -> bool:
    contract = amendment.contract
    if amendment.status not in (
        AmendmentStatus.DRAFT,
        AmendmentStatus.PENDING_APPROVAL,
        AmendmentStatus.AWAITING_SIGNATURES,
    ):
        return False
    if not (
        user.has_perm("contracts.amend_contract", contract) or user.has_perm("contracts.approve_amendment", contract)
    ):
        return False
    version = ContractVersion.objects.filter(amendment=amendment).first()
    return version is None or not version.signatures.exists()


def _may_decide(user, amendment) -> bool:
    return (
        amendment.status == AmendmentStatus.PENDING_APPROVAL
        and user.has_perm("contracts.approve_amendment", amendment.contract)
        and user.pk != amendment.drafted_by_id
    )


def _approve(user, amendment, data):
    amendment_services.amendment_approve(actor=user, amendment=amendment)
    return ContractAmendment.objects.get(pk=amendment.pk)


AMENDMENT_TRANSITIONS = {
    t.name: t
    for t in (
        Transition(
            "submit",
            gettext_lazy("Send for approval"),
            NoPayloadSerializer,
            lambda user, a: a.status == AmendmentStatus.DRAFT and user.has_perm("contracts.amend_contract", a.contract),
            lambda user, a, data: amendment_services.amendment_submit(actor=user, amendment=a),
        ),
        Transition(
            "approve",
            gettext_lazy("Approve"),
            NoPayloadSerializer,
            _may_decide,
            _approve,
        ),
        Transition(
            "return",
            gettext_lazy("Return to the drafter"),
            ReasonSerializer,
            _may_decide,
            lambda user, a, data: amendment_services.amendment_return(actor=user, amendment=a, reason=data["reason"]),
        ),
        Transition(
            "withdraw",
            gettext_lazy("Withdraw"),
            NoPayloadSerializer,
            _may_withdraw,
            lambda user, a, data: amendment_services.amendment_withdraw(actor=user, amendment=a),
        ),
    )
}


class AmendmentTransitionMixin:
    transitions = AMENDMENT_TRANSITIONS

    def load(self, request, pk: int, number: int, **kwargs):
        return visible_amendment(request, pk, number)

    def represent(self, amendment) -> dict:
        return AmendmentSerializer(ContractAmendment.objects.get(pk=amendment.pk)).data


class AmendmentTransitionListView(AmendmentTransitionMixin, TransitionListBase):
    """The amendment's transitions the caller may perform now (submit, approve, return, withdraw). Once approved,
    both parties sign it with the contract's ``sign`` transition."""

    @extend_schema(responses={200: ContractTransitionSerializer(many=True)})
    def get(self, request, **kwargs):
        return super().get(request, **kwargs)


class AmendmentTransitionView(AmendmentTransitionMixin, TransitionPerformBase):
    """Perform a transition of the amendment (another approver than its drafter decides on it)."""

    @extend_schema(responses={200: ContractTransitionSerializer})
    def get(self, request, name: str, **kwargs):
        return super().get(request, name, **kwargs)

    @_transition_schema("amendment", AMENDMENT_TRANSITIONS, AmendmentSerializer)
    def post(self, request, name: str, **kwargs):
        return super().post(request, name, **kwargs)


# Monitoring ---------------------------------------------------------------------------------------------------


class EvidenceMultiPartParser(CappedMultiPartParser):
    """A report with its evidence documents: at most the most files a report takes (each then checked by the
    service as on the web: size, kind sniffed from its content)."""

    max_files = monitoring.MAX_EVIDENCE_FILES


def _reports_with_evidence():
    return ProgressReport.objects.prefetch_related(
        Prefetch("evidence", queryset=ProgressEvidence.objects.select_related("report__milestone"))
    )


class ProgressReportListView(ListCreateBase):
    """The contract's progress reports, newest first, each with its evidence documents; ``POST`` reports on a
    milestone (the contractor's people, contract in force): JSON, or ``multipart/form-data`` with one
    ``evidence`` part per document, checked and kept with its SHA-256 as on the web page."""

    serializer_class = ProgressReportSerializer
    input_serializer = ProgressReportInputSerializer
    parser_classes = [LimitedJSONParser, EvidenceMultiPartParser]
    model = ProgressReport
    filterset_fields = ["milestone", "decision"]

    def rows(self, contract):
        return _reports_with_evidence().filter(milestone__contract=contract)

    def create(self, request, contract, data):
        milestone = _row_of(contract.milestones.all(), data["milestone"], "milestone")
        report = monitoring.progress_report_submit(
            actor=request.user,
            milestone=milestone,
            narrative=data["narrative"],
            percent_complete=data["percent_complete"],
            evidence=[(uploaded.name, uploaded) for uploaded in data.get("evidence") or ()],
        )
        return _reports_with_evidence().get(pk=report.pk)

    @_create_schema(ProgressReportInputSerializer, ProgressReportSerializer)
    def post(self, request, *args, **kwargs):
        return super().post(request, *args, **kwargs)


def visible_report(request, pk: int, report_pk: int) -> ProgressReport:
    contract = visible_contract(request, pk)
    report = ProgressReport.objects.select_related("milestone").filter(pk=report_pk, milestone__contract=contract)
    report = report.first()
    if report is None:
        raise exceptions.NotFound()
    report.milestone.contract = contract
    return report


class ProgressEvidenceListView(generics.ListAPIView):
    """The evidence documents of a progress report (whoever sees the contract), each with the SHA-256 recorded
    when it was stored and where to download it. They are attached when the report is sent."""

    permission_classes = [permissions.IsAuthenticated]
    serializer_class = ProgressEvidenceSerializer
    pagination_class = None
    filter_backends: list = []

    def get_queryset(self):
        if _schema_only(self):
            return ProgressEvidence.objects.none()
        report = visible_report(self.request, self.kwargs["pk"], self.kwargs["report_pk"])
        return ProgressEvidence.objects.filter(report=report).select_related("report__milestone").order_by("id")


class _AnyAccepted(BaseContentNegotiation):
    """A download is answered in its own type whatever the client accepts; an error, as a problem (JSON)."""

    def select_parser(self, request, parsers):
        return parsers[0] if parsers else None

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class ProgressEvidenceFileView(generics.GenericAPIView):
    """One evidence document, served only if it still matches the SHA-256 recorded when it was stored
    (``X-Content-SHA256``); an altered or missing file is a 409."""

    permission_classes = [permissions.IsAuthenticated]
    content_negotiation_class = _AnyAccepted
    pagination_class = None
    serializer_class = ProgressEvidenceSerializer

    @extend_schema(responses={(200, "*/*"): OpenApiTypes.BINARY})
    def get(self, request, pk: int, report_pk: int, evidence_pk: int):
        report = visible_report(request, pk, report_pk)
        evidence = ProgressEvidence.objects.filter(report=report, pk=evidence_pk).first()
        if evidence is None or not evidence.file:
            raise exceptions.NotFound()
        handle, found = open_hashed(evidence.file)
        if found != evidence.sha256:
            if handle is not None:
                handle.close()
            # Recorded for the agency and the auditors, as an altered document of the trail is.
            audit_event_append(
                action="audit.document_integrity_failed",
                actor=request.user,
                obj=report.milestone.contract,
                payload={
                    "document": "progress_evidence",
                    "evidence_id": evidence.pk,
                    "file": evidence.file.name,
                    "expected_sha256": evidence.sha256,
                    "found_sha256": found or "",
                },
            )
            raise Conflict(_("This document no longer matches the SHA-256 recorded when it was stored."))
        response = FileResponse(
            handle, as_attachment=True, filename=evidence.original_name, content_type=evidence.content_type
        )
        response["X-Content-SHA256"] = found
        response["X-Content-Type-Options"] = "nosniff"
        patch_cache_control(response, private=True, no_store=True)
        return response


def _decide_report(accept: bool):
    def perform(user, report, data):
        monitoring.progress_report_decide(actor=user, report=report, accept=accept, reason=data.get("reason", ""))
        return report

    return perform


def _may_decide_report(user, report) -> bool:
    contract = report.milestone.contract
    return (
        report.decision == ReportDecision.PENDING
        and contract.status == ContractStatus.ACTIVE
        and user.has_perm("contracts.monitor_contract", contract)
    )


REPORT_TRANSITIONS = {
    t.name: t
    for t in (
        Transition(
            "accept",
            gettext_lazy("Accept the milestone"),
            NoPayloadSerializer,
            _may_decide_report,
            _decide_report(True),
        ),
        Transition(
            "reject", gettext_lazy("Reject the milestone"), ReasonSerializer, _may_decide_report, _decide_report(False)
        ),
    )
}


class ReportTransitionMixin:
    transitions = REPORT_TRANSITIONS

    def load(self, request, pk: int, report_pk: int, **kwargs):
        return visible_report(request, pk, report_pk)

    def represent(self, report) -> dict:
        return ProgressReportSerializer(_reports_with_evidence().get(pk=report.pk)).data


class ReportTransitionListView(ReportTransitionMixin, TransitionListBase):
    """The report's transitions the caller may perform now (an officer of the agency accepts or rejects it)."""

    @extend_schema(responses={200: ContractTransitionSerializer(many=True)})
    def get(self, request, **kwargs):
        return super().get(request, **kwargs)


class ReportTransitionView(ReportTransitionMixin, TransitionPerformBase):
    """Decide on a progress report: ``accept`` (the milestone is accepted) or ``reject`` (with the reason)."""

    @extend_schema(responses={200: ContractTransitionSerializer})
    def get(self, request, name: str, **kwargs):
        return super().get(request, name, **kwargs)

    @_transition_schema("progress report", REPORT_TRANSITIONS, ProgressReportSerializer)
    def post(self, request, name: str, **kwargs):
        return super().post(request, name, **kwargs)


class KpiMeasurementListView(ListCreateBase):
    """The contract's KPI measurements; ``POST`` enters one (an officer's is confirmed at once, the contractor's
    waits for an officer's confirmation)."""

    serializer_class = KpiMeasurementSerializer
    input_serializer = KpiMeasurementInputSerializer
    model = KpiMeasurement
    filterset_fields = ["kpi", "status"]

    def rows(self, contract):
        return KpiMeasurement.objects.filter(contract=contract)

    def create(self, request, contract, data):
        kpi = _row_of(contract.kpis.all(), data.pop("kpi"), "kpi")
        return monitoring.kpi_measurement_enter(actor=request.user, kpi=kpi, **data)

    @_create_schema(KpiMeasurementInputSerializer, KpiMeasurementSerializer)
    def post(self, request, *args, **kwargs):
        return super().post(request, *args, **kwargs)


def _decide_measurement(confirm: bool):
    def perform(user, measurement, data):
        return monitoring.kpi_measurement_confirm(
            actor=user, measurement=measurement, confirm=confirm, reason=data.get("reason", "")
        )

    return perform


def _may_confirm(user, measurement) -> bool:
    contract = measurement.contract
    return (
        measurement.status == MeasurementStatus.SUBMITTED
        and contract.status == ContractStatus.ACTIVE
        and user.has_perm("contracts.monitor_contract", contract)
    )


MEASUREMENT_TRANSITIONS = {
    t.name: t
    for t in (
        Transition("confirm", gettext_lazy("Confirm"), NoPayloadSerializer, _may_confirm, _decide_measurement(True)),
        Transition(
            "reject", gettext_lazy("Reject"), OptionalReasonSerializer, _may_confirm, _decide_measurement(False)
        ),
    )
}


class MeasurementTransitionMixin:
    transitions = MEASUREMENT_TRANSITIONS

    def load(self, request, pk: int, measurement_pk: int, **kwargs):
        contract = visible_contract(request, pk)
        measurement = KpiMeasurement.objects.filter(pk=measurement_pk, contract=contract).first()
        if measurement is None:
            raise exceptions.NotFound()
        measurement.contract = contract
        return measurement

    def represent(self, measurement) -> dict:
        return KpiMeasurementSerializer(KpiMeasurement.objects.get(pk=measurement.pk)).data


class MeasurementTransitionListView(MeasurementTransitionMixin, TransitionListBase):
    """The measurement's transitions the caller may perform now (an officer confirms or rejects it)."""

    @extend_schema(responses={200: ContractTransitionSerializer(many=True)})
    def get(self, request, **kwargs):
        return super().get(request, **kwargs)


class MeasurementTransitionView(MeasurementTransitionMixin, TransitionPerformBase):
    """Decide on the contractor's measurement: ``confirm`` or ``reject``."""

    @extend_schema(responses={200: ContractTransitionSerializer})
    def get(self, request, name: str, **kwargs):
        return super().get(request, name, **kwargs)

    @_transition_schema("KPI measurement", MEASUREMENT_TRANSITIONS, KpiMeasurementSerializer)
    def post(self, request, name: str, **kwargs):
        return super().post(request, name, **kwargs)


class PaymentListView(ListCreateBase):
    """The contract's payments (both parties see them); ``POST`` records the payment of an accepted milestone
    (officers of the agency): its amount less the outstanding penalties."""

    serializer_class = PaymentSerializer
    input_serializer = PaymentInputSerializer
    model = Payment
    filterset_fields = ["milestone"]

    def rows(self, contract):
        return Payment.objects.filter(contract=contract)

    def create(self, request, contract, data):
        milestone = _row_of(contract.milestones.all(), data.pop("milestone"), "milestone")
        return monitoring.payment_record(actor=request.user, milestone=milestone, **data)

    @_create_schema(PaymentInputSerializer, PaymentSerializer)
    def post(self, request, *args, **kwargs):
        return super().post(request, *args, **kwargs)
