"""The documents of a contract's trail: listed with the SHA-256 recorded when they were stored, checked against
the file store and the audit log, downloaded only when they still match — and every look is logged."""

from __future__ import annotations

import hashlib

import pytest
from django.urls import reverse
from django.utils import translation

from accounts.roles import Role
from audit.models import AuditEvent
from audit.trail import trail_documents
from tests.accounts.factories import UserFactory
from tests.audit.test_proof_bundle import _audit_key  # noqa: F401
from tests.contracts.test_amendments import _ca_and_media, authority_dir  # noqa: F401

pytestmark = pytest.mark.django_db


def _url(name, *args):
    with translation.override("en"):
        return reverse(name, args=args)


def test_the_trail_lists_each_document_with_its_hash_and_checks_them(client, signed):
    documents = trail_documents(signed)
    kinds = [str(document.kind) for document in documents]
    assert kinds.count("Signed PDF") == 2 and "Contract PDF (unsigned)" in kinds
    client.force_login(UserFactory(roles=[Role.AUDITOR]))
    html = client.get(_url("audit:contract_trail", signed.pk)).content.decode()
    for document in documents:
        assert document.sha256 in html
    checked = client.get(_url("audit:contract_trail", signed.pk), {"check": "documents"})
    verdicts = {document.key: check for document, check in checked.context["documents"]}
    # The contract's PDFs match; the tender factory's documents carry made-up hashes, which the check catches.
    assert all(check["ok"] for key, check in verdicts.items() if key.startswith(("version-", "signature-")))
    assert all(not check["matches"] for key, check in verdicts.items() if key.startswith("tender-"))
    html = checked.content.decode()
    assert "The file matches its SHA-256, which the audit log records." in html and "ALTERED" in html
    logged = AuditEvent.objects.filter(action="audit.trail_viewed").order_by("-sequence").first()
    assert logged.payload["documents_checked"] == {key: check["ok"] for key, check in verdicts.items()}


def test_a_download_is_checked_served_with_its_hash_and_logged(client, signed):
    document = trail_documents(signed)[-1]
    auditor = UserFactory(roles=[Role.AUDITOR])
    client.force_login(auditor)
    response = client.get(_url("audit:contract_document", signed.pk, document.key))
    assert response.status_code == 200
    content = b"".join(response.streaming_content)
    assert hashlib.sha256(content).hexdigest() == document.sha256 == response["X-Content-SHA256"]
    assert "attachment" in response["Content-Disposition"]
    event = AuditEvent.objects.get(action="audit.document_downloaded")
    assert (
        event.actor_id == auditor.pk and event.contract_id == signed.pk and event.payload["sha256"] == document.sha256
    )


def test_an_altered_file_is_not_served_and_the_mismatch_is_logged(client, signed):
    document = trail_documents(signed)[-1]
    with document.file.open("r+b") as handle:  # someone with access to the file store changes one byte
        handle.seek(200)
        byte = handle.read(1)
        handle.seek(200)
        handle.write(bytes([byte[0] ^ 1]))
    client.force_login(UserFactory(roles=[Role.AUDITOR]))
    response = client.get(_url("audit:contract_document", signed.pk, document.key))
    assert response.status_code == 409
    html = response.content.decode()
    assert "This document was altered" in html and document.sha256 in html
    event = AuditEvent.objects.get(action="audit.document_integrity_failed")
    assert event.payload["expected_sha256"] == document.sha256 and event.payload["found_sha256"] != document.sha256
    checked = client.get(_url("audit:contract_trail", signed.pk), {"check": "documents"})
    verdict = {d.key: c for d, c in checked.context["documents"]}[document.key]
    assert not verdict["ok"] and not verdict["matches"]
    assert "ALTERED" in checked.content.decode()


def test_only_auditors_download_and_unknown_documents_are_404(client, signed):
    document = trail_documents(signed)[0]
    url = _url("audit:contract_document", signed.pk, document.key)
    for outsider in (signed.created_by, UserFactory(roles=[Role.VENDOR_USER]), UserFactory(roles=[Role.APPROVER])):
        client.force_login(outsider)
        assert client.get(url).status_code == 403
    client.force_login(UserFactory(roles=[Role.AUDITOR]))
    assert client.get(_url("audit:contract_document", signed.pk, "tender-999999")).status_code == 404
    assert client.get(_url("audit:contract_document", signed.pk, "nonsense")).status_code == 404
    assert not AuditEvent.objects.filter(action="audit.document_downloaded").exists()


def test_the_trail_export_stops_at_its_limit(client, signed, monkeypatch):
    import json

    from audit import views

    monkeypatch.setattr(views, "TRAIL_EXPORT_LIMIT", 3)
    client.force_login(UserFactory(roles=[Role.AUDITOR]))
    exported = json.loads(
        b"".join(client.get(_url("audit:contract_trail_export", signed.pk, "json")).streaming_content)
    )
    assert len(exported["events"]) == 3
    rows = b"".join(client.get(_url("audit:contract_trail_export", signed.pk, "csv")).streaming_content).decode()
    assert len(rows.strip().splitlines()) == 1 + 3
