"""The API's vendors and bids. The vendor register follows the web's rule (``vendors.view_vendor``: the
officers, approvers, auditors and administrators see every vendor; a vendor's people see their own company);
bids are the caller's own vendor's only (anyone else's: 404), and every write calls the service the web's bid
pages call (``procurement/bid_services.py``), which checks, audits and seals. The officers' view of a tender's
bids is the web's bid register (``tenders/<id>/bids/``: metadata only, the rule ``procurement.view_bids``); the
content of an opened bid is the web's envelope page and document download (``tenders/<id>/bids/<bid>/envelopes/
<kind>/``, ``…/documents/<file>/``: the web's own functions, the rule ``procurement.read_bid_content``, every
attempt on sealed content refused and recorded as on the web).
"""

from __future__ import annotations

import django_filters
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.http import FileResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import exceptions, generics, permissions, status
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.response import Response
from rest_framework.views import APIView

from api.bid_serializers import (
    BidDetailSerializer,
    BidDocumentSerializer,
    BidDocumentUploadSerializer,
    BidDraftSerializer,
    BidSerializer,
    BidStartSerializer,
    BidTransitionResultSerializer,
    BidTransitionSerializer,
    EmptySerializer,
    MyVendorSerializer,
    OpenedDocumentSerializer,
    OpenedEnvelopeSerializer,
    TenderBidSerializer,
    VendorSerializer,
    WithdrawSerializer,
)
from api.exceptions import Conflict
from api.idempotency import idempotent
from api.pagination import KeysetPagination
from api.parsers import CappedMultiPartParser
from api.permissions import HasObjectRule
from api.tender_views import visible_tender
from api.views import IDEMPOTENCY_PARAMETER, ReadOnlyResource
from core.uploads import open_hashed
from procurement import bid_services
from procurement.bid_forms import ConsortiumMemberForm
from procurement.bid_views import bid_actions
from procurement.models import Bid, BidFile
from procurement.models.bids import BidStatus, EnvelopeKind
from procurement.opening_services import bid_file_integrity_failure_record
from procurement.opening_views import SealedAccessRefused, opened_bid_file, opened_envelope
from procurement.selectors import registered_bids
from vendors.filters import VendorFilter
from vendors.models import Debarment, Vendor, VendorMembership

PROBLEM = OpenApiResponse(description="A problem (application/problem+json)")
#: What an answer stored for ``Idempotency-Key`` replays never keeps: the draft (prices, lines, answers) and the
#: draft documents' titles are encrypted at rest and become sealed at the submission, while a stored answer is
#: plain JSON kept for hours — a replay after the submission would give the sealed content back, and a copy of
#: the database would hold it in clear. A replay gives them as null; the bid is read again with GET.
WITHHELD_FROM_STORED_ANSWERS = ("draft", "documents")


def _schema_only(view) -> bool:
    return getattr(view, "swagger_fake_view", False)


def _with_debarred(queryset):
    today = timezone.localdate()
    return queryset.annotate(debarred=Exists(Debarment.objects.active(today).filter(vendor=OuterRef("pk"))))


# Vendors ----------------------------------------------------------------------------------------------------


class VendorViewSet(ReadOnlyResource):
    """The vendor register, as the officers' vendor list shows it (``vendors.view_vendor``). There is no public
    register on the web either: the public list is the debarment list."""

    permission_classes = [permissions.IsAuthenticated, HasObjectRule]
    object_rule = "vendors.view_vendor"
    serializer_class = VendorSerializer
    filterset_class = VendorFilter

    def get_queryset(self):
        vendors = Vendor.objects.prefetch_related("categories")
        if _schema_only(self):
            return _with_debarred(vendors)
        sees_all = self.request.user.has_perm("vendors.view_vendor")
        if self.action == "list":
            if not sees_all:
                raise exceptions.PermissionDenied()
            vendors = vendors.distinct()
        elif not sees_all:
            # Another company does not exist for a vendor's people (404); their own is checked by the rule.
            vendors = vendors.filter(memberships__user=self.request.user)
        return _with_debarred(vendors)


class MyVendorView(generics.GenericAPIView):
    """The caller's own company (vendors' people), with whether it may bid today and why not."""

    permission_classes = [permissions.IsAuthenticated]
    serializer_class = MyVendorSerializer

    def get(self, request):
        membership = VendorMembership.objects.filter(user=request.user).first()
        if membership is None:
            raise exceptions.NotFound()
        vendor = _with_debarred(Vendor.objects.prefetch_related("categories")).get(pk=membership.vendor_id)
        if not request.user.has_perm("vendors.view_vendor", vendor):
            raise exceptions.NotFound()
        today = timezone.localdate()
        problems = bid_services.eligibility_problems(vendor, today)
        vendor.may_bid = not problems
        vendor.eligibility_problems = problems
        vendor.is_administrator = membership.is_administrator
        return Response(self.get_serializer(vendor).data)


# Bids -------------------------------------------------------------------------------------------------------


class BidFilter(django_filters.FilterSet):
    tender = django_filters.NumberFilter(field_name="tender_id", label=gettext_lazy("Tender"))
    status = django_filters.ChoiceFilter(choices=BidStatus.choices, label=gettext_lazy("Status"))

    class Meta:
        model = Bid
        fields = ["tender", "status"]


def _own_vendor(request):
    """The caller's vendor, if they may bid at all (the web's "My bids" rule), else 403."""
    vendor = bid_services.vendor_of(request.user)
    if vendor is None or not request.user.has_perm("procurement.submit_bid"):
        raise exceptions.PermissionDenied()
    return vendor


def _own_bid(request, pk: int) -> Bid:
    """One of the caller's vendor's bids; any other bid does not exist for them (404)."""
    vendor = bid_services.vendor_of(request.user)
    if vendor is None:
        raise exceptions.NotFound()
    bid = get_object_or_404(Bid.objects.select_related("tender__agency", "vendor"), pk=pk, vendor=vendor)
    if not request.user.has_perm("procurement.change_bid", bid):
        raise exceptions.NotFound()
    return bid


def _draft_input(bid: Bid, data: dict) -> dict:
    """The posted fields over the saved draft, in the service's form; consortium members are named by their
    registration numbers and resolved exactly as the web form does (``ConsortiumMemberForm``)."""
    draft = bid_services.read_draft(bid)
    for key in ("answers", "total_price", "currency", "validity_days"):
        if key in data:
            draft[key] = data[key]
    if "lines" in data:
        draft["lines"] = [dict(line) for line in data["lines"]]
    if "consortium" in data:
        rows, errors = [], {}
        for index, row in enumerate(data["consortium"]):
            form = ConsortiumMemberForm(data=dict(row))
            if not form.is_valid():
                for name, messages in form.errors.items():
                    errors[f"consortium.{index}.{name}"] = list(messages)
                continue
            if form.vendor is not None:
                rows.append({"vendor_id": str(form.vendor.pk), "share": form.cleaned_data.get("share", "")})
        if errors:
            raise exceptions.ValidationError(errors)
        draft["consortium"] = rows
    return draft


def _detail(request, bid: Bid, status_code: int = status.HTTP_200_OK) -> Response:
    bid.refresh_from_db()
    response = Response(BidDetailSerializer(bid, context={"request": request}).data, status=status_code)
    patch_cache_control(response, private=True, no_store=True)  # the draft: what will be sealed
    return response


@extend_schema_view(
    get=extend_schema(summary="The caller's vendor's bids", responses={200: BidSerializer(many=True), 403: PROBLEM}),
)
class BidListView(generics.ListCreateAPIView):
    """The bids of the caller's vendor ("My bids"); POST starts a draft on a published tender (or returns the
    vendor's live bid on it), optionally with the draft's first content. A replayed answer (same
    ``Idempotency-Key``) has ``draft`` and ``documents`` null: read the bid again."""

    permission_classes = [permissions.IsAuthenticated]
    serializer_class = BidSerializer
    pagination_class = KeysetPagination
    filter_backends = [DjangoFilterBackend]
    filterset_class = BidFilter

    def get_queryset(self):
        if _schema_only(self):
            return Bid.objects.none()
        return Bid.objects.filter(vendor=_own_vendor(self.request)).select_related("tender")

    @extend_schema(
        summary="Start a bid",
        parameters=[IDEMPOTENCY_PARAMETER],
        request=BidStartSerializer,
        responses={201: BidDetailSerializer, 400: PROBLEM, 403: PROBLEM, 409: PROBLEM, 422: PROBLEM},
    )
    @idempotent(withheld_fields=WITHHELD_FROM_STORED_ANSWERS)
    def post(self, request, *args, **kwargs):
        serializer = BidStartSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        with transaction.atomic():  # a draft refused leaves no bid behind
            bid = bid_services.bid_start(actor=request.user, tender=serializer.validated_data["tender"])
            if "draft" in serializer.validated_data:
                bid_services.bid_save_draft(
                    actor=request.user, bid=bid, data=_draft_input(bid, serializer.validated_data["draft"])
                )
        return _detail(request, bid, status.HTTP_201_CREATED)


class BidDetailView(APIView):
    """One of the caller's vendor's bids; PATCH saves the draft (the fields sent replace those saved)."""

    permission_classes = [permissions.IsAuthenticated]
    serializer_class = BidDetailSerializer

    @extend_schema(summary="A bid", responses={200: BidDetailSerializer, 404: PROBLEM})
    def get(self, request, pk: int):
        return _detail(request, _own_bid(request, pk))

    @extend_schema(
        summary="Save the draft",
        request=BidDraftSerializer,
        responses={200: BidDetailSerializer, 400: PROBLEM, 404: PROBLEM, 409: PROBLEM},
    )
    def patch(self, request, pk: int):
        bid = _own_bid(request, pk)
        serializer = BidDraftSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        bid_services.bid_save_draft(actor=request.user, bid=bid, data=_draft_input(bid, serializer.validated_data))
        return _detail(request, bid)


class BidDocumentView(APIView):
    """Attach a document to the draft (multipart: ``title`` and ``document``). It is checked as on the web
    (size, kind sniffed from the content) and sealed to the tender's key as it is stored."""

    permission_classes = [permissions.IsAuthenticated]
    parser_classes = [CappedMultiPartParser]
    serializer_class = BidDocumentSerializer

    @extend_schema(
        summary="Attach a document",
        request={"multipart/form-data": BidDocumentUploadSerializer},
        parameters=[IDEMPOTENCY_PARAMETER],
        responses={201: BidDocumentSerializer, 400: PROBLEM, 404: PROBLEM, 409: PROBLEM, 413: PROBLEM},
    )
    @idempotent(withheld_fields=("title",))  # the title is sealed with the bid: a stored answer never keeps it
    def post(self, request, pk: int):
        bid = _own_bid(request, pk)
        data = {key: request.data.get(key) for key in request.data}
        serializer = BidDocumentUploadSerializer(data=data)
        serializer.is_valid(raise_exception=True)
        bid_file = bid_services.bid_file_add(
            actor=request.user,
            bid=bid,
            uploaded_file=serializer.validated_data["document"],
            title=serializer.validated_data["title"],
        )
        response = Response(BidDocumentSerializer(bid_file).data, status=status.HTTP_201_CREATED)
        patch_cache_control(response, private=True, no_store=True)
        return response


class BidDocumentRemoveView(APIView):
    """Take a document out of the draft."""

    permission_classes = [permissions.IsAuthenticated]
    serializer_class = BidDocumentSerializer

    @extend_schema(summary="Remove a document from the draft", responses={204: None, 404: PROBLEM, 409: PROBLEM})
    def delete(self, request, pk: int, file_pk: int):
        bid = _own_bid(request, pk)
        bid_file = get_object_or_404(BidFile, pk=file_pk, bid=bid, in_draft=True)
        bid_services.bid_file_remove(actor=request.user, bid=bid, bid_file=bid_file)
        return Response(status=status.HTTP_204_NO_CONTENT)


# Transitions ------------------------------------------------------------------------------------------------


def _transitions():
    """name → (label, payload serializer, the web's action flag, the service)."""
    return {
        "submit": (
            _("Submit the bid"),
            EmptySerializer,
            lambda actions, bid: actions.edit and bid.has_draft,
            lambda actor, bid: bid_services.bid_submit(actor=actor, bid=bid),
        ),
        "modify": (
            _("Start a modification"),
            EmptySerializer,
            lambda actions, bid: actions.modify,
            lambda actor, bid: bid_services.bid_start_modification(actor=actor, bid=bid) and None,
        ),
        "discard_modification": (
            _("Discard the modification"),
            EmptySerializer,
            lambda actions, bid: actions.discard,
            lambda actor, bid: bid_services.bid_discard_modification(actor=actor, bid=bid) and None,
        ),
        "withdraw": (
            _("Withdraw the bid"),
            WithdrawSerializer,
            lambda actions, bid: actions.withdraw,
            lambda actor, bid: bid_services.bid_withdraw(actor=actor, bid=bid),
        ),
        "reconfirm": (
            _("Re-confirm the bid"),
            EmptySerializer,
            lambda actions, bid: actions.reconfirm,
            lambda actor, bid: bid_services.bid_reconfirm(actor=actor, bid=bid),
        ),
    }


TRANSITION_NAMES = ("submit", "modify", "discard_modification", "withdraw", "reconfirm")


class BidTransitionListView(APIView):
    """What the caller may do with the bid now (the web's buttons); the service decides again when asked."""

    permission_classes = [permissions.IsAuthenticated]
    serializer_class = BidTransitionSerializer
    pagination_class = None

    @extend_schema(summary="The bid's transitions", responses={200: BidTransitionSerializer(many=True), 404: PROBLEM})
    def get(self, request, pk: int):
        bid = _own_bid(request, pk)
        actions = bid_actions(bid, request.user, timezone.now())
        listed = [
            {
                "name": name,
                "label": label,
                "required_fields": [n for n, f in payload().fields.items() if f.required],
            }
            for name, (label, payload, allowed, _service) in _transitions().items()
            if allowed(actions, bid)
        ]
        return Response(BidTransitionSerializer(listed, many=True).data)


class BidTransitionView(APIView):
    """Perform a transition: ``submit`` (seal the saved draft as the next version; a receipt), ``modify``
    (start a new version), ``discard_modification``, ``withdraw`` (``{"confirm": true}``; a receipt) or
    ``reconfirm`` (after a material addendum; a receipt). The answer is the bid and the receipt, if any —
    the same receipt the web gives. A replayed answer (same ``Idempotency-Key``) has the receipt and ``bid``
    null: the stored answer never keeps the bid's draft."""

    permission_classes = [permissions.IsAuthenticated]
    serializer_class = BidTransitionResultSerializer

    @extend_schema(
        summary="Perform a transition",
        parameters=[
            IDEMPOTENCY_PARAMETER,
            OpenApiParameter("name", str, OpenApiParameter.PATH, enum=list(TRANSITION_NAMES)),
        ],
        request=WithdrawSerializer,
        responses={200: BidTransitionResultSerializer, 400: PROBLEM, 404: PROBLEM, 409: PROBLEM, 422: PROBLEM},
    )
    @idempotent(withheld_fields=("bid",))
    def post(self, request, pk: int, name: str):
        transition = _transitions().get(name)
        if transition is None:
            raise exceptions.NotFound()
        bid = _own_bid(request, pk)
        _label, payload, _allowed, service = transition
        payload(data=request.data if request.data else {}).is_valid(raise_exception=True)
        receipt = service(request.user, bid)
        bid.refresh_from_db()
        context = {"request": request}
        body = {"bid": bid, "receipt": receipt}
        response = Response(BidTransitionResultSerializer(body, context=context).data)
        patch_cache_control(response, private=True, no_store=True)
        return response


# The tender's bid register ------------------------------------------------------------------------------------


class TenderBidPagination(KeysetPagination):
    ordering = "id"  # oldest first, as on the web's bid register


@extend_schema(
    parameters=[OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH, description="The tender's id.")]
)
class TenderBidListView(generics.ListAPIView):
    """The tender's bid register, as the web's (``procurement:bid_register``) shows it, to whom it shows it
    (the rule ``procurement.view_bids``: the tender's officers, approvers, auditors, administrators and its
    opening committee): who bid, when, which version and each envelope's SHA-256 — metadata only, before and
    after the opening. Drafts are not listed. A tender the caller may not see is a 404, the register of one
    they may see but not its bids a 403."""

    permission_classes = [permissions.IsAuthenticated]
    serializer_class = TenderBidSerializer
    pagination_class = TenderBidPagination

    def get_queryset(self):
        if _schema_only(self):
            return Bid.objects.none()
        tender = visible_tender(self.request, self.kwargs["pk"])
        if not self.request.user.has_perm("procurement.view_bids", tender):
            raise exceptions.PermissionDenied()
        return registered_bids(tender)

    @extend_schema(
        summary="The tender's bid register (metadata only)",
        responses={200: TenderBidSerializer(many=True), 403: PROBLEM, 404: PROBLEM},
    )
    def get(self, request, *args, **kwargs):
        response = super().get(request, *args, **kwargs)
        patch_cache_control(response, private=True, no_store=True)
        return response


# Opened envelopes and documents -------------------------------------------------------------------------------


class _AnyAccepted(BaseContentNegotiation):
    """A download is answered in its own type whatever the client accepts; a refusal, as a problem (JSON)."""

    def select_parser(self, request, parsers):
        return parsers[0] if parsers else None

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class _NotStored(APIView):
    """Every answer — the content and every refusal — is private and not stored by any cache."""

    permission_classes = [permissions.IsAuthenticated]

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        patch_cache_control(response, private=True, no_store=True)
        return response


def _sealed_refusal(tender) -> exceptions.PermissionDenied:
    """The web's refusal page (``sealed_refused.html``) as a problem's detail; the attempt is already recorded."""
    return exceptions.PermissionDenied(
        _(
            "The bids of tender %(reference)s are sealed: nobody can read them before the opening committee opens "
            "them after the submission deadline, whatever their role."
        )
        % {"reference": tender.reference}
        + " "
        + _("This attempt was recorded in the audit log.")
    )


def _as_on_the_web(request, pk: int, bid_pk: int, read):
    """``read()`` — the web's own function (``opened_envelope`` / ``opened_bid_file``) — with its refusals as
    problems: a tender the caller may not see is a 404 (as everywhere in the API); a sealed bid or envelope, or no
    such bid, the web's refusal (403, recorded by that function with ``sealed_access_refused``); an opened bid the
    rule ``procurement.read_bid_content`` refuses, a 403 — or a 404 to whoever may not even see the bid (another
    vendor, an officer of another agency), as ``/bids/<id>/`` answers them."""
    visible_tender(request, pk)
    try:
        return read()
    except SealedAccessRefused as refused:
        raise _sealed_refusal(refused.tender) from None
    except DjangoPermissionDenied:
        bid = Bid.objects.select_related("tender").get(pk=bid_pk, tender_id=pk)  # found by ``read``
        user = request.user
        if not (user.has_perm("procurement.view_bid", bid) or user.has_perm("procurement.evaluate", bid.tender)):
            raise exceptions.NotFound() from None
        raise


TENDER_BID_PARAMETERS = [
    OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH, description="The tender's id."),
    OpenApiParameter("bid", OpenApiTypes.INT, OpenApiParameter.PATH, description="The bid's id."),
]


@extend_schema(
    parameters=[
        *TENDER_BID_PARAMETERS,
        OpenApiParameter("kind", str, OpenApiParameter.PATH, enum=[str(k) for k in EnvelopeKind.values]),
    ]
)
class OpenedEnvelopeView(_NotStored):
    """One envelope of a bid after its opening, as the web's envelope page shows it and to whom (the same function,
    ``procurement.opening_views.opened_envelope``, and the rule ``procurement.read_bid_content``: the tender's
    officers, its opening committee, evaluation members who declared no conflict with the bidder, auditors, and
    the bidder itself): the technical envelope after the technical opening, the financial one after the financial
    opening. Before that, nobody reads it, whatever their role: a 403, recorded in the audit log
    (``bid.sealed_access_refused``) as on the web. An envelope that did not match its receipt at the opening is
    answered with ``state`` tampered and no content, as on the web."""

    serializer_class = OpenedEnvelopeSerializer

    @extend_schema(
        summary="An opened envelope of a bid",
        responses={200: OpenedEnvelopeSerializer, 403: PROBLEM, 404: PROBLEM},
    )
    def get(self, request, pk: int, bid: int, kind: str):
        opened = _as_on_the_web(request, pk, bid, lambda: opened_envelope(request, pk, bid, kind))
        return Response(OpenedEnvelopeSerializer(opened, context={"request": request}).data)


@extend_schema(
    parameters=[
        *TENDER_BID_PARAMETERS,
        OpenApiParameter("file_pk", OpenApiTypes.INT, OpenApiParameter.PATH, description="The document's id."),
    ]
)
class OpenedDocumentView(_NotStored):
    """A document of a bid's opened technical envelope (its ``documents[].download``), to those who may read the
    envelope, as the web's download (``procurement.opening_views.opened_bid_file``): before the opening, or for a
    document that did not match its receipt at the opening, a 403 recorded in the audit log. It is served only
    while it still matches the SHA-256 computed when it was opened (``X-Content-SHA256``), hashed on the same open
    file that is sent; an altered document is a 409."""

    content_negotiation_class = _AnyAccepted
    serializer_class = OpenedDocumentSerializer

    @extend_schema(
        summary="Download a document of an opened bid",
        responses={(200, "*/*"): OpenApiTypes.BINARY, 403: PROBLEM, 404: PROBLEM, 409: PROBLEM},
    )
    def get(self, request, pk: int, bid: int, file_pk: int):
        bid_file = _as_on_the_web(request, pk, bid, lambda: opened_bid_file(request, pk, bid, id=file_pk))
        handle, found = open_hashed(bid_file.opened)
        if found is None or found != bid_file.opened_sha256:
            if handle is not None:
                handle.close()
            bid_file_integrity_failure_record(user=request.user, bid_file=bid_file, found=found)
            raise Conflict(_("This document no longer matches the SHA-256 recorded when it was opened."))
        response = FileResponse(
            handle, as_attachment=True, filename=bid_file.original_name, content_type=bid_file.content_type
        )
        response["X-Content-SHA256"] = found
        response["X-Content-Type-Options"] = "nosniff"
        return response
