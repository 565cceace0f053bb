"""Payloads and answers of the opening, evaluation, award and complaint endpoints (``api/evaluation_views.py``).

Inputs are strict (unknown fields → 400); the services validate the content (the same messages as the web)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from api.serializers import StrictInputMixin
from procurement.models import PriceReview


class NoPayloadSerializer(StrictInputMixin, serializers.Serializer):
    """An action without a payload: send ``{}``."""


class OpeningConfirmSerializer(StrictInputMixin, serializers.Serializer):
    password = serializers.CharField(
        max_length=4096,
        trim_whitespace=False,
        style={"input_type": "password"},
        help_text=_("The password you sign in with: it proves you are present and unlocks your key."),
    )
    recovery_share = serializers.CharField(max_length=20000, required=False, allow_blank=True, default="")


class OpeningSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    stage = serializers.CharField()
    status = serializers.CharField()
    completed = serializers.BooleanField()
    expires_at = serializers.DateTimeField(allow_null=True)


class EvaluationMemberInputSerializer(StrictInputMixin, serializers.Serializer):
    user = serializers.IntegerField(help_text=_("The id of the person to appoint."))
    is_chair = serializers.BooleanField(required=False, default=False)
    is_external = serializers.BooleanField(required=False, default=False)


class DeclarationInputSerializer(StrictInputMixin, serializers.Serializer):
    has_conflict = serializers.BooleanField()
    statement = serializers.CharField(max_length=10000, required=False, allow_blank=True, default="")


class ComplianceInputSerializer(StrictInputMixin, serializers.Serializer):
    responsive = serializers.BooleanField()
    reason = serializers.CharField(max_length=10000, required=False, allow_blank=True, default="")


class ScoreRowSerializer(StrictInputMixin, serializers.Serializer):
    criterion = serializers.IntegerField()
    score = serializers.CharField(max_length=20)
    justification = serializers.CharField(max_length=10000, allow_blank=True)


class ScoreSheetInputSerializer(StrictInputMixin, serializers.Serializer):
    scores = ScoreRowSerializer(many=True, allow_empty=False)


class ConsensusInputSerializer(StrictInputMixin, serializers.Serializer):
    criterion = serializers.IntegerField()
    score = serializers.CharField(max_length=20)
    reason = serializers.CharField(max_length=10000, allow_blank=True)


class PriceReviewInputSerializer(StrictInputMixin, serializers.Serializer):
    decision = serializers.ChoiceField(choices=PriceReview.Decision.choices)
    reason = serializers.CharField(max_length=10000, allow_blank=True)


class ReasonsSerializer(StrictInputMixin, serializers.Serializer):
    reasons = serializers.CharField(max_length=10000, allow_blank=True)


class CommentsSerializer(StrictInputMixin, serializers.Serializer):
    comments = serializers.CharField(max_length=10000, allow_blank=True)


class GroundsSerializer(StrictInputMixin, serializers.Serializer):
    grounds = serializers.CharField(max_length=10000, allow_blank=True)


class ComplaintDecisionInputSerializer(StrictInputMixin, serializers.Serializer):
    upheld = serializers.BooleanField()
    decision = serializers.CharField(max_length=10000, allow_blank=True)


class TransitionSerializer(serializers.Serializer):
    name = serializers.CharField()
    label = serializers.CharField()
    fields = serializers.ListField(child=serializers.CharField())
    url = serializers.CharField()


class EvaluationSerializer(serializers.Serializer):
    """What the caller may see of the evaluation: a member sees their own declarations and scores, bids they are
    recused from only by name, and the others' scores (``matrix``) only once every member has submitted."""

    tender = serializers.IntegerField()
    status = serializers.CharField()
    role = serializers.ChoiceField(choices=["member", "chair", "overseer"])
    members = serializers.JSONField()
    bids = serializers.JSONField()
    criteria = serializers.JSONField()
    my_scores = serializers.JSONField(allow_null=True)
    submitted = serializers.BooleanField(allow_null=True)
    sheet_problems = serializers.ListField(child=serializers.CharField())
    all_scores_in = serializers.BooleanField()
    matrix = serializers.JSONField(allow_null=True)
    recommendation = serializers.JSONField(allow_null=True)
    transitions = TransitionSerializer(many=True)


class RecommendationSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.CharField()
    bid = serializers.IntegerField()
    bidder = serializers.CharField()
    reasons = serializers.CharField()
    recommended_at = serializers.DateTimeField()
    decided_at = serializers.DateTimeField(allow_null=True)
    standstill_ends_at = serializers.DateTimeField(allow_null=True)
    comments = serializers.CharField()
    results = serializers.JSONField()


class ComplaintSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    tender = serializers.IntegerField(source="tender_id")
    bid = serializers.IntegerField(source="bid_id")
    bidder = serializers.CharField(source="bid.vendor")
    status = serializers.CharField()
    grounds = serializers.CharField()
    filed_at = serializers.DateTimeField()
    decision = serializers.CharField()
    decided_at = serializers.DateTimeField(allow_null=True)
