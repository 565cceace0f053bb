"""What the tenders' write endpoints, nested lists and transitions read and write.

The write serializers only collect and type the input (the same fields as the web's ``TenderForm`` and
``CriterionForm``); every rule is checked again by the service they hand it to (``tender_create``,
``tender_update``, …), which is the one the web views call.
"""

from __future__ import annotations

from decimal import Decimal

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from api.serializers import StrictInputMixin, TenderSerializer
from procurement.models import Addendum, Clarification, OpeningCommitteeMember, Tender, TenderDocument
from procurement.models.tenders import TenderStatus
from procurement.tender_forms import MAX_CRITERIA
from procurement.tender_services import TENDER_FIELDS


def tender_status_field() -> serializers.CharField:
    """The tender's state as plain text in the serializers derived from ``TenderSerializer`` (its enum is
    described once, on ``Tender``, so that the schema's enum names stay stable)."""
    return serializers.CharField(
        read_only=True, help_text=_("The tender's state, one of: %s.") % ", ".join(TenderStatus.values)
    )


# Drafting ------------------------------------------------------------------------------------------------


class CriterionInputSerializer(StrictInputMixin, serializers.Serializer):
    """One technical criterion, as the web form's ``CriterionForm`` takes it."""

    name_en = serializers.CharField(max_length=255)
    name_ar = serializers.CharField(max_length=255)
    description_en = serializers.CharField(required=False, allow_blank=True, default="")
    description_ar = serializers.CharField(required=False, allow_blank=True, default="")
    weight = serializers.DecimalField(
        max_digits=5, decimal_places=2, min_value=Decimal("0.01"), max_value=Decimal("100")
    )


class TenderUpdateSerializer(StrictInputMixin, serializers.ModelSerializer):
    """The terms of a draft tender (the web form's fields). ``criteria``, when sent, replaces all the criteria;
    their weights must add up to 100."""

    criteria = CriterionInputSerializer(many=True, required=False, max_length=MAX_CRITERIA)

    class Meta:
        model = Tender
        fields = [*TENDER_FIELDS, "criteria"]


class TenderCreateSerializer(TenderUpdateSerializer):
    """A new draft tender of the caller's agency, for one phase of a programme."""

    class Meta(TenderUpdateSerializer.Meta):
        fields = ["phase", *TENDER_FIELDS, "criteria"]


class CriterionSerializer(serializers.Serializer):
    name_en = serializers.CharField()
    name_ar = serializers.CharField()
    description_en = serializers.CharField()
    description_ar = serializers.CharField()
    weight = serializers.DecimalField(max_digits=5, decimal_places=2)


class TenderWrittenSerializer(TenderSerializer):
    """The tender as stored after a write, with its criteria."""

    status = tender_status_field()
    criteria = serializers.SerializerMethodField()

    class Meta(TenderSerializer.Meta):
        fields = [*TenderSerializer.Meta.fields, "criteria"]

    @extend_schema_field(CriterionSerializer(many=True))
    def get_criteria(self, tender: Tender) -> list[dict]:
        return CriterionSerializer(tender.criteria.order_by("order", "id"), many=True).data


# Transitions ---------------------------------------------------------------------------------------------


class TenderTransitionSerializer(serializers.Serializer):
    name = serializers.CharField(help_text=_("Use it in POST /api/v1/tenders/{id}/transitions/{name}/."))
    label = serializers.CharField()
    required_fields = serializers.ListField(
        child=serializers.CharField(), help_text=_("The fields the POST body must carry.")
    )


class EmptyTransitionSerializer(StrictInputMixin, serializers.Serializer):
    """A transition that needs nothing typed: send ``{}`` (or no body)."""


class CommentsTransitionSerializer(StrictInputMixin, serializers.Serializer):
    comments = serializers.CharField(help_text=_("Say what must change before the tender can be approved."))


class ReasonTransitionSerializer(StrictInputMixin, serializers.Serializer):
    reason = serializers.CharField(help_text=_("Told to everyone who downloaded the documents or asked a question."))


class TenderTransitionResultSerializer(TenderSerializer):
    """The tender after the transition. ``recovery_share`` is set only in the answer to ``approve``."""

    status = tender_status_field()
    recovery_share = serializers.CharField(
        allow_null=True,
        read_only=True,
        help_text=_(
            "After 'approve': the tender's offline recovery share, for the agency's safe. It is in this answer "
            "only, never stored: null otherwise, and null when the answer is replayed for a repeated "
            "Idempotency-Key."
        ),
    )

    class Meta(TenderSerializer.Meta):
        fields = [*TenderSerializer.Meta.fields, "recovery_share"]


# The opening committee -----------------------------------------------------------------------------------


class CommitteeMemberInputSerializer(StrictInputMixin, serializers.Serializer):
    user = serializers.IntegerField(
        help_text=_("The id of an active committee member, or of a procurement officer of this tender's agency.")
    )


class CommitteeMemberSerializer(serializers.ModelSerializer):
    name = serializers.CharField(source="user.full_name", read_only=True)
    has_key = serializers.BooleanField(read_only=True, help_text=_("Whether the member has set up a personal key."))

    class Meta:
        model = OpeningCommitteeMember
        fields = ["id", "user", "name", "has_key", "nominated_at"]


class OpeningCommitteeSerializer(serializers.Serializer):
    members = CommitteeMemberSerializer(many=True)
    problems = serializers.ListField(
        child=serializers.CharField(), help_text=_("What stops the committee from holding the tender's key.")
    )


# What is published with the tender ---------------------------------------------------------------------


class TenderDocumentSerializer(serializers.ModelSerializer):
    addendum = serializers.IntegerField(source="addendum.number", allow_null=True, read_only=True)
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = TenderDocument
        fields = [
            "id",
            "title",
            "original_name",
            "content_type",
            "size",
            "sha256",
            "addendum",
            "superseded_by",
            "uploaded_at",
            "download_url",
        ]

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_download_url(self, document: TenderDocument) -> str | None:
        from procurement.tender_views import _download_url

        return _download_url(document)


class TenderDocumentUploadSerializer(StrictInputMixin, serializers.Serializer):
    title = serializers.CharField(max_length=255)
    file = serializers.FileField()


class ClarificationSerializer(serializers.ModelSerializer):
    """A question and its answer; who asked is never part of it (as on the portal)."""

    class Meta:
        model = Clarification
        fields = ["number", "question", "answer", "asked_at", "answered_at"]


class AddendumSerializer(serializers.ModelSerializer):
    class Meta:
        model = Addendum
        fields = [
            "number",
            "status",
            "summary_en",
            "summary_ar",
            "new_clarification_deadline",
            "new_submission_deadline",
            "new_opening_time",
            "new_estimated_value",
            "new_criteria",
            "created_at",
            "issued_at",
        ]
