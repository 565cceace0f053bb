"""A contract's proof bundle: built from the audit log for an auditor, it verifies offline; changing any byte of
any event, the checkpoint or a document makes verification fail, and the command says what is wrong."""

from __future__ import annotations

import base64
import copy
import json
from io import StringIO

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import translation

from accounts.roles import Role
from audit.bundles import build_bundle, verify_bundle
from audit.keys import load_signing_key, public_key_pem
from audit.models import AuditEvent
from tests.accounts.factories import UserFactory
from tests.contracts.test_amendments import PASSPHRASE, PASSWORD, _ca_and_media, authority_dir  # noqa: F401

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _audit_key(settings, tmp_path):
    settings.AUDIT_SIGNING_KEY_FILE = tmp_path / "audit-key.pem"
    settings.AUDIT_SIGNING_KEY_AUTOCREATE = True


def test_a_bundle_verifies_and_carries_the_trail_the_checkpoint_and_the_signed_pdf(signed):
    bundle = build_bundle(signed)
    report = verify_bundle(json.loads(json.dumps(bundle)), trusted=[load_signing_key().public_key()])
    assert report.ok, report.problems
    actions = {json.loads(e["canonical"])["action"] for e in bundle["events"] if e["trail"]}
    assert {
        "contract.created",
        "contract.frozen",
        "contract.pdf_rendered",
        "contract.signed",
        "contract.activated",
    } <= actions
    assert report.trail_events == sum(e["trail"] for e in bundle["events"])
    assert bundle["checkpoint"]["sequence"] == bundle["events"][-1]["sequence"]
    (document,) = bundle["documents"]
    last_signature = signed.versions.get().signatures.order_by("-signed_at").first()
    assert document["sha256"] == last_signature.sha256


def _tampered(bundle, change):
    copied = copy.deepcopy(bundle)
    change(copied)
    return verify_bundle(copied, trusted=[load_signing_key().public_key()])


def test_changing_any_byte_of_any_event_breaks_it(signed):
    bundle = build_bundle(signed)
    for index in range(len(bundle["events"])):
        for key in ("canonical", "prev_hash", "hash"):

            def flip(b, index=index, key=key):
                text = b["events"][index][key]
                position = len(text) // 2
                b["events"][index][key] = (
                    text[:position] + ("0" if text[position] != "0" else "1") + text[position + 1 :]
                )

            report = _tampered(bundle, flip)
            assert not report.ok, (index, key)


def test_removing_reordering_or_unmarking_events_and_forging_the_checkpoint_or_documents_break_it(signed):
    bundle = build_bundle(signed)
    middle = len(bundle["events"]) // 2
    cases = {
        "an event removed": lambda b: b["events"].pop(middle),
        "two events swapped": lambda b: b["events"].insert(middle, b["events"].pop(middle + 1)),
        "the last event cut": lambda b: b["events"].pop(),
        "a trail event unmarked": lambda b: next(e for e in b["events"] if e["trail"]).update(trail=False),
        "checkpoint statement edited": lambda b: b["checkpoint"].update(
            signed_text=b["checkpoint"]["signed_text"].replace('"type"', '"tipe"')
        ),
        "checkpoint signature replaced": lambda b: b["checkpoint"].update(
            signature=base64.b64encode(Ed25519PrivateKey.generate().sign(b"x")).decode()
        ),
        "a document's byte flipped": lambda b: b["documents"][0].update(
            content_base64=base64.b64encode(b"%PDF-1.7 forged").decode()
        ),
        "not a bundle": lambda b: b.update(format="something else"),
    }
    for name, change in cases.items():
        assert not _tampered(bundle, change).ok, name


def test_a_bundle_signed_by_another_key_is_refused_when_the_published_key_is_given(signed):
    bundle = build_bundle(signed)
    forger = Ed25519PrivateKey.generate()
    bundle["checkpoint"]["public_key_pem"] = public_key_pem(forger.public_key())
    bundle["checkpoint"]["signature"] = base64.b64encode(
        forger.sign(bundle["checkpoint"]["signed_text"].encode())
    ).decode()
    from audit.keys import key_id

    bundle["checkpoint"]["key_id"] = key_id(forger.public_key())
    assert verify_bundle(bundle).ok  # self-consistent: only the published key tells the forgery
    report = verify_bundle(bundle, trusted=[load_signing_key().public_key()])
    assert not report.ok and "did not give as trusted" in " ".join(report.problems)


def test_the_command_exits_1_and_says_what_is_wrong(signed, tmp_path):
    bundle = build_bundle(signed)
    good = tmp_path / "bundle.json"
    good.write_text(json.dumps(bundle))
    key = tmp_path / "audit-public.pem"
    key.write_text(public_key_pem(load_signing_key().public_key()))
    out = StringIO()
    call_command("verify_audit_bundle", str(good), "--key", str(key), stdout=out)
    assert "Bundle: OK" in out.getvalue()
    bundle["events"][0]["canonical"] = bundle["events"][0]["canonical"].replace('"action":"', '"action":"x')
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(bundle))
    err = StringIO()
    with pytest.raises(CommandError) as failed:
        call_command("verify_audit_bundle", str(bad), "--key", str(key), stdout=StringIO(), stderr=err)
    assert failed.value.returncode == 1 and "was altered" in err.getvalue()
    garbage = tmp_path / "garbage.json"
    garbage.write_text("{not json")
    with pytest.raises(CommandError) as failed:
        call_command("verify_audit_bundle", str(garbage), stdout=StringIO(), stderr=StringIO())
    assert failed.value.returncode == 1


def test_only_auditors_download_bundles_and_the_download_is_logged(client, signed):
    with translation.override("en"):
        from django.urls import reverse

        url = reverse("audit:contract_bundle", args=[signed.pk])
    for outsider in (signed.created_by, UserFactory(roles=[Role.VENDOR_USER])):
        client.force_login(outsider)
        assert client.get(url).status_code == 403
    client.logout()
    assert client.get(url).status_code == 302
    auditor = UserFactory(roles=[Role.AUDITOR])
    client.force_login(auditor)
    response = client.get(url)
    assert response.status_code == 200 and "attachment" in response["Content-Disposition"]
    assert verify_bundle(json.loads(response.content)).ok
    logged = AuditEvent.objects.get(action="audit.bundle_downloaded")
    assert logged.actor_id == auditor.pk and logged.contract_id == signed.pk


def _trail_url(contract, suffix="trail/"):
    with translation.override("en"):
        from django.urls import reverse

        return (
            reverse("audit:contract_trail", args=[contract.pk])
            if suffix == "trail/"
            else reverse("audit:contract_trail_export", args=[contract.pk, suffix])
        )


def test_the_auditors_trail_shows_the_contracts_events_verifies_them_and_is_logged(
    client, signed, django_assert_max_num_queries
):
    from audit.services import audit_checkpoint_create
    from tests.html_checks import check_page

    audit_checkpoint_create()
    auditor = UserFactory(roles=[Role.AUDITOR])
    client.force_login(auditor)
    url = _trail_url(signed)
    with django_assert_max_num_queries(30):
        response = client.get(url)
    html = response.content.decode()
    page = check_page(response.content)
    assert response.status_code == 200
    assert page.main_count == 1 and not page.unlabelled_controls and not page.duplicate_ids
    for action in ("contract.created", "contract.frozen", "contract.signed", "contract.activated"):
        assert action in html
    assert "Every link of this trail verifies" in html
    assert AuditEvent.objects.filter(action="audit.trail_viewed", actor_id=auditor.pk).exists()
    filtered = client.get(url, {"kind": "contract_version", "actor": signed.created_by.email})
    shown = [event.action for event in filtered.context["page"].items]
    assert "contract.created" in shown and "contract.signed" not in shown
    signatures = [event.action for event in client.get(url, {"kind": "signature"}).context["page"].items]
    assert set(signatures) == {"contract.signed", "contract.activated"}
    csv_text = b"".join(client.get(_trail_url(signed, "csv")).streaming_content).decode()
    assert csv_text.startswith("sequence,time_utc,actor,action") and "contract.activated" in csv_text
    exported = json.loads(b"".join(client.get(_trail_url(signed, "json")).streaming_content))
    assert exported["contract"] == signed.reference and exported["events"]
    assert AuditEvent.objects.filter(action="audit.trail_exported").count() == 2
    for outsider in (signed.created_by, UserFactory(roles=[Role.VENDOR_USER])):
        client.force_login(outsider)
        assert client.get(url).status_code == 403
        assert client.get(_trail_url(signed, "csv")).status_code == 403


def test_the_trail_page_reports_a_tampered_event(client, signed):
    from audit.services import audit_checkpoint_create

    audit_checkpoint_create()
    from tests.audit.helpers import tamper

    event = AuditEvent.objects.filter(contract_id=signed.pk).order_by("sequence").first()
    tamper(
        "UPDATE audit_auditevent SET canonical = %s WHERE sequence = %s",
        [event.canonical.replace('"action":"', '"action":"x'), event.sequence],
    )
    client.force_login(UserFactory(roles=[Role.AUDITOR]))
    html = client.get(_trail_url(signed)).content.decode()
    assert "does NOT verify" in html and f"Event #{event.sequence}" in html
