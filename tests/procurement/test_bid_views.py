"""The vendors' bid pages, from the side of the vendor who bids and of everyone who should not see them:
starting a bid from a tender, the draft form (which never loses what was typed), documents, submission,
the receipt and its PDF, modification, withdrawal; the messages for bad input; who gets a 404 or a 403;
and the cost of "My bids"."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.urls import reverse

from accounts.roles import Role
from procurement import bid_services, tasks
from procurement.bid_views import tender_bid_box
from procurement.models import Bid, BidFile, BidReceipt
from procurement.models.bids import BidStatus, ReceiptAction
from tests.accounts.factories import UserFactory
from tests.html_checks import check_page, form_values
from tests.procurement.bid_factories import bidder, document, published_tender, submitted_bid
from tests.vendors.factories import VendorFactory, member

pytestmark = pytest.mark.django_db


# Fixtures and helpers ----------------------------------------------------------------------------------


@pytest.fixture
def tender():
    return published_tender()[0]


@pytest.fixture
def vendor_admin():
    return bidder()[1]


@pytest.fixture
def signed_in(client, vendor_admin):
    client.force_login(vendor_admin)
    return client


def criteria(tender):
    return list(tender.criteria.order_by("order", "id"))


def draft_post(tender, *, action="save", lines=None, consortium=None, **fields) -> dict:
    """What the draft form sends: every answer, the offer, the price schedule and the consortium rows."""
    data = {"draft_form": "1", "action": action}
    for criterion in criteria(tender):
        data[f"answer_{criterion.pk}"] = f"Our answer to {criterion.name_en}"
    data.update(total_price="1500.00", currency=tender.currency, validity_days="90")
    lines = lines if lines is not None else [("Routers", "3", "unit", "500.00")]
    rows = [*lines, ("", "", "", "")]
    data.update({"lines-TOTAL_FORMS": str(len(rows)), "lines-INITIAL_FORMS": "0"})
    for index, (description, quantity, unit, unit_price) in enumerate(rows):
        data.update(
            {
                f"lines-{index}-description": description,
                f"lines-{index}-quantity": quantity,
                f"lines-{index}-unit": unit,
                f"lines-{index}-unit_price": unit_price,
            }
        )
    members = [*(consortium or []), ("", "")]
    data.update({"consortium-TOTAL_FORMS": str(len(members)), "consortium-INITIAL_FORMS": "0"})
    for index, (number, share) in enumerate(members):
        data.update({f"consortium-{index}-registration_number": number, f"consortium-{index}-share": share})
    data.update(fields)
    return data


def start(client, tender) -> Bid:
    response = client.post(reverse("procurement:bid_start", args=[tender.pk]))
    bid = Bid.objects.get(tender=tender, status=BidStatus.DRAFT)
    assert response.status_code == 302
    assert response["Location"] == reverse("procurement:bid_edit", args=[bid.pk])
    return bid


def edit_url(bid) -> str:
    return reverse("procurement:bid_edit", args=[bid.pk])


def upload(client, bid, tender, *, file=None, title="Technical offer", **fields):
    data = draft_post(tender, **fields)
    data.update(document_title=title, document=file or document())
    return client.post(reverse("procurement:bid_file_upload", args=[bid.pk]), data)


def page_text(response) -> str:
    return response.content.decode()


# The whole path --------------------------------------------------------------------------------------


def test_a_vendor_prepares_submits_modifies_and_withdraws_a_bid(
    signed_in, tender, vendor_admin, django_capture_on_commit_callbacks
):
    client = signed_in
    bid = start(client, tender)
    # Starting again returns the same bid.
    client.post(reverse("procurement:bid_start", args=[tender.pk]))
    assert Bid.objects.filter(tender=tender).count() == 1

    page = client.get(edit_url(bid))
    assert page.status_code == 200
    report = check_page(page.content)
    assert report.unlabelled_controls == [] and report.duplicate_ids == [] and report.main_count == 1
    for criterion in criteria(tender):
        assert f'name="answer_{criterion.pk}"' in page_text(page)
    # The currency is the tender's, shown and not typed; three empty rows wait in the price schedule.
    values = form_values(page.content)
    assert values["currency"] == [tender.currency]
    assert "lines-2-description" in values and "lines-3-description" not in values

    # Save: what was typed comes back exactly.
    response = client.post(edit_url(bid), draft_post(tender, total_price="1,500.00"))
    assert response.status_code == 302 and response["Location"] == edit_url(bid)
    draft = bid_services.read_draft(Bid.objects.get(pk=bid.pk))
    assert draft["total_price"] == "1,500.00"
    assert draft["lines"] == [{"description": "Routers", "quantity": "3", "unit": "unit", "unit_price": "500.00"}]
    values = form_values(client.get(edit_url(bid)).content)
    assert values["total_price"] == ["1,500.00"]
    assert values["lines-0-description"] == ["Routers"]
    assert "lines-3-description" in values  # the line typed, then three empty rows

    # Upload (the draft posted with it is saved first).
    response = upload(client, bid, tender, total_price="1500.00")
    assert response.status_code == 302 and response["Location"].endswith("#documents")
    assert BidFile.objects.filter(bid=bid, in_draft=True).count() == 1
    assert bid_services.read_draft(Bid.objects.get(pk=bid.pk))["total_price"] == "1500.00"

    # Submit: sealed, a receipt, its PDF rendered in the background.
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(edit_url(bid), draft_post(tender, action="submit"))
    receipt = BidReceipt.objects.get(bid=bid)
    assert response.status_code == 302 and response["Location"] == receipt.get_absolute_url()
    bid.refresh_from_db()
    assert bid.status == BidStatus.SUBMITTED and bid.version == 1 and not bid.draft

    page = client.get(receipt.get_absolute_url())
    text = page_text(page)
    assert page.status_code == 200
    assert str(receipt.number) in text and bid_services.receipt_digest(receipt) in text
    assert receipt.server_time.strftime("%Y-%m-%d %H:%M:%S.%f") in text
    for envelope in receipt.envelopes:
        assert envelope["sha256"] in text
    assert receipt.audit_hash and receipt.audit_hash in text
    assert "Technical offer" in text  # the vendor sees its own document's title

    receipt.refresh_from_db()
    assert receipt.pdf and len(receipt.pdf_sha256) == 64 and not receipt.pdf_error
    download = client.get(reverse("procurement:bid_receipt_pdf", args=[receipt.number]))
    content = b"".join(download.streaming_content)
    assert download.status_code == 200 and download["Content-Type"] == "application/pdf"
    assert content.startswith(b"%PDF") and "attachment" in download["Content-Disposition"]

    # The bid's page: versions and hashes, never the content.
    detail = page_text(client.get(bid.get_absolute_url()))
    for envelope in receipt.envelopes:
        assert envelope["sha256"] in detail
    assert "Our answer to" not in detail and "Routers" not in detail and "1500" not in detail

    # Modify: the sealed version cannot be read back; the document is kept.
    response = client.post(reverse("procurement:bid_modify", args=[bid.pk]))
    assert response.status_code == 302 and response["Location"] == edit_url(bid)
    page = client.get(edit_url(bid))
    text = page_text(page)
    assert "nobody can read it back" in text and "kept from the submitted version" in text
    assert form_values(page.content)["total_price"] == [""]
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            edit_url(bid),
            draft_post(tender, action="submit", total_price="900.00", lines=[("Switches", "1", "lot", "900.00")]),
        )
    modified = BidReceipt.objects.get(bid=bid, action=ReceiptAction.MODIFIED)
    assert response["Location"] == modified.get_absolute_url()
    bid.refresh_from_db()
    assert bid.version == 2

    # Withdraw: a confirmation page, then a receipt.
    confirm = client.get(reverse("procurement:bid_withdraw", args=[bid.pk]))
    assert confirm.status_code == 200 and "Withdraw the bid" in page_text(confirm)
    refused = client.post(reverse("procurement:bid_withdraw", args=[bid.pk]), {})
    assert refused.status_code == 200
    bid.refresh_from_db()
    assert bid.status == BidStatus.SUBMITTED
    response = client.post(reverse("procurement:bid_withdraw", args=[bid.pk]), {"confirm": "on"})
    withdrawn = BidReceipt.objects.get(bid=bid, action=ReceiptAction.WITHDRAWN)
    assert response["Location"] == withdrawn.get_absolute_url()
    bid.refresh_from_db()
    assert bid.status == BidStatus.WITHDRAWN

    # My bids lists it.
    listing = page_text(client.get(reverse("procurement:bid_list")))
    assert tender.reference in listing and bid.get_absolute_url() in listing


def test_discarding_a_modification_keeps_the_submitted_version(client, tender, vendor_admin):
    bid, receipt = submitted_bid(tender, vendor_admin)
    client.force_login(vendor_admin)
    client.post(reverse("procurement:bid_modify", args=[bid.pk]))
    assert Bid.objects.get(pk=bid.pk).has_draft
    response = client.post(reverse("procurement:bid_discard_modification", args=[bid.pk]))
    assert response.status_code == 302
    bid.refresh_from_db()
    assert not bid.has_draft and bid.status == BidStatus.SUBMITTED and bid.version == 1
    # Without a modification in preparation, the edit page sends the vendor back to the bid.
    assert client.get(edit_url(bid))["Location"] == bid.get_absolute_url()


def test_reconfirmation_gives_a_receipt(client, tender, vendor_admin):
    bid, _receipt = submitted_bid(tender, vendor_admin)
    Bid.objects.filter(pk=bid.pk).update(status=BidStatus.NEEDS_RECONFIRMATION)
    client.force_login(vendor_admin)
    assert "Re-confirm the bid" in page_text(client.get(bid.get_absolute_url()))
    response = client.post(reverse("procurement:bid_reconfirm", args=[bid.pk]))
    receipt = BidReceipt.objects.get(bid=bid, action=ReceiptAction.RECONFIRMED)
    assert response["Location"] == receipt.get_absolute_url()
    assert Bid.objects.get(pk=bid.pk).status == BidStatus.SUBMITTED


# Bad input: a clear message, nothing lost -----------------------------------------------------------


def _refused_submission(client, bid, tender, **fields):
    response = client.post(edit_url(bid), draft_post(tender, action="submit", **fields))
    assert response.status_code == 200
    assert Bid.objects.get(pk=bid.pk).status == BidStatus.DRAFT
    assert not BidReceipt.objects.filter(bid=bid).exists()
    assert check_page(response.content).has_error_summary
    return response


@pytest.fixture
def draft_with_document(signed_in, tender):
    bid = start(signed_in, tender)
    assert upload(signed_in, bid, tender).status_code == 302
    return bid


def test_an_invalid_price_is_explained_next_to_it_and_the_draft_is_kept(signed_in, tender, draft_with_document):
    bid = draft_with_document
    response = _refused_submission(signed_in, bid, tender, total_price="12.345 riyals")
    text = page_text(response)
    assert "Enter an amount with at most two decimal places." in text
    assert 'id="id_total_price_error"' in text
    values = form_values(response.content)
    assert values["total_price"] == ["12.345 riyals"]
    assert values["lines-0-description"] == ["Routers"]
    assert bid_services.read_draft(Bid.objects.get(pk=bid.pk))["total_price"] == "12.345 riyals"


def test_a_price_that_differs_from_the_schedule_is_refused(signed_in, tender, draft_with_document):
    response = _refused_submission(signed_in, draft_with_document, tender, total_price="1499.99")
    assert "differs from the sum of the price schedule" in page_text(response)


def test_a_bad_line_is_named_by_its_number(signed_in, tender, draft_with_document):
    response = _refused_submission(
        signed_in, draft_with_document, tender, lines=[("Routers", "three", "unit", "500.00")]
    )
    assert "Line 1: enter a positive quantity." in page_text(response)
    assert form_values(response.content)["lines-0-quantity"] == ["three"]


def test_a_wrong_currency_is_refused(signed_in, tender, draft_with_document):
    response = _refused_submission(signed_in, draft_with_document, tender, currency="USD")
    assert f"Prices are in the tender&#x27;s currency, {tender.currency}." in page_text(response)
    assert 'id="id_currency_error"' in page_text(response)


def test_a_missing_answer_is_shown_on_its_criterion(signed_in, tender, draft_with_document):
    first = criteria(tender)[0]
    response = _refused_submission(signed_in, draft_with_document, tender, **{f"answer_{first.pk}": "  "})
    text = page_text(response)
    assert f"Answer the criterion “{first.name_en}”." in text
    assert f'id="id_answer_{first.pk}_error"' in text
    second = criteria(tender)[1]
    assert form_values(response.content)[f"answer_{second.pk}"] == [f"Our answer to {second.name_en}"]


def test_a_bid_without_a_document_is_refused(signed_in, tender):
    bid = start(signed_in, tender)
    response = _refused_submission(signed_in, bid, tender)
    assert "Attach the documents of your technical offer (at least one)." in page_text(response)
    assert form_values(response.content)["total_price"] == ["1500.00"]


def test_an_oversized_file_is_refused_and_the_draft_kept(signed_in, tender, settings):
    settings.UPLOAD_MAX_BYTES = 1024
    bid = start(signed_in, tender)
    big = SimpleUploadedFile("offer.pdf", b"%PDF-1.7\n" + b"0" * 4096, content_type="application/pdf")
    response = upload(signed_in, bid, tender, file=big, total_price="777.00")
    assert response.status_code == 200
    text = page_text(response)
    assert "the largest accepted is" in text
    assert form_values(response.content)["total_price"] == ["777.00"]
    assert form_values(response.content)["document_title"] == ["Technical offer"]
    assert bid_services.read_draft(Bid.objects.get(pk=bid.pk))["total_price"] == "777.00"
    assert not BidFile.objects.filter(bid=bid).exists()


def test_a_disguised_file_is_refused_by_its_content(signed_in, tender):
    bid = start(signed_in, tender)
    program = SimpleUploadedFile("offer.pdf", b"MZ\x90\x00 not a pdf at all", content_type="application/pdf")
    response = upload(signed_in, bid, tender, file=program)
    assert response.status_code == 200
    assert "This kind of file is not accepted." in page_text(response)
    assert not BidFile.objects.filter(bid=bid).exists()


def test_an_upload_without_a_title_or_file_is_explained(signed_in, tender):
    bid = start(signed_in, tender)
    response = upload(signed_in, bid, tender, title="")
    assert response.status_code == 200 and "Give the document a title." in page_text(response)
    data = draft_post(tender)
    data["document_title"] = "Offer"
    response = signed_in.post(reverse("procurement:bid_file_upload", args=[bid.pk]), data)
    assert response.status_code == 200 and "Choose the file to upload." in page_text(response)


def test_an_unknown_consortium_member_is_explained_and_nothing_lost(signed_in, tender):
    bid = start(signed_in, tender)
    response = signed_in.post(edit_url(bid), draft_post(tender, consortium=[("CR-NOBODY", "20")]))
    assert response.status_code == 200
    assert "No registered vendor has the commercial registration number “CR-NOBODY”." in page_text(response)
    assert form_values(response.content)["consortium-0-share"] == ["20"]


def test_a_consortium_member_is_chosen_by_registration_number(signed_in, tender):
    partner, _partner_admin = bidder()
    bid = start(signed_in, tender)
    number = partner.commercial_registration_number
    response = signed_in.post(edit_url(bid), draft_post(tender, consortium=[(number, "30")]))
    assert response.status_code == 302
    draft = bid_services.read_draft(Bid.objects.get(pk=bid.pk))
    assert draft["consortium"] == [{"vendor_id": str(partner.pk), "share": "30"}]
    assert form_values(signed_in.get(edit_url(bid)).content)["consortium-0-registration_number"] == [number]


def test_removing_a_document_saves_the_draft_first(signed_in, tender, draft_with_document):
    bid = draft_with_document
    bid_file = BidFile.objects.get(bid=bid)
    response = signed_in.post(
        reverse("procurement:bid_file_remove", args=[bid.pk, bid_file.pk]), draft_post(tender, total_price="42.00")
    )
    assert response.status_code == 302
    assert not BidFile.objects.get(pk=bid_file.pk).in_draft
    assert bid_services.read_draft(Bid.objects.get(pk=bid.pk))["total_price"] == "42.00"


# Who may see and do what ---------------------------------------------------------------------------------


def _bid_urls(bid, receipt, bid_file) -> list[tuple[str, str]]:
    return [
        ("get", reverse("procurement:bid_detail", args=[bid.pk])),
        ("get", reverse("procurement:bid_edit", args=[bid.pk])),
        ("post", reverse("procurement:bid_edit", args=[bid.pk])),
        ("post", reverse("procurement:bid_file_upload", args=[bid.pk])),
        ("post", reverse("procurement:bid_file_remove", args=[bid.pk, bid_file.pk])),
        ("post", reverse("procurement:bid_modify", args=[bid.pk])),
        ("post", reverse("procurement:bid_discard_modification", args=[bid.pk])),
        ("get", reverse("procurement:bid_withdraw", args=[bid.pk])),
        ("post", reverse("procurement:bid_withdraw", args=[bid.pk])),
        ("post", reverse("procurement:bid_reconfirm", args=[bid.pk])),
        ("get", reverse("procurement:bid_receipt", args=[receipt.number])),
        ("get", reverse("procurement:bid_receipt_pdf", args=[receipt.number])),
    ]


def test_another_vendors_people_get_a_404_everywhere(client, tender, vendor_admin):
    bid, receipt = submitted_bid(tender, vendor_admin)
    _other_vendor, other_admin = bidder()
    colleague = member(_other_vendor)
    for person in (other_admin, colleague):
        client.force_login(person)
        for method, url in _bid_urls(bid, receipt, bid.files.get()):
            response = getattr(client, method)(url, {"confirm": "on"} if method == "post" else None)
            assert response.status_code == 404, (person, url)
    bid.refresh_from_db()
    assert bid.status == BidStatus.SUBMITTED and not bid.has_draft
    # "My bids" of the other vendor does not list it.
    assert tender.reference not in page_text(client.get(reverse("procurement:bid_list")))


def test_a_signed_out_visitor_is_sent_to_sign_in(client, tender, vendor_admin):
    bid, receipt = submitted_bid(tender, vendor_admin)
    for method, url in _bid_urls(bid, receipt, bid.files.get()):
        response = getattr(client, method)(url)
        assert response.status_code == 302 and reverse("accounts:login") in response["Location"], url


def test_an_officer_sees_the_bid_but_cannot_change_it(client, tender, vendor_admin):
    bid, receipt = submitted_bid(tender, vendor_admin)
    officer = tender.created_by
    client.force_login(officer)
    detail = client.get(bid.get_absolute_url())
    assert detail.status_code == 200
    # No actions, no document titles (the vendor's own business until the opening).
    assert "What you can do now" not in page_text(detail) and "Offer" not in page_text(detail)
    assert client.get(receipt.get_absolute_url()).status_code == 200
    for method, url in _bid_urls(bid, receipt, bid.files.get())[1:10]:
        assert getattr(client, method)(url).status_code == 403, url
    assert client.post(reverse("procurement:bid_start", args=[tender.pk])).status_code == 403
    assert client.get(reverse("procurement:bid_list")).status_code == 403
    bid.refresh_from_db()
    assert bid.status == BidStatus.SUBMITTED


def test_an_officer_of_another_agency_gets_a_404(client, tender, vendor_admin, other_officer):
    bid, receipt = submitted_bid(tender, vendor_admin)
    client.force_login(other_officer)
    assert client.get(bid.get_absolute_url()).status_code == 404
    assert client.get(receipt.get_absolute_url()).status_code == 404


def test_a_vendor_that_may_not_bid_is_told_why(client, tender):
    pending = VendorFactory()
    person = member(pending, administrator=True)
    client.force_login(person)
    response = client.post(reverse("procurement:bid_start", args=[tender.pk]), follow=True)
    assert "only verified vendors can bid" in page_text(response)
    assert not Bid.objects.filter(tender=tender).exists()
    box = tender_bid_box(person, tender)
    assert box["show"] and box["problems"]


# The box on the tender's page ------------------------------------------------------------------------------


def _box_html(user, tender) -> str:
    request = RequestFactory().get("/")
    request.user = user
    return render_to_string(
        "procurement/bids/_tender_bid_box.html",
        {"tender": tender, "bid_box": tender_bid_box(user, tender)},
        request=request,
    )


def test_the_tender_box_offers_to_start_then_to_continue(tender, vendor_admin, officer):
    start_url = reverse("procurement:bid_start", args=[tender.pk])
    assert start_url in _box_html(vendor_admin, tender)
    bid = bid_services.bid_start(actor=vendor_admin, tender=tender)
    html = _box_html(vendor_admin, tender)
    assert reverse("procurement:bid_edit", args=[bid.pk]) in html and start_url not in html
    assert _box_html(officer, tender).strip() == ""


# The receipt PDF -------------------------------------------------------------------------------------------


def test_the_receipt_pdf_is_bilingual_and_dated_by_the_receipt(tender, vendor_admin):
    _bid, receipt = submitted_bid(tender, vendor_admin)
    facts = tasks.receipt_facts(receipt)
    html = render_to_string("procurement/bids/receipt_pdf.html", {"facts": facts})
    assert "Bid receipt" in html and "إيصال عرض" in html and str(receipt.number) in html
    assert tender.title_ar in html and facts["digest"] in html
    # The document's dates are the receipt's, not the time it happened to be rendered.
    assert f'<meta name="dcterms.created" content="{facts["utc_iso"]}">' in html
    digest = tasks.render_bid_receipt_pdf.call(receipt.pk)
    receipt.refresh_from_db()
    assert digest == receipt.pdf_sha256 and receipt.pdf.name.startswith("receipts/")
    # Rendering again does nothing.
    assert tasks.render_bid_receipt_pdf.call(receipt.pk) == digest


def test_a_failed_rendering_is_recorded_never_raised(client, tender, vendor_admin, monkeypatch):
    _bid, receipt = submitted_bid(tender, vendor_admin)

    def broken(receipt):
        raise RuntimeError("no fonts")

    monkeypatch.setattr(tasks, "_receipt_pdf", broken)
    assert tasks.render_bid_receipt_pdf.call(receipt.pk) == ""
    receipt.refresh_from_db()
    assert "no fonts" in receipt.pdf_error and not receipt.pdf

    client.force_login(vendor_admin)
    url = reverse("procurement:bid_receipt_pdf", args=[receipt.number])
    page = client.get(url)
    assert page.status_code == 200 and "could not be prepared" in page_text(page)
    monkeypatch.undo()
    assert client.post(url)["Location"] == url
    receipt.refresh_from_db()
    assert receipt.pdf and not receipt.pdf_error


def test_a_pdf_not_yet_rendered_shows_a_page_that_reloads(client, tender, vendor_admin):
    _bid, receipt = submitted_bid(tender, vendor_admin)
    client.force_login(vendor_admin)
    page = client.get(reverse("procurement:bid_receipt_pdf", args=[receipt.number]))
    text = page_text(page)
    assert page.status_code == 200 and '<meta http-equiv="refresh"' in text and "<progress" in text


# My bids: one page, a constant number of queries ---------------------------------------------------------


def test_my_bids_costs_the_same_for_many_bids(client, tender, vendor_admin, django_assert_max_num_queries):
    vendor = bid_services.vendor_of(vendor_admin)
    client.force_login(vendor_admin)
    Bid.objects.create(tender=tender, vendor=vendor, created_by=vendor_admin)
    with django_assert_max_num_queries(12):
        assert client.get(reverse("procurement:bid_list")).status_code == 200
    Bid.objects.bulk_create(
        Bid(tender=tender, vendor=vendor, created_by=vendor_admin, status=BidStatus.WITHDRAWN) for _ in range(40)
    )
    with django_assert_max_num_queries(12):
        response = client.get(reverse("procurement:bid_list"))
    assert response.status_code == 200
    assert 'rel="next"' in page_text(response)


def test_my_bids_is_for_vendors_only(client, officer):
    client.force_login(officer)
    assert client.get(reverse("procurement:bid_list")).status_code == 403
    client.force_login(UserFactory(roles=[Role.VENDOR_USER]))
    assert client.get(reverse("procurement:bid_list")).status_code == 403


def test_the_bid_pages_work_in_arabic(signed_in, tender, vendor_admin):
    bid, receipt = submitted_bid(tender, vendor_admin)
    signed_in.post(reverse("procurement:bid_modify", args=[bid.pk]))
    for url in (
        reverse("procurement:bid_list"),
        bid.get_absolute_url(),
        edit_url(bid),
        reverse("procurement:bid_withdraw", args=[bid.pk]),
        receipt.get_absolute_url(),
    ):
        arabic_url = url.replace("/en/", "/ar/", 1)
        response = signed_in.get(arabic_url)
        assert response.status_code == 200, arabic_url
        report = check_page(response.content)
        assert (report.lang, report.dir) == ("ar", "rtl"), arabic_url
        assert report.unlabelled_controls == [] and report.duplicate_ids == [] and report.dangling_references == []
