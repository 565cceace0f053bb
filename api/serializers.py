"""What the API reads and writes. Write serializers refuse fields they do not know."""

from __future__ import annotations

from collections.abc import Mapping

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from api.services import DEFAULT_EXPIRY_DAYS, MAX_EXPIRY_DAYS
from audit.models import AuditEvent
from contracts.models import Contract
from notifications.models import Notification
from procurement.models import Agency, Phase, Programme, Tender


class StrictInputMixin:
    """Refuse a body that is not an object, or that carries fields this serializer does not know (400)."""

    def to_internal_value(self, data):
        if not isinstance(data, Mapping):
            raise serializers.ValidationError({"non_field_errors": [_("Send a JSON object.")]})
        known = {name for name, field in self.fields.items() if not field.read_only}
        unknown = sorted(set(data) - known)
        if unknown:
            raise serializers.ValidationError({name: [_("This field is not known.")] for name in unknown})
        return super().to_internal_value(data)


# Personal tokens ---------------------------------------------------------------------------------------


class TokenRequestSerializer(StrictInputMixin, serializers.Serializer):
    email = serializers.EmailField(max_length=254)
    password = serializers.CharField(max_length=4096, trim_whitespace=False, style={"input_type": "password"})
    name = serializers.CharField(max_length=100, help_text=_("A name to recognise the token by."))
    expires_in_days = serializers.IntegerField(
        min_value=1, max_value=MAX_EXPIRY_DAYS, default=DEFAULT_EXPIRY_DAYS, help_text=_("1 to 365 days.")
    )


class IssuedTokenSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    prefix = serializers.CharField()
    token = serializers.CharField(
        allow_null=True,
        help_text=_(
            "The secret, shown only in this answer; send it as 'Authorization: Bearer <token>'. "
            "Null when the answer is replayed for a repeated Idempotency-Key."
        ),
    )
    created_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField()


# The programme --------------------------------------------------------------------------------------------


class AgencySerializer(serializers.ModelSerializer):
    class Meta:
        model = Agency
        fields = ["id", "code", "name_en", "name_ar", "kind", "parent", "website", "is_active"]


class PhaseSerializer(serializers.ModelSerializer):
    class Meta:
        model = Phase
        fields = [
            "id",
            "order",
            "name_en",
            "name_ar",
            "start_date",
            "end_date",
            "budget",
            "specification_en",
            "specification_ar",
            "deliverables_en",
            "deliverables_ar",
        ]


class PhaseResourceSerializer(PhaseSerializer):
    """A phase on its own (``/phases/``): the programme it belongs to and its status as the programme's page shows
    it (from its dates, as of today)."""

    status = serializers.SerializerMethodField()
    progress = serializers.SerializerMethodField(help_text=_("Share of the phase's time elapsed, in percent."))

    class Meta(PhaseSerializer.Meta):
        fields = ["id", "programme", *PhaseSerializer.Meta.fields[1:], "status", "progress"]

    @extend_schema_field(serializers.ChoiceField(choices=Phase.Status.choices))
    def get_status(self, phase: Phase) -> str:
        return phase.status(self.context.get("today"))

    def get_progress(self, phase: Phase) -> int:
        return phase.progress(self.context.get("today"))


class ProgrammeSerializer(serializers.ModelSerializer):
    phases = PhaseSerializer(many=True, read_only=True)

    class Meta:
        model = Programme
        fields = [
            "id",
            "code",
            "name_en",
            "name_ar",
            "description_en",
            "description_ar",
            "sponsor_agency",
            "budget",
            "currency",
            "start_date",
            "end_date",
            "phases",
        ]


# Tenders ----------------------------------------------------------------------------------------------------


class TenderInternalsSerializer(serializers.ModelSerializer):
    """What only the tender's own agency, its approvers, auditors and administrators see."""

    class Meta:
        model = Tender
        fields = ["created_by", "submitted_by", "approved_by", "return_comments", "created_at", "updated_at"]


class TenderSerializer(serializers.ModelSerializer):
    """A tender as the portal shows it; ``internal`` is null unless the caller may see the tender's internals
    (the rule ``procurement.view_tender_internals``). Bids are never part of it."""

    internal = serializers.SerializerMethodField()

    class Meta:
        model = Tender
        fields = [
            "id",
            "reference",
            "status",
            "title_en",
            "title_ar",
            "description_en",
            "description_ar",
            "agency",
            "phase",
            "method",
            "method_justification",
            "category",
            "estimated_value",
            "currency",
            "minimum_bids",
            "evaluation_method",
            "technical_weight",
            "financial_weight",
            "pass_mark",
            "clarification_deadline",
            "submission_deadline",
            "opening_time",
            "published_at",
            "closed_at",
            "cancellation_reason",
            "unsuccessful_reason",
            "internal",
        ]

    @extend_schema_field(TenderInternalsSerializer(allow_null=True))
    def get_internal(self, tender: Tender) -> dict | None:
        if not getattr(tender, "shows_internals", False):
            return None
        return TenderInternalsSerializer(tender).data


# Contracts ------------------------------------------------------------------------------------------------


class ContractSerializer(serializers.ModelSerializer):
    class Meta:
        model = Contract
        fields = [
            "id",
            "number",
            "status",
            "tender",
            "agency",
            "phase",
            "vendor",
            "title_en",
            "title_ar",
            "value",
            "currency",
            "start_date",
            "end_date",
            "payment_mechanism",
            "penalty_rate",
            "penalty_cap",
            "created_at",
            "activated_at",
            "ended_at",
        ]


# Audit and notifications -----------------------------------------------------------------------------------


class AuditEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = AuditEvent
        fields = [
            "sequence",
            "occurred_at",
            "actor",
            "actor_label",
            "action",
            "object_type",
            "object_id",
            "object_label",
            "agency_id",
            "programme_id",
            "tender_id",
            "contract_id",
            "payload",
            "prev_hash",
            "hash",
        ]


class NotificationSerializer(serializers.ModelSerializer):
    subject = serializers.CharField(read_only=True)
    body = serializers.CharField(read_only=True)

    class Meta:
        model = Notification
        fields = ["id", "kind", "tender", "subject", "body", "created_at", "read_at"]
