import datetime

import factory
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from accounts.roles import Role
from tests.accounts.factories import UserFactory
from vendors.models import MANDATORY_KINDS, Vendor, VendorDocument, VendorMembership, VendorStatus

PDF_BYTES = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def pdf_upload(name: str = "certificate.pdf", content: bytes = PDF_BYTES) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/pdf")


class VendorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Vendor

    legal_name_en = factory.Sequence(lambda n: f"Vendor {n} LLC")
    legal_name_ar = factory.Sequence(lambda n: f"المورد {n}")
    commercial_registration_number = factory.Sequence(lambda n: f"CR-{n:06d}")
    tax_number = factory.Sequence(lambda n: f"TAX-{n:06d}")
    address = "1 Tahrir Square, Cairo"
    phone = "+20 2 1234 5678"
    email = factory.Sequence(lambda n: f"office{n}@vendor.example.com")


def member(vendor: Vendor, *, administrator: bool = False, **kwargs):
    user = UserFactory(roles=[Role.VENDOR_USER], **kwargs)
    VendorMembership.objects.create(vendor=vendor, user=user, is_administrator=administrator)
    return user


def set_status(vendor: Vendor, status: str) -> Vendor:
    """Put a vendor in a state directly (the field is protected against assignment, not updates)."""
    Vendor.objects.filter(pk=vendor.pk).update(status=status)
    return Vendor.objects.get(pk=vendor.pk)


def add_document(vendor: Vendor, kind: str, *, expires_on: datetime.date | None, uploaded_by) -> VendorDocument:
    document = VendorDocument(
        vendor=vendor,
        kind=kind,
        original_name=f"{kind}.pdf",
        content_type="application/pdf",
        size=len(PDF_BYTES),
        sha256="0" * 64,
        issued_on=datetime.date(2025, 1, 1),
        expires_on=expires_on,
        uploaded_by=uploaded_by,
    )
    document.file.save("upload", pdf_upload(), save=False)
    document.save()
    vendor.documents.filter(kind=kind, superseded_by__isnull=True).exclude(pk=document.pk).update(
        superseded_by=document
    )
    return document


def with_documents(vendor: Vendor, *, uploaded_by, expires_on: datetime.date | None = None) -> Vendor:
    """A current document of every mandatory kind, valid for a year unless told otherwise."""
    expires_on = expires_on or timezone.localdate() + datetime.timedelta(days=365)
    for kind in MANDATORY_KINDS:
        add_document(vendor, kind, expires_on=expires_on, uploaded_by=uploaded_by)
    return vendor


def verified_vendor(**kwargs) -> tuple[Vendor, object]:
    """A verified vendor with current documents, and its administrator."""
    vendor = VendorFactory(**kwargs)
    administrator = member(vendor, administrator=True)
    with_documents(vendor, uploaded_by=administrator)
    return set_status(vendor, VendorStatus.VERIFIED), administrator
