"""Auditors read everything over the API and change nothing; every refused write is in the audit log."""

from __future__ import annotations

import pytest

from audit.models import AuditEvent
from tests.api.conftest import assert_problem, bearer
from tests.procurement.tender_factories import TenderFactory, make_published

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("post", "/api/v1/tenders/"),
        ("put", "/api/v1/tenders/{tender}/"),
        ("patch", "/api/v1/tenders/{tender}/"),
        ("delete", "/api/v1/tenders/{tender}/"),
        ("post", "/api/v1/contracts/"),
        ("post", "/api/v1/audit/events/"),
        ("post", "/api/v1/agencies/"),
        ("post", "/api/v1/programmes/"),
        ("post", "/api/v1/notifications/"),
    ],
)
def test_an_auditors_write_is_refused_and_logged(api_client, auditor, method, url):
    tender = make_published(TenderFactory())
    url = url.format(tender=tender.pk)
    api_client.credentials(**bearer(auditor))
    response = getattr(api_client, method)(url, {"title_en": "Changed"}, format="json")
    assert response.status_code in (401, 403, 405)
    assert_problem(response, response.status_code)
    tender.refresh_from_db()
    assert tender.title_en != "Changed"
    event = AuditEvent.objects.filter(action="audit.change_refused").latest("sequence")
    assert event.actor_id == auditor.pk
    assert event.payload["method"] == method.upper() and event.payload["path"] == url
    assert event.payload["status"] == response.status_code


def test_an_auditors_reads_over_the_api_are_logged_like_pages(api_client, auditor):
    api_client.credentials(**bearer(auditor))
    assert api_client.get("/api/v1/audit/events/").status_code == 200
    event = AuditEvent.objects.filter(action="audit.page_viewed").latest("sequence")
    assert event.actor_id == auditor.pk and event.payload["path"] == "/api/v1/audit/events/"


def test_a_browser_session_without_a_csrf_token_cannot_write(auditor):
    from rest_framework.test import APIClient

    client = APIClient(enforce_csrf_checks=True)
    client.force_login(auditor)
    response = client.post("/api/v1/tenders/", {}, format="json")
    body = assert_problem(response, 403, code="permission_denied")
    assert "CSRF" in body["detail"]
    assert AuditEvent.objects.filter(action="audit.change_refused", actor=auditor).exists()
