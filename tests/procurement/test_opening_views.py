"""The officers' and committee's pages of sealed bids: naming the opening committee, the recovery share shown
once at approval, the bid register, the opening ceremony, the opening record (page and CSV), the opened
envelopes and documents, and the refusals — every attempt to read a sealed bid answered 403 and recorded."""

from __future__ import annotations

import csv
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts import keys
from accounts.roles import Role
from audit.models import AuditEvent
from procurement import sealing
from procurement.models import Bid, BidEnvelope, BidFile, OpeningCommitteeMember
from procurement.models.bids import BidStatus, EnvelopeKind, OpeningStatus
from procurement.models.tenders import EvaluationMethod, TenderStatus
from tests.accounts.factories import UserFactory
from tests.html_checks import check_page
from tests.procurement.bid_factories import (
    PASSWORD,
    audit_events,
    bidder,
    clock,
    committee_member,
    open_bids,
    past_deadline,
    published_tender,
    submitted_bid,
)
from tests.procurement.tender_factories import make_pending, ready_tender

pytestmark = pytest.mark.django_db

CANARY = b"%PDF-1.7\nCANARY-OPENED-DOCUMENT\n%%EOF\n"


@pytest.fixture(autouse=True)
def _fast_keys_and_own_media(monkeypatch, settings, tmp_path):
    monkeypatch.setattr(sealing, "SCRYPT_N", 2**10)
    settings.MEDIA_ROOT = str(tmp_path / "media")


@pytest.fixture
def sealed():
    """A published tender with two submitted (sealed) bids: (tender, members, recovery share, bids, vendor admins)."""
    tender, members, recovery = published_tender()
    admins = [bidder()[1], bidder()[1]]
    bids = [
        submitted_bid(tender, admins[0], price="1500.00", answer="First approach", content=CANARY)[0],
        submitted_bid(tender, admins[1], price="1200.00", answer="Second approach")[0],
    ]
    return tender, members, recovery, bids, admins


def url(name: str, *args) -> str:
    return reverse(f"procurement:{name}", args=args)


def sealed_refusals(**filters) -> list[AuditEvent]:
    return audit_events("bid.sealed_access_refused", **filters)


def officer_of(tender):
    return tender.created_by


# The opening committee ----------------------------------------------------------------------------


def test_officer_adds_and_removes_members_of_the_opening_committee(client):
    tender = ready_tender(committee=0)
    officer = officer_of(tender)
    member = committee_member(full_name="Layla Haddad")
    client.force_login(officer)

    page = client.get(url("opening_committee", tender.pk))
    assert page.status_code == 200
    assert "Layla Haddad" in page.content.decode()  # offered
    assert "Name at least" in page.content.decode()  # the readiness problem is shown

    response = client.post(url("opening_committee", tender.pk), {"user": member.pk})
    assert response.status_code == 302
    seat = OpeningCommitteeMember.objects.get(tender=tender, user=member)
    page = client.get(url("opening_committee", tender.pk)).content.decode()
    assert member.personal_keys.get().fingerprint in page
    assert audit_events("tender.opening_member_added", tender_id=tender.pk)

    response = client.post(url("opening_committee_remove", tender.pk, seat.pk))
    assert response.status_code == 302
    assert not OpeningCommitteeMember.objects.filter(tender=tender).exists()
    assert audit_events("tender.opening_member_removed", tender_id=tender.pk)


def test_a_member_without_a_key_is_shown_as_such(client):
    tender = ready_tender(committee=0)
    keyless = UserFactory(roles=[Role.COMMITTEE_MEMBER], full_name="Omar Keyless")
    client.force_login(officer_of(tender))
    client.post(url("opening_committee", tender.pk), {"user": keyless.pk})
    page = client.get(url("opening_committee", tender.pk)).content.decode()
    assert "no key yet" in page
    assert "have not set up their personal key" in page


def test_officer_of_another_agency_cannot_name_the_committee(client, other_officer):
    tender = ready_tender(committee=0)
    member = committee_member()
    client.force_login(other_officer)
    assert client.get(url("opening_committee", tender.pk)).status_code == 403
    assert client.post(url("opening_committee", tender.pk), {"user": member.pk}).status_code == 403
    assert not OpeningCommitteeMember.objects.filter(tender=tender).exists()


def test_a_vendor_user_or_an_officer_of_another_agency_cannot_be_named(client, other_officer, vendor_user):
    tender = ready_tender(committee=0)
    client.force_login(officer_of(tender))
    for person in (other_officer, vendor_user):
        response = client.post(url("opening_committee", tender.pk), {"user": person.pk})
        assert response.status_code == 200  # the form again, with its error
        assert response.context["form"].errors
    assert not OpeningCommitteeMember.objects.filter(tender=tender).exists()


def test_the_committee_cannot_change_once_published(client):
    tender, members, _share = published_tender()
    seat = OpeningCommitteeMember.objects.filter(tender=tender).first()
    client.force_login(officer_of(tender))
    page = client.get(url("opening_committee", tender.pk))
    assert page.context["form"] is None
    client.post(url("opening_committee_remove", tender.pk, seat.pk))
    assert OpeningCommitteeMember.objects.filter(pk=seat.pk).exists()


# The approval shows the recovery share once --------------------------------------------------------


def test_approval_shows_the_recovery_share_once_and_stores_it_nowhere(client):
    tender = make_pending(ready_tender())
    approver = UserFactory(agency=tender.agency, roles=[Role.APPROVER], preferred_language="en")
    client.force_login(approver)

    response = client.post(url("tender_approve", tender.pk))

    assert response.status_code == 200  # rendered, not redirected
    assert "no-store" in response["Cache-Control"]
    share = response.context["recovery_share"]
    assert share and share in response.content.decode()
    assert "safe" in response.content.decode()
    assert tender.get_absolute_url() in response.content.decode()
    tender.refresh_from_db()
    assert tender.status == TenderStatus.PUBLISHED
    # Nowhere else: not in the audit log, not in the session or messages, not on the tender page.
    assert not AuditEvent.objects.filter(payload__icontains=share).exists()
    assert all(share not in str(value) for value in client.session.values())
    follow = client.get(tender.get_absolute_url()).content.decode()
    assert share not in follow
    with connection.cursor() as cursor:
        for table in ("procurement_tenderkey", "procurement_tender", "audit_auditevent"):
            cursor.execute(f"SELECT * FROM {table}")  # noqa: S608 - fixed table names
            assert share not in repr(cursor.fetchall())


def test_a_refused_approval_redirects_with_a_message_and_shows_no_share(client, officer):
    tender = make_pending(ready_tender())
    client.force_login(officer_of(tender))  # prepared it: four eyes
    response = client.post(url("tender_approve", tender.pk))
    assert response.status_code == 302
    tender.refresh_from_db()
    assert tender.status == TenderStatus.PENDING_APPROVAL


def test_tender_page_links_to_the_sealed_bid_pages(client, sealed):
    tender, members, _share, _bids, _admins = sealed
    client.force_login(officer_of(tender))
    page = client.get(tender.get_absolute_url()).content.decode()
    assert url("opening_committee", tender.pk) in page
    assert url("bid_register", tender.pk) in page
    assert url("opening_record", tender.pk) not in page  # not opened yet
    open_bids(tender, members)
    page = client.get(tender.get_absolute_url()).content.decode()
    assert url("opening_record", tender.pk) in page


# The bid register ---------------------------------------------------------------------------------


def test_bid_register_shows_metadata_only_in_a_constant_number_of_queries(
    client, sealed, django_assert_max_num_queries
):
    tender, _members, _share, bids, _admins = sealed
    client.force_login(officer_of(tender))
    with CaptureQueriesContext(connection) as two:
        page = client.get(url("bid_register", tender.pk))
    html = page.content.decode()
    assert page.status_code == 200
    for bid in bids:
        assert bid.vendor.legal_name_en in html
        for envelope in BidEnvelope.objects.filter(bid=bid):
            assert envelope.sha256 in html
    assert "approach" not in html and "1500" not in html
    for _ in range(3):
        submitted_bid(tender, bidder()[1])
    with django_assert_max_num_queries(len(two.captured_queries)):
        client.get(url("bid_register", tender.pk))


def test_bid_register_is_refused_to_vendors_and_other_agencies(client, sealed, other_officer):
    tender, _members, _share, _bids, admins = sealed
    for person in (admins[0], other_officer):
        client.force_login(person)
        assert client.get(url("bid_register", tender.pk)).status_code == 403


# Sealed: refused to everyone and recorded ----------------------------------------------------------


@pytest.mark.parametrize("who", ["officer", "member", "approver", "auditor", "administrator", "the vendor"])
def test_a_sealed_envelope_is_refused_to_everyone_and_the_attempt_recorded(client, sealed, who, request):
    tender, members, _share, bids, admins = sealed
    person = {
        "officer": officer_of(tender),
        "member": members[0],
        "approver": tender.approved_by,
        "auditor": request.getfixturevalue("auditor"),
        "administrator": request.getfixturevalue("administrator"),
        "the vendor": admins[0],
    }[who]
    client.force_login(person)
    bid = bids[0]
    bid_file = BidFile.objects.filter(bid=bid).first()

    for address in (
        url("opened_envelope", tender.pk, bid.pk, "technical"),
        url("opened_envelope", tender.pk, bid.pk, "financial"),
        url("opened_bid_file", tender.pk, bid.pk, bid_file.label),
        url("opening_record_csv", tender.pk),
    ):
        response = client.get(address)
        assert response.status_code == 403, address
        assert b"CANARY" not in response.content and b"approach" not in response.content

    events = sealed_refusals(tender_id=tender.pk)
    assert len(events) == 4
    assert {e.actor_id for e in events} == {person.pk}
    assert {e.payload["what"] for e in events} == {
        "technical envelope",
        "financial envelope",
        "bid document",
        "opening record export",
    }


def test_the_financial_envelope_stays_refused_after_the_technical_opening(client, sealed):
    tender, members, _share, bids, _admins = sealed
    open_bids(tender, members)  # quality and cost: the technical envelopes only
    client.force_login(members[0])
    response = client.get(url("opened_envelope", tender.pk, bids[0].pk, "financial"))
    assert response.status_code == 403
    assert b"1500" not in response.content
    assert [e.payload["what"] for e in sealed_refusals(tender_id=tender.pk)] == ["financial envelope"]


# The ceremony through the pages -------------------------------------------------------------------


def test_ceremony_first_member_waits_same_member_refused_second_member_opens(client, sealed):
    tender, members, _share, bids, _admins = sealed
    ceremony = url("opening_ceremony", tender.pk)
    with clock(past_deadline(tender)):
        client.force_login(members[0])
        page = client.get(ceremony)
        assert page.status_code == 200
        assert check_page(page.content.decode()).unlabelled_controls == []
        response = client.post(ceremony, {"password": PASSWORD})
        assert response.status_code == 302 and response["Location"].endswith(ceremony)
        assert tender.openings.get().status == OpeningStatus.WAITING

        response = client.post(ceremony, {"password": PASSWORD}, follow=True)
        assert "already confirmed" in response.content.decode()
        assert [e.payload["reason"] for e in audit_events("tender.opening_refused", tender_id=tender.pk)] == [
            "same member twice"
        ]

        client.force_login(members[1])
        page = client.get(ceremony).content.decode()
        assert members[0].full_name in page  # who has confirmed, and until when
        response = client.post(ceremony, {"password": PASSWORD})
        assert response.status_code == 302
        assert response["Location"].endswith(url("opening_record", tender.pk))

    tender.refresh_from_db()
    assert tender.status == TenderStatus.OPENED
    assert all(b.status == BidStatus.OPENED for b in Bid.objects.filter(pk__in=[b.pk for b in bids]))


def test_ceremony_before_the_deadline_is_refused_and_recorded(client, sealed):
    tender, members, _share, _bids, _admins = sealed
    client.force_login(members[0])
    page = client.get(url("opening_ceremony", tender.pk)).content.decode()
    assert "cannot be opened yet" in page
    response = client.post(url("opening_ceremony", tender.pk), {"password": PASSWORD}, follow=True)
    assert "before the submission deadline" in response.content.decode()
    assert not tender.openings.exists()
    assert [e.payload["reason"] for e in audit_events("tender.opening_refused", tender_id=tender.pk)] == [
        "before the deadline"
    ]


def test_ceremony_wrong_password_is_refused_and_recorded(client, sealed):
    tender, members, _share, _bids, _admins = sealed
    client.force_login(members[0])
    with clock(past_deadline(tender)):
        response = client.post(url("opening_ceremony", tender.pk), {"password": "wrong"}, follow=True)
    assert "not your password" in response.content.decode()
    assert [e.payload["reason"] for e in audit_events("tender.opening_refused", tender_id=tender.pk)] == [
        "wrong password"
    ]


def test_ceremony_is_refused_to_people_outside_the_committee(client, sealed, auditor, other_officer):
    tender, _members, _share, _bids, admins = sealed
    for person in (auditor, other_officer, admins[0], officer_of(tender)):
        client.force_login(person)
        assert client.get(url("opening_ceremony", tender.pk)).status_code == 403


def test_officer_completes_an_opening_with_the_recovery_share(client, sealed):
    tender, members, recovery, _bids, _admins = sealed
    officer = officer_of(tender)
    keys.personal_key_create(user=officer, password=PASSWORD)  # the first share is sealed to custodians' keys
    ceremony = url("opening_ceremony", tender.pk)
    with clock(past_deadline(tender)):
        client.force_login(members[0])
        client.post(ceremony, {"password": PASSWORD})
        client.force_login(officer)
        page = client.get(ceremony)
        assert page.status_code == 200 and "recovery_share" in page.context["form"].fields
        # A wrong share is refused (and logged), and what was typed is not echoed back.
        response = client.post(ceremony, {"password": PASSWORD, "recovery_share": "not-a-share"}, follow=True)
        assert response.status_code == 200 and "not-a-share" not in response.content.decode()
        assert "recovery share" in response.content.decode()
        response = client.post(ceremony, {"password": PASSWORD, "recovery_share": recovery})
    assert response.status_code == 302
    opening = tender.openings.get(status=OpeningStatus.COMPLETED)
    assert opening.record["recovery_share_used"] is True


# After the opening --------------------------------------------------------------------------------


def test_after_the_opening_the_envelope_and_the_document_are_readable_by_members_and_officers(client, sealed):
    tender, members, _share, bids, admins = sealed
    open_bids(tender, members)
    bid = bids[0]
    bid_file = BidFile.objects.get(bid=bid)
    for person in (members[2], officer_of(tender), admins[0]):
        client.force_login(person)
        page = client.get(url("opened_envelope", tender.pk, bid.pk, EnvelopeKind.TECHNICAL))
        assert page.status_code == 200
        assert "First approach" in page.content.decode()
        download = client.get(url("opened_bid_file", tender.pk, bid.pk, bid_file.label))
        assert download.status_code == 200
        assert b"".join(download.streaming_content) == CANARY
        assert "attachment" in download["Content-Disposition"]
    assert not sealed_refusals(tender_id=tender.pk)


def test_after_the_opening_other_vendors_and_agencies_still_cannot_read_a_bid(client, sealed, other_officer):
    tender, members, _share, bids, admins = sealed
    open_bids(tender, members)
    for person in (admins[1], other_officer):  # admins[1] bid too, but this is not its bid
        client.force_login(person)
        response = client.get(url("opened_envelope", tender.pk, bids[0].pk, EnvelopeKind.TECHNICAL))
        assert response.status_code == 403
        assert b"First approach" not in response.content


def test_opening_record_csv_lists_bidders_versions_and_hashes_without_prices_before_the_financial_opening(
    client, sealed
):
    tender, members, _share, bids, _admins = sealed
    open_bids(tender, members)
    client.force_login(officer_of(tender))
    response = client.get(url("opening_record_csv", tender.pk))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    header, body = rows[0], rows[1:]
    assert "SHA-256" in header
    technical = {
        BidEnvelope.objects.get(bid=b, version__number=b.version, kind=EnvelopeKind.TECHNICAL).sha256 for b in bids
    }
    assert technical <= {row[header.index("SHA-256")] for row in body}
    assert {b.vendor.legal_name_en for b in bids} <= {row[header.index("Bidder")] for row in body}
    assert all(row[header.index("Total price")] == "" for row in body)
    assert "1500" not in response.content.decode()


def test_lowest_price_tenders_show_prices_in_the_record_and_csv(client):
    tender, members, _share = published_tender(evaluation_method=EvaluationMethod.LOWEST_PRICE)
    bid = submitted_bid(tender, bidder()[1], price="1234.50")[0]
    open_bids(tender, members)
    client.force_login(members[0])
    page = client.get(url("opening_record", tender.pk)).content.decode()
    assert "1234.50" in page
    csv_text = client.get(url("opening_record_csv", tender.pk)).content.decode("utf-8-sig")
    assert "1234.50" in csv_text
    assert client.get(url("opened_envelope", tender.pk, bid.pk, EnvelopeKind.FINANCIAL)).status_code == 200


def test_opening_record_is_visible_to_bidders_but_not_to_other_vendors(client, sealed):
    tender, members, _share, bids, admins = sealed
    open_bids(tender, members)
    outsider = bidder()[1]
    client.force_login(admins[1])
    page = client.get(url("opening_record", tender.pk))
    assert page.status_code == 200
    html = page.content.decode()
    assert all(b.vendor.legal_name_en in html for b in bids)
    client.force_login(outsider)
    assert client.get(url("opening_record", tender.pk)).status_code == 403
    assert client.get(url("opening_record_csv", tender.pk)).status_code == 403


def test_tampered_envelopes_are_reported_in_the_record(client, sealed):
    tender, members, _share, bids, _admins = sealed
    target = BidEnvelope.objects.get(bid=bids[0], version__number=bids[0].version, kind=EnvelopeKind.TECHNICAL)
    with target.sealed.open("rb") as handle:
        blob = bytearray(handle.read())
    blob[-1] ^= 1
    with open(target.sealed.path, "wb") as handle:
        handle.write(bytes(blob))
    open_bids(tender, members)
    client.force_login(members[0])
    html = client.get(url("opening_record", tender.pk)).content.decode()
    assert "DOES NOT MATCH" in html
    page = client.get(url("opened_envelope", tender.pk, bids[0].pk, EnvelopeKind.TECHNICAL)).content.decode()
    assert "does not match" in page and "First approach" not in page


# The administration site --------------------------------------------------------------------------


def test_admin_lists_bids_but_refuses_and_records_the_page_of_a_sealed_bid(client, sealed, administrator):
    tender, members, _share, bids, _admins = sealed
    client.force_login(administrator)
    listing = client.get(reverse("admin:procurement_bid_changelist"))
    assert listing.status_code == 200
    envelope = BidEnvelope.objects.filter(bid=bids[0]).first()
    bid_file = BidFile.objects.get(bid=bids[0])
    for address in (
        reverse("admin:procurement_bid_change", args=[bids[0].pk]),
        reverse("admin:procurement_bidenvelope_change", args=[envelope.pk]),
        reverse("admin:procurement_bidfile_change", args=[bid_file.pk]),
    ):
        response = client.get(address)
        assert response.status_code == 403, address
    events = sealed_refusals(tender_id=tender.pk)
    assert len(events) == 3
    assert all(e.payload["what"].startswith("admin ") and e.actor_id == administrator.pk for e in events)
    for name in ("bidenvelope", "bidfile", "bidreceipt", "bidopening", "tenderkey"):
        assert client.get(reverse(f"admin:procurement_{name}_changelist")).status_code == 200
    # Once opened, the bid's page shows its metadata (never the draft, the content or stored files).
    open_bids(tender, members)
    page = client.get(reverse("admin:procurement_bid_change", args=[bids[0].pk]))
    assert page.status_code == 200
    assert b"approach" not in page.content


# Every page: accessible, one title of its own, in both languages ------------------------------------


def assert_accessible(response, name: str, lang: str) -> str:
    html = response.content.decode()
    report = check_page(html)
    assert (report.lang, report.dir) == (lang, "rtl" if lang == "ar" else "ltr"), name
    assert report.main_count == 1, name
    assert report.unlabelled_controls == [], name
    assert report.duplicate_ids == [], name
    assert report.dangling_references == [], name
    assert html.count("<h1") == 1, name
    assert "<script" not in html and ' style="' not in html, name
    return report.title


@pytest.mark.parametrize("lang", ["en", "ar"])
def test_every_sealed_bid_page_is_accessible_and_has_its_own_title(client, lang, sealed):
    tender, members, _share, bids, _admins = sealed
    officer = officer_of(tender)
    draft = ready_tender(committee=0, phase=tender.phase, created_by=officer)

    def get(person, address, status=200):
        client.force_login(person)
        response = client.get(address.replace("/en/", f"/{lang}/", 1))
        assert response.status_code == status, address
        return response

    titles = {
        "committee": assert_accessible(get(officer, url("opening_committee", draft.pk)), "committee", lang),
        "register": assert_accessible(get(officer, url("bid_register", tender.pk)), "register", lang),
        "refused": assert_accessible(
            get(officer, url("opened_envelope", tender.pk, bids[0].pk, "technical"), 403), "refused", lang
        ),
        "record (none yet)": assert_accessible(get(officer, url("opening_record", tender.pk)), "record", lang),
    }
    with clock(past_deadline(tender)):
        titles["ceremony"] = assert_accessible(get(members[0], url("opening_ceremony", tender.pk)), "ceremony", lang)
    open_bids(tender, members)
    titles["record"] = titles.pop("record (none yet)")
    assert_accessible(get(officer, url("opening_record", tender.pk)), "record", lang)
    titles["envelope"] = assert_accessible(
        get(officer, url("opened_envelope", tender.pk, bids[0].pk, "technical")), "envelope", lang
    )
    pending = make_pending(ready_tender(phase=tender.phase, created_by=officer))
    client.force_login(tender.approved_by)
    approved = client.post(url("tender_approve", pending.pk).replace("/en/", f"/{lang}/", 1))
    titles["recovery share"] = assert_accessible(approved, "recovery share", lang)
    assert len(set(titles.values())) == len(titles), titles
