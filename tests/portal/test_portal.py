"""The public portal, from the side of the public, vendors and officers: which tenders and documents
anyone can see, how the list filters and pages at any size, how a vendor asks a question, what the
feeds and share tags say, and what happens when a stored document no longer matches its fingerprint."""

from __future__ import annotations

import datetime
import re
import zoneinfo
from decimal import Decimal
from html import unescape
from html.parser import HTMLParser
from pathlib import Path
from unittest import mock
from xml.etree import ElementTree

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.roles import Role
from audit.models import AuditEvent
from procurement.models import Clarification, Tender, TenderDocumentDownload
from procurement.models.tenders import AddendumStatus, TenderStatus
from procurement.tender_services import (
    addendum_create,
    clarification_answer,
    clarification_ask,
    tender_document_add,
)
from tests.accounts.factories import UserFactory
from tests.html_checks import check_page, form_values
from tests.procurement.factories import AgencyFactory, PhaseFactory, ProgrammeFactory
from tests.procurement.tender_factories import TenderFactory

PDF = b"%PDF-1.7\n% terms of reference for the portal tests\n%%EOF\n"
RSS = "/en/portal/feeds/tenders.rss"
ATOM_NS = {"atom": "http://www.w3.org/2005/Atom"}

PUBLIC = {
    "MCIT-2026-0001": "published",
    "MCIT-2026-0002": "closed",
    "MCIT-2026-0003": "cancelled after publication",
    "MCIT-2026-0004": "awarded",
}
HIDDEN = {
    "MCIT-2026-0101": "draft",
    "MCIT-2026-0102": "pending approval",
    "MCIT-2026-0103": "returned to draft",
    "MCIT-2026-0104": "cancelled before publication",
}


def tender_url(reference: str, lang: str = "en") -> str:
    return f"/{lang}/portal/tenders/{reference}/"


def list_url(lang: str = "en") -> str:
    return f"/{lang}/portal/tenders/"


def download_url(document, lang: str = "en") -> str:
    return f"/{lang}/portal/documents/{document.pk}/"


def pdf(name: str = "terms.pdf", content: bytes = PDF) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/pdf")


def put_in_state(tender: Tender, status: str, **fields) -> Tender:
    """The status field is protected: move the row directly, as the services would have left it."""
    Tender.objects.filter(pk=tender.pk).update(status=status, **fields)
    tender.refresh_from_db()
    return tender


def deadlines_in_the_past(tender: Tender, now: datetime.datetime | None = None) -> Tender:
    now = now or timezone.now()
    Tender.objects.filter(pk=tender.pk).update(
        clarification_deadline=now - datetime.timedelta(days=20),
        submission_deadline=now - datetime.timedelta(days=10),
        opening_time=now - datetime.timedelta(days=10) + datetime.timedelta(hours=1),
    )
    tender.refresh_from_db()
    return tender


def parse_feed(response) -> ElementTree.Element:
    """Parse a feed this site just wrote (it fails the test if the XML is not well formed)."""
    return ElementTree.fromstring(response.content)  # noqa: S314  (our own output, not untrusted input)


def text(response) -> str:
    return response.content.decode()


def references_in(html: str) -> list[str]:
    """Tender references in the order the page lists them (each row links to its tender)."""
    return re.findall(r'href="/(?:en|ar)/portal/tenders/([A-Z0-9-]+)/"', html)


def sections(html: str) -> tuple[str, str]:
    """The part of the list page about tenders open for bids, and the part about the others."""
    open_part, other_part = html.split('id="other-heading"', 1)
    return open_part.split('id="open-heading"', 1)[1], other_part


def open_and_other(html: str) -> tuple[list[str], list[str]]:
    open_part, other_part = sections(html)
    return references_in(open_part), references_in(other_part)


def link_in_section(html: str, section: int, rel: str) -> str | None:
    found = re.findall(rf'<a rel="{rel}" href="([^"]+)"', sections(html)[section])
    assert len(found) <= 1
    return list_url() + unescape(found[0]) if found else None


@pytest.fixture
def phase(programme):
    return PhaseFactory(programme=programme, order=1, name_en="Unified portal", name_ar="البوابة الموحدة")


@pytest.fixture
def make_tender(officer, agency, phase):
    """A draft of the MCIT ministry, prepared by its officer, with valid deadlines from now."""

    def make(reference: str, **fields) -> Tender:
        fields.setdefault("agency", agency)
        fields.setdefault("phase", phase)
        fields.setdefault("created_by", officer)
        return TenderFactory(reference=reference, **fields)

    return make


@pytest.fixture
def add_document(officer):
    def add(tender: Tender, *, title: str = "Terms of reference", name: str = "terms.pdf", content: bytes = PDF):
        return tender_document_add(actor=officer, tender=tender, uploaded_file=pdf(name, content), title=title)

    return add


@pytest.fixture
def catalogue(make_tender, add_document):
    """One tender in each state the public may or may not see, each with a document added as a draft."""
    now = timezone.now()
    published_at = now - datetime.timedelta(days=1)
    tenders, documents = {}, {}
    for reference in [*PUBLIC, *HIDDEN]:
        tender = make_tender(reference)
        documents[reference] = add_document(tender)
        tenders[reference] = tender
    put_in_state(tenders["MCIT-2026-0001"], TenderStatus.PUBLISHED, published_at=published_at)
    deadlines_in_the_past(tenders["MCIT-2026-0002"])
    put_in_state(tenders["MCIT-2026-0002"], TenderStatus.CLOSED, published_at=now - datetime.timedelta(days=40))
    put_in_state(
        tenders["MCIT-2026-0003"],
        TenderStatus.CANCELLED,
        published_at=now - datetime.timedelta(days=2),
        cancellation_reason="The ministry withdrew the budget line.",
    )
    put_in_state(tenders["MCIT-2026-0004"], TenderStatus.AWARDED, published_at=now - datetime.timedelta(days=90))
    put_in_state(tenders["MCIT-2026-0102"], TenderStatus.PENDING_APPROVAL)
    put_in_state(tenders["MCIT-2026-0103"], TenderStatus.DRAFT, return_comments="Fix the criteria.")
    put_in_state(tenders["MCIT-2026-0104"], TenderStatus.CANCELLED, cancellation_reason="Not needed.")
    return tenders, documents


@pytest.fixture
def open_tender(catalogue):
    tenders, documents = catalogue
    return tenders["MCIT-2026-0001"]


@pytest.fixture
def no_role_user(db):
    return UserFactory(email="citizen@example.com", full_name="A Citizen")


# Who sees what ------------------------------------------------------------------------------------


class TestVisibility:
    @pytest.mark.parametrize("who", ["anonymous", "vendor_user"])
    def test_the_list_shows_every_public_tender_and_no_other(self, request, client, catalogue, who):
        if who != "anonymous":
            client.force_login(request.getfixturevalue(who))
        shown = set(references_in(text(client.get(list_url()))))
        assert shown == set(PUBLIC)

    @pytest.mark.parametrize("reference", list(PUBLIC))
    def test_a_public_tender_has_its_page(self, client, catalogue, reference):
        response = client.get(tender_url(reference))
        assert response.status_code == 200
        assert f"<title>{reference} — " in text(response)

    @pytest.mark.parametrize("reference", list(HIDDEN))
    @pytest.mark.parametrize("who", ["anonymous", "vendor_user", "no_role_user"])
    def test_a_tender_never_published_is_the_same_404_as_one_that_does_not_exist(
        self, request, client, catalogue, reference, who
    ):
        if who != "anonymous":
            client.force_login(request.getfixturevalue(who))

        def normalised(ref: str) -> tuple[int, str]:
            response = client.get(tender_url(ref))
            html = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", text(response))
            return response.status_code, html.replace(ref, "REFERENCE")

        hidden = normalised(reference)
        assert hidden[0] == 404
        assert "<title>Page not found" in hidden[1]
        assert hidden == normalised("MCIT-2026-9999")

    def test_a_cancelled_tender_shows_the_reason(self, client, catalogue):
        page = text(client.get(tender_url("MCIT-2026-0003")))
        assert "This tender was cancelled" in page
        assert "The ministry withdrew the budget line." in page

    @pytest.mark.parametrize("reference", list(HIDDEN))
    @pytest.mark.parametrize("who", ["anonymous", "vendor_user", "other_officer"])
    def test_documents_of_unpublished_tenders_are_404(self, request, client, catalogue, reference, who):
        tenders, documents = catalogue
        if who != "anonymous":
            client.force_login(request.getfixturevalue(who))
        assert client.get(download_url(documents[reference])).status_code == 404
        assert not TenderDocumentDownload.objects.exists()

    @pytest.mark.parametrize("reference", list(HIDDEN))
    def test_the_agency_officer_downloads_documents_of_unpublished_tenders(self, client, officer, catalogue, reference):
        tenders, documents = catalogue
        client.force_login(officer)
        response = client.get(download_url(documents[reference]))
        assert response.status_code == 200
        assert b"".join(response.streaming_content) == PDF

    @pytest.mark.parametrize("reference", list(PUBLIC))
    def test_anyone_downloads_documents_of_public_tenders(self, client, catalogue, reference):
        tenders, documents = catalogue
        response = client.get(download_url(documents[reference]))
        assert response.status_code == 200
        assert b"".join(response.streaming_content) == PDF


# The tender page ----------------------------------------------------------------------------------


class TestTenderPage:
    def test_it_says_what_is_bought_by_whom_and_how_bids_are_judged(self, client, make_tender, add_document):
        tender = make_tender(
            "MCIT-2026-0042",
            title_en="National contact centre",
            title_ar="مركز الاتصال الوطني",
            estimated_value=Decimal("1250000.00"),
            method="restricted",
            category="services",
            technical_weight=Decimal("80"),
            financial_weight=Decimal("20"),
            pass_mark=Decimal("65"),
        )
        tender.criteria.create(order=1, name_en="Approach", name_ar="المنهجية", weight=Decimal("55"))
        tender.criteria.create(order=2, name_en="Staffing plan", name_ar="خطة التوظيف", weight=Decimal("45"))
        document = add_document(tender, title="Terms of reference", name="tor-v1.pdf")
        put_in_state(tender, TenderStatus.PUBLISHED, published_at=timezone.now())

        page = text(client.get(tender_url(tender.reference)))
        assert "<h1>National contact centre</h1>" in page
        for expected in (
            "MCIT-2026-0042",
            "Ministry of Communications",
            "Unified portal",
            tender.phase.programme.name_en,
            "Restricted to prequalified vendors",
            "Services",
            "1,250,000.00 SAR",
            "Quality- and cost-based",
            "80%",
            "20%",
            "65 out of 100",
            "Approach",
            "55%",
            "Staffing plan",
            "45%",
            "tor-v1.pdf",
            document.sha256,
            download_url(document),
            "Published",
        ):
            assert expected in page, expected

        arabic = text(client.get(tender_url(tender.reference, "ar")))
        assert "<h1>مركز الاتصال الوطني</h1>" in arabic
        assert "خطة التوظيف" in arabic

    def test_times_are_shown_in_the_viewer_time_zone_with_the_offset(self, client, open_tender):
        deadline = open_tender.submission_deadline
        riyadh = deadline.astimezone(zoneinfo.ZoneInfo(settings.DISPLAY_TIME_ZONE))
        page = text(client.get(tender_url(open_tender.reference)))
        assert f'{riyadh:%Y-%m-%d %H:%M} <span class="meta">(UTC{riyadh:%z})</span>' in page

        in_dubai = UserFactory(agency=AgencyFactory(code="DXB", time_zone="Asia/Dubai"))
        client.force_login(in_dubai)
        dubai = deadline.astimezone(zoneinfo.ZoneInfo("Asia/Dubai"))
        page = text(client.get(tender_url(open_tender.reference)))
        assert f'{dubai:%Y-%m-%d %H:%M} <span class="meta">(UTC+0400)</span>' in page

    def test_addenda_documents_appear_only_once_issued_and_replace_earlier_versions(
        self, client, officer, make_tender, add_document
    ):
        tender = make_tender("MCIT-2026-0050")
        first = add_document(tender, title="Terms of reference", name="tor-v1.pdf")
        tender = put_in_state(tender, TenderStatus.PUBLISHED, published_at=timezone.now())

        issued = addendum_create(
            actor=officer,
            tender=tender,
            data={"summary_en": "Section 4 rewritten.", "summary_ar": "أعيدت كتابة القسم 4."},
            files=[("Terms of reference", pdf("tor-v2.pdf", PDF + b"% version 2\n"))],
        )
        pending = addendum_create(
            actor=officer,
            tender=tender,
            data={
                "summary_en": "Value raised (awaiting the committee).",
                "summary_ar": "رفع القيمة.",
                "new_estimated_value": Decimal("900000.00"),
            },
            files=[("Price schedule", pdf("prices-draft.pdf", PDF + b"% draft prices\n"))],
        )
        assert issued.status == AddendumStatus.ISSUED
        assert pending.status == AddendumStatus.PENDING_APPROVAL
        second = issued.documents.get()
        unissued = pending.documents.get()

        page = text(client.get(tender_url(tender.reference)))
        current, earlier = page.split("Earlier versions (replaced)", 1)
        assert "tor-v2.pdf" in current and "tor-v1.pdf" not in current
        assert "tor-v1.pdf" in earlier and "Replaced" in earlier and "Addendum 1" in earlier
        assert "Section 4 rewritten." in page
        assert "prices-draft.pdf" not in page
        assert "Value raised" not in page
        assert client.get(download_url(first)).status_code == 200
        assert client.get(download_url(second)).status_code == 200
        assert client.get(download_url(unissued)).status_code == 404

        client.force_login(officer)
        assert client.get(download_url(unissued)).status_code == 200


# Filters, order and pages -------------------------------------------------------------------------


def _local_noon(days_from_today: int) -> datetime.datetime:
    zone = zoneinfo.ZoneInfo(settings.DISPLAY_TIME_ZONE)
    day = timezone.localdate(timezone=zone) + datetime.timedelta(days=days_from_today)
    return datetime.datetime.combine(day, datetime.time(12), tzinfo=zone)


def _with_deadline(make_tender, reference: str, days: int, **fields) -> Tender:
    submission = _local_noon(days)
    return make_tender(
        reference,
        clarification_deadline=submission - datetime.timedelta(days=10),
        submission_deadline=submission,
        opening_time=submission + datetime.timedelta(hours=1),
        **fields,
    )


@pytest.fixture
def three_tenders(make_tender, other_agency):
    """A: MCIT fibre, goods, open method, 100,000, closes in 30 days.
    B: MOH contact centre, services, restricted, 2,000,000, closes in 60 days, another programme's phase.
    C: MCIT skills training, consulting, 500,000, closed 5 days ago."""
    now = timezone.now()
    a = _with_deadline(
        make_tender,
        "MCIT-2026-0201",
        30,
        title_en="Fibre backbone",
        title_ar="العمود الفقري للألياف",
        category="goods",
        estimated_value=Decimal("100000.00"),
    )
    moh_phase = PhaseFactory(programme=ProgrammeFactory(code="HEALTH", sponsor_agency=other_agency))
    b = _with_deadline(
        make_tender,
        "MOH-2026-0001",
        60,
        agency=other_agency,
        phase=moh_phase,
        title_en="Contact centre operation",
        title_ar="تشغيل مركز الاتصال",
        category="services",
        method="restricted",
        estimated_value=Decimal("2000000.00"),
    )
    c = _with_deadline(
        make_tender,
        "MCIT-2026-0203",
        -5,
        title_en="Digital skills training",
        title_ar="التدريب على المهارات الرقمية",
        category="consultingServices",
        estimated_value=Decimal("500000.00"),
    )
    put_in_state(a, TenderStatus.PUBLISHED, published_at=now)
    put_in_state(b, TenderStatus.PUBLISHED, published_at=now)
    put_in_state(c, TenderStatus.CLOSED, published_at=now - datetime.timedelta(days=40))
    return {"A": a, "B": b, "C": c}


class TestFilters:
    @pytest.mark.parametrize(
        ("query", "expected"),
        [
            ({}, "ABC"),
            ({"status": "closed"}, "C"),
            ({"status": "published"}, "AB"),
            ({"agency": "MOH"}, "B"),
            ({"method": "restricted"}, "B"),
            ({"category": "consultingServices"}, "C"),
            ({"value_min": "400000"}, "BC"),
            ({"value_max": "600000"}, "AC"),
            ({"value_min": "400000", "value_max": "600000"}, "C"),
            ({"q": "MOH-2026"}, "B"),
            ({"q": "contact CENTRE"}, "B"),
            ({"q": "الفقري"}, "A"),
            ({"agency": "MCIT", "category": "goods"}, "A"),
        ],
    )
    def test_each_filter(self, client, three_tenders, query, expected):
        shown = set(references_in(text(client.get(list_url(), query))))
        assert shown == {three_tenders[key].reference for key in expected}

    def test_phase_filter(self, client, three_tenders):
        query = {"phase": three_tenders["B"].phase_id}
        assert references_in(text(client.get(list_url(), query))) == ["MOH-2026-0001"]

    def test_closing_date_range_is_read_in_the_viewer_time_zone(self, client, three_tenders):
        day_of_a = _local_noon(30).date().isoformat()
        assert set(references_in(text(client.get(list_url(), {"closing_from": day_of_a})))) == {
            "MCIT-2026-0201",
            "MOH-2026-0001",
        }
        assert set(references_in(text(client.get(list_url(), {"closing_to": day_of_a})))) == {
            "MCIT-2026-0201",
            "MCIT-2026-0203",
        }
        only_a = {"closing_from": day_of_a, "closing_to": day_of_a}
        assert references_in(text(client.get(list_url(), only_a))) == ["MCIT-2026-0201"]

    def test_a_status_that_is_not_public_is_refused_and_reveals_nothing(self, client, three_tenders, make_tender):
        make_tender("MCIT-2026-0999")  # a draft
        response = client.get(list_url(), {"status": "draft"})
        assert response.status_code == 200
        assert "MCIT-2026-0999" not in text(response)
        assert 'class="error"' in text(response)

    def test_open_tenders_come_first_closing_soonest_then_the_rest_newest_first(self, client, make_tender):
        now = timezone.now()
        later = _with_deadline(make_tender, "OPEN-LATER", 40)
        sooner = _with_deadline(make_tender, "OPEN-SOONER", 25)
        old = _with_deadline(make_tender, "CLOSED-OLD", -30)
        new = _with_deadline(make_tender, "CLOSED-NEW", -3)
        # Published, but its deadline has passed before the scheduler closed it: no longer open for bids.
        overdue = _with_deadline(make_tender, "PUBLISHED-OVERDUE", -1)
        for tender in (later, sooner, overdue):
            put_in_state(tender, TenderStatus.PUBLISHED, published_at=now)
        for tender in (old, new):
            put_in_state(tender, TenderStatus.CLOSED, published_at=now)

        open_refs, other_refs = open_and_other(text(client.get(list_url())))
        assert open_refs == ["OPEN-SOONER", "OPEN-LATER"]
        assert other_refs == ["PUBLISHED-OVERDUE", "CLOSED-NEW", "CLOSED-OLD"]

    def test_keyset_pages_neither_skip_nor_repeat_tenders_that_share_a_deadline(self, client, officer, phase, agency):
        now = timezone.now()
        deadlines = [_local_noon(days) for days in (30, 31, 32)]
        created = []
        for number in range(32):
            submission = deadlines[number % 3]
            created.append(
                TenderFactory(
                    reference=f"OPEN-{number:03d}",
                    agency=agency,
                    phase=phase,
                    created_by=officer,
                    clarification_deadline=submission - datetime.timedelta(days=10),
                    submission_deadline=submission,
                    opening_time=submission,
                )
            )
        for number in range(27):
            created.append(
                TenderFactory(reference=f"DONE-{number:03d}", agency=agency, phase=phase, created_by=officer)
            )
        Tender.objects.filter(reference__startswith="OPEN-").update(status=TenderStatus.PUBLISHED, published_at=now)
        Tender.objects.filter(reference__startswith="DONE-").update(status=TenderStatus.AWARDED, published_at=now)
        expected_open = [t.reference for t in sorted(created[:32], key=lambda t: (t.submission_deadline, t.pk))]
        expected_other = [t.reference for t in sorted(created[32:], key=lambda t: -t.pk)]

        def walk(section: int) -> tuple[list[str], list[str]]:
            """Follow one list's "Next" links from the first page to the last."""
            seen, pages, url = [], [], list_url()
            while url:
                html = text(client.get(url))
                pages.append(url)
                seen.extend(open_and_other(html)[section])
                url = link_in_section(html, section, "next")
            return seen, pages

        open_seen, open_pages = walk(0)
        assert open_seen == expected_open
        assert len(open_pages) == 2
        other_seen, other_pages = walk(1)
        assert other_seen == expected_other
        assert len(other_pages) == 2

        # "Previous" from the second page of open tenders gives back the first page.
        second = text(client.get(open_pages[1]))
        previous = link_in_section(second, 0, "prev")
        assert open_and_other(text(client.get(previous)))[0] == expected_open[:25]

    @pytest.mark.parametrize("cursor", ["nonsense", "12.x", "1.2.3", "-5"])
    def test_a_broken_cursor_gives_the_first_page(self, client, three_tenders, cursor):
        response = client.get(list_url(), {"open_after": cursor, "after": cursor, "before": cursor})
        assert response.status_code == 200
        assert set(references_in(text(response))) == {"MCIT-2026-0201", "MOH-2026-0001", "MCIT-2026-0203"}


class TestQueryCount:
    def _create(self, count: int, *, officer, agency, phase, start: int) -> None:
        now = timezone.now()
        for number in range(start, start + count):
            tender = TenderFactory(reference=f"BULK-{number:04d}", agency=agency, phase=phase, created_by=officer)
            status = TenderStatus.PUBLISHED if number % 2 else TenderStatus.CLOSED
            Tender.objects.filter(pk=tender.pk).update(status=status, published_at=now)

    @pytest.mark.parametrize("query", [{}, {"agency": "MCIT", "q": "BULK", "value_min": "1"}])
    @pytest.mark.parametrize("who", ["anonymous", "vendor_user"])
    def test_the_list_costs_the_same_queries_at_5_and_at_200_tenders(
        self, request, client, django_assert_max_num_queries, officer, agency, phase, query, who
    ):
        # Two lists, the agency and phase choices, and the agency looked up by its code when filtered;
        # signed in: also the session, the user, their roles and the unread-notifications badge.
        limit = 5 if who == "anonymous" else 9
        if who != "anonymous":
            client.force_login(request.getfixturevalue(who))
        self._create(5, officer=officer, agency=agency, phase=phase, start=0)
        with django_assert_max_num_queries(limit), CaptureQueriesContext(connection) as small:
            assert client.get(list_url(), query).status_code == 200
        self._create(195, officer=officer, agency=agency, phase=phase, start=5)
        with django_assert_max_num_queries(limit), CaptureQueriesContext(connection) as large:
            response = client.get(list_url(), query)
        assert len(references_in(text(response))) == 50  # a page of each list
        assert len(small.captured_queries) == len(large.captured_queries)
        for executed in large.captured_queries:
            sql = executed["sql"].upper()
            assert " OFFSET " not in sql
            assert "COUNT(" not in sql or "NOTIFICATION" in sql


# Questions ----------------------------------------------------------------------------------------


class TestQuestions:
    def ask(self, client, tender, question="Can the data centre be outside the capital?"):
        return client.post(f"/en/portal/tenders/{tender.reference}/questions/", {"question": question})

    def test_a_vendor_asks_before_the_clarification_deadline(self, client, vendor_user, open_tender):
        client.force_login(vendor_user)
        page = text(client.get(tender_url(open_tender.reference)))
        assert '<textarea name="question"' in page

        response = self.ask(client, open_tender)
        assert response.status_code == 302
        assert response["Location"] == tender_url(open_tender.reference) + "#questions"
        clarification = Clarification.objects.get(tender=open_tender)
        assert clarification.asked_by == vendor_user
        assert clarification.question == "Can the data centre be outside the capital?"
        assert "was sent as question 1" in text(client.get(response["Location"]))

    def test_after_the_deadline_the_question_is_refused_with_a_message_and_kept(self, client, vendor_user, open_tender):
        client.force_login(vendor_user)
        after_deadline = open_tender.clarification_deadline + datetime.timedelta(seconds=1)
        with mock.patch("procurement.tender_services._now", return_value=after_deadline):
            response = self.ask(client, open_tender, "A question typed at the last second?")
        assert response.status_code == 200
        page = text(response)
        assert "Questions on this tender closed at its clarification deadline." in page
        report = check_page(page)
        assert report.has_error_summary
        assert form_values(page)["question"] == ["A question typed at the last second?"]
        assert not Clarification.objects.exists()

    def test_when_the_deadline_has_passed_the_page_offers_no_form_and_a_post_is_refused(
        self, client, vendor_user, open_tender
    ):
        deadlines_in_the_past(open_tender)
        client.force_login(vendor_user)
        page = text(client.get(tender_url(open_tender.reference)))
        assert "<textarea" not in page
        assert "Questions on this tender are closed." in page
        response = self.ask(client, open_tender)
        assert "Questions on this tender closed at its clarification deadline." in text(response)
        assert not Clarification.objects.exists()

    def test_an_empty_question_is_explained(self, client, vendor_user, open_tender):
        client.force_login(vendor_user)
        response = self.ask(client, open_tender, "   ")
        assert response.status_code == 200
        assert check_page(response.content).has_error_summary
        assert not Clarification.objects.exists()

    def test_visitors_are_asked_to_sign_in_as_a_vendor(self, client, open_tender):
        page = text(client.get(tender_url(open_tender.reference)))
        assert "Sign in as a vendor to ask a question." in page
        assert "<textarea" not in page
        response = self.ask(client, open_tender)
        assert response.status_code == 302
        assert response["Location"].startswith("/en/accounts/sign-in/")
        assert not Clarification.objects.exists()

    @pytest.mark.parametrize("who", ["no_role_user", "committee_member"])
    def test_someone_who_is_not_a_vendor_cannot_ask(self, request, client, open_tender, who):
        client.force_login(request.getfixturevalue(who))
        assert "<textarea" not in text(client.get(tender_url(open_tender.reference)))
        assert self.ask(client, open_tender).status_code == 403
        assert not Clarification.objects.exists()

    def test_a_question_about_an_unpublished_tender_is_404(self, client, vendor_user, catalogue):
        tenders, documents = catalogue
        client.force_login(vendor_user)
        assert self.ask(client, tenders["MCIT-2026-0101"]).status_code == 404
        assert client.get(f"/en/portal/tenders/{'MCIT-2026-0001'}/questions/").status_code == 405

    def test_only_answered_questions_are_published_and_never_who_asked(self, client, officer, open_tender):
        asker = UserFactory(
            email="ayesha.rahman@falcon-systems.example",
            full_name="Ayesha Rahman",
            full_name_ar="عائشة رحمن",
            roles=[Role.VENDOR_USER],
        )
        answered = clarification_ask(actor=asker, tender=open_tender, question="Is a consortium allowed?")
        clarification_ask(actor=asker, tender=open_tender, question="What is the hidden budget?")
        clarification_answer(actor=officer, clarification=answered, answer="Yes, with a lead member named.")

        another_vendor = UserFactory(roles=[Role.VENDOR_USER])
        for login in (None, another_vendor):
            if login:
                client.force_login(login)
            for lang in ("en", "ar"):
                page = text(client.get(tender_url(open_tender.reference, lang)))
                assert "Is a consortium allowed?" in page
                assert "Yes, with a lead member named." in page
                assert "What is the hidden budget?" not in page
                for identity in ("ayesha", "Ayesha Rahman", "عائشة", "falcon-systems"):
                    assert identity not in page


# Documents ----------------------------------------------------------------------------------------


class TestDownload:
    def test_the_file_is_sent_as_an_attachment_with_its_fingerprint(self, client, catalogue):
        tenders, documents = catalogue
        document = documents["MCIT-2026-0001"]
        response = client.get(download_url(document))
        assert response.status_code == 200
        assert response["Content-Type"] == "application/pdf"
        assert response["Content-Disposition"] == 'attachment; filename="terms.pdf"'
        assert response["X-Content-SHA256"] == document.sha256
        assert b"".join(response.streaming_content) == PDF
        assert not TenderDocumentDownload.objects.exists()  # nobody to tell about addenda

    def test_a_signed_in_download_is_recorded_so_they_hear_of_addenda(self, client, vendor_user, catalogue):
        tenders, documents = catalogue
        client.force_login(vendor_user)
        response = client.get(download_url(documents["MCIT-2026-0001"]))
        b"".join(response.streaming_content)
        download = TenderDocumentDownload.objects.get()
        assert (download.user, download.document, download.tender) == (
            vendor_user,
            documents["MCIT-2026-0001"],
            tenders["MCIT-2026-0001"],
        )

    def test_a_tampered_file_is_refused_and_audited(self, client, vendor_user, catalogue):
        tenders, documents = catalogue
        document = documents["MCIT-2026-0001"]
        Path(document.file.path).write_bytes(b"%PDF-1.7\n% altered after publication\n")
        client.force_login(vendor_user)

        response = client.get(download_url(document))
        assert response.status_code == 409
        assert not response.has_header("Content-Disposition")
        assert "This document cannot be downloaded" in text(response)
        assert not TenderDocumentDownload.objects.exists()
        event = AuditEvent.objects.get(action="tender.document_integrity_failed")
        assert event.actor == vendor_user
        assert event.tender_id == document.tender_id
        assert event.payload["document_id"] == document.pk
        assert event.payload["expected_sha256"] == document.sha256
        assert event.payload["found_sha256"] not in ("", document.sha256)

    def test_a_missing_file_is_refused_and_audited(self, client, catalogue):
        tenders, documents = catalogue
        document = documents["MCIT-2026-0002"]
        Path(document.file.path).unlink()
        response = client.get(download_url(document))
        assert response.status_code == 410
        event = AuditEvent.objects.get(action="tender.document_integrity_failed")
        assert event.actor is None
        assert event.payload["problem"] == "missing"

    def test_an_unknown_document_is_404(self, client, db):
        assert client.get("/en/portal/documents/999999/").status_code == 404


# Feeds --------------------------------------------------------------------------------------------


class TestFeeds:
    def test_the_rss_feed_lists_published_tenders_newest_first_with_their_links(self, client, catalogue):
        response = client.get(RSS)
        assert response.status_code == 200
        assert response["Content-Type"].startswith("application/rss+xml")
        channel = parse_feed(response).find("channel")
        items = channel.findall("item")
        links = [item.findtext("link") for item in items]
        assert links == [
            f"http://testserver{tender_url(reference)}"
            for reference in ("MCIT-2026-0001", "MCIT-2026-0003", "MCIT-2026-0002", "MCIT-2026-0004")
        ]
        first = items[0]
        assert first.findtext("title").startswith("MCIT-2026-0001 — ")
        description = first.findtext("description")
        assert "Ministry of Communications" in description
        assert "250,000.00 SAR" in description
        assert "(UTC+0300)" in description
        assert not any(reference in response.content.decode() for reference in HIDDEN)

    def test_the_atom_feed_is_valid_and_links_to_the_public_page(self, client, catalogue):
        response = client.get("/en/portal/feeds/tenders.atom")
        assert response["Content-Type"].startswith("application/atom+xml")
        feed = parse_feed(response)
        entries = feed.findall("atom:entry", ATOM_NS)
        assert len(entries) == len(PUBLIC)
        hrefs = [entry.find("atom:link", ATOM_NS).get("href") for entry in entries]
        assert f"http://testserver{tender_url('MCIT-2026-0001')}" in hrefs

    def test_the_feed_is_in_the_page_language(self, client, catalogue):
        tenders, documents = catalogue
        root = parse_feed(client.get("/ar/portal/feeds/tenders.rss"))
        titles = [item.findtext("title") for item in root.iter("item")]
        assert f"MCIT-2026-0001 — {tenders['MCIT-2026-0001'].title_ar}" in titles
        assert root.find("channel").findtext("language") == "ar"

    def test_the_feed_holds_the_50_latest(self, client, officer, agency, phase):
        now = timezone.now()
        for number in range(55):
            tender = TenderFactory(reference=f"FEED-{number:03d}", agency=agency, phase=phase, created_by=officer)
            put_in_state(tender, TenderStatus.PUBLISHED, published_at=now - datetime.timedelta(minutes=number))
        items = parse_feed(client.get(RSS)).find("channel").findall("item")
        assert len(items) == 50
        assert items[0].findtext("title").startswith("FEED-000 ")
        assert items[-1].findtext("title").startswith("FEED-049 ")

    @pytest.mark.parametrize("suffix", ["rss", "atom"])
    def test_an_agency_feed_holds_only_that_agency(self, client, three_tenders, suffix):
        response = client.get(f"/en/portal/feeds/agencies/MOH/tenders.{suffix}")
        assert response.status_code == 200
        parse_feed(response)
        body = response.content.decode()
        assert "MOH-2026-0001" in body
        assert "MCIT-2026-0201" not in body and "MCIT-2026-0203" not in body
        assert client.get(f"/en/portal/feeds/agencies/NOPE/tenders.{suffix}").status_code == 404

    def test_the_list_page_announces_the_feeds(self, client, three_tenders):
        head = text(client.get(list_url(), {"agency": "MOH"})).split("</head>", 1)[0]
        assert '<link rel="alternate" type="application/rss+xml"' in head
        assert 'href="/en/portal/feeds/tenders.rss"' in head
        assert 'type="application/atom+xml"' in head and 'href="/en/portal/feeds/tenders.atom"' in head
        assert 'href="/en/portal/feeds/agencies/MOH/tenders.rss"' in head


# Sharing and page quality -------------------------------------------------------------------------


class _HeadTags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.meta: dict[str, list[str]] = {}
        self.links: list[dict[str, str]] = []

    def handle_starttag(self, tag, attrs):
        values = dict(attrs)
        if tag == "meta" and (values.get("property") or values.get("name")):
            self.meta.setdefault(values.get("property") or values["name"], []).append(values.get("content", ""))
        elif tag == "link":
            self.links.append(values)


def head_tags(html: str) -> _HeadTags:
    parser = _HeadTags()
    parser.feed(html.split("</head>", 1)[0])
    return parser


class TestSharing:
    @pytest.mark.parametrize(("lang", "locale", "alternate"), [("en", "en_US", "ar_AR"), ("ar", "ar_AR", "en_US")])
    def test_open_graph_twitter_and_canonical(self, client, open_tender, lang, locale, alternate):
        tags = head_tags(text(client.get(tender_url(open_tender.reference, lang))))
        absolute = f"http://testserver{tender_url(open_tender.reference, lang)}"
        title = open_tender.title_ar if lang == "ar" else open_tender.title_en
        assert tags.meta["og:title"] == [f"{open_tender.reference} — {title}"]
        assert tags.meta["og:type"] == ["website"]
        assert tags.meta["og:url"] == [absolute]
        assert tags.meta["og:locale"] == [locale]
        assert tags.meta["og:locale:alternate"] == [alternate]
        assert tags.meta["og:description"][0]
        assert tags.meta["twitter:card"] == ["summary"]
        assert [link["href"] for link in tags.links if link.get("rel") == "canonical"] == [absolute]


@pytest.fixture
def tampered(catalogue):
    tenders, documents = catalogue
    document = documents["MCIT-2026-0004"]
    Path(document.file.path).write_bytes(b"%PDF-1.7\n% replaced\n")
    return document


@pytest.mark.parametrize("lang", ["en", "ar"])
def test_every_portal_page_is_complete_accessible_and_free_of_inline_code(client, catalogue, tampered, lang):
    tenders, documents = catalogue
    vendor = UserFactory(roles=[Role.VENDOR_USER])
    pages = [
        (None, list_url(lang), 200),
        (None, list_url(lang) + "?status=draft&value_min=abc", 200),
        (None, tender_url("MCIT-2026-0001", lang), 200),
        (None, tender_url("MCIT-2026-0003", lang), 200),
        (vendor, tender_url("MCIT-2026-0001", lang), 200),
        (None, download_url(tampered, lang), 409),
    ]
    titles = set()
    for user, url, status in pages:
        if user is None:
            client.logout()
        else:
            client.force_login(user)
        response = client.get(url)
        assert response.status_code == status, url
        html = text(response)
        report = check_page(html)
        assert report.lang == lang and report.dir == ("rtl" if lang == "ar" else "ltr"), url
        assert report.main_count == 1, url
        assert html.count("<h1") == 1, url
        assert report.unlabelled_controls == [], url
        assert report.duplicate_ids == [], url
        assert report.dangling_references == [], url
        assert "<script" not in html and " style=" not in html and "<style" not in html, url
        titles.add(report.title)
    # The list twice (filtered or not) and one tender page twice (anonymous or not): four pages, four titles.
    assert len(titles) == 4
