"""Shared pieces of the API tests: a client, tokens for the role fixtures, and clean throttle counters."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from api.services import api_token_issue


@pytest.fixture(autouse=True)
def _fresh_throttle_counters():
    """DRF throttles count in the cache; one test's requests must not throttle the next test's."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


def bearer(user, **kwargs) -> dict:
    """Request headers carrying a new token of ``user``."""
    issued = api_token_issue(user=user, name=kwargs.pop("name", "test"), **kwargs)
    return {"HTTP_AUTHORIZATION": f"Bearer {issued.secret}"}


def assert_problem(response, status: int, *, code: str | None = None) -> dict:
    """The answer is an RFC 9457 problem with ``status`` (and type ending in ``code``)."""
    assert response.status_code == status, (response.status_code, response.content[:500])
    assert response["Content-Type"].startswith("application/problem+json"), response["Content-Type"]
    body = response.json()
    assert {"type", "title", "status", "detail", "instance"} <= set(body), body
    assert body["status"] == status
    assert body["instance"] == response.wsgi_request.path
    if code is not None:
        assert body["type"].endswith(":" + code), body["type"]
    return body
