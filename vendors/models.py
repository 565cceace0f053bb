"""Vendors: the companies that bid, their people, their documents with expiry, and debarments.

Every state change goes through a service in ``vendors/services.py``, which locks the row, checks the
rules in ``accounts/rules.py``, calls the transition below, writes the audit log and notifies people
after the commit. The transitions here only say which moves exist.
"""

from __future__ import annotations

import datetime
import uuid

from django.conf import settings
from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import RETURN_VALUE, FSMField, transition

from core.i18n import localized
from procurement.models.tenders import ProtectedStateMixin


class VendorCategory(models.Model):
    """What a vendor offers (IT services, training, …); seeded by a data migration."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name_en = models.CharField(_("name (English)"), max_length=120)
    name_ar = models.CharField(_("name (Arabic)"), max_length=120)

    class Meta:
        verbose_name = _("vendor category")
        verbose_name_plural = _("vendor categories")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        return localized(self, "name")


class VendorStatus(models.TextChoices):
    PENDING = "pending", _("Pending verification")
    VERIFIED = "verified", _("Verified")
    SUSPENDED = "suspended", _("Suspended")
    DEBARRED = "debarred", _("Debarred")


class DocumentKind(models.TextChoices):
    COMMERCIAL_REGISTRATION = "commercial_registration", _("Commercial registration")
    TAX_CERTIFICATE = "tax_certificate", _("Tax certificate")
    SOCIAL_INSURANCE_CERTIFICATE = "social_insurance_certificate", _("Social insurance certificate")
    OTHER = "other", _("Other document")


#: Kinds a vendor must always hold a current, unexpired document of, to be verified and to bid.
MANDATORY_KINDS = (
    DocumentKind.COMMERCIAL_REGISTRATION,
    DocumentKind.TAX_CERTIFICATE,
    DocumentKind.SOCIAL_INSURANCE_CERTIFICATE,
)


def _valid_document(kind: str, today: datetime.date):
    return VendorDocument.objects.filter(
        vendor=OuterRef("pk"), kind=kind, superseded_by__isnull=True, expires_on__gt=today
    )


class VendorQuerySet(models.QuerySet):
    def with_expired_mandatory_documents(self, today: datetime.date) -> VendorQuerySet:
        """Vendors lacking a current document of some mandatory kind that is still valid after ``today``."""
        missing = Q()
        for kind in MANDATORY_KINDS:
            missing |= ~Exists(_valid_document(kind, today))
        return self.filter(missing)


class Vendor(ProtectedStateMixin, models.Model):
    legal_name_en = models.CharField(_("legal name (English)"), max_length=255)
    legal_name_ar = models.CharField(_("legal name (Arabic)"), max_length=255)
    commercial_registration_number = models.CharField(
        _("commercial registration number"),
        max_length=40,
        unique=True,
        error_messages={"unique": _("A vendor with this commercial registration number is already registered.")},
    )
    tax_number = models.CharField(_("tax number"), max_length=40)
    address = models.TextField(_("address"))
    phone = models.CharField(_("phone"), max_length=40)
    email = models.EmailField(_("company e-mail address"))
    website = models.URLField(_("website"), blank=True)
    categories = models.ManyToManyField(
        VendorCategory, verbose_name=_("categories"), related_name="vendors", blank=True
    )
    status = FSMField(
        _("status"), max_length=20, choices=VendorStatus.choices, default=VendorStatus.PENDING, protected=True
    )
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    verified_at = models.DateTimeField(_("verified"), null=True, blank=True)
    suspension_reason = models.TextField(_("reason for suspension"), blank=True)
    created_at = models.DateTimeField(_("registered"), default=timezone.now)

    objects = VendorQuerySet.as_manager()

    class Meta:
        verbose_name = _("vendor")
        verbose_name_plural = _("vendors")
        ordering = ["-id"]
        indexes = [models.Index(fields=["status", "id"], name="vendor_status")]

    def __str__(self) -> str:
        return self.legal_name

    def get_absolute_url(self) -> str:
        return reverse("vendors:vendor_detail", args=[self.pk])

    @property
    def legal_name(self) -> str:
        return localized(self, "legal_name")

    def get_company_url(self) -> str:
        return reverse("vendors:company", args=[self.pk])

    # Facts ----------------------------------------------------------------------------------------

    def current_documents(self) -> models.QuerySet[VendorDocument]:
        return self.documents.filter(superseded_by__isnull=True)

    def expired_mandatory_kinds(self, today: datetime.date) -> list[str]:
        """Mandatory kinds without a current document valid after ``today``, in a stable order."""
        valid = set(
            self.current_documents()
            .filter(kind__in=MANDATORY_KINDS, expires_on__gt=today)
            .values_list("kind", flat=True)
        )
        return [kind for kind in MANDATORY_KINDS if kind not in valid]

    def mandatory_documents_current(self, today: datetime.date) -> bool:
        return not self.expired_mandatory_kinds(today)

    def active_debarment(self, today: datetime.date) -> Debarment | None:
        return self.debarments.active(today).first()

    def may_bid(self, today: datetime.date) -> bool:
        """Verified, not debarred today, and every mandatory document current and unexpired after today."""
        return (
            self.status == VendorStatus.VERIFIED
            and self.active_debarment(today) is None
            and self.mandatory_documents_current(today)
        )

    # Transitions (called only from the services) --------------------------------------------------

    @transition(field=status, source=VendorStatus.PENDING, target=VendorStatus.VERIFIED)
    def verify(self, *, by, now: datetime.datetime) -> None:
        self.verified_by = by
        self.verified_at = now

    @transition(field=status, source=VendorStatus.VERIFIED, target=VendorStatus.SUSPENDED)
    def suspend(self, *, reason: str) -> None:
        self.suspension_reason = reason

    @transition(field=status, source=VendorStatus.SUSPENDED, target=VendorStatus.VERIFIED)
    def reinstate(self) -> None:
        self.suspension_reason = ""

    @transition(
        field=status,
        source=[VendorStatus.PENDING, VendorStatus.VERIFIED, VendorStatus.SUSPENDED],
        target=VendorStatus.DEBARRED,
    )
    def debar(self) -> None:
        pass

    @transition(
        field=status,
        source=VendorStatus.DEBARRED,
        target=RETURN_VALUE(VendorStatus.VERIFIED, VendorStatus.SUSPENDED),
    )
    def end_debarment(self, *, documents_current: bool) -> str:
        """Back to verified; or to suspended when its documents lapsed meanwhile (an officer reinstates)."""
        if documents_current:
            self.suspension_reason = ""
            return VendorStatus.VERIFIED
        self.suspension_reason = str(_("The debarment was lifted, but mandatory documents are not current."))
        return VendorStatus.SUSPENDED


class VendorMembership(models.Model):
    """A person working for a vendor; a person works for at most one vendor."""

    vendor = models.ForeignKey(Vendor, on_delete=models.PROTECT, related_name="memberships")
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="vendor_membership")
    is_administrator = models.BooleanField(
        _("vendor administrator"), default=False, help_text=_("Manages the company's details and invites colleagues.")
    )
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    joined_at = models.DateTimeField(_("joined"), default=timezone.now)

    class Meta:
        verbose_name = _("vendor membership")
        verbose_name_plural = _("vendor memberships")
        ordering = ["vendor", "joined_at", "id"]

    def __str__(self) -> str:
        return f"{self.user_id} @ {self.vendor_id}"


class VendorInvitation(models.Model):
    vendor = models.ForeignKey(Vendor, on_delete=models.PROTECT, related_name="invitations")
    email = models.EmailField(_("e-mail address"))
    token = models.CharField(max_length=64, unique=True, editable=False)
    invited_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("sent"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires"))
    accepted_at = models.DateTimeField(_("accepted"), null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("vendor invitation")
        verbose_name_plural = _("vendor invitations")
        ordering = ["-id"]

    def __str__(self) -> str:
        return self.email

    def is_open(self, now: datetime.datetime) -> bool:
        return self.accepted_at is None and now < self.expires_at


def document_upload_to(instance: VendorDocument, filename: str) -> str:
    # A generated name: the uploaded file name is kept only as data, never as a path.
    return f"vendors/{instance.vendor_id}/{uuid.uuid4().hex}"


class VendorDocument(models.Model):
    vendor = models.ForeignKey(Vendor, on_delete=models.PROTECT, related_name="documents")
    kind = models.CharField(_("kind of document"), max_length=40, choices=DocumentKind.choices)
    file = models.FileField(_("file"), upload_to=document_upload_to, max_length=255)
    original_name = models.CharField(_("original file name"), max_length=255)
    content_type = models.CharField(_("content type"), max_length=100)
    size = models.PositiveBigIntegerField(_("size (bytes)"))
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    issued_on = models.DateField(_("issued on"))
    expires_on = models.DateField(_("expires on"), null=True, blank=True)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(_("uploaded"), default=timezone.now)
    superseded_by = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="supersedes"
    )

    class Meta:
        verbose_name = _("vendor document")
        verbose_name_plural = _("vendor documents")
        ordering = ["vendor", "kind", "-uploaded_at", "-id"]
        indexes = [models.Index(fields=["vendor", "kind", "superseded_by"], name="vendor_document_current")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.original_name})"

    @property
    def is_mandatory(self) -> bool:
        return self.kind in MANDATORY_KINDS

    def is_expired(self, today: datetime.date) -> bool:
        return self.expires_on is not None and self.expires_on <= today


class DebarmentQuerySet(models.QuerySet):
    def active(self, today: datetime.date) -> DebarmentQuerySet:
        return self.filter(lifted_at__isnull=True, starts_on__lte=today).filter(
            Q(ends_on__isnull=True) | Q(ends_on__gte=today)
        )


class Debarment(models.Model):
    """A decision excluding a vendor from public procurement for a period (or indefinitely)."""

    vendor = models.ForeignKey(Vendor, on_delete=models.PROTECT, related_name="debarments")
    reason = models.TextField(_("reason"))
    legal_reference = models.CharField(_("legal reference"), max_length=255)
    starts_on = models.DateField(_("starts on"))
    ends_on = models.DateField(
        _("ends on"), null=True, blank=True, help_text=_("Leave empty for an indefinite debarment.")
    )
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField(_("decided"), default=timezone.now)
    lifted_at = models.DateTimeField(_("lifted"), null=True, blank=True)
    lifted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    objects = DebarmentQuerySet.as_manager()

    class Meta:
        verbose_name = _("debarment")
        verbose_name_plural = _("debarments")
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__isnull=True) | Q(ends_on__gte=models.F("starts_on")),
                name="debarment_period_ordered",
            )
        ]

    def __str__(self) -> str:
        return f"{self.vendor_id}: {self.starts_on}–{self.ends_on or '…'}"

    def is_active(self, today: datetime.date) -> bool:
        return self.lifted_at is None and self.starts_on <= today and (self.ends_on is None or self.ends_on >= today)
