"""A contract's trail for auditors through the API: the same events as the trail page for the same filters, its
summary (integrity, documents and their check), the proof bundle exactly as the web's download — each logged
once, as the web logs it — and nothing for anyone else."""

from __future__ import annotations

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation
from rest_framework.test import APIClient

from accounts.roles import Role
from audit.bundles import verify_bundle
from audit.keys import load_signing_key
from audit.models import AuditEvent
from audit.services import audit_checkpoint_create, audit_event_append
from audit.trail import check_documents, trail_documents
from contracts import services as contract_services
from tests.accounts.factories import UserFactory
from tests.api.conftest import assert_problem, bearer
from tests.audit.test_proof_bundle import _audit_key  # noqa: F401
from tests.contracts.test_amendments import PASSWORD, _ca_and_media, authority_dir  # noqa: F401
from tests.contracts.test_contracts import final_award, frozen

pytestmark = pytest.mark.django_db

#: What the API logs as an auditor's look at a trail, and what the middleware logs for any other page.
TRAIL_LOOKS = ("audit.trail_viewed", "audit.bundle_downloaded")


def _api(contract_id: int, suffix: str = "") -> str:
    return f"/api/v1/audit/trails/{contract_id}/{suffix}"


def _web_trail(contract_id: int) -> str:
    with translation.override("en"):
        return reverse("audit:contract_trail", args=[contract_id])


def _client(user) -> APIClient:
    client = APIClient()
    if user is not None:
        client.credentials(**bearer(user))
    return client


def _sequences(response) -> list[int]:
    assert response.status_code == 200, response.content[:500]
    return [event["sequence"] for event in response.json()["results"]]


@pytest.fixture
def signed(django_capture_on_commit_callbacks):
    """A contract signed by both parties (as tests/audit's fixture of the same name)."""
    award = final_award()
    contract, _version = frozen(award, django_capture_on_commit_callbacks)
    officer = UserFactory(agency=award.tender.agency, roles=[Role.PROCUREMENT_OFFICER])
    contract_services.signer_key_issue(user=award.signatory, password=PASSWORD)
    contract_services.signer_key_issue(user=officer, password=PASSWORD)
    contract_services.contract_sign(actor=award.signatory, contract=contract, password=PASSWORD)
    contract_services.contract_sign(actor=officer, contract=contract, password=PASSWORD)
    contract.refresh_from_db()
    return contract


@pytest.fixture
def auditor_client(auditor):
    return _client(auditor)


def test_an_auditor_reads_the_summary_the_events_and_the_bundle_each_logged_once(signed, auditor, auditor_client):
    checkpoint = audit_checkpoint_create()
    summary = auditor_client.get(_api(signed.pk))
    assert summary.status_code == 200, summary.content[:500]
    assert "no-store" in summary["Cache-Control"] and "private" in summary["Cache-Control"]
    body = summary.json()
    assert body["contract"] == {
        "id": signed.pk,
        "number": str(signed.number),
        "reference": signed.reference,
        "tender": signed.tender_id,
    }
    assert body["integrity"]["ok"] is True and body["integrity"]["problems"] == []
    assert body["integrity"]["checkpoint"]["sequence"] == checkpoint.sequence
    assert body["integrity"]["uncovered"] == 1  # this very look, logged after the checkpoint
    documents = trail_documents(signed)
    assert [(row["key"], row["sha256"], row["check"]) for row in body["documents"]] == [
        (document.key, document.sha256, None) for document in documents
    ]
    assert body["documents_checked"] is False
    assert body["links"]["events"].endswith(_api(signed.pk, "events/"))
    assert body["links"]["bundle"].endswith(_api(signed.pk, "bundle/"))

    events = auditor_client.get(body["links"]["events"], {"page_size": 200})
    assert "no-store" in events["Cache-Control"]
    rows = events.json()["results"]
    assert [row["sequence"] for row in rows] == sorted(row["sequence"] for row in rows)  # oldest first
    created = next(row for row in rows if row["action"] == "contract.created")
    assert {"code": "contract_version", "label": "Contract versions"} in created["kinds"]
    assert set(created) >= {"sequence", "occurred_at", "actor_label", "payload", "prev_hash", "hash", "kinds"}

    bundle = auditor_client.get(body["links"]["bundle"])
    assert bundle.status_code == 200 and bundle["Content-Type"] == "application/json"
    assert "no-store" in bundle["Cache-Control"] and "private" in bundle["Cache-Control"]
    assert "attachment" in bundle["Content-Disposition"]
    report = verify_bundle(json.loads(bundle.content), trusted=[load_signing_key().public_key()])
    assert report.ok, report.problems
    assert report.documents == len(json.loads(bundle.content)["documents"]) >= 1

    looks = AuditEvent.objects.filter(actor_id=auditor.pk, action__startswith="audit.").order_by("sequence")
    assert [event.action for event in looks] == ["audit.trail_viewed", "audit.trail_viewed", "audit.bundle_downloaded"]
    assert all(event.contract_id == signed.pk for event in looks)
    assert looks[0].payload == {"filters": {}}
    assert looks[1].payload == {"filters": {"page_size": "200"}}
    downloaded = looks[2].payload
    assert downloaded["events"] == len(json.loads(bundle.content)["events"])
    assert not AuditEvent.objects.filter(action="audit.page_viewed").exists()  # no second log of the same look


def test_the_documents_check_is_the_web_pages(signed, auditor, auditor_client):
    body = auditor_client.get(_api(signed.pk), {"check": "documents"}).json()
    expected = check_documents(signed, trail_documents(signed))
    assert body["documents_checked"] is True
    assert {row["key"]: row["check"] for row in body["documents"]} == expected
    # The contract's PDFs match; the tender factory's documents carry made-up hashes, which the check catches.
    assert all(row["check"]["ok"] for row in body["documents"] if row["key"].startswith(("version-", "signature-")))
    assert all(not row["check"]["matches"] for row in body["documents"] if row["key"].startswith("tender-"))
    logged = AuditEvent.objects.get(action="audit.trail_viewed", actor_id=auditor.pk)
    assert logged.payload == {
        "filters": {"check": "documents"},
        "documents_checked": {key: check["ok"] for key, check in expected.items()},
    }
    refused = assert_problem(auditor_client.get(_api(signed.pk), {"check": "everything"}), 400, code="invalid")
    assert "check" in refused["errors"]
    assert AuditEvent.objects.filter(action="audit.trail_viewed").count() == 1


@pytest.mark.parametrize(
    "filters",
    [
        {},
        {"kind": "signature"},
        {"kind": "contract_version", "actor": "creator"},
        {"since": "2000-01-01", "until": "2999-12-31"},
        {"until": "2000-01-01"},
    ],
)
def test_the_events_are_the_web_trails_for_the_same_filters(client, signed, auditor, auditor_client, filters):
    if filters.get("actor") == "creator":
        filters = {**filters, "actor": signed.created_by.email}
    client.force_login(auditor)
    web = client.get(_web_trail(signed.pk), filters)
    assert web.status_code == 200
    shown = [event.sequence for event in web.context["page"].items]
    answered = _sequences(auditor_client.get(_api(signed.pk, "events/"), {**filters, "page_size": 50}))
    # The web's own look (audit.trail_viewed) joined the trail in between: the only possible difference.
    assert answered[: len(shown)] == shown
    extra = answered[len(shown) :]
    assert len(extra) <= 1
    assert all(AuditEvent.objects.get(sequence=s).action == "audit.trail_viewed" for s in extra)
    if filters.get("until") == "2000-01-01":
        assert answered == []


def test_the_kind_filter_returns_only_that_kind(signed, auditor_client):
    rows = auditor_client.get(_api(signed.pk, "events/"), {"kind": "signature"}).json()["results"]
    assert {row["action"] for row in rows} == {"contract.signed", "contract.activated"}
    assert all({"code": "signature", "label": "Signatures"} in row["kinds"] for row in rows)


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"kind": "everything"}, "kind"),
        ({"since": "yesterday"}, "since"),
        ({"until": "2024-13-45"}, "until"),
        ({"page_size": "many"}, "page_size"),
    ],
)
def test_invalid_filters_are_refused_with_their_field(signed, auditor_client, query, field):
    body = assert_problem(auditor_client.get(_api(signed.pk, "events/"), query), 400, code="invalid")
    assert field in body["errors"]
    assert not AuditEvent.objects.filter(action="audit.trail_viewed").exists()


@pytest.mark.parametrize("suffix", ["", "events/", "bundle/"])
def test_an_unknown_contract_is_a_404_problem(signed, auditor_client, suffix):
    assert_problem(auditor_client.get(_api(999_999, suffix)), 404, code="not_found")
    assert not AuditEvent.objects.filter(action__in=TRAIL_LOOKS).exists()


@pytest.mark.parametrize("who", ["officer", "vendor", "approver", "committee", "anonymous"])
def test_only_auditors_read_trails(signed, who):
    users = {
        "officer": lambda: signed.created_by,
        "vendor": lambda: UserFactory(roles=[Role.VENDOR_USER]),
        "approver": lambda: UserFactory(agency=signed.agency, roles=[Role.APPROVER]),
        "committee": lambda: UserFactory(roles=[Role.COMMITTEE_MEMBER]),
        "anonymous": lambda: None,
    }
    user = users[who]()
    client = _client(user)
    for suffix in ("", "events/", "bundle/"):
        if user is None:
            assert_problem(client.get(_api(signed.pk, suffix)), 401, code="not_authenticated")
        else:
            assert_problem(client.get(_api(signed.pk, suffix)), 403, code="permission_denied")
    assert not AuditEvent.objects.filter(action__in=TRAIL_LOOKS).exists()


def test_the_session_is_served_and_logged_once_too(signed, auditor):
    client = APIClient()
    client.force_login(auditor)
    assert client.get(_api(signed.pk, "events/")).status_code == 200
    assert [event.action for event in AuditEvent.objects.filter(actor_id=auditor.pk, action__startswith="audit.")] == [
        "audit.trail_viewed"
    ]


def _queries(client, url, query) -> int:
    client.get(url, query)  # warm up: the token's last use is written at most once a minute
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, query)
    assert response.status_code == 200, response.content[:300]
    return len(captured)


def test_an_events_page_costs_few_queries_whatever_the_number_of_events(
    signed, auditor_client, django_assert_max_num_queries
):
    url, query = _api(signed.pk, "events/"), {"kind": "payment"}
    audit_event_append(action="contract.payment_test", actor=signed.created_by, obj=signed, payload={"n": 0})
    one = _queries(auditor_client, url, query)
    assert len(auditor_client.get(url, query).json()["results"]) == 1
    for n in range(1, 21):
        audit_event_append(action="contract.payment_test", actor=signed.created_by, obj=signed, payload={"n": n})
    many = _queries(auditor_client, url, query)
    assert len(auditor_client.get(url, query).json()["results"]) == 21
    assert many == one, (one, many)
    with django_assert_max_num_queries(15):
        auditor_client.get(url, {"page_size": 200})


def test_the_schema_describes_the_trails_filters(api_client):
    schema = json.loads(api_client.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").content)
    paths = schema["paths"]
    events = paths["/api/v1/audit/trails/{id}/events/"]["get"]
    assert {"kind", "actor", "since", "until", "cursor", "page_size"} <= {p["name"] for p in events["parameters"]}
    assert any(p["name"] == "check" for p in paths["/api/v1/audit/trails/{id}/"]["get"]["parameters"])
    assert "application/json" in paths["/api/v1/audit/trails/{id}/bundle/"]["get"]["responses"]["200"]["content"]
    assert "/api/v1/phases/" in paths and "/api/v1/phases/{id}/" in paths
