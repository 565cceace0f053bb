"""The attacker's side: what users and intruders try against tenders, the portal and notifications.

Each test states a hole that must stay closed. A test marked ``xfail(strict=True)`` proves a hole that is
open today (its reason says where); it turns into a failure the day the hole is closed, so that the mark
is removed then.
"""

from __future__ import annotations

import datetime
import os
from decimal import Decimal
from unittest import mock
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from accounts.roles import Role
from audit.keys import load_signing_key
from audit.models import AuditEvent
from audit.verification import verify_audit_log
from notifications.models import Notification
from procurement import tender_services
from procurement.models import Addendum, Clarification, Tender, TenderDocument
from procurement.models.tenders import AddendumStatus, TenderStatus
from tests.accounts.factories import UserFactory
from tests.audit.helpers import assert_refusal_logged_if_auditor, record_events
from tests.procurement.factories import PhaseFactory, ProgrammeFactory
from tests.procurement.tender_factories import (
    PDF_BYTES,
    TenderFactory,
    make_pending,
    make_published,
    set_status,
    with_committee,
    with_criteria,
    with_document,
)

pytestmark = pytest.mark.django_db

DAY = datetime.timedelta(days=1)
XSS = '<script>alert("x")</script><img src=x onerror=alert(1)>'
EVIL = "https://evil.example/steal"


# Fixtures ------------------------------------------------------------------------------------------


@pytest.fixture
def phase(programme):
    return PhaseFactory(programme=programme, order=1)


@pytest.fixture
def other_phase(other_agency):
    programme = ProgrammeFactory(code="HLTH", sponsor_agency=other_agency)
    return PhaseFactory(programme=programme, order=1)


def _ready(tender: Tender) -> Tender:
    """Criteria, a document and an opening committee with personal keys: it can be submitted and approved."""
    with_criteria(tender)
    with_document(tender)
    with_committee(tender)
    return tender


@pytest.fixture
def draft(phase, officer):
    return _ready(TenderFactory(phase=phase, created_by=officer, title_en="Secret draft plan"))


@pytest.fixture
def pending(phase, officer):
    return make_pending(_ready(TenderFactory(phase=phase, created_by=officer, title_en="Secret pending plan")))


@pytest.fixture
def published(phase, officer):
    return make_published(_ready(TenderFactory(phase=phase, created_by=officer, title_en="Open call")))


@pytest.fixture
def question(published, vendor_user):
    return tender_services.clarification_ask(actor=vendor_user, tender=published, question="Is hosting included?")


@pytest.fixture
def other_approver(other_agency):
    """An approver of another agency who sits on no steering committee of ours."""
    return UserFactory(email="approver@moh.example.gov", agency=other_agency, roles=[Role.APPROVER])


@pytest.fixture
def second_officer(agency):
    return UserFactory(email="officer2@example.gov", agency=agency, roles=[Role.PROCUREMENT_OFFICER])


def status_of(tender: Tender) -> str:
    return Tender.objects.values_list("status", flat=True).get(pk=tender.pk)


def audit_actions_since(count: int) -> list[str]:
    return list(AuditEvent.objects.order_by("sequence").values_list("action", flat=True)[count:])


def pending_addendum(tender: Tender, *, by) -> Addendum:
    addendum = Addendum.objects.create(
        tender=tender,
        number=(tender.addenda.count() + 1),
        summary_en="Raise the value",
        summary_ar="رفع القيمة",
        new_estimated_value=Decimal("300000.00"),
        created_by=by,
    )
    Addendum.objects.filter(pk=addendum.pk).update(status=AddendumStatus.PENDING_APPROVAL)
    addendum.refresh_from_db()
    return addendum


def assert_audit_log_intact():
    result = verify_audit_log([load_signing_key().public_key()])
    assert result.ok, result.problem


# IDOR: another agency's officer, a vendor, an approver from elsewhere -------------------------------


@pytest.mark.parametrize("who", ["other_officer", "vendor_user", "other_approver", "committee_member"])
@pytest.mark.parametrize("tender_name", ["draft", "pending", "published"])
def test_outsiders_cannot_open_the_internal_tender_page_or_its_edit_form(client, request, who, tender_name):
    tender = request.getfixturevalue(tender_name)
    client.force_login(request.getfixturevalue(who))

    for url in (f"/en/tenders/{tender.pk}/", f"/en/tenders/{tender.pk}/edit/"):
        response = client.get(url)
        assert response.status_code in (403, 404), url
        assert tender.title_en not in response.content.decode()


@pytest.mark.parametrize("who", ["other_officer", "vendor_user", "other_approver"])
def test_outsiders_posting_an_edit_change_nothing(client, request, who, draft):
    client.force_login(request.getfixturevalue(who))
    events = AuditEvent.objects.count()

    response = client.post(
        f"/en/tenders/{draft.pk}/edit/", {"phase": draft.phase_id, "title_en": "Hijacked", "title_ar": "x"}
    )

    assert response.status_code in (403, 404)
    assert Tender.objects.get(pk=draft.pk).title_en == "Secret draft plan"
    assert AuditEvent.objects.count() == events


@pytest.mark.parametrize("who", ["other_officer", "vendor_user", "other_approver", "auditor"])
def test_outsiders_cannot_answer_a_question(client, request, who, published, question):
    user = request.getfixturevalue(who)
    client.force_login(user)
    events = record_events().count()

    response = client.post(f"/en/tenders/{published.pk}/questions/1/answer/", {"q1-answer": "Forged answer"})

    assert response.status_code in (403, 404)
    assert Clarification.objects.get(pk=question.pk).answer == ""
    assert record_events().count() == events
    if response.status_code == 403:
        assert_refusal_logged_if_auditor(user, path=f"/en/tenders/{published.pk}/questions/1/answer/")


@pytest.mark.parametrize("who", ["other_officer", "vendor_user", "other_approver", "auditor", "second_officer"])
def test_outsiders_cannot_approve_a_pending_addendum(client, request, who, published, officer):
    addendum = pending_addendum(published, by=officer)
    client.force_login(request.getfixturevalue(who))
    events = AuditEvent.objects.count()

    response = client.post(f"/en/tenders/{published.pk}/addenda/{addendum.number}/approve/")

    assert response.status_code in (302, 403, 404)
    addendum.refresh_from_db()
    assert addendum.status == AddendumStatus.PENDING_APPROVAL
    assert Tender.objects.get(pk=published.pk).estimated_value == published.estimated_value
    assert "tender.addendum_issued" not in audit_actions_since(events)


def test_an_addendum_is_approved_only_under_its_own_tender_id(client, approver, published, officer, other_phase):
    """The URL's tender id and the addendum must belong together (no approving via a foreign tender id)."""
    addendum = pending_addendum(published, by=officer)
    foreign = make_published(_ready(TenderFactory(phase=other_phase)))
    client.force_login(approver)

    response = client.post(f"/en/tenders/{foreign.pk}/addenda/{addendum.number}/approve/")

    assert response.status_code == 404
    addendum.refresh_from_db()
    assert addendum.status == AddendumStatus.PENDING_APPROVAL


@pytest.mark.parametrize(
    ("tender_name", "action", "data"),
    [
        ("pending", "approve", {}),
        ("pending", "return", {"comments": "Fix it"}),
    ],
)
def test_an_approver_of_another_agency_not_on_the_committee_cannot_approve_or_return(
    client, request, other_approver, tender_name, action, data
):
    tender = request.getfixturevalue(tender_name)
    client.force_login(other_approver)
    events = AuditEvent.objects.count()

    response = client.post(f"/en/tenders/{tender.pk}/{action}/", data)

    assert response.status_code == 403
    assert status_of(tender) == TenderStatus.PENDING_APPROVAL
    assert not [a for a in audit_actions_since(events) if a in ("tender.approved_and_published", "tender.returned")]


def test_an_approver_on_another_programmes_committee_cannot_approve_ours(client, other_agency, pending):
    outsider = UserFactory(agency=other_agency, roles=[Role.APPROVER])
    ProgrammeFactory(code="ELSE", sponsor_agency=other_agency).steering_committee.set([outsider])
    client.force_login(outsider)

    response = client.post(f"/en/tenders/{pending.pk}/approve/")

    assert response.status_code == 403
    assert status_of(pending) == TenderStatus.PENDING_APPROVAL


def test_the_preparer_who_is_also_an_approver_cannot_approve_by_posting(client, agency, phase):
    both = UserFactory(agency=agency, roles=[Role.PROCUREMENT_OFFICER, Role.APPROVER])
    tender = make_pending(_ready(TenderFactory(phase=phase, created_by=both)))
    client.force_login(both)
    events = AuditEvent.objects.count()

    client.post(f"/en/tenders/{tender.pk}/approve/")
    client.post(f"/en/tenders/{tender.pk}/return/", {"comments": "Self-return"})

    assert status_of(tender) == TenderStatus.PENDING_APPROVAL
    assert "tender.approved_and_published" not in audit_actions_since(events)


def test_the_submitter_who_did_not_create_it_cannot_approve_either(client, agency, phase, officer):
    submitter = UserFactory(agency=agency, roles=[Role.PROCUREMENT_OFFICER, Role.APPROVER])
    tender = make_pending(_ready(TenderFactory(phase=phase, created_by=officer)), submitted_by=submitter)
    client.force_login(submitter)

    client.post(f"/en/tenders/{tender.pk}/approve/")

    assert status_of(tender) == TenderStatus.PENDING_APPROVAL


def test_the_preparer_of_an_addendum_cannot_approve_it_even_as_approver(client, agency, published):
    both = UserFactory(agency=agency, roles=[Role.PROCUREMENT_OFFICER, Role.APPROVER])
    addendum = pending_addendum(published, by=both)
    client.force_login(both)

    client.post(f"/en/tenders/{published.pk}/addenda/{addendum.number}/approve/")

    addendum.refresh_from_db()
    assert addendum.status == AddendumStatus.PENDING_APPROVAL


@pytest.mark.parametrize(
    ("action", "data"),
    [
        ("submit", {}),
        ("approve", {}),
        ("close", {}),
        ("cancel", {"reason": "x"}),
        ("unsuccessful", {"reason": "x"}),
        ("return", {"comments": "x"}),
        ("addenda/new", {"summary_en": "x", "summary_ar": "س"}),
    ],
)
def test_a_vendor_posting_to_officer_actions_changes_nothing(client, vendor_user, published, action, data):
    client.force_login(vendor_user)
    events = AuditEvent.objects.count()

    response = client.post(f"/en/tenders/{published.pk}/{action}/", data)

    assert response.status_code == 403
    assert status_of(published) == TenderStatus.PUBLISHED
    assert AuditEvent.objects.count() == events


def test_unknown_tender_ids_are_404_not_500(client, officer):
    client.force_login(officer)
    for action in ("", "edit/", "submit/", "approve/", "close/", "cancel/", "return/", "addenda/new/"):
        method = client.get if action in ("", "edit/", "cancel/", "return/", "addenda/new/") else client.post
        assert method(f"/en/tenders/999999999/{action}").status_code == 404, action
    assert client.post("/en/tenders/999999999/addenda/1/approve/").status_code == 404
    assert client.post("/en/tenders/999999999/questions/1/answer/", {"q1-answer": "x"}).status_code == 404


# CSRF and methods ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "tender_name", "action", "data"),
    [
        ("officer", "draft", "submit", {}),
        ("approver", "pending", "approve", {}),
        ("officer", "draft", "cancel", {"reason": "Forged"}),
        ("approver", "pending", "return", {"comments": "Forged"}),
    ],
)
def test_csrf_is_enforced_on_tender_actions(request, who, tender_name, action, data):
    tender = request.getfixturevalue(tender_name)
    csrf_client = Client(enforce_csrf_checks=True)
    csrf_client.force_login(request.getfixturevalue(who))

    response = csrf_client.post(f"/en/tenders/{tender.pk}/{action}/", data)

    assert response.status_code == 403
    assert status_of(tender) == tender.status


def test_csrf_is_enforced_on_questions_and_mark_read(vendor_user, published):
    csrf_client = Client(enforce_csrf_checks=True)
    csrf_client.force_login(vendor_user)
    notification = Notification.objects.create(recipient=vendor_user, kind="tender.published", tender=published)

    asked = csrf_client.post(f"/en/portal/tenders/{published.reference}/questions/", {"question": "Forged?"})
    marked = csrf_client.post("/en/notifications/read/", {"notification": [notification.pk]})

    assert asked.status_code == 403
    assert marked.status_code == 403
    assert not Clarification.objects.filter(tender=published).exists()
    notification.refresh_from_db()
    assert notification.read_at is None


@pytest.mark.parametrize(
    ("who", "tender_name", "action"), [("officer", "draft", "cancel"), ("approver", "pending", "return")]
)
def test_get_on_a_confirmation_page_changes_nothing(client, request, who, tender_name, action):
    tender = request.getfixturevalue(tender_name)
    client.force_login(request.getfixturevalue(who))
    events = AuditEvent.objects.count()

    response = client.get(f"/en/tenders/{tender.pk}/{action}/?reason=x&comments=x")

    assert response.status_code == 200
    assert status_of(tender) == tender.status
    assert AuditEvent.objects.count() == events


def test_get_on_ask_question_and_mark_read_changes_nothing(client, vendor_user, published):
    client.force_login(vendor_user)

    assert client.get(f"/en/portal/tenders/{published.reference}/questions/?question=x").status_code == 405
    assert client.get("/en/notifications/read/?notification=1").status_code == 405
    assert not Clarification.objects.filter(tender=published).exists()


# The portal never leaks what is not public ---------------------------------------------------------


@pytest.fixture
def hidden(phase, officer):
    """A draft, a pending tender and a cancelled one that was never published, each with a document."""
    draft = _ready(TenderFactory(phase=phase, created_by=officer, title_en="Hidden draft zzq"))
    pend = make_pending(_ready(TenderFactory(phase=phase, created_by=officer, title_en="Hidden pending zzq")))
    cancelled = set_status(
        _ready(TenderFactory(phase=phase, created_by=officer, title_en="Hidden cancelled zzq")),
        TenderStatus.CANCELLED,
        cancellation_reason="Never mind",
    )
    return [draft, pend, cancelled]


@pytest.mark.parametrize(
    "query",
    [
        "",
        "?status=draft",
        "?status=pending_approval",
        "?status=cancelled",
        "?q=zzq",
        "?q=Hidden",
        "?agency=MCIT",
        "?status=nope&agency=999999&phase=abc",
        "?after=0",
        "?before=999999999",
    ],
)
def test_the_portal_list_never_shows_unpublished_tenders(client, hidden, published, agency, query):
    response = client.get(f"/en/portal/tenders/{query}")

    assert response.status_code == 200
    body = response.content.decode()
    for tender in hidden:
        assert tender.title_en not in body
        assert tender.reference not in body


@pytest.mark.parametrize(
    "url",
    [
        "/en/portal/feeds/tenders.rss",
        "/en/portal/feeds/tenders.atom",
        "/en/portal/feeds/agencies/MCIT/tenders.rss",
        "/en/portal/feeds/agencies/MCIT/tenders.atom",
        "/ar/portal/feeds/tenders.rss",
    ],
)
def test_feeds_never_show_unpublished_tenders(client, hidden, published, url):
    # Even if published_at was set on a draft (data tampering), the status decides.
    Tender.objects.filter(pk=hidden[0].pk).update(published_at=timezone.now())

    response = client.get(url)

    assert response.status_code == 200
    body = response.content.decode()
    assert published.reference in body
    for tender in hidden:
        assert tender.reference not in body


def test_an_unknown_agency_feed_is_404(client, db):
    assert client.get("/en/portal/feeds/agencies/NOPE/tenders.rss").status_code == 404
    assert client.get("/en/portal/feeds/agencies/%3Cscript%3E/tenders.atom").status_code == 404


@pytest.mark.parametrize("who", [None, "vendor_user", "other_officer", "other_approver"])
def test_documents_of_hidden_tenders_cannot_be_downloaded_by_id(client, request, hidden, who):
    if who:
        client.force_login(request.getfixturevalue(who))
    for tender in hidden:
        for document in tender.documents.all():
            assert client.get(f"/en/portal/documents/{document.pk}/").status_code == 404


@pytest.mark.parametrize("status", [AddendumStatus.PENDING_APPROVAL, AddendumStatus.DRAFT, AddendumStatus.WITHDRAWN])
@pytest.mark.parametrize("who", [None, "vendor_user", "other_officer"])
def test_documents_of_an_unissued_addendum_cannot_be_downloaded(client, request, published, officer, status, who):
    addendum = pending_addendum(published, by=officer)
    Addendum.objects.filter(pk=addendum.pk).update(status=status)
    document = with_document(published, title="Secret revised terms")
    TenderDocument.objects.filter(pk=document.pk).update(addendum=addendum)
    if who:
        client.force_login(request.getfixturevalue(who))

    response = client.get(f"/en/portal/documents/{document.pk}/")
    page = client.get(f"/en/portal/tenders/{published.reference}/")

    assert response.status_code == 404
    assert "Secret revised terms" not in page.content.decode()


def test_hidden_tender_pages_and_question_posts_are_404(client, vendor_user, hidden):
    client.force_login(vendor_user)
    for tender in hidden:
        assert client.get(f"/en/portal/tenders/{tender.reference}/").status_code == 404
        assert client.post(f"/en/portal/tenders/{tender.reference}/questions/", {"question": "?"}).status_code == 404
    assert not Clarification.objects.exists()


def test_the_asker_is_never_named_on_the_portal_feeds_or_other_vendors_notifications(
    client, officer, published, vendor_user
):
    vendor_user.full_name = "Asker McAskface"
    vendor_user.save()
    other_vendor = UserFactory(email="rival@example.com", roles=[Role.VENDOR_USER])
    tender_services.clarification_ask(actor=vendor_user, tender=published, question="Is hosting included?")
    tender_services.tender_document_download_record(user=other_vendor, document=published.documents.first())
    tender_services.clarification_answer(
        actor=officer, clarification=published.clarifications.get(), answer="Yes, for five years."
    )

    pages = [
        client.get(f"/en/portal/tenders/{published.reference}/"),
        client.get(f"/ar/portal/tenders/{published.reference}/"),
        client.get("/en/portal/feeds/tenders.rss"),
        client.get("/en/portal/feeds/tenders.atom"),
    ]
    client.force_login(other_vendor)
    pages.append(client.get("/en/notifications/"))

    for response in pages:
        body = response.content.decode()
        assert response.status_code == 200
        assert "Asker McAskface" not in body
        assert vendor_user.email not in body
    for notification in Notification.objects.filter(recipient=other_vendor):
        assert "Asker" not in notification.subject + notification.body
        assert vendor_user.email not in notification.subject + notification.body


# Redirects -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "target", [EVIL, "//evil.example/", "/\\evil.example", "https:evil.example", "\\\\evil.example"]
)
def test_sign_in_never_redirects_off_site(client, officer, target):
    response = client.post(
        f"/en/accounts/sign-in/?next={target}",
        {"username": officer.email, "password": "correct-horse-battery", "next": target},
    )

    assert response.status_code == 302
    location = response["Location"]
    assert "evil.example" not in location
    assert not urlsplit(location).netloc


@pytest.mark.parametrize("target", [EVIL, "//evil.example/", "/\\evil.example", "/en/../\\evil.example"])
def test_the_language_switch_never_redirects_off_site(client, target):
    response = client.post("/i18n/setlang/", {"language": "ar", "next": target}, HTTP_REFERER=EVIL)

    assert response.status_code == 302
    location = response["Location"]
    assert not urlsplit(location).netloc
    assert not location.startswith(("//", "/\\", "\\"))


def test_the_language_switch_with_a_bad_language_does_not_500(client):
    response = client.post("/i18n/setlang/", {"language": "xx<script>", "next": "/en/portal/tenders/"})

    assert response.status_code in (302, 200)


# Notifications -------------------------------------------------------------------------------------


def test_marking_another_persons_notification_as_read_does_nothing(client, officer, vendor_user, published):
    theirs = Notification.objects.create(recipient=officer, kind="tender.published", tender=published)
    client.force_login(vendor_user)

    response = client.post("/en/notifications/read/", {"notification": [theirs.pk, "abc", "-1", "", "١"]})

    assert response.status_code == 302
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_a_huge_notification_id_in_mark_read_is_ignored_not_500(client, vendor_user, published):
    mine = Notification.objects.create(recipient=vendor_user, kind="tender.published", tender=published)
    client.force_login(vendor_user)

    response = client.post("/en/notifications/read/", {"notification": [mine.pk, "9" * 30]})

    assert response.status_code == 302


def test_the_notification_list_shows_only_ones_own(client, officer, vendor_user, published):
    Notification.objects.create(
        recipient=officer, kind="tender.returned", tender=published, context={"comments": "PRIVATE-X"}
    )
    client.force_login(vendor_user)

    response = client.get("/en/notifications/")

    assert response.status_code == 200
    assert "PRIVATE-X" not in response.content.decode()


# Uploads -------------------------------------------------------------------------------------------


def _upload(client, tender, name, content, title="Annex"):
    return client.post(
        f"/en/tenders/{tender.pk}/documents/",
        {"title": title, "file": SimpleUploadedFile(name, content, content_type="application/pdf")},
    )


def test_a_traversal_file_name_is_stored_under_a_generated_name(client, officer, draft):
    client.force_login(officer)

    response = _upload(client, draft, "../../etc/passwd.pdf", PDF_BYTES)

    assert response.status_code == 302
    document = draft.documents.get(title="Annex")
    assert ".." not in document.file.name and "passwd" not in document.file.name
    assert document.file.name.startswith(f"tenders/{draft.pk}/")
    path = os.path.realpath(document.file.path)
    assert path.startswith(os.path.realpath(settings.MEDIA_ROOT) + os.sep)
    download = client.get(f"/en/portal/documents/{document.pk}/")
    assert download.status_code == 200
    assert download["Content-Disposition"].startswith("attachment")
    assert download["X-Content-SHA256"] == document.sha256


@pytest.mark.parametrize(
    "content",
    [
        b"<html><script>alert(1)</script></html>",
        b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
        b"  %PDF-1.7 leading spaces",
        b"MZ\x90\x00 executable",
    ],
)
def test_a_file_whose_content_is_not_a_pdf_is_refused_whatever_its_name(client, officer, draft, content):
    client.force_login(officer)
    before = draft.documents.count()
    events = AuditEvent.objects.count()

    response = _upload(client, draft, "terms.pdf", content)

    assert response.status_code == 200
    assert "not accepted" in response.content.decode()
    assert draft.documents.count() == before
    assert AuditEvent.objects.count() == events


def test_an_empty_file_is_refused(client, officer, draft):
    client.force_login(officer)
    before = draft.documents.count()

    response = _upload(client, draft, "empty.pdf", b"")

    assert response.status_code == 200
    assert draft.documents.count() == before


def test_a_polyglot_pdf_with_html_is_served_only_as_a_pdf_attachment(client, officer, draft):
    client.force_login(officer)
    _upload(client, draft, "x.html", b"%PDF-1.7\n<html><script>alert(1)</script></html>")
    document = draft.documents.get(title="Annex")

    response = client.get(f"/en/portal/documents/{document.pk}/")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment")
    assert response["X-Content-Type-Options"] == "nosniff"


def test_uploads_to_another_agencys_draft_are_refused(client, other_officer, draft):
    client.force_login(other_officer)
    before = draft.documents.count()

    response = _upload(client, draft, "terms.pdf", PDF_BYTES)

    assert response.status_code == 403
    assert draft.documents.count() == before


# Injection is escaped everywhere -------------------------------------------------------------------


def test_script_in_titles_questions_and_answers_is_escaped_on_every_page_and_feed(
    client, officer, approver, auditor, vendor_user, phase
):
    tender = make_published(
        _ready(TenderFactory(phase=phase, created_by=officer, title_en=XSS, title_ar=XSS, description_en=XSS))
    )
    tender_services.clarification_ask(actor=vendor_user, tender=tender, question=XSS)
    tender_services.clarification_answer(actor=officer, clarification=tender.clarifications.get(), answer=XSS)
    tender_services.tender_cancel(actor=officer, tender=tender, reason=XSS)

    urls = [
        f"/en/portal/tenders/{tender.reference}/",
        f"/ar/portal/tenders/{tender.reference}/",
        f"/en/portal/tenders/?q={XSS}",
        "/en/portal/tenders/",
        "/en/portal/feeds/tenders.rss",
        "/en/portal/feeds/tenders.atom",
    ]
    for response in [client.get(u) for u in urls]:
        assert response.status_code == 200
        assert b"<script>alert" not in response.content
        assert b"<img src=x" not in response.content
    for user in (officer, approver, auditor, vendor_user):
        client.force_login(user)
        for url in (f"/en/tenders/{tender.pk}/", "/en/tenders/", f"/en/tenders/?q={XSS}", "/en/notifications/", "/en/"):
            response = client.get(url)
            if response.status_code == 403:
                continue
            assert response.status_code == 200, (user.email, url)
            assert b"<script>alert" not in response.content, (user.email, url)
            assert b"<img src=x" not in response.content, (user.email, url)


# Odd input never gives a 500 -----------------------------------------------------------------------

CURSORS = ["abc", "-1", "999999999999999999999", "1e10", "", "0x10", "١٢٣", "1.5", "%00"]


@pytest.mark.parametrize("cursor", CURSORS)
@pytest.mark.parametrize("name", ["after", "before"])
def test_cursors_on_the_officers_list_and_notifications_never_500(client, officer, published, name, cursor):
    Notification.objects.create(recipient=officer, kind="tender.published", tender=published)
    client.force_login(officer)

    assert client.get("/en/tenders/", {name: cursor}).status_code == 200
    assert client.get("/en/notifications/", {name: cursor}).status_code == 200


@pytest.mark.parametrize("cursor", CURSORS)
@pytest.mark.parametrize("name", ["after", "before", "open_after", "open_before"])
def test_cursors_on_the_portal_list_never_500(client, published, name, cursor):
    assert client.get("/en/portal/tenders/", {name: cursor}).status_code == 200


@pytest.mark.parametrize(
    "cursor",
    ["1.999999999999999999999", "999999999999999999999.1", "-99999999999999999.1", "1.-1", "nan.1", "1.1.1"],
)
@pytest.mark.parametrize("name", ["open_after", "open_before"])
def test_deadline_cursors_with_huge_parts_never_500(client, published, name, cursor):
    assert client.get("/en/portal/tenders/", {name: cursor}).status_code == 200


@pytest.mark.parametrize(
    "query",
    [
        "?status=nope",
        "?agency=999999",
        "?agency=%3Cscript%3E",
        "?phase=abc",
        "?phase=-1",
        "?phase=999999999999999999999",
        "?method=nope",
        "?category=nope",
        "?value_min=abc",
        "?value_min=-5",
        "?value_min=NaN",
        "?value_max=Infinity",
        "?deadline_from=not-a-date",
        "?deadline_to=2024-02-30",
        "?q=" + "x" * 5000,
        "?q=%00",
    ],
)
def test_unknown_filter_values_on_the_officers_list_never_500(client, officer, published, query):
    client.force_login(officer)

    assert client.get(f"/en/tenders/{query}").status_code == 200


@pytest.mark.parametrize(
    "query",
    [
        "?status=nope",
        "?agency=999999",
        "?phase=abc",
        "?phase=999999999999999999999",
        "?value_min=abc",
        "?value_min=NaN",
        "?closing_from=not-a-date",
        "?closing_to=2024-02-30",
        "?q=%00",
        "?q=" + "x" * 5000,
    ],
)
def test_unknown_filter_values_on_the_portal_never_500(client, published, query):
    response = client.get(f"/en/portal/tenders/{query}")

    assert response.status_code == 200


@pytest.mark.parametrize("url", ["/en/portal/tenders/?closing_to=9999-12-31", "/en/tenders/?deadline_to=9999-12-31"])
def test_the_last_representable_day_as_an_upper_date_bound_does_not_500(client, officer, published, url):
    client.force_login(officer)

    assert client.get(url).status_code == 200


@pytest.mark.parametrize(
    "url", ["/en/portal/tenders/?closing_from=0001-01-01", "/en/tenders/?deadline_from=0001-01-01"]
)
def test_the_first_representable_day_as_a_lower_date_bound_does_not_500(client, officer, published, url):
    client.force_login(officer)

    assert client.get(url).status_code == 200


@pytest.mark.parametrize("value", ["1e30", "99999999999999999999999999", "0.0000000000000000001"])
@pytest.mark.parametrize("url", ["/en/portal/tenders/?value_min=", "/en/tenders/?value_max="])
def test_huge_or_very_precise_value_filters_do_not_500(client, officer, published, url, value):
    client.force_login(officer)

    assert client.get(url + value).status_code == 200


# Questions: length, script, languages, the deadline race ---------------------------------------------


def test_a_100k_character_question_gets_a_clear_message_and_is_kept(client, vendor_user, published):
    client.force_login(vendor_user)
    events = AuditEvent.objects.count()

    response = client.post(f"/en/portal/tenders/{published.reference}/questions/", {"question": "q" * 100_000})

    assert response.status_code == 200
    assert "at most 4000 characters" in response.content.decode() or "4000" in response.content.decode()
    assert not Clarification.objects.exists()
    assert AuditEvent.objects.count() == events


def test_a_100k_character_answer_is_refused_or_accepted_without_500(client, officer, published, question):
    client.force_login(officer)

    response = client.post(f"/en/tenders/{published.pk}/questions/1/answer/", {"q1-answer": "a" * 100_000})

    assert response.status_code in (200, 302)


def test_arabic_text_and_emoji_round_trip(client, officer, vendor_user, published):
    text = "هل الاستضافة مشمولة؟ 🚀👩🏽‍💻 ﷺ"
    client.force_login(vendor_user)
    client.post(f"/en/portal/tenders/{published.reference}/questions/", {"question": text})
    assert Clarification.objects.get(tender=published).question == text

    client.force_login(officer)
    client.post(f"/en/tenders/{published.pk}/questions/1/answer/", {"q1-answer": text + " نعم"})

    page = client.get(f"/ar/portal/tenders/{published.reference}/").content.decode()
    assert text in page
    assert text + " نعم" in page
    assert text in AuditEvent.objects.filter(action="tender.question_asked").get().payload["question"]


def test_a_question_one_second_after_the_clarification_deadline_is_refused(client, vendor_user, published):
    client.force_login(vendor_user)
    late = published.clarification_deadline + datetime.timedelta(seconds=1)

    with mock.patch.object(tender_services, "_now", return_value=late):
        response = client.post(f"/en/portal/tenders/{published.reference}/questions/", {"question": "Late?"})

    assert response.status_code == 200
    assert status_of(published) == TenderStatus.PUBLISHED
    assert not Clarification.objects.exists()
    assert AuditEvent.objects.filter(action="tender.question_refused").count() == 1


def test_a_question_exactly_at_the_clarification_deadline_is_refused(client, vendor_user, published):
    client.force_login(vendor_user)

    with mock.patch.object(tender_services, "_now", return_value=published.clarification_deadline):
        client.post(f"/en/portal/tenders/{published.reference}/questions/", {"question": "On the dot?"})

    assert not Clarification.objects.exists()


def test_a_question_to_a_tender_whose_status_was_tampered_back_to_published_after_closing_is_refused(
    client, vendor_user, published
):
    """Someone edits the database to reopen a tender; its deadlines still decide."""
    Tender.objects.filter(pk=published.pk).update(clarification_deadline=timezone.now() - DAY)
    client.force_login(vendor_user)

    client.post(f"/en/portal/tenders/{published.reference}/questions/", {"question": "Reopened?"})

    assert not Clarification.objects.exists()


def test_an_answer_after_the_submission_deadline_is_refused(client, officer, published, question):
    client.force_login(officer)
    late = published.submission_deadline + datetime.timedelta(seconds=1)

    with mock.patch.object(tender_services, "_now", return_value=late):
        client.post(f"/en/tenders/{published.pk}/questions/1/answer/", {"q1-answer": "Too late"})

    assert Clarification.objects.get(pk=question.pk).answer == ""


def test_a_close_one_second_before_the_deadline_is_refused(client, officer, published):
    client.force_login(officer)
    early = published.submission_deadline - datetime.timedelta(seconds=1)

    with mock.patch.object(tender_services, "_now", return_value=early):
        client.post(f"/en/tenders/{published.pk}/close/")

    assert status_of(published) == TenderStatus.PUBLISHED


# Suspended people ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "tender_name", "action", "data"),
    [
        ("officer", "draft", "submit", {}),
        ("approver", "pending", "approve", {}),
        ("officer", "draft", "cancel", {"reason": "x"}),
    ],
)
def test_a_person_suspended_mid_session_cannot_act(client, request, who, tender_name, action, data):
    tender = request.getfixturevalue(tender_name)
    user = request.getfixturevalue(who)
    client.force_login(user)
    type(user).objects.filter(pk=user.pk).update(is_active=False)
    events = AuditEvent.objects.count()

    response = client.post(f"/en/tenders/{tender.pk}/{action}/", data)

    assert response.status_code in (302, 403)
    if response.status_code == 302:
        assert "/accounts/sign-in/" in response["Location"]
    assert status_of(tender) == tender.status
    assert AuditEvent.objects.count() == events


def test_a_suspended_vendor_cannot_ask(client, vendor_user, published):
    client.force_login(vendor_user)
    type(vendor_user).objects.filter(pk=vendor_user.pk).update(is_active=False)

    client.post(f"/en/portal/tenders/{published.reference}/questions/", {"question": "Still here?"})

    assert not Clarification.objects.exists()


def test_a_suspended_person_cannot_sign_in(client, officer):
    type(officer).objects.filter(pk=officer.pk).update(is_active=False)

    response = client.post("/en/accounts/sign-in/", {"username": officer.email, "password": "correct-horse-battery"})

    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


def test_the_services_refuse_a_suspended_actor(draft, pending, officer, approver):
    """Even called directly (a task, the shell, a future API) with a user object that was suspended."""
    officer.is_active = False
    approver.is_active = False
    for attr in ("role_names", "_vendor_membership"):
        officer.__dict__.pop(attr, None)
        approver.__dict__.pop(attr, None)

    with pytest.raises(PermissionDenied):
        tender_services.tender_submit_for_approval(actor=officer, tender=draft)
    with pytest.raises(PermissionDenied):
        tender_services.tender_approve(actor=approver, tender=pending)
    assert status_of(draft) == TenderStatus.DRAFT
    assert status_of(pending) == TenderStatus.PENDING_APPROVAL


# Last: after all the attacks the audit log still verifies ------------------------------------------


def test_after_the_attacks_the_audit_log_still_verifies(client, officer, approver, vendor_user, other_officer, draft):
    client.force_login(officer)
    client.post(f"/en/tenders/{draft.pk}/submit/")
    client.force_login(officer)
    client.post(f"/en/tenders/{draft.pk}/approve/")  # four eyes: refused and recorded
    client.force_login(other_officer)
    client.post(f"/en/tenders/{draft.pk}/cancel/", {"reason": "x"})
    client.force_login(approver)
    client.post(f"/en/tenders/{draft.pk}/approve/")
    assert status_of(draft) == TenderStatus.PUBLISHED
    client.force_login(vendor_user)
    client.post(f"/en/portal/tenders/{Tender.objects.get(pk=draft.pk).reference}/questions/", {"question": XSS})
    late = Tender.objects.get(pk=draft.pk).clarification_deadline + datetime.timedelta(seconds=1)
    with mock.patch.object(tender_services, "_now", return_value=late):
        client.post(f"/en/portal/tenders/{draft.reference}/questions/", {"question": "late"})

    actions = list(AuditEvent.objects.values_list("action", flat=True))
    assert "tender.approval_refused" in actions
    assert "tender.question_refused" in actions
    assert_audit_log_intact()
