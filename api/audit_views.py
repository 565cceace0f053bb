"""A contract's audit trail for auditors, as the web's trail page shows it (``audit/views.py``).

Nothing here decides anything of its own: the rule is the web's (``audit.view_auditevent``), the contract, the
trail's events and its filters come from the web's own functions (``trail_contract``, ``_trail``:
``trail_filter`` and ``TrailFilter``), the integrity from ``trail_integrity``, the documents and their check from
``trail_documents`` and ``check_documents``, and the proof bundle is the web's download itself. Each answer is
logged as the web logs the page (``audit.trail_viewed`` with the filters, ``audit.bundle_downloaded``), and the
request is marked so that ``audit.middleware`` does not log it a second time as a page view.
"""

from __future__ import annotations

from django.urls import reverse
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext as _
from django_filters.rest_framework import DjangoFilterBackend
from django_filters.utils import translate_validation
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, generics, permissions
from rest_framework.response import Response

from api.audit_serializers import TrailEventSerializer, TrailSummarySerializer
from api.pagination import KeysetPagination
from api.permissions import HasRule
from audit import views as web
from audit.bundles import trail_integrity
from audit.filters import TrailFilter
from audit.models import AuditEvent
from audit.services import audit_event_append
from audit.trail import check_documents, trail_documents

CHECK_PARAMETER = OpenApiParameter(
    "check",
    str,
    OpenApiParameter.QUERY,
    required=False,
    enum=["documents"],
    description="``documents``: recompute each document's SHA-256 from the file store and look for it in the "
    "trail's events.",
)


def _schema_only(view) -> bool:
    return getattr(view, "swagger_fake_view", False)


def _logged_by_the_view(request) -> None:
    """The view logged its own event: ``audit.middleware`` reads the mark on Django's request, not DRF's."""
    request._request.audit_view_logged = True


class TrailEventPagination(KeysetPagination):
    """The trail oldest first, as the trail page shows it."""

    ordering = "sequence"


class TrailBase(generics.GenericAPIView):
    """Auditors (and administrators) only — the web's rule; an unknown contract is a 404."""

    permission_classes = [permissions.IsAuthenticated, HasRule]
    rule = "audit.view_auditevent"

    def trail_contract(self):
        return web.trail_contract(self.kwargs["pk"])


class TrailEventListView(TrailBase, generics.ListAPIView):
    """The contract's trail: every audit event from the programme and phase that planned it to its last payment,
    oldest first, each with the kinds of event it belongs to; filtered as the trail page is (kind, actor, dates).
    Each call is logged (``audit.trail_viewed``, with the filters)."""

    serializer_class = TrailEventSerializer
    pagination_class = TrailEventPagination
    filter_backends = [DjangoFilterBackend]
    filterset_class = TrailFilter

    def get_queryset(self):
        # The schema's filters come from ``filterset_class``; the rows, from the web's ``_trail`` (in ``list``).
        return AuditEvent.objects.none()

    def list(self, request, *args, **kwargs):
        contract = self.trail_contract()
        filterset = web.trail_events(request.query_params, contract)
        if not filterset.is_valid():
            raise translate_validation(filterset.errors)
        page = self.paginate_queryset(filterset.qs)
        response = self.get_paginated_response(self.get_serializer(page, many=True).data)
        audit_event_append(
            action="audit.trail_viewed",
            actor=request.user,
            obj=contract,
            payload={"filters": request.query_params.dict()},
        )
        _logged_by_the_view(request)
        patch_cache_control(response, private=True, no_store=True)
        return response


class TrailSummaryView(TrailBase):
    """The contract's trail at a glance: whether it verifies up to the latest signed checkpoint, the documents it
    names with their recorded SHA-256 (and, with ``?check=documents``, whether each stored file still matches it
    and the log records it), and where its events and proof bundle are. Logged as the trail page is."""

    serializer_class = TrailSummarySerializer
    pagination_class = None

    @extend_schema(
        parameters=[CHECK_PARAMETER],
        responses={
            200: TrailSummarySerializer,
            400: OpenApiResponse(description="Invalid check"),
            404: OpenApiResponse(description="No such contract"),
        },
    )
    def get(self, request, pk: int):
        checks_asked = request.query_params.getlist("check")
        if checks_asked not in ([], ["documents"]):
            raise exceptions.ValidationError({"check": [_("Send “documents”, or leave it out.")]})
        contract = self.trail_contract()
        documents = trail_documents(contract)
        check = bool(checks_asked)
        checks = check_documents(contract, documents) if check else {}
        audit_event_append(
            action="audit.trail_viewed",
            actor=request.user,
            obj=contract,
            payload={
                "filters": request.query_params.dict(),
                **({"documents_checked": {key: row["ok"] for key, row in checks.items()}} if check else {}),
            },
        )
        _logged_by_the_view(request)
        integrity = trail_integrity(contract)
        body = {
            "contract": contract,
            "integrity": integrity,
            "documents_checked": check,
            "documents": [
                {
                    "key": document.key,
                    "kind": str(document.kind),
                    "title": str(document.title),
                    "name": document.name,
                    "sha256": document.sha256,
                    "stored_at": document.stored_at,
                    "check": checks.get(document.key),
                }
                for document in documents
            ],
            "links": {
                "events": request.build_absolute_uri(reverse("api:audit-trail-events", args=[contract.pk])),
                "bundle": request.build_absolute_uri(reverse("api:audit-trail-bundle", args=[contract.pk])),
            },
        }
        response = Response(self.get_serializer(body).data)
        patch_cache_control(response, private=True, no_store=True)
        return response


class TrailBundleView(TrailBase):
    """The contract's proof bundle (``ppp-audit-proof/1``), exactly as the web's download: every event from the
    trail's first to the signed checkpoint covering its last, the checkpoint with its signature and key, and the
    signed PDFs. ``manage.py verify_audit_bundle`` checks it offline. The download is logged
    (``audit.bundle_downloaded``)."""

    pagination_class = None

    @extend_schema(
        responses={
            (200, "application/json"): OpenApiResponse(OpenApiTypes.OBJECT, description="The proof bundle"),
            404: OpenApiResponse(description="No such contract"),
        }
    )
    def get(self, request, pk: int):
        # The web's own view: the same contract lookup (an unknown one is a 404 problem here), the same
        # build_bundle, the same event, the same bytes and headers; it marks the request as logged itself.
        return web.contract_bundle(request._request, pk=pk)
