"""The evaluation report (a bilingual PDF rendered in the background) and the evaluation matrix exports.

The evaluation is set up as the services leave it when the chair recommends: a committee of three (one
recused from a bidder), compliance decisions, every member's scores, a consensus where two members
differed too much, a reviewed abnormally low price, and the recommendation with its record of the results.
The results are hand-computed (quality- and cost-based, 70/30; criteria weigh 60 and 40):

* Nile Networks: approach (83.50 + 90 + 85) / 3 = 86.1667, team (70 + 75 + 80) / 3 = 75,
  technical 0.6 × 86.1667 + 0.4 × 75 = 81.70; price 200,000, financial 150,000 / 200,000 × 100 = 75,
  combined 0.7 × 81.70 + 0.3 × 75 = 79.69 — rank 1.
* Delta Systems: approach 72 (consensus; members 61.25, 95, 70 spread 33.75 > 20), team (50 + 55 + 60) / 3 = 55,
  technical 0.6 × 72 + 0.4 × 55 = 65.20; price 150,000 (abnormally low, justified), financial 100,
  combined 0.7 × 65.20 + 0.3 × 100 = 75.64 — rank 2.
* Cairo Telecom: not responsive (missing tax certificate), not scored.
"""

from __future__ import annotations

import csv
import datetime
import hashlib
import io
import unicodedata
from decimal import Decimal

import pytest
from django.urls import reverse

from accounts.roles import Role
from audit.models import AuditEvent
from procurement import evaluation_services, scoring
from procurement.models import (
    Bid,
    BidEnvelope,
    BidVersion,
    ComplianceDecision,
    ConflictDeclaration,
    ConsensusScore,
    EvaluationMember,
    PriceReview,
    Recommendation,
    TechnicalScore,
)
from procurement.models.bids import BidStatus, EnvelopeKind, EnvelopeState
from procurement.models.tenders import TenderStatus
from procurement.tasks import render_evaluation_report
from tests.accounts.factories import UserFactory
from tests.procurement.bid_factories import read_stored, sha256_hex
from tests.procurement.factories import PhaseFactory
from tests.procurement.tender_factories import TenderFactory, set_status, with_criteria
from tests.vendors.factories import VendorFactory, member

pytestmark = pytest.mark.django_db

RECOMMENDED_AT = datetime.datetime(2025, 3, 4, 9, 30, tzinfo=datetime.UTC)


def _text_of(pdf: bytes) -> str:
    """The PDF's text, with Arabic presentation forms folded back into letters (as a reader would search)."""
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(pdf))
    text = "\n".join(page.extract_text() or "" for page in reader.pages)
    return unicodedata.normalize("NFKC", text)


def _contains(text: str, phrase: str) -> bool:
    return phrase in " ".join(text.split())


class Evaluation:
    """A tender at ``award_pending`` with its committee, scores and recommendation."""

    def __init__(self, *, programme, officer, submitted: bool = True):
        self.officer = officer
        self.tender = with_criteria(
            TenderFactory(phase=PhaseFactory(programme=programme), created_by=officer, pass_mark=Decimal("60"))
        )
        self.tender = set_status(self.tender, TenderStatus.EVALUATION)
        self.approach, self.team = list(self.tender.criteria.order_by("order"))
        self.nile = self._bid("Nile Networks LLC", "شبكات النيل", BidStatus.QUALIFIED)
        self.delta = self._bid("Delta Systems", "أنظمة الدلتا", BidStatus.QUALIFIED)
        self.cairo = self._bid("Cairo Telecom", "اتصالات القاهرة", BidStatus.DISQUALIFIED)
        Bid.objects.filter(pk=self.cairo.pk).update(disqualification_reason="Not responsive: missing tax certificate")
        self.chair = self._member("Sara Al-Mutairi", chair=True)
        self.second = self._member("Omar Haddad")
        self.expert = self._member("Layla Farouk", external=True)
        self.seats = [self.chair, self.second, self.expert]
        for seat in self.seats:
            for bid in (self.nile, self.delta, self.cairo):
                conflict = seat is self.expert and bid is self.cairo
                ConflictDeclaration.objects.create(
                    member=seat, bid=bid, has_conflict=conflict, statement="Former employer" if conflict else ""
                )
        ComplianceDecision.objects.create(bid=self.nile, responsive=True, decided_by=self.chair.user)
        ComplianceDecision.objects.create(bid=self.delta, responsive=True, decided_by=self.chair.user)
        ComplianceDecision.objects.create(
            bid=self.cairo, responsive=False, reason="Missing tax certificate", decided_by=self.chair.user
        )
        sheets = {
            self.nile: {self.approach: ["83.50", "90", "85"], self.team: ["70", "75", "80"]},
            self.delta: {self.approach: ["61.25", "95", "70"], self.team: ["50", "55", "60"]},
        }
        for bid, criteria in sheets.items():
            for criterion, values in criteria.items():
                for seat, value in zip(self.seats, values, strict=True):
                    TechnicalScore.objects.create(
                        member=seat,
                        bid=bid,
                        criterion=criterion,
                        score=Decimal(value),
                        justification=f"{seat.user.full_name} on {bid.vendor.legal_name_en}: {value}",
                    )
        ConsensusScore.objects.create(
            bid=self.delta,
            criterion=self.approach,
            score=Decimal("72"),
            reason="Agreed after discussing the method statement",
            recorded_by=self.chair.user,
        )
        PriceReview.objects.create(
            bid=self.delta, decision="justified", reason="Local manufacturing", decided_by=self.chair.user
        )
        if submitted:
            EvaluationMember.objects.filter(tender=self.tender).update(scores_submitted_at=RECOMMENDED_AT)

    def _bid(self, name_en: str, name_ar: str, status: str) -> Bid:
        vendor = VendorFactory(legal_name_en=name_en, legal_name_ar=name_ar)
        bid = Bid.objects.create(tender=self.tender, vendor=vendor, created_by=member(vendor))
        Bid.objects.filter(pk=bid.pk).update(status=status, version=1, submitted_at=RECOMMENDED_AT)
        bid.refresh_from_db()
        return bid

    def _member(self, name: str, *, chair: bool = False, external: bool = False) -> EvaluationMember:
        user = UserFactory(full_name=name, roles=[Role.COMMITTEE_MEMBER])
        return EvaluationMember.objects.create(
            tender=self.tender, user=user, is_chair=chair, is_external=external, appointed_by=self.officer
        )

    def snapshot(self) -> dict:
        def result(bid, **values):
            return {
                "bid_id": bid.pk,
                "bidder": bid.vendor.legal_name_en,
                "bidder_ar": bid.vendor.legal_name_ar,
                "technical": None,
                "financial": None,
                "combined": None,
                "price": None,
                "qualified": True,
                "abnormally_low": False,
                "rank": None,
                "reasons": [],
                "disqualification": "",
                **values,
            }

        return {
            "method": self.tender.evaluation_method,
            "tie_break": scoring.TIE_BREAK,
            "members": [
                {"member": s.user.email, "name": str(s.user), "chair": s.is_chair, "external": s.is_external}
                for s in self.seats
            ],
            "declarations": [
                {
                    "member": d.member.user.email,
                    "bid_id": d.bid_id,
                    "conflict": d.has_conflict,
                    "statement": d.statement,
                }
                for d in ConflictDeclaration.objects.filter(member__tender=self.tender).select_related("member__user")
            ],
            "results": [
                result(self.nile, technical="81.70", financial="75.00", combined="79.69", price="200000.00", rank=1),
                result(
                    self.delta,
                    technical="65.20",
                    financial="100.00",
                    combined="75.64",
                    price="150000.00",
                    rank=2,
                    abnormally_low=True,
                    reasons=[scoring.ABNORMALLY_LOW],
                ),
                result(
                    self.cairo,
                    qualified=False,
                    reasons=[scoring.NOT_RESPONSIVE],
                    disqualification="Not responsive: missing tax certificate",
                ),
            ],
        }

    def recommend(self) -> Recommendation:
        recommendation = Recommendation.objects.create(
            tender=self.tender,
            bid=self.nile,
            evaluation=self.snapshot(),
            reasons="Highest combined score (79.69) of the qualified bids.",
            recommended_by=self.chair.user,
            recommended_at=RECOMMENDED_AT,
        )
        self.tender = set_status(self.tender, TenderStatus.AWARD_PENDING)
        return recommendation


@pytest.fixture
def evaluation(programme, officer):
    return Evaluation(programme=programme, officer=officer)


@pytest.fixture
def rendered(evaluation) -> tuple[Recommendation, bytes]:
    recommendation = evaluation.recommend()
    render_evaluation_report.enqueue(recommendation.pk)
    recommendation.refresh_from_db()
    assert recommendation.report_error == ""
    return recommendation, read_stored(recommendation.report)


# The report ---------------------------------------------------------------------------------------


def test_the_report_is_stored_with_its_sha256_in_the_record_and_the_audit_log(rendered, evaluation):
    recommendation, pdf = rendered

    assert pdf.startswith(b"%PDF-")
    assert recommendation.report_sha256 == sha256_hex(pdf)
    [event] = AuditEvent.objects.filter(action="evaluation.report_rendered")
    assert event.payload["sha256"] == recommendation.report_sha256
    assert event.payload["recommendation_id"] == recommendation.pk
    assert event.object_id == str(evaluation.tender.pk)


def test_the_report_contains_the_score_matrix_the_results_and_the_ranking(rendered, evaluation):
    text = _text_of(rendered[1])

    assert evaluation.tender.reference in text
    assert "Score matrix" in text
    for name in ("Sara Al-Mutairi", "Omar Haddad", "Layla Farouk"):
        assert name in text
    # Every member's own scores, the flagged spread and the chair's consensus.
    for value in ("83.50", "90.00", "85.00", "61.25", "95.00", "33.75", "72.00"):
        assert value in text
    assert "Agreed after discussing the method statement" in text
    # The bidders, the results and the ranking with the recommendation.
    for name in ("Nile Networks LLC", "Delta Systems", "Cairo Telecom"):
        assert name in text
    for value in ("81.70", "65.20", "79.69", "75.64", "200000.00", "150000.00"):
        assert value in text
    assert "Missing tax certificate" in text
    assert "Former employer" in text
    assert "Local manufacturing" in text
    assert "Highest combined score (79.69) of the qualified bids." in text
    ranking = text[text.index("Ranking") :]
    assert ranking.index("Nile Networks LLC") < ranking.index("Delta Systems")


def test_the_report_is_in_arabic_too(rendered):
    text = _text_of(rendered[1])

    assert _contains(text, "تقرير التقييم")
    assert _contains(text, "مصفوفة الدرجات")
    assert _contains(text, "شبكات النيل")
    assert _contains(text, "أنظمة الدلتا")
    assert _contains(text, "المنهجية الفنية")  # a criterion
    assert _contains(text, "على أساس الجودة والتكلفة")  # the method, from the Arabic catalogue


def test_the_pages_are_numbered(rendered):
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(rendered[1]))
    pages = len(reader.pages)
    assert pages >= 2
    assert f"1 / {pages}" in reader.pages[0].extract_text()
    assert f"{pages} / {pages}" in reader.pages[-1].extract_text()


def test_rendering_again_gives_the_same_file_dated_by_the_recommendation(rendered):
    from pypdf import PdfReader

    recommendation, pdf = rendered
    Recommendation.objects.filter(pk=recommendation.pk).update(report="", report_sha256="")

    render_evaluation_report.enqueue(recommendation.pk)

    recommendation.refresh_from_db()
    assert recommendation.report_sha256 == hashlib.sha256(pdf).hexdigest()
    metadata = PdfReader(io.BytesIO(pdf)).metadata
    assert metadata.creation_date.astimezone(datetime.UTC) == RECOMMENDED_AT


def test_a_rendered_report_is_not_rendered_again(rendered):
    recommendation, _pdf = rendered

    assert render_evaluation_report.enqueue(recommendation.pk).return_value == recommendation.report_sha256
    assert AuditEvent.objects.filter(action="evaluation.report_rendered").count() == 1


def test_a_failure_is_recorded_and_never_raised(evaluation, monkeypatch):
    recommendation = evaluation.recommend()

    def broken(_recommendation):
        raise OSError("no fonts")

    monkeypatch.setattr("procurement.tasks._evaluation_report_pdf", broken)
    result = render_evaluation_report.enqueue(recommendation.pk)

    recommendation.refresh_from_db()
    assert result.return_value == ""
    assert recommendation.report_error == "OSError: no fonts"
    assert not recommendation.report
    assert not AuditEvent.objects.filter(action="evaluation.report_rendered").exists()


def _opened_price(bid: Bid, price: str) -> None:
    """The bid's financial envelope as the financial opening leaves it: opened, with its total price."""
    version = BidVersion.objects.create(
        bid=bid, number=bid.version, submitted_at=RECOMMENDED_AT, submitted_by=bid.created_by
    )
    BidEnvelope.objects.create(
        version=version,
        bid=bid,
        kind=EnvelopeKind.FINANCIAL,
        sealed="sealed/financial.bin",
        sha256="0" * 64,
        size=1,
        state=EnvelopeState.OPENED,
        opened_at=RECOMMENDED_AT,
        content={"total_price": price, "currency": "SAR"},
    )


def test_the_chairs_recommendation_renders_the_report_after_the_commit(evaluation, django_capture_on_commit_callbacks):
    _opened_price(evaluation.nile, "200000.00")
    _opened_price(evaluation.delta, "150000.00")

    with django_capture_on_commit_callbacks(execute=True):
        recommendation = evaluation_services.recommend(
            actor=evaluation.chair.user, tender=evaluation.tender, reasons="Highest combined score."
        )

    recommendation.refresh_from_db()
    assert recommendation.report_error == ""
    assert recommendation.report_sha256 == sha256_hex(read_stored(recommendation.report))
    results = {r["bidder"]: r for r in recommendation.evaluation["results"]}
    assert (results["Nile Networks LLC"]["combined"], results["Nile Networks LLC"]["rank"]) == ("79.69", 1)
    assert (results["Delta Systems"]["combined"], results["Delta Systems"]["rank"]) == ("75.64", 2)
    text = _text_of(read_stored(recommendation.report))
    for value in ("83.50", "61.25", "79.69", "75.64", "Highest combined score."):
        assert value in text


# The report download --------------------------------------------------------------------------------


def test_the_tenders_officer_downloads_the_report(client, rendered, evaluation):
    recommendation, pdf = rendered
    client.force_login(evaluation.officer)

    response = client.get(reverse("procurement:evaluation_report_pdf", args=[evaluation.tender.pk]))

    assert response.status_code == 200
    assert b"".join(response.streaming_content) == pdf
    assert "attachment" in response["Content-Disposition"]


def test_the_download_waits_while_the_report_is_being_prepared(client, evaluation):
    evaluation.recommend()
    client.force_login(evaluation.chair.user)

    response = client.get(reverse("procurement:evaluation_report_pdf", args=[evaluation.tender.pk]))

    assert response.status_code == 200
    assert b'http-equiv="refresh"' in response.content
    assert b"being prepared" in response.content


def test_a_failed_report_can_be_rendered_again(client, evaluation):
    recommendation = evaluation.recommend()
    Recommendation.objects.filter(pk=recommendation.pk).update(report_error="OSError: no fonts")
    client.force_login(evaluation.officer)
    url = reverse("procurement:evaluation_report_pdf", args=[evaluation.tender.pk])

    page = client.get(url)
    assert b'http-equiv="refresh"' not in page.content
    response = client.post(url)

    assert response.status_code == 302
    recommendation.refresh_from_db()
    assert recommendation.report and recommendation.report_error == ""


def test_bidders_and_other_agencies_cannot_download_the_report(client, rendered, evaluation, other_officer):
    url = reverse("procurement:evaluation_report_pdf", args=[evaluation.tender.pk])
    for person in (other_officer, evaluation.nile.created_by):
        client.force_login(person)
        assert client.get(url).status_code == 403


# The evaluation matrix exports ------------------------------------------------------------------------


def _csv_rows(response) -> list[list[str]]:
    content = response.content.decode("utf-8-sig")
    return list(csv.reader(io.StringIO(content)))


def test_the_matrix_csv_has_every_members_score_and_the_results(client, evaluation):
    evaluation.recommend()
    client.force_login(evaluation.officer)

    response = client.get(reverse("procurement:evaluation_matrix_csv", args=[evaluation.tender.pk]))

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    header, *rows = _csv_rows(response)
    assert header == [
        "Bid",
        "Bidder",
        "Member",
        "Criterion",
        "Score",
        "Justification",
        "Consensus",
        "Agreed score",
        "Technical score",
        "Price",
        "Financial score",
        "Combined score",
        "Rank",
    ]
    assert len(rows) == 2 * 2 * 3 + 1  # two scored bids × two criteria × three members, and Cairo Telecom
    by_key = {(r[1], r[2], r[3]): r for r in rows}
    nile = by_key[("Nile Networks LLC", "Sara Al-Mutairi", "Technical approach")]
    assert nile[4:] == [
        "83.50",
        "Sara Al-Mutairi on Nile Networks LLC: 83.50",
        "",
        "86.17",
        "81.70",
        "200000.00",
        "75.00",
        "79.69",
        "1",
    ]
    delta = by_key[("Delta Systems", "Layla Farouk", "Technical approach")]
    assert delta[4] == "70.00" and delta[6] == "72.00" and delta[7] == "72.00" and delta[12] == "2"
    cairo = [r for r in rows if r[1] == "Cairo Telecom"]
    assert cairo == [[str(evaluation.cairo.pk), "Cairo Telecom", "", "", "", "", "", "", "", "", "", "", ""]]


def test_the_matrix_is_exported_before_the_recommendation_with_the_current_results(client, evaluation, auditor):
    client.force_login(auditor)

    response = client.get(reverse("procurement:evaluation_matrix_csv", args=[evaluation.tender.pk]))

    assert response.status_code == 200
    header, *rows = _csv_rows(response)
    assert len(rows) == 13
    assert {r[4] for r in rows if r[1] == "Nile Networks LLC"} >= {"83.50", "90.00"}


def test_a_formula_in_a_justification_is_not_run_by_a_spreadsheet(client, evaluation):
    TechnicalScore.objects.filter(member=evaluation.chair, bid=evaluation.nile, criterion=evaluation.team).update(
        justification='=HYPERLINK("http://evil.example","x")'
    )
    client.force_login(evaluation.officer)

    csv_rows = _csv_rows(client.get(reverse("procurement:evaluation_matrix_csv", args=[evaluation.tender.pk])))
    xlsx = client.get(reverse("procurement:evaluation_matrix_xlsx", args=[evaluation.tender.pk]))

    assert '\'=HYPERLINK("http://evil.example","x")' in [r[5] for r in csv_rows]
    sheet = _sheet(xlsx)
    cells = [row[5] for row in sheet.iter_rows(min_row=2)]
    dangerous = [c for c in cells if "HYPERLINK" in str(c.value)]
    assert dangerous and all(c.data_type == "s" and not str(c.value).startswith("=") for c in dangerous)


def _sheet(response):
    from openpyxl import load_workbook

    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return load_workbook(io.BytesIO(response.content)).active


def test_the_matrix_xlsx_has_numbers_as_numbers(client, evaluation, auditor):
    evaluation.recommend()
    client.force_login(auditor)

    sheet = _sheet(client.get(reverse("procurement:evaluation_matrix_xlsx", args=[evaluation.tender.pk])))

    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:5] == ("Bid", "Bidder", "Member", "Criterion", "Score")
    assert len(rows) == 14
    nile = next(r for r in rows if r[1] == "Nile Networks LLC" and r[2] == "Omar Haddad" and r[3] == "Team experience")
    assert nile[4] == 75
    assert nile[8:] == (81.7, 200000, 75, 79.69, 1)


@pytest.mark.parametrize("name", ["evaluation_matrix_csv", "evaluation_matrix_xlsx"])
def test_nothing_is_exported_before_every_member_has_submitted(client, programme, officer, name):
    evaluation = Evaluation(programme=programme, officer=officer, submitted=False)
    EvaluationMember.objects.filter(pk__in=[evaluation.chair.pk, evaluation.second.pk]).update(
        scores_submitted_at=RECOMMENDED_AT
    )
    client.force_login(officer)

    response = client.get(reverse(f"procurement:{name}", args=[evaluation.tender.pk]))

    assert response.status_code == 403
    assert b"83.50" not in response.content
    assert b"Nile Networks" not in response.content


@pytest.mark.parametrize("name", ["evaluation_matrix_csv", "evaluation_matrix_xlsx"])
def test_only_the_agencys_officers_and_auditors_export(client, evaluation, other_officer, approver, name):
    url = reverse(f"procurement:{name}", args=[evaluation.tender.pk])
    bidder = evaluation.nile.created_by
    for person in (other_officer, bidder, evaluation.second.user, approver):
        client.force_login(person)
        response = client.get(url)
        assert response.status_code == 403, person
        assert b"Nile Networks" not in response.content


def test_exports_ask_to_sign_in(client, evaluation):
    response = client.get(reverse("procurement:evaluation_matrix_csv", args=[evaluation.tender.pk]))
    assert response.status_code == 302
