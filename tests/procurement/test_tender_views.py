"""The officers' tender pages, from the side of the people who use them and of those who should not:
who may open each page and take each action, what the list shows and how fast, how mistakes are explained
without losing what was typed, the whole path from a draft to a published tender, and the workflow diagram
that is drawn from the code."""

from __future__ import annotations

import datetime
import hashlib
import re
import zoneinfo
from dataclasses import dataclass
from decimal import Decimal
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest
from django.conf.urls.i18n import i18n_patterns
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.http import HttpResponse
from django.test.utils import CaptureQueriesContext
from django.urls import NoReverseMatch, include, path, reverse
from django.utils import timezone
from django_fsm import Transition

from accounts.roles import Role
from audit.models import AuditEvent
from core.views import set_language
from procurement import tender_services
from procurement.models import Addendum, Tender, TenderDocument
from procurement.models.tenders import AddendumStatus, TenderStatus
from procurement.workflow import tender_timeline, workflow_graph, workflow_mermaid
from tests.accounts.factories import UserFactory
from tests.audit.helpers import assert_refusal_logged_if_auditor, record_events
from tests.html_checks import check_page, form_values
from tests.procurement.factories import PhaseFactory, ProgrammeFactory
from tests.procurement.tender_factories import (
    PDF_BYTES,
    TenderFactory,
    make_pending,
    make_published,
    pdf_upload,
    set_status,
    with_committee,
    with_criteria,
    with_document,
)

pytestmark = pytest.mark.django_db

RIYADH = zoneinfo.ZoneInfo("Asia/Riyadh")  # the agencies' time zone in these tests (the factory's default)
DAY = datetime.timedelta(days=1)


# A URL configuration for the one test that needs the portal's download page (the portal app is not
# ours to write): the real site's URLs, with a portal that has only that page.
def _download(request, pk):
    return HttpResponse(b"")


urlpatterns = [path("i18n/setlang/", set_language, name="set_language")] + i18n_patterns(
    path("", include("core.urls")),
    path("accounts/", include("accounts.urls")),
    path("", include("procurement.urls")),
    path("notifications/", include("notifications.urls")),
    path("portal/", include(([path("documents/<int:pk>/", _download, name="document_download")], "portal"))),
    prefix_default_language=True,
)


# The tenders the pages are tried on ------------------------------------------------------------------


@pytest.fixture
def phase(programme):
    """Phase 1 of the NEGP programme, sponsored by MCIT (the officer's agency); the approver steers it."""
    return PhaseFactory(programme=programme, order=1, name_en="Unified portal", name_ar="البوابة الموحدة")


def ready(tender: Tender) -> Tender:
    with_criteria(tender)
    with_document(tender)
    return tender


@pytest.fixture
def draft(phase, officer):
    return ready(TenderFactory(phase=phase, created_by=officer, title_en="Portal build", title_ar="بناء البوابة"))


@pytest.fixture
def pending(phase, officer):
    return make_pending(ready(TenderFactory(phase=phase, created_by=officer, title_en="Contact centre")))


@pytest.fixture
def published(phase, officer):
    return make_published(ready(TenderFactory(phase=phase, created_by=officer, title_en="Digital skills")))


def _display_date(days: int) -> datetime.date:
    """The date ``days`` from now where the officer reads the page (the filters read dates in that zone)."""
    from zoneinfo import ZoneInfo

    from django.conf import settings

    return timezone.localtime(timezone.now() + days * DAY, ZoneInfo(settings.DISPLAY_TIME_ZONE)).date()


def past_deadlines(**kwargs) -> dict:
    now = timezone.now()
    return {
        "clarification_deadline": now - 20 * DAY,
        "submission_deadline": now - datetime.timedelta(hours=2),
        "opening_time": now + datetime.timedelta(hours=1),
        **kwargs,
    }


@pytest.fixture
def past_deadline(phase, officer):
    """Published, but its submission deadline has passed (the scheduler has not closed it yet)."""
    tender = ready(TenderFactory(phase=phase, created_by=officer, **past_deadlines()))
    return make_published(tender, published_at=timezone.now() - 30 * DAY)


@pytest.fixture
def closed(past_deadline):
    return set_status(past_deadline, TenderStatus.CLOSED, closed_at=timezone.now())


def local_input(moment: datetime.datetime) -> str:
    """What a browser's datetime-local control sends for ``moment`` in the agency's time zone."""
    return moment.astimezone(RIYADH).strftime("%Y-%m-%dT%H:%M")


def status_of(tender: Tender) -> str:
    return Tender.objects.values_list("status", flat=True).get(pk=tender.pk)


def text_of(response) -> str:
    return unescape(response.content.decode())


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


# Who may open which page -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Page:
    path: str  # after /<lang>/; {tender} is filled in with the tender named by ``tender``
    tender: str | None
    allowed: frozenset[str]

    def url(self, request, lang: str = "en") -> str:
        pk = request.getfixturevalue(self.tender).pk if self.tender else None
        return f"/{lang}/" + self.path.format(tender=pk)


STAFF = frozenset({"officer", "approver", "auditor", "administrator", "other_officer"})
INSIDERS = frozenset({"officer", "approver", "auditor", "administrator"})
PAGES = {
    "list": Page("tenders/", None, STAFF),
    "workflow": Page("tenders/workflow/", None, STAFF),
    "new": Page("tenders/new/", None, frozenset({"officer", "other_officer"})),
    "detail": Page("tenders/{tender}/", "draft", INSIDERS),
    "edit": Page("tenders/{tender}/edit/", "draft", frozenset({"officer"})),
    "cancel": Page("tenders/{tender}/cancel/", "draft", frozenset({"officer"})),
    "return": Page("tenders/{tender}/return/", "pending", frozenset({"approver"})),
    "unsuccessful": Page("tenders/{tender}/unsuccessful/", "closed", frozenset({"officer"})),
    "new addendum": Page("tenders/{tender}/addenda/new/", "published", frozenset({"officer"})),
}
ROLES = ["officer", "approver", "auditor", "administrator", "other_officer", "vendor_user"]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("page_name", PAGES)
def test_each_page_opens_for_those_it_is_for_and_is_refused_to_others(client, request, page_name, role):
    page = PAGES[page_name]
    client.force_login(request.getfixturevalue(role))

    response = client.get(page.url(request))

    if role in page.allowed:
        assert response.status_code == 200
    else:
        assert response.status_code == 403
        assert "Not allowed" in response.content.decode()


@pytest.mark.parametrize("lang", ["en", "ar"])
@pytest.mark.parametrize("page_name", PAGES)
def test_visitor_not_signed_in_is_sent_to_sign_in(client, request, page_name, lang):
    url = PAGES[page_name].url(request, lang)

    response = client.get(url)

    assert response.status_code == 302
    location = urlsplit(response["Location"])
    assert location.path == f"/{lang}/accounts/sign-in/"
    assert parse_qs(location.query) == {"next": [url]}


@pytest.mark.parametrize("lang", ["en", "ar"])
def test_every_page_is_accessible_and_has_its_own_title(client, request, lang):
    titles = {}
    for page_name, page in PAGES.items():
        user = "approver" if page_name == "return" else "officer"
        client.force_login(request.getfixturevalue(user))
        response = client.get(page.url(request, lang))
        assert response.status_code == 200, page_name
        report = check_page(response.content)
        assert (report.lang, report.dir) == (lang, "rtl" if lang == "ar" else "ltr")
        assert report.main_count == 1
        assert report.unlabelled_controls == [], page_name
        assert report.duplicate_ids == [], page_name
        assert report.dangling_references == [], page_name
        assert len(re.findall(r"<h1[ >]", response.content.decode())) == 1, page_name
        assert "<script" not in response.content.decode(), "the pages work without JavaScript"
        assert ' style="' not in response.content.decode(), "no inline styles (the CSP forbids them)"
        titles[page_name] = report.title
    assert len(set(titles.values())) == len(titles), titles


@pytest.mark.parametrize(
    "action", ["submit", "approve", "close", "documents", "questions/1/answer", "addenda/1/approve"]
)
def test_actions_that_need_no_typing_accept_only_post(client, officer, published, action):
    client.force_login(officer)

    response = client.get(f"/en/tenders/{published.pk}/{action}/")

    assert response.status_code == 405


@pytest.mark.parametrize("role", ["other_officer", "vendor_user", "auditor"])
@pytest.mark.parametrize(
    ("tender_name", "action", "data"),
    [
        ("draft", "submit", {}),
        ("pending", "approve", {}),
        ("pending", "return", {"comments": "Fix it"}),
        ("draft", "cancel", {"reason": "No budget"}),
        ("past_deadline", "close", {}),
        ("closed", "unsuccessful", {"reason": "No bids"}),
        ("draft", "documents", {"title": "Annex"}),
        ("published", "addenda/new", {"summary_en": "x", "summary_ar": "س"}),
    ],
)
def test_action_by_someone_without_the_right_is_refused_and_changes_nothing(
    client, request, role, tender_name, action, data
):
    tender = request.getfixturevalue(tender_name)
    user = request.getfixturevalue(role)
    client.force_login(user)
    events = record_events().count()

    response = client.post(f"/en/tenders/{tender.pk}/{action}/", data)

    assert response.status_code == 403
    assert status_of(tender) == tender.status
    assert record_events().count() == events
    assert_refusal_logged_if_auditor(user, path=f"/en/tenders/{tender.pk}/{action}/")


def test_visitor_not_signed_in_cannot_act(client, draft):
    response = client.post(f"/en/tenders/{draft.pk}/submit/")

    assert response.status_code == 302
    assert urlsplit(response["Location"]).path == "/en/accounts/sign-in/"
    assert status_of(draft) == TenderStatus.DRAFT


# The list ------------------------------------------------------------------------------------------


def listed(response) -> list[int]:
    return [int(pk) for pk in re.findall(r'href="/[a-z]{2}/tenders/(\d+)/"', response.content.decode())]


@pytest.fixture
def elsewhere(other_agency, approver):
    """Tenders of another agency: one in a programme the approver steers, one in a programme he does not."""
    steered = ProgrammeFactory(sponsor_agency=other_agency)
    steered.steering_committee.set([approver, UserFactory(roles=[Role.APPROVER]), UserFactory(roles=[Role.APPROVER])])
    not_steered = ProgrammeFactory(sponsor_agency=other_agency)
    return {
        "steered": TenderFactory(phase=PhaseFactory(programme=steered)),
        "not steered": TenderFactory(phase=PhaseFactory(programme=not_steered)),
    }


def test_officer_lists_the_tenders_of_their_agency_only(client, officer, draft, published, elsewhere):
    client.force_login(officer)

    assert sorted(listed(client.get("/en/tenders/"))) == sorted([draft.pk, published.pk])


def test_approver_lists_their_agency_and_the_programmes_they_steer_each_once(
    client, approver, draft, published, elsewhere
):
    client.force_login(approver)

    shown = listed(client.get("/en/tenders/"))

    assert sorted(shown) == sorted([draft.pk, published.pk, elsewhere["steered"].pk])


@pytest.mark.parametrize("role", ["auditor", "administrator"])
def test_auditors_and_administrators_list_every_tender(client, request, role, draft, elsewhere):
    client.force_login(request.getfixturevalue(role))

    shown = listed(client.get("/en/tenders/"))

    assert sorted(shown) == sorted([draft.pk, *(t.pk for t in elsewhere.values())])


def test_other_officer_lists_none_of_ours_and_cannot_open_them(client, other_officer, draft):
    client.force_login(other_officer)

    assert draft.pk not in listed(client.get("/en/tenders/"))
    assert client.get(f"/en/tenders/{draft.pk}/").status_code == 403


def test_the_list_pages_by_id_without_skipping_or_repeating(client, officer, phase):
    tenders = TenderFactory.create_batch(30, phase=phase, created_by=officer)
    client.force_login(officer)

    first = client.get("/en/tenders/")
    next_link = re.search(r'<a rel="next" href="([^"]+)"', first.content.decode())
    second = client.get("/en/tenders/" + unescape(next_link.group(1)))

    assert listed(first) == sorted((t.pk for t in tenders), reverse=True)[:25]
    assert listed(second) == sorted((t.pk for t in tenders), reverse=True)[25:]
    assert 'rel="next"' not in second.content.decode()


def test_the_list_takes_as_many_queries_for_200_tenders_as_for_5(
    client, auditor, officer, phase, other_agency, django_assert_max_num_queries
):
    phases = [phase, PhaseFactory(programme=ProgrammeFactory(sponsor_agency=other_agency))]
    for index in range(5):
        TenderFactory(phase=phases[index % 2], created_by=officer)
    client.force_login(auditor)
    with CaptureQueriesContext(connection) as five:
        assert len(listed(client.get("/en/tenders/"))) == 5
    for index in range(195):
        TenderFactory(phase=phases[index % 2], created_by=officer)

    with django_assert_max_num_queries(len(five.captured_queries)):
        response = client.get("/en/tenders/")

    assert len(listed(response)) == 25


@pytest.fixture
def catalogue(phase, officer, other_agency):
    """Three tenders that differ in every filtered respect."""
    now = timezone.now()
    other_phase = PhaseFactory(programme=ProgrammeFactory(sponsor_agency=other_agency))
    routers = TenderFactory(
        phase=phase,
        created_by=officer,
        title_en="Network routers",
        method="open",
        category="goods",
        estimated_value=Decimal("100000.00"),
    )
    centre = TenderFactory(
        phase=other_phase,
        title_en="Contact centre operation",
        title_ar="تشغيل مركز الاتصال",
        method="limited",
        method_justification="Sole provider",
        category="services",
        estimated_value=Decimal("900000.00"),
        clarification_deadline=now + 40 * DAY,
        submission_deadline=now + 60 * DAY,
        opening_time=now + 60 * DAY,
    )
    training = make_published(
        TenderFactory(
            phase=phase,
            created_by=officer,
            title_en="Digital skills training",
            method="restricted",
            category="consultingServices",
            estimated_value=Decimal("400000.00"),
        )
    )
    return {"routers": routers, "centre": centre, "training": training}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (lambda c: {"status": "published"}, ["training"]),
        (lambda c: {"status": "draft"}, ["routers", "centre"]),
        (lambda c: {"agency": c["centre"].agency_id}, ["centre"]),
        (lambda c: {"phase": c["routers"].phase_id}, ["routers", "training"]),
        (lambda c: {"method": "limited"}, ["centre"]),
        (lambda c: {"category": "goods"}, ["routers"]),
        (lambda c: {"value_min": "400000"}, ["centre", "training"]),
        (lambda c: {"value_max": "400000"}, ["routers", "training"]),
        (lambda c: {"value_min": "150000", "value_max": "500000"}, ["training"]),
        (lambda c: {"deadline_from": _display_date(45).isoformat()}, ["centre"]),
        (lambda c: {"deadline_to": _display_date(45).isoformat()}, ["routers", "training"]),
        (lambda c: {"deadline_to": _display_date(60).isoformat()}, ["routers", "centre", "training"]),
        (lambda c: {"q": "router"}, ["routers"]),
        (lambda c: {"q": "مركز"}, ["centre"]),
        (lambda c: {"q": c["training"].reference.lower()}, ["training"]),
        (lambda c: {"q": "nothing like it"}, []),
    ],
    ids=lambda value: "" if callable(value) else "-".join(value) or "none",
)
def test_filters(client, auditor, catalogue, query, expected):
    client.force_login(auditor)

    response = client.get("/en/tenders/", query(catalogue))

    assert response.status_code == 200
    assert sorted(listed(response)) == sorted(catalogue[name].pk for name in expected)


def test_the_filter_form_keeps_what_was_chosen(client, auditor, catalogue):
    client.force_login(auditor)

    response = client.get("/en/tenders/", {"status": "published", "q": "skills", "value_min": "1000"})

    shown = form_values(response.content)
    assert (shown["status"], shown["q"], shown["value_min"]) == (["published"], ["skills"], ["1000"])


# Drafting ------------------------------------------------------------------------------------------


def tender_form_data(phase, **changes) -> dict:
    """A complete new tender with two criteria (60 + 40), deadlines 10, 30 and 30 days + 2 hours ahead."""
    now = timezone.now()
    data = {
        "phase": str(phase.pk),
        "title_en": "Contact centre, 24/7",
        "title_ar": "مركز اتصال على مدار الساعة",
        "description_en": "Operate the national contact centre.",
        "description_ar": "تشغيل مركز الاتصال الوطني.",
        "method": "open",
        "method_justification": "",
        "category": "services",
        "estimated_value": "750000.00",
        "currency": "SAR",
        "minimum_bids": "2",
        "evaluation_method": "quality_cost",
        "technical_weight": "70",
        "financial_weight": "30",
        "pass_mark": "70",
        "consensus_rule": "average",
        "evaluation_quorum": "3",
        "clarification_deadline": local_input(now + 10 * DAY),
        "submission_deadline": local_input(now + 30 * DAY),
        "opening_time": local_input(now + 30 * DAY + datetime.timedelta(hours=2)),
        **criteria_rows([("Approach", "المنهج", "60"), ("Team", "الفريق", "40")]),
    }
    data.update(changes)
    return data


def criteria_rows(rows, *, prefix: str = "criteria", initial: int = 0) -> dict:
    data = {
        f"{prefix}-TOTAL_FORMS": str(len(rows)),
        f"{prefix}-INITIAL_FORMS": str(initial),
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "20",
    }
    for index, (name_en, name_ar, weight) in enumerate(rows):
        data |= {
            f"{prefix}-{index}-name_en": name_en,
            f"{prefix}-{index}-name_ar": name_ar,
            f"{prefix}-{index}-description_en": "",
            f"{prefix}-{index}-description_ar": "",
            f"{prefix}-{index}-weight": weight,
        }
    return data


def assert_kept(response, sent: dict, *, except_: tuple[str, ...] = ()) -> None:
    shown = form_values(response.content)
    for name, value in sent.items():
        if name.endswith(("TOTAL_FORMS", "INITIAL_FORMS", "MIN_NUM_FORMS", "MAX_NUM_FORMS")) or name in except_:
            continue
        assert shown.get(name) == [value], f"{name} keeps what was typed"


def test_officer_creates_a_draft_and_the_times_are_read_in_their_time_zone(client, officer, phase):
    client.force_login(officer)
    day = (timezone.now() + 40 * DAY).astimezone(RIYADH).date()
    data = tender_form_data(phase, submission_deadline=f"{day.isoformat()}T10:00", opening_time=f"{day}T12:30")

    response = client.post("/en/tenders/new/", data, follow=True)

    tender = Tender.objects.get(title_en="Contact centre, 24/7")
    assert response.redirect_chain == [(f"/en/tenders/{tender.pk}/", 302)]
    assert (tender.status, tender.agency_id, tender.created_by) == (TenderStatus.DRAFT, officer.agency_id, officer)
    assert tender.reference.startswith("MCIT-")
    assert tender.submission_deadline == datetime.datetime.combine(day, datetime.time(10), tzinfo=RIYADH)
    assert [(c.name_en, c.weight) for c in tender.criteria.order_by("order")] == [
        ("Approach", Decimal("60")),
        ("Team", Decimal("40")),
    ]
    assert f"Draft tender {tender.reference} was created." in text_of(response)
    assert AuditEvent.objects.filter(tender_id=tender.pk, action="tender.created").count() == 1


def test_the_edit_form_shows_the_times_in_the_officers_time_zone(client, officer, draft):
    client.force_login(officer)

    shown = form_values(client.get(f"/en/tenders/{draft.pk}/edit/").content)

    assert shown["submission_deadline"] == [local_input(draft.submission_deadline)]
    assert shown["criteria-0-name_en"] == ["Technical approach"]
    assert shown["criteria-1-weight"] == ["40.00"]


class TestMistakesKeepWhatWasTyped:
    def post(self, client, officer, data):
        client.force_login(officer)
        before = (Tender.objects.count(), AuditEvent.objects.count())
        response = client.post("/en/tenders/new/", data)
        assert (Tender.objects.count(), AuditEvent.objects.count()) == before, "nothing is saved"
        assert response.status_code == 200
        report = check_page(response.content)
        assert report.has_error_summary
        assert report.unlabelled_controls == [] and report.duplicate_ids == []
        return response, report

    def test_weights_that_do_not_add_up_to_100(self, client, officer, phase):
        data = tender_form_data(phase, **criteria_rows([("Approach", "المنهج", "60"), ("Team", "الفريق", "30")]))

        response, _report = self.post(client, officer, data)

        assert "The criteria weights must add up to 100 (now 90)." in text_of(response)
        assert_kept(response, data)

    def test_deadlines_in_the_wrong_order(self, client, officer, phase):
        now = timezone.now()
        data = tender_form_data(
            phase,
            clarification_deadline=local_input(now + 35 * DAY),
            submission_deadline=local_input(now + 30 * DAY),
            opening_time=local_input(now + 29 * DAY),
        )

        response, report = self.post(client, officer, data)

        text = text_of(response)
        assert "Questions must close before the submission deadline." in text
        assert "Bids cannot be opened before the submission deadline." in text
        assert "violated" not in text, "no database-constraint jargon"
        assert {"clarification_deadline", "opening_time"} <= set(report.invalid_controls)
        assert "#id_clarification_deadline" in report.error_summary_links
        assert_kept(response, data)

    def test_a_criterion_without_its_arabic_name(self, client, officer, phase):
        data = tender_form_data(phase, **{"criteria-1-name_ar": ""})

        response, report = self.post(client, officer, data)

        assert "criteria-1-name_ar" in report.invalid_controls
        assert "#id_criteria-1-name_ar" in report.error_summary_links
        assert_kept(response, data)

    def test_a_refusal_by_the_service_is_shown_on_the_form(self, client, officer, phase, monkeypatch):
        def refuse(**kwargs):
            raise ValidationError({"criteria": "The criteria weights must add up to 100 (now 99.99)."})

        monkeypatch.setattr(tender_services, "tender_create", refuse)
        data = tender_form_data(phase)

        response, _report = self.post(client, officer, data)

        assert "The criteria weights must add up to 100 (now 99.99)." in text_of(response)
        assert_kept(response, data)


def test_officer_edits_a_draft_and_removes_a_criterion(client, officer, draft):
    client.force_login(officer)
    data = tender_form_data(
        draft.phase,
        title_en="Portal build, phase 1",
        **criteria_rows(
            [("Technical approach", "المنهجية الفنية", "100"), ("Team experience", "خبرة", "40")], initial=2
        ),
        **{"criteria-1-DELETE": "on"},
    )

    response = client.post(f"/en/tenders/{draft.pk}/edit/", data)

    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.title_en == "Portal build, phase 1"
    assert [(c.name_en, c.weight) for c in draft.criteria.all()] == [("Technical approach", Decimal("100"))]
    assert AuditEvent.objects.filter(tender_id=draft.pk, action="tender.criteria_changed").exists()


def test_only_a_draft_can_be_edited(client, officer, published):
    client.force_login(officer)

    response = client.get(f"/en/tenders/{published.pk}/edit/", follow=True)

    assert response.redirect_chain == [(f"/en/tenders/{published.pk}/", 302)]
    assert "Only a draft can be edited" in text_of(response)


# From a draft to a published tender ------------------------------------------------------------------


def action_urls(response) -> set[str]:
    """The transitions the page offers, by the address their button or link goes to."""
    return set(
        re.findall(r'/tenders/\d+/(submit|approve|return|close|cancel|unsuccessful)/"', response.content.decode())
    )


def test_officer_creates_uploads_and_submits_then_another_approver_approves(client, officer, approver, phase):
    client.force_login(officer)
    client.post("/en/tenders/new/", tender_form_data(phase))
    tender = Tender.objects.get()
    assert action_urls(client.get(f"/en/tenders/{tender.pk}/")) == {"submit", "cancel"}

    uploaded = client.post(
        f"/en/tenders/{tender.pk}/documents/",
        {"title": "Terms of reference", "file": pdf_upload("tor.pdf")},
        follow=True,
    )
    document = TenderDocument.objects.get(tender=tender)
    assert (document.title, document.content_type) == ("Terms of reference", "application/pdf")
    assert document.sha256 == hashlib.sha256(PDF_BYTES).hexdigest()
    assert document.sha256 in uploaded.content.decode()
    assert "Document “Terms of reference” was attached." in text_of(uploaded)
    with_committee(tender)  # an opening committee with personal keys (named on its own pages)

    submitted = client.post(f"/en/tenders/{tender.pk}/submit/", follow=True)
    assert status_of(tender) == TenderStatus.PENDING_APPROVAL
    assert f"Tender {tender.reference} was submitted" in text_of(submitted)
    assert "approve" not in action_urls(submitted), "the officer who prepared it is offered no approval"

    client.force_login(approver)
    assert action_urls(client.get(f"/en/tenders/{tender.pk}/")) == {"approve", "return"}
    approved = client.post(f"/en/tenders/{tender.pk}/approve/", follow=True)

    tender.refresh_from_db()
    assert (tender.status, tender.approved_by) == (TenderStatus.PUBLISHED, approver)
    # The answer is the page that shows the recovery share once; the tender's page has the history.
    assert f"Tender {tender.reference} was approved and is published." in text_of(approved)
    assert approved.context["recovery_share"]
    history = text_of(client.get(f"/en/tenders/{tender.pk}/")).split('id="history-heading"')[1]
    assert "tender.approved_and_published" in history
    assert "Pending approval → Published" in history
    assert "Draft → Pending approval" in history


def test_an_approver_who_prepared_the_tender_is_offered_no_approval_and_is_refused(client, agency, approver, phase):
    preparer = UserFactory(agency=agency, roles=[Role.PROCUREMENT_OFFICER, Role.APPROVER])
    tender = make_pending(ready(TenderFactory(phase=phase, created_by=preparer)), submitted_by=preparer)
    client.force_login(preparer)

    page = client.get(f"/en/tenders/{tender.pk}/")
    refused = client.post(f"/en/tenders/{tender.pk}/approve/", follow=True)

    assert not {"approve", "return"} & action_urls(page)
    assert status_of(tender) == TenderStatus.PENDING_APPROVAL
    assert "someone else must approve it" in text_of(refused)
    client.force_login(approver)
    assert "approve" in action_urls(client.get(f"/en/tenders/{tender.pk}/"))


def test_a_refused_approval_through_the_page_is_recorded(client, agency, phase):
    preparer = UserFactory(agency=agency, roles=[Role.PROCUREMENT_OFFICER, Role.APPROVER])
    tender = make_pending(ready(TenderFactory(phase=phase, created_by=preparer)), submitted_by=preparer)
    client.force_login(preparer)

    client.post(f"/en/tenders/{tender.pk}/approve/")

    assert status_of(tender) == TenderStatus.PENDING_APPROVAL
    assert AuditEvent.objects.filter(tender_id=tender.pk, action="tender.approval_refused").count() == 1


def test_submitting_an_incomplete_draft_says_what_is_missing(client, officer, phase):
    tender = TenderFactory(phase=phase, created_by=officer)
    client.force_login(officer)

    page = client.get(f"/en/tenders/{tender.pk}/")
    response = client.post(f"/en/tenders/{tender.pk}/submit/", follow=True)

    assert "Attach at least one tender document." in text_of(page)
    assert "Attach at least one tender document." in " ".join(messages_of(response))
    assert status_of(tender) == TenderStatus.DRAFT


class TestUploadMistakes:
    def post(self, client, officer, draft, upload):
        client.force_login(officer)
        before = TenderDocument.objects.count()
        response = client.post(f"/en/tenders/{draft.pk}/documents/", {"title": "Annex B", "file": upload})
        assert TenderDocument.objects.count() == before
        assert response.status_code == 200
        report = check_page(response.content)
        assert "file" in report.invalid_controls
        assert form_values(response.content)["title"] == ["Annex B"], "the title is kept"
        return text_of(response)

    def test_a_file_that_is_not_an_accepted_kind(self, client, officer, draft):
        text = self.post(client, officer, draft, SimpleUploadedFile("annex.pdf", b"just some text"))

        assert "This kind of file is not accepted." in text

    def test_a_file_that_is_too_large(self, client, officer, draft, settings):
        settings.UPLOAD_MAX_BYTES = 1024 * 1024
        text = self.post(client, officer, draft, pdf_upload(content=PDF_BYTES + b"0" * (2 * 1024 * 1024)))

        assert "The file is 2.0 MB; the largest accepted is 1 MB." in text


def test_a_document_can_be_added_only_to_a_draft(client, officer, published):
    client.force_login(officer)

    page = client.get(f"/en/tenders/{published.pk}/")
    response = client.post(f"/en/tenders/{published.pk}/documents/", {"title": "Late", "file": pdf_upload()})

    assert f'action="/en/tenders/{published.pk}/documents/"' not in page.content.decode()
    assert response.status_code == 200
    assert "cannot be given new documents outside an addendum" in text_of(response)
    assert not TenderDocument.objects.filter(title="Late").exists()


def test_download_links_go_to_the_portal_when_it_has_that_page(client, officer, draft):
    client.force_login(officer)
    document = draft.documents.get()

    response = client.get(f"/en/tenders/{draft.pk}/")

    assert response.status_code == 200, "the page works whether or not the portal has its download page"
    try:
        url = reverse("portal:document_download", args=[document.pk])
    except NoReverseMatch:
        assert "/portal/" not in response.content.decode()
    else:
        assert f'href="{url}"' in response.content.decode()


@pytest.mark.urls(__name__)
def test_download_links_appear_once_the_portal_has_its_download_page(client, officer, draft):
    client.force_login(officer)
    document = draft.documents.get()

    response = client.get(f"/en/tenders/{draft.pk}/")

    assert f'href="/en/portal/documents/{document.pk}/"' in response.content.decode()


# Returning, cancelling, closing, declaring unsuccessful ------------------------------------------------


def test_approver_returns_the_tender_with_comments(client, approver, officer, pending):
    client.force_login(approver)

    empty = client.post(f"/en/tenders/{pending.pk}/return/", {"comments": "   "})
    returned = client.post(f"/en/tenders/{pending.pk}/return/", {"comments": "Extend the questions period."})

    assert empty.status_code == 200 and check_page(empty.content).has_error_summary
    assert returned.status_code == 302
    pending.refresh_from_db()
    assert (pending.status, pending.return_comments) == (TenderStatus.DRAFT, "Extend the questions period.")
    client.force_login(officer)
    assert "Extend the questions period." in text_of(client.get(f"/en/tenders/{pending.pk}/"))


def test_officer_cancels_with_a_reason_that_is_kept_if_refused(client, officer, draft, monkeypatch):
    client.force_login(officer)

    missing = client.post(f"/en/tenders/{draft.pk}/cancel/", {"reason": ""})
    cancelled = client.post(f"/en/tenders/{draft.pk}/cancel/", {"reason": "The budget was withdrawn."}, follow=True)

    assert missing.status_code == 200 and "This field is required." in text_of(missing)
    assert status_of(draft) == TenderStatus.CANCELLED
    assert "The budget was withdrawn." in text_of(cancelled)
    assert client.get(f"/en/tenders/{draft.pk}/cancel/", follow=True).redirect_chain == [
        (f"/en/tenders/{draft.pk}/", 302)
    ], "a cancelled tender offers no second cancellation"


def test_closing_is_offered_only_after_the_submission_deadline(client, officer, published, past_deadline):
    client.force_login(officer)

    assert "close" not in action_urls(client.get(f"/en/tenders/{published.pk}/"))
    early = client.post(f"/en/tenders/{published.pk}/close/", follow=True)
    assert "close" in action_urls(client.get(f"/en/tenders/{past_deadline.pk}/"))
    closed = client.post(f"/en/tenders/{past_deadline.pk}/close/", follow=True)

    assert status_of(published) == TenderStatus.PUBLISHED
    assert "it cannot be closed before" in text_of(early)
    assert status_of(past_deadline) == TenderStatus.CLOSED
    assert "is closed for bids" in text_of(closed)


def test_officer_declares_a_closed_tender_unsuccessful(client, officer, closed):
    client.force_login(officer)
    assert "unsuccessful" in action_urls(client.get(f"/en/tenders/{closed.pk}/"))

    response = client.post(f"/en/tenders/{closed.pk}/unsuccessful/", {"reason": "Fewer bids than the minimum."})

    assert response.status_code == 302
    closed.refresh_from_db()
    assert (closed.status, closed.unsuccessful_reason) == (TenderStatus.UNSUCCESSFUL, "Fewer bids than the minimum.")


@pytest.mark.parametrize("role", ["auditor", "administrator"])
def test_readers_see_the_tender_but_no_action(client, request, role, pending):
    client.force_login(request.getfixturevalue(role))

    response = client.get(f"/en/tenders/{pending.pk}/")

    assert response.status_code == 200
    assert action_urls(response) == set()


# Questions and answers ---------------------------------------------------------------------------------


@pytest.fixture
def question(published, vendor_user):
    return tender_services.clarification_ask(actor=vendor_user, tender=published, question="Is hosting included?")


def test_officer_sees_who_asked_and_answers(client, officer, published, question, vendor_user):
    client.force_login(officer)

    page = client.get(f"/en/tenders/{published.pk}/")
    empty = client.post(f"/en/tenders/{published.pk}/questions/1/answer/", {"q1-answer": ""})
    answered = client.post(
        f"/en/tenders/{published.pk}/questions/1/answer/", {"q1-answer": "Yes, for five years."}, follow=True
    )

    assert vendor_user.email in page.content.decode()
    assert "q1-answer" in form_values(page.content)
    assert empty.status_code == 200 and "q1-answer" in check_page(empty.content).invalid_controls
    question.refresh_from_db()
    assert (question.answer, question.answered_by) == ("Yes, for five years.", officer)
    assert answered.redirect_chain == [(f"/en/tenders/{published.pk}/#q1", 302)]
    assert "Yes, for five years." in text_of(answered)
    assert "q1-answer" not in form_values(answered.content), "an answered question has no answer form"


def test_the_asker_is_not_named_to_the_approver(client, approver, published, question, vendor_user):
    client.force_login(approver)

    response = client.get(f"/en/tenders/{published.pk}/")

    assert "Is hosting included?" in text_of(response)
    assert vendor_user.email not in text_of(response)
    assert vendor_user.full_name not in text_of(response), "not in the history either"
    assert "q1-answer" not in form_values(response.content), "approvers do not answer"


def test_the_asker_is_named_to_the_auditor_who_reads_the_audit_log_anyway(
    client, auditor, published, question, vendor_user
):
    client.force_login(auditor)

    response = client.get(f"/en/tenders/{published.pk}/")

    assert vendor_user.email in text_of(response)
    assert "q1-answer" not in form_values(response.content)


# Addenda -------------------------------------------------------------------------------------------------


def addendum_data(**changes) -> dict:
    data = {
        "summary_en": "The submission deadline is extended by a week.",
        "summary_ar": "تمديد موعد تقديم العطاءات أسبوعا.",
        "new_clarification_deadline": "",
        "new_submission_deadline": "",
        "new_opening_time": "",
        "new_estimated_value": "",
        **criteria_rows([]),
        "documents-TOTAL_FORMS": "3",
        "documents-INITIAL_FORMS": "0",
        "documents-MIN_NUM_FORMS": "0",
        "documents-MAX_NUM_FORMS": "3",
    }
    data.update(changes)
    return data


def test_officer_issues_an_addendum_that_extends_the_deadlines_with_a_document(client, officer, published):
    client.force_login(officer)
    new_submission = published.submission_deadline + 7 * DAY
    data = addendum_data(
        new_submission_deadline=local_input(new_submission),
        new_opening_time=local_input(new_submission + datetime.timedelta(hours=1)),
        **{"documents-0-title": "Terms of reference", "documents-0-file": pdf_upload("tor-v2.pdf")},
    )

    response = client.post(f"/en/tenders/{published.pk}/addenda/new/", data, follow=True)

    addendum = Addendum.objects.get(tender=published)
    assert addendum.status == AddendumStatus.ISSUED
    published.refresh_from_db()
    assert published.submission_deadline == new_submission.replace(second=0, microsecond=0)
    assert addendum.documents.get().title == "Terms of reference"
    assert published.documents.filter(superseded_by=addendum.documents.get()).count() == 1, "the old version"
    assert "Addendum 1 was issued." in text_of(response)
    assert 'id="addendum-1"' in response.content.decode()


def test_an_addendum_cannot_shorten_a_deadline_and_keeps_what_was_typed(client, officer, published):
    client.force_login(officer)
    data = addendum_data(
        new_submission_deadline=local_input(published.submission_deadline - 2 * DAY),
        **criteria_rows([("Kept", "محفوظ", "55")]),
    )

    response = client.post(f"/en/tenders/{published.pk}/addenda/new/", data)

    assert response.status_code == 200
    assert "An addendum can extend a deadline, never shorten it." in text_of(response)
    assert "new_submission_deadline" in check_page(response.content).invalid_controls
    assert not Addendum.objects.exists()
    assert_kept(response, data)


def test_an_addendum_that_changes_the_criteria_waits_for_another_approver(client, officer, approver, published):
    client.force_login(officer)
    data = addendum_data(
        summary_en="New criteria and value.",
        new_estimated_value="300000.00",
        replace_criteria="on",
        **criteria_rows([("Security", "الأمن", "70"), ("Price realism", "واقعية السعر", "30")]),
    )

    client.post(f"/en/tenders/{published.pk}/addenda/new/", data)
    addendum = Addendum.objects.get(tender=published)
    assert addendum.status == AddendumStatus.PENDING_APPROVAL
    assert f"/addenda/{addendum.number}/approve/" not in client.get(f"/en/tenders/{published.pk}/").content.decode()

    client.force_login(approver)
    page = client.get(f"/en/tenders/{published.pk}/")
    assert f"/addenda/{addendum.number}/approve/" in page.content.decode()
    client.post(f"/en/tenders/{published.pk}/addenda/{addendum.number}/approve/")

    addendum.refresh_from_db()
    published.refresh_from_db()
    assert (addendum.status, addendum.approved_by) == (AddendumStatus.ISSUED, approver)
    assert published.estimated_value == Decimal("300000.00")
    assert [(c.name_en, c.weight) for c in published.criteria.all()] == [
        ("Security", Decimal("70")),
        ("Price realism", Decimal("30")),
    ]


def test_criteria_typed_without_ticking_replace_are_neither_sent_nor_lost(client, officer, published):
    client.force_login(officer)
    data = addendum_data(summary_en="", **criteria_rows([("Draft idea", "فكرة", "12")]))

    response = client.post(f"/en/tenders/{published.pk}/addenda/new/", data)

    assert response.status_code == 200
    assert "summary_en" in check_page(response.content).invalid_controls
    assert "criteria-0-weight" not in check_page(response.content).invalid_controls, "not checked: not sent"
    assert_kept(response, data)


def test_no_addendum_after_the_submission_deadline(client, officer, past_deadline):
    client.force_login(officer)

    response = client.get(f"/en/tenders/{past_deadline.pk}/addenda/new/", follow=True)

    assert response.redirect_chain == [(f"/en/tenders/{past_deadline.pk}/", 302)]
    assert "only while the tender is open for bids" in text_of(response)


# The tender page's picture ---------------------------------------------------------------------------------


def test_the_timeline_is_mirrored_in_arabic(published):
    now = timezone.now()

    ltr = tender_timeline(published, now=now, rtl=False)
    rtl = tender_timeline(published, now=now, rtl=True)

    keys = [m["key"] for m in ltr["markers"]]
    assert keys == ["publication", "clarification", "submission", "opening"]
    xs = [m["x"] for m in ltr["markers"]]
    assert xs == sorted(xs) and xs[0] < xs[-1], "later dates further right"
    assert [m["x"] for m in rtl["markers"]] == [round(ltr["width"] - x, 1) for x in xs]
    assert rtl["now_x"] == round(ltr["width"] - ltr["now_x"], 1)


def test_the_tender_page_draws_its_dates_without_localised_numbers(client, officer, published):
    client.force_login(officer)

    response = client.get(f"/ar/tenders/{published.pk}/")

    svg = re.search(r'<svg[^>]*class="timeline".*?</svg>', response.content.decode(), re.S).group(0)
    assert 'direction="rtl"' in svg
    assert "٫" not in svg and not re.search(r'x="[^"]*,', svg), "SVG coordinates are plain numbers"


# The workflow, drawn from the code -----------------------------------------------------------------------


def transitions_in_the_code() -> set[tuple[str, str, str]]:
    field = Tender._meta.get_field("status")
    states = [value for value, _label in field.choices]
    expected = set()
    for transition in field.get_all_transitions(Tender):
        sources = states if transition.source == "*" else [transition.source]
        expected |= {(str(source), str(transition.target), transition.name) for source in sources}
    return expected


def shown_transitions(response) -> set[tuple[str, str, str]]:
    html = response.content.decode()
    in_svg = set(re.findall(r'data-transition="([^"]+)" data-source="([^"]+)" data-target="([^"]+)"', html))
    mermaid = re.search(r"<pre[^>]*><code>(.*?)</code></pre>", html, re.S).group(1)
    in_text = set(re.findall(r"^\s*(\w+) --> (\w+) : (\w+)$", unescape(mermaid), re.M))
    assert {(source, target, name) for name, source, target in in_svg} == in_text
    return in_text


def test_the_workflow_page_shows_every_transition_of_the_model(client, officer):
    client.force_login(officer)

    response = client.get("/en/tenders/workflow/")

    expected = transitions_in_the_code()
    assert ("draft", "pending_approval", "submit_for_approval") in expected
    assert shown_transitions(response) == expected
    assert {(e.source, e.target, e.name) for e in workflow_graph().edges} == expected
    for label in ("Draft", "Pending approval", "Published", "Closed for bids", "Cancelled", "Unsuccessful"):
        assert f">{label}<" in response.content.decode()


def test_the_mermaid_text_has_one_line_per_move(client):
    lines = workflow_mermaid().splitlines()

    assert lines[0] == "stateDiagram-v2"
    assert len(lines) - 1 == len(transitions_in_the_code())


def test_a_transition_added_to_the_model_appears_in_the_diagram(client, officer, monkeypatch):
    field = Tender._meta.get_field("status")
    original = list(field.get_all_transitions(Tender))

    def reopen(self):
        """A move the model does not have (yet)."""

    def withdraw_everything(self):
        """From any state."""

    added = [
        Transition(reopen, "cancelled", "draft", None, None, None, None),
        Transition(withdraw_everything, "*", "unsuccessful", None, None, None, None),
    ]
    monkeypatch.setattr(field, "get_all_transitions", lambda model: iter(original + added))
    client.force_login(officer)

    shown = shown_transitions(client.get("/en/tenders/workflow/"))

    assert ("cancelled", "draft", "reopen") in shown
    states = [value for value, _label in field.choices]
    assert {("unsuccessful", "withdraw_everything")} == {
        (target, name) for source, target, name in shown if name == "withdraw_everything"
    }
    assert {source for source, _target, name in shown if name == "withdraw_everything"} == set(states)
    assert "cancelled --> draft : reopen" in workflow_mermaid()


@pytest.mark.parametrize("lang", ["en", "ar"])
def test_the_diagram_runs_with_the_language(client, officer, lang):
    client.force_login(officer)

    html = client.get(f"/{lang}/tenders/workflow/").content.decode()

    draft_x = float(re.search(r'<g data-state="draft">\s*<rect x="([\d.]+)"', html).group(1))
    published_x = float(re.search(r'<g data-state="published">\s*<rect x="([\d.]+)"', html).group(1))
    assert (draft_x < published_x) == (lang == "en"), "left to right in English, right to left in Arabic"
