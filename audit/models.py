"""The append-only, hash-chained audit log and its signed checkpoints.

Each event stores the exact canonical JSON text that was hashed (``canonical``); its hash is
SHA-256 over the previous event's hash followed by that text. The columns beside it (actor, action,
payload, …) are there for querying and must always agree with the canonical text; the verifier
checks that they do. The database refuses UPDATE and DELETE on both tables (see the migrations).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

GENESIS_HASH = "0" * 64


class AuditEventQuerySet(models.QuerySet):
    def for_programme(self, programme_id: int) -> AuditEventQuerySet:
        return self.filter(programme_id=programme_id)

    def for_object(self, object_type: str, object_id) -> AuditEventQuerySet:
        return self.filter(object_type=object_type, object_id=str(object_id))


class AuditEvent(models.Model):
    sequence = models.BigIntegerField(_("sequence number"), primary_key=True)
    occurred_at = models.DateTimeField(_("time (UTC)"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("actor"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_constraint=False,
    )
    actor_label = models.CharField(_("actor as recorded"), max_length=254)
    action = models.CharField(_("action"), max_length=100)
    object_type = models.CharField(_("object type"), max_length=100, blank=True)
    object_id = models.CharField(_("object id"), max_length=64, blank=True)
    object_label = models.CharField(_("object"), max_length=255, blank=True)
    agency_id = models.BigIntegerField(_("agency"), null=True, blank=True)
    programme_id = models.BigIntegerField(_("programme"), null=True, blank=True)
    tender_id = models.BigIntegerField(_("tender"), null=True, blank=True)
    contract_id = models.BigIntegerField(_("contract"), null=True, blank=True)
    payload = models.JSONField(_("details"), default=dict, blank=True)
    canonical = models.TextField(_("canonical record"))
    prev_hash = models.CharField(_("previous hash"), max_length=64)
    hash = models.CharField(_("hash"), max_length=64, unique=True)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        ordering = ["-sequence"]
        indexes = [
            models.Index(fields=["object_type", "object_id", "sequence"], name="audit_object_seq"),
            models.Index(fields=["programme_id", "sequence"], name="audit_programme_seq"),
            models.Index(fields=["tender_id", "sequence"], name="audit_tender_seq"),
            models.Index(fields=["contract_id", "sequence"], name="audit_contract_seq"),
            models.Index(fields=["agency_id", "sequence"], name="audit_agency_seq"),
            models.Index(fields=["actor", "sequence"], name="audit_actor_seq"),
            models.Index(fields=["action", "sequence"], name="audit_action_seq"),
            models.Index(fields=["occurred_at"], name="audit_time"),
        ]

    def __str__(self) -> str:
        return f"#{self.sequence} {self.action}"


class AuditCheckpoint(models.Model):
    """A signed statement that the log held ``sequence`` events ending in ``head_hash``."""

    sequence = models.BigIntegerField(_("up to event"), db_index=True)
    head_hash = models.CharField(_("head hash"), max_length=64)
    created_at = models.DateTimeField(_("signed at (UTC)"))
    key_id = models.CharField(_("signing key"), max_length=64)
    signed_text = models.TextField(_("signed statement"))
    signature = models.TextField(_("signature (base64)"))

    class Meta:
        verbose_name = _("audit checkpoint")
        verbose_name_plural = _("audit checkpoints")
        ordering = ["-sequence", "-id"]

    def __str__(self) -> str:
        return f"checkpoint @ #{self.sequence}"


class TrailReportStatus(models.TextChoices):
    RENDERING = "rendering", _("Being prepared")
    RENDERED = "rendered", _("Ready")
    FAILED = "failed", _("Failed")


def trail_report_upload_to(instance, filename: str) -> str:
    import uuid

    return f"audit-reports/{uuid.uuid4().hex}.pdf"


class TrailReport(models.Model):
    """A PDF report of a contract's trail that an auditor asked for: rendered in the background, kept with its
    SHA-256 (which the audit log records), in the language and with the filters of the request."""

    contract = models.ForeignKey("contracts.Contract", on_delete=models.PROTECT, related_name="+")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(_("requested"))
    language = models.CharField(max_length=10)
    filters = models.JSONField(default=dict, blank=True)
    #: The last event of the log when the report was asked for: the report covers the trail up to it.
    up_to_sequence = models.BigIntegerField(_("up to event"))
    status = models.CharField(max_length=20, choices=TrailReportStatus.choices, default=TrailReportStatus.RENDERING)
    pdf = models.FileField(upload_to=trail_report_upload_to, max_length=255, blank=True)
    sha256 = models.CharField(_("SHA-256"), max_length=64, blank=True)
    events = models.PositiveIntegerField(_("events"), default=0)
    error = models.TextField(blank=True)
    rendered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("trail report")
        verbose_name_plural = _("trail reports")
        ordering = ["-requested_at", "-id"]
        indexes = [models.Index(fields=["contract", "-requested_at"], name="audit_trail_report_contract")]

    def __str__(self) -> str:
        return f"trail report {self.pk} of contract {self.contract_id}"

    def audit_scope(self) -> dict:
        return self.contract.audit_scope()
