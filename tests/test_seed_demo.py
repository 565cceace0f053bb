from io import StringIO

import pytest
from django.core.management import call_command

from accounts.models import PersonalKey, User
from audit.models import AuditCheckpoint, AuditEvent
from audit.verification import verify_audit_log
from core.demo_bids import COMMITTEE, KEY_HOLDERS, OPENED
from core.demo_data import ACCOUNTS, PHASES
from notifications.models import Notification
from procurement import sealing
from procurement.models import (
    Agency,
    Bid,
    BidOpening,
    BidReceipt,
    OpeningCommitteeMember,
    Phase,
    Programme,
    Tender,
    TenderKey,
)
from procurement.models.bids import BidStatus, EnvelopeState, OpeningStatus
from procurement.models.tenders import TenderStatus
from vendors.models import Vendor

MODELS = [
    User,
    Agency,
    Programme,
    Phase,
    Tender,
    Vendor,
    PersonalKey,
    OpeningCommitteeMember,
    TenderKey,
    Bid,
    BidReceipt,
    BidOpening,
    Notification,
    AuditEvent,
    AuditCheckpoint,
]


@pytest.fixture(autouse=True)
def _fast(monkeypatch):
    """A cheap scrypt cost for the demo's personal keys, and a stand-in for the receipts' PDF rendering
    (weasyprint takes seconds per receipt; the rendering is tested with the receipts)."""
    monkeypatch.setattr(sealing, "SCRYPT_N", 2**10)
    monkeypatch.setattr("procurement.tasks._receipt_pdf", lambda receipt: b"%PDF-1.4\n%%EOF\n")


def counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in MODELS}


def test_seed_demo_is_idempotent_and_leaves_a_verified_log(db):
    out = StringIO()
    call_command("seed_demo", stdout=out)
    before = counts()
    statuses = sorted(Bid.objects.values_list("pk", "status"))
    again = StringIO()
    call_command("seed_demo", stdout=again)
    assert counts() == before, "a second run changes nothing"
    assert sorted(Bid.objects.values_list("pk", "status")) == statuses
    assert "Created" not in again.getvalue()

    assert before["Phase"] == len(PHASES)
    for email, *_ in ACCOUNTS:
        assert email in out.getvalue()
    assert "Recovery shares of the demo tenders were discarded" in out.getvalue()
    programme = Programme.objects.get(code="NEGP")
    assert programme.phases_budget() <= programme.budget
    assert programme.name_ar and all(phase.name_ar for phase in programme.phases.all())

    from audit.keys import load_signing_key

    result = verify_audit_log([load_signing_key().public_key()])
    assert result.ok, result.problem
    assert result.checkpoints_verified >= 1
    assert result.head_sequence == result.latest_checkpoint


def test_the_committee_holds_keys_published_tenders_are_sealed_and_bids_are_in_every_state(db):
    call_command("seed_demo", stdout=StringIO())

    for email in KEY_HOLDERS:
        assert PersonalKey.objects.active().filter(user__email=email).count() == 1, email
    for tender in Tender.objects.all():
        assert sorted(tender.opening_committee.values_list("user__email", flat=True)) == sorted(COMMITTEE)
    published = Tender.objects.exclude(status__in=[TenderStatus.DRAFT, TenderStatus.PENDING_APPROVAL])
    assert published.exists()
    for tender in published:
        key = TenderKey.objects.get(tender=tender)
        assert key.shares.count() == len(COMMITTEE)

    # Bids: drafts and submitted (sealed) bids on the open tenders, opened ones on the tender past its deadline.
    statuses = set(Bid.objects.values_list("status", flat=True))
    assert {BidStatus.DRAFT, BidStatus.SUBMITTED, BidStatus.OPENED} <= statuses
    open_tenders = Tender.objects.filter(status=TenderStatus.PUBLISHED)
    assert Bid.objects.filter(tender__in=open_tenders, status=BidStatus.DRAFT).exists()
    assert Bid.objects.filter(tender__in=open_tenders, status=BidStatus.SUBMITTED).exists()
    for bid in Bid.objects.filter(status=BidStatus.SUBMITTED):
        assert bid.receipts.filter(action="submitted").exists()
        assert bid.envelopes.filter(state=EnvelopeState.SEALED).exists()

    opened = Tender.objects.get(title_en=OPENED["title_en"])
    assert opened.status == TenderStatus.OPENED
    assert opened.submission_deadline_passed(opened.submission_deadline)
    opening = BidOpening.objects.get(tender=opened)
    assert opening.status == OpeningStatus.COMPLETED
    assert {opening.first_member.email, opening.second_member.email} == set(COMMITTEE[:2])
    assert len(opening.record["bids"]) == opened.bids.count() >= 2
    assert opening.record["tampered"] == 0
    assert set(opened.bids.values_list("status", flat=True)) == {BidStatus.OPENED}
    for bid in opened.bids.all():
        assert bid.submitted_at < opened.submission_deadline
    assert AuditEvent.objects.filter(action="tender.bids_opened", tender_id=opened.pk).count() == 1


def test_demo_accounts_can_sign_in(client, db):
    call_command("seed_demo", stdout=StringIO())
    from core.demo_data import DEMO_PASSWORD

    for email, *_ in ACCOUNTS:
        client.logout()
        response = client.post("/en/accounts/sign-in/", {"username": email, "password": DEMO_PASSWORD})
        assert response.status_code == 302, email
        assert client.get("/en/dashboard/").status_code == 200
