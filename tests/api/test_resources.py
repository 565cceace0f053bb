"""The read-only resources: who sees what (the same reach as the web pages), and a fixed number of queries per
page whatever the number of rows."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.roles import Role
from notifications.models import Notification
from procurement.models.tenders import TenderStatus
from tests.accounts.factories import UserFactory
from tests.api.conftest import assert_problem, bearer
from tests.procurement.factories import PhaseFactory, ProgrammeFactory
from tests.procurement.tender_factories import TenderFactory, make_published, set_status

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(agency, other_agency, programme):
    """A draft and a published tender in each of two agencies."""
    phase = PhaseFactory(programme=programme)
    other_phase = PhaseFactory(programme=ProgrammeFactory(sponsor_agency=other_agency))
    return {
        "draft": TenderFactory(phase=phase),
        "published": make_published(TenderFactory(phase=phase)),
        "other_draft": TenderFactory(phase=other_phase),
        "other_published": make_published(TenderFactory(phase=other_phase)),
        "phase": phase,
    }


def ids(response) -> set[int]:
    assert response.status_code == 200, response.content[:300]
    return {row["id"] for row in response.json()["results"]}


def as_user(api_client, user):
    if user is not None:
        api_client.credentials(**bearer(user))
    return api_client


def test_anyone_reads_agencies_and_programmes_with_their_phases(api_client, world, programme):
    agencies = api_client.get("/api/v1/agencies/")
    assert agencies.status_code == 200
    assert {row["code"] for row in agencies.json()["results"]} >= {"MCIT", "MOH"}
    assert "count" not in agencies.json()  # keyset pages: no COUNT(*)
    body = api_client.get(f"/api/v1/programmes/{programme.pk}/").json()
    assert body["code"] == "NEGP"
    assert [phase["id"] for phase in body["phases"]] == [world["phase"].pk]
    filtered = api_client.get("/api/v1/programmes/", {"sponsor_agency": programme.sponsor_agency_id})
    assert ids(filtered) == {programme.pk}


def test_anyone_reads_phases_on_their_own_filtered_by_programme(api_client, world, programme):
    from procurement.models import Phase

    phase = world["phase"]
    everyone = ids(api_client.get("/api/v1/phases/"))
    assert everyone == set(Phase.objects.values_list("pk", flat=True)) and len(everyone) == 2
    assert ids(api_client.get("/api/v1/phases/", {"programme": programme.pk})) == {phase.pk}
    body = api_client.get(f"/api/v1/phases/{phase.pk}/").json()
    assert body["programme"] == programme.pk and body["order"] == phase.order and body["name_en"] == phase.name_en
    assert body["status"] == phase.status() and body["progress"] == phase.progress()
    assert body["budget"] == str(phase.budget) and body["start_date"] == phase.start_date.isoformat()
    first = api_client.get("/api/v1/phases/", {"page_size": 1}).json()
    assert "count" not in first and len(first["results"]) == 1 and first["next"]
    assert len(api_client.get(first["next"]).json()["results"]) == 1
    assert_problem(api_client.get("/api/v1/phases/999999/"), 404)
    assert_problem(api_client.get("/api/v1/phases/", {"programme": "nonsense"}), 400, code="invalid")


@pytest.mark.parametrize(
    ("who", "listed", "internal"),
    [
        (None, {"published", "other_published"}, set()),
        ("vendor_user", {"published", "other_published"}, set()),
        ("committee_member", {"published", "other_published"}, set()),
        ("officer", {"draft", "published", "other_published"}, {"draft", "published"}),
        ("other_officer", {"other_draft", "other_published", "published"}, {"other_draft", "other_published"}),
        ("approver", {"draft", "published", "other_published"}, {"draft", "published"}),
        (
            "auditor",
            {"draft", "published", "other_draft", "other_published"},
            {"draft", "published", "other_draft", "other_published"},
        ),
    ],
)
def test_tenders_are_listed_as_on_the_portal_and_the_officers_list(api_client, world, request, who, listed, internal):
    user = request.getfixturevalue(who) if who else None
    as_user(api_client, user)
    response = api_client.get("/api/v1/tenders/")
    names = {world[name].pk: name for name in ("draft", "published", "other_draft", "other_published")}
    rows = {names[row["id"]]: row for row in response.json()["results"] if row["id"] in names}
    assert set(rows) == listed
    assert {name for name, row in rows.items() if row["internal"] is not None} == internal
    for name in set(names.values()) - listed:
        assert_problem(api_client.get(f"/api/v1/tenders/{world[name].pk}/"), 404)
    for name in listed:
        detail = api_client.get(f"/api/v1/tenders/{world[name].pk}/").json()
        assert (detail["internal"] is not None) == (name in internal)
        assert "bids" not in detail and "envelopes" not in str(detail)


def test_tender_filters_work(api_client, world, officer):
    as_user(api_client, officer)
    assert ids(api_client.get("/api/v1/tenders/", {"status": TenderStatus.DRAFT})) == {world["draft"].pk}
    assert ids(api_client.get("/api/v1/tenders/", {"q": world["published"].reference})) == {world["published"].pk}
    assert ids(api_client.get("/api/v1/tenders/", {"agency": world["other_published"].agency_id})) == {
        world["other_published"].pk
    }


def test_pages_follow_the_cursor(api_client, world):
    first = api_client.get("/api/v1/tenders/", {"page_size": 1}).json()
    assert len(first["results"]) == 1 and first["next"]
    second = api_client.get(first["next"]).json()
    assert len(second["results"]) == 1
    assert first["results"][0]["id"] > second["results"][0]["id"]


def test_the_audit_log_is_for_auditors_only(api_client, world, auditor, officer, vendor_user):
    assert_problem(api_client.get("/api/v1/audit/events/"), 401)
    for user in (officer, vendor_user):
        client = as_user(api_client.__class__(), user)
        assert_problem(client.get("/api/v1/audit/events/"), 403, code="permission_denied")
    as_user(api_client, auditor)
    response = api_client.get("/api/v1/audit/events/", {"action": "api.token_issued"})
    assert response.status_code == 200
    events = response.json()["results"]
    assert events and all(event["action"] == "api.token_issued" for event in events)
    sequence = events[0]["sequence"]
    assert api_client.get(f"/api/v1/audit/events/{sequence}/").json()["hash"] == events[0]["hash"]


def test_notifications_are_the_callers_own(api_client, officer, other_officer, world):
    mine = Notification.objects.create(recipient=officer, kind="tender.published", tender=world["published"])
    theirs = Notification.objects.create(recipient=other_officer, kind="tender.published", tender=world["published"])
    as_user(api_client, officer)
    response = api_client.get("/api/v1/notifications/")
    assert ids(response) == {mine.pk}
    assert world["published"].reference in response.json()["results"][0]["subject"]
    assert_problem(api_client.get(f"/api/v1/notifications/{theirs.pk}/"), 404)


def test_contracts_are_listed_as_on_the_contracts_list(api_client, auditor):
    from tests.contracts.test_contracts import drafted, final_award
    from vendors.models import VendorMembership

    first, second = drafted(final_award()), drafted(final_award())
    colleague = UserFactory(roles=[Role.VENDOR_USER])
    VendorMembership.objects.create(user=colleague, vendor=second.vendor)
    officer = UserFactory(agency=first.agency, roles=[Role.PROCUREMENT_OFFICER])
    cases = [
        (auditor, {first.pk, second.pk}),
        (officer, {first.pk}),
        (UserFactory(agency=second.agency, roles=[Role.APPROVER]), {second.pk}),
        (colleague, {second.pk}),
    ]
    for user, expected in cases:
        client = as_user(api_client.__class__(), user)
        assert ids(client.get("/api/v1/contracts/")) == expected
        for contract in (first, second):
            answer = client.get(f"/api/v1/contracts/{contract.pk}/")
            if contract.pk in expected:
                assert answer.json()["number"] == str(contract.number)
            else:
                assert_problem(answer, 404)
    for outsider in (UserFactory(roles=[Role.COMMITTEE_MEMBER]), UserFactory(roles=[Role.VENDOR_USER])):
        client = as_user(api_client.__class__(), outsider)
        assert_problem(client.get("/api/v1/contracts/"), 403)
        assert_problem(client.get(f"/api/v1/contracts/{first.pk}/"), 403)
    assert_problem(api_client.__class__().get("/api/v1/contracts/"), 401)
    reader = as_user(api_client.__class__(), auditor)
    assert ids(reader.get("/api/v1/contracts/", {"agency": first.agency_id})) == {first.pk}


def _queries(client, url) -> int:
    client.get(url)  # warm up: the token's last use is written at most once a minute
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, response.content[:300]
    return len(captured)


LISTS = [
    "/api/v1/tenders/",
    "/api/v1/agencies/",
    "/api/v1/programmes/",
    "/api/v1/phases/",
    "/api/v1/notifications/",
]


@pytest.mark.parametrize(
    ("who", "url"),
    [("officer", url) for url in LISTS] + [("auditor", url) for url in [*LISTS, "/api/v1/audit/events/"]],
)
def test_a_page_costs_the_same_number_of_queries_for_one_row_or_many(api_client, programme, request, url, who):
    user = request.getfixturevalue(who)
    as_user(api_client, user)

    def add_rows():
        phase = PhaseFactory(programme=ProgrammeFactory(sponsor_agency=programme.sponsor_agency))
        tender = make_published(TenderFactory(phase=phase))
        draft = TenderFactory(phase=phase)
        set_status(draft, TenderStatus.DRAFT)
        Notification.objects.create(recipient=user, kind="tender.published", tender=tender)

    add_rows()
    few = _queries(api_client, url)
    for _ in range(6):
        add_rows()
    many = _queries(api_client, url)
    assert many == few, (few, many)
