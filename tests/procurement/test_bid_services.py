"""Bids through the services: drafts kept as typed, submission checks, the deadline to the second, who may
bid, one live bid per vendor, consortia, modification, withdrawal, re-confirmation, receipts, uploads."""

from __future__ import annotations

import datetime
import json
from pathlib import Path

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone

from audit.models import AuditEvent
from core.exceptions import ActionRefused
from procurement import bid_services, sealing
from procurement.models import Bid, BidConsortiumMember, BidEnvelope, BidFile, BidReceipt, BidVersion
from procurement.models.bids import BidStatus, EnvelopeKind, ReceiptAction
from tests.accounts.factories import UserFactory
from tests.procurement.bid_factories import (
    audit_events,
    bidder,
    clock,
    document,
    draft_data,
    material_addendum,
    open_bids,
    published_tender,
    read_stored,
    sha256_hex,
    submitted_bid,
)
from tests.vendors.factories import member, set_status
from vendors.models import Debarment, VendorStatus

pytestmark = pytest.mark.django_db

SECOND = datetime.timedelta(seconds=1)


@pytest.fixture(autouse=True)
def _fast_keys_and_own_media(monkeypatch, settings, tmp_path):
    monkeypatch.setattr(sealing, "SCRYPT_N", 2**10)
    settings.MEDIA_ROOT = str(tmp_path / "media")


@pytest.fixture
def tender():
    return published_tender()[0]


@pytest.fixture
def vendor_and_admin():
    return bidder()


def drafted(tender, admin, *, with_document=True, **data_kwargs):
    """A bid with a saved draft (and one sealed document): ready to submit."""
    bid = bid_services.bid_start(actor=admin, tender=tender)
    data = draft_data(tender, **data_kwargs)
    bid_services.bid_save_draft(actor=admin, bid=bid, data=data)
    if with_document:
        bid_services.bid_file_add(actor=admin, bid=bid, uploaded_file=document(), title="Offer")
    return Bid.objects.get(pk=bid.pk)


def save(bid, admin, data):
    bid_services.bid_save_draft(actor=admin, bid=bid, data=data)
    return Bid.objects.get(pk=bid.pk)


def by_label(items: list[dict]) -> dict:
    return {str(item["label"]): {k: str(v) for k, v in item.items()} for item in items}


def assert_nothing_submitted(bid, draft):
    bid.refresh_from_db()
    assert bid.status == BidStatus.DRAFT
    assert bid.version == 0
    assert bid.submitted_at is None
    assert not BidVersion.objects.filter(bid=bid).exists()
    assert not BidEnvelope.objects.filter(bid=bid).exists()
    assert not BidReceipt.objects.filter(bid=bid).exists()
    assert bid_services.read_draft(bid) == draft


# Drafts ---------------------------------------------------------------------------------------------


def test_the_draft_keeps_what_was_typed_even_if_it_would_not_pass(tender, vendor_and_admin):
    _vendor, admin = vendor_and_admin
    bid = bid_services.bid_start(actor=admin, tender=tender)
    criterion = tender.criteria.first()
    data = {
        "answers": {str(criterion.pk): "نهجنا الفني: 3 مراحل — phase «one»"},
        "total_price": "12,5OO.x",
        "currency": "sar",
        "validity_days": "ninety",
        "lines": [{"description": "Routeurs éèà", "quantity": "two", "unit": "lot", "unit_price": "-1"}],
        "consortium": [{"vendor_id": "999999", "share": "150"}],
    }

    bid = save(bid, admin, data)

    draft = bid_services.read_draft(bid)
    assert draft["answers"] == data["answers"]
    assert draft["total_price"] == "12,5OO.x"
    assert draft["currency"] == "SAR"
    assert draft["validity_days"] == "ninety"
    assert draft["lines"] == data["lines"]
    assert draft["consortium"] == data["consortium"]
    # The draft is not stored in the clear.
    assert "نهجنا" not in bid.draft and "Routeurs" not in bid.draft
    (event,) = audit_events("bid.draft_saved")
    assert "Routeurs" not in json.dumps(event.payload, ensure_ascii=False)


# Submission checks ----------------------------------------------------------------------------------


def _submit_refused(bid, admin, field):
    draft = bid_services.read_draft(bid)
    with pytest.raises(ValidationError) as error:
        bid_services.bid_submit(actor=admin, bid=bid)
    assert field in error.value.message_dict, error.value.message_dict
    assert all(error.value.message_dict[field])
    assert_nothing_submitted(bid, draft)
    return error.value.message_dict


def test_a_missing_answer_is_refused(tender, vendor_and_admin):
    _vendor, admin = vendor_and_admin
    bid = drafted(tender, admin)
    data = draft_data(tender)
    missing = tender.criteria.last()
    data["answers"][str(missing.pk)] = "   "
    bid = save(bid, admin, data)
    _submit_refused(bid, admin, f"answer_{missing.pk}")


def test_a_bid_without_a_document_is_refused(tender, vendor_and_admin):
    _vendor, admin = vendor_and_admin
    bid = drafted(tender, admin, with_document=False)
    _submit_refused(bid, admin, "file")


@pytest.mark.parametrize("price", ["0", "0.00", "-5.00"])
def test_a_price_that_is_not_positive_is_refused(tender, vendor_and_admin, price):
    _vendor, admin = vendor_and_admin
    bid = drafted(tender, admin, price=price)
    _submit_refused(bid, admin, "total_price")


@pytest.mark.parametrize("price", ["10.001", "1e-3", "abc", "NaN", "Infinity", ""])
def test_a_price_with_more_than_two_decimals_or_not_a_number_is_refused(tender, vendor_and_admin, price):
    _vendor, admin = vendor_and_admin
    bid = drafted(tender, admin)
    data = draft_data(tender)
    data["total_price"] = price
    bid = save(bid, admin, data)
    _submit_refused(bid, admin, "total_price")


def test_a_line_price_with_more_than_two_decimals_is_refused(tender, vendor_and_admin):
    _vendor, admin = vendor_and_admin
    bid = drafted(tender, admin)
    data = draft_data(tender)
    data["lines"][0]["unit_price"] = "1000.005"
    bid = save(bid, admin, data)
    _submit_refused(bid, admin, "lines")


def test_another_currency_is_refused(tender, vendor_and_admin):
    _vendor, admin = vendor_and_admin
    assert tender.currency == "SAR"
    bid = drafted(tender, admin)
    data = draft_data(tender)
    data["currency"] = "USD"
    bid = save(bid, admin, data)
    _submit_refused(bid, admin, "currency")


def test_lines_that_do_not_add_up_to_the_total_are_refused(tender, vendor_and_admin):
    _vendor, admin = vendor_and_admin
    bid = drafted(tender, admin)
    data = draft_data(tender, price="1000.00")
    data["lines"] = [
        {"description": "Routers", "quantity": "2", "unit": "each", "unit_price": "300.00"},
        {"description": "Installation", "quantity": "1", "unit": "lot", "unit_price": "300.00"},
    ]
    bid = save(bid, admin, data)
    errors = _submit_refused(bid, admin, "total_price")
    assert "900.00" in " ".join(errors["total_price"])

    data["lines"][1]["unit_price"] = "400.00"
    bid = save(bid, admin, data)
    receipt = bid_services.bid_submit(actor=admin, bid=bid)
    assert receipt.action == ReceiptAction.SUBMITTED


@pytest.mark.parametrize("after", [datetime.timedelta(0), SECOND, datetime.timedelta(days=3)])
def test_a_submission_at_or_after_the_deadline_is_refused_logged_and_the_draft_kept(tender, vendor_and_admin, after):
    _vendor, admin = vendor_and_admin
    bid = drafted(tender, admin, price="4321.00", answer="Kept as typed")
    draft = bid_services.read_draft(bid)
    assert tender.status == "published"  # the stored state still says open: the clock decides

    with clock(tender.submission_deadline + after), pytest.raises(ActionRefused, match="deadline"):
        bid_services.bid_submit(actor=admin, bid=bid)

    assert_nothing_submitted(bid, draft)
    assert draft["total_price"] == "4321.00"
    (event,) = audit_events("bid.refused_after_deadline")
    assert event.actor == admin
    assert event.tender_id == tender.pk
    assert event.payload["bid_id"] == bid.pk
    assert event.payload["attempted"] == "submitted"
    assert event.payload["server_time"] == (tender.submission_deadline + after).isoformat()
    assert BidFile.objects.filter(bid=bid, in_draft=True).count() == 1


def test_a_submission_one_microsecond_before_the_deadline_is_accepted(tender, vendor_and_admin):
    _vendor, admin = vendor_and_admin
    bid = drafted(tender, admin)
    moment = tender.submission_deadline - datetime.timedelta(microseconds=1)
    with clock(moment):
        receipt = bid_services.bid_submit(actor=admin, bid=bid)
    assert receipt.server_time == moment
    bid.refresh_from_db()
    assert bid.submitted_at == moment
    assert not audit_events("bid.refused_after_deadline")


# Who may bid ----------------------------------------------------------------------------------------


def _make_ineligible(vendor, admin, how):
    today = timezone.localdate()
    if how == "unverified":
        set_status(vendor, VendorStatus.PENDING)
    elif how == "suspended":
        set_status(vendor, VendorStatus.SUSPENDED)
    elif how == "debarred":
        Debarment.objects.create(
            vendor=vendor, reason="fraud", legal_reference="Art. 1", starts_on=today, decided_by=UserFactory()
        )
    elif how == "expired_documents":
        vendor.documents.update(expires_on=today - datetime.timedelta(days=1))


INELIGIBLE = ["unverified", "suspended", "debarred", "expired_documents"]


@pytest.mark.parametrize("how", INELIGIBLE)
def test_an_ineligible_vendor_cannot_start_a_bid(tender, vendor_and_admin, how):
    vendor, admin = vendor_and_admin
    _make_ineligible(vendor, admin, how)
    with pytest.raises(ActionRefused):
        bid_services.bid_start(actor=admin, tender=tender)
    assert not Bid.objects.exists()


@pytest.mark.parametrize("how", INELIGIBLE)
def test_a_vendor_that_became_ineligible_cannot_submit_and_keeps_its_draft(tender, vendor_and_admin, how):
    vendor, admin = vendor_and_admin
    bid = drafted(tender, admin)
    draft = bid_services.read_draft(bid)
    _make_ineligible(vendor, admin, how)
    with pytest.raises(ActionRefused):
        bid_services.bid_submit(actor=admin, bid=bid)
    assert_nothing_submitted(bid, draft)


def test_a_user_of_another_vendor_is_refused(tender, vendor_and_admin):
    _vendor, admin = vendor_and_admin
    bid = drafted(tender, admin)
    draft = bid_services.read_draft(bid)
    _other_vendor, stranger = bidder()
    actions = [
        lambda: bid_services.bid_save_draft(actor=stranger, bid=bid, data=draft_data(tender, price="1.00")),
        lambda: bid_services.bid_file_add(actor=stranger, bid=bid, uploaded_file=document(), title="Mine"),
        lambda: bid_services.bid_submit(actor=stranger, bid=bid),
        lambda: bid_services.bid_withdraw(actor=stranger, bid=bid),
        lambda: bid_services.bid_start_modification(actor=stranger, bid=bid),
    ]
    for action in actions:
        with pytest.raises(PermissionDenied):
            action()
    assert_nothing_submitted(bid, draft)
    assert BidFile.objects.filter(bid=bid).count() == 1


def test_a_colleague_at_the_same_vendor_may_work_on_the_bid(tender, vendor_and_admin):
    vendor, admin = vendor_and_admin
    colleague = member(vendor)
    bid = drafted(tender, admin)
    assert bid_services.bid_start(actor=colleague, tender=tender).pk == bid.pk
    receipt = bid_services.bid_submit(actor=colleague, bid=bid)
    assert receipt.issued_to == colleague


def test_people_who_are_not_vendors_cannot_start_a_bid(tender, officer):
    with pytest.raises(PermissionDenied):
        bid_services.bid_start(actor=officer, tender=tender)


# One live bid per vendor ----------------------------------------------------------------------------


def test_a_vendor_has_one_live_bid_per_tender(tender, vendor_and_admin):
    vendor, admin = vendor_and_admin
    bid, _receipt = submitted_bid(tender, admin)
    assert bid_services.bid_start(actor=admin, tender=tender).pk == bid.pk
    assert Bid.objects.filter(tender=tender, vendor=vendor).count() == 1


def test_the_database_refuses_a_second_live_bid(tender, vendor_and_admin):
    vendor, admin = vendor_and_admin
    bid = bid_services.bid_start(actor=admin, tender=tender)
    with pytest.raises(IntegrityError), transaction.atomic():
        Bid.objects.create(tender=tender, vendor=vendor, created_by=admin)
    bid_services.bid_withdraw(actor=admin, bid=bid)
    # Once withdrawn, the vendor may start again (the old bid stays, withdrawn).
    again = bid_services.bid_start(actor=admin, tender=tender)
    assert again.pk != bid.pk
    assert Bid.objects.filter(tender=tender, vendor=vendor).count() == 2


# Consortia ------------------------------------------------------------------------------------------


def _with_consortium(tender, admin, members):
    bid = drafted(tender, admin)
    data = draft_data(tender)
    data["consortium"] = [{"vendor_id": str(v.pk), "share": share} for v, share in members]
    return save(bid, admin, data)


def _members(tender):
    return [seat.user for seat in tender.opening_committee.select_related("user").order_by("id")]


def test_a_consortium_with_eligible_members_is_accepted_and_recorded_only_at_the_opening(tender, vendor_and_admin):
    _vendor, admin = vendor_and_admin
    partner, _ = bidder()
    bid = _with_consortium(tender, admin, [(partner, "40")])
    bid_services.bid_submit(actor=admin, bid=bid)
    # The consortium is in the sealed technical envelope: no readable row before the opening.
    assert not BidConsortiumMember.objects.filter(bid=bid).exists()
    open_bids(tender, _members(tender))
    (row,) = BidConsortiumMember.objects.filter(bid=bid)
    assert (row.vendor, str(row.share)) == (partner, "40.00")


@pytest.mark.parametrize("how", INELIGIBLE)
def test_an_ineligible_consortium_member_is_refused(tender, vendor_and_admin, how):
    _vendor, admin = vendor_and_admin
    partner, partner_admin = bidder()
    _make_ineligible(partner, partner_admin, how)
    bid = _with_consortium(tender, admin, [(partner, "40")])
    _submit_refused(bid, admin, "consortium")


@pytest.mark.parametrize("shares", [["100"], ["60", "40"], ["99.99", "0.01"], ["0"], ["-5"], ["33.333"]])
def test_consortium_shares_must_leave_a_share_to_the_lead(tender, vendor_and_admin, shares):
    _vendor, admin = vendor_and_admin
    partners = [bidder()[0] for _ in shares]
    bid = _with_consortium(tender, admin, list(zip(partners, shares, strict=True)))
    _submit_refused(bid, admin, "consortium")


def test_the_lead_or_a_member_named_twice_is_refused(tender, vendor_and_admin):
    vendor, admin = vendor_and_admin
    partner, _ = bidder()
    bid = _with_consortium(tender, admin, [(partner, "10"), (partner, "10")])
    _submit_refused(bid, admin, "consortium")
    bid = _with_consortium(tender, admin, [(vendor, "10")])
    _submit_refused(bid, admin, "consortium")


def test_a_vendor_in_two_bids_is_not_revealed_at_submission_but_reported_at_the_opening(tender, vendor_and_admin):
    """Refusing the submission would tell this vendor that its partner bids too: the opening reports it."""
    _vendor, admin = vendor_and_admin
    rival, rival_admin = bidder()
    rival_bid, _receipt = submitted_bid(tender, rival_admin)
    bid = _with_consortium(tender, admin, [(rival, "30")])
    bid_services.bid_submit(actor=admin, bid=bid)
    opening = open_bids(tender, _members(tender))
    assert opening.record["vendors_in_several_bids"] == [
        {"vendor_id": rival.pk, "bid_ids": sorted([rival_bid.pk, bid.pk])}
    ]


# Modification, withdrawal, re-confirmation -----------------------------------------------------------


def test_a_modification_is_version_2_with_a_new_receipt_and_version_1_is_kept(tender, vendor_and_admin):
    _vendor, admin = vendor_and_admin
    bid, first = submitted_bid(tender, admin, price="1000.00")
    v1_envelopes = {e.kind: (e.pk, e.sha256, read_stored(e.sealed)) for e in BidEnvelope.objects.filter(bid=bid)}
    (v1_file,) = bid.files.all()

    bid = bid_services.bid_start_modification(actor=admin, bid=bid)
    assert bid.status == BidStatus.SUBMITTED  # version 1 stays valid while the new one is prepared
    bid = save(bid, admin, draft_data(tender, price="900.00"))
    bid_services.bid_file_add(
        actor=admin, bid=bid, uploaded_file=document(b"%PDF-1.7\nannex\n%%EOF\n", "annex.pdf"), title="Annex"
    )
    second = bid_services.bid_submit(actor=admin, bid=bid)

    bid.refresh_from_db()
    assert (bid.status, bid.version) == (BidStatus.SUBMITTED, 2)
    assert (first.action, first.version) == (ReceiptAction.SUBMITTED, 1)
    assert (second.action, second.version) == (ReceiptAction.MODIFIED, 2)
    assert second.number != first.number
    assert BidReceipt.objects.filter(bid=bid).count() == 2
    v1, v2 = BidVersion.objects.filter(bid=bid).order_by("number")
    assert (v1.number, v2.number) == (1, 2)
    for envelope in v1.envelopes.all():
        pk, sha, blob = v1_envelopes[envelope.kind]
        assert (envelope.pk, envelope.sha256, read_stored(envelope.sealed)) == (pk, sha, blob)
    assert {e.kind for e in v2.envelopes.all()} == {EnvelopeKind.TECHNICAL, EnvelopeKind.FINANCIAL}
    assert not {e.sha256 for e in v2.envelopes.all()} & {sha for _pk, sha, _b in v1_envelopes.values()}
    assert list(v1.files.all()) == [v1_file]
    (annex,) = BidFile.objects.exclude(pk=v1_file.pk)
    assert set(v2.files.all()) == {v1_file, annex}  # kept, not re-sealed
    # Once submitted, a document's title is readable only from its sealed copy.
    assert annex.title_token == "" and annex.title == "Sealed document"
    assert {item["label"] for item in second.envelopes} >= {v1_file.label}


def test_a_withdrawal_before_the_deadline_gives_a_receipt(tender, vendor_and_admin):
    _vendor, admin = vendor_and_admin
    bid, submission = submitted_bid(tender, admin)
    moment = tender.submission_deadline - SECOND
    with clock(moment):
        receipt = bid_services.bid_withdraw(actor=admin, bid=bid)
    bid.refresh_from_db()
    assert (bid.status, bid.withdrawn_at) == (BidStatus.WITHDRAWN, moment)
    assert (receipt.action, receipt.server_time, receipt.version) == (ReceiptAction.WITHDRAWN, moment, 1)
    assert by_label(receipt.envelopes) == by_label(submission.envelopes)
    assert BidEnvelope.objects.filter(bid=bid).count() == 2  # nothing is deleted
    assert audit_events("bid.withdrawn")[0].payload["receipt"] == str(receipt.number)


def test_a_withdrawal_after_the_deadline_is_refused_and_logged(tender, vendor_and_admin):
    _vendor, admin = vendor_and_admin
    bid, _receipt = submitted_bid(tender, admin)
    for moment in (tender.submission_deadline, tender.submission_deadline + SECOND):
        with clock(moment), pytest.raises(ActionRefused, match="deadline"):
            bid_services.bid_withdraw(actor=admin, bid=bid)
    bid.refresh_from_db()
    assert bid.status == BidStatus.SUBMITTED
    assert bid.withdrawn_at is None
    assert [e.payload["attempted"] for e in audit_events("bid.refused_after_deadline")] == ["withdrawn"] * 2
    assert not BidReceipt.objects.filter(action=ReceiptAction.WITHDRAWN).exists()


def test_a_material_addendum_requires_reconfirmation_which_gives_a_receipt(tender, vendor_and_admin):
    _vendor, admin = vendor_and_admin
    bid, submission = submitted_bid(tender, admin)
    draft_bid = drafted(tender, bidder()[1])

    material_addendum(tender)

    bid.refresh_from_db()
    draft_bid.refresh_from_db()
    assert bid.status == BidStatus.NEEDS_RECONFIRMATION
    assert draft_bid.status == BidStatus.DRAFT
    (required,) = audit_events("bid.reconfirmation_required")
    assert required.payload["bids"] == [bid.pk]

    moment = tender.submission_deadline - SECOND
    with clock(moment):
        receipt = bid_services.bid_reconfirm(actor=admin, bid=bid)
    bid.refresh_from_db()
    assert bid.status == BidStatus.SUBMITTED
    assert (receipt.action, receipt.version, receipt.server_time) == (ReceiptAction.RECONFIRMED, 1, moment)
    assert by_label(receipt.envelopes) == by_label(submission.envelopes)
    with pytest.raises(ActionRefused):
        bid_services.bid_reconfirm(actor=admin, bid=bid)  # nothing left to re-confirm


def test_a_reconfirmation_after_the_deadline_is_refused_and_logged(tender, vendor_and_admin):
    _vendor, admin = vendor_and_admin
    bid, _submission = submitted_bid(tender, admin)
    material_addendum(tender)
    with clock(tender.submission_deadline), pytest.raises(ActionRefused, match="deadline"):
        bid_services.bid_reconfirm(actor=admin, bid=bid)
    bid.refresh_from_db()
    assert bid.status == BidStatus.NEEDS_RECONFIRMATION
    assert audit_events("bid.refused_after_deadline")[0].payload["attempted"] == "re-confirmed"


def test_a_non_material_addendum_needs_no_reconfirmation(tender, vendor_and_admin):
    from procurement import tender_services

    _vendor, admin = vendor_and_admin
    bid, _submission = submitted_bid(tender, admin)
    tender_services.addendum_create(
        actor=tender.created_by,
        tender=tender,
        data={
            "summary_en": "Later deadline.",
            "summary_ar": "موعد لاحق.",
            "new_submission_deadline": tender.submission_deadline + datetime.timedelta(days=2),
            "new_opening_time": tender.opening_time + datetime.timedelta(days=2),
        },
    )
    bid.refresh_from_db()
    assert bid.status == BidStatus.SUBMITTED


# Receipts -------------------------------------------------------------------------------------------


def test_the_receipt_carries_the_server_time_the_version_and_the_hashes_of_what_is_stored(tender, vendor_and_admin):
    _vendor, admin = vendor_and_admin
    bid = drafted(tender, admin)
    moment = tender.submission_deadline - datetime.timedelta(hours=5, microseconds=123)
    with clock(moment):
        receipt = bid_services.bid_submit(actor=admin, bid=bid)

    receipt.refresh_from_db()
    bid.refresh_from_db()
    assert receipt.server_time == moment == bid.submitted_at
    assert receipt.version == 1
    assert receipt.issued_to == admin
    stored = {e.kind: e for e in BidEnvelope.objects.filter(bid=bid)}
    files = {f.label: f for f in BidFile.objects.filter(bid=bid)}
    items = {item["label"]: item for item in receipt.envelopes}
    assert set(items) == {EnvelopeKind.TECHNICAL, EnvelopeKind.FINANCIAL, *files}
    for kind, envelope in stored.items():
        blob = read_stored(envelope.sealed)
        assert items[kind]["sha256"] == envelope.sha256 == sha256_hex(blob)
        assert items[kind]["size"] == envelope.size == len(blob)
    for label, bid_file in files.items():
        blob = read_stored(bid_file.sealed)
        assert items[label]["sha256"] == bid_file.sealed_sha256 == sha256_hex(blob)
        assert items[label]["envelope"] == "file"

    event = AuditEvent.objects.get(sequence=receipt.audit_sequence)
    assert event.action == "bid.submitted"
    assert event.hash == receipt.audit_hash
    assert event.payload["receipt"] == str(receipt.number)
    assert event.payload["version"] == 1
    assert event.payload["server_time"] == moment.isoformat()
    assert event.payload["envelopes"] == receipt.envelopes
    assert len(bid_services.receipt_digest(receipt)) == 64


# Uploads --------------------------------------------------------------------------------------------


def _sealed_files_on_disk() -> list[Path]:
    from django.conf import settings

    root = Path(settings.MEDIA_ROOT) / "sealed"
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def test_an_oversized_file_is_refused_with_a_message(tender, vendor_and_admin, settings):
    _vendor, admin = vendor_and_admin
    bid = bid_services.bid_start(actor=admin, tender=tender)
    settings.UPLOAD_MAX_BYTES = 1024
    with pytest.raises(ValidationError) as error:
        bid_services.bid_file_add(
            actor=admin, bid=bid, uploaded_file=document(b"%PDF-1.7\n" + b"x" * 2000), title="Big"
        )
    assert "MB" in " ".join(error.value.message_dict["file"])
    assert not BidFile.objects.exists()
    assert _sealed_files_on_disk() == []


@pytest.mark.parametrize(
    "content",
    [b"<html><script>alert(1)</script></html>", b"MZ\x90\x00 not a pdf", b"#!/bin/sh\nrm -rf /\n"],
)
def test_a_file_disguised_as_a_pdf_is_refused_with_a_message(tender, vendor_and_admin, content):
    _vendor, admin = vendor_and_admin
    bid = bid_services.bid_start(actor=admin, tender=tender)
    with pytest.raises(ValidationError) as error:
        bid_services.bid_file_add(
            actor=admin,
            bid=bid,
            uploaded_file=SimpleUploadedFile("offer.pdf", content, content_type="application/pdf"),
            title="Offer",
        )
    assert "not accepted" in " ".join(error.value.message_dict["file"])
    assert not BidFile.objects.exists()
    assert _sealed_files_on_disk() == []


def test_an_accepted_file_is_stored_sealed_under_a_generated_name(tender, vendor_and_admin):
    _vendor, admin = vendor_and_admin
    bid = bid_services.bid_start(actor=admin, tender=tender)
    bid_file = bid_services.bid_file_add(
        actor=admin, bid=bid, uploaded_file=document(b"%PDF-1.7\nSECRET-PLAN\n%%EOF\n", "../../evil.pdf"), title="T"
    )
    (path,) = _sealed_files_on_disk()
    assert "evil" not in str(path)
    assert b"SECRET-PLAN" not in path.read_bytes()
    assert bid_file.original_name == "evil.pdf" or "evil" in bid_file.original_name
