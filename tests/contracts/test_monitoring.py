"""Monitoring a contract in force through the services: progress reports and the officer's decision, payments
net of penalties (and the database's own refusal of payments above the value), KPI measurements and
performance failures, the overdue scheduler, and who may do what."""

from __future__ import annotations

import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from audit.models import AuditEvent
from contracts import monitoring
from contracts.models import (
    Contract,
    ContractStatus,
    MeasurementStatus,
    MilestoneStatus,
    Payment,
    Penalty,
    PenaltyKind,
    ReportDecision,
)
from core.exceptions import ActionRefused
from notifications.models import Notification
from tests.contracts.test_contracts import drafted, final_award
from tests.procurement.bid_factories import clock
from tests.vendors.factories import member

pytestmark = pytest.mark.django_db

ZONE = ZoneInfo(settings.DISPLAY_TIME_ZONE)
DUE = datetime.date(2029, 6, 30)  # the milestone of ``drafted``: 250,000.00 of a 1,250,000.00 contract
NARRATIVE = "Core network commissioned in the three pilot regions; acceptance tests attached."


def at(day: datetime.date, hour: int = 10) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(hour), tzinfo=ZONE)


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


@pytest.fixture
def live():
    """A contract in force (value 1,250,000.00; penalty 0.05 % a day, cap 10 %), its parties and an approver."""
    award = final_award()
    contract = drafted(award)
    Contract.objects.filter(pk=contract.pk).update(status=ContractStatus.ACTIVE, activated_at=timezone.now())
    contract.refresh_from_db()
    award.contract = contract
    award.milestone = contract.milestones.get()
    award.kpi = contract.kpis.get()
    award.employee = member(award.vendor)
    return award


def report(a, *, when: datetime.date, evidence=()):
    with clock(at(when)):
        return monitoring.progress_report_submit(
            actor=a.signatory, milestone=a.milestone, narrative=NARRATIVE, percent_complete=100, evidence=evidence
        )


def decide(a, submitted, *, when: datetime.date, accept=True, reason=""):
    with clock(at(when, 14)):
        return monitoring.progress_report_decide(actor=a.officer, report=submitted, accept=accept, reason=reason)


def pay(a, *, when: datetime.date, reference="TRX-1"):
    with clock(at(when, 16)):
        return monitoring.payment_record(actor=a.officer, milestone=a.milestone, paid_on=when, reference=reference)


def pdf(name="evidence.pdf", content=b"%PDF-1.4 acceptance tests\n%%EOF"):
    return SimpleUploadedFile(name, content, content_type="application/pdf")


def test_reported_on_time_accepted_and_paid_in_full(live):
    a = live
    submitted = report(a, when=DUE - datetime.timedelta(days=5), evidence=[("Acceptance tests", pdf())])
    a.milestone.refresh_from_db()
    assert a.milestone.status == MilestoneStatus.SUBMITTED and submitted.number == 1
    (evidence,) = submitted.evidence.all()
    import hashlib

    assert evidence.sha256 == hashlib.sha256(b"%PDF-1.4 acceptance tests\n%%EOF").hexdigest()
    assert Notification.objects.filter(kind="contract.progress_reported", recipient=a.officer).exists()
    decide(a, submitted, when=DUE - datetime.timedelta(days=2))
    a.milestone.refresh_from_db()
    assert a.milestone.status == MilestoneStatus.ACCEPTED
    assert not Penalty.objects.exists()  # on time: no damages
    payment = pay(a, when=DUE + datetime.timedelta(days=10))
    a.milestone.refresh_from_db()
    assert a.milestone.status == MilestoneStatus.PAID
    assert (payment.gross, payment.penalties_deducted, payment.amount) == (
        Decimal("250000.00"),
        Decimal("0.00"),
        Decimal("250000.00"),
    )
    assert monitoring.paid_total(a.contract) == Decimal("250000.00")
    event = AuditEvent.objects.get(action="contract.payment_recorded")
    assert event.payload["amount"] == "250000.00" and event.payload["calculation"] == payment.calculation


def test_late_acceptance_charges_damages_that_the_payment_deducts(live):
    a = live
    submitted = report(a, when=DUE + datetime.timedelta(days=15))
    decide(a, submitted, when=DUE + datetime.timedelta(days=17))
    penalty = Penalty.objects.get(kind=PenaltyKind.DELAY)
    # 17 days × 0.05 % × 1,250,000.00 = 17 × 625.00 = 10,625.00
    assert (penalty.days, penalty.amount, penalty.final) == (17, Decimal("10625.00"), True)
    assert "17 day(s)" in penalty.calculation and "625.00" in penalty.calculation
    payment = pay(a, when=DUE + datetime.timedelta(days=20))
    assert (payment.penalties_deducted, payment.amount) == (Decimal("10625.00"), Decimal("239375.00"))
    assert monitoring.outstanding_penalties(a.contract) == Decimal("0")


def test_a_rejected_report_needs_reasons_and_a_new_report(live):
    a = live
    first = report(a, when=DUE - datetime.timedelta(days=9))
    with pytest.raises(ValidationError):
        decide(a, first, when=DUE - datetime.timedelta(days=8), accept=False, reason="no")
    decide(a, first, when=DUE - datetime.timedelta(days=8), accept=False, reason="The test report is unsigned.")
    a.milestone.refresh_from_db()
    assert a.milestone.status == MilestoneStatus.REJECTED
    with pytest.raises(ActionRefused, match="only an accepted milestone"):
        pay(a, when=DUE - datetime.timedelta(days=7))
    second = report(a, when=DUE - datetime.timedelta(days=6))
    assert second.number == 2
    with pytest.raises(ActionRefused, match="already been decided"):
        decide(a, first, when=DUE - datetime.timedelta(days=5))
    decide(a, second, when=DUE - datetime.timedelta(days=5))
    first.refresh_from_db()
    assert first.decision == ReportDecision.REJECTED and "unsigned" in first.decision_reason
    assert Notification.objects.filter(kind="contract.milestone_rejected", recipient=a.signatory).exists()


def test_who_may_report_decide_and_pay(live, other_officer):
    a = live
    with pytest.raises(PermissionDenied):  # the agency does not report for the contractor
        monitoring.progress_report_submit(
            actor=a.officer, milestone=a.milestone, narrative=NARRATIVE, percent_complete=5
        )
    stranger_vendor = final_award().signatory  # works for another vendor
    with pytest.raises(PermissionDenied):
        monitoring.progress_report_submit(
            actor=stranger_vendor, milestone=a.milestone, narrative=NARRATIVE, percent_complete=5
        )
    submitted = report(a, when=DUE)
    for outsider in (a.signatory, a.employee, other_officer):
        with pytest.raises(PermissionDenied):
            monitoring.progress_report_decide(actor=outsider, report=submitted, accept=True)
    a.milestone.refresh_from_db()
    assert a.milestone.status == MilestoneStatus.SUBMITTED
    decide(a, submitted, when=DUE)
    for outsider in (a.signatory, other_officer):
        with pytest.raises(PermissionDenied):
            monitoring.payment_record(actor=outsider, milestone=a.milestone, paid_on=DUE, reference="X")
    assert not Payment.objects.exists()


def test_payments_are_checked_for_date_reference_and_the_contracts_value(live):
    a = live
    submitted = report(a, when=DUE - datetime.timedelta(days=3))
    decide(a, submitted, when=DUE - datetime.timedelta(days=1))
    with pytest.raises(ValidationError, match="advance"), clock(at(DUE)):
        monitoring.payment_record(
            actor=a.officer, milestone=a.milestone, paid_on=DUE + datetime.timedelta(days=3), reference="T"
        )
    with pytest.raises(ValidationError, match="precede"):
        pay(a, when=DUE - datetime.timedelta(days=2))
    with pytest.raises(ValidationError, match="reference"):
        pay(a, when=DUE, reference="  ")
    # A value that falls below the milestone's payment (amended down, say): the payment is refused.
    Contract.objects.filter(pk=a.contract.pk).update(value=Decimal("200000.00"))
    with pytest.raises(ActionRefused, match="above the contract's"):
        pay(a, when=DUE)
    assert not Payment.objects.exists()
    a.milestone.refresh_from_db()
    assert a.milestone.status == MilestoneStatus.ACCEPTED


def test_the_database_refuses_payments_above_the_value_whoever_writes_them(live):
    a = live
    submitted = report(a, when=DUE - datetime.timedelta(days=3))
    decide(a, submitted, when=DUE - datetime.timedelta(days=1))
    row = {
        "contract": a.contract,
        "milestone": a.milestone,
        "gross": Decimal("1250000.01"),
        "penalties_deducted": Decimal("0"),
        "amount": Decimal("1250000.01"),
        "calculation": "forged",
        "paid_on": DUE,
        "reference": "FORGED",
        "recorded_by": a.officer,
    }
    with pytest.raises((IntegrityError, Exception)) as refused, transaction.atomic():
        Payment.objects.create(**row)
    assert "exceed" in str(refused.value)
    assert not Payment.objects.exists()
    # A payment within the value is accepted, and an update that would take it past the value is refused.
    payment = Payment.objects.create(**{**row, "gross": Decimal("100.00"), "amount": Decimal("100.00")})
    with pytest.raises(Exception, match="exceed"), transaction.atomic():
        Payment.objects.filter(pk=payment.pk).update(gross=Decimal("1300000.00"), amount=Decimal("1300000.00"))
    payment.refresh_from_db()
    assert payment.amount == Decimal("100.00")
    assert connection.vendor in ("sqlite", "postgresql")


def test_kpi_measurements_officers_confirm_and_misses_are_penalised(live):
    a = live
    period = (datetime.date(2029, 1, 1), datetime.date(2029, 1, 31))
    with clock(at(datetime.date(2029, 2, 3))):
        with pytest.raises(ValidationError, match="not ended"):
            monitoring.kpi_measurement_enter(
                actor=a.officer,
                kpi=a.kpi,
                period_start=datetime.date(2029, 2, 1),
                period_end=datetime.date(2029, 2, 28),
                value="99.9",
            )
        with pytest.raises(ValidationError):
            monitoring.kpi_measurement_enter(
                actor=a.officer, kpi=a.kpi, period_start=period[0], period_end=period[1], value="ninety"
            )
        met = monitoring.kpi_measurement_enter(
            actor=a.officer, kpi=a.kpi, period_start=period[0], period_end=period[1], value="99.7"
        )
        assert met.status == MeasurementStatus.CONFIRMED and met.met is True
        with pytest.raises(ValidationError, match="already has a measurement"):
            monitoring.kpi_measurement_enter(
                actor=a.officer, kpi=a.kpi, period_start=period[0], period_end=period[1], value="99.8"
            )
    with clock(at(datetime.date(2029, 3, 4))):
        submitted = monitoring.kpi_measurement_enter(
            actor=a.signatory,
            kpi=a.kpi,
            period_start=datetime.date(2029, 2, 1),
            period_end=datetime.date(2029, 2, 28),
            value="98.2",
        )
        assert submitted.status == MeasurementStatus.SUBMITTED and submitted.met is None
        assert not Penalty.objects.exists()
        with pytest.raises(PermissionDenied):
            monitoring.kpi_measurement_confirm(actor=a.signatory, measurement=submitted)
        monitoring.kpi_measurement_confirm(actor=a.officer, measurement=submitted)
    submitted.refresh_from_db()
    assert submitted.met is False
    penalty = Penalty.objects.get(kind=PenaltyKind.KPI)
    assert penalty.amount == Decimal("625.00") and "98.2" in penalty.calculation  # one day's rate


def test_the_overdue_scheduler_marks_exactly_the_overdue_milestones_and_is_safe_to_rerun(live):
    a = live
    other = final_award()
    on_time = drafted(other)
    Contract.objects.filter(pk=on_time.pk).update(status=ContractStatus.ACTIVE)
    on_time_milestone = on_time.milestones.get()
    with clock(at(DUE - datetime.timedelta(days=2))):
        accepted = monitoring.progress_report_submit(
            actor=other.signatory, milestone=on_time_milestone, narrative=NARRATIVE, percent_complete=100
        )
        monitoring.progress_report_decide(actor=other.officer, report=accepted, accept=True)
    assert monitoring.mark_overdue(now=at(DUE)) == []  # due today is not overdue yet
    first = monitoring.mark_overdue(now=at(DUE + datetime.timedelta(days=1)))
    assert first == [a.milestone.pk]
    a.milestone.refresh_from_db()
    assert a.milestone.overdue_since == DUE + datetime.timedelta(days=1)
    penalty = Penalty.objects.get(kind=PenaltyKind.DELAY, milestone=a.milestone)
    assert (penalty.days, penalty.amount, penalty.final) == (1, Decimal("625.00"), False)
    told = Notification.objects.filter(kind="contract.milestone_overdue")
    assert {n.recipient for n in told} >= {a.signatory, a.officer}
    count = told.count()
    # Again the same day: nothing new; ten days later: the damages grow, nobody is told again.
    assert monitoring.mark_overdue(now=at(DUE + datetime.timedelta(days=1), 18)) == []
    assert monitoring.mark_overdue(now=at(DUE + datetime.timedelta(days=11))) == []
    penalty.refresh_from_db()
    assert (penalty.days, penalty.amount) == (11, Decimal("6875.00"))
    assert Notification.objects.filter(kind="contract.milestone_overdue").count() == count
    assert Penalty.objects.filter(milestone=on_time_milestone).count() == 0
    assert AuditEvent.objects.filter(action="contract.milestone_overdue").count() == 1
    # Accepted at last: the damages are final, and the milestone is no longer overdue.
    late = report(a, when=DUE + datetime.timedelta(days=12))
    decide(a, late, when=DUE + datetime.timedelta(days=13))
    penalty.refresh_from_db()
    a.milestone.refresh_from_db()
    assert (penalty.days, penalty.amount, penalty.final) == (13, Decimal("8125.00"), True)
    assert a.milestone.overdue_since is None
    monitoring.mark_overdue(now=at(DUE + datetime.timedelta(days=40)))
    penalty.refresh_from_db()
    assert penalty.days == 13


def test_delay_damages_stop_at_the_cap(live):
    a = live
    # 10 % of 1,250,000.00 = 125,000.00, reached after 200 days at 625.00 a day.
    monitoring.mark_overdue(now=at(DUE + datetime.timedelta(days=300)))
    penalty = Penalty.objects.get(kind=PenaltyKind.DELAY)
    assert (penalty.days, penalty.amount) == (300, Decimal("125000.00"))
    assert "capped" in penalty.calculation
    with clock(at(DUE + datetime.timedelta(days=300))):
        monitoring.kpi_measurement_enter(
            actor=a.officer,
            kpi=a.kpi,
            period_start=datetime.date(2029, 1, 1),
            period_end=datetime.date(2029, 1, 31),
            value="90",
        )
    assert Penalty.objects.get(kind=PenaltyKind.KPI).amount == Decimal("0.00")
    assert monitoring.penalties_total(a.contract) == Decimal("125000.00")


def test_nothing_is_monitored_on_a_contract_not_in_force(live):
    a = live
    Contract.objects.filter(pk=a.contract.pk).update(status=ContractStatus.COMPLETED)
    with pytest.raises(ActionRefused, match="only a contract in force"):
        report(a, when=DUE)
    assert monitoring.mark_overdue(now=at(DUE + datetime.timedelta(days=5))) == []


def test_bad_reports_are_refused_and_nothing_is_kept(live):
    a = live
    for narrative, percent, field in (
        ("", 50, "narrative"),
        (NARRATIVE, 101, "percent_complete"),
        (NARRATIVE, "x", "percent_complete"),
    ):
        with pytest.raises(ValidationError) as refused, clock(at(DUE)):
            monitoring.progress_report_submit(
                actor=a.signatory, milestone=a.milestone, narrative=narrative, percent_complete=percent
            )
        assert field in refused.value.message_dict
    with pytest.raises(ValidationError, match="not accepted"):
        report(a, when=DUE, evidence=[("Script", SimpleUploadedFile("run.sh", b"#!/bin/sh\nrm -rf /"))])
    a.milestone.refresh_from_db()
    assert a.milestone.status == MilestoneStatus.PLANNED
    assert not a.milestone.reports.exists()


def test_a_scheduler_run_with_an_older_clock_never_takes_damages_back(live):
    monitoring.mark_overdue(now=at(DUE + datetime.timedelta(days=20)))
    monitoring.mark_overdue(now=at(DUE + datetime.timedelta(days=5)))  # a late worker, say
    penalty = Penalty.objects.get(kind=PenaltyKind.DELAY)
    assert (penalty.days, penalty.amount) == (20, Decimal("12500.00"))
