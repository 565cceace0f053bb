"""The OpenAPI description and its documentation page, served without any CDN."""

from __future__ import annotations

import json
import re

import pytest
import yaml

pytestmark = pytest.mark.django_db


def test_the_schema_is_valid_openapi_3_and_describes_the_api(api_client):
    response = api_client.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    schema = json.loads(response.content)
    assert schema["openapi"].startswith("3.")
    from drf_spectacular.validation import validate_schema

    validate_schema(schema)
    paths = schema["paths"]
    for path in (
        "/api/v1/auth/token/",
        "/api/v1/agencies/",
        "/api/v1/programmes/",
        "/api/v1/tenders/",
        "/api/v1/tenders/{id}/",
        "/api/v1/contracts/",
        "/api/v1/audit/events/",
        "/api/v1/notifications/",
    ):
        assert path in paths, path
    assert all(path.startswith("/api/v1/") for path in paths)
    # The filters are part of the description.
    tender_parameters = {p["name"] for p in paths["/api/v1/tenders/"]["get"]["parameters"]}
    assert {"cursor", "status", "agency", "phase", "value_min", "deadline_from", "q"} <= tender_parameters
    audit_parameters = {p["name"] for p in paths["/api/v1/audit/events/"]["get"]["parameters"]}
    assert {"action", "actor", "since", "until"} <= audit_parameters
    # Bearer tokens, problem details and the Idempotency-Key header are described.
    assert schema["components"]["securitySchemes"]["bearerToken"]["scheme"] == "bearer"
    assert "Problem" in schema["components"]["schemas"]
    token_post = paths["/api/v1/auth/token/"]["post"]
    assert "application/problem+json" in token_post["responses"]["401"]["content"]
    assert any(p["name"] == "Idempotency-Key" and p["in"] == "header" for p in token_post["parameters"])


def test_the_schema_is_also_served_as_yaml(api_client):
    response = api_client.get("/api/v1/schema/")
    assert response.status_code == 200
    assert yaml.safe_load(response.content)["openapi"].startswith("3.")


def test_the_docs_page_uses_only_this_sites_own_scripts_and_styles(client):
    response = client.get("/api/v1/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    urls = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert urls, html
    for url in urls:
        assert not re.match(r"^(https?:)?//", url), url
    assert "<script>" not in html and "<style" not in html  # nothing inline: the CSP allows 'self' only
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp
    scripts = re.findall(r'<script src="([^"]+)"', html)
    assert any("swagger-ui-bundle" in src for src in scripts)
    for src in scripts:
        answer = client.get(src.replace("&amp;", "&"))
        assert answer.status_code == 200, src
        if not src.startswith("/static/"):
            assert "javascript" in answer["Content-Type"]
            assert "/api/v1/schema/" in answer.content.decode()


def test_the_schema_is_generated_without_a_warning(tmp_path):
    from django.core.management import call_command

    target = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))
    assert yaml.safe_load(target.read_text())["components"]["securitySchemes"]["cookieAuth"]["in"] == "cookie"
