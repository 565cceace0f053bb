"""The opening ceremony (``opening_services.opening_confirm``): two distinct authorised members, after the
deadline, each re-entering their password; every refused attempt recorded; each envelope checked against
the hash the audit log recorded at submission."""

from __future__ import annotations

import base64
import datetime
import json

import pytest
from django.conf import settings
from django.core.exceptions import PermissionDenied

from accounts import keys
from accounts.roles import Role
from core.exceptions import ActionRefused
from procurement import opening_services, sealing, tender_services
from procurement.models import Bid, BidEnvelope, BidFile, BidOpening, BidReceipt
from procurement.models.bids import BidStatus, EnvelopeKind, EnvelopeState, OpeningStage, OpeningStatus
from procurement.models.tenders import EvaluationMethod, TenderStatus
from tests.accounts.factories import UserFactory
from tests.procurement.bid_factories import (
    PASSWORD,
    audit_events,
    bidder,
    clock,
    committee_member,
    material_addendum,
    open_bids,
    past_deadline,
    published_tender,
    read_stored,
    sha256_hex,
    submitted_bid,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fast_keys_and_own_media(monkeypatch, settings, tmp_path):
    monkeypatch.setattr(sealing, "SCRYPT_N", 2**10)
    settings.MEDIA_ROOT = str(tmp_path / "media")


@pytest.fixture
def sealed():
    """A quality-cost tender with two submitted bids; returns (tender, members, recovery share, bids)."""
    tender, members, recovery = published_tender()
    bids = [
        submitted_bid(tender, bidder()[1], price="1500.00", answer="First approach")[0],
        submitted_bid(tender, bidder()[1], price="1200.00", answer="Second approach")[0],
    ]
    return tender, members, recovery, bids


def confirm(actor, tender, *, at=None, password=PASSWORD, recovery_share=""):
    with clock(at or past_deadline(tender)):
        return opening_services.opening_confirm(
            actor=actor, tender=tender, password=password, recovery_share=recovery_share
        )


def refusals(tender, reason=None) -> list:
    events = audit_events("tender.opening_refused", tender_id=tender.pk)
    return [e for e in events if reason is None or e.payload.get("reason") == reason]


def nothing_decrypted(tender) -> None:
    envelopes = list(BidEnvelope.objects.filter(bid__tender=tender))
    assert envelopes
    assert all(e.content is None and e.state == EnvelopeState.SEALED and e.opened_at is None for e in envelopes)
    assert not BidFile.objects.filter(bid__tender=tender).exclude(opened="").exists()
    assert not Bid.objects.filter(tender=tender, status=BidStatus.OPENED).exists()


def envelope(bid, kind) -> BidEnvelope:
    return BidEnvelope.objects.get(bid=bid, version__number=bid.version, kind=kind)


# Two distinct members after the deadline ----------------------------------------------------------


def test_one_member_alone_waits_and_nothing_is_decrypted(sealed):
    tender, members, _recovery, _bids = sealed

    opening = confirm(members[0], tender)

    assert opening.status == OpeningStatus.WAITING
    assert opening.first_member == members[0]
    assert opening.second_member is None
    assert opening.expires_at == past_deadline(tender) + settings.BID_OPENING_WINDOW
    # The unlocked share waits, sealed to the personal key of each other member (and the agency's officers with
    # a key): only their password opens it; the server key alone is not enough.
    assert set(opening.pending_shares) >= {str(members[1].pk), str(members[2].pk)}
    assert str(members[0].pk) not in opening.pending_shares
    tender.refresh_from_db()
    assert tender.status == TenderStatus.CLOSED  # the deadline has passed: closed, not opened
    nothing_decrypted(tender)
    assert len(audit_events("tender.opening_confirmed", tender_id=tender.pk)) == 1
    assert not audit_events("tender.bids_opened")


def test_two_distinct_members_open_the_tender_closed_to_opened_and_bids_submitted_to_opened(sealed):
    tender, members, _recovery, bids = sealed
    with clock(past_deadline(tender)):
        assert tender_services.advance_deadlines() == [tender.reference]
    tender.refresh_from_db()
    assert tender.status == TenderStatus.CLOSED

    opening = open_bids(tender, members, seconds=5)

    assert opening.status == OpeningStatus.COMPLETED
    assert (opening.first_member, opening.second_member) == (members[0], members[1])
    assert opening.pending_shares == {}
    assert opening.record["members"] == [members[0].email, members[1].email]
    assert opening.record["recovery_share_used"] is False
    assert opening.record["tampered"] == 0
    tender.refresh_from_db()
    assert tender.status == TenderStatus.OPENED
    for bid in bids:
        bid.refresh_from_db()
        assert bid.status == BidStatus.OPENED
        assert bid.opened_at == past_deadline(tender, seconds=5)
    (event,) = audit_events("tender.bids_opened", tender_id=tender.pk)
    assert (event.payload["from"], event.payload["to"]) == (TenderStatus.CLOSED, TenderStatus.OPENED)
    assert {entry["bid_id"] for entry in opening.record["bids"]} == {b.pk for b in bids}


def test_quality_cost_tenders_open_only_the_technical_envelopes(sealed):
    tender, members, _recovery, bids = sealed
    assert tender.evaluation_method == EvaluationMethod.QUALITY_COST

    opening = open_bids(tender, members)

    assert opening.stage == OpeningStage.TECHNICAL
    for bid in bids:
        bid.refresh_from_db()
        technical, financial = envelope(bid, EnvelopeKind.TECHNICAL), envelope(bid, EnvelopeKind.FINANCIAL)
        assert technical.state == EnvelopeState.OPENED
        assert technical.content["bidder"] == bid.vendor.legal_name_en
        assert "approach" in json.dumps(technical.content)
        assert "total_price" not in json.dumps(technical.content)
        assert financial.state == EnvelopeState.SEALED
        assert financial.content is None
        (bid_file,) = bid.files.all()
        assert bid_file.opened and bid_file.opened_sha256 == sha256_hex(read_stored(bid_file.opened))
    for entry in opening.record["bids"]:
        assert "financial" not in entry
        assert entry["technical"]["state"] == "opened"
        assert entry["technical"]["files"][0]["state"] == "opened"


def test_lowest_price_tenders_open_both_envelopes_at_once():
    tender, members, _recovery = published_tender(evaluation_method=EvaluationMethod.LOWEST_PRICE)
    bid, _receipt = submitted_bid(tender, bidder()[1], price="777.50")

    opening = open_bids(tender, members)

    assert opening.stage == OpeningStage.BOTH
    bid.refresh_from_db()
    assert envelope(bid, EnvelopeKind.TECHNICAL).state == EnvelopeState.OPENED
    financial = envelope(bid, EnvelopeKind.FINANCIAL)
    assert financial.state == EnvelopeState.OPENED
    assert financial.content["total_price"] == "777.50"
    assert financial.content["lines"][0]["amount"] == "777.50"
    (entry,) = opening.record["bids"]
    assert entry["financial"]["total_price"] == "777.50"
    assert entry["technical"]["state"] == "opened"


# Refusals -------------------------------------------------------------------------------------------


def test_the_same_member_twice_is_refused_and_logged(sealed):
    tender, members, _recovery, _bids = sealed
    first = confirm(members[0], tender)

    with pytest.raises(ActionRefused, match="already confirmed"):
        confirm(members[0], tender, at=past_deadline(tender, seconds=30))

    assert len(refusals(tender, "same member twice")) == 1
    assert refusals(tender, "same member twice")[0].actor == members[0]
    first.refresh_from_db()
    assert first.status == OpeningStatus.WAITING
    nothing_decrypted(tender)


def test_before_the_deadline_is_refused_and_logged(sealed):
    tender, members, _recovery, _bids = sealed
    for moment in (
        tender.submission_deadline - datetime.timedelta(days=1),
        tender.submission_deadline - datetime.timedelta(microseconds=1),
    ):
        with pytest.raises(ActionRefused, match="before the submission deadline"):
            confirm(members[0], tender, at=moment)

    assert len(refusals(tender, "before the deadline")) == 2
    assert not BidOpening.objects.exists()
    tender.refresh_from_db()
    assert tender.status == TenderStatus.PUBLISHED
    nothing_decrypted(tender)


def test_a_first_confirmation_before_the_deadline_cannot_be_completed_after_it(sealed):
    """Both actions must happen after the deadline: an early first member has nothing waiting afterwards."""
    tender, members, _recovery, _bids = sealed
    with pytest.raises(ActionRefused):
        confirm(members[0], tender, at=tender.submission_deadline - datetime.timedelta(seconds=1))

    opening = confirm(members[1], tender)

    assert opening.status == OpeningStatus.WAITING
    assert opening.first_member == members[1]
    nothing_decrypted(tender)


@pytest.mark.parametrize("who", ["officer", "approver", "auditor", "other_committee_member", "vendor"])
def test_people_outside_the_committee_are_refused_and_logged(sealed, who):
    tender, members, _recovery, _bids = sealed
    person = {
        "officer": lambda: tender.created_by,
        "approver": lambda: UserFactory(agency=tender.agency, roles=[Role.APPROVER]),
        "auditor": lambda: UserFactory(roles=[Role.AUDITOR]),
        "other_committee_member": committee_member,
        "vendor": lambda: bidder()[1],
    }[who]()
    confirm(members[0], tender)  # a real member is waiting for a second one

    with pytest.raises(ActionRefused, match="opening committee"):
        confirm(person, tender)

    (refusal,) = refusals(tender, "not a member")
    assert refusal.actor == person
    assert BidOpening.objects.get().status == OpeningStatus.WAITING
    nothing_decrypted(tender)


def test_an_anonymous_person_is_refused():
    from django.contrib.auth.models import AnonymousUser

    tender, _members, _recovery = published_tender()
    with pytest.raises(PermissionDenied):
        confirm(AnonymousUser(), tender)


def test_a_wrong_password_is_refused_and_logged(sealed):
    tender, members, _recovery, _bids = sealed

    with pytest.raises(ActionRefused, match="not your password"):
        confirm(members[0], tender, password="Tr0ub4dor&3-typed")
    assert not BidOpening.objects.exists()

    confirm(members[0], tender)
    with pytest.raises(ActionRefused, match="not your password"):
        confirm(members[1], tender, password="")

    assert [e.actor for e in refusals(tender, "wrong password")] == [members[0], members[1]]
    assert all("Tr0ub4dor" not in json.dumps(e.payload) for e in refusals(tender))
    assert BidOpening.objects.get().status == OpeningStatus.WAITING
    nothing_decrypted(tender)


def test_the_waiting_confirmation_expires_after_the_window_and_a_new_one_is_needed(sealed):
    tender, members, _recovery, bids = sealed
    start = past_deadline(tender)
    first = confirm(members[0], tender, at=start)

    # Exactly at the end of the window the first confirmation no longer counts: members[1] starts afresh.
    late = confirm(members[1], tender, at=start + settings.BID_OPENING_WINDOW)

    first.refresh_from_db()
    assert first.status == OpeningStatus.EXPIRED
    assert first.pending_shares == {}
    assert len(audit_events("tender.opening_expired", tender_id=tender.pk)) == 1
    assert late.pk != first.pk
    assert late.status == OpeningStatus.WAITING
    assert late.first_member == members[1]
    nothing_decrypted(tender)

    # members[0] may confirm again, as the second of the new ceremony.
    done = confirm(members[0], tender, at=start + settings.BID_OPENING_WINDOW + datetime.timedelta(minutes=1))
    assert done.pk == late.pk
    assert done.status == OpeningStatus.COMPLETED
    assert (done.first_member, done.second_member) == (members[1], members[0])
    assert Bid.objects.filter(pk__in=[b.pk for b in bids], status=BidStatus.OPENED).count() == 2


def test_just_inside_the_window_the_second_member_opens(sealed):
    tender, members, _recovery, _bids = sealed
    start = past_deadline(tender)
    confirm(members[0], tender, at=start)

    opening = confirm(members[2], tender, at=start + settings.BID_OPENING_WINDOW - datetime.timedelta(seconds=1))

    assert opening.status == OpeningStatus.COMPLETED
    assert not audit_events("tender.opening_expired")


# The recovery share ---------------------------------------------------------------------------------


def test_an_officer_of_the_agency_completes_with_the_recovery_share(sealed):
    tender, members, recovery, bids = sealed
    officer = tender.created_by
    # The first member's share is sealed to the personal keys of those who may complete: the officer needs one.
    keys.personal_key_create(user=officer, password=PASSWORD)
    confirm(members[0], tender)

    opening = confirm(officer, tender, recovery_share=recovery)

    assert opening.status == OpeningStatus.COMPLETED
    assert opening.second_member == officer
    assert opening.record["recovery_share_used"] is True
    tender.refresh_from_db()
    assert tender.status == TenderStatus.OPENED
    for bid in bids:
        assert envelope(bid, EnvelopeKind.TECHNICAL).state == EnvelopeState.OPENED


def test_an_officer_without_a_personal_key_cannot_complete_with_the_recovery_share(sealed):
    tender, members, recovery, _bids = sealed
    officer = tender.created_by
    assert keys.active_key(officer) is None
    confirm(members[0], tender)
    with pytest.raises(ActionRefused, match="personal key"):
        confirm(officer, tender, recovery_share=recovery)
    nothing_decrypted(tender)


def test_an_officer_who_set_up_a_key_after_the_first_confirmation_cannot_open_it(sealed):
    tender, members, recovery, _bids = sealed
    officer = tender.created_by
    confirm(members[0], tender)
    keys.personal_key_create(user=officer, password=PASSWORD)
    with pytest.raises(ActionRefused, match="not sealed for you"):
        confirm(officer, tender, recovery_share=recovery)
    assert refusals(tender, "not a custodian of the first share")
    nothing_decrypted(tender)


def test_the_pending_share_is_not_readable_with_the_database_and_the_server_settings(sealed):
    """Someone holding the database and SECRET_KEY during the window, plus one member's share, still cannot
    rebuild the key: the first share is sealed to the other custodians' personal keys (their passwords)."""
    tender, members, _recovery, _bids = sealed
    opening = confirm(members[0], tender)
    for blob in opening.pending_shares.values():
        raw = base64.b64decode(blob)
        header = sealing.read_header(raw)
        assert header["type"] == "member-share" and "recipient" in header
    # Without a custodian's unlocked personal key, open_share cannot be called at all; a wrong key fails.
    stranger = sealing.unlock_personal_key(
        blob=sealing.generate_personal_keypair(password="x" * 12).blob, password="x" * 12
    )
    with pytest.raises(sealing.ShareTampered):
        sealing.open_share(
            encrypted_share=base64.b64decode(opening.pending_shares[str(members[1].pk)]),
            member_private_key=stranger,
            tender_reference=tender.reference,
            member_id=f"pending-{tender.pk}-user-{members[1].pk}",
        )


def test_the_recovery_share_cannot_start_an_opening(sealed):
    tender, _members, recovery, _bids = sealed
    with pytest.raises(ActionRefused, match="member has started"):
        confirm(tender.created_by, tender, recovery_share=recovery)
    assert not BidOpening.objects.exists()
    nothing_decrypted(tender)


def test_the_recovery_share_needs_the_officers_own_password(sealed):
    tender, members, recovery, _bids = sealed
    confirm(members[0], tender)
    with pytest.raises(ActionRefused, match="not your password"):
        confirm(tender.created_by, tender, recovery_share=recovery, password="guess")
    assert refusals(tender, "wrong password")
    nothing_decrypted(tender)


def test_the_recovery_share_in_the_hands_of_someone_else_is_refused(sealed):
    tender, members, recovery, _bids = sealed
    confirm(members[0], tender)
    approver = UserFactory(agency=tender.agency, roles=[Role.APPROVER])
    with pytest.raises(ActionRefused, match="opening committee"):
        confirm(approver, tender, recovery_share=recovery)
    assert refusals(tender, "not a member")
    nothing_decrypted(tender)


def test_a_mistyped_recovery_share_is_refused_with_a_message(sealed):
    tender, members, recovery, _bids = sealed
    confirm(members[0], tender)
    check = recovery.strip().splitlines()[-1]
    mistyped = recovery.replace(check, "check: 00000000" if not check.endswith("00000000") else "check: 11111111")
    for bad in (mistyped, "not a recovery share"):
        with pytest.raises(ActionRefused, match="recovery share"):
            confirm(tender.created_by, tender, recovery_share=bad)
    assert len(refusals(tender, "invalid recovery share")) == 2
    assert BidOpening.objects.get().status == OpeningStatus.WAITING
    nothing_decrypted(tender)


def test_the_recovery_share_of_another_tender_is_refused_with_a_message(sealed):
    tender, members, _recovery, _bids = sealed
    _other, _other_members, other_recovery = published_tender()
    confirm(members[0], tender)
    with pytest.raises(ActionRefused, match="recovery share"):
        confirm(tender.created_by, tender, recovery_share=other_recovery)
    assert refusals(tender, "invalid recovery share")
    nothing_decrypted(tender)


# Keys replaced by a password reset -------------------------------------------------------------------


def test_a_member_whose_key_was_replaced_cannot_use_their_share(sealed):
    tender, members, _recovery, _bids = sealed
    keys.personal_key_replace(user=members[0], new_password=PASSWORD, reason="password reset")

    with pytest.raises(ActionRefused, match="replaced"):
        confirm(members[0], tender)
    assert len(refusals(tender, "personal key replaced")) == 1
    assert not BidOpening.objects.exists()

    # ... also as the second member,
    confirm(members[1], tender)
    with pytest.raises(ActionRefused, match="replaced"):
        confirm(members[0], tender)
    nothing_decrypted(tender)

    # ... while the two others still open the bids.
    opening = confirm(members[2], tender)
    assert opening.status == OpeningStatus.COMPLETED


# Envelopes checked against the receipt ---------------------------------------------------------------


def _flip_a_byte(field_file) -> bytes:
    data = bytearray(read_stored(field_file))
    data[len(data) // 2] ^= 0x01
    with open(field_file.path, "wb") as handle:
        handle.write(data)
    return bytes(data)


def test_a_tampered_envelope_is_reported_and_the_other_bids_open(sealed):
    tender, members, _recovery, (tampered_bid, good_bid) = sealed
    _flip_a_byte(envelope(tampered_bid, EnvelopeKind.TECHNICAL).sealed)

    opening = open_bids(tender, members)

    bad = envelope(tampered_bid, EnvelopeKind.TECHNICAL)
    assert bad.state == EnvelopeState.TAMPERED
    assert bad.content is None
    assert bad.problem
    assert envelope(good_bid, EnvelopeKind.TECHNICAL).state == EnvelopeState.OPENED
    entries = {entry["bid_id"]: entry for entry in opening.record["bids"]}
    assert entries[tampered_bid.pk]["technical"]["state"] == "tampered"
    assert entries[tampered_bid.pk]["technical"]["problem"]
    assert entries[good_bid.pk]["technical"]["state"] == "opened"
    assert opening.record["tampered"] == 1
    (event,) = audit_events("tender.bids_opened", tender_id=tender.pk)
    assert event.payload["tampered"] == 1


def test_a_resealed_envelope_with_its_hash_column_and_receipt_rewritten_is_still_detected(sealed):
    """Someone holding the database and the file store can seal new content with the tender's public key and
    rewrite every hash they can reach; the hash recorded in the hash-chained audit log still gives it away."""
    tender, members, _recovery, (forged_bid, good_bid) = sealed
    forged = envelope(forged_bid, EnvelopeKind.TECHNICAL)
    original = read_stored(forged.sealed)
    replacement = sealing.seal_envelope(
        tender_public_key=bytes(tender.sealing_key.public_key),
        tender_reference=tender.reference,
        envelope_kind=EnvelopeKind.TECHNICAL,
        bid_id=forged_bid.pk,
        version=forged_bid.version,
        plaintext=json.dumps({"bidder": "forged", "answers": {}, "files": [], "consortium": []}).encode(),
    )
    assert replacement.blob != original
    with open(forged.sealed.path, "wb") as handle:
        handle.write(replacement.blob)
    BidEnvelope.objects.filter(pk=forged.pk).update(sha256=replacement.sha256, size=len(replacement.blob))
    for receipt in BidReceipt.objects.filter(bid=forged_bid):
        receipt.envelopes = [
            {**item, "sha256": replacement.sha256} if item["label"] == EnvelopeKind.TECHNICAL else item
            for item in receipt.envelopes
        ]
        receipt.save(update_fields=["envelopes"])

    opening = open_bids(tender, members)

    forged.refresh_from_db()
    assert forged.sha256 == replacement.sha256
    assert forged.state == EnvelopeState.TAMPERED
    assert forged.content is None
    entries = {entry["bid_id"]: entry for entry in opening.record["bids"]}
    assert entries[forged_bid.pk]["technical"]["state"] == "tampered"
    assert entries[good_bid.pk]["technical"]["state"] == "opened"
    assert opening.record["tampered"] == 1


def test_a_resealed_document_with_its_hash_column_rewritten_is_detected(sealed):
    tender, members, _recovery, (forged_bid, good_bid) = sealed
    (bid_file,) = forged_bid.files.all()
    import io

    destination = io.BytesIO()
    result = sealing.seal_file(
        tender_public_key=bytes(tender.sealing_key.public_key),
        tender_reference=tender.reference,
        envelope_kind=bid_file.label,
        bid_id=forged_bid.pk,
        version=bid_file.sealed_version,
        source=io.BytesIO(b"%PDF-1.7\nforged\n%%EOF\n"),
        destination=destination,
    )
    with open(bid_file.sealed.path, "wb") as handle:
        handle.write(destination.getvalue())
    BidFile.objects.filter(pk=bid_file.pk).update(sealed_sha256=result.sha256)

    opening = open_bids(tender, members)

    entries = {entry["bid_id"]: entry for entry in opening.record["bids"]}
    assert entries[forged_bid.pk]["technical"]["state"] == "opened"  # the envelope itself is intact
    assert entries[forged_bid.pk]["technical"]["files"][0]["state"] == "tampered"
    assert entries[good_bid.pk]["technical"]["files"][0]["state"] == "opened"
    assert opening.record["tampered"] == 1
    bid_file.refresh_from_db()
    assert not bid_file.opened


# Bids that were not re-confirmed --------------------------------------------------------------------


def test_a_bid_needing_reconfirmation_is_not_opened_and_is_listed(sealed):
    tender, members, _recovery, (stale, confirmed) = sealed
    material_addendum(tender)
    stale.refresh_from_db()
    confirmed.refresh_from_db()
    assert stale.status == confirmed.status == BidStatus.NEEDS_RECONFIRMATION
    from procurement import bid_services

    bid_services.bid_reconfirm(actor=confirmed.created_by, bid=confirmed)

    opening = open_bids(tender, members)

    stale.refresh_from_db()
    confirmed.refresh_from_db()
    assert stale.status == BidStatus.NEEDS_RECONFIRMATION
    assert confirmed.status == BidStatus.OPENED
    assert all(e.content is None and e.state == EnvelopeState.SEALED for e in stale.envelopes.all())
    assert opening.record["not_reconfirmed"] == [{"bid_id": stale.pk, "bidder": stale.vendor.legal_name_en}]
    assert [entry["bid_id"] for entry in opening.record["bids"]] == [confirmed.pk]


def test_a_modification_still_in_preparation_at_the_deadline_leaves_the_submitted_version_to_be_opened(sealed):
    from procurement import bid_services
    from tests.procurement.bid_factories import draft_data

    tender, members, _recovery, (modified, _other) = sealed
    admin = modified.created_by
    modified = bid_services.bid_start_modification(actor=admin, bid=modified)
    bid_services.bid_save_draft(actor=admin, bid=modified, data=draft_data(tender, answer="Never submitted"))

    opening = open_bids(tender, members)

    modified.refresh_from_db()
    assert (modified.status, modified.version) == (BidStatus.OPENED, 1)
    content = envelope(modified, EnvelopeKind.TECHNICAL).content
    assert "First approach" in json.dumps(content)
    assert "Never submitted" not in json.dumps(opening.record) + json.dumps(content)
