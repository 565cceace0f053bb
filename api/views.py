"""The API's endpoints. Views are thin: who may see what comes from the same selectors and rules as the web
pages (``tenders_listed_for``, ``contracts_listed_for``, ``accounts/rules.py``), and writes go through services."""

from __future__ import annotations

import math

from django.contrib.auth import authenticate
from django.db.models import Exists, OuterRef, Value
from django.utils import timezone
from django.utils.translation import gettext as _
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, generics, permissions, status, viewsets
from rest_framework.response import Response

from accounts import throttle as sign_in_throttle
from api.authentication import BearerTokenAuthentication
from api.idempotency import HEADER as IDEMPOTENCY_HEADER
from api.idempotency import IdempotentPostMixin, run_idempotently
from api.pagination import AuditEventPagination, KeysetPagination
from api.permissions import HasObjectRule, HasRule
from api.problems import problem_response
from api.serializers import (
    AgencySerializer,
    AuditEventSerializer,
    ContractSerializer,
    IssuedTokenSerializer,
    NotificationSerializer,
    PhaseResourceSerializer,
    ProgrammeSerializer,
    TenderSerializer,
    TokenRequestSerializer,
)
from api.services import api_token_issue
from api.throttling import AddressRateThrottle, TokenIssueRateThrottle
from audit.filters import AuditEventFilter
from audit.models import AuditEvent
from audit.services import client_address
from contracts.filters import ContractFilter, contracts_listed_for
from contracts.models import Contract
from notifications.models import Notification
from procurement.models import Agency, Phase, Programme, Tender
from procurement.tender_filters import TenderFilter, tenders_listed_for

IDEMPOTENCY_PARAMETER = OpenApiParameter(
    IDEMPOTENCY_HEADER,
    str,
    OpenApiParameter.HEADER,
    required=False,
    description="Any unique string (e.g. a UUID): a retried request with the same key and body is answered "
    "once, with the first answer.",
)


def _schema_only(view) -> bool:
    """drf-spectacular builds the schema with a fake view and no real caller."""
    return getattr(view, "swagger_fake_view", False)


# Personal tokens ---------------------------------------------------------------------------------------


class TokenIssueView(IdempotentPostMixin, generics.GenericAPIView):
    """Issue a personal API token for the e-mail address and password sent.

    The secret is in this answer only. Failed attempts count towards the same sign-in pause as the web sign-in
    page.
    """

    authentication_classes: list = []
    permission_classes = [permissions.AllowAny]
    throttle_classes = [TokenIssueRateThrottle, AddressRateThrottle]
    serializer_class = TokenRequestSerializer

    @extend_schema(
        parameters=[IDEMPOTENCY_PARAMETER],
        responses={
            201: IssuedTokenSerializer,
            400: OpenApiResponse(description="Invalid request"),
            401: OpenApiResponse(description="Wrong e-mail address or password"),
            422: OpenApiResponse(description="Idempotency-Key reused with another body"),
            429: OpenApiResponse(description="Too many attempts"),
        },
        auth=[],
    )
    def post(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        email, ip = data["email"], client_address(request)
        refusal = sign_in_throttle.sign_in_refusal(email=email, ip=ip)
        if refusal is not None:
            sign_in_throttle.record_throttled(email=email, ip=ip)
            wait = max(1, math.ceil((refusal.retry_at - sign_in_throttle.now()).total_seconds()))
            return problem_response(
                request,
                status_code=status.HTTP_429_TOO_MANY_REQUESTS,
                code="throttled",
                title=_("Too many requests."),
                detail=_("Too many unsuccessful sign-in attempts. Try again later."),
                headers={"Retry-After": str(wait)},
                retry_after=wait,
            )
        user = authenticate(request._request, username=email, password=data["password"])
        if user is None:
            raise exceptions.AuthenticationFailed(_("The e-mail address or password is not correct."))

        def issue() -> Response:
            issued = api_token_issue(user=user, name=data["name"], expires_in_days=data["expires_in_days"], via="api")
            token = issued.token
            body = {
                "id": token.pk,
                "name": token.name,
                "prefix": token.prefix,
                "token": issued.secret,
                "created_at": token.created_at,
                "expires_at": token.expires_at,
            }
            return Response(IssuedTokenSerializer(body).data, status=status.HTTP_201_CREATED)

        return run_idempotently(request, user=user, perform=issue, withheld_fields=("token",))

    def get_authenticate_header(self, request) -> str:
        return BearerTokenAuthentication().authenticate_header(request)


# Read-only resources ------------------------------------------------------------------------------------


class ReadOnlyResource(viewsets.ReadOnlyModelViewSet):
    pagination_class = KeysetPagination
    filter_backends = [DjangoFilterBackend]


class AgencyViewSet(ReadOnlyResource):
    """Ministries, their departments and authorities (public)."""

    permission_classes = [permissions.AllowAny]
    serializer_class = AgencySerializer
    queryset = Agency.objects.all()
    filterset_fields = ["kind", "parent", "is_active"]


class ProgrammeViewSet(ReadOnlyResource):
    """The programmes and their phases (public)."""

    permission_classes = [permissions.AllowAny]
    serializer_class = ProgrammeSerializer
    queryset = Programme.objects.prefetch_related("phases")
    filterset_fields = ["sponsor_agency"]


class PhaseViewSet(ReadOnlyResource):
    """The programmes' phases, each on its own (public, as on the programme's page); ``programme`` filters them."""

    permission_classes = [permissions.AllowAny]
    serializer_class = PhaseResourceSerializer
    queryset = Phase.objects.all()
    filterset_fields = ["programme"]

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "today": timezone.localdate()}


class TenderViewSet(ReadOnlyResource):
    """Published tenders for everyone; drafts and the ``internal`` details for those who run, approve or audit
    them (the officers' list: ``tenders_listed_for``)."""

    permission_classes = [permissions.AllowAny, HasObjectRule]
    object_rule = "procurement.view_tender"
    serializer_class = TenderSerializer
    filterset_class = TenderFilter

    def get_queryset(self):
        public = Tender.objects.public()
        listed = None if _schema_only(self) else tenders_listed_for(self.request.user)
        if listed is None:
            return public.annotate(shows_internals=Value(False))
        return (public | listed).annotate(shows_internals=Exists(listed.filter(pk=OuterRef("pk"))))

    def retrieve(self, request, *args, **kwargs):
        tender = self.get_object()
        tender.shows_internals = request.user.has_perm("procurement.view_tender_internals", tender)
        return Response(self.get_serializer(tender).data)


class ContractViewSet(ReadOnlyResource):
    """Contracts as the contracts list shows them: every agency's for auditors, the agency's for its officers and
    approvers, the company's own for a vendor's people (``contracts_listed_for``)."""

    permission_classes = [permissions.IsAuthenticated, HasObjectRule]
    object_rule = "contracts.view_contract"
    serializer_class = ContractSerializer
    filterset_class = ContractFilter

    def get_queryset(self):
        if _schema_only(self):
            return Contract.objects.none()
        contracts = contracts_listed_for(self.request.user)
        if contracts is None:
            raise exceptions.PermissionDenied()
        return contracts


class AuditEventViewSet(ReadOnlyResource):
    """The audit log, newest first (auditors and administrators)."""

    permission_classes = [permissions.IsAuthenticated, HasRule]
    rule = "audit.view_auditevent"
    serializer_class = AuditEventSerializer
    filterset_class = AuditEventFilter
    pagination_class = AuditEventPagination
    queryset = AuditEvent.objects.all()


class NotificationViewSet(ReadOnlyResource):
    """The caller's own notifications, newest first."""

    permission_classes = [permissions.IsAuthenticated]
    serializer_class = NotificationSerializer

    def get_queryset(self):
        if _schema_only(self):
            return Notification.objects.none()
        return Notification.objects.for_user(self.request.user).select_related("tender__agency")


@extend_schema(exclude=True)
class NotFoundView(generics.GenericAPIView):
    """Any other address under the API: a problem-details 404, whatever the method."""

    authentication_classes: list = []
    permission_classes = [permissions.AllowAny]

    def initial(self, request, *args, **kwargs):
        raise exceptions.NotFound()
