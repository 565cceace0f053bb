"""What the contracts API reads and writes: a contract's state with its versions and signed PDFs, its
milestones and indicators, amendments, progress reports, KPI measurements and payments. Write serializers
refuse fields they do not know (``StrictInputMixin``); the rules themselves are the services'."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from api.serializers import ContractSerializer, StrictInputMixin
from contracts.models import (
    AmendmentStatus,
    Contract,
    ContractAmendment,
    ContractKpi,
    ContractMilestone,
    ContractSignature,
    ContractStatus,
    ContractVersion,
    Frequency,
    KpiMeasurement,
    MeasurementStatus,
    MilestoneStatus,
    Payment,
    ProgressEvidence,
    ProgressReport,
    RenderStatus,
    SignerKey,
)
from contracts.services import EDITABLE_FIELDS


def _status(choices, **kwargs) -> serializers.CharField:
    """A read-only choice, described inline in the schema (several models here have their own ``status``)."""

    @extend_schema_field({"type": "string", "enum": [value for value, _label in choices]})
    class StatusField(serializers.CharField):
        pass

    return StatusField(read_only=True, **kwargs)


def _status_text(choices) -> serializers.CharField:
    """The contract's status, described without an enum: the ``Contract`` component already names that enum,
    and one enum in two components gets an unstable generated name."""

    @extend_schema_field(
        {"type": "string", "description": "One of: " + ", ".join(value for value, _label in choices) + "."}
    )
    class StatusText(serializers.CharField):
        pass

    return StatusText(read_only=True)


# Transitions ------------------------------------------------------------------------------------------------


class ContractTransitionSerializer(serializers.Serializer):
    name = serializers.CharField()
    label = serializers.CharField()
    fields = serializers.ListField(child=serializers.CharField(), help_text=_("The payload fields it requires."))
    url = serializers.CharField()


class NoPayloadSerializer(StrictInputMixin, serializers.Serializer):
    """A transition without a payload: send ``{}``."""


class PasswordSerializer(StrictInputMixin, serializers.Serializer):
    password = serializers.CharField(
        max_length=4096,
        trim_whitespace=False,
        style={"input_type": "password"},
        help_text=_("The password you sign in with: it unlocks your signing key."),
    )


class ReasonSerializer(StrictInputMixin, serializers.Serializer):
    reason = serializers.CharField(max_length=10000, allow_blank=True, trim_whitespace=False)


class OptionalReasonSerializer(StrictInputMixin, serializers.Serializer):
    reason = serializers.CharField(max_length=10000, allow_blank=True, required=False, default="")


# Contracts -----------------------------------------------------------------------------------------------


def _pdf_url(name: str, *args) -> str:
    return reverse(f"api:{name}", args=args)


class SignatureSerializer(serializers.ModelSerializer):
    pdf_url = serializers.SerializerMethodField(help_text=_("The PDF as it stood right after this signature."))

    class Meta:
        model = ContractSignature
        fields = ["id", "party", "signer", "signed_at", "certificate_subject", "own_certificate", "sha256", "pdf_url"]

    def get_pdf_url(self, signature: ContractSignature) -> str:
        return _pdf_url("contract-signature-pdf", signature.version.contract_id, signature.pk)


class VersionSerializer(serializers.ModelSerializer):
    pdf_url = serializers.SerializerMethodField(
        help_text=_("The unsigned PDF, once rendered (status 'rendered'); null while it is being rendered.")
    )
    signatures = SignatureSerializer(many=True, read_only=True)

    status = _status(RenderStatus.choices)

    class Meta:
        model = ContractVersion
        fields = ["number", "amendment", "frozen_at", "status", "pdf_sha256", "pdf_url", "signatures"]

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_pdf_url(self, version: ContractVersion) -> str | None:
        if version.status != RenderStatus.RENDERED or not version.pdf:
            return None
        return _pdf_url("contract-version-pdf", version.contract_id, version.number)


class ContractStateSerializer(ContractSerializer):
    """The contract with its frozen versions, their PDFs and signatures: where to download each PDF."""

    status = _status_text(ContractStatus.choices)
    versions = VersionSerializer(many=True, read_only=True)

    class Meta(ContractSerializer.Meta):
        fields = [*ContractSerializer.Meta.fields, "termination_reason", "risk_allocation", "versions"]


class ContractTermsSerializer(StrictInputMixin, serializers.ModelSerializer):
    """The draft's terms (every field optional; only those sent are changed). ``risk_allocation``: each risk
    category → ``public``, ``private`` or ``shared``."""

    class Meta:
        model = Contract
        fields = list(EDITABLE_FIELDS)
        extra_kwargs = dict.fromkeys(EDITABLE_FIELDS, {"required": False})


class MilestoneSerializer(serializers.ModelSerializer):
    status = _status(MilestoneStatus.choices)

    class Meta:
        model = ContractMilestone
        fields = [
            "id",
            "order",
            "title_en",
            "title_ar",
            "due_date",
            "payment_amount",
            "status",
            "submitted_at",
            "accepted_on",
            "paid_on",
            "overdue_since",
            "amendment",
        ]


class MilestoneInputSerializer(StrictInputMixin, serializers.Serializer):
    title_en = serializers.CharField(max_length=255)
    title_ar = serializers.CharField(max_length=255)
    due_date = serializers.DateField()
    payment_amount = serializers.DecimalField(max_digits=18, decimal_places=2, required=False, default="0")


class KpiSerializer(serializers.ModelSerializer):
    class Meta:
        model = ContractKpi
        fields = ["id", "order", "name_en", "name_ar", "target", "unit", "frequency"]


class KpiInputSerializer(StrictInputMixin, serializers.Serializer):
    name_en = serializers.CharField(max_length=255)
    name_ar = serializers.CharField(max_length=255)
    target = serializers.DecimalField(max_digits=14, decimal_places=3)
    unit = serializers.CharField(max_length=40)
    frequency = serializers.ChoiceField(choices=Frequency.choices, required=False, default=Frequency.QUARTERLY)


# Amendments ---------------------------------------------------------------------------------------------


class AmendmentSerializer(serializers.ModelSerializer):
    status = _status(AmendmentStatus.choices)

    class Meta:
        model = ContractAmendment
        fields = [
            "number",
            "contract",
            "status",
            "reason",
            "new_value",
            "new_end_date",
            "changes",
            "drafted_by",
            "drafted_at",
            "submitted_at",
            "approved_by",
            "approved_at",
            "return_reason",
            "in_force_at",
            "withdrawn_at",
        ]


class AmendmentInputSerializer(StrictInputMixin, serializers.Serializer):
    reason = serializers.CharField(max_length=10000)
    new_value = serializers.DecimalField(max_digits=18, decimal_places=2, required=False, allow_null=True)
    new_end_date = serializers.DateField(required=False, allow_null=True)


class AmendmentMilestoneChangeSerializer(StrictInputMixin, serializers.Serializer):
    milestone_id = serializers.IntegerField(
        required=False, allow_null=True, help_text=_("An existing milestone to change; omit to add one.")
    )
    title_en = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")
    title_ar = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")
    due_date = serializers.DateField(required=False, allow_null=True)
    payment_amount = serializers.DecimalField(max_digits=18, decimal_places=2, required=False, default="0")
    waive = serializers.BooleanField(required=False, default=False)


class AmendmentKpiChangeSerializer(StrictInputMixin, serializers.Serializer):
    kpi_id = serializers.IntegerField(
        required=False, allow_null=True, help_text=_("An existing indicator to change; omit to add one.")
    )
    name_en = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")
    name_ar = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")
    target = serializers.DecimalField(max_digits=14, decimal_places=3, required=False, allow_null=True)
    unit = serializers.CharField(max_length=40, required=False, allow_blank=True, default="")
    frequency = serializers.ChoiceField(choices=Frequency.choices, required=False, default=Frequency.QUARTERLY)


# Monitoring -----------------------------------------------------------------------------------------------


class ProgressEvidenceSerializer(serializers.ModelSerializer):
    """An evidence document of a progress report, with the SHA-256 recorded when it was stored."""

    download_url = serializers.SerializerMethodField()

    class Meta:
        model = ProgressEvidence
        fields = ["id", "report", "title", "original_name", "content_type", "size", "sha256", "download_url"]

    def get_download_url(self, evidence: ProgressEvidence) -> str:
        return reverse(
            "api:contract-progress-report-evidence-file",
            args=[evidence.report.milestone.contract_id, evidence.report_id, evidence.pk],
        )


class ProgressReportSerializer(serializers.ModelSerializer):
    evidence = ProgressEvidenceSerializer(many=True, read_only=True)

    class Meta:
        model = ProgressReport
        fields = [
            "id",
            "milestone",
            "number",
            "narrative",
            "percent_complete",
            "submitted_by",
            "submitted_at",
            "decision",
            "decision_reason",
            "decided_by",
            "decided_at",
            "evidence",
        ]


class ProgressReportInputSerializer(StrictInputMixin, serializers.Serializer):
    """A progress report, as JSON or — with its evidence documents — as ``multipart/form-data`` (one
    ``evidence`` part per file)."""

    milestone = serializers.IntegerField(help_text=_("The id of the contract's milestone reported on."))
    narrative = serializers.CharField(max_length=20000)
    percent_complete = serializers.IntegerField(min_value=0, max_value=100)
    evidence = serializers.ListField(
        child=serializers.FileField(allow_empty_file=True),
        required=False,
        default=list,
        help_text=_("Evidence documents: PDF, Word, Excel, PNG, JPEG or ZIP; each is kept with its SHA-256."),
    )


class KpiMeasurementSerializer(serializers.ModelSerializer):
    status = _status(MeasurementStatus.choices)

    class Meta:
        model = KpiMeasurement
        fields = [
            "id",
            "kpi",
            "period_start",
            "period_end",
            "value",
            "status",
            "met",
            "entered_by",
            "entered_at",
            "confirmed_by",
            "confirmed_at",
            "rejection_reason",
        ]


class KpiMeasurementInputSerializer(StrictInputMixin, serializers.Serializer):
    kpi = serializers.IntegerField(help_text=_("The id of the contract's indicator measured."))
    period_start = serializers.DateField()
    period_end = serializers.DateField()
    value = serializers.DecimalField(max_digits=14, decimal_places=3)


class PaymentSerializer(serializers.ModelSerializer):
    class Meta:
        model = Payment
        fields = [
            "id",
            "milestone",
            "gross",
            "penalties_deducted",
            "amount",
            "calculation",
            "paid_on",
            "reference",
            "recorded_by",
            "recorded_at",
        ]


class PaymentInputSerializer(StrictInputMixin, serializers.Serializer):
    milestone = serializers.IntegerField(help_text=_("The id of the accepted milestone paid."))
    paid_on = serializers.DateField()
    reference = serializers.CharField(max_length=80)


class SignerKeySerializer(serializers.ModelSerializer):
    class Meta:
        model = SignerKey
        fields = ["id", "created_at", "certificate_pem"]
