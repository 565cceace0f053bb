"""The public pages and feeds run the same number of queries with one row as with many (no query per row,
no OFFSET, no unbounded COUNT), under a fixed ceiling."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from contracts.models import ContractStatus
from procurement.models.tenders import TenderStatus
from tests.portal.public_world import contract_in, milestone_of, tender_in, verified_vendor
from tests.procurement.factories import PhaseFactory
from vendors.models import VendorCategory

#: The most queries any public page may run for an anonymous visitor.
CEILING = 12


@pytest.fixture
def grow(agency, officer, programme):
    """Adds ``count`` of everything: phases, published tenders, vendors, signed contracts with milestones."""
    state = {"vendor": None, "phases": []}

    def add(count: int):
        for _ in range(count):
            phase = PhaseFactory(programme=programme)
            state["phases"].append(phase)
            make = {"phase": phase, "agency": agency, "officer": officer}
            tender_in(TenderStatus.PUBLISHED, title_en="Bulk tender", **make)
            vendor = verified_vendor("Bulk vendor")
            vendor.categories.set(VendorCategory.objects.all()[:2])
            state["vendor"] = state["vendor"] or vendor
            contract = contract_in(ContractStatus.ACTIVE, vendor=state["vendor"], title="Bulk contract", **make)
            contract_in(ContractStatus.DRAFT, vendor=vendor, title="Bulk contract draft", **make)
            for order in range(1, 4):
                milestone_of(contract, order=order, delivered=order == 1)
            state["contract"] = state.get("contract", contract)
        return state

    return add


def pages(state, programme) -> list[str]:
    return [
        "/en/",
        "/en/portal/search/?q=bulk",
        "/en/portal/agencies/MCIT/",
        f"/en/portal/vendors/{state['vendor'].pk}/",
        f"/en/portal/contracts/{state['contract'].number}/",
        f"/en/portal/programmes/{programme.pk}/",
        "/en/portal/feeds/awards.rss",
        "/en/portal/feeds/agencies/MCIT/awards.atom",
        "/en/portal/guides/track/",
    ]


def queries_of(client, url) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200, url
    return [query["sql"] for query in captured.captured_queries]


def test_each_public_page_costs_the_same_queries_at_one_row_and_at_thirty(
    client, grow, programme, django_assert_max_num_queries
):
    state = grow(1)
    small = {url: queries_of(client, url) for url in pages(state, programme)}
    grow(29)
    for url in pages(state, programme):
        with django_assert_max_num_queries(CEILING):
            large = queries_of(client, url)
        assert len(large) == len(small[url]), url
        for sql in large:
            assert " OFFSET " not in sql.upper(), url
            assert "COUNT(" not in sql.upper() or "GROUP BY" in sql.upper(), url  # counts per group, never a total


def test_a_signed_in_visitor_adds_only_the_session_and_the_navigation(client, grow, programme, vendor_user):
    state = grow(3)
    anonymous = {url: len(queries_of(client, url)) for url in pages(state, programme)}
    client.force_login(vendor_user)
    for url in pages(state, programme):
        if "/feeds/" in url:
            continue
        assert len(queries_of(client, url)) - anonymous[url] <= 5, url
