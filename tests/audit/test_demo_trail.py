"""The demo leaves a contract whose trail touches every kind of event an auditor follows, from the programme that
planned it to its last payment, and the auditor's page shows each kind, checks the documents and verifies.

``manage.py seed_demo`` runs once here (with a cheap key-derivation cost and stand-in PDFs for receipts and
reports, as in tests/test_seed_demo.py), then the auditor of the demo opens the trail of the monitored contract
(“Managed network services for government buildings”).
"""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse

from accounts.models import User
from audit.bundles import verify_bundle
from audit.models import AuditEvent
from audit.trail import KINDS, kinds_of, trail_filter
from contracts.models import Contract
from procurement import sealing

pytestmark = pytest.mark.django_db

#: Every kind of event the issue lists for a contract's trail (the auditors' own access is not one of them).
EXPECTED = [key for key, _label, _prefixes in KINDS if key != "audit"]


@pytest.fixture
def demo(settings, tmp_path, monkeypatch):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.CONTRACT_CA_CERT_FILE = tmp_path / "keys" / "contract-ca.pem"
    settings.CONTRACT_CA_KEY_PASSPHRASE = "demo-trail-contract-ca-passphrase"
    settings.CONTRACT_TSA_URL = ""
    monkeypatch.setattr(sealing, "SCRYPT_N", 2**10)
    monkeypatch.setattr("procurement.tasks._receipt_pdf", lambda receipt: b"%PDF-1.4\n%%EOF\n")
    monkeypatch.setattr("procurement.tasks._evaluation_report_pdf", lambda recommendation: b"%PDF-1.4\n%%EOF\n")
    call_command("seed_demo", stdout=StringIO())
    return Contract.objects.select_related("tender__phase").get(
        tender__title_en="Managed network services for government buildings"
    )


def test_the_demo_trail_touches_every_kind_of_event_and_the_page_shows_each(demo, client):
    contract = demo
    actions = list(AuditEvent.objects.filter(trail_filter(contract)).values_list("action", flat=True))
    found = {kind for action in actions for kind in kinds_of(action)}
    assert [kind for kind in EXPECTED if kind not in found] == []

    client.force_login(User.objects.get(email="auditor@demo.gov"))
    url = reverse("audit:contract_trail", args=[contract.pk])
    for kind in EXPECTED:
        response = client.get(url, {"kind": kind})
        assert response.status_code == 200, kind
        shown = [event.action for event in response.context["page"].items]
        assert shown, f"the trail shows no event of kind {kind}"
        assert all(kind in kinds_of(action) for action in shown), (kind, shown)

    # The programme's and phase's events are in the trail, before the tender's.
    programme = client.get(url, {"kind": "programme"}).context["page"].items
    assert {event.object_type for event in programme} >= {"procurement.programme", "procurement.phase"}

    # Every document of the process is listed with its SHA-256; checked, each matches and the log records it.
    checked = client.get(url, {"check": "documents"})
    rows = checked.context["documents"]
    kinds = {str(document.kind) for document, _check in rows}
    assert {
        "Tender document",
        "Addendum document",
        "Contract PDF (unsigned)",
        "Signed PDF",
        "Progress evidence",
    } <= kinds
    assert all(check["ok"] for _document, check in rows), [
        (document.title, check) for document, check in rows if not check["ok"]
    ]

    # The trail verifies, and so does its proof bundle.
    assert checked.context["integrity"]["problems"] == []
    bundle = json.loads(client.get(reverse("audit:contract_bundle", args=[contract.pk])).content)
    report = verify_bundle(bundle)
    assert report.ok, report.problems
