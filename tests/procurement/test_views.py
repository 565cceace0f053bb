"""The agency, programme and phase pages, from the side of the people who use them and of those who
should not: who may open and post each form, what a successful save leaves behind (the record and its
audit event), and how a mistake is explained without losing what was typed."""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass
from decimal import Decimal
from html import unescape
from types import SimpleNamespace
from urllib.parse import parse_qs, urlsplit

import pytest

from audit.models import AuditEvent
from audit.services import audit_event_append
from procurement.models import Agency, Phase, Programme
from tests.audit.helpers import assert_refusal_logged_if_auditor, record_events
from tests.html_checks import check_page, form_values
from tests.procurement.factories import AgencyFactory, PhaseFactory


@pytest.fixture
def world(agency, programme, approver):
    """The MCIT ministry with one department; its programme NEGP (2026–2028, 1,000,000 SAR) has phase 1
    (March–June 2026, 400,000 SAR)."""
    department = AgencyFactory(
        code="MCIT-DGA",
        name_en="Digital Government Authority",
        name_ar="هيئة الحكومة الرقمية",
        kind=Agency.Kind.AUTHORITY,
        parent=agency,
    )
    phase = PhaseFactory(
        programme=programme,
        order=1,
        name_en="Strategy",
        name_ar="الاستراتيجية",
        start_date=datetime.date(2026, 3, 1),
        end_date=datetime.date(2026, 6, 30),
        budget=Decimal("400000.00"),
    )
    return SimpleNamespace(agency=agency, department=department, programme=programme, phase=phase, approver=approver)


def programme_data(world, **changes) -> dict:
    """What the edit form of NEGP sends when submitted unchanged (plus ``changes``)."""
    data = {
        "code": world.programme.code,
        "name_en": world.programme.name_en,
        "name_ar": world.programme.name_ar,
        "description_en": "",
        "description_ar": "",
        "sponsor_agency": str(world.agency.pk),
        "budget": "1000000.00",
        "currency": "SAR",
        "start_date": "2026-01-01",
        "end_date": "2028-12-31",
        "steering_committee": [str(world.approver.pk)],
    }
    data.update(changes)
    return data


def new_programme_data(world, **changes) -> dict:
    return programme_data(
        world,
        **{
            "code": "DGP",
            "name_en": "Digital Government Programme",
            "name_ar": "برنامج الحكومة الرقمية",
            "budget": "500000.00",
            "start_date": "2026-01-01",
            "end_date": "2027-12-31",
            **changes,
        },
    )


def phase_data(**changes) -> dict:
    """A second phase that fits: July–December 2026, 100,000 SAR."""
    data = {
        "order": "2",
        "name_en": "Build",
        "name_ar": "البناء",
        "start_date": "2026-07-01",
        "end_date": "2026-12-31",
        "budget": "100000.00",
        "specification_en": "Build the shared platform.",
        "specification_ar": "",
        "deliverables_en": "Platform\nDocumentation",
        "deliverables_ar": "",
    }
    data.update(changes)
    return data


def phase_one_data(**changes) -> dict:
    """What the edit form of phase 1 sends when submitted unchanged (plus ``changes``)."""
    return phase_data(
        **{
            "order": "1",
            "name_en": "Strategy",
            "name_ar": "الاستراتيجية",
            "start_date": "2026-03-01",
            "end_date": "2026-06-30",
            "budget": "400000.00",
            "specification_en": "",
            "deliverables_en": "",
            **changes,
        }
    )


def agency_data(world, **changes) -> dict:
    """What the edit form of MCIT sends when submitted unchanged (plus ``changes``)."""
    data = {
        "code": "MCIT",
        "name_en": "Ministry of Communications",
        "name_ar": "وزارة الاتصالات",
        "kind": "ministry",
        "parent": "",
        "time_zone": "Asia/Riyadh",
        "website": "",
        "email": "",
        "is_active": "on",
    }
    data.update(changes)
    return data


def db_state() -> tuple:
    """Everything these pages can change, to show that a refused request changed nothing."""
    return (
        list(Agency.objects.order_by("pk").values()),
        list(Programme.objects.order_by("pk").values()),
        list(Phase.objects.order_by("pk").values()),
        list(Programme.steering_committee.through.objects.order_by("pk").values()),
        list(record_events().order_by("sequence").values_list("sequence", "hash")),
    )


@dataclass(frozen=True)
class WritePage:
    name: str
    path: str
    data: object  # world -> what a person allowed to use the page would post successfully
    allowed: str  # a fixture of someone who may use it

    def url(self, world, lang: str = "en") -> str:
        return f"/{lang}/" + self.path.format(
            programme=world.programme.pk, phase=world.phase.pk, agency=world.agency.pk
        )


WRITE_PAGES = {
    page.name: page
    for page in [
        WritePage("new programme", "programmes/new/", new_programme_data, "officer"),
        WritePage(
            "edit programme", "programmes/{programme}/edit/", lambda w: programme_data(w, budget="2000000"), "officer"
        ),
        WritePage("new phase", "programmes/{programme}/phases/new/", lambda w: phase_data(), "officer"),
        WritePage("edit phase", "phases/{phase}/edit/", lambda w: phase_one_data(budget="300000"), "officer"),
        WritePage(
            "new agency",
            "agencies/new/",
            lambda w: agency_data(w, code="MOF", name_en="Ministry of Finance", name_ar="وزارة المالية"),
            "administrator",
        ),
        WritePage("edit agency", "agencies/{agency}/edit/", lambda w: agency_data(w, name_en="MCIT"), "administrator"),
    ]
}
PROGRAMME_PAGES = ["new programme", "edit programme", "new phase", "edit phase"]
AGENCY_PAGES = ["new agency", "edit agency"]


def refused_matrix():
    for role in ("vendor_user", "committee_member", "auditor", "approver"):
        for name in WRITE_PAGES:
            yield role, name
    for name in AGENCY_PAGES:
        yield "officer", name
    for name in ("edit programme", "new phase", "edit phase"):
        yield "other_officer", name


# Who may open and post the forms -----------------------------------------------------------------


@pytest.mark.parametrize("page_name", WRITE_PAGES)
def test_the_posted_data_is_saved_for_someone_allowed(client, request, world, page_name):
    """The control for every refusal below: the same POST from the right person is accepted."""
    page = WRITE_PAGES[page_name]
    client.force_login(request.getfixturevalue(page.allowed))
    before = db_state()

    response = client.post(page.url(world), page.data(world))

    assert response.status_code == 302
    assert db_state() != before


@pytest.mark.parametrize("lang", ["en", "ar"])
@pytest.mark.parametrize("page_name", WRITE_PAGES)
def test_visitor_not_signed_in_is_sent_to_sign_in_first(client, world, page_name, lang):
    url = WRITE_PAGES[page_name].url(world, lang)

    response = client.get(url)

    assert response.status_code == 302
    location = urlsplit(response["Location"])
    assert location.path == f"/{lang}/accounts/sign-in/"
    assert parse_qs(location.query) == {"next": [url]}


@pytest.mark.parametrize("page_name", WRITE_PAGES)
def test_visitor_not_signed_in_cannot_post(client, world, page_name):
    page = WRITE_PAGES[page_name]
    before = db_state()

    response = client.post(page.url(world), page.data(world))

    assert response.status_code == 302
    assert urlsplit(response["Location"]).path == "/en/accounts/sign-in/"
    assert db_state() == before


@pytest.mark.parametrize(("role", "page_name"), list(refused_matrix()))
def test_role_without_the_right_is_refused(client, request, world, other_officer, role, page_name):
    page = WRITE_PAGES[page_name]
    user = request.getfixturevalue(role)
    client.force_login(user)
    before = db_state()

    opened = client.get(page.url(world))
    posted = client.post(page.url(world), page.data(world))

    assert opened.status_code == 403
    assert "Not allowed" in opened.content.decode()
    assert posted.status_code == 403
    assert db_state() == before
    assert_refusal_logged_if_auditor(user, path=page.url(world))


def sponsor_choices(response) -> list[str]:
    select = re.search(r'<select name="sponsor_agency".*?</select>', response.content.decode(), re.S)
    assert select is not None
    return [value for value in re.findall(r'<option value="([^"]*)"', select.group(0)) if value]


def test_officer_is_offered_only_their_own_agency_as_sponsor(client, world, other_officer, other_agency):
    client.force_login(other_officer)

    response = client.get("/en/programmes/new/")

    assert sponsor_choices(response) == [str(other_agency.pk)]
    assert form_values(response.content)["sponsor_agency"] == [str(other_agency.pk)]


def test_administrator_is_offered_every_active_agency_as_sponsor(client, world, administrator, other_agency):
    AgencyFactory(code="OLD", is_active=False)
    client.force_login(administrator)

    response = client.get("/en/programmes/new/")

    assert sponsor_choices(response) == [str(a.pk) for a in (world.agency, world.department, other_agency)]


def test_officer_cannot_create_a_programme_for_another_agency(client, world, other_officer):
    client.force_login(other_officer)
    before = db_state()

    response = client.post("/en/programmes/new/", new_programme_data(world))  # sponsor: MCIT, not theirs

    assert_refused(response, "Select a valid choice", new_programme_data(world), bad=["sponsor_agency"])
    assert db_state() == before


def test_officer_cannot_hand_their_programme_to_another_agency(client, world, officer, other_agency):
    client.force_login(officer)
    before = db_state()

    response = client.post(
        f"/en/programmes/{world.programme.pk}/edit/", programme_data(world, sponsor_agency=str(other_agency.pk))
    )

    assert_refused(response, "Select a valid choice", programme_data(world), bad=["sponsor_agency"])
    assert db_state() == before


def test_programme_of_a_deactivated_agency_can_still_be_corrected_by_an_administrator(client, world, administrator):
    world.agency.is_active = False
    world.agency.save()
    client.force_login(administrator)

    response = client.post(f"/en/programmes/{world.programme.pk}/edit/", programme_data(world, budget="900000.00"))

    assert response.status_code == 302
    world.programme.refresh_from_db()
    assert world.programme.budget == Decimal("900000.00")


def test_programme_page_offers_edit_links_only_to_those_who_may_edit(client, world, officer, other_officer, approver):
    url = f"/en/programmes/{world.programme.pk}/"
    links = {
        f"/en/programmes/{world.programme.pk}/edit/",
        f"/en/programmes/{world.programme.pk}/phases/new/",
        f"/en/phases/{world.phase.pk}/edit/",
    }

    def offered(user) -> set[str]:
        if user is None:
            client.logout()
        else:
            client.force_login(user)
        return {link.href for link in check_page(client.get(url).content).links} & links

    assert offered(officer) == links
    assert offered(other_officer) == set()
    assert offered(approver) == set()
    assert offered(None) == set()


class TestAuditLogAccess:
    def test_auditor_reads_the_log_and_each_event(self, client, world, auditor, officer):
        event = audit_event_append(action="procurement.programme.changed", actor=officer, obj=world.programme)
        client.force_login(auditor)

        listing = client.get("/en/audit/events/")
        detail = client.get(f"/en/audit/events/{event.sequence}/")

        assert listing.status_code == 200
        assert "procurement.programme.changed" in listing.content.decode()
        assert detail.status_code == 200
        assert event.hash in detail.content.decode()
        assert "officer@example.gov" in detail.content.decode()

    @pytest.mark.parametrize("role", ["officer", "approver", "committee_member", "vendor_user"])
    def test_other_roles_may_not_read_the_log(self, client, request, world, role):
        event = audit_event_append(action="procurement.programme.changed", obj=world.programme)
        client.force_login(request.getfixturevalue(role))

        assert client.get("/en/audit/events/").status_code == 403
        assert client.get(f"/en/audit/events/{event.sequence}/").status_code == 403

    def test_visitor_not_signed_in_is_sent_to_sign_in(self, client, db):
        response = client.get("/en/audit/events/")
        assert response.status_code == 302
        assert urlsplit(response["Location"]).path == "/en/accounts/sign-in/"

    def test_posting_to_the_log_pages_changes_nothing(self, client, world, auditor):
        event = audit_event_append(action="procurement.programme.changed", obj=world.programme)
        client.force_login(auditor)
        before = db_state()

        for url in ("/en/audit/events/", f"/en/audit/events/{event.sequence}/"):
            response = client.post(url, {"action": "tampered", "payload": "{}", "hash": "0" * 64})
            assert response.status_code in (200, 403, 405)

        assert db_state() == before
        assert AuditEvent.objects.get(sequence=event.sequence).action == "procurement.programme.changed"


# The officer at work ------------------------------------------------------------------------------


def only_event(action: str) -> AuditEvent:
    events = list(AuditEvent.objects.filter(action=action))
    assert len(events) == 1, f"exactly one {action} event"
    return events[0]


def test_officer_creates_a_programme(client, world, officer, approver):
    client.force_login(officer)
    assert form_values(client.get("/en/programmes/new/").content)["sponsor_agency"] == [str(world.agency.pk)]

    response = client.post("/en/programmes/new/", new_programme_data(world), follow=True)

    programme = Programme.objects.get(code="DGP")
    assert response.redirect_chain == [(f"/en/programmes/{programme.pk}/", 302)]
    page = response.content.decode()
    assert "Programme Digital Government Programme was created." in page
    assert "500,000.00 SAR" in page
    assert (programme.sponsor_agency, programme.created_by, programme.budget) == (
        world.agency,
        officer,
        Decimal("500000.00"),
    )
    assert (programme.start_date, programme.end_date) == (datetime.date(2026, 1, 1), datetime.date(2027, 12, 31))
    assert list(programme.steering_committee.all()) == [approver]
    event = only_event("procurement.programme.created")
    assert event.actor == officer
    assert (event.object_id, event.programme_id, event.agency_id) == (str(programme.pk), programme.pk, world.agency.pk)
    assert event.payload["after"]["code"] == "DGP"
    assert event.payload["after"]["budget"] == "500000.00"
    assert event.payload["after"]["end_date"] == "2027-12-31"
    assert event.payload["after"]["steering_committee"] == [approver.pk]
    assert "before" not in event.payload


def test_officer_edits_the_programme(client, world, officer, approver):
    client.force_login(officer)
    old_name = world.programme.name_en

    response = client.post(
        f"/en/programmes/{world.programme.pk}/edit/",
        programme_data(world, name_en="National e-Government Programme", budget="2000000.00"),
        follow=True,
    )

    assert response.redirect_chain == [(f"/en/programmes/{world.programme.pk}/", 302)]
    assert "Programme National e-Government Programme was saved." in response.content.decode()
    world.programme.refresh_from_db()
    assert (world.programme.name_en, world.programme.budget) == ("National e-Government Programme", Decimal("2e6"))
    assert list(world.programme.steering_committee.all()) == [approver]
    event = only_event("procurement.programme.changed")
    assert event.actor == officer
    assert event.payload == {
        "before": {"budget": "1000000.00", "name_en": old_name},
        "after": {"budget": "2000000.00", "name_en": "National e-Government Programme"},
    }


def test_an_unchanged_amount_typed_without_decimals_is_not_audited_as_a_change(client, world, officer):
    client.force_login(officer)
    old_name = world.programme.name_en

    response = client.post(
        f"/en/programmes/{world.programme.pk}/edit/", programme_data(world, name_en="Renamed", budget="1000000")
    )

    assert response.status_code == 302
    world.programme.refresh_from_db()
    assert world.programme.budget == Decimal("1000000.00")
    assert only_event("procurement.programme.changed").payload == {
        "before": {"name_en": old_name},
        "after": {"name_en": "Renamed"},
    }


def test_officer_adds_a_phase(client, world, officer):
    client.force_login(officer)
    form = client.get(f"/en/programmes/{world.programme.pk}/phases/new/")
    assert form_values(form.content)["order"] == ["2"], "the next number is proposed"

    response = client.post(f"/en/programmes/{world.programme.pk}/phases/new/", phase_data(), follow=True)

    assert response.redirect_chain == [(f"/en/programmes/{world.programme.pk}/#phase-2", 302)]
    page = response.content.decode()
    assert "Phase Build was added." in page
    assert "Build the shared platform." in page
    phase = Phase.objects.get(programme=world.programme, order=2)
    assert (phase.name_en, phase.budget) == ("Build", Decimal("100000.00"))
    assert (phase.start_date, phase.end_date) == (datetime.date(2026, 7, 1), datetime.date(2026, 12, 31))
    assert phase.deliverables == ["Platform", "Documentation"]
    event = only_event("procurement.phase.created")
    assert event.actor == officer
    assert (event.object_id, event.programme_id) == (str(phase.pk), world.programme.pk)
    assert event.payload["after"]["order"] == 2
    assert event.payload["after"]["budget"] == "100000.00"
    assert event.payload["after"]["start_date"] == "2026-07-01"


def test_officer_edits_a_phase(client, world, officer):
    client.force_login(officer)

    response = client.post(
        f"/en/phases/{world.phase.pk}/edit/", phase_one_data(end_date="2026-07-31", budget="450000.00"), follow=True
    )

    assert response.redirect_chain == [(f"/en/programmes/{world.programme.pk}/#phase-1", 302)]
    assert "Phase Strategy was saved." in response.content.decode()
    world.phase.refresh_from_db()
    assert (world.phase.end_date, world.phase.budget) == (datetime.date(2026, 7, 31), Decimal("450000.00"))
    event = only_event("procurement.phase.changed")
    assert event.actor == officer
    assert event.payload == {
        "before": {"budget": "400000.00", "end_date": "2026-06-30"},
        "after": {"budget": "450000.00", "end_date": "2026-07-31"},
    }


def test_a_phase_may_take_exactly_what_is_left_and_its_own_budget_is_not_counted_twice(client, world, officer):
    client.force_login(officer)

    added = client.post(f"/en/programmes/{world.programme.pk}/phases/new/", phase_data(budget="600000"))
    assert added.status_code == 302

    # Phase 1 keeps its 400,000: 400,000 + 600,000 is exactly the programme's budget.
    edited = client.post(f"/en/phases/{world.phase.pk}/edit/", phase_one_data(name_en="Strategy and design"))
    assert edited.status_code == 302
    assert world.programme.phases_budget() == Decimal("1000000.00")


def test_administrator_creates_and_edits_an_agency(client, world, administrator):
    client.force_login(administrator)

    created = client.post(
        "/en/agencies/new/",
        agency_data(world, code="mof", name_en="Ministry of Finance", name_ar="وزارة المالية"),
        follow=True,
    )

    agency = Agency.objects.get(name_en="Ministry of Finance")
    assert agency.code == "MOF", "a code typed in small letters is stored in capitals"
    assert created.redirect_chain == [(f"/en/agencies/{agency.pk}/", 302)]
    assert "Agency Ministry of Finance was created." in created.content.decode()
    assert only_event("procurement.agency.created").payload["after"]["code"] == "MOF"

    edited = client.post(
        f"/en/agencies/{world.department.pk}/edit/",
        agency_data(world, code="MCIT-DGA", name_en="Digital Government Authority", name_ar="هيئة", kind="authority")
        | {"parent": str(agency.pk)},
    )

    assert edited.status_code == 302
    world.department.refresh_from_db()
    assert world.department.parent == agency
    event = only_event("procurement.agency.changed")
    assert event.actor == administrator
    assert event.payload["before"]["parent_id"] == world.agency.pk
    assert event.payload["after"]["parent_id"] == agency.pk


# Mistakes are explained, and what was typed stays -------------------------------------------------


def assert_refused(response, message: str, sent: dict, *, bad: list[str]) -> None:
    """The form came back (200) with ``message``, the ``bad`` fields marked, everything else as typed."""
    assert response.status_code == 200
    text = unescape(response.content.decode())
    assert message in text
    assert "violated" not in text, "no database-constraint jargon is shown"
    report = check_page(response.content)
    assert report.has_error_summary
    for name in bad:
        assert name in report.invalid_controls, f"{name} is marked invalid"
        assert f"#id_{name}" in report.error_summary_links
    shown = form_values(response.content)
    for name, value in sent.items():
        if name not in bad:
            expected = sorted(value) if isinstance(value, list) else [value]
            assert sorted(shown.get(name, [])) == expected, f"{name} keeps what was typed"


@pytest.fixture
def as_officer(client, world, officer):
    client.force_login(officer)
    return client


def post_refused(client, url: str, data: dict) -> object:
    before = db_state()
    response = client.post(url, data)
    assert db_state() == before, "nothing is saved"
    return response


class TestPhaseMistakes:
    def new(self, client, world, **changes):
        data = phase_data(**changes)
        return post_refused(client, f"/en/programmes/{world.programme.pk}/phases/new/", data), data

    def test_phase_ending_after_the_programme(self, as_officer, world):
        response, sent = self.new(as_officer, world, end_date="2029-03-31")
        assert_refused(response, "The phase cannot end after the programme ends (2028-12-31).", sent, bad=["end_date"])

    def test_phase_starting_before_the_programme(self, as_officer, world):
        sent = phase_one_data(start_date="2025-12-01")
        response = post_refused(as_officer, f"/en/phases/{world.phase.pk}/edit/", sent)
        assert_refused(
            response, "The phase cannot start before the programme starts (2026-01-01).", sent, bad=["start_date"]
        )

    def test_phase_ending_before_it_starts(self, as_officer, world):
        response, sent = self.new(as_officer, world, start_date="2026-09-01", end_date="2026-08-01")
        assert_refused(response, "The end date must be on or after the start date.", sent, bad=["end_date"])

    def test_negative_budget(self, as_officer, world):
        response, sent = self.new(as_officer, world, budget="-100")
        assert_refused(response, "An amount cannot be negative.", sent, bad=["budget"])

    def test_budget_that_takes_the_phases_over_the_programme_budget_says_what_is_left(self, as_officer, world):
        response, sent = self.new(as_officer, world, budget="700000")
        assert_refused(
            response,
            "The phases' budgets would total 1,100,000.00, more than the programme budget of 1,000,000.00. "
            "At most 600,000.00 is left for this phase.",
            sent,
            bad=["budget"],
        )

    def test_raising_a_phase_budget_over_the_programme_budget(self, as_officer, world):
        PhaseFactory(programme=world.programme, order=2, start_date=datetime.date(2026, 7, 1), budget=Decimal("5e5"))
        sent = phase_one_data(budget="500000.01")
        response = post_refused(as_officer, f"/en/phases/{world.phase.pk}/edit/", sent)
        assert_refused(response, "At most 500,000.00 is left for this phase.", sent, bad=["budget"])

    def test_duplicate_order(self, as_officer, world):
        response, sent = self.new(as_officer, world, order="1")
        assert_refused(response, "This programme already has a phase number 1.", sent, bad=["order"])

    def test_order_that_contradicts_the_start_dates(self, as_officer, world):
        # Phase 1 starts on 2026-03-01; a phase 2 starting in February would come before it.
        response, sent = self.new(as_officer, world, start_date="2026-02-01", end_date="2026-02-28")
        assert_refused(
            response,
            "Phases are numbered in the order they start: phase 1 starts on 2026-03-01, which does not fit number 2.",
            sent,
            bad=["order"],
        )

    def test_budget_that_is_not_a_number(self, as_officer, world):
        response, sent = self.new(as_officer, world, budget="a lot")
        assert_refused(response, "Enter a number.", sent, bad=["budget"])

    def test_order_zero(self, as_officer, world):
        response, sent = self.new(as_officer, world, order="0")
        assert_refused(response, "", sent, bad=["order"])


class TestProgrammeMistakes:
    def test_end_before_start(self, as_officer, world):
        sent = new_programme_data(world, start_date="2027-01-01", end_date="2026-12-31")
        response = post_refused(as_officer, "/en/programmes/new/", sent)
        assert_refused(response, "The end date must be on or after the start date.", sent, bad=["end_date"])
        assert not Programme.objects.filter(code="DGP").exists()

    def test_budget_below_what_the_phases_already_have(self, as_officer, world):
        sent = programme_data(world, budget="300000")
        response = post_refused(as_officer, f"/en/programmes/{world.programme.pk}/edit/", sent)
        assert_refused(
            response,
            "The budget cannot be less than the 400,000.00 already allocated to its phases.",
            sent,
            bad=["budget"],
        )
        world.programme.refresh_from_db()
        assert world.programme.budget == Decimal("1000000.00")

    def test_dates_that_would_leave_a_phase_outside(self, as_officer, world):
        sent = programme_data(world, start_date="2026-04-01")
        response = post_refused(as_officer, f"/en/programmes/{world.programme.pk}/edit/", sent)
        assert_refused(
            response, "These phases would start before the programme: 1. Strategy.", sent, bad=["start_date"]
        )

    def test_an_earlier_end_that_would_leave_a_phase_outside_is_reported_on_the_end_date(self, as_officer, world):
        sent = programme_data(world, end_date="2026-03-01")
        response = post_refused(as_officer, f"/en/programmes/{world.programme.pk}/edit/", sent)
        assert_refused(response, "These phases would end after the programme: 1. Strategy.", sent, bad=["end_date"])

    def test_budget_that_is_not_a_number(self, as_officer, world):
        sent = new_programme_data(world, budget="half a million")
        response = post_refused(as_officer, "/en/programmes/new/", sent)
        assert_refused(response, "Enter a number.", sent, bad=["budget"])

    def test_code_typed_in_small_letters_is_stored_in_capitals(self, as_officer, world):
        response = as_officer.post("/en/programmes/new/", new_programme_data(world, code=" dgp-2 "))
        assert response.status_code == 302
        assert Programme.objects.filter(code="DGP-2").exists()


class TestAgencyMistakes:
    @pytest.fixture
    def as_administrator(self, client, world, administrator):
        client.force_login(administrator)
        return client

    def test_agency_cannot_be_part_of_its_own_department(self, as_administrator, world):
        sent = agency_data(world, parent=str(world.department.pk))
        response = post_refused(as_administrator, f"/en/agencies/{world.agency.pk}/edit/", sent)
        assert_refused(response, "An agency cannot be part of itself or of its own department.", sent, bad=["parent"])
        assert form_values(response.content)["parent"] == [str(world.department.pk)], "the choice made stays"
        world.agency.refresh_from_db()
        assert world.agency.parent is None

    def test_agency_cannot_be_part_of_itself(self, as_administrator, world):
        sent = agency_data(world, parent=str(world.agency.pk))
        response = post_refused(as_administrator, f"/en/agencies/{world.agency.pk}/edit/", sent)
        assert_refused(response, "An agency cannot be part of itself or of its own department.", sent, bad=["parent"])

    def test_code_typed_in_small_letters_is_stored_in_capitals(self, as_administrator, world):
        response = as_administrator.post("/en/agencies/new/", agency_data(world, code="  mof ", name_en="Finance"))
        assert response.status_code == 302
        assert Agency.objects.get(name_en="Finance").code == "MOF"

    @pytest.mark.parametrize("code", ["MC IT", "M", "1MCIT", "MCIT_2", "وزارة"])
    def test_code_that_is_not_capitals_digits_or_hyphens_is_refused(self, as_administrator, world, code):
        sent = agency_data(world, code=code, name_en="Finance")
        response = post_refused(as_administrator, "/en/agencies/new/", sent)
        assert_refused(
            response,
            "Use 2 to 20 capital letters, digits or hyphens, starting with a letter (e.g. MCIT).",
            sent,
            bad=["code"],
        )
