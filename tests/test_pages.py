"""Every page of the site, in Arabic and English, opened by the person who would open it.

Each page must answer 200, say its language and direction on <html>, have exactly one main
landmark, give every form control a label, and have a title that no other page in the same
language shares. Form pages are also checked after a refused POST. The long lists are checked for
a bounded number of queries and for keyset pagination that neither skips nor repeats rows.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass
from decimal import Decimal
from html import unescape
from types import SimpleNamespace
from urllib.parse import urljoin

import pytest

from audit.models import AuditEvent
from audit.services import audit_event_append
from procurement.models import Agency, Programme
from tests.accounts.factories import UserFactory
from tests.html_checks import check_page, form_values
from tests.procurement.factories import AgencyFactory, PhaseFactory, ProgrammeFactory

DIRECTION = {"en": "ltr", "ar": "rtl"}
LANGUAGES = list(DIRECTION)


@pytest.fixture
def site(agency, other_agency, programme, officer, approver, committee_member, auditor, administrator, vendor_user):
    """A small but complete site: a ministry with a department, a programme with a phase, an audit event."""
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
    event = audit_event_append(action="procurement.programme.created", actor=officer, obj=programme)
    no_role = UserFactory(email="new.person@example.gov")
    return SimpleNamespace(
        agency=agency,
        department=department,
        programme=programme,
        phase=phase,
        event=event,
        users={
            "officer": officer,
            "approver": approver,
            "committee_member": committee_member,
            "auditor": auditor,
            "administrator": administrator,
            "vendor_user": vendor_user,
            "no_role": no_role,
        },
    )


@dataclass(frozen=True)
class Page:
    name: str
    path: str  # after the language prefix; {programme}, {phase}, {agency}, {department}, {event} are filled in
    user: str | None  # who opens it: a key of site.users, or None for a visitor who is not signed in

    def url(self, site, lang: str) -> str:
        return f"/{lang}/" + self.path.format(
            programme=site.programme.pk,
            phase=site.phase.pk,
            agency=site.agency.pk,
            department=site.department.pk,
            event=site.event.sequence,
        )


PAGES = [
    Page("home", "", None),
    Page("sign-in", "accounts/sign-in/", None),
    Page("programme list", "programmes/", None),
    Page("programme detail", "programmes/{programme}/", None),
    Page("agency list", "agencies/", None),
    Page("agency detail", "agencies/{agency}/", None),
    Page("department detail", "agencies/{department}/", None),
    *(
        Page(f"dashboard as {role}", "dashboard/", role)
        for role in ("officer", "approver", "committee_member", "auditor", "administrator", "vendor_user", "no_role")
    ),
    Page("programme detail as officer", "programmes/{programme}/", "officer"),
    Page("new programme as officer", "programmes/new/", "officer"),
    Page("new programme as administrator", "programmes/new/", "administrator"),
    Page("edit programme as officer", "programmes/{programme}/edit/", "officer"),
    Page("edit programme as administrator", "programmes/{programme}/edit/", "administrator"),
    Page("new phase as officer", "programmes/{programme}/phases/new/", "officer"),
    Page("edit phase as officer", "phases/{phase}/edit/", "officer"),
    Page("edit phase as administrator", "phases/{phase}/edit/", "administrator"),
    Page("new agency as administrator", "agencies/new/", "administrator"),
    Page("edit agency as administrator", "agencies/{agency}/edit/", "administrator"),
    Page("edit department as administrator", "agencies/{department}/edit/", "administrator"),
    Page("agency list as administrator", "agencies/", "administrator"),
    Page("audit log as auditor", "audit/events/", "auditor"),
    Page("audit event as auditor", "audit/events/{event}/", "auditor"),
]


def open_page(client, site, page: Page, lang: str):
    if page.user is None:
        client.logout()
    else:
        client.force_login(site.users[page.user])
    return client.get(page.url(site, lang))


def assert_accessible(report, lang: str) -> None:
    assert (report.lang, report.dir) == (lang, DIRECTION[lang])
    assert report.main_count == 1, "a page has exactly one main landmark"
    assert report.unlabelled_controls == []
    assert report.duplicate_ids == []
    assert report.dangling_references == []
    assert report.title, "every page has a title"
    assert report.title.split(" · ")[0].strip(), "the title names the page, not only the site"


# The checker itself: it must find what it is there to find, or the page tests could never fail. --


class TestChecker:
    def test_reads_language_direction_and_title_but_not_an_svg_title(self):
        report = check_page(
            '<!DOCTYPE html><html lang="ar" dir="rtl"><head><title> Programmes ·\n Site </title></head>'
            "<body><main><svg><title>Chart</title></svg></main></body></html>"
        )
        assert (report.lang, report.dir, report.title, report.main_count) == ("ar", "rtl", "Programmes · Site", 1)

    def test_counts_main_elements_and_role_main(self):
        assert check_page('<main></main><div role="main"></div>').main_count == 2
        assert check_page('<main role="main"></main>').main_count == 1
        assert check_page("<div></div>").main_count == 0

    def test_finds_controls_without_a_label(self):
        report = check_page(
            '<input name="a" id="a"><select name="b"></select><textarea name="c"></textarea>'
            '<input type="checkbox" name="d"><input type="email" name="e" id="e"><label for="other">x</label>'
        )
        assert report.unlabelled_controls == [
            '<input name="a">',
            '<select name="b">',
            '<textarea name="c">',
            '<input name="d">',
            '<input name="e">',
        ]
        assert report.dangling_references == ["other"]

    def test_accepts_every_kind_of_label_and_ignores_buttons_and_hidden_inputs(self):
        report = check_page(
            '<label for="a">A</label><input id="a" name="a">'
            '<label>B <input name="b"></label>'
            '<input name="c" aria-label="C"><span id="dl">D</span><select name="d" aria-labelledby="dl"></select>'
            '<textarea name="e" title="E"></textarea>'
            '<input type="hidden" name="h"><input type="submit"><input type="button"><input type="image">'
            '<input type="reset"><button>Go</button>'
        )
        assert report.unlabelled_controls == []
        assert len(report.controls) == 5

    def test_finds_duplicate_ids_and_the_error_summary(self):
        report = check_page(
            '<div class="error-summary" role="alert"><ul><li><a href="#id_x">X: wrong</a></li></ul></div>'
            '<p id="e">1</p><p id="e">2</p><input id="id_x" name="x" aria-invalid="true" title="X">'
            '<a rel="next" href="?after=B">Next</a>'
        )
        assert report.duplicate_ids == ["e"]
        assert report.has_error_summary
        assert report.error_summary_links == ["#id_x"]
        assert report.invalid_controls == ["x"]
        assert [(link.rel, link.href, link.text) for link in report.links][-1] == ("next", "?after=B", "Next")


# Every page ------------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.name.replace(" ", "-"))
def test_page_opens_and_is_accessible(client, site, page, lang):
    response = open_page(client, site, page, lang)

    assert response.status_code == 200
    assert_accessible(check_page(response.content), lang)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_no_two_pages_share_a_title(client, site, lang):
    titles: dict[str, str] = {}
    for page in PAGES:
        response = open_page(client, site, page, lang)
        assert response.status_code == 200, page.name
        # The same address opened by different people is one page (the dashboard, for instance).
        titles.setdefault(page.url(site, lang), check_page(response.content).title)

    shared: dict[str, list[str]] = {}
    for url, title in titles.items():
        shared.setdefault(title, []).append(url)
    assert {title: urls for title, urls in shared.items() if len(urls) > 1} == {}
    assert len(titles) == 17  # the distinct addresses in PAGES: the crawl really visited them all


# Form pages after a refused POST ----------------------------------------------------------------


@dataclass(frozen=True)
class FormCase:
    name: str
    page: Page
    data: dict | None  # values to post ({agency}, {department} filled in); None: the form as it comes
    invalid_field: str | None  # a field expected to be marked invalid, or None for a form-wide error


FORM_CASES = [
    FormCase("new programme, nothing filled in", Page("", "programmes/new/", "officer"), None, "code"),
    FormCase(
        "edit programme, end before start",
        Page("", "programmes/{programme}/edit/", "officer"),
        {
            "code": "NEGP",
            "name_en": "National e-Government Programme",
            "name_ar": "البرنامج الوطني",
            "sponsor_agency": "{agency}",
            "budget": "1000000",
            "currency": "SAR",
            "start_date": "2026-01-01",
            "end_date": "2025-12-31",
        },
        "end_date",
    ),
    FormCase(
        "new phase, nothing filled in", Page("", "programmes/{programme}/phases/new/", "officer"), None, "name_en"
    ),
    FormCase(
        "edit phase, budget not a number",
        Page("", "phases/{phase}/edit/", "officer"),
        {
            "order": "1",
            "name_en": "Strategy",
            "name_ar": "الاستراتيجية",
            "start_date": "2026-03-01",
            "end_date": "2026-06-30",
            "budget": "a lot",
        },
        "budget",
    ),
    FormCase("new agency, nothing filled in", Page("", "agencies/new/", "administrator"), None, "code"),
    FormCase(
        "edit agency, part of its own department",
        Page("", "agencies/{agency}/edit/", "administrator"),
        {
            "code": "MCIT",
            "name_en": "Ministry of Communications",
            "name_ar": "وزارة الاتصالات",
            "kind": "ministry",
            "parent": "{department}",
            "time_zone": "Asia/Riyadh",
            "is_active": "on",
        },
        "parent",
    ),
    FormCase(
        "sign in, wrong password",
        Page("", "accounts/sign-in/", None),
        {"username": "officer@example.gov", "password": "not-the-password"},
        None,
    ),
]


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("case", FORM_CASES, ids=lambda case: case.name.replace(" ", "-").replace(",", ""))
def test_form_page_after_a_refused_post_keeps_its_labels_and_shows_the_errors(client, site, case, lang):
    before = open_page(client, site, case.page, lang)
    if case.data is None:  # submitted as it comes, without typing anything, as a browser would send it
        data = form_values(before.content)
    else:
        data = {k: v.format(agency=site.agency.pk, department=site.department.pk) for k, v in case.data.items()}

    response = client.post(case.page.url(site, lang), data)

    assert response.status_code == 200
    report = check_page(response.content)
    assert_accessible(report, lang)
    assert report.controls == check_page(before.content).controls, "the same fields are offered again"
    assert report.has_error_summary
    for href in report.error_summary_links:
        assert href.startswith("#") and href[1:] in report.ids, f"summary link {href} leads to its field"
    if case.invalid_field:
        assert case.invalid_field in report.invalid_controls
        assert f"#id_{case.invalid_field}" in report.error_summary_links


def test_a_field_with_two_errors_keeps_its_ids_unique(client, site):
    client.force_login(site.users["officer"])
    response = client.post(
        f"/en/phases/{site.phase.pk}/edit/",
        {
            "order": "1",
            "name_en": "Strategy",
            "name_ar": "الاستراتيجية",
            "start_date": "2029-06-01",
            # Before its own start AND after the programme's end (2028-12-31): two messages on one field.
            "end_date": "2029-03-01",
            "budget": "1",
        },
    )
    assert response.status_code == 200
    text = response.content.decode()
    assert "The end date must be on or after the start date." in text
    assert "The phase cannot end after the programme ends (2028-12-31)." in text
    assert check_page(response.content).duplicate_ids == []


# The language switch ----------------------------------------------------------------------------


def test_language_switch_takes_you_to_the_same_page_in_arabic(client, db):
    response = client.post("/i18n/setlang/", {"language": "ar", "next": "/en/programmes/"})

    assert response.status_code == 302
    assert response["Location"] == "/ar/programmes/"
    page = check_page(client.get(response["Location"]).content)
    assert (page.lang, page.dir) == ("ar", "rtl")


def test_language_switch_back_and_forth_keeps_the_page_and_its_query_string(client, db):
    to_arabic = client.post("/i18n/setlang/", {"language": "ar", "next": "/en/agencies/?kind=department"})
    assert to_arabic["Location"] == "/ar/agencies/?kind=department"

    to_english = client.post("/i18n/setlang/", {"language": "en", "next": to_arabic["Location"]})
    assert to_english.status_code == 302
    assert to_english["Location"] == "/en/agencies/?kind=department"


@pytest.mark.parametrize(
    ("browser_language", "next_url", "language", "expected"),
    [
        ("ar", "/en/programmes/", "ar", "/ar/programmes/"),
        ("en", "/ar/programmes/", "en", "/en/programmes/"),
    ],
    ids=["arabic-browser-on-an-english-link", "english-browser-on-an-arabic-link"],
)
def test_language_switch_works_whatever_language_the_browser_prefers(
    client, db, browser_language, next_url, language, expected
):
    response = client.post(
        "/i18n/setlang/", {"language": language, "next": next_url}, HTTP_ACCEPT_LANGUAGE=browser_language
    )

    assert response.status_code == 302
    assert response["Location"] == expected


# Long lists: bounded queries and keyset pagination ------------------------------------------------


def make_programmes(count: int, start: int = 0) -> None:
    sponsors = [AgencyFactory(code=f"SP{start + i}X") for i in range(3)]
    for i in range(start, start + count):
        ProgrammeFactory(code=f"P{i:03d}", sponsor_agency=sponsors[i % 3])


def make_agencies(count: int, start: int = 0) -> None:
    parent = AgencyFactory(code=f"M{start:03d}Z")
    for i in range(start, start + count - 1):
        AgencyFactory(code=f"A{i:03d}", parent=parent if i % 2 else None, kind=Agency.Kind.DEPARTMENT)


def make_events(count: int, start: int = 0) -> None:
    for i in range(start, start + count):
        audit_event_append(action="test.event", actor_label="system", object_label=f"row {i}", payload={"i": i})


@dataclass(frozen=True)
class ListPage:
    name: str
    path: str
    user: str | None
    make: object
    page_size: int
    row_pattern: str  # captures each row's key in the table body

    def expected_keys(self) -> list[str]:
        if self.name == "programmes":
            return list(Programme.objects.order_by("code").values_list("code", flat=True))
        if self.name == "agencies":
            return list(Agency.objects.order_by("code").values_list("code", flat=True))
        # The auditor's own page views are events too (audit.page_viewed): the list is filtered to the test's.
        events = AuditEvent.objects.filter(action__startswith="test.").order_by("-sequence")
        return [str(s) for s in events.values_list("sequence", flat=True)]


LIST_PAGES = [
    ListPage("programmes", "/en/programmes/", None, make_programmes, 25, r"<tr><td[^>]*>([A-Z0-9-]+)</td>"),
    ListPage("agencies", "/en/agencies/", None, make_agencies, 25, r"<tr><td[^>]*>([A-Z0-9-]+)</td>"),
    ListPage(
        "audit events", "/en/audit/events/?action=test.", "auditor", make_events, 50, r'<tr><td><a href="[^"]*/(\d+)/">'
    ),
]


def rows(response, list_page: ListPage) -> list[str]:
    return re.findall(list_page.row_pattern, response.content.decode())


def link(response, rel: str) -> str | None:
    hrefs = [item.href for item in check_page(response.content).links if item.rel == rel]
    assert len(hrefs) <= 1
    return unescape(hrefs[0]) if hrefs else None


@pytest.mark.parametrize("list_page", LIST_PAGES, ids=lambda item: item.name.replace(" ", "-"))
def test_list_makes_as_many_queries_for_60_rows_as_for_5(client, db, request, list_page, django_assert_max_num_queries):
    if list_page.user:
        client.force_login(request.getfixturevalue(list_page.user))
    list_page.make(5)
    client.get(list_page.path)  # once, so that caches warmed by the first request do not count

    with django_assert_max_num_queries(12) as few:
        response = client.get(list_page.path)
    assert response.status_code == 200
    assert len(rows(response, list_page)) >= 5

    list_page.make(55, start=100)
    with django_assert_max_num_queries(len(few.captured_queries)) as many:
        response = client.get(list_page.path)
    assert response.status_code == 200
    assert len(rows(response, list_page)) == list_page.page_size
    assert len(many.captured_queries) == len(few.captured_queries)


@pytest.mark.parametrize("list_page", LIST_PAGES, ids=lambda item: item.name.replace(" ", "-"))
def test_list_is_paged_without_gaps_or_repeats(client, db, request, list_page):
    if list_page.user:
        client.force_login(request.getfixturevalue(list_page.user))
    list_page.make(60)
    expected = list_page.expected_keys()
    size = list_page.page_size
    assert len(expected) > size

    first = client.get(list_page.path)
    assert rows(first, list_page) == expected[:size]
    assert link(first, "prev") is None
    next_href = link(first, "next")
    assert next_href is not None and next_href.lstrip("?").split("&")[-1].startswith("after=")

    seen = rows(first, list_page)
    url, response = list_page.path, first
    while (next_href := link(response, "next")) is not None:
        url = urljoin(url, next_href)
        response = client.get(url)
        assert response.status_code == 200
        page_rows = rows(response, list_page)
        assert page_rows and not set(page_rows) & set(seen), "no row is shown twice"
        seen += page_rows
    assert seen == expected, "every row is shown once, in order"

    second = client.get(urljoin(list_page.path, link(first, "next")))
    previous = link(second, "prev")
    assert previous is not None and "before=" in previous
    back = client.get(urljoin(list_page.path, previous))
    assert rows(back, list_page) == expected[:size]
    assert link(back, "prev") is None
    assert link(back, "next") == link(first, "next")


def test_paging_keeps_the_filter(client, db):
    for i in range(30):
        AgencyFactory(code=f"D{i:03d}", kind=Agency.Kind.DEPARTMENT)
    AgencyFactory(code="D015A", kind=Agency.Kind.MINISTRY)

    first = client.get("/en/agencies/?kind=department")
    next_href = link(first, "next")
    assert next_href is not None and "kind=department" in next_href
    second = client.get(urljoin("/en/agencies/", next_href))
    assert re.findall(r"<tr><td[^>]*>([A-Z0-9-]+)</td>", second.content.decode()) == [
        f"D{i:03d}" for i in range(25, 30)
    ]
