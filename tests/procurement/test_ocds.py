"""OCDS open data on the demo database: ``manage.py export_ocds`` writes one release package that validates
against OCDS 1.1.5 and the PPP profile (schema and closed codelists), covers tenders at every stage from a
back-dated planning release on, carries the PPP profile's contract fields (signatories, KPIs, performance
failures, risks), and reveals neither sealed bid data before the opening nor any vendor user's personal data.
``/ocds/releases.json``, paged to the end, serves the same releases."""

from __future__ import annotations

import datetime
import json
import os
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import transaction
from django.test import Client
from django.test.utils import override_settings
from django.utils import timezone

from audit.models import AuditEvent
from audit.services import audit_event_append
from core.demo_bids import OPEN_BIDS
from procurement import ocds_views, sealing
from procurement.models import Tender
from procurement.models.tenders import PUBLIC_STATES, TenderStatus
from procurement.ocds import APPROVAL_ACTION, public_tenders, tender_releases
from procurement.ocds_validation import validate_package
from tests.procurement.tender_factories import TenderFactory, make_published

pytestmark = [pytest.mark.django_db]

#: The OCDS schemas and codelists beside the checkout (``../shared/ocds``), or where OCDS_SCHEMA_DIR says.
SCHEMAS = Path(os.environ.get("OCDS_SCHEMA_DIR") or Path(settings.BASE_DIR).parent / "shared" / "ocds")
SEALED_STATES = ("published", "closed")


#: Processes per page of ``/ocds/releases.json`` while the demo is paged through: small, so that it takes pages.
DEMO_PAGE_SIZE = 4


def _pages(client: Client) -> list[dict]:
    """Every page of ``/ocds/releases.json``, following ``links.next`` to the end."""
    pages = [client.get("/ocds/releases.json").json()]
    while "next" in pages[-1].get("links", {}):
        assert len(pages) < 100, "links.next never ends"
        pages.append(client.get(pages[-1]["links"]["next"]).json())
    return pages


def _when(moment: datetime.datetime) -> str:
    return moment.astimezone(datetime.UTC).isoformat().replace("+00:00", "Z")


@pytest.fixture(scope="module")
def export(django_db_setup, django_db_blocker, tmp_path_factory) -> dict:
    """The demo database exported by ``manage.py export_ocds`` and served page by page by the endpoint, with the
    facts the tests check them against (all read before the demo is rolled back)."""
    root = tmp_path_factory.mktemp("demo-ocds")
    output = root / "releases.json"
    with (
        django_db_blocker.unblock(),
        override_settings(
            MEDIA_ROOT=root / "media",
            CONTRACT_CA_CERT_FILE=root / "keys" / "contract-ca.pem",
            CONTRACT_CA_KEY_PASSPHRASE="demo-ocds-contract-ca-passphrase",
            CONTRACT_TSA_URL="",
            AUDIT_SIGNING_KEY_FILE=root / "keys" / "audit.pem",
        ),
        pytest.MonkeyPatch.context() as patch,
    ):
        patch.setattr(sealing, "SCRYPT_N", 2**10)
        patch.setattr("procurement.tasks._receipt_pdf", lambda receipt: b"%PDF-1.4\n%%EOF\n")
        patch.setattr("procurement.tasks._evaluation_report_pdf", lambda recommendation: b"%PDF-1.4\n%%EOF\n")
        patch.setattr(ocds_views, "PAGE_SIZE", DEMO_PAGE_SIZE)
        with transaction.atomic():
            call_command("seed_demo", stdout=StringIO())
            call_command("export_ocds", "--output", str(output), stderr=StringIO())
            client = Client()
            pages = _pages(client)
            prefix = settings.OCDS_OCID_PREFIX
            contracted = Tender.objects.filter(status=TenderStatus.CONTRACTED).order_by("pk").first()
            record = client.get(f"/ocds/records/{prefix}-{contracted.pk}.json").json()
            tenders = list(Tender.objects.order_by("pk"))
            approvals = {
                event.tender_id: event.occurred_at
                for event in AuditEvent.objects.filter(action=APPROVAL_ACTION).order_by("-sequence")
            }
            sealed = {f"{prefix}-{t.pk}" for t in tenders if t.status in SEALED_STATES}
            from accounts.models import User

            emails = set(User.objects.values_list("email", flat=True))
            vendor_users = User.objects.filter(vendor_membership__isnull=False)
            vendor_people = {name for u in vendor_users for name in (u.email, u.full_name, u.full_name_ar) if name}
            transaction.set_rollback(True)
    return {
        "package": json.loads(output.read_text(encoding="utf-8")),
        "pages": pages,
        "record": record,
        "status": {f"{prefix}-{t.pk}": t.status for t in tenders},
        "planned": {
            f"{prefix}-{t.pk}": _when(min(approvals.get(t.pk, t.created_at), t.published_at))
            for t in tenders
            if t.published_at
        },
        "sealed": sealed,
        "emails": emails,
        "vendor_people": vendor_people,
    }


def _by_process(releases: list[dict]) -> dict[str, list[dict]]:
    processes: dict[str, list[dict]] = {}
    for release in releases:
        processes.setdefault(release["ocid"], []).append(release)
    return processes


@pytest.mark.skipif(not SCHEMAS.is_dir(), reason=f"the OCDS schemas are not at {SCHEMAS}")
@pytest.mark.parametrize("schema", ["core-1.1.5", "ppp-profile"])
def test_the_export_validates_against_the_schema_and_closed_codelists(export, schema):
    problems = validate_package(export["package"], SCHEMAS / schema)
    assert problems == [], "\n".join(problems[:20])


@pytest.mark.skipif(not SCHEMAS.is_dir(), reason=f"the OCDS schemas are not at {SCHEMAS}")
def test_the_validator_does_catch_errors(export):
    broken = json.loads(json.dumps(export["package"]))
    broken["releases"][0]["tag"] = "tender"  # must be an array
    broken["releases"][1]["tender"]["status"] = "open"  # not in the closed codelist
    problems = validate_package(broken, SCHEMAS / "core-1.1.5")
    assert any("tag" in p for p in problems) and any("tenderStatus" in p for p in problems)
    # The PPP profile's own closed codelists are read from its schema too.
    risk = next(r for r in broken["releases"] if "riskAllocation" in r.get("contracts", [{}])[0])
    risk["contracts"][0]["riskAllocation"][0]["allocation"] = "shared"
    assert any("riskAllocation.csv" in p for p in validate_package(broken, SCHEMAS / "ppp-profile"))


def test_releases_cover_tenders_at_every_stage(export):
    releases = export["package"]["releases"]
    tags = {tag for release in releases for tag in release["tag"]}
    assert {
        "planning",
        "tender",
        "tenderAmendment",
        "tenderUpdate",
        "award",
        "awardUpdate",
        "contract",
        "contractAmendment",
        "implementation",
        "contractTermination",
    } <= tags
    statuses = {release["tender"]["status"] for release in releases if "tender" in release}
    assert {"active", "complete", "cancelled"} <= statuses
    assert len({release["id"] for release in releases}) == len(releases)
    payments = [
        t for r in releases for c in r.get("contracts", []) for t in c.get("implementation", {}).get("transactions", [])
    ]
    assert payments and all(p["value"]["amount"] > 0 for p in payments)


def test_no_sealed_bid_data_before_the_opening_and_no_personal_data(export):
    text = json.dumps(export["package"], ensure_ascii=False)
    for release in export["package"]["releases"]:
        if release["ocid"] in export["sealed"]:
            assert "numberOfTenderers" not in release.get("tender", {})
            assert "awards" not in release and "bids" not in release
    amounts = {value for release in export["package"]["releases"] for value in _amounts(release)}
    for _title, _email, _state, price, offer in OPEN_BIDS:  # the sealed demo bids: price and offer
        assert float(price) not in amounts and price not in text and offer not in text
    assert not [email for email in export["emails"] if email in text]
    assert export["vendor_people"] and not [who for who in export["vendor_people"] if who in text]


def _amounts(node):
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("amount", "measure") and isinstance(value, int | float):
                yield float(value)
            else:
                yield from _amounts(value)
    elif isinstance(node, list):
        for item in node:
            yield from _amounts(item)


def test_every_contracting_process_begins_with_its_planning_release(export):
    processes = _by_process(export["package"]["releases"])
    assert set(processes) == set(export["planned"])  # every published tender, and only those
    for ocid, releases in processes.items():
        planning, *later = releases
        assert planning["tag"] == ["planning"] and planning["id"] == f"{ocid}-00-planning"
        assert [r for r in later if "planning" in r["tag"]] == []
        assert planning["date"] == export["planned"][ocid]  # the approval, never after the publication
        assert all(planning["date"] <= r["date"] for r in later if r["tag"] == ["tender"])
        assert "tender" not in planning and "awards" not in planning and "contracts" not in planning
        budget, project = planning["planning"]["budget"], planning["planning"]["project"]
        assert budget["amount"]["amount"] > 0 and budget["projectID"] == project["id"]
        assert budget["project"] == project["title"] and project["description"]
        assert project["totalValue"]["amount"] >= budget["amount"]["amount"]


def test_contracts_carry_signatories_kpis_performance_failures_and_risks(export):
    implemented = [
        (release, contract)
        for release in export["package"]["releases"]
        if release["tag"] == ["implementation"]
        for contract in release["contracts"]
    ]
    full = [
        (release, contract)
        for release, contract in implemented
        if contract.get("signatories")
        and contract["implementation"].get("metrics")
        and contract["implementation"].get("performanceFailures")
    ]
    assert full, "no demo contract has signatories, metrics and performance failures"
    release, contract = full[0]
    parties = {party["id"] for party in release["parties"]}
    signatories = contract["signatories"]
    # Organisations only, both parties, each one of the release's parties: no signer's name or certificate.
    assert all(set(s) == {"id", "name"} and s["id"] in parties for s in signatories)
    assert {s["id"].split("-")[0] for s in signatories} == {"cr", "agency"}
    observations = [o for metric in contract["implementation"]["metrics"] for o in metric["observations"]]
    assert observations and all({"period", "measure"} <= set(o) for o in observations)
    assert {"Target met.", "Target missed."} <= {o["notes"] for o in observations}
    failures = contract["implementation"]["performanceFailures"]
    assert {f["category"].split(":")[0] for f in failures} == {"Missed KPI target", "Milestone delay"}
    assert all(f["events"] == 1 and f["penaltyImposed"] and isinstance(f["penaltyPaid"], bool) for f in failures)
    assert {r["allocation"] for r in contract["riskAllocation"]} == {"publicAuthority", "privateParty", "undefined"}
    assert contract["agreedMetrics"] and contract["implementation"]["transactions"]
    assert "finance" not in contract and "charges" not in contract["implementation"]  # no such data


def test_the_record_compiles_the_planning(export):
    record = export["record"]["records"][0]
    compiled = record["compiledRelease"]
    assert compiled["planning"] == record["releases"][0]["planning"]
    assert compiled["tag"] == ["compiled"] and compiled["contracts"][0]["signatories"]


@pytest.mark.skipif(not SCHEMAS.is_dir(), reason=f"the OCDS schemas are not at {SCHEMAS}")
def test_the_record_validates(export):
    header = {key: value for key, value in export["pages"][0].items() if key not in ("releases", "links")}
    compiled = export["record"]["records"][0]["compiledRelease"]
    assert validate_package({**header, "releases": [compiled]}, SCHEMAS / "ppp-profile") == []


def test_paging_through_releases_json_serves_every_release_of_the_export(export):
    pages = export["pages"]
    assert len(pages) > 2 and "links" not in pages[-1]
    served = [release for page in pages for release in page["releases"]]
    assert len({r["id"] for r in served}) == len(served)  # no release on two pages
    assert {r["id"]: r for r in served} == {r["id"]: r for r in export["package"]["releases"]}
    # Newest contracting processes first: each page's processes all come after the next page's.
    ids = [{int(r["ocid"].rsplit("-", 1)[1]) for r in page["releases"]} for page in pages]
    assert all(min(newer) > max(older) for newer, older in zip(ids, ids[1:], strict=False))
    assert all(len(page_ids) <= DEMO_PAGE_SIZE for page_ids in ids)
    statuses = {export["status"][r["ocid"]] for r in served}
    assert statuses == set(PUBLIC_STATES) | {TenderStatus.CANCELLED}  # tenders in every public state
    hidden = {ocid for ocid, status in export["status"].items() if status in ("draft", "pending_approval")}
    assert hidden and not hidden & {r["ocid"] for r in served}


@pytest.mark.skipif(not SCHEMAS.is_dir(), reason=f"the OCDS schemas are not at {SCHEMAS}")
def test_every_page_validates(export):
    for page in export["pages"]:
        assert validate_package(page, SCHEMAS / "ppp-profile") == []


def test_the_planning_release_is_dated_by_the_approval_or_else_the_creation():
    tender = TenderFactory()
    created = timezone.now() - datetime.timedelta(days=30)
    Tender.objects.filter(pk=tender.pk).update(created_at=created)
    assert not public_tenders().filter(pk=tender.pk).exists()  # a draft is no contracting process yet

    make_published(tender, published_at=timezone.now() - datetime.timedelta(days=5))
    (planning, *_) = tender_releases(public_tenders().get(pk=tender.pk))
    assert planning["tag"] == ["planning"] and planning["date"] == _when(created)

    approval = audit_event_append(action=APPROVAL_ACTION, obj=tender, payload={})
    make_published(tender, published_at=timezone.now())
    (planning, published, *_) = tender_releases(public_tenders().get(pk=tender.pk))
    assert planning["date"] == _when(approval.occurred_at) and published["tag"] == ["tender"]
    assert planning["date"] <= published["date"]


@pytest.mark.skipif(not SCHEMAS.is_dir(), reason=f"the OCDS schemas are not at {SCHEMAS}")
def test_the_endpoints_serve_valid_release_pages_and_records(client, monkeypatch):
    from django.utils import timezone

    from procurement import ocds_views
    from tests.contracts.test_contracts import final_award

    awards = [final_award() for _ in range(2)]
    Tender.objects.filter(pk__in=[a.tender.pk for a in awards]).update(published_at=timezone.now())
    monkeypatch.setattr(ocds_views, "PAGE_SIZE", 1)
    first = client.get("/ocds/releases.json")
    assert first.status_code == 200 and first["Access-Control-Allow-Origin"] == "*"
    page = first.json()
    assert validate_package(page, SCHEMAS / "ppp-profile") == []
    assert {r["ocid"] for r in page["releases"]} == {f"{settings.OCDS_OCID_PREFIX}-{awards[1].tender.pk}"}
    following = client.get(page["links"]["next"]).json()
    assert {r["ocid"] for r in following["releases"]} == {f"{settings.OCDS_OCID_PREFIX}-{awards[0].tender.pk}"}
    assert "links" not in following
    ocid = f"{settings.OCDS_OCID_PREFIX}-{awards[0].tender.pk}"
    record = client.get(f"/ocds/records/{ocid}.json").json()["records"][0]
    compiled = record["compiledRelease"]
    assert compiled["tag"] == ["compiled"] and compiled["awards"][0]["status"] == "active"
    assert validate_package({**page, "releases": [compiled]}, SCHEMAS / "ppp-profile") == []
    assert client.get("/ocds/records/ocds-unknown-1.json").status_code == 404
    assert client.get("/ocds/releases.json?before=x").status_code == 404
