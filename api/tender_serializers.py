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
from procurement.tender_forms import MAX_CRITERIA, AddendumDocumentFormSet
from procurement.tender_services import TENDER_FIELDS

#: As many documents as the web's addendum form takes at once.
MAX_ADDENDUM_DOCUMENTS = AddendumDocumentFormSet.max_num


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
    """A technical criterion as published; a bid's ``answers`` and the evaluators' scores are keyed by its id."""

    id = serializers.IntegerField(read_only=True)
    name_en = serializers.CharField()
    name_ar = serializers.CharField()
    description_en = serializers.CharField()
    description_ar = serializers.CharField()
    weight = serializers.DecimalField(max_digits=5, decimal_places=2)


class TenderDetailSerializer(TenderSerializer):
    """One tender with its technical criteria, as the portal's tender page shows them to bidders (a tender is
    readable only once published, or by those who see its internals, who also see a draft's criteria)."""

    status = tender_status_field()
    criteria = serializers.SerializerMethodField()

    class Meta(TenderSerializer.Meta):
        fields = [*TenderSerializer.Meta.fields, "criteria"]

    @extend_schema_field(CriterionSerializer(many=True))
    def get_criteria(self, tender: Tender) -> list[dict]:
        return CriterionSerializer(tender.criteria.order_by("order", "id"), many=True).data


class TenderWrittenSerializer(TenderDetailSerializer):
    """The tender as stored after a write, with its criteria."""


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
    """An addendum; ``number`` identifies it within its tender (``/tenders/{id}/addenda/{number}/``)."""

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


# Questions and addenda, written --------------------------------------------------------------------------


class QuestionInputSerializer(StrictInputMixin, serializers.Serializer):
    question = serializers.CharField(
        help_text=_("Published with its answer to every vendor, without naming who asked.")
    )


class AnswerInputSerializer(StrictInputMixin, serializers.Serializer):
    answer = serializers.CharField(help_text=_("Published to every vendor, without naming who asked."))


class AddendumCreateSerializer(StrictInputMixin, serializers.Serializer):
    """What the web's addendum form takes. Leave out (or send null) what does not change; a deadline can only
    move later. ``new_estimated_value`` or ``new_criteria`` (the complete new list, weights adding up to 100)
    need an approver's approval; otherwise the addendum is issued at once. Documents are sent as
    ``multipart/form-data`` (``documents``, with ``document_titles`` in the same order; a document with the same
    title as a current one replaces it); ``new_criteria`` only in a JSON body."""

    summary_en = serializers.CharField()
    summary_ar = serializers.CharField()
    new_clarification_deadline = serializers.DateTimeField(required=False, allow_null=True)
    new_submission_deadline = serializers.DateTimeField(required=False, allow_null=True)
    new_opening_time = serializers.DateTimeField(required=False, allow_null=True)
    new_estimated_value = serializers.DecimalField(
        max_digits=18, decimal_places=2, min_value=Decimal("0"), required=False, allow_null=True
    )
    new_criteria = CriterionInputSerializer(many=True, required=False, allow_null=True, max_length=MAX_CRITERIA)
    documents = serializers.ListField(child=serializers.FileField(), required=False, max_length=MAX_ADDENDUM_DOCUMENTS)
    document_titles = serializers.ListField(
        child=serializers.CharField(max_length=255, allow_blank=True),
        required=False,
        max_length=MAX_ADDENDUM_DOCUMENTS,
        help_text=_("The documents' titles, in their order (the file's name when left out or blank)."),
    )

    def validate(self, attrs: dict) -> dict:
        if len(attrs.get("document_titles", [])) > len(attrs.get("documents", [])):
            raise serializers.ValidationError({"document_titles": [_("Give one title per document, at most.")]})
        return attrs

    def service_data(self) -> dict:
        """What ``addendum_create`` takes, as the web form gives it: the summaries and only the changes asked for
        (the criteria's weights as text, so that 33.33 stays 33.33)."""
        data = self.validated_data
        changes = {name: data[name] for name in ("summary_en", "summary_ar")}
        for name in (
            "new_clarification_deadline",
            "new_submission_deadline",
            "new_opening_time",
            "new_estimated_value",
        ):
            if data.get(name) is not None:
                changes[name] = data[name]
        if data.get("new_criteria") is not None:
            changes["new_criteria"] = [{**item, "weight": str(item["weight"])} for item in data["new_criteria"]]
        return changes

    def files(self) -> list[tuple[str, object]]:
        titles = self.validated_data.get("document_titles", [])
        return [
            ((titles[index] if index < len(titles) else "") or uploaded.name, uploaded)
            for index, uploaded in enumerate(self.validated_data.get("documents", []))
        ]


class AddendumTransitionSerializer(serializers.Serializer):
    name = serializers.CharField(
        help_text=_("Use it in POST /api/v1/tenders/{id}/addenda/{number}/transitions/{name}/.")
    )
    label = serializers.CharField()
    required_fields = serializers.ListField(child=serializers.CharField())
