"""OCDS open data on the demo database: ``manage.py export_ocds`` writes one release package that validates
against OCDS 1.1.5 and the PPP profile (schema and closed codelists), covers tenders at every stage, and reveals
neither sealed bid data before the opening nor any vendor user's personal data."""

from __future__ import annotations

import json
import os
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import transaction
from django.test.utils import override_settings

from procurement import sealing
from procurement.models import Tender
from procurement.ocds_validation import validate_package

pytestmark = [pytest.mark.django_db]

#: The OCDS schemas and codelists beside the checkout (``../shared/ocds``), or where OCDS_SCHEMA_DIR says.
SCHEMAS = Path(os.environ.get("OCDS_SCHEMA_DIR") or Path(settings.BASE_DIR).parent / "shared" / "ocds")
SEALED_STATES = ("published", "closed")


@pytest.fixture(scope="module")
def export(django_db_setup, django_db_blocker, tmp_path_factory) -> dict:
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
        with transaction.atomic():
            call_command("seed_demo", stdout=StringIO())
            call_command("export_ocds", "--output", str(output), stderr=StringIO())
            sealed = {
                f"{settings.OCDS_OCID_PREFIX}-{pk}"
                for pk in Tender.objects.filter(status__in=SEALED_STATES).values_list("pk", flat=True)
            }
            emails = set()
            from accounts.models import User

            emails = set(User.objects.values_list("email", flat=True))
            transaction.set_rollback(True)
    return {"package": json.loads(output.read_text(encoding="utf-8")), "sealed": sealed, "emails": emails}


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


def test_releases_cover_tenders_at_every_stage(export):
    releases = export["package"]["releases"]
    tags = {tag for release in releases for tag in release["tag"]}
    assert {
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
    assert not [email for email in export["emails"] if email in text]


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
