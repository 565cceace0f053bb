"""What the API answers about a contract's audit trail: its events with their kinds, and its summary (integrity
up to the signed checkpoint, the documents it names and their check). Read-only."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from api.serializers import AuditEventSerializer
from audit.trail import KIND_CHOICES, KIND_LABELS, kinds_of


class TrailKindSerializer(serializers.Serializer):
    code = serializers.ChoiceField(choices=KIND_CHOICES)
    label = serializers.CharField()


class TrailEventSerializer(AuditEventSerializer):
    """An event of the trail, with the kinds of event it belongs to (as the trail page shows them)."""

    kinds = serializers.SerializerMethodField(help_text=_("The kinds of event of the trail this event belongs to."))

    class Meta(AuditEventSerializer.Meta):
        fields = [*AuditEventSerializer.Meta.fields, "kinds"]

    @extend_schema_field(TrailKindSerializer(many=True))
    def get_kinds(self, event) -> list[dict]:
        return [{"code": kind, "label": str(KIND_LABELS[kind])} for kind in kinds_of(event.action)]


class TrailContractSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField()
    reference = serializers.CharField()
    tender = serializers.IntegerField(source="tender_id")


class TrailCheckpointSerializer(serializers.Serializer):
    sequence = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    key_id = serializers.CharField()


class TrailIntegritySerializer(serializers.Serializer):
    ok = serializers.BooleanField(
        help_text=_("Whether every link of the trail verifies up to the latest signed checkpoint covering it.")
    )
    checkpoint = TrailCheckpointSerializer(
        allow_null=True, help_text=_("The signed checkpoint the trail was verified up to (null when none covers it).")
    )
    uncovered = serializers.IntegerField(
        help_text=_("Events of the trail after that checkpoint: linked, but not yet covered by a signature.")
    )
    problems = serializers.ListField(child=serializers.CharField())


class TrailDocumentCheckSerializer(serializers.Serializer):
    found = serializers.CharField(
        allow_null=True, help_text=_("The SHA-256 of the stored file as it is now (null when it cannot be read).")
    )
    matches = serializers.BooleanField(help_text=_("Whether the file still matches its recorded SHA-256."))
    in_log = serializers.BooleanField(help_text=_("Whether an event of the trail records that SHA-256."))
    ok = serializers.BooleanField()


class TrailDocumentSerializer(serializers.Serializer):
    key = serializers.CharField()
    kind = serializers.CharField()
    title = serializers.CharField()
    name = serializers.CharField()
    sha256 = serializers.CharField(help_text=_("The SHA-256 recorded when the document was stored."))
    stored_at = serializers.DateTimeField(allow_null=True)
    check = TrailDocumentCheckSerializer(
        allow_null=True, help_text=_("The check of the stored file, with ?check=documents (null otherwise).")
    )


class TrailLinksSerializer(serializers.Serializer):
    events = serializers.URLField()
    bundle = serializers.URLField()


class TrailSummarySerializer(serializers.Serializer):
    contract = TrailContractSerializer()
    integrity = TrailIntegritySerializer()
    documents_checked = serializers.BooleanField()
    documents = TrailDocumentSerializer(many=True)
    links = TrailLinksSerializer()
