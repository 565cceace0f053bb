"""Evidence documents of progress reports over the API: sent with the report as multipart (the web page's
service, its size and kind checks, the SHA-256 recorded and logged), listed and downloaded under the report —
and nobody outside the contract reaches them."""

from __future__ import annotations

import hashlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from audit.models import AuditEvent
from contracts import services
from contracts.models import ContractStatus, ProgressEvidence, ProgressReport
from tests.api.conftest import assert_problem
from tests.api.test_contract_api import client_for
from tests.audit.helpers import assert_refusal_logged_if_auditor
from tests.contracts.test_amendments import PASSWORD, _ca_and_media, authority_dir  # noqa: F401
from tests.contracts.test_contracts import final_award, frozen
from tests.vendors.factories import verified_vendor

pytestmark = pytest.mark.django_db


@pytest.fixture
def active(django_capture_on_commit_callbacks):
    """A contract in force with one milestone (``active.contract``), signed by both parties."""
    award = final_award()
    contract, _version = frozen(award, django_capture_on_commit_callbacks)
    for signer in (award.signatory, award.officer):
        services.signer_key_issue(user=signer, password=PASSWORD)
        services.contract_sign(actor=signer, contract=contract, password=PASSWORD)
    contract.refresh_from_db()
    assert contract.status == ContractStatus.ACTIVE
    award.contract = contract
    return award


PDF = b"%PDF-1.7\n% site photos and the commissioning certificate\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def _report(milestone, *files, **fields) -> dict:
    return {
        "milestone": milestone.pk,
        "narrative": "Commercial operation started.",
        "percent_complete": 100,
        "evidence": list(files),
        **fields,
    }


def _pdf(name="certificate.pdf", content=PDF):
    return SimpleUploadedFile(name, content, content_type="application/pdf")


def test_the_contractor_sends_a_report_with_its_evidence_listed_and_downloaded_with_their_hashes(api_client, active):
    contract = active.contract
    base = f"/api/v1/contracts/{contract.pk}/progress-reports/"
    milestone = contract.milestones.get()
    vendor = client_for(api_client, active.signatory)

    def send():
        photo = SimpleUploadedFile("site.png", PNG, content_type="image/png")
        return vendor.post(base, _report(milestone, _pdf(), photo), format="multipart", HTTP_IDEMPOTENCY_KEY="report-1")

    sent = send()
    assert sent.status_code == 201, sent.content
    evidence = sent.json()["evidence"]
    assert [(e["original_name"], e["content_type"], e["size"]) for e in evidence] == [
        ("certificate.pdf", "application/pdf", len(PDF)),
        ("site.png", "image/png", len(PNG)),
    ]
    assert [e["sha256"] for e in evidence] == [hashlib.sha256(PDF).hexdigest(), hashlib.sha256(PNG).hexdigest()]
    logged = AuditEvent.objects.get(action="contract.progress_reported")
    assert [f["sha256"] for f in logged.payload["evidence"]] == [e["sha256"] for e in evidence]

    replay = send()  # a retry (a new multipart boundary, the same request): the first answer, no second report
    assert replay.status_code == 201 and replay["Idempotent-Replayed"] == "true"
    assert ProgressReport.objects.count() == 1 and ProgressEvidence.objects.count() == 2

    report_id = sent.json()["id"]
    officer = client_for(api_client, active.officer)
    listed = officer.get(f"{base}{report_id}/evidence/")
    assert listed.status_code == 200 and [e["id"] for e in listed.json()] == [e["id"] for e in evidence]
    assert officer.get(base).json()["results"][0]["evidence"][0]["sha256"] == evidence[0]["sha256"]
    download = officer.get(evidence[0]["download_url"], HTTP_ACCEPT="application/pdf")
    assert download.status_code == 200 and download["Content-Type"] == "application/pdf"
    content = b"".join(download.streaming_content)
    assert content == PDF and download["X-Content-SHA256"] == evidence[0]["sha256"]


def test_an_altered_evidence_file_is_not_served(api_client, active):
    contract = active.contract
    vendor = client_for(api_client, active.signatory)
    sent = vendor.post(
        f"/api/v1/contracts/{contract.pk}/progress-reports/",
        _report(contract.milestones.get(), _pdf()),
        format="multipart",
    )
    stored = ProgressEvidence.objects.get()
    with open(stored.file.path, "wb") as handle:
        handle.write(b"%PDF-1.7 another certificate")
    assert_problem(vendor.get(sent.json()["evidence"][0]["download_url"]), 409)
    event = AuditEvent.objects.get(action="audit.document_integrity_failed")
    assert event.contract_id == contract.pk and event.payload["expected_sha256"] == stored.sha256
    assert event.payload["found_sha256"] == hashlib.sha256(b"%PDF-1.7 another certificate").hexdigest()


def test_files_are_checked_as_on_the_web(api_client, active, settings):
    contract = active.contract
    base = f"/api/v1/contracts/{contract.pk}/progress-reports/"
    milestone = contract.milestones.get()
    vendor = client_for(api_client, active.signatory)
    script = SimpleUploadedFile("notes.pdf", b"#!/bin/sh\nrm -rf /\n", content_type="application/pdf")
    body = assert_problem(vendor.post(base, _report(milestone, script), format="multipart"), 400)
    assert "notes.pdf: This kind of file is not accepted." in body["errors"]["evidence"][0]

    settings.UPLOAD_MAX_BYTES = 1024
    large = _pdf("plans.pdf", PDF + b"0" * 2048)
    body = assert_problem(vendor.post(base, _report(milestone, large), format="multipart"), 400)
    assert (
        "plans.pdf: The file is" in body["errors"]["evidence"][0]
        and "largest accepted" in body["errors"]["evidence"][0]
    )

    # A body larger than twenty files of the largest size is refused before it is read.
    huge = _pdf("archive.pdf", PDF + b"0" * (21 * 1024 + 64 * 1024))
    assert_problem(vendor.post(base, _report(milestone, huge), format="multipart"), 413)
    assert not ProgressReport.objects.exists() and not ProgressEvidence.objects.exists()


def test_an_officer_of_the_agency_does_not_report_for_the_contractor(api_client, active):
    contract = active.contract
    officer = client_for(api_client, active.officer)
    response = officer.post(
        f"/api/v1/contracts/{contract.pk}/progress-reports/",
        _report(contract.milestones.get(), _pdf()),
        format="multipart",
    )
    assert_problem(response, 403)
    assert not ProgressEvidence.objects.exists()


@pytest.fixture
def sent(api_client, active):
    contract = active.contract
    vendor = client_for(api_client, active.signatory)
    response = vendor.post(
        f"/api/v1/contracts/{contract.pk}/progress-reports/",
        _report(contract.milestones.get(), _pdf()),
        format="multipart",
    )
    assert response.status_code == 201, response.content
    return response.json()


@pytest.mark.parametrize("who", ["another vendor", "an officer of another agency"])
def test_outsiders_neither_see_nor_send_evidence(api_client, active, sent, other_officer, who):
    outsider = verified_vendor()[1] if who == "another vendor" else other_officer
    client = client_for(api_client, outsider)
    base = f"/api/v1/contracts/{active.contract.pk}/progress-reports/"
    assert_problem(client.get(f"{base}{sent['id']}/evidence/"), 404)
    assert_problem(client.get(sent["evidence"][0]["download_url"]), 404)
    assert_problem(client.post(base, _report(active.contract.milestones.get(), _pdf()), format="multipart"), 404)
    assert ProgressReport.objects.count() == 1


def test_an_auditor_reads_the_evidence_and_their_upload_is_refused_and_logged(api_client, active, sent, auditor):
    client = client_for(api_client, auditor)
    base = f"/api/v1/contracts/{active.contract.pk}/progress-reports/"
    assert client.get(f"{base}{sent['id']}/evidence/").status_code == 200
    assert b"".join(client.get(sent["evidence"][0]["download_url"]).streaming_content) == PDF
    refused = client.post(base, _report(active.contract.milestones.get(), _pdf()), format="multipart")
    assert_problem(refused, 403)
    assert_refusal_logged_if_auditor(auditor, path=base)
    assert ProgressReport.objects.count() == 1 and ProgressEvidence.objects.count() == 1
