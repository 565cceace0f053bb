from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command

from accounts.models import PersonalKey, User
from audit.models import AuditCheckpoint, AuditEvent
from audit.verification import verify_audit_log
from contracts.models import (
    RISK_CATEGORIES,
    AmendmentStatus,
    Contract,
    ContractSignature,
    ContractStatus,
    ContractVersion,
    SignerKey,
)
from core.demo_bids import COMMITTEE, KEY_HOLDERS, OPENED
from core.demo_data import ACCOUNTS, PHASES
from core.demo_evaluation import STAGES
from notifications.models import Notification
from procurement import sealing
from procurement.models import (
    Agency,
    Bid,
    BidOpening,
    BidReceipt,
    Complaint,
    ComplianceDecision,
    ConflictDeclaration,
    ConsensusScore,
    EvaluationMember,
    OpeningCommitteeMember,
    Phase,
    PriceReview,
    Programme,
    Recommendation,
    TechnicalScore,
    Tender,
    TenderKey,
)
from procurement.models.bids import BidStatus, EnvelopeKind, EnvelopeState, OpeningStage, OpeningStatus
from procurement.models.evaluation import ComplaintStatus, RecommendationStatus
from procurement.models.tenders import TenderStatus
from vendors.models import Debarment, Vendor, VendorStatus

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
    EvaluationMember,
    ConflictDeclaration,
    ComplianceDecision,
    TechnicalScore,
    ConsensusScore,
    PriceReview,
    Recommendation,
    Complaint,
    Contract,
    ContractVersion,
    ContractSignature,
    SignerKey,
    Notification,
    AuditEvent,
    AuditCheckpoint,
]


@pytest.fixture(scope="module")
def _contract_ca_dir(tmp_path_factory):
    """The demo creates the contract CA once per module (its keys take a moment); later runs keep it."""
    return tmp_path_factory.mktemp("demo-contract-ca")


@pytest.fixture(autouse=True)
def _contract_ca(settings, _contract_ca_dir):
    settings.CONTRACT_CA_CERT_FILE = _contract_ca_dir / "contract-ca.pem"
    settings.CONTRACT_CA_KEY_PASSPHRASE = "demo-test-contract-ca-passphrase"
    settings.CONTRACT_TSA_URL = ""


@pytest.fixture(autouse=True)
def _fast(monkeypatch):
    """A cheap scrypt cost for the demo's personal keys, and stand-ins for the receipts' and evaluation reports'
    PDF rendering (weasyprint takes seconds per document; the rendering is tested with the receipts and reports)."""
    monkeypatch.setattr(sealing, "SCRYPT_N", 2**10)
    monkeypatch.setattr("procurement.tasks._receipt_pdf", lambda receipt: b"%PDF-1.4\n%%EOF\n")
    monkeypatch.setattr("procurement.tasks._evaluation_report_pdf", lambda recommendation: b"%PDF-1.4\n%%EOF\n")


def counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in MODELS}


def test_seed_demo_is_idempotent_and_leaves_a_verified_log(db):
    out = StringIO()
    call_command("seed_demo", stdout=out)
    before = counts()
    statuses = sorted(Bid.objects.values_list("pk", "status"))
    tenders = sorted(Tender.objects.values_list("pk", "status"))
    again = StringIO()
    call_command("seed_demo", stdout=again)
    assert counts() == before, "a second run changes nothing"
    assert sorted(Bid.objects.values_list("pk", "status")) == statuses
    assert sorted(Tender.objects.values_list("pk", "status")) == tenders
    assert "Created" not in again.getvalue()
    assert_tenders_stand_at_each_stage_of_the_evaluation_and_the_award(out)
    assert_the_awarded_tender_has_a_contract_in_force(out)
    assert_a_monitored_contract_has_a_history()
    assert_vendors_stand_in_every_state()

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


def assert_vendors_stand_in_every_state() -> None:
    """Checked on the first test's run: a vendor verified, pending, suspended and debarred, the debarment in force
    with its legal reference."""
    from django.utils import timezone

    today = timezone.localdate()
    assert {VendorStatus.VERIFIED, VendorStatus.PENDING, VendorStatus.SUSPENDED, VendorStatus.DEBARRED} <= set(
        Vendor.objects.values_list("status", flat=True)
    )
    for vendor in Vendor.objects.filter(status=VendorStatus.DEBARRED):
        debarment = Debarment.objects.active(today).get(vendor=vendor)
        assert debarment.legal_reference.strip() and debarment.reason.strip()
        assert not vendor.may_bid(today)
    suspended = Vendor.objects.filter(status=VendorStatus.SUSPENDED)
    assert all(vendor.suspension_reason for vendor in suspended)
    assert all(vendor.may_bid(today) for vendor in Vendor.objects.filter(status=VendorStatus.VERIFIED))


def _stage(stage: str) -> Tender:
    spec = next(spec for spec in STAGES if spec["stage"] == stage)
    return Tender.objects.get(title_en=spec["title_en"])


def assert_tenders_stand_at_each_stage_of_the_evaluation_and_the_award(out: StringIO) -> None:
    """Checked on the first test's run (one seeding less: the demo takes seconds)."""
    committee = set(COMMITTEE)
    for stage in ("evaluation", "award_pending", "standstill", "awarded"):
        tender = _stage(stage)
        # The awarded tender's contract is signed by both parties, which takes the tender on to "contracted".
        assert tender.status == (TenderStatus.CONTRACTED if stage == "awarded" else stage)
        assert tender.reference in out.getvalue(), stage
        # Past its deadline, opened by two members, with the whole committee declared on every bid.
        assert tender.submission_deadline_passed(tender.submission_deadline)
        seats = EvaluationMember.objects.filter(tender=tender)
        assert set(seats.values_list("user__email", flat=True)) == committee
        assert seats.get(is_chair=True).user.email == COMMITTEE[0]
        assert not seats.filter(user__email="approver@demo.gov").exists()
        assert ConflictDeclaration.objects.filter(member__tender=tender, has_conflict=False).count() == (
            len(committee) * tender.bids.count()
        )
        assert ComplianceDecision.objects.filter(bid__tender=tender).count() == tender.bids.count()

    # In evaluation: two sheets submitted, the third member still scoring; a bid found not responsive.
    scoring = _stage("evaluation")
    assert set(
        EvaluationMember.objects.filter(tender=scoring, scores_submitted_at__isnull=True).values_list(
            "user__email", flat=True
        )
    ) == {"committee3@demo.gov"}
    assert TechnicalScore.objects.filter(member__user__email="committee3@demo.gov", bid__tender=scoring).exists()
    assert ComplianceDecision.objects.filter(bid__tender=scoring, responsive=False).exclude(reason="").count() == 1
    assert set(scoring.bids.values_list("status", flat=True)) == {BidStatus.OPENED}
    assert "committee3@demo.gov can finish and submit their scores" in out.getvalue()

    # Award pending: the financial envelopes opened, an abnormally low price justified, the recommendation waiting.
    pending = _stage("award_pending")
    recommendation = Recommendation.objects.get(tender=pending)
    assert recommendation.status == RecommendationStatus.PENDING
    assert BidOpening.objects.filter(
        tender=pending, stage=OpeningStage.FINANCIAL, status=OpeningStatus.COMPLETED
    ).exists()
    assert pending.bids.filter(envelopes__kind=EnvelopeKind.FINANCIAL, envelopes__state=EnvelopeState.OPENED).exists()
    low = [result for result in recommendation.evaluation["results"] if result["abnormally_low"]]
    assert len(low) == 1
    assert PriceReview.objects.get(bid_id=low[0]["bid_id"]).decision == PriceReview.Decision.JUSTIFIED
    assert f"approver@demo.gov can approve (or return) the award to {recommendation.bid.vendor}" in out.getvalue()

    # Standstill: approved, and the second-ranked bidder's complaint waits for a decision.
    standstill = _stage("standstill")
    approved = Recommendation.objects.get(tender=standstill)
    assert approved.status == RecommendationStatus.APPROVED
    assert approved.decided_by.email == "approver@demo.gov"
    complaint = Complaint.objects.get(tender=standstill)
    assert complaint.status == ComplaintStatus.SUBMITTED
    assert complaint.bid_id != approved.bid_id
    assert complaint.filed_at < approved.standstill_ends_at
    assert "approver@demo.gov can decide the complaint" in out.getvalue()

    # Awarded: a bid under the pass mark disqualified, a consensus recorded, the award final after the standstill.
    awarded = _stage("awarded")
    final = Recommendation.objects.get(tender=awarded)
    assert final.status == RecommendationStatus.FINAL
    assert ConsensusScore.objects.filter(bid__tender=awarded).count() == 1
    statuses = dict(awarded.bids.values_list("pk", "status"))
    assert statuses.pop(final.bid_id) == BidStatus.AWARDED
    assert sorted(statuses.values()) == [BidStatus.DISQUALIFIED, BidStatus.NOT_AWARDED]
    assert AuditEvent.objects.filter(action="tender.awarded", tender_id=awarded.pk).count() == 1
    assert not Complaint.objects.filter(tender=awarded).exists()


def assert_the_awarded_tender_has_a_contract_in_force(out: StringIO) -> None:
    """Checked on the first test's run: the demo contract, signed by the contractor and then the agency."""
    from django.conf import settings

    contract = Contract.objects.get(tender=_stage("awarded"))
    assert contract.status == ContractStatus.ACTIVE
    assert contract.vendor.memberships.filter(user__email="vendor@demo.gov", is_administrator=True).exists()
    # Its own version and amendment 1's, each signed by the contractor and then the agency.
    versions = list(contract.versions.order_by("number"))
    assert [v.amendment.number if v.amendment else None for v in versions] == [None, 1]
    for version in versions:
        signatures = list(version.signatures.order_by("signed_at", "id"))
        assert [(s.party, s.signer.email) for s in signatures] == [
            ("vendor", "vendor@demo.gov"),
            ("agency", "officer@demo.gov"),
        ]
    assert set(contract.risk_allocation) == set(RISK_CATEGORIES)
    # Amendment 1 (in force) added a milestone and moved the value by 5%; amendment 2 awaits the approver.
    assert contract.kpis.count() == 1 and contract.milestones.count() == 2
    assert [(a.number, a.status) for a in contract.amendments.order_by("number")] == [
        (1, AmendmentStatus.IN_FORCE),
        (2, AmendmentStatus.PENDING_APPROVAL),
    ]
    assert contract.value == (Decimal(versions[0].terms["value"]) * Decimal("1.05")).quantize(Decimal("0.01"))
    assert contract.reference in out.getvalue()
    assert f"--trust {settings.CONTRACT_CA_CERT_FILE}" in out.getvalue()
    assert AuditEvent.objects.filter(action="contract.activated", object_id=str(contract.pk)).count() == 1
    # The other demo contracts: one in every other state of the workflow.
    states = set(Contract.objects.values_list("status", flat=True))
    assert states == {s.value for s in ContractStatus}
    for other in Contract.objects.exclude(pk=contract.pk):
        assert other.reference in out.getvalue()


def assert_a_monitored_contract_has_a_history() -> None:
    """The demo's monitored contract: paid milestones (one after a rejection, less its damages), an overdue one
    with damages accruing, and KPI measurements with a failure."""
    from contracts.models import MilestoneStatus, PenaltyKind

    contract = Contract.objects.get(title_en="Managed network services for government buildings")
    statuses = list(contract.milestones.order_by("order", "id").values_list("status", flat=True))
    assert statuses == [MilestoneStatus.PAID, MilestoneStatus.PAID, MilestoneStatus.PLANNED, MilestoneStatus.PLANNED]
    second = contract.milestones.order_by("order", "id")[1]
    assert [r.decision for r in second.reports.order_by("number")] == ["rejected", "accepted"]
    assert second.payment.penalties_deducted > 0
    assert contract.milestones.filter(overdue_since__isnull=False).count() == 1
    assert contract.penalties.filter(kind=PenaltyKind.DELAY, final=False).exists()
    assert contract.measurements.filter(met=False).count() == 1
