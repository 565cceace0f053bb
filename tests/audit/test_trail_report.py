"""The PDF report of a contract's trail: asked for by an auditor with the filters in force, rendered in the
background (its page shows the progress), holding the trail's events and documents, in the auditor's language,
with its SHA-256 in the audit log; nobody else may ask for it or read it."""

from __future__ import annotations

import hashlib
import io

import pytest
from django.urls import reverse
from django.utils import translation
from pypdf import PdfReader

from accounts.roles import Role
from audit.models import AuditEvent, TrailReport, TrailReportStatus
from audit.trail import trail_documents
from tests.accounts.factories import UserFactory
from tests.audit.test_proof_bundle import _audit_key  # noqa: F401
from tests.contracts.test_amendments import _ca_and_media, authority_dir  # noqa: F401

pytestmark = pytest.mark.django_db


def _url(name, *args, language="en"):
    with translation.override(language):
        return reverse(name, args=args)


def _text(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def test_an_auditor_gets_a_pdf_report_of_the_filtered_trail(client, signed, django_capture_on_commit_callbacks):
    auditor = UserFactory(roles=[Role.AUDITOR])
    client.force_login(auditor)
    trail = client.get(_url("audit:contract_trail", signed.pk), {"kind": "signature"})
    assert "Prepare a PDF report" in trail.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(_url("audit:trail_report_request", signed.pk), {"kind": "signature", "bogus": "x"})
    report = TrailReport.objects.get()
    assert response.status_code == 302 and response["Location"] == _url("audit:trail_report", report.pk)
    assert report.filters == {"kind": "signature"} and report.status == TrailReportStatus.RENDERED
    assert report.events == 3  # the two signatures and the activation
    page = client.get(response["Location"]).content.decode()
    assert "The report is ready" in page and report.sha256 in page

    download = client.get(_url("audit:trail_report_download", report.pk))
    content = b"".join(download.streaming_content)
    assert hashlib.sha256(content).hexdigest() == report.sha256 == download["X-Content-SHA256"]
    text = _text(content)
    assert f"Trail report of {signed.reference}" in text
    assert "contract.signed" in text and "contract.created" not in text
    assert trail_documents(signed)[-1].sha256[:20] in text.replace("\n", "")
    actions = list(AuditEvent.objects.filter(contract_id=signed.pk).values_list("action", flat=True))
    assert {"audit.trail_report_requested", "audit.trail_report_rendered", "audit.trail_report_downloaded"} <= set(
        actions
    )
    rendered = AuditEvent.objects.get(action="audit.trail_report_rendered")
    assert rendered.payload["sha256"] == report.sha256


def test_the_report_is_in_arabic_for_an_arabic_speaking_auditor(client, signed, django_capture_on_commit_callbacks):
    client.force_login(UserFactory(roles=[Role.AUDITOR]))
    with django_capture_on_commit_callbacks(execute=True):
        client.post(_url("audit:trail_report_request", signed.pk, language="ar"))
    report = TrailReport.objects.get()
    assert report.language == "ar" and report.status == TrailReportStatus.RENDERED
    with report.pdf.open("rb") as handle:
        text = _text(handle.read())
    assert "الأحداث" in text or "المستندات" in text


def test_while_it_is_prepared_the_page_reloads_and_a_failure_is_said(client, signed, monkeypatch):
    client.force_login(UserFactory(roles=[Role.AUDITOR]))
    client.post(_url("audit:trail_report_request", signed.pk))  # on-commit callbacks not run: still rendering
    report = TrailReport.objects.get()
    page = client.get(_url("audit:trail_report", report.pk)).content.decode()
    assert 'http-equiv="refresh"' in page and "<progress" in page
    assert client.get(_url("audit:trail_report_download", report.pk)).status_code == 404

    from audit import reports

    monkeypatch.setattr(reports, "_trail_report_pdf", lambda report: 1 / 0)
    assert reports.trail_report_render(report.pk) == ""
    report.refresh_from_db()
    assert report.status == TrailReportStatus.FAILED and "ZeroDivisionError" in report.error
    page = client.get(_url("audit:trail_report", report.pk)).content.decode()
    assert "could not be prepared" in page and "Try again" in page and 'http-equiv="refresh"' not in page


def test_nobody_but_an_auditor_asks_for_or_reads_a_report(client, signed, django_capture_on_commit_callbacks):
    auditor = UserFactory(roles=[Role.AUDITOR])
    client.force_login(auditor)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(_url("audit:trail_report_request", signed.pk))
    report = TrailReport.objects.get()
    assert client.get(_url("audit:trail_report_request", signed.pk)).status_code == 405
    for outsider in (signed.created_by, UserFactory(roles=[Role.VENDOR_USER]), UserFactory(roles=[Role.APPROVER])):
        client.force_login(outsider)
        assert client.post(_url("audit:trail_report_request", signed.pk)).status_code == 403
        assert client.get(_url("audit:trail_report", report.pk)).status_code == 403
        assert client.get(_url("audit:trail_report_download", report.pk)).status_code == 403
    assert TrailReport.objects.count() == 1
