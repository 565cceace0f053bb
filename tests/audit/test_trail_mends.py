"""Two mends of the auditors' trail pages: a document (or a trail report) is served from the very file handle
whose bytes were hashed, so a file replaced in the store after the check is never served under the old hash;
and a trail report asked for with filters the trail page refuses is refused too, with the filters' errors."""

from __future__ import annotations

import hashlib
import os

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse
from django.utils import timezone, translation

import audit.services
from accounts.roles import Role
from audit.models import AuditEvent, TrailReport, TrailReportStatus
from audit.trail import trail_documents
from tests.accounts.factories import UserFactory
from tests.audit.test_proof_bundle import _audit_key  # noqa: F401
from tests.contracts.test_amendments import _ca_and_media, authority_dir  # noqa: F401

pytestmark = pytest.mark.django_db


def _url(name, *args):
    with translation.override("en"):
        return reverse(name, args=args)


def _swap_when(monkeypatch, action: str, path: str, content: bytes) -> None:
    """Replace the stored file (a new file renamed over it, as an intruder with access to the store would)
    right when ``action`` is logged: after the check, before the bytes are sent."""
    append = audit.services.audit_event_append

    def swapping(**kwargs):
        event = append(**kwargs)
        if kwargs["action"] == action:
            with open(f"{path}.new", "wb") as handle:
                handle.write(content)
            os.replace(f"{path}.new", path)
        return event

    monkeypatch.setattr(audit.services, "audit_event_append", swapping)


def test_a_document_is_served_from_the_bytes_that_were_hashed(client, signed, monkeypatch):
    document = trail_documents(signed)[-1]
    with document.file.open("rb") as handle:
        original = handle.read()
    _swap_when(monkeypatch, "audit.document_downloaded", document.file.path, b"%PDF-1.7 a forged contract")
    client.force_login(UserFactory(roles=[Role.AUDITOR]))
    response = client.get(_url("audit:contract_document", signed.pk, document.key))
    assert response.status_code == 200
    served = b"".join(response.streaming_content)
    assert served == original
    assert hashlib.sha256(served).hexdigest() == response["X-Content-SHA256"] == document.sha256
    with document.file.open("rb") as handle:
        assert handle.read() == b"%PDF-1.7 a forged contract"  # the swap did happen, after the check


def _rendered_report(contract, auditor, content: bytes = b"%PDF-1.7 the trail report") -> TrailReport:
    report = TrailReport.objects.create(
        contract=contract,
        requested_by=auditor,
        requested_at=timezone.now(),
        language="en",
        up_to_sequence=AuditEvent.objects.order_by("-sequence").values_list("sequence", flat=True).first(),
        status=TrailReportStatus.RENDERED,
        sha256=hashlib.sha256(content).hexdigest(),
        events=1,
    )
    report.pdf.save("report.pdf", ContentFile(content))
    return report


def test_a_trail_report_is_served_from_the_bytes_that_were_hashed(client, signed, monkeypatch):
    auditor = UserFactory(roles=[Role.AUDITOR])
    report = _rendered_report(signed, auditor)
    _swap_when(monkeypatch, "audit.trail_report_downloaded", report.pdf.path, b"%PDF-1.7 another report")
    client.force_login(auditor)
    response = client.get(_url("audit:trail_report_download", report.pk))
    assert response.status_code == 200
    served = b"".join(response.streaming_content)
    assert served == b"%PDF-1.7 the trail report"
    assert hashlib.sha256(served).hexdigest() == response["X-Content-SHA256"] == report.sha256


def test_an_altered_trail_report_is_not_served_and_the_mismatch_is_logged(client, signed):
    auditor = UserFactory(roles=[Role.AUDITOR])
    report = _rendered_report(signed, auditor)
    with open(report.pdf.path, "wb") as handle:
        handle.write(b"%PDF-1.7 another report")
    client.force_login(auditor)
    response = client.get(_url("audit:trail_report_download", report.pk))
    assert response.status_code == 409
    assert "This document was altered" in response.content.decode()
    event = AuditEvent.objects.get(action="audit.document_integrity_failed")
    assert event.payload["report_id"] == report.pk and event.payload["expected_sha256"] == report.sha256
    assert event.payload["found_sha256"] == hashlib.sha256(b"%PDF-1.7 another report").hexdigest()
    assert not AuditEvent.objects.filter(action="audit.trail_report_downloaded").exists()


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("kind", "everything", "Select a valid choice."),
        ("since", "not-a-date", "Enter a valid date."),
        ("until", "9999-12-31", "Enter a date before the year 9999."),
    ],
)
def test_a_report_with_a_crafted_filter_is_refused_with_the_filters_error(client, signed, field, value, message):
    client.force_login(UserFactory(roles=[Role.AUDITOR]))
    response = client.post(
        _url("audit:trail_report_request", signed.pk), {"actor": "officer@example.gov", field: value}
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "The report was not prepared: correct the filters below." in html
    assert message in html
    form = response.context["filter"].form
    assert form.errors[field] and form.data["actor"] == "officer@example.gov" and form.data[field] == value
    assert 'value="officer@example.gov"' in html  # what was asked for is still in the form
    assert not TrailReport.objects.exists()
    assert not AuditEvent.objects.filter(action="audit.trail_report_requested").exists()


def test_a_report_with_valid_filters_is_still_made(client, signed):
    client.force_login(UserFactory(roles=[Role.AUDITOR]))
    response = client.post(
        _url("audit:trail_report_request", signed.pk), {"kind": "signature", "since": "2020-01-01", "x": "1"}
    )
    report = TrailReport.objects.get()
    assert response.status_code == 302 and report.filters == {"kind": "signature", "since": "2020-01-01"}
