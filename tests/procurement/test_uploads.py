"""Tender documents: accepted or refused by what the file contains (never by its name), by size, and
stored under a generated name with its hash; a refused file leaves nothing behind."""

from __future__ import annotations

import hashlib
import io
import re
import zipfile
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings

from audit.models import AuditEvent
from core.exceptions import ActionRefused
from core.uploads import inspect_upload
from procurement import tender_services
from procurement.models import TenderDocument
from procurement.models.tenders import TenderStatus
from tests.procurement.factories import PhaseFactory
from tests.procurement.tender_factories import PDF_BYTES, TenderFactory, make_published, pdf_upload

pytestmark = pytest.mark.django_db


def office_file(part: str) -> bytes:
    """A minimal Office Open XML package: Word if ``part`` is "word", Excel if "xl"."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr(f"{part}/document.xml", "<document/>")
    return buffer.getvalue()


def plain_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("drawings/site-plan.txt", "plan")
    return buffer.getvalue()


PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 32
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 32
HTML = b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>"
TEXT = b"Terms of reference, version 2\n"
SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    """Each test its own storage, so that "nothing was stored" means this test stored nothing."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return tmp_path / "media"


@pytest.fixture
def draft(programme, officer):
    return TenderFactory(phase=PhaseFactory(programme=programme), created_by=officer)


def stored_files(tender) -> list[Path]:
    folder = Path(settings.MEDIA_ROOT) / "tenders" / str(tender.pk)
    return sorted(folder.iterdir()) if folder.exists() else []


@pytest.mark.parametrize(
    ("name", "content", "content_type"),
    [
        ("terms.pdf", PDF_BYTES, "application/pdf"),
        ("terms.txt", PDF_BYTES, "application/pdf"),
        ("site.png", PNG, "image/png"),
        ("site.jpg", JPEG, "image/jpeg"),
        ("terms.docx", office_file("word"), "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
        ("prices.xlsx", office_file("xl"), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        ("drawings.zip", plain_zip(), "application/zip"),
    ],
    ids=["pdf", "pdf named .txt", "png", "jpeg", "docx", "xlsx", "zip"],
)
def test_an_allowed_file_is_stored_with_the_type_its_content_shows(name, content, content_type, officer, draft):
    upload = SimpleUploadedFile(name, content, content_type="text/plain")

    document = tender_services.tender_document_add(actor=officer, tender=draft, uploaded_file=upload, title="Annex")

    document.refresh_from_db()
    assert document.content_type == content_type
    assert (document.original_name, document.size) == (name, len(content))
    assert document.sha256 == hashlib.sha256(content).hexdigest()
    assert document.uploaded_by == officer
    with document.file.open("rb") as stored:
        assert stored.read() == content
    added = AuditEvent.objects.get(action="tender.document_added")
    assert added.tender_id == draft.pk
    assert added.payload["content_type"] == content_type
    assert added.payload["sha256"] == document.sha256
    assert added.payload["file_name"] == name


def test_the_stored_name_is_generated_and_never_the_uploaded_name(officer, draft):
    upload = SimpleUploadedFile("Terms of reference v2.pdf", PDF_BYTES)

    document = tender_services.tender_document_add(actor=officer, tender=draft, uploaded_file=upload, title="Terms")

    assert re.fullmatch(rf"tenders/{draft.pk}/[0-9a-f]{{32}}", document.file.name)
    assert document.original_name == "Terms of reference v2.pdf"
    assert [path.name for path in stored_files(draft)] == [Path(document.file.name).name]


def test_the_title_defaults_to_the_file_name(officer, draft):
    document = tender_services.tender_document_add(
        actor=officer, tender=draft, uploaded_file=pdf_upload("Bill of quantities.pdf"), title=""
    )
    assert document.title == "Bill of quantities.pdf"


@pytest.mark.parametrize(
    ("name", "content", "code"),
    [
        ("setup.pdf", EXE, "type"),
        ("page.pdf", HTML, "type"),
        ("notes.pdf", TEXT, "type"),
        ("drawing.pdf", SVG, "type"),
        ("broken.zip", b"PK\x03\x04 this is not really an archive", "type"),
        ("empty.pdf", b"", "empty"),
    ],
    ids=["exe named .pdf", "html named .pdf", "text named .pdf", "svg named .pdf", "broken zip", "empty"],
)
def test_a_refused_file_leaves_nothing_behind(name, content, code, officer, draft):
    upload = SimpleUploadedFile(name, content, content_type="application/pdf")

    with pytest.raises(ValidationError) as error:
        tender_services.tender_document_add(actor=officer, tender=draft, uploaded_file=upload, title="Terms")

    assert error.value.code == code
    assert not TenderDocument.objects.exists()
    assert not AuditEvent.objects.exists()
    assert stored_files(draft) == []


def test_the_type_refusal_says_which_kinds_are_accepted(officer, draft):
    with pytest.raises(ValidationError, match="PDF, Word"):
        tender_services.tender_document_add(
            actor=officer, tender=draft, uploaded_file=SimpleUploadedFile("x.pdf", HTML), title="Terms"
        )


@override_settings(UPLOAD_MAX_BYTES=1024)
def test_a_file_over_the_limit_is_refused_and_one_at_the_limit_accepted(officer, draft):
    at_limit = PDF_BYTES + b"%" * (1024 - len(PDF_BYTES))
    over = at_limit + b"%"

    with pytest.raises(ValidationError) as error:
        tender_services.tender_document_add(
            actor=officer, tender=draft, uploaded_file=pdf_upload("big.pdf", over), title="Big"
        )
    assert error.value.code == "too_large"
    assert not TenderDocument.objects.exists()
    assert stored_files(draft) == []

    document = tender_services.tender_document_add(
        actor=officer, tender=draft, uploaded_file=pdf_upload("fits.pdf", at_limit), title="Fits"
    )
    assert document.size == 1024


def test_inspection_leaves_the_file_ready_to_be_read_from_the_start():
    upload = pdf_upload()
    facts = inspect_upload(upload)

    assert facts.size == len(PDF_BYTES)
    assert upload.read() == PDF_BYTES


def test_documents_are_added_outside_an_addendum_only_to_a_draft(officer, draft):
    tender = make_published(draft)
    with pytest.raises(ActionRefused):
        tender_services.tender_document_add(actor=officer, tender=tender, uploaded_file=pdf_upload(), title="Late")
    assert tender.status == TenderStatus.PUBLISHED
    assert not TenderDocument.objects.exists()
    assert stored_files(tender) == []


@pytest.mark.parametrize("intruder", ["other_officer", "vendor_user", "auditor", "committee_member", "approver"])
def test_only_the_agency_officers_add_documents(request, intruder, draft):
    with pytest.raises(PermissionDenied):
        tender_services.tender_document_add(
            actor=request.getfixturevalue(intruder), tender=draft, uploaded_file=pdf_upload(), title="Terms"
        )
    assert not TenderDocument.objects.exists()
    assert stored_files(draft) == []


def test_an_addendum_with_one_refused_file_stores_none_of_its_files(officer, draft):
    tender = make_published(draft)
    with pytest.raises(ValidationError):
        tender_services.addendum_create(
            actor=officer,
            tender=tender,
            data={"summary_en": "New annexes.", "summary_ar": "ملاحق جديدة."},
            files=[("Annex A", pdf_upload("a.pdf")), ("Annex B", SimpleUploadedFile("b.pdf", HTML))],
        )
    assert not TenderDocument.objects.exists()
    assert not AuditEvent.objects.exists()


def test_an_addendum_with_one_refused_file_leaves_no_file_on_disk(officer, draft):
    tender = make_published(draft)
    with pytest.raises(ValidationError):
        tender_services.addendum_create(
            actor=officer,
            tender=tender,
            data={"summary_en": "New annexes.", "summary_ar": "ملاحق جديدة."},
            files=[("Annex A", pdf_upload("a.pdf")), ("Annex B", SimpleUploadedFile("b.pdf", HTML))],
        )
    assert stored_files(tender) == []
