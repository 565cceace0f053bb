"""One tender driven through the API alone, from a draft to an active signed contract: every action is an HTTP
call with a Bearer token issued by ``POST /api/v1/auth/token/``; only the scheduler (``advance_deadlines``) is
called directly, and the clock is moved as the other API tests move it."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from accounts.roles import Role
from audit.models import AuditEvent
from contracts.models import RISK_CATEGORIES, ContractStatus
from procurement import tender_services
from procurement.models import Recommendation, Tender
from procurement.models.tenders import TenderStatus
from tests.accounts.factories import UserFactory
from tests.contracts.test_amendments import _ca_and_media, authority_dir  # noqa: F401
from tests.procurement.bid_factories import PASSWORD, bidder, clock, document, evaluation_member
from tests.procurement.factories import PhaseFactory
from tests.procurement.tender_factories import keyed_committee_member, pdf_upload

pytestmark = pytest.mark.django_db

DAY = datetime.timedelta(days=1)


class Actor:
    """One person's API client: a token from the token endpoint, and calls that must answer 2xx."""

    def __init__(self, api_client_class, user):
        self.user = user
        self.client = api_client_class()
        issued = self.client.post(
            "/api/v1/auth/token/", {"email": user.email, "password": PASSWORD, "name": "e2e"}, format="json"
        )
        assert issued.status_code == 201, issued.content[:500]
        self.client.credentials(HTTP_AUTHORIZATION=f"Bearer {issued.json()['token']}")

    def _ok(self, response, status):
        expected = (status,) if status else (200, 201)
        assert response.status_code in expected, (
            response.wsgi_request.path,
            response.status_code,
            response.content[:800],
        )
        return response.json() if response.content else None

    def get(self, url):
        return self._ok(self.client.get(url), 200)

    def post(self, url, data=None, *, status=None, multipart=False):
        response = self.client.post(url, data or {}, format="multipart" if multipart else "json")
        return self._ok(response, status)

    def patch(self, url, data):
        return self._ok(self.client.patch(url, data, format="json"), 200)


def test_one_tender_from_draft_to_an_active_signed_contract_over_the_api_alone(
    api_client, officer, approver, programme, django_capture_on_commit_callbacks
):
    cls = api_client.__class__
    phase = PhaseFactory(programme=programme)
    opening_members = [keyed_committee_member() for _ in range(3)]
    evaluators = [evaluation_member() for _ in range(2)]
    _vendor, vendor_admin = bidder()
    award_approver = UserFactory(agency=officer.agency, roles=[Role.APPROVER], preferred_language="en")

    off = Actor(cls, officer)

    # 1. The officer drafts the tender, uploads a document, names the opening committee and submits it.
    now = timezone.now()
    draft = off.post(
        "/api/v1/tenders/",
        {
            "phase": phase.pk,
            "title_en": "Contact centre, 24/7",
            "title_ar": "مركز اتصال على مدار الساعة",
            "description_en": "Operate the national contact centre.",
            "description_ar": "تشغيل مركز الاتصال الوطني.",
            "method": "open",
            "category": "services",
            "estimated_value": "750000.00",
            "currency": "SAR",
            "minimum_bids": 1,
            "evaluation_method": "lowest_price",
            "pass_mark": "70",
            "consensus_rule": "average",
            "evaluation_quorum": 2,
            "clarification_deadline": (now + 10 * DAY).isoformat(),
            "submission_deadline": (now + 30 * DAY).isoformat(),
            "opening_time": (now + 30 * DAY + datetime.timedelta(hours=2)).isoformat(),
            "criteria": [
                {"name_en": "Approach", "name_ar": "المنهج", "weight": "60"},
                {"name_en": "Team", "name_ar": "الفريق", "weight": "40"},
            ],
        },
        status=201,
    )
    assert draft["status"] == "draft"
    tid = draft["id"]
    t = f"/api/v1/tenders/{tid}/"
    off.post(f"{t}documents/", {"title": "Terms", "file": pdf_upload()}, status=201, multipart=True)
    for member in opening_members:
        off.post(f"{t}opening-committee/", {"user": member.pk}, status=201)
    assert off.post(f"{t}transitions/submit/")["status"] == "pending_approval"

    # 2. The approver approves: the tender is published.
    assert Actor(cls, approver).post(f"{t}transitions/approve/")["status"] == "published"
    tender = Tender.objects.get(pk=tid)

    # 3. The vendor bids before the deadline and gets its receipt.
    ven = Actor(cls, vendor_admin)
    # The published tender shows the vendor its criteria, with the ids a bid's answers are keyed by.
    published = ven.get(t)
    assert published["status"] == "published" and published["internal"] is None
    criteria = published["criteria"]
    assert [(c["name_en"], c["weight"]) for c in criteria] == [("Approach", "60.00"), ("Team", "40.00")]
    bid = ven.post(
        "/api/v1/bids/",
        {
            "tender": tid,
            "draft": {
                "answers": {str(c["id"]): f"Our approach to {c['name_en']}" for c in criteria},
                "total_price": "700000.00",
                "currency": "SAR",
                "validity_days": "90",
                "lines": [{"description": "Operation", "quantity": "1", "unit": "lot", "unit_price": "700000.00"}],
            },
        },
        status=201,
    )
    ven.post(f"/api/v1/bids/{bid['id']}/documents/", {"title": "Offer", "document": document()}, multipart=True)
    submitted = ven.post(f"/api/v1/bids/{bid['id']}/transitions/submit/")
    assert submitted["bid"]["status"] == "submitted" and submitted["receipt"]["action"] == "submitted"

    # 4. Past the deadline the scheduler closes the tender; two opening members open both envelopes.
    after = tender.submission_deadline + datetime.timedelta(seconds=5)
    tender_services.advance_deadlines(now=after)
    assert Tender.objects.get(pk=tid).status == TenderStatus.CLOSED
    with clock(after):
        for member in opening_members[:2]:
            opened = Actor(cls, member).post(f"{t}opening/confirm/", {"password": PASSWORD})
    assert opened["completed"] is True and opened["stage"] == "both"
    assert Tender.objects.get(pk=tid).status == TenderStatus.OPENED

    # 5. The evaluation committee is appointed and started; members declare, score, submit; the chair
    #    concludes and recommends (lowest price: no separate financial opening).
    e = f"{t}evaluation/"
    chair, second = (Actor(cls, user) for user in evaluators)
    with clock(after + datetime.timedelta(minutes=1)):
        for number, user in enumerate(evaluators):
            off.post(f"{e}members/", {"user": user.pk, "is_chair": number == 0}, status=201)
        off.post(f"{e}transitions/start/")
    with clock(after + datetime.timedelta(hours=1)):
        for member in (chair, second):
            member.post(f"{e}bids/{bid['id']}/declaration/", {"has_conflict": False})
        chair.post(f"{e}bids/{bid['id']}/compliance/", {"responsive": True})
        for member in (chair, second):
            sheet = [{"criterion": c["id"], "score": "80", "justification": "Well evidenced."} for c in criteria]
            member.post(f"{e}bids/{bid['id']}/scores/", {"scores": sheet})
            member.post(f"{e}transitions/submit/")
        chair.post(f"{e}transitions/conclude/")
    with clock(after + datetime.timedelta(hours=4)):
        recommended = chair.post(f"{e}transitions/recommend/", {"reasons": "Lowest evaluated price."})
    assert recommended["recommendation"]["bid"] == bid["id"]
    assert Tender.objects.get(pk=tid).status == TenderStatus.AWARD_PENDING

    # 6. An approver outside the committee approves the award; the standstill ends (scheduler) → awarded.
    with clock(after + datetime.timedelta(hours=6)):
        Actor(cls, award_approver).post(f"{t}award/transitions/approve/")
    assert Tender.objects.get(pk=tid).status == TenderStatus.STANDSTILL
    standstill_ends = Recommendation.objects.get(tender_id=tid).standstill_ends_at
    tender_services.advance_deadlines(now=standstill_ends)
    assert Tender.objects.get(pk=tid).status == TenderStatus.AWARDED

    # 7. The officer drafts the contract from the award, sets its terms, a milestone and a KPI, freezes it.
    contract = off.post(f"{t}contract/", status=201)
    assert contract["status"] == ContractStatus.DRAFT
    c = f"/api/v1/contracts/{contract['id']}/"
    off.patch(
        f"{c}terms/",
        {
            "start_date": "2028-01-01",
            "end_date": "2052-12-31",
            "payment_mechanism": "availability",
            "penalty_rate": "0.05",
            "penalty_cap": "10",
            "risk_allocation": dict.fromkeys(RISK_CATEGORIES, "private"),
        },
    )
    off.post(
        f"{c}milestones/",
        {"title_en": "Operation", "title_ar": "التشغيل", "due_date": "2029-06-30", "payment_amount": "100"},
        status=201,
    )
    off.post(
        f"{c}kpis/",
        {"name_en": "Availability", "name_ar": "الإتاحة", "target": "99.5", "unit": "%", "frequency": "monthly"},
        status=201,
    )
    with django_capture_on_commit_callbacks(execute=True):
        off.post(f"{c}transitions/freeze/")

    # 8. The vendor's signatory signs, the officer countersigns: the contract is in force.
    ven.post(f"{c}signing-key/", {"password": PASSWORD}, status=201)
    ven.post(f"{c}transitions/sign/", {"password": PASSWORD})
    off.post(f"{c}signing-key/", {"password": PASSWORD}, status=201)
    signed = off.post(f"{c}transitions/sign/", {"password": PASSWORD})
    assert signed["status"] == ContractStatus.ACTIVE
    assert {s["party"] for s in signed["versions"][0]["signatures"]} == {"vendor", "agency"}
    assert off.get(f"/api/v1/contracts/{contract['id']}/")["status"] == ContractStatus.ACTIVE

    # The audit log holds the key events of the tender's life, each by the person who acted over the API.
    by = {
        "tender.created": officer,
        "tender.submitted_for_approval": officer,
        "tender.approved_and_published": approver,
        "bid.submitted": vendor_admin,
        "tender.evaluation_started": officer,
        "tender.award_recommended": evaluators[0],
        "tender.award_approved": award_approver,
        "contract.created": officer,
        "contract.frozen": officer,
    }
    for action, actor in by.items():
        assert AuditEvent.objects.filter(action=action, actor=actor).exists(), action
    for action in ("tender.closed", "tender.bids_opened", "tender.awarded", "contract.activated"):
        assert AuditEvent.objects.filter(action=action).exists(), action
    assert AuditEvent.objects.filter(action="tender.opening_confirmed", actor=opening_members[0]).exists()
    assert set(AuditEvent.objects.filter(action="contract.signed").values_list("actor", flat=True)) == {
        vendor_admin.pk,
        officer.pk,
    }
    assert AuditEvent.objects.filter(action="api.token_issued").count() == 8
