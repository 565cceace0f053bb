"""Tenders for tests: a valid draft by default, and helpers to put one in any state.

The tender's status is a protected state-machine field, so the helpers that move a tender to another
state write the row with ``QuerySet.update`` and read it back, as the services would have left it.
"""

from __future__ import annotations

import contextlib
import datetime
from decimal import Decimal

import factory
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from accounts import keys
from accounts.roles import Role
from procurement import sealing
from procurement.models import OpeningCommitteeMember, Tender, TenderCriterion, TenderDocument
from procurement.models.tenders import TenderStatus
from tests.accounts.factories import UserFactory
from tests.procurement.factories import PhaseFactory

#: The UserFactory's password, with which the committee members' personal keys are locked.
COMMITTEE_PASSWORD = "correct-horse-battery"

#: The smallest file that passes the content check as a PDF.
PDF_BYTES = b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"


class TenderFactory(factory.django.DjangoModelFactory):
    """A draft that could be submitted once it has criteria and a document (see ``ready_tender``)."""

    class Meta:
        model = Tender

    phase = factory.SubFactory(PhaseFactory)
    agency = factory.LazyAttribute(lambda o: o.phase.programme.sponsor_agency)
    reference = factory.Sequence(lambda n: f"TEST-{n:06d}")
    title_en = factory.Sequence(lambda n: f"Supply of network equipment {n}")
    title_ar = factory.Sequence(lambda n: f"توريد معدات الشبكات {n}")
    description_en = "Routers, switches and their installation."
    description_ar = "الموجهات والمبدلات وتركيبها."
    category = "goods"
    estimated_value = Decimal("250000.00")
    currency = "SAR"
    clarification_deadline = factory.LazyFunction(lambda: timezone.now() + datetime.timedelta(days=10))
    submission_deadline = factory.LazyFunction(lambda: timezone.now() + datetime.timedelta(days=30))
    opening_time = factory.LazyAttribute(lambda o: o.submission_deadline + datetime.timedelta(hours=1))
    created_by = factory.LazyAttribute(
        lambda o: UserFactory(agency=o.agency, roles=[Role.PROCUREMENT_OFFICER], preferred_language="en")
    )


def pdf_upload(name: str = "terms.pdf", content: bytes = PDF_BYTES) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/pdf")


def with_criteria(tender: Tender) -> Tender:
    """Two technical criteria weighing 60 and 40."""
    TenderCriterion.objects.create(
        tender=tender, order=1, name_en="Technical approach", name_ar="المنهجية الفنية", weight=Decimal("60")
    )
    TenderCriterion.objects.create(
        tender=tender, order=2, name_en="Team experience", name_ar="خبرة الفريق", weight=Decimal("40")
    )
    return tender


def with_document(tender: Tender, *, title: str = "Terms of reference", by=None) -> TenderDocument:
    """A stored PDF document, written directly (the upload service is tested on its own)."""
    upload = pdf_upload()
    document = TenderDocument(
        tender=tender,
        title=title,
        original_name=upload.name,
        content_type="application/pdf",
        size=upload.size,
        sha256="0" * 64,
        uploaded_by=by or tender.created_by,
    )
    document.file.save("upload", upload, save=False)
    document.save()
    return document


@contextlib.contextmanager
def cheap_scrypt():
    """Make personal keys with a low scrypt cost (the blob records it, so the key still opens later)."""
    saved = sealing.SCRYPT_N
    sealing.SCRYPT_N = 2**10
    try:
        yield
    finally:
        sealing.SCRYPT_N = saved


def keyed_committee_member(**kwargs):
    """A committee member with a personal key locked by ``COMMITTEE_PASSWORD``."""
    user = UserFactory(roles=[Role.COMMITTEE_MEMBER], preferred_language="en", **kwargs)
    with cheap_scrypt():
        keys.personal_key_create(user=user, password=COMMITTEE_PASSWORD)
    return user


def with_committee(tender: Tender, size: int = 3) -> list:
    """Name ``size`` committee members with personal keys to the tender's opening committee (rows written directly)."""
    members = [keyed_committee_member() for _ in range(size)]
    for user in members:
        OpeningCommitteeMember.objects.create(tender=tender, user=user, nominated_by=tender.created_by)
    return members


def ready_tender(*, committee: int = 3, **kwargs) -> Tender:
    """A draft with criteria adding up to 100, a document and an opening committee of ``committee`` members
    with personal keys: ready to be submitted (and approved, which makes its sealing key)."""
    tender = TenderFactory(**kwargs)
    with_criteria(tender)
    with_document(tender)
    if committee:
        with_committee(tender, committee)
    return tender


def set_status(tender: Tender, status: str, **fields) -> Tender:
    """Put the tender in ``status`` as if the services had taken it there."""
    Tender.objects.filter(pk=tender.pk).update(status=status, **fields)
    tender.refresh_from_db()
    return tender


def make_pending(tender: Tender, *, submitted_by=None) -> Tender:
    return set_status(tender, TenderStatus.PENDING_APPROVAL, submitted_by=submitted_by or tender.created_by)


def make_published(tender: Tender, *, published_at: datetime.datetime | None = None) -> Tender:
    return set_status(tender, TenderStatus.PUBLISHED, published_at=published_at or timezone.now())
