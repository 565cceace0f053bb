"""Throttling per token and per address, at the rates in the settings."""

from __future__ import annotations

import pytest

from tests.api.conftest import assert_problem, bearer

pytestmark = pytest.mark.django_db

URL = "/api/v1/notifications/"


def rates(settings, **changes):
    current = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {**current, **changes}}


def test_each_token_has_its_own_allowance(api_client, officer, settings):
    rates(settings, token="2/minute", address="1000/minute")
    first, second = bearer(officer, name="one"), bearer(officer, name="two")
    assert api_client.get(URL, **first).status_code == 200
    assert api_client.get(URL, **first).status_code == 200
    response = api_client.get(URL, **first)
    body = assert_problem(response, 429, code="throttled")
    assert int(response["Retry-After"]) > 0 and body["retry_after"] > 0
    assert api_client.get(URL, **second).status_code == 200


def test_each_address_has_its_own_allowance(api_client, settings):
    rates(settings, address="2/minute")
    assert api_client.get("/api/v1/agencies/").status_code == 200
    assert api_client.get("/api/v1/agencies/").status_code == 200
    assert_problem(api_client.get("/api/v1/agencies/"), 429)
    assert api_client.get("/api/v1/agencies/", REMOTE_ADDR="192.0.2.7").status_code == 200


def test_the_rates_are_in_the_settings(settings):
    configured = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]
    assert {"token", "address", "token_issue"} <= set(configured)
    assert "api.throttling.TokenRateThrottle" in settings.REST_FRAMEWORK["DEFAULT_THROTTLE_CLASSES"]
    assert "api.throttling.AddressRateThrottle" in settings.REST_FRAMEWORK["DEFAULT_THROTTLE_CLASSES"]
