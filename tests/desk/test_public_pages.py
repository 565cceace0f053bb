"""The desk's public pages: sending without an account, the confirmation shown once, the private tracking page
and reopening; and what bad input gets (spam, floods, oversized or hostile text, guessed links)."""

from __future__ import annotations

import datetime
import re
from html import unescape

import pytest
from django.core import mail
from django.utils import timezone

from desk.models import DeskItem, ItemStatus
from procurement.models import Tender
from procurement.models.tenders import TenderStatus
from tests.desk.conftest import tracking_path
from tests.desk.factories import submit
from tests.html_checks import check_page, form_values
from tests.procurement.tender_factories import TenderFactory

pytestmark = pytest.mark.django_db

HOSTILE = '<script>alert("x")</script><b onmouseover="steal()">bold</b>'


def form_data(chosen_agency, /, **overrides) -> dict:
    return {
        "kind": "complaint",
        "topic": "service",
        "agency": str(chosen_agency.pk),
        "reference": "",
        "subject": "The licence page fails",
        "message": "Every time I press Renew the page shows an error.\nPlease fix it.",
        "sender_name": "Huda Salem",
        "sender_email": "huda@example.com",
        "sender_phone": "+966 50 123 4567",
        "website": "",
        **overrides,
    }


def test_the_form_is_accessible_and_works_without_an_account(client, agency):
    response = client.get("/en/desk/")
    assert response.status_code == 200
    report = check_page(response.content)
    assert report.unlabelled_controls == []
    assert report.main_count == 1
    assert (report.lang, report.dir) == ("en", "ltr")
    arabic = check_page(client.get("/ar/desk/").content)
    assert (arabic.lang, arabic.dir) == ("ar", "rtl")


def test_send_confirm_once_track_and_acknowledgement(client, agency, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/en/desk/", form_data(agency), REMOTE_ADDR="192.0.2.10")
    item = DeskItem.objects.get()
    assert response.status_code == 302 and response.url == f"/en/desk/sent/{item.reference}/"
    assert (item.agency, item.kind, item.language, item.status) == (agency, "complaint", "en", ItemStatus.RECEIVED)
    page = client.get(response.url)
    html = page.content.decode()
    assert item.reference in html
    assert "no-store" in page["Cache-Control"] and 'name="robots" content="noindex' in html
    link = tracking_path(html)
    # The same link was e-mailed; the confirmation is shown only once.
    (email,) = mail.outbox
    assert tracking_path(email.body) == link
    assert client.get(response.url).status_code == 302
    tracked = client.get(link)
    assert tracked.status_code == 200 and "no-store" in tracked["Cache-Control"]
    assert "Every time I press Renew" in tracked.content.decode()


def test_arabic_sender_gets_arabic_language(client, agency, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/ar/desk/", form_data(agency), REMOTE_ADDR="192.0.2.11")
    assert DeskItem.objects.get().language == "ar"
    assert tracking_path(mail.outbox[0].body).startswith("/ar/desk/track/")


def test_html_in_a_message_is_shown_as_text(client, agency, officer):
    item, key = submit(agency=agency, subject=HOSTILE, message=HOSTILE, sender_name=HOSTILE)
    for html in (
        client.get(f"/en/desk/track/{item.reference}/{key}/").content.decode(),
        _signed_in(client, officer).get(f"/en/desk/items/{item.pk}/").content.decode(),
        client.get("/en/desk/queue/").content.decode(),
    ):
        assert "<script>alert" not in html and "<b onmouseover" not in html
        assert "&lt;script&gt;" in html


def _signed_in(client, user):
    client.force_login(user)
    return client


def test_wrong_or_altered_tracking_links_show_nothing(client, item):
    desk_item, key = item
    altered = key[:-2] + ("xy" if not key.endswith("xy") else "zz")
    responses = [
        client.get(f"/en/desk/track/{desk_item.reference}/{altered}/"),
        client.get(f"/en/desk/track/{desk_item.reference}/{'a' * 43}/"),
        client.get(f"/en/desk/track/DSK-2026-999999/{key}/"),
        client.get(f"/en/desk/track/{desk_item.reference}/{key}x/"),
        client.post(f"/en/desk/track/{desk_item.reference}/{altered}/reopen/", {"reason": "Let me in"}),
    ]
    for response in responses:
        assert response.status_code == 404
        html = response.content.decode()
        assert desk_item.subject not in html and desk_item.sender_email not in html
    # A wrong key for an existing item looks exactly like one for an item that does not exist.
    wrong_key, unknown_reference = (
        _without_request_details(response, path)
        for response, path in (
            (responses[0], f"/en/desk/track/{desk_item.reference}/{altered}/"),
            (responses[2], f"/en/desk/track/DSK-2026-999999/{key}/"),
        )
    )
    assert wrong_key == unknown_reference


def _without_request_details(response, path: str) -> str:
    """The page without its own address and its CSRF token (the language switch and sign-in link carry them)."""
    from urllib.parse import quote

    html = response.content.decode().replace(path, "PATH").replace(quote(path, safe=""), "PATH")
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", html)


def test_honeypot_refuses_and_keeps_what_was_typed(client, agency):
    data = form_data(agency, website="http://spam.example")
    response = client.post("/en/desk/", data, REMOTE_ADDR="192.0.2.12")
    assert response.status_code == 200
    assert not DeskItem.objects.exists() and not mail.outbox
    assert "could not be sent" in response.content.decode()
    values = form_values(response.content)
    assert values["message"] == [data["message"].replace("\n", "\r\n")] or values["message"] == [data["message"]]
    assert values["subject"] == [data["subject"]] and values["sender_email"] == [data["sender_email"]]


def test_validation_errors_keep_everything_typed_and_nothing_is_cut(client, agency):
    long_message = "A long complaint. " * 300  # 5400 characters, over the limit
    data = form_data(agency, message=long_message, sender_email="not-an-address")
    response = client.post("/en/desk/", data, REMOTE_ADDR="192.0.2.13")
    assert response.status_code == 200 and not DeskItem.objects.exists()
    html = response.content.decode()
    assert "at most 5000 characters" in html and "error-summary" in html
    values = form_values(response.content)
    assert values["message"] == [long_message]
    assert values["sender_email"] == ["not-an-address"]
    assert values["kind"] == ["complaint"] and values["agency"] == [str(agency.pk)]
    assert values["sender_phone"] == [data["sender_phone"]]
    assert "maxlength" not in html.split('name="message"')[0].rsplit("<textarea", 1)[-1]


def test_flood_from_one_address_is_throttled_without_losing_the_message(client, agency):
    for number in range(5):
        response = client.post(
            "/en/desk/", form_data(agency, sender_email=f"bot{number}@example.com"), REMOTE_ADDR="192.0.2.50"
        )
        assert response.status_code == 302
    data = form_data(agency, sender_email="bot9@example.com", subject="Sixth")
    response = client.post("/en/desk/", data, REMOTE_ADDR="192.0.2.50")
    assert response.status_code == 200 and "Too many messages" in response.content.decode()
    assert form_values(response.content)["subject"] == ["Sixth"]
    assert DeskItem.objects.count() == 5
    # Another address is still served.
    assert client.post("/en/desk/", data, REMOTE_ADDR="192.0.2.51").status_code == 302


def test_an_item_about_a_public_tender_goes_to_its_agency(client, agency, other_agency):
    tender = TenderFactory(agency=other_agency, reference="MOH-2026-0007")
    Tender.objects.filter(pk=tender.pk).update(status=TenderStatus.PUBLISHED, published_at=timezone.now())
    data = form_data(agency, topic="tender", reference="moh-2026-0007", agency="")
    assert client.post("/en/desk/", data, REMOTE_ADDR="192.0.2.60").status_code == 302
    item = DeskItem.objects.get()
    assert (item.tender_id, item.agency) == (tender.pk, other_agency)


def test_a_draft_tender_cannot_be_named_and_is_not_revealed(client, agency):
    TenderFactory(agency=agency, reference="MCIT-2026-0099", title_en="Secret draft plan")
    data = form_data(agency, topic="tender", reference="MCIT-2026-0099")
    response = client.post("/en/desk/", data, REMOTE_ADDR="192.0.2.61")
    html = response.content.decode()
    assert response.status_code == 200 and "No published tender has this reference." in html
    assert "Secret draft plan" not in html and not DeskItem.objects.exists()
    missing = client.post("/en/desk/", form_data(agency, topic="tender", reference="NOPE-1"), REMOTE_ADDR="192.0.2.62")
    assert unescape(missing.content.decode()).count("No published tender has this reference.") == html.count(
        "No published tender has this reference."
    )


def test_a_contract_reference_that_is_not_a_signed_contract_is_refused(client, agency):
    response = client.post(
        "/en/desk/", form_data(agency, topic="contract", reference="MCIT-2026-0001-C1"), REMOTE_ADDR="192.0.2.63"
    )
    assert "No signed contract has this reference." in response.content.decode()


def test_a_service_item_needs_an_agency(client, agency):
    response = client.post("/en/desk/", form_data(agency, agency=""), REMOTE_ADDR="192.0.2.64")
    assert response.status_code == 200 and "Choose the agency" in response.content.decode()


def test_signed_in_sender_is_prefilled_and_recorded(client, vendor_user, agency):
    client.force_login(vendor_user)
    values = form_values(client.get("/en/desk/?kind=inquiry&topic=tender&reference=MCIT-2026-0001").content)
    assert values["sender_email"] == [vendor_user.email] and values["reference"] == ["MCIT-2026-0001"]
    assert values["kind"] == ["inquiry"] and values["topic"] == ["tender"]
    client.post("/en/desk/", form_data(agency, sender_email=vendor_user.email), REMOTE_ADDR="192.0.2.65")
    assert DeskItem.objects.get().sender_user == vendor_user


def test_tracking_page_shows_status_history_and_reopens(client, item, officer, django_assert_max_num_queries):
    desk_item, key = item
    url = f"/en/desk/track/{desk_item.reference}/{key}/"
    html = client.get(url).content.decode()
    assert "Received" in html and "Reopen" not in html
    from desk import services

    services.item_assign(actor=officer, item=desk_item, assignee=officer)
    services.item_answer(actor=officer, item=desk_item, answer="Use the <Licences> page.")
    with django_assert_max_num_queries(8):
        page = client.get(url)
    html = page.content.decode()
    assert "Use the &lt;Licences&gt; page." in html and "Reopen" in html
    assert officer.full_name not in html and officer.email not in html  # who handled it stays internal
    assert check_page(page.content).unlabelled_controls == []
    # Reopening with an empty reason keeps the page and says why.
    response = client.post(url + "reopen/", {"reason": ""})
    assert response.status_code == 200 and "error-summary" in response.content.decode()
    response = client.post(url + "reopen/", {"reason": "The page does not exist."})
    assert response.status_code == 302 and response.url == url
    assert DeskItem.objects.get().status == ItemStatus.ASSIGNED
    assert "The page does not exist." in client.get(url).content.decode()


def test_reopening_after_the_period_is_refused_with_a_message(client, item, officer):
    desk_item, key = item
    from desk import services

    services.item_answer(actor=officer, item=desk_item, answer="Done.")
    DeskItem.objects.update(answered_at=timezone.now() - datetime.timedelta(days=30))
    url = f"/en/desk/track/{desk_item.reference}/{key}/"
    assert "Reopen" not in client.get(url).content.decode()
    response = client.post(url + "reopen/", {"reason": "Please look again."})
    assert response.status_code == 200 and DeskItem.objects.get().status == ItemStatus.ANSWERED
