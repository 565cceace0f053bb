"""The monitoring page of a contract in force, through the pages: the contractor reports on a milestone with
its evidence and the officer rejects, accepts late (the delay penalty and its calculation appear), pays net of
the penalty and enters KPI measurements; bad input is explained and kept; strangers, the wrong party, ids of
another contract and the wrong method are turned away; the page speaks Arabic, draws its charts as labelled
SVG pictures, and runs the same number of queries for 2 milestones as for 12."""

from __future__ import annotations

import datetime
import hashlib
import re
from decimal import Decimal
from html import escape
from html.parser import HTMLParser
from types import SimpleNamespace

import pytest
from django.conf import settings as django_settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone, translation

from contracts import monitoring, services
from contracts.models import (
    Contract,
    ContractStatus,
    KpiMeasurement,
    MeasurementStatus,
    MilestoneStatus,
    Payment,
    Penalty,
    PenaltyKind,
    ProgressEvidence,
    ProgressReport,
    ReportDecision,
)
from tests.contracts.test_contracts import drafted, final_award
from tests.contracts.test_monitoring import DUE, NARRATIVE, at
from tests.html_checks import check_page, form_values
from tests.procurement.bid_factories import clock
from tests.vendors.factories import member, verified_vendor

pytestmark = pytest.mark.django_db

PDF_BYTES = b"%PDF-1.4\n% acceptance tests of the core network\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG_BYTES = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00" + bytes(32)
EXE_BYTES = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"This program cannot be run in DOS mode."
REJECTION = "The acceptance tests are unsigned and the third region is missing."
DAY = datetime.timedelta(days=1)


# Fixtures and helpers -----------------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


def in_force(award=None, *, milestones: int = 1) -> SimpleNamespace:
    """A contract in force (as ``live`` in test_monitoring.py): value 1,250,000.00, penalty 0.05 % a day
    (625.00) capped at 10 %, a first milestone of 250,000.00 due 2029-06-30 (then, if asked, more of 50,000.00
    due every 30 days) and one KPI (availability, target 99.5 %, higher is better)."""
    award = award or final_award()
    contract = drafted(award)
    for index in range(1, milestones):
        services.contract_milestone_add(
            actor=award.officer,
            contract=contract,
            title_en=f"Phase {index + 1}",
            title_ar=f"المرحلة {index + 1}",
            due_date=DUE + 30 * index * DAY,
            payment_amount="50000.00",
        )
    Contract.objects.filter(pk=contract.pk).update(status=ContractStatus.ACTIVE, activated_at=timezone.now())
    contract.refresh_from_db()
    award.contract = contract
    award.milestones = list(contract.milestones.order_by("order", "id"))
    award.milestone = award.milestones[0]
    award.kpi = contract.kpis.get()
    award.employee = member(award.vendor)
    return award


@pytest.fixture
def live():
    return in_force()


def url(name: str, *args) -> str:
    """The English address (whatever language an earlier Arabic request left active)."""
    with translation.override("en"):
        return reverse(f"contracts:{name}", args=args)


def arabic(address: str) -> str:
    return address.replace("/en/", "/ar/", 1)


def login_url() -> str:
    with translation.override("en"):
        return reverse(django_settings.LOGIN_URL)


def html_of(response) -> str:
    return response.content.decode()


def pdf(name="acceptance-tests.pdf"):
    return SimpleUploadedFile(name, PDF_BYTES, content_type="application/pdf")


def png(name="site-photo.png"):
    return SimpleUploadedFile(name, PNG_BYTES, content_type="image/png")


def downloaded(response) -> bytes:
    # Read, not closed: closing a response sends request_finished, which closes the test's database
    # connection (fatal on PostgreSQL); the file is closed when the response is collected.
    return b"".join(response.streaming_content)


def report_post(milestone, *, narrative=NARRATIVE, percent="100", evidence=()) -> dict:
    prefix = f"report-{milestone.pk}"
    data = {f"{prefix}-narrative": narrative, f"{prefix}-percent_complete": percent}
    if evidence:
        data[f"{prefix}-evidence"] = list(evidence)
    return data


def decide_post(report, decision, reason="") -> dict:
    return {f"decide-{report.pk}-decision": decision, f"decide-{report.pk}-reason": reason}


def pay_post(milestone, paid_on, reference) -> dict:
    return {f"pay-{milestone.pk}-paid_on": str(paid_on), f"pay-{milestone.pk}-reference": reference}


def measure_post(kpi, start, end, value) -> dict:
    return {
        f"measure-{kpi.pk}-period_start": str(start),
        f"measure-{kpi.pk}-period_end": str(end),
        f"measure-{kpi.pk}-value": str(value),
    }


def confirm_post(measurement, decision="confirm", reason="") -> dict:
    return {f"confirm-{measurement.pk}-decision": decision, f"confirm-{measurement.pk}-reason": reason}


def service_report(a, *, when, milestone=None, evidence=()):
    with clock(at(when)):
        return monitoring.progress_report_submit(
            actor=a.signatory,
            milestone=milestone or a.milestone,
            narrative=NARRATIVE,
            percent_complete=100,
            evidence=evidence,
        )


def service_accept(a, report, *, when, accept=True, reason=""):
    with clock(at(when, 14)):
        return monitoring.progress_report_decide(actor=a.officer, report=report, accept=accept, reason=reason)


def service_measure(a, actor, *, start, end, value, when):
    with clock(at(when)):
        return monitoring.kpi_measurement_enter(actor=actor, kpi=a.kpi, period_start=start, period_end=end, value=value)


def assert_accessible(response, language: str = "en") -> None:
    assert response.status_code in (200, 400), (response.status_code, response.request["PATH_INFO"])
    report = check_page(response.content)
    assert (report.lang, report.dir) == ((language, "rtl") if language == "ar" else (language, "ltr"))
    assert report.main_count == 1
    assert report.unlabelled_controls == [] and report.duplicate_ids == [] and report.dangling_references == []


class _SvgParser(HTMLParser):
    """Each ``<svg>`` of a page: its attributes and the text of its own ``<title>``."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.pictures: list[dict] = []
        self._current: dict | None = None
        self._in_title = False

    def handle_starttag(self, tag, attrs):
        if tag == "svg":
            self._current = {"attrs": dict(attrs), "title": "", "title_id": None}
        elif tag == "title" and self._current is not None:
            self._in_title = True
            self._current["title_id"] = dict(attrs).get("id")

    def handle_endtag(self, tag):
        if tag == "title":
            self._in_title = False
        elif tag == "svg" and self._current is not None:
            self.pictures.append(self._current)
            self._current = None

    def handle_data(self, data):
        if self._in_title and self._current is not None:
            self._current["title"] += data


def pictures(html: str) -> list[dict]:
    """The SVG pictures of a page that are not decoration (the site's logo is ``aria-hidden``)."""
    parser = _SvgParser()
    parser.feed(html)
    parser.close()
    return [p for p in parser.pictures if p["attrs"].get("aria-hidden") != "true"]


# 1. The whole path through the pages -----------------------------------------------------------------------------


def test_report_reject_report_again_accept_late_pay_and_measure_through_the_pages(client, live, auditor, other_officer):
    a = live
    contract, milestone, kpi = a.contract, a.milestone, a.kpi
    page_url = url("monitoring", contract.pk)

    # The contractor reports on the milestone with two evidence documents.
    client.force_login(a.signatory)
    with clock(at(DUE - 10 * DAY)):
        page = client.get(page_url)
        assert page.status_code == 200
        assert url("report_submit", contract.pk, milestone.pk) in html_of(page)
        response = client.post(
            url("report_submit", contract.pk, milestone.pk),
            report_post(milestone, percent="90", evidence=[pdf(), png()]),
        )
    assert response.status_code == 302, html_of(response)
    assert response["Location"] == f"{page_url}#milestone-{milestone.pk}"
    first = ProgressReport.objects.get(milestone=milestone)
    assert (first.number, first.percent_complete, first.submitted_by) == (1, 90, a.signatory)
    documents = list(first.evidence.order_by("id"))
    assert [(d.original_name, d.content_type, d.size) for d in documents] == [
        ("acceptance-tests.pdf", "application/pdf", len(PDF_BYTES)),
        ("site-photo.png", "image/png", len(PNG_BYTES)),
    ]
    assert [d.sha256 for d in documents] == [
        hashlib.sha256(PDF_BYTES).hexdigest(),
        hashlib.sha256(PNG_BYTES).hexdigest(),
    ]
    with clock(at(DUE - 10 * DAY)):
        html = html_of(client.get(page_url))
    assert "Your report was sent to the agency." in html
    assert "Report 1: 90% complete" in html
    for document in documents:
        assert url("evidence_download", contract.pk, document.pk) in html and document.sha256 in html
    assert url("report_decide", contract.pk, first.pk) not in html  # the contractor does not decide

    # The officer rejects it with reasons.
    client.force_login(a.officer)
    with clock(at(DUE - 8 * DAY)):
        html = html_of(client.get(page_url))
        assert url("report_decide", contract.pk, first.pk) in html
        assert url("report_submit", contract.pk, milestone.pk) not in html  # the officer does not report
        response = client.post(url("report_decide", contract.pk, first.pk), decide_post(first, "reject", REJECTION))
    assert response.status_code == 302 and response["Location"] == f"{page_url}#milestone-{milestone.pk}"
    milestone.refresh_from_db()
    first.refresh_from_db()
    assert milestone.status == MilestoneStatus.REJECTED
    assert (first.decision, first.decision_reason, first.decided_by) == (ReportDecision.REJECTED, REJECTION, a.officer)

    # The contractor reads the reasons and reports again, after the due date.
    client.force_login(a.signatory)
    with clock(at(DUE + 3 * DAY)):
        html = html_of(client.get(page_url))
        assert escape(REJECTION) in html and url("report_submit", contract.pk, milestone.pk) in html
        response = client.post(
            url("report_submit", contract.pk, milestone.pk),
            report_post(milestone, narrative=NARRATIVE + " Signed tests attached.", evidence=[pdf("signed.pdf")]),
        )
    assert response.status_code == 302, html_of(response)
    second = ProgressReport.objects.get(milestone=milestone, number=2)

    # The officer accepts it five days late: 5 × 625.00 = 3,125.00 of damages, with the calculation shown.
    client.force_login(a.officer)
    with clock(at(DUE + 5 * DAY)):
        response = client.post(url("report_decide", contract.pk, second.pk), decide_post(second, "accept"), follow=True)
    assert response.redirect_chain == [(f"{page_url}#milestone-{milestone.pk}", 302)]
    html = html_of(response)
    milestone.refresh_from_db()
    assert milestone.status == MilestoneStatus.ACCEPTED and milestone.accepted_on == DUE + 5 * DAY
    penalty = Penalty.objects.get(contract=contract, kind=PenaltyKind.DELAY)
    assert (penalty.days, penalty.amount, penalty.final) == (5, Decimal("3125.00"), True)
    assert "The milestone was accepted." in html
    assert "5 day(s) × 0.050% × 1250000.00 = 5 × 625.00 = 3125.00" in html
    assert escape(penalty.calculation) in html and "3125.00" in html
    assert url("payment_record", contract.pk, milestone.pk) in html

    # The officer records the payment: 250,000.00 less the 3,125.00 of damages.
    with clock(at(DUE + 8 * DAY)):
        response = client.post(
            url("payment_record", contract.pk, milestone.pk),
            pay_post(milestone, DUE + 7 * DAY, "TRX-2029-0042"),
            follow=True,
        )
    assert response.redirect_chain == [(f"{page_url}#payments", 302)]
    html = html_of(response)
    payment = Payment.objects.get(contract=contract)
    assert (payment.gross, payment.penalties_deducted, payment.amount) == (
        Decimal("250000.00"),
        Decimal("3125.00"),
        Decimal("246875.00"),
    )
    assert payment.paid_on == DUE + 7 * DAY and payment.recorded_by == a.officer
    assert "The payment was recorded." in html
    assert "250000.00 − penalties 3125.00 = 246875.00" in html and "TRX-2029-0042" in html
    assert f"<bdi>246875.00 {contract.currency}</bdi>" in html  # the payments table, net of the penalty
    assert f"<bdi>1003125.00 {contract.currency}</bdi>" in html  # what remains of the value
    milestone.refresh_from_db()
    assert milestone.status == MilestoneStatus.PAID

    # The officer enters a measurement that misses the target: a performance failure of one day's rate.
    with clock(at(datetime.date(2029, 7, 10))):
        response = client.post(
            url("measurement_enter", contract.pk, kpi.pk),
            measure_post(kpi, datetime.date(2029, 6, 1), datetime.date(2029, 6, 30), "98.1"),
            follow=True,
        )
    assert response.redirect_chain == [(f"{page_url}#kpi-{kpi.pk}", 302)]
    html = html_of(response)
    missed = KpiMeasurement.objects.get(kpi=kpi, period_start=datetime.date(2029, 6, 1))
    assert (missed.status, missed.met, missed.value) == (MeasurementStatus.CONFIRMED, False, Decimal("98.1"))
    kpi_penalty = Penalty.objects.get(kind=PenaltyKind.KPI, measurement=missed)
    assert kpi_penalty.amount == Decimal("625.00")
    assert "The measurement was recorded." in html
    assert escape(kpi_penalty.calculation) in html and "Performance failure" in html
    outstanding = monitoring.outstanding_penalties(contract)
    assert outstanding == Decimal("625.00") and f"{outstanding} still to deduct from the next payment" in html

    # The contractor submits one (met), and the officer confirms it.
    client.force_login(a.signatory)
    with clock(at(datetime.date(2029, 7, 11))):
        response = client.post(
            url("measurement_enter", contract.pk, kpi.pk),
            measure_post(kpi, datetime.date(2029, 5, 1), datetime.date(2029, 5, 31), "99.8"),
        )
    assert response.status_code == 302 and response["Location"] == f"{page_url}#kpi-{kpi.pk}"
    submitted = KpiMeasurement.objects.get(kpi=kpi, period_start=datetime.date(2029, 5, 1))
    assert (submitted.status, submitted.met, submitted.entered_by) == (MeasurementStatus.SUBMITTED, None, a.signatory)
    client.force_login(a.officer)
    with clock(at(datetime.date(2029, 7, 12))):
        html = html_of(client.get(page_url))
        assert url("measurement_decide", contract.pk, submitted.pk) in html
        response = client.post(
            url("measurement_decide", contract.pk, submitted.pk), confirm_post(submitted), follow=True
        )
    assert response.redirect_chain == [(f"{page_url}#kpi-{kpi.pk}", 302)]
    assert "The measurement was confirmed." in html_of(response)
    assert url("measurement_decide", contract.pk, submitted.pk) not in html_of(response)
    submitted.refresh_from_db()
    assert (submitted.status, submitted.met, submitted.confirmed_by) == (MeasurementStatus.CONFIRMED, True, a.officer)
    assert Penalty.objects.filter(kind=PenaltyKind.KPI).count() == 1  # the met one is no failure

    # The evidence: its bytes for the officer, the contractor's people and the auditor; 403 for strangers.
    expected = {documents[0].pk: PDF_BYTES, documents[1].pk: PNG_BYTES}
    for reader in (a.officer, a.signatory, a.employee, auditor):
        client.force_login(reader)
        for pk, content in expected.items():
            response = client.get(url("evidence_download", contract.pk, pk))
            assert response.status_code == 200, reader
            assert downloaded(response) == content
            assert "attachment" in response["Content-Disposition"]
            assert response["Cache-Control"].count("no-store") == 1
        response = client.get(url("evidence_download", contract.pk, documents[1].pk))
        assert (
            response["Content-Type"] == "image/png" and 'filename="site-photo.png"' in response["Content-Disposition"]
        )
        b"".join(response.streaming_content)
        assert client.get(url("evidence_download", contract.pk, 999999)).status_code == 404
    for stranger in (verified_vendor()[1], other_officer):
        client.force_login(stranger)
        for pk in expected:
            assert client.get(url("evidence_download", contract.pk, pk)).status_code == 403, stranger


# 2. Bad input is explained and kept ----------------------------------------------------------------------------


def assert_refused(page, *, message: str, kept: dict[str, str], open_summary: str | None = None) -> None:
    """400, the error in the summary and on its field, and what was typed back in the form."""
    assert page.status_code == 400, page.status_code
    html = html_of(page)
    report = check_page(page.content)
    assert report.has_error_summary and report.error_summary_links, message
    assert html.count(escape(message)) >= 2, message  # in the summary, and by its field
    values = form_values(page.content)
    for name, value in kept.items():
        assert values.get(name) == [value], (name, values.get(name))
    if open_summary:
        assert f"<details open><summary>{open_summary}</summary>" in html
    assert report.unlabelled_controls == [] and report.duplicate_ids == [] and report.dangling_references == []


def test_a_bad_report_is_explained_and_what_was_typed_is_kept(client, live, settings):
    a = live
    milestone = a.milestone
    address = url("report_submit", a.contract.pk, milestone.pk)
    prefix = f"report-{milestone.pk}"
    client.force_login(a.signatory)
    cases = [
        (
            report_post(milestone, narrative="", percent="40"),
            "This field is required.",
            {f"{prefix}-percent_complete": "40"},
        ),
        (
            report_post(milestone, percent="150"),
            "Ensure this value is less than or equal to 100.",
            {f"{prefix}-narrative": NARRATIVE, f"{prefix}-percent_complete": "150"},
        ),
        (
            report_post(
                milestone,
                percent="70",
                evidence=[pdf(), SimpleUploadedFile("setup.exe", EXE_BYTES, "application/octet-stream")],
            ),
            "setup.exe: This kind of file is not accepted.",
            {f"{prefix}-narrative": NARRATIVE, f"{prefix}-percent_complete": "70"},
        ),
        (  # an executable renamed to .pdf: the content decides, not the name
            report_post(milestone, evidence=[SimpleUploadedFile("tests.pdf", EXE_BYTES, "application/pdf")]),
            "tests.pdf: This kind of file is not accepted.",
            {f"{prefix}-narrative": NARRATIVE, f"{prefix}-percent_complete": "100"},
        ),
    ]
    for data, message, kept in cases:
        with clock(at(DUE - 5 * DAY)):
            page = client.post(address, data)
        assert_refused(page, message=message, kept=kept, open_summary="Report on this milestone")
    too_many = [pdf(f"part-{n}.pdf") for n in range(monitoring.MAX_EVIDENCE_FILES + 1)]
    with clock(at(DUE - 5 * DAY)):
        page = client.post(address, report_post(milestone, percent="80", evidence=too_many))
    assert_refused(
        page,
        message=f"Attach at most {monitoring.MAX_EVIDENCE_FILES} documents.",
        kept={f"{prefix}-narrative": NARRATIVE, f"{prefix}-percent_complete": "80"},
    )
    settings.UPLOAD_MAX_BYTES = len(PDF_BYTES) - 1
    with clock(at(DUE - 5 * DAY)):
        page = client.post(address, report_post(milestone, percent="80", evidence=[pdf("big.pdf")]))
    assert_refused(
        page,
        message="big.pdf is too large.",
        kept={f"{prefix}-narrative": NARRATIVE, f"{prefix}-percent_complete": "80"},
    )
    with clock(at(DUE - 5 * DAY)):
        page = client.post(arabic(address), report_post(milestone, narrative="", percent="40"))
    assert page.status_code == 400 and check_page(page.content).dir == "rtl"
    assert check_page(page.content).has_error_summary
    milestone.refresh_from_db()
    assert milestone.status == MilestoneStatus.PLANNED
    assert not ProgressReport.objects.exists() and not ProgressEvidence.objects.exists()


def test_a_rejection_without_reasons_is_explained_and_kept(client, live):
    a = live
    submitted = service_report(a, when=DUE - 5 * DAY)
    address = url("report_decide", a.contract.pk, submitted.pk)
    prefix = f"decide-{submitted.pk}"
    client.force_login(a.officer)
    for reason, kept in (("", ""), ("No.", "No.")):
        with clock(at(DUE - 4 * DAY)):
            page = client.post(address, decide_post(submitted, "reject", reason))
        assert_refused(
            page,
            message="Give the reasons in at least 10 characters.",
            kept={f"{prefix}-decision": "reject", f"{prefix}-reason": kept},
        )
    with clock(at(DUE - 4 * DAY)):  # no decision at all
        page = client.post(address, {f"{prefix}-reason": REJECTION})
    assert_refused(page, message="This field is required.", kept={f"{prefix}-reason": REJECTION})
    submitted.refresh_from_db()
    a.milestone.refresh_from_db()
    assert submitted.decision == ReportDecision.PENDING and submitted.decided_by is None
    assert a.milestone.status == MilestoneStatus.SUBMITTED


def test_a_bad_payment_is_explained_and_kept(client, live):
    a = live
    milestone = a.milestone
    service_accept(a, service_report(a, when=DUE - 3 * DAY), when=DUE - DAY)
    address = url("payment_record", a.contract.pk, milestone.pk)
    prefix = f"pay-{milestone.pk}"
    client.force_login(a.officer)
    cases = [
        (DUE - 2 * DAY, "TRX-1", "A payment cannot precede the milestone's acceptance (2029-06-29)."),
        (DUE + 10 * DAY, "TRX-1", "A payment cannot be recorded in advance."),
        (DUE, "", "This field is required."),
        (DUE, "   ", "This field is required."),
    ]
    for paid_on, reference, message in cases:
        with clock(at(DUE + 2 * DAY)):
            page = client.post(address, pay_post(milestone, paid_on, reference))
        kept = {f"{prefix}-paid_on": str(paid_on)}
        if reference.strip():
            kept[f"{prefix}-reference"] = reference
        assert_refused(page, message=message, kept=kept, open_summary="Record the payment")
    assert not Payment.objects.exists()
    milestone.refresh_from_db()
    assert milestone.status == MilestoneStatus.ACCEPTED


def test_a_bad_measurement_is_explained_and_kept(client, live):
    a = live
    kpi = a.kpi
    address = url("measurement_enter", a.contract.pk, kpi.pk)
    prefix = f"measure-{kpi.pk}"
    march = (datetime.date(2029, 3, 1), datetime.date(2029, 3, 31))
    february = (datetime.date(2029, 2, 1), datetime.date(2029, 2, 28))
    cases = [
        (march, "99.9", "A period that has not ended yet cannot be measured."),
        (february, "ninety", "Enter a number."),
    ]
    for user in (a.officer, a.signatory):
        client.force_login(user)
        for (start, end), value, message in cases:
            with clock(at(datetime.date(2029, 3, 4))):
                page = client.post(address, measure_post(kpi, start, end, value))
            kept = {f"{prefix}-period_start": str(start), f"{prefix}-period_end": str(end), f"{prefix}-value": value}
            assert_refused(page, message=message, kept=kept, open_summary="Enter a measurement")
    assert not KpiMeasurement.objects.exists() and not Penalty.objects.exists()


# 3. The attacker's side -----------------------------------------------------------------------------------------


@pytest.fixture
def busy(live):
    """The contract with something for every action: a pending report with one evidence document (on the
    milestone), and a measurement the contractor submitted (awaiting the officer)."""
    a = live
    a.report = service_report(a, when=DUE - 5 * DAY, evidence=[("Acceptance tests", pdf())])
    a.evidence = a.report.evidence.get()
    a.measurement = service_measure(
        a, a.signatory, start=datetime.date(2029, 1, 1), end=datetime.date(2029, 1, 31), value="99.7", when=DUE
    )
    return a


def actions(a, *, milestone=None, report=None, kpi=None, measurement=None) -> dict[str, tuple[str, dict]]:
    """Every POST of the page, for this contract (with, optionally, another contract's objects in the URL)."""
    milestone, report = milestone or a.milestone, report or a.report
    kpi, measurement = kpi or a.kpi, measurement or a.measurement
    pk = a.contract.pk
    return {
        "report_submit": (url("report_submit", pk, milestone.pk), report_post(milestone, percent="10")),
        "report_decide": (url("report_decide", pk, report.pk), decide_post(report, "accept")),
        "payment_record": (url("payment_record", pk, milestone.pk), pay_post(milestone, DUE, "TRX-FORGED")),
        "measurement_enter": (
            url("measurement_enter", pk, kpi.pk),
            measure_post(kpi, datetime.date(2029, 2, 1), datetime.date(2029, 2, 28), "100"),
        ),
        "measurement_decide": (url("measurement_decide", pk, measurement.pk), confirm_post(measurement)),
    }


def nothing_changed(a) -> None:
    a.milestone.refresh_from_db()
    a.report.refresh_from_db()
    a.measurement.refresh_from_db()
    assert a.milestone.status == MilestoneStatus.SUBMITTED
    assert ProgressReport.objects.filter(milestone__contract=a.contract).count() == 1
    assert a.report.decision == ReportDecision.PENDING
    assert a.measurement.status == MeasurementStatus.SUBMITTED
    assert KpiMeasurement.objects.filter(contract=a.contract).count() == 1
    assert not Payment.objects.filter(contract=a.contract).exists()
    assert not Penalty.objects.filter(contract=a.contract).exists()


def test_anonymous_visitors_are_sent_to_sign_in(client, busy):
    a = busy
    for address in (url("monitoring", a.contract.pk), url("evidence_download", a.contract.pk, a.evidence.pk)):
        response = client.get(address)
        assert response.status_code == 302 and response["Location"].startswith(login_url()), address
    for name, (address, data) in actions(a).items():
        with clock(at(DUE)):
            response = client.post(address, data)
        assert response.status_code == 302 and response["Location"].startswith(login_url()), name
        assert client.get(address).status_code == 302, name
    nothing_changed(a)


def test_other_vendors_and_other_agencies_get_403_everywhere(client, busy, other_officer):
    a = busy
    for stranger in (verified_vendor()[1], member(verified_vendor()[0]), other_officer):
        client.force_login(stranger)
        with clock(at(DUE)):
            assert client.get(url("monitoring", a.contract.pk)).status_code == 403, stranger
            assert client.get(arabic(url("monitoring", a.contract.pk))).status_code == 403, stranger
            assert client.get(url("evidence_download", a.contract.pk, a.evidence.pk)).status_code == 403, stranger
            for name, (address, data) in actions(a).items():
                assert client.post(address, data).status_code == 403, (stranger, name)
    nothing_changed(a)


def test_each_party_only_does_its_own_part(client, busy):
    a = busy
    for contractor in (a.signatory, a.employee):
        client.force_login(contractor)
        with clock(at(DUE)):
            for name, (address, data) in actions(a).items():
                if name in ("report_decide", "payment_record", "measurement_decide"):
                    assert client.post(address, data).status_code == 403, (contractor, name)
    client.force_login(a.officer)
    with clock(at(DUE)):
        address, data = actions(a)["report_submit"]
        assert client.post(address, data).status_code == 403
    nothing_changed(a)
    # The contractor's side may not pay an accepted milestone either.
    service_accept(a, a.report, when=DUE)
    for contractor in (a.signatory, a.employee):
        client.force_login(contractor)
        with clock(at(DUE + DAY)):
            address, data = actions(a)["payment_record"]
            assert client.post(address, data).status_code == 403, contractor
    assert not Payment.objects.exists()


def test_an_auditor_reads_the_page_and_acts_on_nothing(client, busy, auditor):
    a = busy
    client.force_login(auditor)
    with clock(at(DUE)):
        page = client.get(url("monitoring", a.contract.pk))
    assert page.status_code == 200
    html = html_of(page)
    assert NARRATIVE in html and a.evidence.sha256 in html
    assert set(check_page(page.content).controls) <= {'<select name="language">'}
    assert '<form method="post" action="/en/contracts/' not in html
    for address, _data in actions(a).values():
        assert address not in html, address
    response = client.get(url("evidence_download", a.contract.pk, a.evidence.pk))
    assert response.status_code == 200 and downloaded(response) == PDF_BYTES
    with clock(at(DUE)):
        for name, (address, data) in actions(a).items():
            assert client.post(address, data).status_code == 403, name
    nothing_changed(a)


def test_ids_of_another_contract_are_not_found(client, busy):
    a = busy
    b = in_force()  # another contract in force, with its own report, evidence and measurement
    b_report = service_report(b, when=DUE - 4 * DAY, evidence=[("Other tests", pdf("other.pdf"))])
    b_evidence = b_report.evidence.get()
    b_measurement = service_measure(
        b, b.signatory, start=datetime.date(2029, 1, 1), end=datetime.date(2029, 1, 31), value="99.9", when=DUE
    )
    foreign = actions(a, milestone=b.milestone, report=b_report, kpi=b.kpi, measurement=b_measurement)
    for user, names in (
        (a.officer, ("report_decide", "payment_record", "measurement_enter", "measurement_decide")),
        (a.signatory, ("report_submit", "measurement_enter")),
    ):
        client.force_login(user)
        with clock(at(DUE)):
            for name in names:
                address, data = foreign[name]
                assert client.post(address, data).status_code == 404, (user, name)
            assert client.get(url("evidence_download", a.contract.pk, b_evidence.pk)).status_code == 404, user
    nothing_changed(a)
    b.milestone.refresh_from_db()
    b_measurement.refresh_from_db()
    assert b.milestone.status == MilestoneStatus.SUBMITTED
    assert ProgressReport.objects.filter(milestone=b.milestone).count() == 1
    assert b_measurement.status == MeasurementStatus.SUBMITTED
    assert KpiMeasurement.objects.filter(kpi=b.kpi).count() == 1


def test_post_only_pages_refuse_a_get(client, busy):
    a = busy
    for user in (a.officer, a.signatory):
        client.force_login(user)
        with clock(at(DUE)):
            for name, (address, _data) in actions(a).items():
                assert client.get(address).status_code == 405, (user, name)
    nothing_changed(a)


# 4. English and Arabic, the charts, and a fixed number of queries -------------------------------------------------

SEEN_ON = datetime.date(2031, 1, 15)  # the day the page is read, after every milestone below fell due


def monitored(milestones: int, measurements: int) -> SimpleNamespace:
    """A contract in force with ``milestones`` milestones, each reported on with two evidence documents and
    left, in turn, paid (accepted two days late: a delay penalty, deducted), awaiting the officer's decision,
    accepted and awaiting payment, or rejected and reported again; and ``measurements`` monthly KPI
    measurements, in turn entered by the officer and missed (a penalty), submitted by the contractor and
    awaiting confirmation, entered by the officer and met, submitted by the contractor and confirmed. The
    overdue scheduler has run since."""
    a = in_force(milestones=milestones)
    for index, milestone in enumerate(a.milestones):
        due = milestone.due_date
        state = index % 4
        evidence = [(f"Tests {index}", pdf(f"tests-{index}.pdf")), (f"Photo {index}", png(f"photo-{index}.png"))]
        report = service_report(a, milestone=milestone, when=due - 20 * DAY, evidence=evidence)
        if state == 0:
            service_accept(a, report, when=due + 2 * DAY)
            with clock(at(due + 3 * DAY, 16)):
                monitoring.payment_record(
                    actor=a.officer, milestone=milestone, paid_on=due + 3 * DAY, reference=f"TRX-{index}"
                )
        elif state == 2:
            service_accept(a, report, when=due - 10 * DAY)
        elif state == 3:
            service_accept(a, report, when=due - 15 * DAY, accept=False, reason=REJECTION)
            service_report(a, milestone=milestone, when=due - 12 * DAY, evidence=[(f"Signed {index}", pdf())])
    month = datetime.date(2027, 1, 1)
    for index in range(measurements):
        following = (month + 32 * DAY).replace(day=1)
        state = index % 4
        actor = a.officer if state in (0, 2) else a.signatory
        value = "98.0" if state == 0 else "99.8"
        entered = service_measure(a, actor, start=month, end=following - DAY, value=value, when=following)
        if state == 3:
            with clock(at(following + DAY)):
                monitoring.kpi_measurement_confirm(actor=a.officer, measurement=entered)
        month = following
    monitoring.mark_overdue(now=at(SEEN_ON))
    return a


def due_marks(html: str) -> list[float]:
    """Where the timeline draws each milestone's due date (its diamonds' x), in page order."""
    timeline = html[html.index('class="timeline"') : html.index("</svg>", html.index('class="timeline"'))]
    return [float(x) for x in re.findall(r'<path d="M ([\d.]+) ', timeline)]


def test_the_page_renders_in_english_and_arabic_with_labelled_charts(client, auditor):
    a = monitored(milestones=4, measurements=4)
    address = url("monitoring", a.contract.pk)
    pages = {}
    for reader in (a.officer, a.signatory, a.employee, auditor):
        client.force_login(reader)
        for language, page_address in (("en", address), ("ar", arabic(address))):
            with clock(at(SEEN_ON)):
                page = client.get(page_address)
            assert_accessible(page, language)
            html = html_of(page)
            drawn = pictures(html)
            assert len(drawn) == 3, (reader, language)  # the money bar, the milestones, the KPI's trend
            for picture in drawn:
                assert picture["attrs"].get("role") == "img", picture
                assert picture["title"].strip(), picture
                assert picture["title_id"] in picture["attrs"]["aria-labelledby"].split(), picture
            pages[(reader, language)] = html
    english, in_arabic = pages[(a.officer, "en")], pages[(a.officer, "ar")]
    assert "Commercial operation" in english and "بدء التشغيل التجاري" in in_arabic and "المرحلة 4" in in_arabic
    assert "Network availability" in english and "إتاحة الشبكة" in in_arabic
    for phrase in ("Record the decision", "Record the payment", "Record the measurement"):
        assert phrase in english, phrase
    contractor = pages[(a.signatory, "en")]
    assert "Record the measurement" in contractor
    assert "Record the decision" not in contractor and "Record the payment" not in contractor
    # Right to left, the time axis runs the other way: each due date is drawn at the mirror of its place.
    assert len(due_marks(english)) == 4
    assert due_marks(in_arabic) == [round(1000 - x, 1) for x in due_marks(english)]


#: The queries of the page, counted on the case of 2 milestones: the session, the user (and an officer's agency,
#: or twice a contractor's membership), the contract, the user's roles, the milestones with their payments, their
#: reports, the reports' evidence, the indicators, their measurements, the payments, the penalties, four totals
#: (the penalties are summed twice) and the unread notifications of the page's header.
QUERIES_FOR_THE_OFFICER = 17
QUERIES_FOR_THE_CONTRACTOR = 18


def test_the_page_runs_the_same_queries_for_2_milestones_as_for_12(client, django_assert_max_num_queries):
    small = monitored(milestones=2, measurements=4)
    large = monitored(milestones=12, measurements=16)
    assert (small.contract.milestones.count(), large.contract.milestones.count()) == (2, 12)
    assert ProgressEvidence.objects.filter(report__milestone__contract=large.contract).count() == 12 * 2 + 3
    assert KpiMeasurement.objects.filter(contract=large.contract).count() == 16
    for case in (small, large):
        for reader, limit in (
            (case.officer, QUERIES_FOR_THE_OFFICER),
            (case.signatory, QUERIES_FOR_THE_CONTRACTOR),
            (case.employee, QUERIES_FOR_THE_CONTRACTOR),
        ):
            client.force_login(reader)
            with clock(at(SEEN_ON)):
                client.get(url("monitoring", case.contract.pk))  # the session is read once, as any page does
                with django_assert_max_num_queries(limit):
                    page = client.get(url("monitoring", case.contract.pk))
            assert page.status_code == 200
            html = html_of(page)
            assert all(f'id="milestone-{m.pk}"' in html for m in case.milestones), reader
    client.force_login(large.officer)
    with clock(at(SEEN_ON)):
        html = html_of(client.get(url("monitoring", large.contract.pk)))
    # All that made the queries worth counting is on the page: 6 reports to decide (3 awaiting, 3 reported
    # again), 4 measurements to confirm, 3 payments to record, and the evidence of each latest report.
    assert html.count("/decide/") == 6 + 4 and html.count("/payment/") == 3
    assert html.count("/evidence/") == 9 * 2 + 3 * 1


# Bugs found by these tests (marked xfail until fixed) ---------------------------------------------------------------


def test_a_refusal_is_explained_even_when_the_page_no_longer_offers_the_form(client, live):
    a = live
    milestone = a.milestone
    explained = {}

    def twice(key, address, data, words):
        """The same POST twice (a double click, or a second tab): the second is refused, but why?"""
        with clock(at(DUE - 4 * DAY)):
            first = client.post(address, data)
            assert first.status_code == 302, (key, html_of(first))
            second = client.post(address, data)
        explained[key] = (second.status_code, escape(words) in html_of(second))

    client.force_login(a.signatory)
    twice("report", url("report_submit", a.contract.pk, milestone.pk), report_post(milestone), "cannot be reported on")
    submitted = ProgressReport.objects.get(milestone=milestone)
    client.force_login(a.officer)
    twice(
        "decision",
        url("report_decide", a.contract.pk, submitted.pk),
        decide_post(submitted, "accept"),
        "This report has already been decided.",
    )
    twice(
        "payment",
        url("payment_record", a.contract.pk, milestone.pk),
        pay_post(milestone, DUE - 4 * DAY, "TRX-1"),
        "only an accepted milestone is paid",
    )
    measurement = service_measure(
        a, a.signatory, start=datetime.date(2029, 1, 1), end=datetime.date(2029, 1, 31), value="99.9", when=DUE
    )
    twice(
        "confirmation",
        url("measurement_decide", a.contract.pk, measurement.pk),
        confirm_post(measurement),
        "This measurement has already been decided.",
    )
    assert (Payment.objects.count(), Penalty.objects.count()) == (1, 0)
    assert explained == dict.fromkeys(explained, (400, True)), explained


def test_the_totals_are_shown_to_the_cent(client, live):
    a = live
    currency = a.contract.currency
    client.force_login(a.officer)
    with clock(at(DUE - 5 * DAY)):
        html = html_of(client.get(url("monitoring", a.contract.pk)))
    shown = {"nothing paid": f"<bdi>0.00 {currency}</bdi> (0.0%)" in html}
    service_accept(a, service_report(a, when=DUE + 3 * DAY), when=DUE + 5 * DAY)
    with clock(at(DUE + 6 * DAY, 16)):
        monitoring.payment_record(actor=a.officer, milestone=a.milestone, paid_on=DUE + 6 * DAY, reference="TRX-1")
        html = html_of(client.get(url("monitoring", a.contract.pk)))
    shown["paid"] = f"<bdi>246875.00 {currency}</bdi>" in html.split('id="payments"')[0]
    shown["penalties"] = f"<bdi>3125.00 {currency}</bdi>" in html.split('id="payments"')[0]
    assert shown == dict.fromkeys(shown, True), shown


def test_the_arabic_page_names_milestones_and_indicators_in_arabic(client):
    a = monitored(milestones=2, measurements=4)
    client.force_login(a.officer)
    with clock(at(SEEN_ON)):
        html = html_of(client.get(arabic(url("monitoring", a.contract.pk))))
    description = html[html.index('<desc id="milestones-desc">') : html.index("</desc>")]
    payments = html[html.index('id="payments"') : html.index('id="penalties"')]
    trend = next(p for p in pictures(html) if p["title_id"] == f"kpi-{a.kpi.pk}-title")
    named = {
        "timeline": ("بدء التشغيل التجاري" in description, "Commercial operation" in description),
        "payments": ("بدء التشغيل التجاري" in payments, "Commercial operation" in payments),
        "trend": ("إتاحة الشبكة" in trend["title"], "Network availability" in trend["title"]),
    }
    assert named == dict.fromkeys(named, (True, False)), named
