"""The contracts list: every agency's contracts for auditors (with a link to each trail), the agency's for its
officers, the company's own for a vendor's people, nothing for anyone else; filters; a fixed number of queries
whatever the number of contracts."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from accounts.roles import Role
from tests.accounts.factories import UserFactory
from tests.contracts.test_contracts import drafted, final_award

pytestmark = pytest.mark.django_db


def _url(**params):
    with translation.override("en"):
        return reverse("contracts:contract_list")


def _shown(client, **params) -> set[int]:
    response = client.get(_url(), params)
    assert response.status_code == 200
    return {contract.pk for contract in response.context["page"].items}


def test_each_person_sees_the_contracts_they_may_see(client):
    first, second = drafted(final_award()), drafted(final_award())
    assert first.agency_id != second.agency_id and first.vendor_id != second.vendor_id

    auditor = UserFactory(roles=[Role.AUDITOR])
    client.force_login(auditor)
    assert _shown(client) == {first.pk, second.pk}
    html = client.get(_url()).content.decode()
    assert reverse("audit:contract_trail", args=[first.pk]) in html

    client.force_login(UserFactory(agency=first.agency, roles=[Role.PROCUREMENT_OFFICER]))
    assert _shown(client) == {first.pk}
    client.force_login(UserFactory(agency=second.agency, roles=[Role.APPROVER]))
    assert _shown(client) == {second.pk}

    from vendors.models import VendorMembership

    colleague = UserFactory(roles=[Role.VENDOR_USER])
    VendorMembership.objects.create(user=colleague, vendor=second.vendor)
    client.force_login(colleague)
    assert _shown(client) == {second.pk}
    assert "/trail/" not in client.get(_url()).content.decode()

    for outsider in (UserFactory(roles=[Role.COMMITTEE_MEMBER]), UserFactory(roles=[Role.VENDOR_USER])):
        client.force_login(outsider)
        assert client.get(_url()).status_code == 403
    client.logout()
    assert client.get(_url()).status_code == 302


def test_filters_by_text_status_agency_and_value(client):
    first, second = drafted(final_award()), drafted(final_award())
    client.force_login(UserFactory(roles=[Role.AUDITOR]))
    assert _shown(client, q=first.tender.reference) == {first.pk}
    assert _shown(client, q=second.vendor.legal_name_en) == {second.pk}
    assert _shown(client, status="draft") == {first.pk, second.pk}
    assert _shown(client, status="active") == set()
    assert _shown(client, agency=second.agency_id) == {second.pk}
    assert _shown(client, value_min=str(first.value + 1)) == set()
    response = client.get(_url(), {"value_min": "-5", "status": "nonsense"})
    assert response.status_code == 200 and "Select a valid choice" in response.content.decode()


def test_the_list_runs_a_fixed_number_of_queries(client):
    drafted(final_award())
    client.force_login(UserFactory(roles=[Role.AUDITOR]))
    with CaptureQueriesContext(connection) as small:
        client.get(_url())
    for _ in range(4):
        drafted(final_award())
    with CaptureQueriesContext(connection) as large:
        response = client.get(_url())
    assert len(response.context["page"].items) == 5
    assert len(large) == len(small)
