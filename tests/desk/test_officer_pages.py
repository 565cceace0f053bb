"""The agency's side of the desk: the queue (its reach, filters, keyset pages at a constant number of queries),
the item page and its actions, FAQ publishing, and the response-time dashboard. Attackers included."""

from __future__ import annotations

import datetime
import re

import pytest
from django.core import mail
from django.utils import timezone

from desk import services
from desk.models import DeskItem, FaqEntry, ItemStatus
from tests.desk.factories import submit
from tests.html_checks import check_page, form_values

pytestmark = pytest.mark.django_db


def references(html: str) -> set[str]:
    import re

    return set(re.findall(r">(DSK-\d{4}-\d{6})</a>", html))


@pytest.fixture
def two_agencies(agency, other_agency):
    ours = [submit(agency=agency, kind=kind)[0] for kind in ("inquiry", "suggestion", "complaint")]
    theirs = [submit(agency=other_agency)[0]]
    return ours, theirs


def test_officer_queue_shows_only_their_agency(client, officer, two_agencies):
    ours, theirs = two_agencies
    client.force_login(officer)
    response = client.get("/en/desk/queue/")
    assert references(response.content.decode()) == {item.reference for item in ours}
    assert check_page(response.content).unlabelled_controls == []
    # Asking for the other agency through the URL changes nothing.
    other = client.get(f"/en/desk/queue/?agency={theirs[0].agency_id}")
    assert not references(other.content.decode()) & {theirs[0].reference}


def test_auditor_sees_every_agency_and_filters(client, auditor, two_agencies, other_agency):
    ours, theirs = two_agencies
    client.force_login(auditor)
    html = client.get("/en/desk/queue/").content.decode()
    assert references(html) == {item.reference for item in ours + theirs}
    html = client.get(f"/en/desk/queue/?agency={other_agency.pk}").content.decode()
    assert references(html) == {theirs[0].reference}
    assert references(client.get("/en/desk/queue/?kind=complaint").content.decode()) == {ours[2].reference}


def test_queue_filters_by_status_age_and_overdue(client, officer, two_agencies):
    ours, _theirs = two_agencies
    services.item_answer(actor=officer, item=ours[0], answer="Done.")
    DeskItem.objects.filter(pk=ours[1].pk).update(
        received_at=timezone.now() - datetime.timedelta(days=10), due_at=timezone.now() - datetime.timedelta(days=7)
    )
    client.force_login(officer)
    assert references(client.get("/en/desk/queue/?status=answered").content.decode()) == {ours[0].reference}
    assert references(client.get("/en/desk/queue/?age=month").content.decode()) == {ours[1].reference}
    assert references(client.get("/en/desk/queue/?age=day").content.decode()) == {ours[0].reference, ours[2].reference}
    assert references(client.get("/en/desk/queue/?overdue=true").content.decode()) == {ours[1].reference}


def test_queue_pages_run_a_constant_number_of_queries(client, officer, agency, colleague):
    client.force_login(officer)
    for _number in range(3):
        item, _key = submit(agency=agency)
        services.item_assign(actor=officer, item=item, assignee=colleague)
    client.get("/en/desk/queue/")  # warm the session and the permission caches
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        client.get("/en/desk/queue/")
    for _number in range(40):
        item, _key = submit(agency=agency)
        services.item_assign(actor=officer, item=item, assignee=colleague)
    with CaptureQueriesContext(connection) as many:
        first_page = client.get("/en/desk/queue/")
    assert len(many) == len(few)
    assert len(references(first_page.content.decode())) == 25
    next_link = form_next(first_page.content.decode())
    second = client.get("/en/desk/queue/" + next_link)
    assert len(references(second.content.decode())) == 18


def form_next(html: str) -> str:
    import re
    from html import unescape

    return unescape(re.search(r'<a rel="next" href="([^"]+)"', html).group(1))


def test_queue_query_bound(client, officer, agency, django_assert_max_num_queries):
    for _number in range(30):
        submit(agency=agency)
    client.force_login(officer)
    client.get("/en/desk/queue/")
    with django_assert_max_num_queries(10):
        client.get("/en/desk/queue/?kind=inquiry&status=received&overdue=false")


def test_people_without_a_desk_role_are_refused(client, vendor_user, committee_member, item):
    assert client.get("/en/desk/queue/").status_code == 302  # to sign in
    for person in (vendor_user, committee_member):
        client.force_login(person)
        assert client.get("/en/desk/queue/").status_code == 403
        assert client.get(f"/en/desk/items/{item[0].pk}/").status_code == 403
        assert client.get("/en/desk/dashboard/").status_code == 403


def test_another_agencys_officer_can_neither_read_nor_act(client, other_officer, item):
    desk_item = item[0]
    client.force_login(other_officer)
    assert client.get(f"/en/desk/items/{desk_item.pk}/").status_code == 403
    for action, data in (
        ("assign", {"assignee": other_officer.pk}),
        ("answer", {"answer": "Hijacked"}),
        ("close", {"note": "Hijacked"}),
    ):
        assert client.post(f"/en/desk/items/{desk_item.pk}/{action}/", data).status_code == 403
    assert client.get(f"/en/desk/items/{desk_item.pk}/faq/").status_code == 403
    assert DeskItem.objects.get().status == ItemStatus.RECEIVED


def test_auditor_reads_but_changes_nothing(client, auditor, item):
    desk_item = item[0]
    client.force_login(auditor)
    html = client.get(f"/en/desk/items/{desk_item.pk}/").content.decode()
    assert desk_item.message in html
    assert 'name="answer"' not in html and 'name="assignee"' not in html and 'name="note"' not in html
    assert (
        client.post(f"/en/desk/items/{desk_item.pk}/answer/", {"answer": "Auditors do not answer"}).status_code == 403
    )
    assert DeskItem.objects.get().status == ItemStatus.RECEIVED


def test_officer_assigns_answers_and_closes_through_the_pages(
    client, officer, colleague, item, django_capture_on_commit_callbacks
):
    desk_item = item[0]
    client.force_login(officer)
    page = client.get(f"/en/desk/items/{desk_item.pk}/")
    assert check_page(page.content).unlabelled_controls == []
    response = client.post(f"/en/desk/items/{desk_item.pk}/assign/", {"assignee": colleague.pk})
    assert response.status_code == 302
    mail.outbox.clear()
    # An empty answer comes back with the form; the answer typed is kept on other errors.
    response = client.post(f"/en/desk/items/{desk_item.pk}/answer/", {"answer": ""})
    assert response.status_code == 200 and "error-summary" in response.content.decode()
    long_answer = "x" * 10001
    response = client.post(f"/en/desk/items/{desk_item.pk}/answer/", {"answer": long_answer})
    assert form_values(response.content)["answer"] == [long_answer]
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/en/desk/items/{desk_item.pk}/answer/", {"answer": "Here is how."})
    assert response.status_code == 302
    assert [email.to for email in mail.outbox] == [[desk_item.sender_email]]
    response = client.post(f"/en/desk/items/{desk_item.pk}/close/", {"note": ""})
    assert response.status_code == 302
    assert DeskItem.objects.get().status == ItemStatus.CLOSED
    # Closed: no action is offered any more.
    html = client.get(f"/en/desk/items/{desk_item.pk}/").content.decode()
    assert 'name="answer"' not in html and 'name="note"' not in html


def test_a_second_answer_on_a_closed_item_is_refused_with_a_message(client, officer, item):
    desk_item = item[0]
    services.item_close(actor=officer, item=desk_item, note="Spam.")
    client.force_login(officer)
    response = client.post(f"/en/desk/items/{desk_item.pk}/answer/", {"answer": "Late"})
    assert response.status_code == 200 and "cannot be done while the item is closed" in response.content.decode()


def test_publish_an_answered_inquiry_as_faq(client, officer, agency, django_assert_max_num_queries):
    item, _key = submit(agency=agency, message="Can I pay the fee by card? My name is Huda.", language="en")
    client.force_login(officer)
    assert client.get(f"/en/desk/items/{item.pk}/faq/").status_code == 200
    response = client.post(
        f"/en/desk/items/{item.pk}/faq/", {"question_en": "Can I pay the fee by card?", "answer_en": ""}
    )
    assert "Only an answered inquiry can be published" in response.content.decode()
    assert not FaqEntry.objects.exists()  # not answered yet
    services.item_answer(actor=officer, item=item, answer="Yes, by any card.")
    initial = form_values(client.get(f"/en/desk/items/{item.pk}/faq/").content)
    assert initial["question_en"] == ["Can I pay the fee by card? My name is Huda."]
    # Both halves in a language, or neither; what was typed is kept.
    response = client.post(
        f"/en/desk/items/{item.pk}/faq/", {"question_en": "Can I pay the fee by card?", "answer_en": ""}
    )
    assert form_values(response.content)["question_en"] == ["Can I pay the fee by card?"]
    response = client.post(
        f"/en/desk/items/{item.pk}/faq/",
        {
            "question_en": "Can I pay the fee by card?",
            "answer_en": "Yes, by any card.",
            "question_ar": "",
            "answer_ar": "",
        },
    )
    assert response.status_code == 302
    entry = FaqEntry.objects.get()
    assert (entry.agency, entry.item, entry.is_published) == (agency, item, True)
    client.logout()
    for _number in range(3):
        other, _key = submit(agency=agency)
        services.item_answer(actor=officer, item=other, answer="Answer.")
        services.faq_publish(actor=officer, item=other, question_ar="سؤال", answer_ar="جواب")
    with django_assert_max_num_queries(6):
        html = client.get("/en/desk/faq/").content.decode()
    assert "Can I pay the fee by card?" in html and "Huda" not in html
    # Entries only in Arabic say so on an English page (for screen readers and fonts).
    assert len(re.findall(r'<article class="faq-entry" id="faq-\d+" lang="ar">', html)) == 3


def test_only_inquiries_become_faqs_and_only_by_the_agency(agency, officer, other_officer):
    from django.core.exceptions import PermissionDenied

    from core.exceptions import ActionRefused

    complaint, _key = submit(agency=agency, kind="complaint")
    services.item_answer(actor=officer, item=complaint, answer="Sorted.")
    with pytest.raises(ActionRefused):
        services.faq_publish(actor=officer, item=complaint, question_en="Q", answer_en="A")
    inquiry, _key = submit(agency=agency)
    services.item_answer(actor=officer, item=inquiry, answer="A")
    with pytest.raises(PermissionDenied):
        services.faq_publish(actor=other_officer, item=inquiry, question_en="Q", answer_en="A")


def test_dashboard_shows_weekly_response_times(
    client, officer, auditor, agency, other_agency, django_assert_max_num_queries
):
    # The middle of last week (UTC), so that the items fall in one week whatever day the test runs.
    today = timezone.now().astimezone(datetime.UTC)
    monday = (today - datetime.timedelta(days=today.weekday())).replace(hour=0, minute=0, second=0, microsecond=0)
    now = monday - datetime.timedelta(days=3)
    for hours, target_agency in ((2, agency), (10, agency), (30, other_agency)):
        item, _key = submit(agency=target_agency)
        services.item_answer(
            actor=officer if target_agency == agency else _officer_of(other_agency), item=item, answer="A"
        )
        DeskItem.objects.filter(pk=item.pk).update(
            received_at=now - datetime.timedelta(hours=hours), first_answered_at=now
        )
    client.force_login(officer)
    with django_assert_max_num_queries(8):
        response = client.get("/en/desk/dashboard/")
    html = response.content.decode()
    assert "<svg" in html and "<table" in html
    assert ">6.0<" in html  # median and average of 2 h and 10 h for the officer's agency
    assert ">30.0<" not in html
    client.force_login(auditor)
    html = client.get(f"/en/desk/dashboard/?agency={other_agency.pk}").content.decode()
    assert ">30.0<" in html
    assert check_page(client.get("/ar/desk/dashboard/").content).dir == "rtl"


def _officer_of(agency):
    from accounts.roles import Role
    from tests.accounts.factories import UserFactory

    return UserFactory(agency=agency, roles=[Role.PROCUREMENT_OFFICER])
