"""Regressions for what Schemathesis found against /api/v1/schema/ (as an anonymous user, a vendor, an officer
and an auditor): each answer is a 4xx problem that fits the schema, never a 500."""

from __future__ import annotations

import pytest

from tests.api.conftest import assert_problem, bearer
from tests.procurement.tender_factories import TenderFactory

pytestmark = pytest.mark.django_db


# An anonymous write with an Idempotency-Key looked up the key for AnonymousUser (500): now a 401 first.


def test_anonymous_tender_create_with_an_idempotency_key_is_a_401(api_client):
    response = api_client.post("/api/v1/tenders/", {}, format="json", HTTP_IDEMPOTENCY_KEY="st-1")
    assert_problem(response, 401)


def test_anonymous_document_upload_with_an_idempotency_key_is_a_401(api_client):
    tender = TenderFactory()
    response = api_client.post(
        f"/api/v1/tenders/{tender.pk}/documents/", {"title": "x"}, format="multipart", HTTP_IDEMPOTENCY_KEY="st-2"
    )
    assert_problem(response, 401)


# A refusal asked for as ?format=pdf (or Accept: application/pdf) was written by the PDF renderer: the keys of
# the problem dict, not JSON.


@pytest.mark.parametrize(
    "path", ["/api/v1/contracts/0/versions/0/pdf/?format=pdf", "/api/v1/contracts/0/signatures/0/pdf/?format=pdf"]
)
def test_a_refused_pdf_is_a_json_problem(api_client, path):
    body = assert_problem(api_client.get(path), 401)
    assert body["status"] == 401


def test_a_missing_pdf_asked_for_as_pdf_is_a_json_problem(api_client, officer):
    api_client.credentials(**bearer(officer))
    assert_problem(api_client.get("/api/v1/contracts/0/versions/0/pdf/", HTTP_ACCEPT="application/pdf"), 404)


# A page_size that is not one integer (null, text, repeated) was silently the default page size: now a 400.


@pytest.mark.parametrize("query", ["page_size=null", "page_size=", "page_size=1.5", "page_size=2&page_size=3"])
def test_a_page_size_that_is_not_one_integer_is_a_400(api_client, query):
    body = assert_problem(api_client.get(f"/api/v1/agencies/?{query}"), 400, code="invalid")
    assert list(body["errors"]) == ["page_size"]


@pytest.mark.parametrize("query", ["page_size=1", "page_size=0", "page_size=-3", "page_size=100000", ""])
def test_an_integer_page_size_is_still_accepted(api_client, query):
    assert api_client.get(f"/api/v1/agencies/?{query}").status_code == 200


# drf-spectacular's lazy, not thread-safe loading of its extensions: the first schema requests at once gave 500s.


def test_concurrent_first_schema_requests_all_succeed(monkeypatch):
    import threading

    from drf_spectacular.plumbing import OpenApiGeneratorExtension
    from rest_framework.test import APIClient

    # Back to the not-yet-loaded state: every extension's target class is a dotted path again.
    for extension in OpenApiGeneratorExtension._registry:
        if not isinstance(extension.target_class, str) and extension.target_class is not None:
            monkeypatch.setattr(
                extension, "target_class", f"{extension.target_class.__module__}.{extension.target_class.__qualname__}"
            )
    statuses: list[int] = []

    def fetch():
        statuses.append(APIClient().get("/api/v1/schema/").status_code)

    threads = [threading.Thread(target=fetch) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [200, 200, 200, 200]


@pytest.mark.django_db
def test_an_unknown_path_with_a_newline_is_a_problem_too(client):
    response = client.get("/api/v1/no%0Awhere/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/problem+json")
