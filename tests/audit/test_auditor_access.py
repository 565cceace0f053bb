"""Auditors' access is logged: every page they open, and every attempt to change something — refused, since an
auditor changes nothing — through the pages or the admin."""

from __future__ import annotations

import pytest

from audit.models import AuditEvent
from procurement.models import Agency, Programme

pytestmark = pytest.mark.django_db


def _events(action):
    return list(AuditEvent.objects.filter(action=action).order_by("sequence"))


def test_every_page_an_auditor_opens_is_logged(client, auditor, officer):
    client.force_login(auditor)
    assert client.get("/en/tenders/", {"q": "bridge"}).status_code == 200
    (event,) = _events("audit.page_viewed")
    assert event.actor_id == auditor.pk
    assert event.payload == {"method": "GET", "path": "/en/tenders/", "query": "q=bridge", "status": 200}

    # A page that logs its own, more specific event is not logged twice.
    assert client.get("/en/audit/red-flags/").status_code == 200
    assert len(_events("audit.red_flags_viewed")) == 1 and len(_events("audit.page_viewed")) == 1

    # Other people's page views are not audit events.
    client.force_login(officer)
    client.get("/en/tenders/")
    assert len(_events("audit.page_viewed")) == 1


def test_an_auditors_attempt_to_change_anything_is_refused_and_logged(client, auditor, agency, programme):
    client.force_login(auditor)
    programmes = Programme.objects.count()
    response = client.post(
        "/en/programmes/new/",
        {"code": "X1", "name_en": "Forged", "name_ar": "مزور", "sponsor_agency": agency.pk},
    )
    assert response.status_code == 403
    assert Programme.objects.count() == programmes
    (refused,) = _events("audit.change_refused")
    assert refused.actor_id == auditor.pk
    assert refused.payload["method"] == "POST" and refused.payload["path"] == "/en/programmes/new/"
    assert refused.payload["status"] == 403


def test_an_auditor_in_the_admin_is_refused_and_logged(client, auditor):
    client.force_login(auditor)
    agencies = Agency.objects.count()
    response = client.post("/en/admin/procurement/agency/add/", {"code": "FAKE", "name_en": "Fake"})
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    assert Agency.objects.count() == agencies
    (refused,) = _events("audit.change_refused")
    assert refused.payload["path"] == "/en/admin/procurement/agency/add/"


def test_signing_out_or_switching_language_is_not_a_refusal(client, auditor):
    client.force_login(auditor)
    client.post("/i18n/setlang/", {"language": "ar", "next": "/ar/"})
    client.post("/en/accounts/sign-out/")
    assert not _events("audit.change_refused")


def test_a_private_tracking_key_in_an_address_is_not_written_to_the_log(client, auditor):
    client.force_login(auditor)
    client.get("/en/desk/track/DSK-2026-000001/secret-key-material/")
    (event,) = _events("audit.page_viewed")
    assert "secret-key-material" not in event.canonical
    assert event.payload["path"] == "/en/desk/track/DSK-2026-000001/…/"
